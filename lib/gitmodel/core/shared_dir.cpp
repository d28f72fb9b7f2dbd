#include "gitmodel/core/shared_dir.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/random.h>
#include <unistd.h>

namespace gm {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string random_hex(std::size_t bytes) {
    std::string hex;
    unsigned char buffer[16];
    while (hex.size() < bytes * 2) {
        const std::size_t want = std::min(sizeof buffer, bytes - hex.size() / 2);
        const ssize_t got = ::getrandom(buffer, want, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(fmt::format("cannot read the OS's random source: {}", errno_text(errno)));
        }
        for (ssize_t i = 0; i < got; ++i) hex += fmt::format("{:02x}", buffer[i]);
    }
    return hex;
}

bool write_all(int fd, const std::string& content) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Checks every folder from / down to (and including) `resolved`: each one must be a
// folder owned by root or this user and not writable by others without the sticky bit.
void check_folders_above(const fs::path& resolved, const fs::path& shown) {
    fs::path walk;
    for (const auto& part : resolved) {
        walk /= part;
        struct stat info {};
        if (::lstat(walk.c_str(), &info) != 0)
            throw Error(fmt::format("cannot check the folder {} (above {}): {}", walk.string(), shown.string(),
                                    errno_text(errno)));
        if (auto why = untrusted_folder_reason(info))
            throw UnsafeFolderError(fmt::format("{} cannot hold shared files safely: the folder {} above it {}",
                                                shown.string(), walk.string(), *why),
                                    "choose a folder whose parents only root (or you) can change");
    }
}

// The folder above dir with its links resolved; nullopt when it does not exist.
std::optional<fs::path> resolved_parent(const fs::path& dir) {
    const fs::path absolute = fs::absolute(dir).lexically_normal();
    fs::path parent = absolute.parent_path();
    if (absolute.filename().empty()) parent = parent.parent_path();  // a trailing slash
    char* real = ::realpath(parent.c_str(), nullptr);
    if (!real) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        throw Error(fmt::format("cannot resolve the folder {}: {}", parent.string(), errno_text(errno)));
    }
    fs::path out(real);
    std::free(real);
    return out;
}

fs::path last_component(const fs::path& dir) {
    fs::path absolute = fs::absolute(dir).lexically_normal();
    if (absolute.filename().empty()) absolute = absolute.parent_path();
    return absolute.filename();
}

}  // namespace

std::string user_name_of(uid_t uid) {
    char buffer[1024];
    passwd entry {};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) return found->pw_name;
    return std::to_string(uid);
}

std::optional<std::string> untrusted_folder_reason(const struct stat& info) {
    if (S_ISLNK(info.st_mode)) return std::string("is a symbolic link");
    if (!S_ISDIR(info.st_mode)) return std::string("is not a folder");
    if (info.st_uid != 0 && info.st_uid != ::geteuid())
        return fmt::format("belongs to {}, not to root or you", user_name_of(info.st_uid));
    if ((info.st_mode & (S_IWGRP | S_IWOTH)) && !(info.st_mode & S_ISVTX))
        return fmt::format("is writable by {} without the sticky bit (mode {:04o})",
                           (info.st_mode & S_IWOTH) ? "everyone" : "its group", info.st_mode & 07777);
    return std::nullopt;
}

SharedDir::SharedDir(UniqueFd fd, fs::path path, const struct stat& info)
    : fd_(std::move(fd)), path_(std::move(path)), info_(info) {}

std::optional<SharedDir> SharedDir::open(const fs::path& dir) {
    const auto parent = resolved_parent(dir);
    if (!parent) return std::nullopt;
    const fs::path full = *parent / last_component(dir);
    check_folders_above(*parent, dir);
    UniqueFd fd(::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP || errno == ENOTDIR) {
            struct stat info {};
            const bool link = ::lstat(full.c_str(), &info) == 0 && S_ISLNK(info.st_mode);
            throw UnsafeFolderError(fmt::format("{} cannot hold shared files safely: it {}", dir.string(),
                                                link ? "is a symbolic link" : "is not a folder"),
                                    "remove it, or choose another folder");
        }
        throw Error(fmt::format("cannot open the folder {}: {}", dir.string(), errno_text(errno)));
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) throw Error(fmt::format("cannot check {}: {}", dir.string(), errno_text(errno)));
    if (auto why = untrusted_folder_reason(info))
        throw UnsafeFolderError(fmt::format("{} cannot hold shared files safely: it {}", dir.string(), *why), "");
    return SharedDir(std::move(fd), dir, info);
}

