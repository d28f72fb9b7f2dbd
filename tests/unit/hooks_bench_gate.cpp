// The pre-push GPU gate's decision on a run of `git-model-bench --quick --json`: a failing or hung
// GPU refuses the push; a GPU the bench cannot judge follows model.benchGate.onUnknown, never
// counts as broken; no GPU at all refuses under beforePush=always (hooks/bench_gate.hpp).

#include "gitmodel/hooks/bench_gate.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace gm::hooks;

namespace {

// A run that exited `code` with a report of this verdict and error kind.
BenchRun run_with(int code, const std::string& verdict, const std::string& kind = "",
                  const std::string& message = "the bench's message", const std::string& devices = "[]") {
    BenchRun run;
    run.exit_code = code;
    run.out = "{\"verdict\": \"" + verdict + "\", \"exit_code\": " + std::to_string(code) + ", \"devices\": " + devices +
              ", \"error\": " +
              (kind.empty() ? std::string("null") : "{\"kind\": \"" + kind + "\", \"message\": \"" + message + "\"}") + "}";
    run.describe = "exited with code " + std::to_string(code);
    run.timeout_seconds = 20;
    return run;
}

using gm::test::contains;

}  // namespace

TEST_CASE("the gate passes a pass and refuses a failing GPU", "[hooks][bench]") {
    BenchGateResult r = judge_bench_run(run_with(0, "pass"), BenchWhen::always, OnUnknown::refuse);
    CHECK(r.passed);
    CHECK_FALSE(r.unknown);
    r = judge_bench_run(run_with(1, "fail", "", "", R"([{"checks": [{"name": "triad-result", "passed": false,
        "detail": "3 of 100 values wrong"}]}])"),
                        BenchWhen::automatic, OnUnknown::allow);
    CHECK_FALSE(r.passed);
    CHECK_FALSE(r.unknown);
    CHECK(contains(r.message, "the GPU check failed (exit 1): triad-result: 3 of 100 values wrong"));
}

TEST_CASE("a GPU the bench cannot judge follows model.benchGate.onUnknown", "[hooks][bench]") {
    for (const char* kind : {"driver-too-old", "device-busy", "compute-prohibited", "ecc-pending", "mig-slice",
                             "unsupported-device"}) {
        INFO(kind);
        const BenchRun run = run_with(3, "cannot-judge", kind, "why it cannot");
        for (BenchWhen when : {BenchWhen::always, BenchWhen::automatic}) {
            BenchGateResult r = judge_bench_run(run, when, OnUnknown::allow);
            CHECK(r.passed);
            CHECK(r.unknown);
            CHECK(contains(r.message, std::string("could not judge this machine's GPU (") + kind + "): why it cannot"));
            CHECK(contains(r.message, "pushing anyway (model.benchGate.onUnknown = allow)"));
            r = judge_bench_run(run, when, OnUnknown::refuse);
            CHECK_FALSE(r.passed);
            CHECK(r.unknown);
            CHECK(contains(r.message, "model.benchGate.onUnknown = refuse"));
            CHECK_FALSE(contains(r.message, "failed"));  // never reported as a broken GPU
        }
    }
}

TEST_CASE("no GPU: refused under always, by policy under auto, unless the GPU is in a bad state", "[hooks][bench]") {
    const BenchRun none = run_with(3, "no-gpu", "no-device", "no GPU visible");
    BenchGateResult r = judge_bench_run(none, BenchWhen::always, OnUnknown::allow);
    CHECK_FALSE(r.passed);
    CHECK(contains(r.message, "the GPU check failed (no usable GPU): no GPU visible"));
    r = judge_bench_run(none, BenchWhen::automatic, OnUnknown::allow);
    CHECK(r.passed);
    CHECK(r.unknown);
    const BenchRun bad = run_with(3, "no-gpu", "device-bad-state", "fell off the bus");
    r = judge_bench_run(bad, BenchWhen::automatic, OnUnknown::allow);
    CHECK_FALSE(r.passed);
    CHECK_FALSE(r.unknown);
    CHECK(contains(r.message, "fell off the bus"));
}

TEST_CASE("a hung or crashed bench refuses", "[hooks][bench]") {
    BenchRun hung;
    hung.timed_out = true;
    hung.timeout_seconds = 20;
    BenchGateResult r = judge_bench_run(hung, BenchWhen::automatic, OnUnknown::allow);
    CHECK_FALSE(r.passed);
    CHECK(contains(r.message, "did not finish within 20 s"));
    BenchRun crashed;
    crashed.exit_code = 139;
    crashed.err = "Segmentation fault\n";
    r = judge_bench_run(crashed, BenchWhen::automatic, OnUnknown::allow);
    CHECK_FALSE(r.passed);
    CHECK(contains(r.message, "(exit 139): Segmentation fault"));
}
