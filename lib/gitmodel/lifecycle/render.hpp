#pragma once
// The text output of the lifecycle commands (tables and summaries), kept here
// so that the commands stay thin and the layout is shared.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/lifecycle/prune_plan.hpp"
#include "gitmodel/lifecycle/prune_remote.hpp"
#include "gitmodel/lifecycle/snapshots.hpp"
#include "gitmodel/lifecycle/status.hpp"

namespace gm::lifecycle {

// A date as tables show it: local time, "2026-01-02 03:04"; "-" for 0.
std::string format_local_time(std::int64_t seconds);

// "acc=0.913, loss=0.21" for one-line summaries.
std::string inline_metrics(const std::vector<Metric>& metrics);

// `git model log`: one row per snapshot, newest first, a column per metric.
std::string render_log(const std::vector<Snapshot>& newest_first);

// `git model compare`: metrics side by side, the image, the commits between.
std::string render_compare(const Comparison& comparison);

// `git model status`.
std::string render_status(const StatusReport& report);

// `git model prune`: the plan (dry run) or what was done, then a summary line.
std::string render_prune(const std::vector<PruneDecision>& plan, const std::vector<std::optional<PruneOutcome>>& outcomes,
                         bool dry_run);

// `git model prune --remote`: the same for the remote's branches, then the archive tags pushed.
std::string render_remote_prune(const RemotePruneResult& remote, bool dry_run);

}  // namespace gm::lifecycle
