// split_answer_from_teardown / answer: git-model-bench ends with its child's code as soon as the
// child answers, while the child's teardown goes on; a child that dies without answering ends the
// bench the same way; a reader of the bench's output sees its end at the answer. Each case runs
// the "bench" in a forked process, since the parent side never returns.
#include "gitmodel/gpu/early_answer.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

// The "teardown" after the answer: long enough that the bench's end is seen well before it.
constexpr unsigned teardown_seconds = 2;

// Runs body as a bench process (split, then body in the child) with its stdout on a pipe;
// returns the bench's wait status and everything it wrote, read up to the pipe's end.
struct BenchEnd {
    int status = 0;
    std::string output;
};

template <typename Body>
BenchEnd run_bench_process(Body body, bool caller_ignores_sigchld = false) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::fflush(nullptr);  // the test runner's own buffered output is not the bench's
    const pid_t bench = ::fork();
    REQUIRE(bench >= 0);
    if (bench == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::close(out[1]);
        if (caller_ignores_sigchld) ::signal(SIGCHLD, SIG_IGN);  // as `trap '' CHLD` hands it down
        gm::gpu::split_answer_from_teardown();
        body();
        ::_exit(99);  // body must end the process
    }
    ::close(out[1]);
    BenchEnd end;
    char buffer[256];
    ssize_t n;
    while ((n = ::read(out[0], buffer, sizeof buffer)) != 0) {
        if (n > 0) end.output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    REQUIRE(::waitpid(bench, &end.status, 0) == bench);
    return end;
}

bool wait_for_file(const fs::path& path) {
    for (int i = 0; i < 100 && !fs::exists(path); ++i) ::usleep(50 * 1000);
    return fs::exists(path);
}

}  // namespace

TEST_CASE("the bench ends with the child's answer while the child's teardown goes on", "[gpu][answer]") {
    gm::test::ScratchDir scratch;
    const fs::path torn_down = scratch.path / "torn-down";
    const BenchEnd end = run_bench_process([&] {
        std::printf("report line\n");  // buffered: answer() must flush it
        gm::gpu::answer(3);
        std::printf("written after the answer\n");
        std::fflush(stdout);
        ::sleep(teardown_seconds);  // the driver's teardown, as far as the parent can tell
        std::ofstream(torn_down) << "done\n";
        ::_exit(0);
    });
    // The output's end and the bench's end both came before the teardown was over.
    CHECK_FALSE(fs::exists(torn_down));
    REQUIRE(WIFEXITED(end.status));
    CHECK(WEXITSTATUS(end.status) == 3);
    CHECK(end.output == "report line\n");
    // The teardown was not cut short by the parent's end.
    CHECK(wait_for_file(torn_down));
}

TEST_CASE("a child that ends without answering ends the bench with its code or signal", "[gpu][answer]") {
    SECTION("an exit code") {
        const BenchEnd end = run_bench_process([] {
            std::printf("partial\n");
            std::fflush(stdout);
            ::_exit(5);
        });
        REQUIRE(WIFEXITED(end.status));
        CHECK(WEXITSTATUS(end.status) == 5);
        CHECK(end.output == "partial\n");
    }
    SECTION("a signal") {
        // SIGTERM, not a crash: AddressSanitizer turns a SIGSEGV into its own report and SIGABRT.
        const BenchEnd end = run_bench_process([] { ::raise(SIGTERM); });
        REQUIRE(WIFSIGNALED(end.status));
        CHECK(WTERMSIG(end.status) == SIGTERM);
    }
    SECTION("a signal, under a caller that ignores SIGCHLD") {
        const BenchEnd end = run_bench_process([] { ::raise(SIGKILL); }, true);
        REQUIRE(WIFSIGNALED(end.status));
        CHECK(WTERMSIG(end.status) == SIGKILL);
    }
}

TEST_CASE("killing the bench before the answer stops the work in the child", "[gpu][answer]") {
    gm::test::ScratchDir scratch;
    const fs::path started = scratch.path / "started";
    const fs::path finished = scratch.path / "finished";
    std::fflush(nullptr);
    const pid_t bench = ::fork();
    REQUIRE(bench >= 0);
    if (bench == 0) {
        gm::gpu::split_answer_from_teardown();
        std::ofstream(started) << "pid " << ::getpid() << "\n";
        ::sleep(teardown_seconds);
        std::ofstream(finished) << "done\n";
        gm::gpu::answer(0);
        ::_exit(0);
    }
    REQUIRE(wait_for_file(started));
    REQUIRE(::kill(bench, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(bench, &status, 0) == bench);
    ::sleep(teardown_seconds + 1);
    CHECK_FALSE(fs::exists(finished));
}

TEST_CASE("without a split, answer leaves the output where it was", "[gpu][answer]") {
    struct stat before {}, after {};
    REQUIRE(::fstat(STDOUT_FILENO, &before) == 0);
    gm::gpu::answer(0);  // the unit-test binary made no split: nothing to send, nothing to close
    REQUIRE(::fstat(STDOUT_FILENO, &after) == 0);
    CHECK(before.st_dev == after.st_dev);
    CHECK(before.st_ino == after.st_ino);
}
