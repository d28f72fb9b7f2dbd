#pragma once
// The GPU gate of pre-push: `git-model-bench --quick` must pass before a push
// leaves a GPU machine, with a pass remembered per GPU so a series of pushes stays fast.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "gitmodel/git/reader.hpp"

namespace gm::hooks {

// When the gate runs (model.bench.beforePush).
enum class BenchWhen { always, automatic, never };

// What the gate does when the bench cannot judge the GPU (model.benchGate.onUnknown): a driver
// too old, a busy, prohibited or MIG-sliced GPU, an ECC reset pending. Never "the GPU is broken".
enum class OnUnknown { allow, refuse };

// What the gate decided.
struct BenchGateResult {
    bool passed = true;
    bool ran = false;         // the bench ran (not skipped, not from the cache)
    bool from_cache = false;  // a remembered pass was used
    bool unknown = false;     // the bench could not judge the GPU; passed says what the policy made of it
    std::string message;      // why it refused, or what it did (a warning to print when unknown)
};

// How one run of `git-model-bench --quick --json` ended, for the gate's decision.
struct BenchRun {
    bool timed_out = false;   // killed after model.bench.timeout
    int exit_code = 0;        // the bench's exit code (when not timed out)
    std::string out;          // its stdout: the JSON report
    std::string err;          // its stderr
    std::string describe;     // how it ended, for a message when nothing better is known
    int timeout_seconds = 0;  // the limit it ran under
};

// The gate's decision on a bench run: a pass passes; a failing or hung GPU refuses; "cannot judge"
// (verdict cannot-judge, or no-gpu other than a GPU in a bad state under beforePush=auto) follows
// on_unknown; no GPU at all under beforePush=always refuses. Pure: unit-tested on JSON reports.
BenchGateResult judge_bench_run(const BenchRun& run, BenchWhen when, OnUnknown on_unknown);

// Applies model.bench.beforePush: never skips; automatic runs only where an
// NVIDIA driver is present; always runs (and refuses where there is no GPU).
// A pass is cached per GPU UUID, driver and suite version for model.bench.cacheTime;
// the bench gets model.bench.timeout, after which the push is refused; a GPU the
// bench cannot judge is allowed or refused by model.benchGate.onUnknown (allow).
// The pass cache lives in the common git dir, shared by every worktree.
// others_gpus: asked only when the gate runs, the UUIDs of GPUs other users hold
// (env::gpus_others_hold). The bench leaves them alone (--skip-gpu: no context, memory or kernel
// on a teammate's job) and a remembered pass is needed only for the rest; when every GPU is
// someone else's, or others_gpus throws gm::Error (a book that cannot be read), the check cannot
// judge and touches nothing (model.benchGate.onUnknown decides).
BenchGateResult run_bench_gate(const git::ConfigView& config, const std::filesystem::path& common_dir,
                               const std::function<std::vector<std::string>()>& others_gpus = {});

}  // namespace gm::hooks
