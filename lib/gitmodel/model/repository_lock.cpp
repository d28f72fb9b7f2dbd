#include "gitmodel/model/repository_lock.hpp"

#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_fd.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

// What the holder wrote into the lock file: "pid 123 since 1767323045: git model start p3".
std::string read_holder(int fd) {
    char buffer[512];
    const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    if (n <= 0) return {};
    std::string text(buffer, static_cast<std::size_t>(n));
    return trim_end(text, std::string_view("\n\0", 2));
}

void write_holder(int fd, std::string_view doing) {
    const std::string text = fmt::format("pid {} since {}: {}\n", ::getpid(), std::time(nullptr), doing);
    if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd, text.data(), text.size(), 0);
    }
}

// The locks this process holds, by file: the descriptor that holds the flock and how many scopes share it.
struct Held {
    int fd = -1;
    int depth = 0;
};
std::mutex held_mutex;
std::map<std::string, Held>& held() {
    static std::map<std::string, Held> locks;
    return locks;
}

}  // namespace

milliseconds lock_timeout(const git::Repository& repo) {
    const auto seconds_value = git::duration_setting(repo.config(), "model.lockTimeout",
                                                     "set it like this: git config model.lockTimeout 5m (s, m, h; 0 means do not wait)");
    if (!seconds_value) return default_lock_timeout;
    return duration_cast<milliseconds>(seconds(std::min<std::int64_t>(*seconds_value, 7 * 86400)));
}

fs::path RepositoryLock::path_for(const fs::path& common_dir, std::string_view name) {
    return common_dir / "git-model" / "locks" / (std::string(name) + ".lock");
}

RepositoryLock::RepositoryLock(const git::Repository& repo, std::string_view name, std::string_view doing)
    : RepositoryLock(repo.common_dir(), name, doing, lock_timeout(repo)) {}

RepositoryLock::RepositoryLock(const fs::path& common_dir, std::string_view name, std::string_view doing,
                               milliseconds timeout) {
    const fs::path path = path_for(common_dir, name);
    {
        std::lock_guard<std::mutex> guard(held_mutex);
        auto it = held().find(path.string());
        if (it != held().end()) {
            ++it->second.depth;
            key_ = path.string();
            return;
        }
    }
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
    bool writable = true;
    // Owned here while waiting (closed when anything throws); the registry owns it once taken.
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0664));
    if (!fd && (errno == EACCES || errno == EROFS)) {
        // A repository shared with other users: taking the lock needs no write access.
        writable = false;
        fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    }
    if (!fd) throw Error(fmt::format("cannot open the lock file {}: {}", path.string(), std::strerror(errno)));

    const auto start = steady_clock::now();
    auto pause = milliseconds(1);
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        if (err == EINTR) continue;
        const auto waited = steady_clock::now() - start;
        std::string problem;
        std::string hint;
        if (err != EWOULDBLOCK) {
            problem = fmt::format("cannot lock {}: {}", path.string(), std::strerror(err));
        } else if (DeferSignals::pending()) {
            problem = fmt::format("interrupted by signal {} while waiting for the repository's {} lock",
                                  DeferSignals::pending(), name);
        } else if (waited >= timeout) {
            const std::string holder = read_holder(fd.get());
            problem = fmt::format("another git-model command has held this repository's {} lock for over {} s{}",
                                  name, duration_cast<seconds>(timeout).count(),
                                  holder.empty() ? "" : fmt::format(" ({})", holder));
            hint = fmt::format("wait for it to finish and run this again, or wait longer: "
                               "git config model.lockTimeout 15m (the lock file is {})",
                               path.string());
        }
        if (!problem.empty()) throw Error(problem, hint);
        // Short pauses first: an uncontended wait ends within a worktree checkout's time.
        std::this_thread::sleep_for(std::min(pause, duration_cast<milliseconds>(timeout - waited) + milliseconds(1)));
        pause = std::min(pause * 2, milliseconds(25));
    }
    if (writable) write_holder(fd.get(), doing);
    std::lock_guard<std::mutex> guard(held_mutex);
    key_ = path.string();
    held()[key_] = Held{fd.get(), 1};
    fd.release();  // the registry owns it now
}

RepositoryLock::~RepositoryLock() {
    if (key_.empty()) return;
    std::lock_guard<std::mutex> guard(held_mutex);
    auto it = held().find(key_);
    if (it == held().end() || --it->second.depth > 0) return;  // another scope still holds it
    [[maybe_unused]] const int cleared = ::ftruncate(it->second.fd, 0);  // no stale "held by" for the next waiter
    ::close(it->second.fd);  // closing the descriptor releases the flock
    held().erase(it);
}

}  // namespace gm::model
