#pragma once
// `git model doctor`: gathers the facts about this machine and repository (git, the suite's
// programs, hooks, .modelenv.yaml, the container engine, GPUs, the GPU pool, config) and
// judges them with judge.hpp. Never changes anything.

#include "gitmodel/doctor/report.hpp"

#include <chrono>
#include <vector>

namespace gm::doctor {

// How doctor runs.
struct Options {
    bool run_bench = true;                               // false: --no-bench skips the GPU check
    std::chrono::seconds bench_timeout{60};              // git-model-bench --quick's time limit
    std::chrono::seconds engine_timeout{30};             // `<engine> info`'s time limit
};

// Every check, in the order of the report. Works outside a repository (repository checks skip).
std::vector<Check> run_checks(const Options& options);

}  // namespace gm::doctor
