#pragma once
// What a worktree holds beyond its commit and where a branch began: the facts behind a
// snapshot's dirty flag and prune's "no commits of its own".

#include <optional>
#include <string>
#include <string_view>

#include "gitmodel/git/repository.hpp"

namespace gm::git {

// A hash of what a worktree holds beyond HEAD (each changed, deleted or untracked, not ignored
// path with its content as it is on disk; submodules left out), so that a snapshot can say which
// uncommitted state it was taken from: equal hashes, equal states.
std::string uncommitted_changes_hash(const Repository& worktree);

// The commit refs/heads/<name> was created at, from the oldest entry of its reflog; nullopt
// when it has no reflog (disabled, expired), so that "no commits of its own" is only said when known.
std::optional<std::string> branch_created_at(const Repository& repo, std::string_view name);

}  // namespace gm::git
