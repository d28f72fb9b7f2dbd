#pragma once
// The text output of the snapshot commands (log, compare, and the dates and metrics the
// other commands show), kept here so that the commands stay thin and the layout is shared.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/snapshots/snapshots.hpp"

namespace gm::snapshots {

// A date as tables show it: local time, "2026-01-02 03:04"; "-" for 0.
std::string format_local_time(std::int64_t seconds);

// "acc=0.913, loss=0.21" for one-line summaries.
std::string inline_metrics(const std::vector<Metric>& metrics);

// `git model log`: one row per snapshot, newest first, a column per metric.
std::string render_log(const std::vector<Snapshot>& newest_first);

// `git model compare`: metrics side by side, the image, the commits between.
std::string render_compare(const Comparison& comparison);

}  // namespace gm::snapshots