SharedDir SharedDir::create(const fs::path& dir, mode_t mode, std::optional<gid_t> group) {
    const fs::path absolute = fs::absolute(dir).lexically_normal();
    // Make the missing folders above it first (0755, whatever the umask), checking the existing ones.
    fs::path walk;
    for (const auto& part : absolute.parent_path()) {
        walk /= part;
        if (::mkdir(walk.c_str(), 0755) == 0) {
            ::chmod(walk.c_str(), 0755);
        } else if (errno != EEXIST) {
            throw Error(fmt::format("cannot create the folder {}: {}", walk.string(), errno_text(errno)));
        }
    }
    const auto parent = resolved_parent(absolute);
    if (!parent) throw Error(fmt::format("cannot create the folder {}: a folder above it vanished", dir.string()));
    check_folders_above(*parent, dir);
    const fs::path full = *parent / last_component(absolute);
    if (::mkdir(full.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(fmt::format("cannot create the folder {}: {}", dir.string(), errno_text(errno)));
    UniqueFd fd(::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw Error(fmt::format("cannot use {} as a shared folder: {}", dir.string(),
                                errno == ELOOP || errno == ENOTDIR ? "it is a symbolic link or not a folder"
                                                                   : errno_text(errno)),
                    "remove it, or choose another folder");
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) throw Error(fmt::format("cannot check {}: {}", dir.string(), errno_text(errno)));
    const uid_t me = ::geteuid();
    if (info.st_uid != me) {
        if (me != 0)
            throw Error(fmt::format("{} belongs to {}, not to you", dir.string(), user_name_of(info.st_uid)),
                        fmt::format("ask root to run: git model gpus init --dir {}", dir.string()));
        if (::fchown(fd.get(), 0, static_cast<gid_t>(-1)) != 0)
            throw Error(fmt::format("cannot take over {}: {}", dir.string(), errno_text(errno)));
    }
    if (group && ::fchown(fd.get(), static_cast<uid_t>(-1), *group) != 0)
        throw Error(fmt::format("cannot give {} to group {}: {}", dir.string(), *group, errno_text(errno)));
    if (::fchmod(fd.get(), mode) != 0)
        throw Error(fmt::format("cannot set the mode of {}: {}", dir.string(), errno_text(errno)));
    ::fstat(fd.get(), &info);
    return SharedDir(std::move(fd), dir, info);
}

std::vector<std::string> SharedDir::names() const {
    std::vector<std::string> out;
    const int copy = ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) throw Error(fmt::format("cannot list {}: {}", path_.string(), errno_text(errno)));
    DIR* listing = ::fdopendir(copy);
    if (!listing) {
        ::close(copy);
        throw Error(fmt::format("cannot list {}: {}", path_.string(), errno_text(errno)));
    }
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(listing);
    return out;
}

std::optional<SharedFile> SharedDir::read(const std::string& name, std::size_t max_bytes, std::string* why) const {
    const auto fail = [&](std::string reason) -> std::optional<SharedFile> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    // O_NONBLOCK: a FIFO planted under the name must not hang us.
    UniqueFd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        if (errno == ENOENT) return fail("absent");
        if (errno == ELOOP) return fail("a symbolic link");
        return fail(fmt::format("cannot be opened: {}", errno_text(errno)));
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) return fail(fmt::format("cannot be checked: {}", errno_text(errno)));
    if (!S_ISREG(info.st_mode)) return fail("not a plain file");
    if (static_cast<std::uint64_t>(info.st_size) > max_bytes) return fail(fmt::format("larger than {} bytes", max_bytes));
    SharedFile file;
    file.owner = info.st_uid;
    file.mode = info.st_mode & 07777;
    file.modified = static_cast<std::int64_t>(info.st_mtime);
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(fmt::format("cannot be read: {}", errno_text(errno)));
        }
        if (n == 0) break;
        file.content.append(buffer, static_cast<std::size_t>(n));
        if (file.content.size() > max_bytes) return fail(fmt::format("larger than {} bytes", max_bytes));
    }
    return file;
}

