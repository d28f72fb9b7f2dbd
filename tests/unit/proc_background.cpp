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
#include <iterator>
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

// This process's children, running or not reaped yet.
int children() {
    int count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        if (entry.path().filename().string().find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(text.substr(close + 1));
        std::string state;
        long parent = 0;
        fields >> state >> parent;
        if (parent == ::getpid()) ++count;
    }
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

TEST_CASE("proc::Conversation: answers come back in turn, a line or a count of bytes at a time", "[proc]") {
    const auto before = open_descriptors();
    const int children_before = children();
    {
        Conversation cat({"cat"});
        CHECK(children() == children_before + 1);
        cat.send("first\n");
        CHECK(cat.receive_line() == "first");
        // an answer larger than one read, with line breaks inside it
        std::string big;
        for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + "\n";
        cat.send(big.substr(0, big.size() / 2));
        CHECK(cat.receive(big.size() / 2) == big.substr(0, big.size() / 2));
        cat.send(big.substr(big.size() / 2) + "last\n");
        CHECK(cat.receive(big.size() - big.size() / 2) == big.substr(big.size() / 2));
        CHECK(cat.receive_line() == "last");
        cat.send("a\nb\n");
        CHECK(cat.receive_line() == "a");
        CHECK(cat.receive_line() == "b");
    }
    CHECK(open_descriptors() == before);  // the socket is closed
    CHECK(children() == children_before);  // the child reaped
}

TEST_CASE("proc::Conversation: a child that ended or cannot start is an error, not a hang or a signal", "[proc]") {
    Conversation once({"head", "-n", "1"});
    once.send("only\n");
    CHECK(once.receive_line() == "only");
    CHECK_THROWS_WITH(once.receive_line(), Catch::Contains("head ended before it answered"));
    // writing to it now fails with EPIPE (no SIGPIPE ends this process), sooner or later
    CHECK_THROWS_WITH(
        [&] {
            for (int i = 0; i < 1000; ++i) once.send(std::string(4096, 'x'));
        }(),
        Catch::Contains("head stopped reading"));
    const auto before = open_descriptors();
    CHECK_THROWS_WITH(Conversation({"/nonexistent/gm-no-such-program"}), Catch::Contains("cannot start"));
    CHECK(open_descriptors() == before);
}

TEST_CASE("proc::Conversation: a child that does not end when its input does is killed and reaped", "[proc]") {
    const int children_before = children();
    const auto started = std::chrono::steady_clock::now();
    { Conversation stubborn({"sh", "-c", "exec sleep 30 <&-"}); }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK(children() == children_before);
}
