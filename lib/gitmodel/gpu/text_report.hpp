#pragma once
// The human-readable output of git-model-bench: one block per GPU with its measurements against
// the peaks and every check, then the overall verdict. Errors that stop the run (no GPU, a hang)
// are printed by the caller in the suite's "error:/hint:" format instead.

#include "gitmodel/gpu/results.hpp"

#include <string>

namespace gm::gpu {

// The table for a report, ending with the overall verdict line.
std::string render_text(const BenchReport& report);

// The "error: ... / hint: ..." lines for a run-level failure, in the suite's format.
std::string render_error(const std::string& program, const Failure& failure);

}  // namespace gm::gpu
