#pragma once
// What users read about a sweep: `sweep status` (every run: parameters, state,
// GPU, exit code, duration, log) and `sweep report` (parameters against the
// metrics each run wrote to metrics.json, best run first).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/snapshots/metrics.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// One run as status shows it: its record, corrected by what is known now
// (a dead scheduler, what Slurm says).
struct RunView {
    RunSpec spec;
    RunStatus status;
    RunState state = RunState::queued;  // the record's state, corrected (a dead scheduler's run: failed)
    std::string detail;     // Slurm's reason, "scheduler gone", the failure note
    std::filesystem::path log;
};

// A sweep as status shows it.
struct SweepView {
    Sweep sweep;
    std::string scheduler;  // local: "running (pid N)", "finished", "stopped unexpectedly"; slurm: the job ids
    std::vector<RunView> runs;
    // How many runs are in a state.
    std::size_t count(RunState state) const;
    // "2 done, 1 failed": the summary line of status and of the list of sweeps.
    std::string summary() const;
};

// Gathers the view of a sweep (asks Slurm for a Slurm sweep).
SweepView view_sweep(const Sweep& sweep);

// The status table, one line per run.
std::string render_status(const SweepView& view);
// The documented --json shape of status (git-model(1), SWEEPS).
nlohmann::ordered_json status_json(const SweepView& view);

// A run with the metrics it wrote.
struct RunResult {
    RunView run;
    std::vector<snapshots::Metric> metrics;  // nested objects flattened with '/': {"val": {"acc": 1}} -> val/acc
    std::string problem;                     // why its metrics.json could not be read, if it could not
};

// The report: runs with the chosen metric first (best first), then the rest by number.
struct Report {
    SweepView view;
    std::string metric;          // the metric ranked by; empty when no run wrote any
    bool minimize = false;       // lowest first (chosen, or implied by the metric's name)
    bool order_from_name = true; // the order was inferred from the metric's name
    std::vector<std::string> metric_columns;
    std::vector<RunResult> results;
};

// Reads every run's metrics.json (its worktree's, else the copy kept when it finished)
// and ranks by `metric` (default: the first metric of the first run that wrote one), lowest
// first under `minimize`, highest first under `maximize`, else as the metric's name implies
// (snapshots::default_rank_order: losses and errors lowest first).
Report build_report(const SweepView& view, const std::optional<std::string>& metric, bool minimize, bool maximize);

// Reads one metrics.json; throws gm::Error naming the file and the problem.
std::vector<snapshots::Metric> read_metrics_file(const std::filesystem::path& path);

// What a snapshot of a run records of its metrics: those whose names a snapshot may hold, and
// at most snapshots::max_snapshot_metrics of them (the one ranked by first, then the run's
// order); `left_out` counts those past that limit.
struct SnapshotMetrics {
    std::vector<snapshots::Metric> metrics;
    std::size_t left_out = 0;
};
SnapshotMetrics snapshot_metrics(const std::vector<snapshots::Metric>& run_metrics, const std::string& ranked_by);

std::string render_report(const Report& report);
nlohmann::ordered_json report_json(const Report& report);

}  // namespace gm::sweep
