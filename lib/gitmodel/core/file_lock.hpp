#pragma once
// An advisory lock on a file (flock), held for a scope: how concurrent
// `git model env up` runs and sweep schedulers, of any user and repository on
// the machine, take turns at the GPU lease book.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/unique_fd.hpp"

namespace gm {

// The lock stayed taken for the whole wait: a typed error, so that callers that can
// wait longer (the sweep scheduler) retry instead of failing. Exit code 1.
class LockTimeoutError : public Error {
public:
    using Error::Error;
};

// Holds an flock on a file until destroyed; the kernel drops it if the process dies.
class FileLock {
public:
    // Whether other holders are excluded (writers) or only excluded writers (readers).
    enum class Mode { exclusive, shared };

    // Locks an already opened (and checked) file; `what` names it in messages. Waits at
    // most `timeout` (forever when nullopt) and then throws LockTimeoutError naming the
    // process that holds it where that can be verified (see find_lock_holder).
    FileLock(UniqueFd fd, std::string what, std::optional<std::chrono::milliseconds> timeout,
             Mode mode = Mode::exclusive);
    // Opens path (never through a link; created with mode 0644, whatever the umask, when
    // absent) and locks it exclusively, as above.
    explicit FileLock(const std::filesystem::path& path,
                      std::optional<std::chrono::milliseconds> timeout = std::chrono::seconds(60));
    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    // The locked descriptor (closing it releases the lock).
    int fd() const { return fd_.get(); }

private:
    UniqueFd fd_;
};

// Who holds the flock on a file, for messages.
struct LockHolder {
    std::string description;  // "process 123 (sleep) of alice", or what can be said; "" when not locked
    bool verified = false;    // the kernel lists the lock under a descriptor of that process now
};

// Finds the holder of the flock on the file open as fd: /proc/locks names the process that
// took it, which may have ended (or whose pid now names an innocent process) while a child
// that inherited the open file holds it; so a holder is named only when its own
// /proc/<pid>/fdinfo lists the lock (readable for the caller's processes, for root all).
LockHolder find_lock_holder(int fd);

// The verified holder's description ("process 123 (sleep) of alice"), or "" when none can be told.
std::string lock_holder(int fd);

}  // namespace gm
