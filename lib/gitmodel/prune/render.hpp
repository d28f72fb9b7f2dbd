#pragma once
// The text output of `git model prune` (local and --remote), kept here so that the command stays thin.

#include <optional>
#include <string>
#include <vector>

#include "gitmodel/prune/prune_plan.hpp"
#include "gitmodel/prune/prune_remote.hpp"

namespace gm::prune {

// `git model prune`: the plan (dry run) or what was done, then a summary line.
std::string render_prune(const std::vector<PruneDecision>& plan, const std::vector<std::optional<PruneOutcome>>& outcomes,
                         bool dry_run);

// `git model prune --remote`: the same for the remote's branches, then the archive tags pushed.
std::string render_remote_prune(const RemotePruneResult& remote, bool dry_run);

}  // namespace gm::prune
