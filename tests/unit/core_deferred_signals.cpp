// DeferSignals: SIGINT, SIGTERM and SIGHUP are remembered, not acted on, while
// one lives; the old handlers come back after; raise_pending ends the process
// as the signal would have (checked in a child).
#include "gitmodel/core/deferred_signals.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using gm::DeferSignals;

namespace {

void (*handler_of(int signal))(int) {
    struct sigaction current {};
    ::sigaction(signal, nullptr, &current);
    return current.sa_handler;
}

extern "C" void unit_marker_handler(int) {}

}  // namespace

TEST_CASE("DeferSignals remembers SIGINT, SIGTERM and SIGHUP instead of dying", "[core][signals]") {
    DeferSignals::clear();
    {
        DeferSignals defer;
        CHECK(DeferSignals::pending() == 0);
        REQUIRE(::raise(SIGTERM) == 0);  // would end the test binary without the deferral
        CHECK(DeferSignals::pending() == SIGTERM);
        REQUIRE(::raise(SIGINT) == 0);
        CHECK(DeferSignals::pending() == SIGINT);  // the latest one is remembered
        REQUIRE(::raise(SIGHUP) == 0);
        CHECK(DeferSignals::pending() == SIGHUP);
    }
    CHECK(DeferSignals::pending() == SIGHUP);  // still known after the scope, for the caller's decision
    DeferSignals::clear();
    CHECK(DeferSignals::pending() == 0);
    DeferSignals::raise_pending();  // no-op when nothing is pending
}

TEST_CASE("DeferSignals restores the handlers it replaced, also when nested", "[core][signals]") {
    struct sigaction marker {};
    marker.sa_handler = unit_marker_handler;
    sigemptyset(&marker.sa_mask);
    struct sigaction saved {};
    REQUIRE(::sigaction(SIGTERM, &marker, &saved) == 0);
    {
        DeferSignals outer;
        CHECK(handler_of(SIGTERM) != unit_marker_handler);
        {
            DeferSignals inner;
            CHECK(handler_of(SIGTERM) != unit_marker_handler);
        }
        CHECK(handler_of(SIGTERM) != unit_marker_handler);  // the outer deferral still holds
    }
    CHECK(handler_of(SIGTERM) == unit_marker_handler);
    ::sigaction(SIGTERM, &saved, nullptr);
    DeferSignals::clear();
}

TEST_CASE("DeferSignals::raise_pending ends the process with the remembered signal", "[core][signals]") {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        DeferSignals::clear();
        {
            DeferSignals defer;
            ::raise(SIGTERM);
            if (DeferSignals::pending() != SIGTERM) ::_exit(3);
        }
        DeferSignals::raise_pending();
        ::_exit(4);  // not reached when the signal ended the process
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
}

TEST_CASE("DeferSignals leaves an ignored signal ignored (nohup's hang-up)", "[core][signals]") {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::signal(SIGHUP, SIG_IGN);
        DeferSignals::clear();
        {
            DeferSignals defer;
            ::raise(SIGHUP);
            if (DeferSignals::pending() != 0) ::_exit(3);  // not remembered: ignored, as asked
            ::raise(SIGTERM);
            if (DeferSignals::pending() != SIGTERM) ::_exit(5);  // the others are still deferred
        }
        struct sigaction now {};
        ::sigaction(SIGHUP, nullptr, &now);
        ::_exit(now.sa_handler == SIG_IGN ? 0 : 4);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
