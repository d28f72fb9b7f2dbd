#include "gitmodel/core/folder_walk.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace gm {

namespace fs = std::filesystem;

int FolderWalk::folder_of(const std::string& path) {
    const fs::path folder = fs::path(path).parent_path();
    if (open_ && folder == folder_path_) return folder_fd_.get();
    open_ = true;
    folder_path_ = folder;
    folder_fd_.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto& part : folder) {
        if (!folder_fd_) break;
        folder_fd_.reset(::openat(folder_fd_.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    return folder_fd_.get();
}

bool FolderWalk::status(const std::string& path, struct stat& st) {
    const int folder = folder_of(path);
    return folder >= 0 && ::fstatat(folder, fs::path(path).filename().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool FolderWalk::remove_if_same(const std::string& path, const struct stat& seen) {
    struct stat now {};
    return status(path, now) && same_file_as_seen(now, seen) &&
           ::unlinkat(folder_of(path), fs::path(path).filename().c_str(), 0) == 0;
}

void FolderWalk::remove_empty_folders_made_since(const std::string& path, const struct timespec& since) {
    for (fs::path inner = fs::path(path).parent_path(); !inner.empty(); inner = inner.parent_path()) {
        const int parent = folder_of(inner.string());
        struct statx born {};
        if (parent < 0 ||
            ::statx(parent, inner.filename().c_str(), AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_TYPE, &born) != 0 ||
            !(born.stx_mask & STATX_BTIME) || !S_ISDIR(born.stx_mode))
            break;
        const struct timespec made {born.stx_btime.tv_sec, born.stx_btime.tv_nsec};
        if (!later_than(made, since) || ::unlinkat(parent, inner.filename().c_str(), AT_REMOVEDIR) != 0) break;  // not empty
    }
}

namespace {

// The folder holding `path` and every folder above it, up to the root (""), relative to the root.
std::vector<std::string> folders_above(const std::string& path) {
    std::vector<std::string> folders;
    for (fs::path folder = fs::path(path).parent_path();; folder = folder.parent_path()) {
        folders.push_back(folder.string());
        if (folder.empty()) break;
    }
    return folders;
}

}  // namespace

FolderStamps::FolderStamps(fs::path root, const std::vector<std::string>& paths) : root_(std::move(root)) {
    for (const auto& path : paths)
        for (auto& folder : folders_above(path)) stamps_.emplace(std::move(folder), Stamp{});
    FolderWalk walk(root_);
    for (auto& [folder, stamp] : stamps_) stamp = stamp_of(walk, folder);
}

bool FolderStamps::Stamp::operator==(const Stamp& other) const {
    return reached && other.reached && device == other.device && inode == other.inode && mode == other.mode &&
           changed.tv_sec == other.changed.tv_sec && changed.tv_nsec == other.changed.tv_nsec;
}

FolderStamps::Stamp FolderStamps::stamp_of(FolderWalk& walk, const std::string& folder) const {
    struct stat st {};
    bool reached = false;
    if (folder.empty()) {
        const UniqueFd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        reached = root && ::fstat(root.get(), &st) == 0;
    } else {
        reached = walk.status(folder, st) && S_ISDIR(st.st_mode);
    }
    if (!reached) return Stamp{};
    return Stamp{true, st.st_dev, st.st_ino, st.st_mode, st.st_ctim};
}

void FolderStamps::recheck() {
    changed_.clear();
    FolderWalk walk(root_);
    for (const auto& [folder, stamp] : stamps_)
        if (!(stamp_of(walk, folder) == stamp)) changed_.insert(folder);
}

bool FolderStamps::still_same(const std::string& path) const {
    for (const auto& folder : folders_above(path)) {
        const auto stamp = stamps_.find(folder);
        if (stamp == stamps_.end() || !stamp->second.reached || changed_.count(folder)) return false;
    }
    return true;
}

bool later_than(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

bool same_file_as_seen(const struct stat& now, const struct stat& seen) {
    return now.st_dev == seen.st_dev && now.st_ino == seen.st_ino && now.st_size == seen.st_size &&
           now.st_mtim.tv_sec == seen.st_mtim.tv_sec && now.st_mtim.tv_nsec == seen.st_mtim.tv_nsec &&
           now.st_ctim.tv_sec == seen.st_ctim.tv_sec && now.st_ctim.tv_nsec == seen.st_ctim.tv_nsec;
}

}  // namespace gm
