#pragma once
// Where the lifecycle commands meet the model environments of `git model env`:
// status shows a model's container, prune removes it with the branch.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/env/environment.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/snapshot.hpp"

namespace gm::snapshots {

// A model environment's state as `git model status` shows it.
struct EnvironmentState {
    std::string state;   // e.g. "running", "stopped", "absent"
    std::string detail;  // e.g. the container name and image
    std::vector<std::string> drift;  // how .modelenv.yaml at the branch tip differs from what the container runs
};

// The state of a model's environment (its container), for `git model status`.
std::optional<EnvironmentState> environment_state(const git::Repository& repo, const std::string& model,
                                                  const std::optional<std::filesystem::path>& worktree);

// The image the newest snapshot of a model that pinned `reference` ran (its Model-Image-Id),
// for env up's image drift check; nullopt when no snapshot recorded one.
std::optional<env::SnapshotImage> image_ran_by_snapshots(const git::Repository& repo, const std::string& model,
                                                         const std::string& reference);

// The image (reference, id) a model's environment last ran (from `env up`'s record), for the
// snapshot `git model tag` writes; nullopt when it never ran or the engine could not say.
std::optional<std::pair<std::string, std::string>> image_last_run(const git::Repository& repo, const std::string& model);

// The GPUs a model's environment runs on (its leases), else last ran on (its last `env up`), with
// each GPU's last bench figures from the results the bench keeps (git-model-bench(1)), for the
// Model-GPU lines of `git model tag`; empty when none is known. Problems go to warnings.
std::vector<SnapshotGpu> hardware_last_run(const git::Repository& repo, const std::string& model,
                                           std::vector<std::string>& warnings);

// What removing a model's environment takes, one line per action, for `prune --dry-run`; throws
// gm::Error, naming why, when a container of its name is not one git model made for it here.
std::vector<std::string> planned_environment_removal(const git::Repository& repo, const std::string& model);

// Removes a model's environment (its container) and gives back its GPUs, by env down's rules
// (waits for an up of it in progress, never removes a container of its name that git model did
// not make for it here, also finds one started before the repository moved); throws gm::Error
// when that fails or is refused, so that prune keeps the model. Returns what it did, for prune's report.
std::vector<std::string> remove_environment(const git::Repository& repo, const std::string& model);

}  // namespace gm::snapshots
