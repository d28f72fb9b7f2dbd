#pragma once
// An exclusive advisory lock on a file (flock), held for a scope: how
// concurrent `git model env up` runs, from any repository on the machine,
// take turns at the GPU pool.

#include <chrono>
#include <filesystem>
#include <optional>

namespace gm {

// Holds an exclusive flock on a file until destroyed; the kernel drops it if the process dies.
class FileLock {
public:
    // Blocks until the lock is ours (or timeout passes: throws gm::Error); creates the file if needed.
    explicit FileLock(const std::filesystem::path& path,
                      std::optional<std::chrono::milliseconds> timeout = std::chrono::seconds(60));
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace gm
