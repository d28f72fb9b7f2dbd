#pragma once
// Commits written without a worktree: a sweep records each run's parameters
// as a commit on top of the model's branch before git checks the run out, so
// that a 100-run sweep costs one git process per run (the checkout), not three.

#include <string>
#include <string_view>

#include "gitmodel/git/repository.hpp"

namespace gm::git {

// Who a new commit is by, as git decides it: GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL
// (GIT_COMMITTER_* for the committer) from the environment, else user.name and
// user.email. Throws gm::Error with git's advice when no identity is set.
struct CommitIdentity {
    std::string author_name, author_email;
    std::string committer_name, committer_email;
};
CommitIdentity commit_identity(const Repository& repo);

// Writes a commit whose tree is parent's tree with one file at its root set to
// `content` (added, or replaced), with parent as its only parent. Moves no ref;
// returns the new commit's id.
std::string commit_with_file(const Repository& repo, const CommitIdentity& identity, std::string_view parent,
                             std::string_view file_name, std::string_view content, std::string_view message);

}  // namespace gm::git
