#include "gitmodel/core/file_lock.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_dir.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace gm {

namespace {

// How /proc/locks and /proc/<pid>/fdinfo name a file: "08:01:5678" (device in hex).
std::string lock_key(const struct stat& info) {
    return fmt::format("{:02x}:{:02x}:{}", major(info.st_dev), minor(info.st_dev), info.st_ino);
}

// Whether a /proc/locks (or fdinfo "lock:") line is a granted flock on the file.
bool granted_flock_on(const std::string& line, const std::string& key) {
    if (line.find("->") != std::string::npos || line.find("FLOCK") == std::string::npos) return false;
    std::istringstream fields(line);
    std::string word;
    while (fields >> word)
        if (word == key) return true;
    return false;
}

// The pids /proc/locks names as the takers of flocks on the file (not necessarily holders now:
// a lock belongs to an open file, which a taker's children inherit and keep after it ends).
std::vector<long> takers_in_proc_locks(const std::string& key) {
    std::vector<long> out;
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        if (!granted_flock_on(line, key)) continue;
        // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": the pid is the word before the key.
        std::istringstream fields(line);
        std::string word, previous;
        while (fields >> word && word != key) previous = word;
        char* end = nullptr;
        const long pid = std::strtol(previous.c_str(), &end, 10);
        if (pid > 0 && end && *end == '\0') out.push_back(pid);
    }
    return out;
}

// Whether process pid holds the flock on the file now: one of its descriptors is of the file,
// and the kernel lists the lock under that descriptor (/proc/<pid>/fdinfo/<n>), which it does
// for every process sharing the open file that holds it. False when that cannot be read
// (another user's process, for anyone but root).
bool holds_flock(long pid, const struct stat& file, const std::string& key) {
    const std::string fds = fmt::format("/proc/{}/fd", pid);
    const UniqueDir listing(::opendir(fds.c_str()));
    if (!listing) return false;
    bool found = false;
    while (const dirent* entry = ::readdir(listing.get())) {
        if (entry->d_name[0] == '.') continue;
        struct stat info {};
        if (::stat((fds + "/" + entry->d_name).c_str(), &info) != 0 || info.st_dev != file.st_dev ||
            info.st_ino != file.st_ino)
            continue;
        std::ifstream fdinfo(fmt::format("/proc/{}/fdinfo/{}", pid, entry->d_name));
        std::string line;
        while (!found && std::getline(fdinfo, line)) found = line.rfind("lock:", 0) == 0 && granted_flock_on(line, key);
        if (found) break;
    }
    return found;
}

// "process 123 (python3) of alice".
std::string describe_process(long pid) {
    std::string command;
    std::ifstream(fmt::format("/proc/{}/comm", pid)) >> command;
    struct stat info {};
    const std::string owner =
        ::stat(fmt::format("/proc/{}", pid).c_str(), &info) == 0 ? " of " + user_name_of(info.st_uid) : std::string();
    return fmt::format("process {}{}{}", pid, command.empty() ? "" : " (" + printable(command, 32) + ")", owner);
}

}  // namespace

LockHolder find_lock_holder(int fd) {
    struct stat file {};
    if (::fstat(fd, &file) != 0) return {};
    const std::string key = lock_key(file);
    const auto takers = takers_in_proc_locks(key);
    if (takers.empty()) return {};
    for (long pid : takers)
        if (holds_flock(pid, file, key)) return {describe_process(pid), true};
    // The taker ended (or its pid now names another process): look for the holder among
    // every process this user may inspect (root: all).
    const long self = static_cast<long>(::getpid());
    if (const UniqueDir proc{::opendir("/proc")}) {
        std::optional<long> holder;
        while (const dirent* entry = ::readdir(proc.get())) {
            char* end = nullptr;
            const long pid = std::strtol(entry->d_name, &end, 10);
            if (pid <= 0 || *end != '\0' || pid == self) continue;
            if (holds_flock(pid, file, key)) {
                holder = pid;
                break;
            }
        }
        if (holder) return {describe_process(*holder), true};
    }
    const long taker = takers.front();
    std::string command;
    std::ifstream(fmt::format("/proc/{}/comm", taker)) >> command;
    struct stat info {};
    const std::string now = ::stat(fmt::format("/proc/{}", taker).c_str(), &info) == 0
                                ? fmt::format("that pid now runs {} of {}", command.empty() ? "a program" : printable(command, 32),
                                              user_name_of(info.st_uid))
                                : std::string("that pid has ended");
    return {fmt::format("a process that cannot be inspected here (/proc/locks names pid {} as the one that took it, but {}, "
                        "and a lock passes to the children of the process that took it: that pid need not hold it)",
                        taker, now),
            false};
}

std::string lock_holder(int fd) {
    const LockHolder holder = find_lock_holder(fd);
    return holder.verified ? holder.description : std::string();
}

FileLock::FileLock(UniqueFd fd, std::string what, std::optional<std::chrono::milliseconds> timeout, Mode mode)
    : fd_(std::move(fd)) {
    const int operation = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + timeout.value_or(std::chrono::milliseconds(0));
    auto pause = std::chrono::milliseconds(2);
    while (::flock(fd_.get(), operation | (timeout ? LOCK_NB : 0)) != 0) {
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) throw Error(fmt::format("cannot lock {}: {}", what, std::strerror(errno)));
        if (std::chrono::steady_clock::now() >= deadline) {
            const LockHolder holder = find_lock_holder(fd_.get());
            const auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
            throw LockTimeoutError(
                fmt::format("gave up waiting {} s for the lock {}: {} holds it", waited.count(), what,
                            holder.description.empty() ? "another process" : holder.description),
                holder.verified ? "try again in a moment; if that process hangs, its owner (or root) can stop it"
                                : "try again in a moment; root running the same command is told which process holds "
                                  "it (never stop a process on the word of /proc/locks alone)");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

namespace {

UniqueFd open_lock_path(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd) {
        ::fchmod(fd.get(), 0644);  // the umask does not decide who can lock it
        return fd;
    }
    if (errno == EEXIST) fd.reset(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        throw Error(fmt::format("cannot open the lock file {}: {}", path.string(),
                                errno == ELOOP ? "it is a symbolic link" : std::strerror(errno)));
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode))
        throw Error(fmt::format("the lock file {} is not a plain file", path.string()));
    return fd;
}

}  // namespace

FileLock::FileLock(const std::filesystem::path& path, std::optional<std::chrono::milliseconds> timeout)
    : FileLock(open_lock_path(path), path.string(), timeout) {}

}  // namespace gm
