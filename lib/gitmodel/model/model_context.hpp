#pragma once
// Which model a command is about (named, or the one of the worktree you are
// in) and where its branch is checked out: the facts every lifecycle command starts from.

#include <filesystem>
#include <optional>
#include <string>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/lookup.hpp"  // Checkout, worktree_of, resolve_model_name: the model layer's lookups

namespace gm::model {

// A model and its branch as they are now.
struct ModelContext {
    std::string name;
    std::string branch;
    std::optional<std::string> head;  // nullopt when the branch no longer exists (pruned)
    std::string base;                 // branch.<b>.modelBase, else model.baseBranch
    std::optional<model::Checkout> checkout;
};

// Reads a model's branch, base and checkout.
ModelContext read_model(const git::Repository& repo, const std::string& name);

// Like read_model, but throws gm::Error when the model's branch does not exist, or when its
// worktree is another user's folder (require_trusted_checkout): the callers (tag, finish) read it.
ModelContext require_model(const git::Repository& repo, const std::string& name);

}  // namespace gm::model
