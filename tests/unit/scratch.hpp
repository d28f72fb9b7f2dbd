#pragma once
// Helpers for unit tests of files shared between users: a scratch folder per test and
// running a piece of a test as another uid (root only), as a second user of the machine would.

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <csignal>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <functional>
#include <string>

namespace gm::test {

// Another user of the machine: a uid (and gid) no account has.
inline constexpr uid_t other_uid = 54321;
inline constexpr uid_t third_uid = 54322;

// Whether the tests that change owners (chown, setuid) can run here.
inline bool running_as_root() { return ::geteuid() == 0; }

// A fresh folder under /tmp (mode 0755, so another uid can reach in), removed afterwards.
struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        char name[] = "/tmp/gm-unit-shared-XXXXXX";
        path = ::mkdtemp(name);
        ::chmod(path.c_str(), 0755);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

// Runs fn in a child process as uid (with gid = uid and no extra groups); returns what fn
// returned (its exit code), or 255 when the child died otherwise.
inline int as_user(uid_t uid, const std::function<int()>& fn) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(254);
        int code = 253;
        try {
            code = fn();
        } catch (...) {
            code = 252;
        }
        ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

// A process of another user that waits until killed (a lease's holder must be its own user's
// process): started by the constructor, killed and reaped by the destructor.
struct UserProcess {
    pid_t pid = -1;
    // effective: the uid it acts as (by default its own; root for a setuid-root program it ran).
    explicit UserProcess(uid_t uid, std::optional<uid_t> effective = std::nullopt) {
        int ready[2];
        if (::pipe(ready) != 0) return;
        pid = ::fork();
        if (pid == 0) {
            ::close(ready[0]);
            const uid_t acts_as = effective.value_or(uid);
            if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
                ::setresuid(uid, acts_as, acts_as) != 0)
                ::_exit(254);
            const char byte = 1;
            if (::write(ready[1], &byte, 1) != 1) ::_exit(254);
            ::close(ready[1]);
            for (;;) ::pause();
        }
        // Until it runs as that user, its /proc entries are still ours.
        ::close(ready[1]);
        char byte = 0;
        while (::read(ready[0], &byte, 1) < 0 && errno == EINTR) {
        }
        ::close(ready[0]);
    }
    ~UserProcess() {
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
    }
    UserProcess(const UserProcess&) = delete;
    UserProcess& operator=(const UserProcess&) = delete;
};

// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes a file (replacing it) with content.
inline void spit(const std::filesystem::path& path, const std::string& content) { std::ofstream(path) << content; }

}  // namespace gm::test
