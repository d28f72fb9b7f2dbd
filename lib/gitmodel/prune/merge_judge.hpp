#pragma once
// Whether and when a model branch was merged into its base, for prune: by a merge commit on
// the base's first-parent line, by a fast-forward that a finish record dates, or by a squash or
// rebase whose changes are in the base without its commits. One judge serves the local branches
// (judged against the local base and its remote-tracking ref) and the remote's own branches
// (judged against the remote's base as just fetched), so both sides follow one rule.

#include <map>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/prune/prune_plan.hpp"

namespace gm::prune {

// Judges merges, keeping each base tip's first-parent line for every branch asked about.
class MergeJudge {
public:
    // notes_refs: where finish records are read, first found wins (ours, then the remote's).
    MergeJudge(const git::Repository& repo, std::vector<std::string> notes_refs);

    // Fills base_exists, in_base, merged_by, merged_at, merge_commit and merge_evidence of a
    // fact whose head is set, from the tips where its base is (empty: the base does not exist).
    void judge(PruneFacts& fact, const std::vector<std::string>& base_tips);

private:
    const std::vector<std::string>& chain_of(const std::string& tip);

    const git::Repository& repo_;
    std::vector<std::string> notes_refs_;
    std::map<std::string, std::vector<std::string>> chains_;  // tip -> first-parent line
};

}  // namespace gm::prune
