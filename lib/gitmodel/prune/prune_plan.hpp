#pragma once
// The retention rule as a pure function: from facts about every model branch
// (gathered by prune.cpp) and the options, which branches are archived and
// removed, which are kept and why, and the exact steps. --dry-run prints this plan.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gm::prune {

// How a branch came to be counted as merged: a merge commit, a finish record
// (fast-forward), or its changes found in the base without its commits (squash, rebase).
enum class MergedBy { none, merge_commit, finish_record, squash, rebase };

// A ref only the model's worktree holds (refs/worktree/*, refs/bisect/*), whose
// commits nothing else keeps: prune archives it before the worktree goes.
struct WorktreeRefArchive {
    std::string ref;                          // "refs/worktree/keep"
    std::string target;                       // the object it points at
    std::string tag;                          // the archive tag chosen for it
    bool tag_exists = false;                  // it exists already, at target
};

// What prune knows about one model branch.
struct PruneFacts {
    std::string model;
    std::string branch;
    std::string head;
    std::string base;
    bool base_exists = true;
    bool in_base = false;                     // the head is reachable from the base (local or remote-tracking)
    bool no_own_commits = false;              // the head is still the commit the branch was created at (its reflog)
    MergedBy merged_by = MergedBy::none;
    std::optional<std::int64_t> merged_at;    // when it landed: the merge commit's or the finish record's date
    std::string merge_commit;                 // the merge commit; for squash and rebase the base's commit that carries it
    std::string merge_evidence;               // squash and rebase: what was compared and what matched
    std::int64_t last_commit_time = 0;        // committer date of the head
    std::optional<std::filesystem::path> worktree;
    bool worktree_main = false;               // checked out in the main worktree
    bool worktree_missing = false;            // registered, folder gone: prune forgets it
    // Folder gone, but git's record of it holds staged changes (git::staged_in_worktree_record):
    // the folder was likely moved by hand, and forgetting the record loses them. Empty when none.
    std::string missing_worktree_staged;
    std::optional<std::string> worktree_foreign;  // why its folder is not this repository's (a copy's record)
    bool worktree_locked = false;
    std::string worktree_operation;           // "a rebase" or "a bisect" in progress there holds the branch
    std::string worktree_operation_ending;    // the commands that end it
    bool worktree_current = false;            // prune runs from inside it
    // Why it may not be this user's to prune, in a repository several users share (empty when it
    // is): its worktree's folder is another user's, or it has no folder here to tell (no worktree,
    // or one whose folder is gone). Only its maker, or root, prunes it: not even --force lets one
    // user forget another's worktree or delete their branch. (A branch's reflog cannot tell: git gc
    // rewrites it as whoever runs it.)
    std::string not_yours;
    std::optional<bool> dirty;                // nullopt: no readable worktree
    std::size_t untracked_count = 0;          // untracked and ignored files in its worktree (git does not track them)
    std::string untracked;                    // the first of them, in words
    std::vector<std::string> filtered;        // tracked files whose content a clean filter keeps out of git
    std::vector<std::string> hidden;          // tracked files on disk whose changes git hides (skip-worktree)
    std::vector<std::string> submodules;      // submodules checked out in its worktree
    std::vector<WorktreeRefArchive> worktree_refs;  // refs its worktree alone holds, to archive
    std::string pending_start;                // a `git model start` of it has not finished (running or interrupted)
    std::optional<bool> unpushed;             // nullopt: the remote does not exist (nothing to push to)
    std::string remote;
    std::string archive_tag;                  // the tag name chosen for the archive
    bool archive_tag_exists = false;          // it exists already, at the head (a previous, interrupted prune)
    std::vector<std::string> environment;     // what removing its environment (container) takes
    std::string foreign_container;            // why a container of its environment's name is not its to remove
};

// The rule's parameters.
struct PruneOptions {
    std::int64_t now = 0;                     // as git dates commits (GIT_COMMITTER_DATE honoured)
    std::int64_t retention_seconds = 14 * 86400;
    bool force = false;                       // also unmerged (stale), dirty, untracked files, unpushed, locked
};

// One thing prune does to a branch, in order.
struct PruneStep {
    enum class Kind { archive_tag, remove_worktree, remove_environment, delete_branch };
    Kind kind;
    std::string description;                  // for --dry-run and the report
};

// The decision about one branch.
struct PruneDecision {
    PruneFacts facts;
    bool prune = false;
    std::vector<std::string> reasons;         // why it is kept (every reason, not just the first)
    std::vector<std::string> overridden;      // what --force overrode, said before doing it
    std::vector<PruneStep> steps;             // empty when kept
    std::optional<std::int64_t> eligible_at;  // when the retention lets it go
};

// The plan for every branch, in the order given.
std::vector<PruneDecision> plan_prune(const std::vector<PruneFacts>& facts, const PruneOptions& options);

// "merge-commit", "finish-record", "squash", "rebase"; nullptr for none.
const char* merged_by_word(MergedBy how);

// The first free archive tag name: the form's name, else name@2, name@3, ... ('@'
// cannot occur in a model name, so no model's archive collides with another's).
// existing_target says where a tag points, if it exists. Returns the name and
// whether it exists already at `head` (then it is reused, not created).
std::pair<std::string, bool> choose_archive_tag(
    const std::string& name, const std::string& head,
    const std::function<std::optional<std::string>(const std::string&)>& existing_target);

// "3 days", "5 hours", for reasons and reports.
std::string describe_duration(std::int64_t seconds);

// What became of a branch prune set out to remove, for the report and the JSON.
struct PruneOutcome {
    bool done = false;
    std::string error;    // why a planned prune failed part-way (the archive tag keeps its commits)
};

// The "models" rows of `git model prune --json`, one per plan entry (also used for the remote's branches).
nlohmann::json prune_rows_json(const std::vector<PruneDecision>& plan,
                               const std::vector<std::optional<PruneOutcome>>& outcomes);

// `git model prune --json` (git-model(1), JSON OUTPUT); outcomes[i] belongs to plan[i] (nullopt: kept or dry run).
nlohmann::json prune_json(const std::vector<PruneDecision>& plan, const std::vector<std::optional<PruneOutcome>>& outcomes,
                          const PruneOptions& options, bool dry_run);

}  // namespace gm::prune
