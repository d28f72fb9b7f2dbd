#include "gitmodel/core/file_lock.hpp"

#include "gitmodel/core/shared_dir.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace gm {

std::string lock_holder(int fd) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return {};
    // Lines look like "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (device in hex).
    const std::string device = fmt::format("{:02x}:{:02x}:{}", major(info.st_dev), minor(info.st_dev), info.st_ino);
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        std::istringstream fields(line);
        std::string number, kind, advisory, access, pid, where;
        fields >> number >> kind;
        if (kind == "->") fields >> kind;  // a waiter, shown as "1: -> FLOCK ..."
        fields >> advisory >> access >> pid >> where;
        if (where != device || line.find("->") != std::string::npos) continue;
        std::string command;
        std::ifstream(fmt::format("/proc/{}/comm", pid)) >> command;
        struct stat proc_info {};
        const std::string owner = ::stat(fmt::format("/proc/{}", pid).c_str(), &proc_info) == 0
                                      ? " of " + user_name_of(proc_info.st_uid)
                                      : std::string();
        return fmt::format("process {}{}{}", pid, command.empty() ? "" : " (" + command + ")", owner);
    }
    return {};
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
            const std::string holder = lock_holder(fd_.get());
            const auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
            throw LockTimeoutError(
                fmt::format("gave up waiting {} s for the lock {}: {} holds it", waited.count(), what,
                            holder.empty() ? "another process" : holder),
                "try again in a moment; if that process hangs, its owner (or root) can stop it");
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
