#pragma once
// `git model sweep promote`: the chosen run's params.json (and the files the sweep was told to
// carry with --carry) committed onto the model's own branch in its worktree, and snapshotted
// there as an ordinary model snapshot, so that `git model log`/`best` of the model show it.
// Only those paths are committed; a path the user changed is never overwritten; a failure before
// the commit puts every file back as it was; promoting a run twice changes nothing.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/share.hpp"
#include "gitmodel/sweep/report.hpp"

namespace gm::sweep {

// Why a --carry path cannot be carried (absolute, "..", ".git", params.json, empty), nullopt when
// it can. Pure, so that start and promote share one rule.
std::optional<std::string> carry_path_problem(std::string_view path);

// Checks --carry paths as `sweep start` takes them: each by carry_path_problem, and none through
// a symbolic link of `worktree` (the model's, which the runs start from) that leads out of it.
// Throws gm::UsageError (exit 2) naming the path and the problem.
void check_carry_paths(const std::vector<std::string>& paths, const std::filesystem::path& worktree);

// The run a promotion takes: `run` when given (it must be done), else the best done run of the
// report (its ranking: --metric, --minimize/--maximize, or the metric's name). Throws gm::Error
// saying why no run can be taken (not done, no metrics, no such run).
const RunResult& choose_promoted_run(const Report& report, std::optional<int> run);

// "Promote sweep 3 run 4 (val/loss=0.21, lr=0.01 batch=32)": the commit's subject, the metric
// ranked by first (when the run has it), cut with "..." past 100 characters.
std::string promote_subject(const std::string& sweep_id, int run, const std::vector<snapshots::Metric>& metrics,
                            const std::string& metric, const config::ParameterSet& params);

// What `sweep promote` asks for.
struct PromoteRequest {
    std::string sweep_id;
    std::optional<int> run;             // --run; the best run when absent
    std::optional<std::string> metric;  // --metric
    bool minimize = false;
    bool maximize = false;
    bool push = true;                   // push the snapshot tag (model.tag.push, upstream), as `git model tag`
};

// What a promotion did.
struct PromoteOutcome {
    std::string sweep_id;
    std::string model;
    std::string model_branch;
    std::filesystem::path model_worktree;
    int run = 0;
    std::string metric;                      // the metric ranked by (empty: none)
    std::vector<snapshots::Metric> metrics;  // the run's, as recorded in the snapshot
    std::size_t metrics_left_out = 0;        // past the most a snapshot records (the run reported more)
    std::vector<std::string> paths;          // params.json, then the carried files
    std::optional<std::string> commit;       // the new commit; nullopt when the branch already held the files
    std::optional<snapshots::TagOutcome> tagged;  // nullopt when already promoted
    std::optional<snapshots::TagPush> already_pushed;  // already promoted: its tag pushed now (a rerun after a kill)
    std::optional<std::string> already;      // the snapshot tag that already records this run
};

// Promotes a run (see the top of this file). Throws gm::Error, having changed nothing, for a run
// that cannot be promoted, a model without a worktree, a path with uncommitted changes or a
// link in the way; when the snapshot fails after the commit, the commit stays and the error says
// so and how to finish (promoting again snapshots it).
PromoteOutcome promote(const git::Repository& repo, const PromoteRequest& request);

}  // namespace gm::sweep