std::pair<std::string, UniqueFd> SharedDir::make_temp(mode_t mode) const {
    for (int attempt = 0; attempt < 16; ++attempt) {
        std::string name = ".tmp-" + random_hex(8);
        UniqueFd fd(::openat(fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd) {
            if (::fchmod(fd.get(), mode) != 0) {
                const int saved = errno;
                ::unlinkat(fd_.get(), name.c_str(), 0);
                throw Error(fmt::format("cannot set the mode of a new file in {}: {}", path_.string(), errno_text(saved)));
            }
            return {std::move(name), std::move(fd)};
        }
        if (errno != EEXIST) throw Error(fmt::format("cannot create a file in {}: {}", path_.string(), errno_text(errno)));
    }
    throw Error(fmt::format("cannot create a file in {}: every temporary name was taken", path_.string()));
}

void SharedDir::write(const std::string& name, const std::string& content, mode_t mode, bool replace) {
    const auto where = [&] { return (path_ / name).string(); };
    struct stat existing {};
    const bool exists = ::fstatat(fd_.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists) {
        if (!replace) throw Error(fmt::format("cannot write {}: it exists already", where()));
        if (!S_ISREG(existing.st_mode) || existing.st_uid != ::geteuid())
            throw Error(fmt::format("cannot write {}: it is {} of {}, not a file of yours", where(),
                                    S_ISLNK(existing.st_mode) ? "a symbolic link" : S_ISREG(existing.st_mode) ? "a file" : "something",
                                    user_name_of(existing.st_uid)));
    }
    auto [temp, fd] = make_temp(mode);
    const auto discard = [&, temp = temp] { ::unlinkat(fd_.get(), temp.c_str(), 0); };
    if (!write_all(fd.get(), content)) {
        const int saved = errno;
        discard();
        throw Error(fmt::format("cannot write {}: {}", where(), errno_text(saved)));
    }
    fd.reset();
    int rc;
    if (replace) {
        rc = ::renameat(fd_.get(), temp.c_str(), fd_.get(), name.c_str());
    } else {
        // No replacing: a hard link fails when the name exists (atomically), unlike rename.
        rc = ::linkat(fd_.get(), temp.c_str(), fd_.get(), name.c_str(), 0);
        if (rc == 0) discard();
    }
    if (rc != 0) {
        const int saved = errno;
        discard();
        throw Error(fmt::format("cannot write {}: {}", where(), saved == EEXIST ? "it exists already" : errno_text(saved)));
    }
}

bool SharedDir::remove_if_owned(const std::string& name, uid_t owner) {
    struct stat info {};
    if (::fstatat(fd_.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (info.st_uid != owner || !(S_ISREG(info.st_mode) || S_ISLNK(info.st_mode))) return false;
    // In a sticky folder only its owner (or root) can unlink or rename that name, so it is still this file.
    return ::unlinkat(fd_.get(), name.c_str(), 0) == 0;
}

void SharedDir::append(const std::string& name, const std::string& line, mode_t mode) {
    UniqueFd fd(::openat(fd_.get(), name.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENOENT) {
        fd.reset(::openat(fd_.get(), name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd && ::fchmod(fd.get(), mode) != 0) fd.reset();
    }
    if (!fd) throw Error(fmt::format("cannot write {}: {}", (path_ / name).string(), errno == ELOOP ? "it is a symbolic link" : errno_text(errno)));
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode) || info.st_uid != ::geteuid())
        throw Error(fmt::format("cannot write {}: it is not a plain file of yours", (path_ / name).string()));
    const std::string text = line.empty() || line.back() != '\n' ? line + "\n" : line;
    if (!write_all(fd.get(), text)) throw Error(fmt::format("cannot write {}: {}", (path_ / name).string(), errno_text(errno)));
}

UniqueFd SharedDir::open_lock_file(const std::string& name, mode_t mode, bool create, const std::string& fix) const {
    const auto where = [&] { return (path_ / name).string(); };
    for (int attempt = 0; attempt < 8; ++attempt) {
        UniqueFd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
        if (!fd && errno == ENOENT && create) {
            auto [temp, temp_fd] = make_temp(mode);
            temp_fd.reset();
            const int rc = ::linkat(fd_.get(), temp.c_str(), fd_.get(), name.c_str(), 0);
            ::unlinkat(fd_.get(), temp.c_str(), 0);
            if (rc != 0 && errno != EEXIST)
                throw Error(fmt::format("cannot create the lock file {}: {}", where(), errno_text(errno)), fix);
            continue;  // made (or someone else made it first): open what is there now
        }
        if (!fd) {
            if (errno == ENOENT) throw Error(fmt::format("the lock file {} is missing", where()), fix);
            throw Error(fmt::format("cannot open the lock file {}: {}", where(),
                                    errno == ELOOP ? "it is a symbolic link" : errno_text(errno)),
                        fix);
        }
        struct stat info {};
        if (::fstat(fd.get(), &info) != 0)
            throw Error(fmt::format("cannot check the lock file {}: {}", where(), errno_text(errno)), fix);
        if (!S_ISREG(info.st_mode)) throw Error(fmt::format("the lock file {} is not a plain file", where()), fix);
        if (info.st_uid != 0 && info.st_uid != info_.st_uid)
            throw Error(fmt::format("the lock file {} belongs to {}, not to root or the folder's owner", where(),
                                    user_name_of(info.st_uid)),
                        fix);
        return fd;
    }
    throw Error(fmt::format("cannot open the lock file {}: it keeps changing", where()), fix);
}

bool SharedDir::same_file(const std::string& name, int fd) const {
    struct stat by_name {}, by_fd {};
    if (::fstatat(fd_.get(), name.c_str(), &by_name, AT_SYMLINK_NOFOLLOW) != 0 || ::fstat(fd, &by_fd) != 0) return false;
    return by_name.st_dev == by_fd.st_dev && by_name.st_ino == by_fd.st_ino;
}

}  // namespace gm
