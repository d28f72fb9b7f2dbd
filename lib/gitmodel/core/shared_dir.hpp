#pragma once
// Files in a folder that other users can write to (a machine's GPU lease book,
// shared like /tmp). Every operation goes through one open descriptor of the
// folder and never follows a link, never writes into a file that already
// exists, never trusts a file without checking (fstat, after opening) who owns
// what was actually opened, and renames only within the folder: the rules of
// git's lockfile.c and tempfile.c and of OpenSSH's safe_path(), in one place.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"  // is_below, which most users of these folders need too
#include "gitmodel/core/unique_fd.hpp"

namespace gm {

// A plain file read from a shared folder, with the facts of what was opened.
struct SharedFile {
    std::string content;
    uid_t owner = 0;
    mode_t mode = 0;
    std::int64_t modified = 0;  // Unix seconds
    nlink_t links = 1;          // names it has (a hard link of another file has more than one)
};

// A folder that must not hold shared files (a link, another user's, writable by others
// without the sticky bit, or below such a folder): typed, so callers can name the fix.
class UnsafeFolderError : public Error {
public:
    using Error::Error;
};

// The raw POSIX access ACL of a file or folder (its system.posix_acl_access attribute, through
// links), sized and read again while it grows: nullopt with error 0 when it has none (or its
// file system keeps none), nullopt with the errno when it cannot be read. Read by those who
// judge who may write a folder, and by a rewrite that keeps a file's ACL.
std::optional<std::string> read_access_acl(const std::filesystem::path& path, int& error);
// The same for a folder's default ACL (system.posix_acl_default), which the files and folders
// made in it inherit: who may write to what a program writes there later.
std::optional<std::string> read_default_acl(const std::filesystem::path& path, int& error);

// Why a folder (already opened or lstat'ed) may not hold shared files, or nullopt when it
// may: not a folder, owned by someone other than root or this user, or writable by group or
// others without the sticky bit.
std::optional<std::string> untrusted_folder_reason(const struct stat& info);

// Makes (or reuses) the folder `dir` below `base`, walking from base one name at a time
// with O_NOFOLLOW and making missing folders (dir itself with `mode`, those on the way with
// 0777; the umask applies to both): a link anywhere below base (one a
// container made through a read-write mount of .git, pointing at any host folder) is refused
// with a gm::Error naming the link and how to remove it, so that nothing follows it.
// base itself is trusted; dir must lie below it (or be it). A private `mode` (no group or other
// bits) means the caller's alone: dir must then be the caller's (a teammate's folder there is
// refused, naming them) and is narrowed to `mode`. A folder on the way that is the caller's and
// that others may write to (a group-shared repository under umask 002) gets the sticky bit, so
// that no teammate renames a user's folder away and puts their own in its place. Returns dir;
// `opened` (when given) receives dir's descriptor, for writing into the very folder checked.
std::filesystem::path make_folder_below(const std::filesystem::path& base, const std::filesystem::path& dir,
                                        mode_t mode = 0777, UniqueFd* opened = nullptr);

// An open shared folder. Move-only; the descriptor stays valid whatever happens to the path.
class SharedDir {
public:
    // Opens an existing folder after checking it and every folder above it, walked from /
    // one name at a time (never through a resolved path): nullopt when it does not exist;
    // throws UnsafeFolderError naming the unsafe folder when one belongs to another user, is
    // writable by others without the sticky bit, is itself a link, or a link on the way was
    // made by another user (a link root or the caller made is followed, its target checked
    // the same way); gm::Error when it cannot be opened.
    static std::optional<SharedDir> open(const std::filesystem::path& dir);
    // Makes the folder (missing folders above it are made on the same walk, mode 0755 set
    // on their descriptors) or takes over an existing one, then sets exactly `mode` (and
    // `group` when given) with fchmod/fchown, whatever the umask; the folders above must be
    // safe as for open(). Throws gm::Error (UnsafeFolderError) otherwise.
    static SharedDir create(const std::filesystem::path& dir, mode_t mode, std::optional<gid_t> group);
    // Takes a folder the caller opened and checked itself (make_folder_below's private folder,
    // below a repository whose own folders others may write to, which open() would refuse), to
    // write files into that very folder, whatever is renamed on its path meanwhile.
    static SharedDir adopt(UniqueFd fd, const std::filesystem::path& shown);

    // The path it was opened by (for messages only; operations use the descriptor).
    const std::filesystem::path& path() const { return path_; }
    // The folder's owner, group and mode as opened.
    const struct stat& info() const { return info_; }
    // The descriptor of the folder.
    int fd() const { return fd_.get(); }

    // The names in the folder ("." and ".." left out), in readdir order.
    std::vector<std::string> names() const;
    // Reads a plain file of at most max_bytes without following a link or blocking on a
    // FIFO; nullopt when it is absent or anything else (why says what, when given). `vet`, when
    // given, sees the opened file's owner, mode and times before a byte is read: a reason it
    // returns refuses the file unread (another user's file is judged by who owns it, not read).
    std::optional<SharedFile> read(const std::string& name, std::size_t max_bytes, std::string* why = nullptr,
                                   const std::function<std::string(const SharedFile&)>& vet = {}) const;
    // Writes content under name with exactly `mode`: a new temporary file made with
    // O_EXCL in this folder, fchmod, then renamed into place. An existing name is
    // replaced only when replace is true and it is a plain file of this user's; throws
    // gm::Error otherwise (and when the name exists and replace is false).
    void write(const std::string& name, const std::string& content, mode_t mode, bool replace);
    // Removes name when it is a plain file (or a leftover link) owned by `owner`, as checked
    // on what is opened; returns whether it removed it.
    bool remove_if_owned(const std::string& name, uid_t owner);
    // Appends one line to a log file of this user's (made with `mode` when absent).
    void append(const std::string& name, const std::string& line, mode_t mode);
    // Opens a file to lock (read-only is enough for flock): never a link, always a plain
    // file owned by root or the folder's owner; when absent and create is true, makes it
    // with exactly `mode`. Throws gm::Error naming the problem and `fix`.
    UniqueFd open_lock_file(const std::string& name, mode_t mode, bool create, const std::string& fix) const;
    // Whether name still refers to the file open as fd (a lock file replaced under a waiter).
    bool same_file(const std::string& name, int fd) const;

private:
    SharedDir(UniqueFd fd, std::filesystem::path path, const struct stat& info);
    // A new file with a random name, made with O_EXCL; returns its name and descriptor.
    std::pair<std::string, UniqueFd> make_temp(mode_t mode) const;

    UniqueFd fd_;
    std::filesystem::path path_;
    struct stat info_ {};
};

}  // namespace gm
