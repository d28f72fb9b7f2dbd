#include "gitmodel/prune/merge_judge.hpp"

#include "gitmodel/git/history.hpp"
#include "gitmodel/git/reachability.hpp"
#include "gitmodel/finish/finish_record.hpp"

namespace gm::prune {

MergeJudge::MergeJudge(const git::Repository& repo, std::vector<std::string> notes_refs)
    : repo_(repo), notes_refs_(std::move(notes_refs)) {}

const std::vector<std::string>& MergeJudge::chain_of(const std::string& tip) {
    auto it = chains_.find(tip);
    if (it == chains_.end()) it = chains_.emplace(tip, git::first_parent_chain(repo_, tip)).first;
    return it->second;
}

void MergeJudge::judge(PruneFacts& fact, const std::vector<std::string>& tips) {
    fact.base_exists = !tips.empty();
    for (const auto& tip : tips) {
        const auto point = git::merge_point(repo_, chain_of(tip), fact.head);
        if (!point) continue;
        fact.in_base = true;
        if (point->id != fact.head && point->parent_count >= 2 &&
            (!fact.merged_at || point->commit_time < *fact.merged_at)) {
            fact.merged_by = MergedBy::merge_commit;
            fact.merged_at = point->commit_time;
            fact.merge_commit = point->id;
        }
    }
    if (fact.in_base && fact.merged_by == MergedBy::none) {
        // Fast-forwarded (or rebased onto) the base: only a finish record says when.
        if (const auto record = finish::read_finish_record(repo_, fact.head, fact.model, notes_refs_)) {
            fact.merged_by = MergedBy::finish_record;
            fact.merged_at = record->finished_at;
        }
    }
    if (fact.in_base) return;
    // Squash and rebase merges: the changes are in the base, the commits are not.
    for (const auto& tip : tips) {
        const auto found = git::find_equivalent_merge(repo_, fact.head, tip, chain_of(tip));
        if (!found) continue;
        const auto landed = git::merge_point(repo_, chain_of(tip), found->commit);
        if (!landed) continue;
        if (fact.merged_at && *fact.merged_at <= landed->commit_time) continue;
        fact.merged_by = found->kind == git::EquivalentMerge::Kind::squash ? MergedBy::squash : MergedBy::rebase;
        fact.merged_at = landed->commit_time;
        fact.merge_commit = found->commit;
        fact.merge_evidence = found->evidence;
    }
}

}  // namespace gm::prune
