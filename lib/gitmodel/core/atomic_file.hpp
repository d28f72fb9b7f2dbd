#pragma once
// Replacing a file so that a reader sees the old content or the new, never half of it, and
// nothing another user planted in the folder is written through: git's lockfile.c rule
// (a new temporary name opened with O_CREAT|O_EXCL|O_NOFOLLOW, written, synced, renamed over
// the target) in one place.

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace gm {

// The permission bits the new file gets.
struct FileMode {
    mode_t bits = 0600;          // the mode (only the permission bits, 07777)
    bool through_umask = false;  // true: bits & ~umask, as open(2) or std::ofstream would; false: exactly bits
    bool keep_existing = false;  // true: the target's own mode when it exists (bits only when it does not)
};

// Writes content to a temporary file with an unpredictable name beside target (same folder, so the
// rename is atomic; ".<name>.<pid>.<hex>.tmp"), syncs it and renames it over target. On any failure
// the temporary file is removed, target is left as it was, and gm::Error says "cannot write
// <target>: <reason>". A writer killed before its rename cannot remove its temporary file, so after
// a rename the temporary files of the same target whose writer no longer runs (ours, by that exact
// name) are removed: a killed `sweep promote` leaves nothing in the model's worktree for long.
void write_file_atomically(const std::filesystem::path& target, std::string_view content, FileMode mode = {});

}  // namespace gm
