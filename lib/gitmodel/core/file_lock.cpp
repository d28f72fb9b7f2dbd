#include "gitmodel/core/file_lock.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace gm {

FileLock::FileLock(const std::filesystem::path& path, std::optional<std::chrono::milliseconds> timeout) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) throw Error(fmt::format("cannot open the lock file {}: {}", path.string(), std::strerror(errno)));
    const auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds(0));
    while (::flock(fd_, LOCK_EX | (timeout ? LOCK_NB : 0)) != 0) {
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
            const int saved = errno;
            ::close(fd_);
            fd_ = -1;
            throw Error(fmt::format("cannot lock {}: {}", path.string(),
                                    saved == EWOULDBLOCK ? "another git-model process holds it" : std::strerror(saved)),
                        "try again in a moment");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace gm
