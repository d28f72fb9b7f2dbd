// proc/background: a started program gets stdin, stdout and stderr and no other descriptor of
// ours, and a failed start leaves no descriptor behind in this process.
#include "gitmodel/proc/background.hpp"
#include "gitmodel/proc/identity.hpp"
#include "gitmodel/proc/process.hpp"

#include "gitmodel/core/error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace gm::proc;
namespace fs = std::filesystem;

namespace {

std::size_t open_descriptors() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
    return count;
}

std::string scratch(const char* name) {
    return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/gm-background-test-" +
           std::to_string(::getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("proc::spawn: the program holds no descriptor of ours beyond 0, 1 and 2", "[proc]") {
    const std::string output = scratch("fds");
    // Each descriptor the shell holds, with what it points to.
    const auto child = spawn({"sh", "-c", "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink \"$f\")\"; done"},
                             SpawnOptions{{}, {}, output, true});
    int status = 0;
    REQUIRE(::waitpid(static_cast<pid_t>(child.pid), &status, 0) == child.pid);
    // Descriptors to /dev/null above 2 that this process holds itself (its own caller's) may
    // pass on; spawn's own must not.
    int ours = 0;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::stoi(entry.path().filename().string()) > 2 && fs::read_symlink(entry.path(), ec) == "/dev/null") ++ours;
    }
    std::ifstream in(output);
    std::string line;
    int lines = 0, null_above_2 = 0;
    while (std::getline(in, line)) {
        ++lines;
        std::istringstream fields(line);
        int fd = -1;
        std::string target;
        fields >> fd >> target;
        INFO(line);
        if (fd <= 2) continue;
        CHECK(target != fs::path(output).string());  // the output file only as 1 and 2
        if (target == "/dev/null") ++null_above_2;
    }
    CHECK(null_above_2 <= ours);  // and /dev/null only as 0
    CHECK(lines >= 3);
    std::remove(output.c_str());
}

TEST_CASE("proc::spawn: a program that cannot start leaves no descriptor open here", "[proc]") {
    const auto before = open_descriptors();
    CHECK_THROWS_AS(spawn({"/nonexistent/gm-no-such-program"}, SpawnOptions{}), gm::Error);
    CHECK_THROWS_AS(spawn_detached({"/nonexistent/gm-no-such-program"}, "/dev/null"), gm::Error);
    CHECK(open_descriptors() == before);
}

namespace {
volatile sig_atomic_t sigchld_seen = 0;
extern "C" void count_sigchld(int) { sigchld_seen = sigchld_seen + 1; }
}  // namespace

TEST_CASE("proc::run keeps the caller's SIGCHLD handler, and a child of the caller's that ends meanwhile still calls it",
          "[proc]") {
    // The sweep scheduler wakes on SIGCHLD; Boost.Process used to leave SIG_DFL behind after any run.
    struct sigaction mine {}, before {};
    mine.sa_handler = count_sigchld;
    sigemptyset(&mine.sa_mask);
    mine.sa_flags = SA_RESTART;
    REQUIRE(::sigaction(SIGCHLD, &mine, &before) == 0);
    const auto background = gm::proc::spawn({"true"}, {});
    sigchld_seen = 0;
    REQUIRE(gm::proc::run({"sleep", "0.2"}).ok());  // the spawned child ends while this runs
    struct sigaction after {};
    REQUIRE(::sigaction(SIGCHLD, nullptr, &after) == 0);
    CHECK(after.sa_handler == count_sigchld);
    CHECK(sigchld_seen > 0);
    ::waitpid(static_cast<pid_t>(background.pid), nullptr, 0);
    ::sigaction(SIGCHLD, &before, nullptr);
}

TEST_CASE("proc::run_forwarding_signals: a signal sent here is handed to forward, which finds the command by its "
          "environment; the exit status is the command's",
          "[proc]") {
    const std::string mark = "GIT_MODEL_EXEC=unit-" + std::to_string(::getpid());
    std::vector<int> forwarded;
    std::vector<int> lost;
    std::thread sender([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        ::kill(::getpid(), SIGTERM);
    });
    SignalForwarding how;
    how.forward = [&](int signal) {
        const auto found = processes_with_environment(mark);
        for (const long pid : found) ::kill(static_cast<pid_t>(pid), signal);
        forwarded.push_back(signal);
        return !found.empty();
    };
    how.lost = [&](int signal) { lost.push_back(signal); };
    how.command_runs = [] { return false; };
    how.waiting_note = [] {};
    const int code = run_forwarding_signals({"env", mark, "sh", "-c", "trap 'exit 5' TERM; sleep 30 & wait"}, how);
    sender.join();
    CHECK(code == 5);
    REQUIRE_FALSE(forwarded.empty());
    CHECK(forwarded.back() == SIGTERM);
    CHECK(lost.empty());
    // the sleep it started got the signal too (and ends within moments: the signal is delivered
    // to it while sh exits, so poll rather than look once)
    bool sleep_ended = false;
    for (int tries = 0; tries < 100 && !(sleep_ended = processes_with_environment(mark).empty()); ++tries)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(sleep_ended);
    CHECK(run_forwarding_signals({"sh", "-c", "kill -KILL $$"}, how) == 128 + SIGKILL);
}

TEST_CASE("proc::run_forwarding_signals: a signal nothing could be passed to is told of when the child ends; "
          "a child sharing our group reports 128 + the signal",
          "[proc]") {
    std::vector<int> lost;
    SignalForwarding how;
    how.forward = [](int) { return false; };  // the command cannot be found (it cleared its environment)
    how.lost = [&](int signal) { lost.push_back(signal); };
    how.command_runs = [] { return false; };
    how.waiting_note = [] {};
    std::thread sender([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::kill(::getpid(), SIGINT);
    });
    CHECK(run_forwarding_signals({"sh", "-c", "sleep 1; exit 0"}, how) == 0);  // its own group: its status
    sender.join();
    CHECK(lost == std::vector<int>{SIGINT});
    lost.clear();
    how.shares_group = true;  // SIGTERM may have ended a child of our group: 128 + SIGTERM
    std::thread again([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::kill(::getpid(), SIGTERM);
    });
    CHECK(run_forwarding_signals({"sh", "-c", "sleep 1; exit 0"}, how) == 128 + SIGTERM);
    again.join();
    CHECK(lost == std::vector<int>{SIGTERM});
}
