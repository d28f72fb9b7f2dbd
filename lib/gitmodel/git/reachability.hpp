#pragma once
// What removing a model's branch and worktree would cost in history, for prune:
// the refs only a worktree holds (refs/worktree/*, refs/bisect/*, which vanish
// with it) and whether they hold commits nothing else keeps; and whether a
// branch whose commits are not in its base was merged anyway, by squash or rebase.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::git {

// A ref private to one linked worktree (stored in its admin folder).
struct WorktreeRef {
    std::string name;    // "refs/worktree/keep", "refs/bisect/bad"
    std::string target;  // the object it points at (hex)
};

// The refs a linked worktree keeps in <common dir>/worktrees/<id>/refs: they go when it is removed.
std::vector<WorktreeRef> worktree_private_refs(const Repository& repo, const std::string& worktree_id);

// What git's record of a linked worktree (its index in <common dir>/worktrees/<id>) holds
// beyond `commit`'s tree: its folder may have been moved by hand, and forgetting the record
// loses what was staged there. nullopt when the index is the commit's (or there is none);
// otherwise "N staged changes (a.txt, b.txt)", or why the index cannot be read (then it is
// not known to be safe to forget).
std::optional<std::string> staged_in_worktree_record(const Repository& repo, const std::string& worktree_id,
                                                     const std::string& commit);

// Whether an object would be held by nothing once `leaving` refs are gone: not
// reachable from any other ref of the repository (refs/*, HEADs of the
// worktrees) nor from `kept` (commits that an archive tag will hold).
bool held_only_by(const Repository& repo, const std::string& object, const std::vector<std::string>& leaving,
                  const std::vector<std::string>& kept);

// How a branch's changes reached a base without its commits.
struct EquivalentMerge {
    enum class Kind { squash, rebase };
    Kind kind = Kind::squash;
    std::string commit;    // the base's commit that carries the changes (rebase: the newest of them)
    std::string evidence;  // in words, for --dry-run: what was compared and what matched
};

// Looks for a branch's changes in the history of a base since their merge base
// (the branch must have commits of its own there): a base commit with the
// branch head's tree, or whose patch-id is the branch's whole diff (squash);
// every commit of the branch matched by patch-id (rebase); or a base where a
// three-way merge of the branch changes nothing (squash, with later work on
// top). `chain` is the base's first-parent line (first_parent_chain). At most
// `limit` base commits are examined; nullopt when no evidence is found.
std::optional<EquivalentMerge> find_equivalent_merge(const Repository& repo, const std::string& head,
                                                     const std::string& base_tip,
                                                     const std::vector<std::string>& chain, std::size_t limit = 5000);

}  // namespace gm::git
