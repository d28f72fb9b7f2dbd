#pragma once
// A worktree git-model creates (a model's, a sweep run's) and the rule for
// taking it back: git checks it out locked with a reason that names the
// creating process, so that nobody mistakes it for finished, and a rollback
// removes it only when it can prove nobody has touched it since.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// The lock reason a worktree carries while `who` (pid) creates it: "git-model start: being created (pid 123)".
std::string creation_lock_reason(std::string_view who, long pid);
// Whether a lock reason is one git-model wrote while creating a worktree (not the user's own lock).
bool is_creation_lock(std::string_view reason);

// Makes the folders a new worktree's folder goes into (model.worktreeRoot, feature/, ...) where
// they are missing, each 0755 whatever the umask (a group- or world-writable one would let
// others rename what it holds, and the place check would then refuse it). Throws gm::Error
// naming the folder that cannot be made.
void make_worktree_parents(const std::filesystem::path& parent);

// Makes the new worktree's own folder (its parents exist) just before `git worktree add` fills
// it, so that nobody else can make it first: git takes an existing empty folder as it is, and
// another user's (planted in a shared folder between the checks and the add) would hold the
// model's files. One that exists already must be this user's, a real folder, and empty.
// Throws gm::Error naming the folder (and its owner) otherwise.
void claim_worktree_folder(const std::filesystem::path& path);

// The arguments of `git worktree add` (for git::run_git) for a new worktree, locked with the
// creation reason until release_creation_lock.
std::vector<std::string> worktree_add_args(const std::filesystem::path& path, const std::string& branch,
                                           const std::string& reason);
// Removes the creation lock once the checkout is complete (only that lock: a user's stays).
// Throws gm::Error when the lock cannot be removed.
void release_creation_lock(const std::filesystem::path& path, const std::string& reason);

// Why a created worktree cannot be taken back; empty when it is exactly what the checkout wrote.
struct TouchedWorktree {
    std::vector<std::string> found;  // what makes it someone's: a lock, new files, changes, commits
    bool busy = false;               // git may still be writing it (its index.lock is there): try later
};

// Judges a registered worktree created for `branch` at `commit`: no lock but the
// creation lock, HEAD still there, and the folder holding exactly (or, for a
// checkout cut short, part of) what the checkout wrote.
TouchedWorktree judge_created_worktree(const git::Repository& repo, const git::WorktreeInfo& worktree,
                                       const std::string& branch, const std::string& commit);

// Removes a worktree that judge_created_worktree found untouched: its folder and its registration.
void remove_created_worktree(const git::Repository& repo, const git::WorktreeInfo& worktree);

// Admin folders (<common dir>/worktrees/<id>) that a `git worktree add` killed
// before it wrote their gitdir left behind with the creation lock of `pid`:
// they make every later `git worktree add` fail. Removes them; returns how many.
std::size_t remove_unregistered_admin_dirs(const git::Repository& repo, long pid);

}  // namespace gm::model
