#include "gitmodel/core/atomic_file.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_fd.hpp"

#include <fmt/core.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace gm {

namespace fs = std::filesystem;

namespace {

// The temporary file, removed on destruction unless it was renamed away.
class TempName {
public:
    explicit TempName(fs::path path) : path_(std::move(path)) {}
    ~TempName() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    TempName(const TempName&) = delete;
    TempName& operator=(const TempName&) = delete;
    const fs::path& path() const { return path_; }
    void release() { path_.clear(); }

private:
    fs::path path_;
};

bool write_all(int fd, std::string_view content) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// The part of a target's name its temporary files carry: the whole name up to 200 bytes, so
// that ".<stem>.<pid>-<8 hex>.<16 hex>.tmp" stays within a file name's 255 bytes for any target a
// file system allows (a longer name was refused: "File name too long").
std::string temp_stem(const fs::path& target) { return target.filename().string().substr(0, 200); }

bool all_of_class(std::string_view text, bool (*in_class)(char)) {
    if (text.empty()) return false;
    for (const char c : text)
        if (!in_class(c)) return false;
    return true;
}

bool is_lower_hex(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'f'); }

}  // namespace

const std::string& pid_realm() {
    static const std::string realm = [] {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        struct stat ns {};
        const auto inode = ::stat("/proc/self/ns/pid", &ns) == 0 ? static_cast<unsigned long long>(ns.st_ino) : 0ULL;
        std::uint32_t hash = 2166136261u;
        for (const char c : fmt::format("{}:{}", host, inode)) {
            hash ^= static_cast<unsigned char>(c);
            hash *= 16777619u;
        }
        return fmt::format("{:08x}", hash);
    }();
    return realm;
}

namespace {

// Whether the process of that pid (of this realm) cannot be the writer of a temporary file last
// written at `written`: none runs, a zombie (killed, never reaped: a PID 1 that does not reap), or
// one that started more than an hour after that write (the pid was recycled). The hour: the file's
// time is its file server's clock (NFS, SMB), the start time this machine's, and they may differ.
bool writer_gone(pid_t pid, std::time_t written) {
    if (const auto stat = read_process_stat(pid)) {
        if (stat->state == 'Z' || stat->state == 'X') return true;
        const auto started = process_start_seconds(*stat);
        return started && *started > static_cast<std::int64_t>(written) + 3600;
    }
    return ::kill(pid, 0) != 0 && errno == ESRCH;  // hidden by hidepid, or gone
}

// A temporary file that an earlier write of `target` left when it was killed before its rename:
// ".<name>.<pid>-<realm>.<16 hex>.tmp" of this pid realm whose writer no longer runs; one of
// another realm, or ".<name>.<16 hex>.tmp" (what versions before the pid was in the name made),
// once untouched for an hour (a live writer's file changes as it writes and goes at its rename).
// Anything else is not ours.
bool left_by_killed_writer(std::string_view entry, std::string_view stem, const struct stat& st) {
    const std::string prefix = fmt::format(".{}.", stem);
    constexpr std::string_view suffix = ".tmp";
    if (entry.size() <= prefix.size() + suffix.size() || entry.substr(0, prefix.size()) != prefix ||
        entry.substr(entry.size() - suffix.size()) != suffix)
        return false;
    const bool untouched_for_an_hour = st.st_mtime + 3600 < std::time(nullptr);
    const std::string_view middle = entry.substr(prefix.size(), entry.size() - prefix.size() - suffix.size());
    const auto dot = middle.find('.');
    if (dot == std::string_view::npos)  // the older form
        return middle.size() == 16 && all_of_class(middle, is_lower_hex) && untouched_for_an_hour;
    const std::string_view writer = middle.substr(0, dot), hex = middle.substr(dot + 1);
    const auto dash = writer.find('-');
    if (dash == std::string_view::npos || hex.size() != 16 || !all_of_class(hex, is_lower_hex)) return false;
    const std::string_view pid_text = writer.substr(0, dash), realm = writer.substr(dash + 1);
    if (pid_text.size() > 9 || !all_of_class(pid_text, is_ascii_digit) || realm.size() != 8 || !all_of_class(realm, is_lower_hex))
        return false;
    if (realm != pid_realm()) return untouched_for_an_hour;
    const pid_t pid = static_cast<pid_t>(std::stol(std::string(pid_text)));
    return pid > 0 && pid != ::getpid() && writer_gone(pid, st.st_mtime);
}

// Removes the temporary files of `target` that killed writers left (a promote killed mid-write
// would otherwise leave one in the model's worktree for every `git status` to show): only regular
// files of ours with exactly our naming, never followed through a link. Best effort.
void remove_killed_writers_leftovers(const fs::path& folder, const fs::path& target) {
    const UniqueFd dir_fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) return;
    const int listing_fd = ::dup(dir_fd.get());
    if (listing_fd < 0) return;
    DIR* listing = ::fdopendir(listing_fd);
    if (!listing) {
        ::close(listing_fd);
        return;
    }
    const std::string stem = temp_stem(target);
    std::vector<std::string> stale;
    while (const dirent* entry = ::readdir(listing)) {
        const std::string_view name(entry->d_name);
        if (name.size() < stem.size() + 6 || name[0] != '.') continue;
        struct stat st {};
        if (::fstatat(dir_fd.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != ::geteuid())
            continue;
        if (left_by_killed_writer(name, stem, st)) stale.emplace_back(name);
    }
    ::closedir(listing);
    for (const auto& name : stale) ::unlinkat(dir_fd.get(), name.c_str(), 0);
}

}  // namespace

