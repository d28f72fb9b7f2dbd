#pragma once
// `git model start`: a model's branch and its worktree, created all or nothing.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// What the user asked for.
struct StartRequest {
    std::string model;                // validated model name
    std::optional<std::string> base;  // --base; model.baseBranch when empty
    bool in_place = false;            // --no-worktree: switch the current worktree instead
};

// What was created, for the command to report.
struct StartResult {
    std::string branch;
    std::string base;         // the base as the user named it
    std::string base_commit;  // the commit the branch starts at
    std::optional<std::filesystem::path> worktree;  // empty for --no-worktree
};

// Creates the model, taking turns with other commands of the repository (the
// worktrees lock). On any failure, including an interrupting signal, nothing it
// created is left behind and gm::Error says why. `note` hears, as they happen,
// what earlier interrupted starts left: what was rolled back, what was kept.
StartResult start_model(git::Repository& repo, const StartRequest& request,
                        const std::function<void(const std::string&)>& note = {});

}  // namespace gm::model
