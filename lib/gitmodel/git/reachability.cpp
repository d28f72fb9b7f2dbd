#include "gitmodel/git/reachability.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/handle.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <map>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

using RevwalkHandle = Handle<git_revwalk, git_revwalk_free>;
using TreeHandle = Handle<git_tree, git_tree_free>;
using DiffHandle = Handle<git_diff, git_diff_free>;
using IndexHandle = Handle<git_index, git_index_free>;

bool to_oid(git_oid& oid, const std::string& hex) {
    return hex.size() == GIT_OID_HEXSZ && git_oid_fromstr(&oid, hex.c_str()) == 0;
}

CommitHandle lookup_commit(git_repository* repo, const git_oid& oid) {
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo, &oid) != 0) {
        git_error_clear();
        return CommitHandle(nullptr);
    }
    return CommitHandle(raw);
}

TreeHandle tree_of(git_commit* commit) {
    git_tree* raw = nullptr;
    if (!commit || git_commit_tree(&raw, commit) != 0) {
        git_error_clear();
        return TreeHandle(nullptr);
    }
    return TreeHandle(raw);
}

// The patch-id of the change between two trees (nullopt when it cannot be computed or is empty).
std::optional<std::string> patch_id(git_repository* repo, git_tree* from, git_tree* to) {
    git_diff* raw = nullptr;
    if (git_diff_tree_to_tree(&raw, repo, from, to, nullptr) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    DiffHandle diff(raw);
    if (git_diff_num_deltas(raw) == 0) return std::nullopt;
    git_oid id;
    if (git_diff_patchid(&id, raw, nullptr) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    return to_hex(id);
}

// The patch-id of a non-merge commit against its parent.
std::optional<std::string> commit_patch_id(git_repository* repo, git_commit* commit) {
    if (git_commit_parentcount(commit) != 1) return std::nullopt;
    git_commit* parent = nullptr;
    if (git_commit_parent(&parent, commit, 0) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    CommitHandle parent_owner(parent);
    return patch_id(repo, tree_of(parent).get(), tree_of(commit).get());
}

// Commits reachable from tip and not from hide, newest first, at most limit.
std::vector<git_oid> walk(git_repository* repo, const git_oid& tip, const git_oid& hide, std::size_t limit) {
    std::vector<git_oid> out;
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo), "cannot walk the history");
    RevwalkHandle walker(raw);
    git_revwalk_sorting(raw, GIT_SORT_TOPOLOGICAL);
    check(git_revwalk_push(raw, &tip), "cannot walk the history");
    check(git_revwalk_hide(raw, &hide), "cannot walk the history");
    git_oid oid;
    while (out.size() < limit && git_revwalk_next(&oid, raw) == 0) out.push_back(oid);
    git_error_clear();
    return out;
}

// Whether merging `head` into `base` (merge base `mb`) would change nothing in base's tree.
bool merge_changes_nothing(git_repository* repo, git_tree* mb, git_commit* base, git_tree* head) {
    const TreeHandle base_tree = tree_of(base);
    if (!base_tree) return false;
    git_index* raw = nullptr;
    if (git_merge_trees(&raw, repo, mb, base_tree.get(), head, nullptr) != 0) {
        git_error_clear();
        return false;
    }
    IndexHandle index(raw);
    if (git_index_has_conflicts(raw)) return false;
    git_diff* diff_raw = nullptr;  // compared without writing the merged tree into the object store
    if (git_diff_tree_to_index(&diff_raw, repo, base_tree.get(), raw, nullptr) != 0) {
        git_error_clear();
        return false;
    }
    DiffHandle diff(diff_raw);
    return git_diff_num_deltas(diff_raw) == 0;
}

}  // namespace

std::vector<WorktreeRef> worktree_private_refs(const Repository& repo, const std::string& worktree_id) {
    std::vector<WorktreeRef> refs;
    const fs::path admin = repo.common_dir() / "worktrees" / worktree_id;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(admin / "refs", ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::ifstream file(it->path());
        std::string line;
        if (!std::getline(file, line) || line.size() < GIT_OID_HEXSZ) continue;  // symbolic or unreadable
        git_oid oid;
        if (git_oid_fromstrn(&oid, line.data(), GIT_OID_HEXSZ) != 0) {
            git_error_clear();
            continue;
        }
        refs.push_back({"refs/" + it->path().lexically_relative(admin / "refs").generic_string(), to_hex(oid)});
    }
    return refs;
}

