#include "gitmodel/core/atomic_file.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/unique_fd.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

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

}  // namespace

void write_file_atomically(const fs::path& target, std::string_view content, FileMode mode) {
    const auto fail = [&](int err) {
        return Error(fmt::format("cannot write {}: {}", target.string(), std::strerror(err)));
    };
    mode_t bits = mode.bits & 07777;
    bool exact = !mode.through_umask;
    if (mode.keep_existing) {
        struct stat existing {};
        if (::stat(target.c_str(), &existing) == 0) {
            bits = existing.st_mode & 07777;
            exact = true;
        }
    }
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    UniqueFd fd;
    std::optional<TempName> temp;
    for (int attempt = 0; attempt < 5 && !fd; ++attempt) {
        fs::path name = folder / fmt::format(".{}.{}.tmp", target.filename().string(), random_hex(8));
        // O_EXCL|O_NOFOLLOW: a file or link planted at the name is never written through.
        fd.reset(::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, exact ? 0600 : bits));
        if (fd) temp.emplace(std::move(name));
        else if (errno != EEXIST) throw fail(errno);
    }
    if (!fd) throw fail(EEXIST);
    if ((exact && ::fchmod(fd.get(), bits) != 0) || !write_all(fd.get(), content) || ::fsync(fd.get()) != 0)
        throw fail(errno);
    if (::close(fd.release()) != 0) throw fail(errno);
    if (::rename(temp->path().c_str(), target.c_str()) != 0) throw fail(errno);
    temp->release();
}

}  // namespace gm
