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

void FolderWalk::remove_empty_folders_of(const std::string& path) {
    for (fs::path inner = fs::path(path).parent_path(); !inner.empty(); inner = inner.parent_path()) {
        const int parent = folder_of(inner.string());
        if (parent < 0 || ::unlinkat(parent, inner.filename().c_str(), AT_REMOVEDIR) != 0) break;  // not empty
    }
}

bool same_file_as_seen(const struct stat& now, const struct stat& seen) {
    return now.st_dev == seen.st_dev && now.st_ino == seen.st_ino && now.st_size == seen.st_size &&
           now.st_mtim.tv_sec == seen.st_mtim.tv_sec && now.st_mtim.tv_nsec == seen.st_mtim.tv_nsec &&
           now.st_ctim.tv_sec == seen.st_ctim.tv_sec && now.st_ctim.tv_nsec == seen.st_ctim.tv_nsec;
}

}  // namespace gm
