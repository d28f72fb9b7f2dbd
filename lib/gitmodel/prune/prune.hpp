#pragma once
// `git model prune`: the team's retention rule carried out. Reads the facts
// about every model branch, plans with plan_prune (prune_plan.hpp), and executes:
// archive tag first (so no commit is ever lost), then worktree, environment, branch.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/prune/prune_plan.hpp"
#include "gitmodel/prune/prune_remote.hpp"
#include "gitmodel/model/settings.hpp"

namespace gm::prune {

// What the user asked for.
struct PruneRequest {
    bool dry_run = false;
    bool force = false;
    std::optional<std::int64_t> retention_seconds;  // --retention; model.prune.retention when absent
    std::optional<bool> remote;                     // --remote / --no-remote; model.prune.remote when absent
    std::set<std::string> left_to_caller;           // models a higher layer prunes with their own (sweep runs,
                                                    // sweep/tidy.cpp): neither judged nor listed here
};

// The plan and, unless it was a dry run, what became of each branch.
struct PruneResult {
    PruneOptions options;
    std::vector<PruneDecision> plan;
    std::vector<std::optional<PruneOutcome>> outcomes;  // per plan entry; nullopt when kept or dry run
    std::size_t failed = 0;
    std::optional<RemotePruneResult> remote;  // what prune did on the remote, when asked to
    std::vector<std::string> restored;        // worktrees a killed removal had half deleted, put back first
};

// Reads what the rule needs about every model branch (merge dates from merge
// commits and finish records, worktrees, dirty, pushed, archive tag names).
// `skip`: models left out (PruneRequest::left_to_caller).
std::vector<PruneFacts> gather_prune_facts(const git::Repository& repo, const model::Settings& settings,
                                           const std::set<std::string>& skip = {});

// The message of a branch's archive tag: a block saying what it was and how it was merged.
std::string archive_message(const PruneFacts& fact);

// Archives with an annotated tag, unless it exists already (exists: at target); throws gm::Error
// when the name was taken meanwhile by another commit.
void archive_with_tag(const git::Repository& repo, const std::string& tag, const std::string& target, bool exists,
                      const std::string& message);

// Adds archive tags made here to the list of those no remote was seen to hold
// (<common dir>/git-model/archives-unshared, which a later prune --remote pushes), or takes off
// it those the remote has now (drop), under the "archives" lock.
void update_unshared_archives(const git::Repository& repo, const std::vector<std::string>& add,
                              const std::vector<std::string>& drop);

// Which branch of how many is being pruned now (1-based), for a progress line.
using PruneProgress = std::function<void(std::size_t done, std::size_t total, const std::string& model)>;

// Plans and (unless dry_run) executes. `say` receives a line per action as it happens; `step`
// hears before each branch is pruned here.
PruneResult run_prune(const git::Repository& repo, const PruneRequest& request,
                      const std::function<void(const std::string&)>& say, const PruneProgress& step = {});

}  // namespace gm::prune
