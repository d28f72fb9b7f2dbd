#pragma once
// Tidying a finished sweep's branches (`git model sweep clean <id> --branches`, and `git model
// prune` for a sweep whose model it prunes): the promoted run (else the best by the report's
// ranking) is archived with an archive tag in prune's form (pushed where a remote exists), then
// every run's worktree and branch go, its metrics.json and carried files (--carry) moved beside
// the sweep's record first (shelf.hpp). Nothing is lost: a worktree holding changes or files git
// does not track, or a branch with commits nothing else holds (not the commit the sweep made, and
// not reachable from the archive tag, the model's branch, its upstream or any other ref), is kept
// and named unless forced. Rerunnable: an archive tag already there is reused, what is gone is skipped.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/prune/prune.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// What the caller asked for.
struct TidyRequest {
    std::optional<std::string> metric;  // --metric: rank by this (the report's default otherwise)
    bool minimize = false;              // --minimize / --maximize, as for the report
    bool maximize = false;
    bool force = false;                 // also worktrees with changes, untracked files or carried links, and unheld commits
    bool dry_run = false;               // plan only
    bool push = true;                   // push the archive tag where the remote exists
};

// One run's part of the plan.
struct RunTidy {
    RunSpec spec;
    std::string head;                   // the branch's commit; empty when the branch is gone already
    bool worktree_registered = false;   // git still knows its worktree
    std::vector<std::string> keep;      // why it stays (empty: it goes); what --force overrode is in `forced`
    std::vector<std::string> forced;
    // Its carried files (--carry) to shelve before the worktree goes (plan), or on its shelf
    // (carried_shelf) after execution: they keep nothing, and the user finds them there.
    std::vector<std::string> carried;
    bool done = false;                  // removed (after execution)
    std::string error;                  // why removing it failed
};

// The plan for one sweep, and what became of it.
struct TidyPlan {
    Sweep sweep;
    std::string refusal;                // the whole sweep stays (running); empty otherwise
    std::optional<int> archived_run;    // the run whose commit is archived; nullopt: none (no metrics, no promotion)
    std::string archived_why;           // "promoted", "best by loss (lowest)"
    std::string archive_tag;
    std::string archive_commit;
    bool archive_tag_exists = false;    // there already, at that commit (a rerun)
    std::string remote;                 // model.remote
    bool remote_exists = false;
    bool push = true;                   // asked to push the tag (TidyRequest::push)
    std::string push_error;             // why the remote did not take the tag (the tag stays here)
    bool pushed = false;
    std::vector<RunTidy> runs;
    // Runs kept (or failed) after execution, or planned to be kept.
    std::size_t kept() const;
};

// Reads the sweep and decides; changes nothing.
TidyPlan plan_tidy(const git::Repository& repo, const Sweep& sweep, const TidyRequest& request);

// Plans and (unless dry_run) archives, pushes, and removes run worktrees and branches; `say`
// hears each action. Takes the repository's worktrees lock per run.
TidyPlan tidy_sweep(git::Repository& repo, const Sweep& sweep, const TidyRequest& request,
                    const std::function<void(const std::string&)>& say);

// The plan or result as lines for a terminal (dry_run: "would").
std::string render_tidy(const TidyPlan& plan, bool dry_run);

// The plan as JSON: {"id", "model", "refused", "archive": {run, why, tag, commit, pushed}|null, "runs": [...]}.
nlohmann::json tidy_json(const TidyPlan& plan);

// Keeps a finished run's metrics.json beside the sweep's record (runs/<k>.metrics.json, what
// reports read once the worktree is gone); the worktree's copy goes when identical, unless the
// sweep carries metrics.json (--carry), which then goes to the shelf with the other carried files.
void shelve_metrics(const Sweep& sweep, const RunSpec& run);

// What plain `sweep clean` (worktrees only) did with a run's carried files before its worktree goes.
struct WorktreeShelving {
    std::vector<std::string> moved;     // carried files now on the run's shelf
    std::string kept;                   // why the worktree must stay (then nothing was moved); empty otherwise
};

// Moves a finished run's carried files (--carry) to its shelf, as clean --branches does, when
// nothing else keeps its worktree (no change, no other untracked file, no carried link, no shelf
// holding other bytes), so that removing the worktree loses none of them and they stop keeping
// it. Nothing moves when something else keeps the worktree: the user finds the files where they
// left them. Throws (nothing removed) when a move fails.
WorktreeShelving shelve_before_worktree_removal(const git::Repository& repo, const Sweep& sweep, const RunSpec& run);

// The error for a sweep id this repository has no record of, saying what the run branches here
// suggest (started in another clone, or already tidied).
Error missing_sweep_error(const git::Repository& repo, const std::string& id);

// Loads a sweep to tidy; throws missing_sweep_error when this repository has no record of it.
Sweep load_for_tidy(const git::Repository& repo, const std::string& id);

// The run models of every recorded sweep: prune leaves them to prune_with_sweeps.
std::set<std::string> recorded_run_models(const git::Repository& repo);

// What `git model prune` does with sweeps: the model rule (prune::run_prune) for every other
// branch, then each sweep whose model was pruned now (or, in a dry run, would be), or whose model
// branch is gone, is tidied as sweep clean --branches tidies it, with prune's --force.
struct SweepPruneResult {
    prune::PruneResult prune;
    std::vector<TidyPlan> sweeps;
    std::size_t failed = 0;             // the model rule's failures and the sweeps' kept runs
};

// Runs prune with the sweeps' runs wired in (see above).
SweepPruneResult prune_with_sweeps(git::Repository& repo, const prune::PruneRequest& request,
                                   const std::function<void(const std::string&)>& say,
                                   const prune::PruneProgress& step = {});

}  // namespace gm::sweep
