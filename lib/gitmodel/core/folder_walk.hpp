#pragma once
// Reaching the files below a folder that others may change meanwhile (a worktree a job or a
// teammate writes to) without ever following a link: each folder on the way is opened by
// descriptor, one O_NOFOLLOW step at a time, so a folder swapped for a link (a job's
// `ln -sfn /datasets/v2 data`) is never walked through, and nothing outside is read or deleted
// as if it were inside. Used by whatever judges a file and then deletes it (a worktree's careful
// removal, an interrupted start's undo).

#include "gitmodel/core/unique_fd.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace gm {

// The folders below one root, opened on demand; the last one opened is kept for the next file
// of the same folder (a worktree's files come folder by folder).
class FolderWalk {
public:
    explicit FolderWalk(std::filesystem::path root) : root_(std::move(root)) {}

    // The folder holding `path` (relative to the root), opened through real folders only; -1
    // when a link, a file or nothing is on the way. Owned here: valid until the next call.
    int folder_of(const std::string& path);
    // lstat of `path` through its folder; false when it cannot be reached without a link.
    bool status(const std::string& path, struct stat& st);
    // Deletes the file (or link) at `path` if it is still the very one seen (same_file_as_seen),
    // never one that replaced it or was written since.
    bool remove_if_same(const std::string& path, const struct stat& seen);
    // Removes the folders of `path` made after `since` (by their birth time) that are empty,
    // deepest first, up to (not including) the root: what removing a file a folder was made for
    // leaves. A folder with anything in it stays, and so does one that was there before (a user's
    // empty folder, with its mode), or whose birth time the file system does not keep.
    void remove_empty_folders_made_since(const std::string& path, const struct timespec& since);

private:
    std::filesystem::path root_;
    bool open_ = false;
    std::filesystem::path folder_path_;
    UniqueFd folder_fd_;
};

// The folders on the way to some files below a root (the root included), stamped when made:
// device, inode, type and change time. A judgement that another program made by path (git reading
// the files: it follows links on the way) holds for a file only while no folder on its way was
// renamed, swapped for a link and back, or had an entry added, removed or renamed since: what a
// user allowed to write an upper folder (a teammate, in a group-writable worktree) could do for
// just that moment, to have another file judged in its place.
class FolderStamps {
public:
    FolderStamps(std::filesystem::path root, const std::vector<std::string>& paths);

    // Looks at the folders again: still_same() answers by this look from now on.
    void recheck();
    // Whether every folder on the way to `path` (one of the paths given) is as stamped.
    bool still_same(const std::string& path) const;

private:
    struct Stamp {
        bool reached = false;
        dev_t device = 0;
        ino_t inode = 0;
        mode_t mode = 0;
        struct timespec changed {};
        bool operator==(const Stamp& other) const;
    };
    Stamp stamp_of(FolderWalk& walk, const std::string& folder) const;

    std::filesystem::path root_;
    std::map<std::string, Stamp> stamps_;  // by folder, relative to the root ("" for the root)
    std::set<std::string> changed_;
};

// Whether the moment `a` is strictly after `b` (file times, the coarse clock's readings).
bool later_than(const struct timespec& a, const struct timespec& b);

// Whether two looks at a path saw the same file, not written nor changed in between: device,
// inode, size, modification and change times (a judgement made on the first look holds for
// the second only then).
bool same_file_as_seen(const struct stat& now, const struct stat& seen);

}  // namespace gm
