#include "gitmodel/core/shared_dir.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/unique_dir.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace gm {

namespace {

// One POSIX ACL attribute of a file or folder (through links), sized and read again while it grows.
std::optional<std::string> read_acl_attribute(const std::filesystem::path& path, const char* name, int& error) {
    error = 0;
    std::string value;
    for (int attempt = 0; attempt < 3; ++attempt) {
        const ssize_t wanted = ::getxattr(path.c_str(), name, nullptr, 0);
        if (wanted < 0) {
            if (errno != ENODATA && errno != ENOTSUP) error = errno;
            return std::nullopt;
        }
        value.resize(static_cast<std::size_t>(wanted));
        const ssize_t size = ::getxattr(path.c_str(), name, value.data(), value.size());
        if (size >= 0) {
            value.resize(static_cast<std::size_t>(size));
            return value;
        }
        if (errno != ERANGE) break;  // else it grew in between: sized again
    }
    error = errno ? errno : ERANGE;
    return std::nullopt;
}

}  // namespace

std::optional<std::string> read_access_acl(const std::filesystem::path& path, int& error) {
    return read_acl_attribute(path, "system.posix_acl_access", error);
}

std::optional<std::string> read_default_acl(const std::filesystem::path& path, int& error) {
    return read_acl_attribute(path, "system.posix_acl_default", error);
}

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

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

// A folder opened on the way to a shared folder, and the path it was reached by.
struct Step {
    UniqueFd fd;
    fs::path shown;
};

// The folder that holds a shared folder (opened, every folder from / down to it checked)
// and the shared folder's own name in it.
struct Parent {
    UniqueFd fd;
    fs::path shown;
    std::string name;
};

UnsafeFolderError unsafe_above(const fs::path& dir, const fs::path& folder, const std::string& why) {
    return UnsafeFolderError(fmt::format("{} cannot hold shared files safely: the folder {} above it {}", dir.string(),
                                         folder.string(), why),
                             "choose a folder whose parents only root (or you) can change");
}

// Opens a folder found on the walk and checks what was opened; nullopt when the name
// changed into something else (a link) between the look and the open.
std::optional<Step> open_step(const Step& parent, const std::string& name, const fs::path& dir) {
    const fs::path shown = parent.shown / name;
    UniqueFd fd(::openat(parent.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ELOOP || errno == ENOENT) return std::nullopt;
        if (errno == ENOTDIR) throw unsafe_above(dir, shown, "is not a folder");
        throw Error(fmt::format("cannot open the folder {} (above {}): {}", shown.string(), dir.string(), errno_text(errno)));
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0)
        throw Error(fmt::format("cannot check the folder {} (above {}): {}", shown.string(), dir.string(), errno_text(errno)));
    if (auto why = untrusted_folder_reason(info)) throw unsafe_above(dir, shown, *why);
    return Step{std::move(fd), shown};
}

