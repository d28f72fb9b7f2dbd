#pragma once
// `git model finish --merge`: the model's branch merged into its base with `git merge --no-ff`
// in the worktree that has the base checked out, made safe to kill at any moment.
//
// git stages a clean merge before its pre-merge-commit hook runs and writes MERGE_HEAD only when
// it stops on its own; it removes MERGE_HEAD after its post-merge hook. A finish killed in between
// leaves the base with the merge staged and nothing that says so, or committed and unrecorded
// with MERGE_HEAD still there. A record in the base worktree's git dir says which merge was under
// way, so the next finish --merge puts such a base back (exactly the merge's files, nothing of the
// user's) or records the merge that was made.

#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/model_context.hpp"
#include "gitmodel/model/settings.hpp"

namespace gm::finish {

// A merge commit in the base whose second parent is the model's head: the model is merged.
struct MergeFound {
    std::string commit;
    // Made by a finish --merge stopped before it recorded that: finish's message, and the
    // merge's tree is what merging the head gives (a `-s ours` merge with the message is not).
    bool unrecorded_finish = false;
};

// The merge of `head` into the base (after it, up to base_commit), if any.
std::optional<MergeFound> merge_of_head(const git::Repository& repo, const model::ModelContext& context,
                                        const std::string& head, const std::string& base_commit);

// Merges the model into its base where the base is checked out, after putting back what an
// earlier, interrupted finish --merge left there (`recovered` gets a line saying so). Refuses
// (gm::Error, nothing changed) when local merges are not allowed, the base is not checked out,
// its worktree has uncommitted changes or a merge, cherry-pick or revert in progress, git's
// index.lock is there, or the merge would overwrite a file git does not track, ignored ones too;
// a merge with conflicts is aborted. Returns the merge commit.
std::string merge_locally(const git::Repository& repo, const model::ModelContext& context,
                          const model::Settings& settings, std::vector<std::string>& recovered);

// Once an unrecorded merge of this model is recorded: git's concluded merge state (MERGE_HEAD
// naming that merge's second parent) and this model's record go from the base's worktree.
void forget_finished_merge(const git::Repository& repo, const model::ModelContext& context);

}  // namespace gm::finish
