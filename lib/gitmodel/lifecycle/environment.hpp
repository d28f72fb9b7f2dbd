#pragma once
// Where the lifecycle commands meet the model environments of `git model env`:
// status shows a model's container, prune removes it with the branch.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::lifecycle {

// A model environment's state as `git model status` shows it.
struct EnvironmentState {
    std::string state;   // e.g. "running", "stopped", "absent"
    std::string detail;  // e.g. the container name and image
};

// The state of a model's environment (its container), for `git model status`.
std::optional<EnvironmentState> environment_state(const git::Repository& repo, const std::string& model,
                                                  const std::optional<std::filesystem::path>& worktree);

// What removing a model's environment takes, one line per action, for `prune --dry-run`.
std::vector<std::string> planned_environment_removal(const git::Repository& repo, const std::string& model);

// Removes a model's environment (its container) and gives back its GPUs; throws
// gm::Error when that fails, so that prune keeps the branch.
void remove_environment(const git::Repository& repo, const std::string& model);

}  // namespace gm::lifecycle
