#pragma once
// The files a sweep carries (--carry) out of a run's worktree before `sweep clean --branches`
// (or `prune`) removes it: moved into the run's shelf beside the sweep's record
// (carried_shelf: <sweep dir>/runs/<k>.carried/<path>, a folder only the owner reads), where
// `sweep status` names them and `sweep promote` still takes them. Every path is walked with
// O_NOFOLLOW from the worktree's root, so no link is ever followed: a carried path that is a
// link, or lies below one, is left where it is. Kill safe: a rename is atomic, a copy (another
// filesystem) is written under a temporary name, synced, renamed into place and compared before
// the worktree's file goes; a rerun finding both, identical, removes the worktree's.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// How a carried path of a run's worktree stands.
enum class CarriedKind {
    absent,   // nothing there (never written, or shelved already)
    file,     // a regular file reached with no link on the way: it is shelved
    link,     // a symbolic link, or below one: never followed, never shelved
    folder,   // a folder: --carry carries files, so it is not shelved (its files count as untracked)
    other     // a device, a socket, a path through a file: not shelved (it counts as untracked)
};

// A carried path as it stands, and the link or thing in the way (for messages).
struct CarriedLook {
    CarriedKind kind = CarriedKind::absent;
    std::filesystem::path at;           // the link (or the thing that is not a regular file)
};

// Looks at one carried path under `root` without following any link; changes nothing.
CarriedLook look_at_carried(const std::filesystem::path& root, const std::string& rel);

// Why a carried file cannot be shelved because the shelf holds different bytes at its place (a
// shelf a rerun finds, the worktree's file changed since); nullopt when it holds none or the same.
std::optional<std::string> shelf_conflict(const Sweep& sweep, const RunSpec& run, const std::string& rel);

// Moves `rel` from the folder `from_root` to the same place under `to_root` (created 0700 where
// missing), keeping its mode, never through a link and never over a file: a rename, else
// (another filesystem) copy, fsync, rename into place, compare, remove. A file already there with
// the same bytes (a killed earlier move) lets the source go. Returns false when the source is
// absent, a link or not a regular file (left alone); throws gm::Error naming the file when it
// cannot be moved (the source is then still in place).
bool move_carried_file(const std::filesystem::path& from_root, const std::filesystem::path& to_root,
                       const std::string& rel);

// Shelves every carried regular file of a run's worktree (a worktree of this repository: the
// caller checks run_worktree_ours); returns the paths moved now. Throws gm::Error at the first
// that cannot be (those before it stay shelved, where promote finds them).
std::vector<std::string> shelve_carried(const Sweep& sweep, const RunSpec& run);

// Whether a run's shelf is one clean made: a folder (no link) of the caller or the repository's
// owner. In a group-writable runs/ a teammate can rename it and put a link or folder of theirs
// there; its files are then not the run's (status does not name them, promote does not take them).
bool shelf_trusted(const Sweep& sweep, int number);

// Carried paths for a message, comma-separated: each bare when it holds only characters no shell
// treats specially, else in single quotes, so that a name with a space, a comma or a tab reads
// (and pastes) as the one name it is.
std::string describe_carried(const std::vector<std::string>& paths);

// The carried paths already on a run's shelf (a trusted one), in --carry order (empty: none was shelved).
std::vector<std::string> shelved_carried(const Sweep& sweep, int number);

}  // namespace gm::sweep