// Makes a missing folder on the way (mode 0755, set on its descriptor, whatever the umask).
void make_step(const Step& parent, const std::string& name, const fs::path& dir) {
    if (::mkdirat(parent.fd.get(), name.c_str(), 0700) != 0) {
        if (errno == EEXIST) return;  // made meanwhile: looked at again
        throw Error(fmt::format("cannot create the folder {}: {}", (parent.shown / name).string(), errno_text(errno)));
    }
    UniqueFd fd(::openat(parent.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat info {};
    if (fd && ::fstat(fd.get(), &info) == 0 && info.st_uid == ::geteuid() && ::fchmod(fd.get(), 0755) != 0)
        throw Error(fmt::format("cannot set the mode of the folder {} (above {}): {}", (parent.shown / name).string(),
                                dir.string(), errno_text(errno)));
}

std::vector<std::string> components(const fs::path& path) {
    std::vector<std::string> out;
    for (const auto& part : path.relative_path()) out.push_back(part.string());
    return out;
}

// Walks from / to the folder that holds dir, one name at a time (openat with O_NOFOLLOW),
// checking every folder actually opened, as OpenSSH's safe_path() does but without trusting
// a resolved path: a link on the way is followed only when root or the caller made it (the
// folder holding it was checked already), and its target is walked and checked the same way.
// Missing folders are made when create is true; otherwise nullopt.
std::optional<Parent> walk_to_parent(const fs::path& dir, bool create) {
    std::deque<std::string> queue;
    for (auto& part : components(fs::absolute(dir))) queue.push_back(std::move(part));
    while (!queue.empty() && (queue.back().empty() || queue.back() == ".")) queue.pop_back();  // a trailing slash
    if (queue.empty() || queue.back() == "..")
        throw Error(fmt::format("{} does not name a folder of its own", dir.string()), "name the book's folder itself");
    const std::string name = queue.back();
    queue.pop_back();

    std::vector<Step> stack;
    const auto open_root = [&] {
        stack.clear();
        UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct stat info {};
        if (!root || ::fstat(root.get(), &info) != 0)
            throw Error(fmt::format("cannot open the folder /: {}", errno_text(errno)));
        if (auto why = untrusted_folder_reason(info)) throw unsafe_above(dir, "/", *why);
        stack.push_back({std::move(root), "/"});
    };
    open_root();
    int links = 0, retries = 0;
    while (!queue.empty()) {
        const std::string part = queue.front();
        queue.pop_front();
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (stack.size() > 1) stack.pop_back();
            continue;
        }
        const Step& top = stack.back();
        struct stat info {};
        if (::fstatat(top.fd.get(), part.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT)
                throw Error(fmt::format("cannot check the folder {} (above {}): {}", (top.shown / part).string(),
                                        dir.string(), errno_text(errno)));
            if (!create) return std::nullopt;
            make_step(top, part, dir);
            queue.push_front(part);
            if (++retries > 16) throw Error(fmt::format("cannot reach {}: the path keeps changing", dir.string()));
            continue;
        }
        if (S_ISLNK(info.st_mode)) {
            if (info.st_uid != 0 && info.st_uid != ::geteuid())
                throw unsafe_above(dir, top.shown / part,
                                   fmt::format("is a symbolic link that {} made (only links made by root or you are "
                                               "followed)", user_name_of(info.st_uid)));
            if (++links > 40) throw Error(fmt::format("cannot reach {}: too many symbolic links on the way", dir.string()));
            char target[4096];
            const ssize_t length = ::readlinkat(top.fd.get(), part.c_str(), target, sizeof target - 1);
            if (length < 0) {
                queue.push_front(part);  // replaced meanwhile: looked at again
                if (++retries > 16) throw Error(fmt::format("cannot reach {}: the path keeps changing", dir.string()));
                continue;
            }
            const fs::path to(std::string(target, static_cast<std::size_t>(length)));
            auto parts = components(to);
            queue.insert(queue.begin(), parts.begin(), parts.end());
            if (to.is_absolute()) open_root();
            continue;
        }
        auto step = open_step(top, part, dir);
        if (!step) {
            queue.push_front(part);  // it changed between the look and the open
            if (++retries > 16) throw Error(fmt::format("cannot reach {}: the path keeps changing", dir.string()));
            continue;
        }
        stack.push_back(std::move(*step));
    }
    return Parent{std::move(stack.back().fd), stack.back().shown, name};
}

}  // namespace

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
    auto parent = walk_to_parent(dir, false);
    if (!parent) return std::nullopt;
    UniqueFd fd(::openat(parent->fd.get(), parent->name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP || errno == ENOTDIR) {
            struct stat info {};
            const bool link = ::fstatat(parent->fd.get(), parent->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
                              S_ISLNK(info.st_mode);
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

SharedDir SharedDir::adopt(UniqueFd fd, const fs::path& shown) {
    struct stat info {};
    if (!fd || ::fstat(fd.get(), &info) != 0 || !S_ISDIR(info.st_mode))
        throw Error(fmt::format("cannot use the folder {}: it is not open as a folder", shown.string()));
    return SharedDir(std::move(fd), shown, info);
}

SharedDir SharedDir::create(const fs::path& dir, mode_t mode, std::optional<gid_t> group) {
    // Missing folders above it are made on the walk (0755, set on their descriptors).
    const auto parent = walk_to_parent(dir, true);
    const char* name = parent->name.c_str();
    if (::mkdirat(parent->fd.get(), name, 0700) != 0 && errno != EEXIST)
        throw Error(fmt::format("cannot create the folder {}: {}", dir.string(), errno_text(errno)));
    UniqueFd fd(::openat(parent->fd.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
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
    UniqueFd copy(::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) throw Error(fmt::format("cannot list {}: {}", path_.string(), errno_text(errno)));
    const UniqueDir listing(::fdopendir(copy.get()));
    if (!listing) throw Error(fmt::format("cannot list {}: {}", path_.string(), errno_text(errno)));
    copy.release();  // the listing owns it now: closedir closes it
    while (const dirent* entry = ::readdir(listing.get())) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") out.push_back(name);
    }
    return out;
}

std::optional<SharedFile> SharedDir::read(const std::string& name, std::size_t max_bytes, std::string* why,
                                          const std::function<std::string(const SharedFile&)>& vet) const {
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
    file.links = info.st_nlink;
    if (vet)
        if (auto refusal = vet(file); !refusal.empty()) return fail(std::move(refusal));
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

namespace {

// A folder meant for the caller alone (a container's env and keys): one another user made (a
// teammate of a group-shared repository, before the caller's first use) is refused; the caller's
// own is narrowed to `mode` if it was opened wider.
void claim_private_folder(int fd, const fs::path& shown, mode_t mode) {
    struct stat info {};
    if (::fstat(fd, &info) != 0)
        throw Error(fmt::format("cannot read the folder {}: {}", shown.string(), errno_text(errno)));
    if (info.st_uid != ::geteuid())
        throw Error(fmt::format("the folder {} belongs to {}, but git-model keeps only your own files there", shown.string(),
                                user_name_of(info.st_uid)),
                    fmt::format("ask {} (or root) to remove it; git-model makes it afresh as yours", user_name_of(info.st_uid)));
    if ((info.st_mode & 07777 & ~mode) != 0 && ::fchmod(fd, mode) != 0)
        throw Error(fmt::format("cannot set the mode of the folder {}: {}", shown.string(), errno_text(errno)));
}

}  // namespace

fs::path make_folder_below(const fs::path& base, const fs::path& dir, mode_t mode, UniqueFd* opened) {
    const fs::path relative = dir.lexically_normal().lexically_relative(base.lexically_normal());
    if (!is_below(dir, base))
        throw Error(fmt::format("internal: {} is not below {}", dir.string(), base.string()));
    UniqueFd fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw Error(fmt::format("cannot open {}: {}", base.string(), errno_text(errno)));
    fs::path walked = base;
    std::vector<fs::path> parts;
    for (const auto& part : relative)
        if (part != "." && !part.empty()) parts.push_back(part);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        walked /= parts[i];
        const std::string name = parts[i].string();
        // Folders on the way as create_directories makes them (the umask decides), the last with `mode`.
        if (::mkdirat(fd.get(), name.c_str(), i + 1 == parts.size() ? mode : 0777) != 0 && errno != EEXIST)
            throw Error(fmt::format("cannot create the folder {}: {}", walked.string(), errno_text(errno)));
        UniqueFd next(::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            const int err = errno;
            struct stat info {};
            if (::fstatat(fd.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode)) {
                std::error_code ec;
                const fs::path target = fs::read_symlink(walked, ec);
                throw Error(fmt::format("{} is a link (to {}), not a folder: git-model never follows links in its own "
                                        "folders (code in a container may have made it to reach a host folder)",
                                        walked.string(), ec ? std::string("?") : target.string()),
                            fmt::format("look at what made it, then remove the link (rm {}); the next start makes the "
                                        "folder afresh",
                                        hint_word(walked.string())));
            }
            if (err == EACCES && ::fstatat(fd.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
                info.st_uid != ::geteuid())  // a teammate's folder of a model they used here before
                throw Error(fmt::format("cannot open the folder {}: it is {}'s (mode {:04o}), and git-model keeps only "
                                        "your own files there",
                                        walked.string(), user_name_of(info.st_uid), info.st_mode & 07777),
                            fmt::format("ask {} (or root) to remove it; git-model then makes it afresh as yours",
                                        user_name_of(info.st_uid)));
            throw Error(fmt::format("cannot open the folder {}: {}", walked.string(), errno_text(err)));
        }
        if (i + 1 == parts.size() && (mode & 077) == 0) claim_private_folder(next.get(), walked, mode);
        struct stat info {};
        if (i + 1 < parts.size() && ::fstat(next.get(), &info) == 0 && info.st_uid == ::geteuid() &&
            (info.st_mode & (S_IWGRP | S_IWOTH)) && !(info.st_mode & S_ISVTX))
            ::fchmod(next.get(), (info.st_mode & 07777) | S_ISVTX);  // best effort: defence in depth
        fd = std::move(next);
    }
    if (opened) *opened = std::move(fd);
    return dir;
}

}  // namespace gm