std::optional<std::string> staged_in_worktree_record(const Repository& repo, const std::string& worktree_id,
                                                     const std::string& commit) {
    const fs::path index_file = repo.common_dir() / "worktrees" / worktree_id / "index";
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(index_file, ec))) return std::nullopt;  // nothing was ever staged there
    git_oid oid;
    if (!to_oid(oid, commit)) return "its commit cannot be read";
    const CommitHandle head = lookup_commit(repo.raw(), oid);
    const TreeHandle tree = head ? tree_of(head.get()) : TreeHandle(nullptr);
    git_index* raw = nullptr;
    if (!tree || git_index_open(&raw, index_file.c_str()) != 0) {
        git_error_clear();
        return fmt::format("its index {} cannot be read", index_file.string());
    }
    IndexHandle index(raw);
    git_diff_options options = GIT_DIFF_OPTIONS_INIT;
    options.flags = GIT_DIFF_IGNORE_SUBMODULES;
    git_diff* diff_raw = nullptr;
    if (git_diff_tree_to_index(&diff_raw, repo.raw(), tree.get(), raw, &options) != 0) {
        git_error_clear();
        return fmt::format("its index {} cannot be read", index_file.string());
    }
    const DiffHandle diff(diff_raw);
    const std::size_t count = git_diff_num_deltas(diff_raw);
    if (count == 0) return std::nullopt;
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < count && i < 3; ++i) {
        const git_diff_delta* delta = git_diff_get_delta(diff_raw, i);
        paths.push_back(delta->new_file.path ? delta->new_file.path : delta->old_file.path);
    }
    return fmt::format("{} staged change{} ({}{})", count, count == 1 ? "" : "s", join(paths, ", "),
                       count > paths.size() ? ", ..." : "");
}

bool held_only_by(const Repository& repo, const std::string& object, const std::vector<std::string>& leaving,
                  const std::vector<std::string>& kept) {
    git_oid oid;
    if (!to_oid(oid, object)) return true;
    git_object* peeled_raw = nullptr;
    git_object* raw = nullptr;
    if (git_object_lookup(&raw, repo.raw(), &oid, GIT_OBJECT_ANY) != 0) {
        git_error_clear();
        return false;  // nothing there to lose
    }
    ObjectHandle owner(raw);
    if (git_object_peel(&peeled_raw, raw, GIT_OBJECT_COMMIT) != 0) {
        git_error_clear();
        return true;  // a blob or tree held by a ref: only an archive keeps it
    }
    ObjectHandle peeled(peeled_raw);
    git_revwalk* walk_raw = nullptr;
    check(git_revwalk_new(&walk_raw, repo.raw()), "cannot walk the history");
    RevwalkHandle walker(walk_raw);
    check(git_revwalk_push(walk_raw, git_object_id(peeled_raw)), "cannot walk the history");
    // Everything that stays: every ref but those leaving, the worktrees' HEADs, and the archived commits.
    git_reference_iterator* iterator_raw = nullptr;
    check(git_reference_iterator_new(&iterator_raw, repo.raw()), "cannot list refs");
    IteratorHandle iterator(iterator_raw);
    git_reference* ref_raw = nullptr;
    while (git_reference_next(&ref_raw, iterator_raw) == 0) {
        ReferenceHandle ref(ref_raw);
        const std::string name = git_reference_name(ref_raw);
        if (std::find(leaving.begin(), leaving.end(), name) != leaving.end()) continue;
        git_object* target = nullptr;
        if (git_reference_peel(&target, ref_raw, GIT_OBJECT_COMMIT) != 0) {
            git_error_clear();
            continue;
        }
        ObjectHandle target_owner(target);
        git_revwalk_hide(walk_raw, git_object_id(target));
    }
    git_error_clear();
    std::vector<fs::path> heads{repo.common_dir() / "HEAD"};  // a detached HEAD holds its commit too
    for (const auto& worktree : repo.linked_worktrees())
        heads.push_back(repo.common_dir() / "worktrees" / worktree.id / "HEAD");
    for (const auto& head_file : heads) {
        std::ifstream head(head_file);
        std::string line;
        git_oid head_oid;
        if (std::getline(head, line) && line.size() >= GIT_OID_HEXSZ &&
            git_oid_fromstrn(&head_oid, line.data(), GIT_OID_HEXSZ) == 0)
            git_revwalk_hide(walk_raw, &head_oid);
        git_error_clear();
    }
    for (const auto& commit : kept) {
        git_oid kept_oid;
        if (to_oid(kept_oid, commit)) git_revwalk_hide(walk_raw, &kept_oid);
    }
    git_oid next;
    const bool lost = git_revwalk_next(&next, walk_raw) == 0;
    git_error_clear();
    return lost;
}

