#pragma once
// `git model status`: everything about the worktree you are in that decides
// what to do next: which model, how far from its base and its remote, dirty or
// not, its latest snapshot, whether it was finished, its environment, the hooks.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/hooks/install.hpp"
#include "gitmodel/snapshots/environment.hpp"
#include "gitmodel/finish/finish_record.hpp"
#include "gitmodel/snapshots/snapshot.hpp"

namespace gm::status {

// The branch as the remote last saw it (its remote-tracking ref).
struct RemoteState {
    std::string remote;                 // model.remote
    bool configured = false;            // the remote exists
    std::optional<std::string> tracking;  // "origin/feature/model-x" when it has been pushed or fetched
    std::optional<std::size_t> ahead;   // commits not pushed yet
    std::optional<std::size_t> behind;  // commits on the remote not here
};

// The state of the current worktree, as `status` reports it.
struct StatusReport {
    std::filesystem::path worktree;
    bool main_worktree = true;
    std::optional<std::string> branch;   // nullopt on a detached HEAD
    std::optional<std::string> model;    // nullopt when the branch is not a model branch
    std::optional<std::string> head;
    std::string base;
    bool base_exists = false;
    std::optional<std::size_t> ahead;    // relative to the base
    std::optional<std::size_t> behind;
    bool dirty = false;
    RemoteState remote;
    std::optional<snapshots::Snapshot> latest_snapshot;
    std::size_t snapshot_count = 0;
    std::optional<finish::FinishRecord> finished;        // the finish record on the head
    std::optional<snapshots::EnvironmentState> environment;  // the model's container, when it can be asked
    std::vector<hooks::HookStatus> hooks;
    bool hooks_installed = false;                // every managed hook is ours and current
};

// Reads the status of the worktree the repository was opened from; throws gm::Error in a bare repository.
StatusReport read_status(const git::Repository& repo);

// `git model status --json` (git-model(1), JSON OUTPUT).
nlohmann::json to_json(const StatusReport& report);

}  // namespace gm::status
