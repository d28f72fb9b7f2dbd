#pragma once
// Which model a command is about (named, or the one of the worktree you are
// in) and where its branch is checked out: the facts every lifecycle command starts from.

#include <filesystem>
#include <optional>
#include <string>

#include "gitmodel/git/repository.hpp"

namespace gm::lifecycle {

// Where a branch is checked out.
struct Checkout {
    std::filesystem::path path;
    bool main_worktree = false;  // the main worktree (not a linked one)
    bool missing = false;        // a linked worktree whose folder has vanished
    bool locked = false;         // `git worktree lock`
};

// The worktree that has a branch checked out, if any (linked ones first, then the main one).
std::optional<Checkout> find_checkout(const git::Repository& repo, const std::string& branch);

// A model and its branch as they are now.
struct ModelContext {
    std::string name;
    std::string branch;
    std::optional<std::string> head;  // nullopt when the branch no longer exists (pruned)
    std::string base;                 // branch.<b>.modelBase, else model.baseBranch
    std::optional<Checkout> checkout;
};

// The model whose branch the current worktree is on, if it is on one.
std::optional<std::string> current_model(const git::Repository& repo);

// The model a command means: the argument (validated; gm::UsageError when
// invalid), else the current worktree's (gm::UsageError when not on a model branch).
std::string resolve_model_name(const git::Repository& repo, const std::optional<std::string>& argument);

// Reads a model's branch, base and checkout.
ModelContext read_model(const git::Repository& repo, const std::string& name);

// Like read_model, but throws gm::Error when the model's branch does not exist.
ModelContext require_model(const git::Repository& repo, const std::string& name);

}  // namespace gm::lifecycle