namespace {

// Whether the file holds exactly `expected` now.
bool holds_exactly(const fs::path& file, std::string_view expected) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    std::string now;
    char chunk[65536];
    ssize_t got = 0;
    while ((got = ::read(fd.get(), chunk, sizeof chunk)) > 0) {
        now.append(chunk, static_cast<std::size_t>(got));
        if (now.size() > expected.size()) return false;
    }
    return got == 0 && now == expected;
}

}  // namespace

void write_file_atomically(const fs::path& target, std::string_view content, FileMode mode,
                           std::optional<std::string_view> only_if_content) {
    const auto fail = [&](int err) {
        return Error(fmt::format("cannot write {}: {}", target.string(), std::strerror(err)));
    };
    mode_t bits = mode.bits & 07777;
    bool exact = !mode.through_umask;
    std::string acl;
    if (mode.keep_existing) {
        struct stat existing {};
        if (::stat(target.c_str(), &existing) == 0) {
            bits = existing.st_mode & 07777;
            exact = true;
            // Not read: written without it, the group would get the ACL's mask as its bits.
            int error = 0;
            acl = read_access_acl(target, error).value_or("");
            if (error != 0) throw fail(error);
        }
    }
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    UniqueFd fd;
    std::optional<TempName> temp;
    for (int attempt = 0; attempt < 5 && !fd; ++attempt) {
        fs::path name = folder / fmt::format(".{}.{}-{}.{}.tmp", temp_stem(target), ::getpid(), pid_realm(), random_hex(8));
        // O_EXCL|O_NOFOLLOW: a file or link planted at the name is never written through.
        fd.reset(::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, exact ? 0600 : bits));
        if (fd) temp.emplace(std::move(name));
        else if (errno != EEXIST) throw fail(errno);
    }
    if (!fd) throw fail(EEXIST);
    if ((exact && ::fchmod(fd.get(), bits) != 0) || !write_all(fd.get(), content) || ::fsync(fd.get()) != 0)
        throw fail(errno);
    // The ACL after the mode: with an ACL the group bits are its mask, which the ACL sets again.
    if (!acl.empty() && ::fsetxattr(fd.get(), "system.posix_acl_access", acl.data(), acl.size(), 0) != 0) throw fail(errno);
    if (::close(fd.release()) != 0) throw fail(errno);
    if (only_if_content && !holds_exactly(target, *only_if_content))
        throw Error(fmt::format("{} changed while it was being rewritten; nothing was written", target.string()),
                    "look at the file, then run the command again");
    if (::rename(temp->path().c_str(), target.c_str()) != 0) throw fail(errno);
    temp->release();
    remove_killed_writers_leftovers(folder, target);
}

void remove_killed_writers_files(const fs::path& target) {
    remove_killed_writers_leftovers(target.has_parent_path() ? target.parent_path() : fs::path("."), target);
}

}  // namespace gm
