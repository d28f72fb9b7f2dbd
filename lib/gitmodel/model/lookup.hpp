#pragma once
// Finding one model without listing them all: which model a command means (named,
// or the one of the worktree you are in), the one check of a model name every
// command makes, and where a branch is checked out. Read-only and cheap: no
// ahead/behind, no status scan, no rollback (that is `list_models` and `start`).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// Where a branch is checked out.
struct Checkout {
    std::filesystem::path path;
    bool main_worktree = false;  // the main worktree (not a linked one)
    bool missing = false;        // a linked worktree whose folder has vanished
    bool locked = false;         // `git worktree lock` (or git still creating it)
    std::string record_id;       // a linked one's record, <common dir>/worktrees/<id>
    // A rebase or bisect in progress there that holds the branch (HEAD is detached meanwhile):
    // what writes to the branch must wait until it ends.
    std::optional<git::BranchOperation> operation;
};

// The worktree that has a branch checked out, if any: the linked ones first, then the
// main one (a bare repository has none). The one branch -> worktree lookup of the suite.
std::optional<Checkout> worktree_of(const git::Repository& repo, const std::string& branch);

// Why a linked worktree's folder found from git's records is not to be used, in words ("belongs to
// bob, not to you nor to ..."): a folder or link of a user who is neither the caller nor the owner of
// the repository whose common dir is given, or not a folder; nullopt when it may be used. The one
// ownership rule for model worktrees (require_trusted_checkout) and sweep run worktrees.
std::optional<std::string> untrusted_folder_problem(const std::filesystem::path& common_dir,
                                                    const std::filesystem::path& folder);

// Why a linked worktree's folder is not this repository's worktree, in words ("is not a worktree of
// this repository: its .git file points to /a/.git/worktrees/x, ..."), or nullopt when its .git
// file points back into common_dir's worktrees, to the record `record_id` names where the caller
// knows it (git's <common dir>/worktrees/<id>), else to a record of this very folder. A repository
// copied with `cp -a` keeps git's records of the original's worktree folders (their absolute
// paths), whose .git files point to the original; a folder replaced by a link to another worktree
// (or one of its parents by a link) names that worktree's record: nothing of them is read or removed.
std::optional<std::string> foreign_worktree_problem(const std::filesystem::path& common_dir,
                                                    const std::filesystem::path& folder,
                                                    const std::optional<std::string>& record_id = std::nullopt);

// Throws gm::Error, naming the owner, when a model's linked worktree is a folder or link of a user
// who is neither the caller nor the repository's owner: in a shared model.worktreeRoot, once a
// worktree's folder is gone another user can put one of theirs at its path with a .git file
// pointing back, and what the suite reads there (.modelenv.yaml, the dirty state a snapshot
// records) or writes there (params, logs, commits) would be theirs. The main worktree and a
// missing folder pass (nothing is read from those). Checked by every command that opens a
// model's worktree found from git's records: env, tag, finish, sweep start and promote.
void require_trusted_checkout(const git::Repository& repo, const std::string& model, const Checkout& checkout);

// Refuses a model name the suite's rules reject, with the rule it broke: gm::UsageError
// "invalid model name '<name>': it <rule>" (exit 2), the hint given (may be empty).
void require_model_name(std::string_view name, const std::string& hint);

// The model whose branch the current worktree is on, if it is on one.
std::optional<std::string> current_model(const git::Repository& repo);

// The model a command means: the argument (validated; gm::UsageError when
// invalid), else the current worktree's (gm::UsageError when not on a model branch).
std::string resolve_model_name(const git::Repository& repo, const std::optional<std::string>& argument);

}  // namespace gm::model
