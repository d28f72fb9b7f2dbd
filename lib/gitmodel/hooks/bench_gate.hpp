#pragma once
// The GPU gate of pre-push: `git-model-bench --quick` must pass before a push
// leaves a GPU machine, with a pass remembered per GPU so a series of pushes stays fast.

#include <filesystem>
#include <string>

#include "gitmodel/git/reader.hpp"

namespace gm::hooks {

// When the gate runs (model.bench.beforePush).
enum class BenchWhen { always, automatic, never };

// What the gate decided.
struct BenchGateResult {
    bool passed = true;
    bool ran = false;         // the bench ran (not skipped, not from the cache)
    bool from_cache = false;  // a remembered pass was used
    std::string message;      // why it refused, or what it did
};

// Applies model.bench.beforePush: never skips; automatic runs only where an
// NVIDIA driver is present; always runs (and refuses where there is no GPU).
// A pass is cached per GPU UUID, driver and suite version for model.bench.cacheTime;
// the bench gets model.bench.timeout, after which the push is refused.
// The pass cache lives in the common git dir, shared by every worktree.
BenchGateResult run_bench_gate(const git::ConfigView& config, const std::filesystem::path& common_dir);

}  // namespace gm::hooks