std::optional<EquivalentMerge> find_equivalent_merge(const Repository& repo, const std::string& head,
                                                     const std::string& base_tip,
                                                     const std::vector<std::string>& chain, std::size_t limit) {
    git_repository* raw_repo = repo.raw();
    git_oid head_oid, tip_oid, mb_oid;
    if (!to_oid(head_oid, head) || !to_oid(tip_oid, base_tip)) return std::nullopt;
    if (git_merge_base(&mb_oid, raw_repo, &head_oid, &tip_oid) != 0) {
        git_error_clear();
        return std::nullopt;  // unrelated histories
    }
    if (git_oid_equal(&mb_oid, &head_oid)) return std::nullopt;  // in the base already: a plain merge
    const auto head_commit = lookup_commit(raw_repo, head_oid);
    const auto mb_commit = lookup_commit(raw_repo, mb_oid);
    const TreeHandle head_tree = tree_of(head_commit.get());
    const TreeHandle mb_tree = tree_of(mb_commit.get());
    if (!head_tree || !mb_tree || git_oid_equal(git_tree_id(head_tree.get()), git_tree_id(mb_tree.get())))
        return std::nullopt;  // the branch changes nothing: there is nothing to find
    const std::string mb = to_hex(mb_oid);
    const auto base_commits = walk(raw_repo, tip_oid, mb_oid, limit);

    // 1. A base commit with the branch head's tree: a squash of it (GitLab squashes onto the merge base).
    for (const auto& oid : base_commits) {
        const auto commit = lookup_commit(raw_repo, oid);
        if (commit && git_oid_equal(git_commit_tree_id(commit.get()), git_tree_id(head_tree.get()))) {
            const std::string id = to_hex(oid);
            return EquivalentMerge{EquivalentMerge::Kind::squash, id,
                                   fmt::format("squash: {} has the same tree as the branch's head", short_id(id))};
        }
    }
    // 2. Patch-ids: the branch's whole change as one base commit (squash), or each of its commits (rebase).
    // patch-id -> the newest base commit with it and its rank (0: the tip)
    std::map<std::string, std::pair<std::string, std::size_t>> base_by_patch;
    for (std::size_t rank = base_commits.size(); rank-- > 0;) {
        const auto commit = lookup_commit(raw_repo, base_commits[rank]);
        if (!commit) continue;
        if (auto id = commit_patch_id(raw_repo, commit.get()))
            base_by_patch[*id] = {to_hex(base_commits[rank]), rank};
    }
    if (const auto whole = patch_id(raw_repo, mb_tree.get(), head_tree.get())) {
        if (auto found = base_by_patch.find(*whole); found != base_by_patch.end()) {
            return EquivalentMerge{EquivalentMerge::Kind::squash, found->second.first,
                                   fmt::format("squash: {} has the patch-id of the branch's whole diff since {}",
                                               short_id(found->second.first), short_id(mb))};
        }
    }
    const auto branch_commits = walk(raw_repo, head_oid, mb_oid, limit);
    std::size_t matched = 0, own = 0;
    std::string newest;  // the base commit that landed last among the matches
    std::size_t newest_rank = base_commits.size();
    for (const auto& oid : branch_commits) {
        const auto commit = lookup_commit(raw_repo, oid);
        if (!commit || git_commit_parentcount(commit.get()) != 1) continue;
        const auto id = commit_patch_id(raw_repo, commit.get());
        if (!id) continue;  // an empty commit carries no change
        ++own;
        const auto found = base_by_patch.find(*id);
        if (found == base_by_patch.end()) break;
        ++matched;
        if (found->second.second < newest_rank) {
            newest_rank = found->second.second;
            newest = found->second.first;
        }
    }
    if (own > 0 && matched == own) {
        return EquivalentMerge{EquivalentMerge::Kind::rebase, newest,
                               fmt::format("rebase: each of its {} commit{} has the patch-id of a commit in the base "
                                           "(newest {})",
                                           own, own == 1 ? "" : "s", short_id(newest))};
    }
    // 3. A three-way merge into the base changes nothing: find the first base commit (first-parent
    //    line, oldest first after the merge base) from which that holds, by bisection.
    const auto tip_commit = lookup_commit(raw_repo, tip_oid);
    if (!merge_changes_nothing(raw_repo, mb_tree.get(), tip_commit.get(), head_tree.get())) return std::nullopt;
    std::size_t end = 0;  // chain[0] is the tip; find the deepest index (oldest) where it still holds
    while (end < chain.size() && end < limit && chain[end] != mb) ++end;
    std::size_t low = 0, high = end == 0 ? 0 : end - 1;
    while (low < high) {
        const std::size_t mid = low + (high - low + 1) / 2;
        git_oid oid;
        const auto commit = to_oid(oid, chain[mid]) ? lookup_commit(raw_repo, oid) : CommitHandle(nullptr);
        if (commit && merge_changes_nothing(raw_repo, mb_tree.get(), commit.get(), head_tree.get())) low = mid;
        else high = mid - 1;
    }
    const std::string landed = chain.empty() ? base_tip : chain[low];
    return EquivalentMerge{EquivalentMerge::Kind::squash, landed,
                           fmt::format("squash: merging it into {} would change nothing (true since {})",
                                       short_id(base_tip), short_id(landed))};
}

}  // namespace gm::git
