#pragma once
// Replacing a file so that a reader sees the old content or the new, never half of it, and
// nothing another user planted in the folder is written through: git's lockfile.c rule
// (a new temporary name opened with O_CREAT|O_EXCL|O_NOFOLLOW, written, synced, renamed over
// the target) in one place.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace gm {

// The permission bits the new file gets.
struct FileMode {
    mode_t bits = 0600;          // the mode (only the permission bits, 07777)
    bool through_umask = false;  // true: bits & ~umask, as open(2) or std::ofstream would; false: exactly bits
    bool keep_existing = false;  // true: the target's own mode and ACL when it exists (bits only when it does not)
};

// Where a pid in a temporary file's name means this process's pids: 8 hex digits of the FNV-1a
// hash of "<host name>:<pid namespace inode>". A writer elsewhere (a container sharing a
// bind-mounted folder, another node on a shared file system) has another realm, and its pid says
// nothing here. Declared for the tests that plant what a killed writer leaves.
const std::string& pid_realm();

// Writes content to a temporary file with an unpredictable name beside target (same folder, so the
// rename is atomic; ".<name>.<pid>-<realm>.<hex>.tmp"), syncs it and renames it over target. On any
// failure the temporary file is removed, target is left as it was, and gm::Error says "cannot
// write <target>: <reason>". A writer killed before its rename cannot remove its temporary file, so
// after a rename the temporary files of the same target (ours, by that exact name) whose writer
// provably no longer runs are removed: one of this host and pid namespace (the realm) whose pid is
// gone, one from elsewhere (a container, another node) once untouched for an hour. A killed
// `sweep promote` leaves nothing in the model's worktree for long.
// only_if_content: a rewrite of what the caller read (a user's file, read before a slow step):
// just before the rename the target must still hold exactly that, else gm::Error ("changed while
// it was being rewritten"), nothing written; an editor's save meanwhile is not lost.
void write_file_atomically(const std::filesystem::path& target, std::string_view content, FileMode mode = {},
                           std::optional<std::string_view> only_if_content = std::nullopt);

// Removes what killed writers of target left (as write_file_atomically does after its rename), for
// a caller that finds target already right and writes nothing: a rerun of a killed `sweep promote`
// must not leave the dead writer's half-written checkpoint in the model's worktree.
void remove_killed_writers_files(const std::filesystem::path& target);

}  // namespace gm
