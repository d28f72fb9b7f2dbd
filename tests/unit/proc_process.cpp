// proc::run on real children: output, exit status, input, and the timeout, which kills the
// child's whole process group and keeps what was printed until then.
#include "gitmodel/proc/process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>
#include <string>
#include <thread>
#include <unistd.h>

using namespace gm::proc;
using namespace std::chrono_literals;

namespace {

// Whether a pid still names a live process (a zombie waiting for its reaper counts as gone).
bool alive(long pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    if (text.empty()) return false;
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z' && text[close + 2] != 'X';
}

bool gone_within(long pid, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (!alive(pid)) return true;
        std::this_thread::sleep_for(20ms);
    }
    return !alive(pid);
}

std::string scratch_file(const char* name) {
    return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/gm-proc-test-" +
           std::to_string(::getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("proc::run: exit status, both outputs, input", "[proc]") {
    const auto ok = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(ok.exit_code == 3);
    CHECK(ok.out == "out\n");
    CHECK(ok.err == "err\n");
    CHECK_FALSE(ok.timed_out);
    RunOptions options;
    options.input = std::string("hello\n");
    CHECK(run({"cat"}, options).out == "hello\n");
    const auto big = run({"head", "-c", "1000000", "/dev/zero"});
    CHECK(big.out.size() == 1000000);  // more than a pipe holds
    const auto signalled = run({"sh", "-c", "kill -TERM $$"});
    CHECK(signalled.signal == 15);
}

TEST_CASE("proc::run: a timeout kills the whole process group and keeps the output so far", "[proc]") {
    const std::string pid_file = scratch_file("pid");
    RunOptions options;
    options.timeout = 300ms;
    const auto started = std::chrono::steady_clock::now();
    // The shell starts a child of its own and waits: killing the shell alone would leave it.
    const auto result = run({"sh", "-c", "sleep 30 & echo $! >'" + pid_file + "'; echo started; echo warn >&2; wait"},
                            options);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(result.timed_out);
    CHECK_FALSE(result.ok());
    CHECK(result.out == "started\n");
    CHECK(result.err == "warn\n");
    CHECK(took < 5s);
    std::ifstream in(pid_file);
    long grandchild = 0;
    in >> grandchild;
    std::remove(pid_file.c_str());
    REQUIRE(grandchild > 0);
    CHECK(gone_within(grandchild, 3000ms));
    CHECK(result.describe() == "timed out after 300 ms and was killed");
}

TEST_CASE("proc::run: a timeout returns even when a process outside the group holds the pipes", "[proc]") {
    RunOptions options;
    options.timeout = 200ms;
    const auto started = std::chrono::steady_clock::now();
    const auto result = run({"sh", "-c", "setsid sleep 4 & echo before; sleep 30"}, options);
    CHECK(result.timed_out);
    CHECK(result.out == "before\n");
    CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("proc::run: output past max_output kills the group and keeps the first bytes", "[proc]") {
    RunOptions options;
    options.timeout = 30s;
    options.max_output = 100000;
    const auto started = std::chrono::steady_clock::now();
    const auto result = run({"sh", "-c", "yes root:x:0:0:root:/root:/bin/sh"}, options);
    CHECK(result.output_capped);
    CHECK_FALSE(result.timed_out);
    CHECK_FALSE(result.ok());
    CHECK(result.out.size() == 100000);
    CHECK(result.out.rfind("root:x:0:0:", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    CHECK(result.describe() == "printed more than we read and was killed");
    // stderr counts on its own; output within the limit is untouched.
    const auto err = run({"sh", "-c", "yes >&2"}, options);
    CHECK(err.output_capped);
    CHECK(err.err.size() == 100000);
    const auto small = run({"sh", "-c", "echo fine"}, options);
    CHECK(small.ok());
    CHECK(small.out == "fine\n");
}

TEST_CASE("proc::run: a child that ends in time is not touched by the timeout", "[proc]") {
    RunOptions options;
    options.timeout = 10s;
    const auto started = std::chrono::steady_clock::now();
    const auto result = run({"sh", "-c", "echo quick"}, options);
    CHECK(result.ok());
    CHECK(result.out == "quick\n");
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}

namespace {

// The pids a test's shell wrote to a file, one a line (empty when none came).
std::vector<long> read_pids(const std::string& file) {
    std::ifstream in(file);
    std::vector<long> pids;
    for (long pid = 0; in >> pid;) pids.push_back(pid);
    std::remove(file.c_str());
    return pids;
}

}  // namespace

TEST_CASE("proc::run: a timeout kills the child and its grandchild, names the command and keeps the output",
          "[proc]") {
    const std::string pid_file = scratch_file("pids");
    // The shell (the child) starts a grandchild, prints, then waits: both must be gone afterwards.
    const std::vector<std::string> argv{
        "sh", "-c", "echo $$ >'" + pid_file + "'; sleep 100 & echo $! >>'" + pid_file +
                        "'; echo first line; echo last words >&2; sleep 100"};
    RunOptions options;
    options.timeout = 400ms;
    const auto result = run(argv, options);
    CHECK(result.timed_out);
    CHECK(result.timeout == 400ms);
    CHECK(result.out == "first line\n");
    CHECK(result.err == "last words\n");
    CHECK(result.describe() == "timed out after 400 ms and was killed");
    const auto pids = read_pids(pid_file);
    REQUIRE(pids.size() == 2);
    CHECK(gone_within(pids[0], 3000ms));  // the shell
    CHECK(gone_within(pids[1], 3000ms));  // the sleep it started

    // run_checked's error says which command, after how long, and the tail of what it printed.
    try {
        run_checked(argv, options);
        FAIL("run_checked did not throw");
    } catch (const std::exception& e) {
        const std::string what = e.what();
        CHECK_THAT(what, Catch::Contains("'sh -c echo") && Catch::Contains("timed out after 400 ms") &&
                             Catch::Contains("last words"));
    }
    for (long pid : read_pids(pid_file)) CHECK(gone_within(pid, 3000ms));
}

TEST_CASE("proc::run_concurrently: a timeout kills each child's whole group and keeps what came", "[proc]") {
    const std::string pid_file = scratch_file("concurrent-pids");
    RunOptions options;
    options.timeout = 400ms;
    const auto started = std::chrono::steady_clock::now();
    const auto results = run_concurrently(
        {{"sh", "-c", "sleep 100 & echo $! >'" + pid_file + "'; echo hello; wait"}, {"sh", "-c", "echo quick"}}, options);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    REQUIRE(results.size() == 2);
    CHECK(results[0].timed_out);
    CHECK(results[0].describe() == "timed out after 400 ms and was killed");
    CHECK(results[0].out == "hello\n");
    CHECK(results[1].ok());
    CHECK(results[1].out == "quick\n");
    const auto pids = read_pids(pid_file);
    REQUIRE(pids.size() == 1);
    CHECK(gone_within(pids[0], 3000ms));  // the grandchild, which held the output pipe
}

TEST_CASE("proc::run: every child has a limit unless the caller lifts it; terminal children share our group",
          "[proc]") {
    CHECK(RunOptions{}.timeout == default_timeout);
    const std::string our_group = std::to_string(::getpgrp());
    // With a limit, the child leads a group of its own (the kill reaches all it starts) ...
    const auto own = run({"sh", "-c", "echo $(cut -d' ' -f5 /proc/$$/stat) $$"});
    REQUIRE(own.ok());
    long group = 0, pid = -1;
    std::istringstream(own.out) >> group >> pid;
    CHECK(group == pid);
    // ... a terminal child stays in ours, where the terminal's Ctrl-C and password prompts reach it.
    RunOptions terminal;
    terminal.timeout = std::nullopt;
    terminal.terminal = true;
    const auto shared = run({"sh", "-c", "cut -d' ' -f5 /proc/$$/stat"}, terminal);
    REQUIRE(shared.ok());
    CHECK(shared.out == our_group + "\n");
}

TEST_CASE("proc::RunResult::tail: the last lines of stderr, else of stdout", "[proc]") {
    RunResult result;
    result.out = "a\nb\nc\n";
    CHECK(result.tail(2) == "b\nc");
    CHECK(result.tail(10) == "a\nb\nc");
    result.err = "one\ntwo\nthree\n\n";
    CHECK(result.tail(1) == "three");
    CHECK(result.tail(2) == "two\nthree");
}

TEST_CASE("proc::run: a child starts where we are even when that folder was removed meanwhile (a worktree "
          "deleted while a command ran in it)",
          "[proc]") {
    char templ[] = "/tmp/gm-unit-gone.XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    const std::string before = std::filesystem::current_path().string();
    REQUIRE(::chdir(templ) == 0);
    REQUIRE(::rmdir(templ) == 0);
    const auto ran = gm::proc::run({"echo", "started"});
    const auto together = gm::proc::run_concurrently({{"true"}, {"true"}}, {});
    REQUIRE(::chdir(before.c_str()) == 0);
    CHECK(ran.ok());
    CHECK(ran.out == "started\n");
    REQUIRE(together.size() == 2);
    CHECK(together[0].ok());
    CHECK(together[1].ok());
}
