// proc/identity: the one process-identity helper (pid + start time, boot id); a zombie is gone.
#include "gitmodel/proc/identity.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace gm::proc;

TEST_CASE("identity: this process is alive, under its own start time only", "[proc][identity]") {
    const auto self = self_identity();
    CHECK(self.pid == ::getpid());
    CHECK(self.start_ticks > 0);
    CHECK(liveness(self) == Liveness::alive);
    CHECK(is_running(self));
    // The same pid with another start time is a recycled pid: gone.
    CHECK(liveness({self.pid, self.start_ticks + 1}) == Liveness::gone);
    CHECK(liveness({0, 0}) == Liveness::gone);
    REQUIRE(identity_of(self.pid));
    CHECK(identity_of(self.pid)->start_ticks == self.start_ticks);
}

TEST_CASE("identity: a zombie counts as gone, and so does a reaped child", "[proc][identity]") {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    // Not reaped yet: a zombie once it has exited.
    for (int i = 0; i < 200 && liveness({child, 0}) != Liveness::gone; ++i) ::usleep(5000);
    CHECK(liveness({child, 0}) == Liveness::gone);
    CHECK_FALSE(identity_of(child).has_value());
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(liveness({child, 0}) == Liveness::gone);
    CHECK_FALSE(is_running({child, 0}));
}

TEST_CASE("identity: a stopped process is still alive", "[proc][identity]") {
    const pid_t child = ::fork();
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    ::kill(child, SIGSTOP);
    const auto identity = identity_of(child);
    REQUIRE(identity);
    CHECK(liveness(*identity) == Liveness::alive);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    CHECK(liveness(*identity) == Liveness::gone);
}

TEST_CASE("identity: the boot id names this boot", "[proc][identity]") {
    CHECK(boot_id().size() == 36);
    CHECK(boot_id() == boot_id());
}

TEST_CASE("identity: a process belongs to the user who started it, a setuid program's too", "[proc][identity]") {
    CHECK(process_owner(::getpid()) == std::optional<uid_t>(::getuid()));
    CHECK_FALSE(process_owner(0).has_value());
    if (!gm::test::running_as_root()) return;
    const gm::test::UserProcess theirs(gm::test::other_uid);
    CHECK(process_owner(theirs.pid) == std::optional<uid_t>(gm::test::other_uid));
    // A setuid-root program the user ran: /proc/<pid> is root's, the process is still the user's
    // (a lease naming it holds the user's GPU).
    const gm::test::UserProcess launcher(gm::test::other_uid, 0);
    CHECK(process_owner(launcher.pid) == std::optional<uid_t>(gm::test::other_uid));
}
