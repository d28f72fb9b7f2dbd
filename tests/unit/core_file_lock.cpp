// core/file_lock: the flock every decision on the GPU lease book takes (issue #14).
#include "gitmodel/core/file_lock.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace gm;
using gm::test::ScratchDir;
using namespace std::chrono_literals;

namespace {

// Forks a child that tries the lock for `wait` and exits 0 when it got it, 1 on LockTimeoutError
// (writing the message to `message_file`), 2 on any other error.
// `inherited`: the parent's locked descriptor, closed in the child (a forked copy would hold the lock too).
pid_t try_in_child(const fs::path& path, std::chrono::milliseconds wait, const fs::path& message_file,
                   FileLock::Mode mode = FileLock::Mode::exclusive, int inherited = -1) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (inherited >= 0) ::close(inherited);
        int code = 2;
        try {
            UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            const FileLock lock(std::move(fd), path.string(), wait, mode);
            code = 0;
        } catch (const LockTimeoutError& e) {
            test::spit(message_file, e.what());
            code = 1;
        } catch (...) {
        }
        ::_exit(code);
    }
    return pid;
}

int exit_code(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

}  // namespace

TEST_CASE("file lock: exclusive; a waiter gives up with a typed error naming the holder", "[core][lock]") {
    ScratchDir scratch;
    const fs::path path = scratch.path / "lock";
    const fs::path message = scratch.path / "message";
    {
        const FileLock held(path, 1s);
        CHECK(exit_code(try_in_child(path, 150ms, message, FileLock::Mode::exclusive, held.fd())) == 1);
        CHECK_THAT(test::slurp(message), Catch::Contains("gave up waiting") && Catch::Contains(path.string()) &&
                                             Catch::Contains(fmt::format("process {}", ::getpid())));
    }
    // Released with the object: the next one gets it at once.
    CHECK(exit_code(try_in_child(path, 150ms, message)) == 0);
}

TEST_CASE("file lock: a waiter gets the lock as soon as the holder lets go, or dies", "[core][lock]") {
    ScratchDir scratch;
    const fs::path path = scratch.path / "lock";
    const fs::path message = scratch.path / "message";
    pid_t waiter;
    {
        const FileLock held(path, 1s);
        waiter = try_in_child(path, 5s, message, FileLock::Mode::exclusive, held.fd());
        ::usleep(100 * 1000);
    }
    CHECK(exit_code(waiter) == 0);
    // A holder killed with SIGKILL: the kernel drops its lock.
    const pid_t holder = ::fork();
    if (holder == 0) {
        const FileLock held(path, 1s);
        ::pause();
        ::_exit(0);
    }
    ::usleep(100 * 1000);
    ::kill(holder, SIGKILL);
    exit_code(holder);
    CHECK(exit_code(try_in_child(path, 1s, message)) == 0);
}

TEST_CASE("file lock: readers share, a writer waits for them", "[core][lock]") {
    ScratchDir scratch;
    const fs::path path = scratch.path / "lock";
    const fs::path message = scratch.path / "message";
    test::spit(path, "");
    const FileLock reader(UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), "lock", 1s, FileLock::Mode::shared);
    CHECK(exit_code(try_in_child(path, 150ms, message, FileLock::Mode::shared, reader.fd())) == 0);
    CHECK(exit_code(try_in_child(path, 150ms, message, FileLock::Mode::exclusive, reader.fd())) == 1);
}

TEST_CASE("file lock: made with mode 0644 whatever the umask, never through a link", "[core][lock]") {
    ScratchDir scratch;
    const mode_t old = ::umask(077);
    { const FileLock lock(scratch.path / "lock", 1s); }
    ::umask(old);
    struct stat info {};
    ::stat((scratch.path / "lock").c_str(), &info);
    CHECK((info.st_mode & 0777) == 0644);
    test::spit(scratch.path / "target", "x");
    fs::create_symlink(scratch.path / "target", scratch.path / "link");
    CHECK_THROWS_WITH(FileLock(scratch.path / "link", 1s), Catch::Contains("symbolic link"));
}

TEST_CASE("file lock: who holds it, from /proc/locks", "[core][lock]") {
    ScratchDir scratch;
    const FileLock held(scratch.path / "lock", 1s);
    CHECK(lock_holder(held.fd()).find(fmt::format("process {}", ::getpid())) == 0);
    test::spit(scratch.path / "free", "");
    const UniqueFd fd(::open((scratch.path / "free").c_str(), O_RDONLY | O_CLOEXEC));
    CHECK(lock_holder(fd.get()).empty());
}

TEST_CASE("file lock: the holder is the process the kernel lists it under, not the ended one that took it", "[core][lock]") {
    ScratchDir scratch;
    const fs::path path = scratch.path / "lock";
    test::spit(path, "");
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    // The taker locks, forks a child that inherits the open file (and with it the lock), and ends.
    const pid_t taker = ::fork();
    if (taker == 0) {
        const FileLock lock(UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), "lock", 1s);
        const pid_t child = ::fork();
        if (child == 0) {
            ::sleep(30);
            ::_exit(0);
        }
        [[maybe_unused]] auto n = ::write(ready[1], &child, sizeof child);
        ::_exit(0);
    }
    pid_t child = 0;
    REQUIRE(::read(ready[0], &child, sizeof child) == sizeof child);
    ::waitpid(taker, nullptr, 0);
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    const LockHolder holder = find_lock_holder(fd.get());
    CHECK(holder.verified);
    CHECK(holder.description.find(fmt::format("process {} ", child)) == 0);
    // Another user cannot inspect root's processes: nothing is named as the holder, and the
    // ended taker's pid is given only for what it is.
    if (test::running_as_root()) {
        CHECK(test::as_user(test::other_uid, [&] {
                  const UniqueFd theirs(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
                  const LockHolder seen = find_lock_holder(theirs.get());
                  if (seen.verified) return 1;
                  if (seen.description.find(fmt::format("process {}", taker)) != std::string::npos) return 2;
                  return seen.description.find(fmt::format("names pid {} as the one that took it", taker)) !=
                                 std::string::npos
                             ? 0
                             : 3;
              }) == 0);
    }
    ::kill(child, SIGKILL);
    ::close(ready[0]);
    ::close(ready[1]);
}
