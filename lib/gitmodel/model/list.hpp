#pragma once
// `git model list`: every model of a repository with the state a user checks
// before switching experiments (where it lives, how far it is from its base, dirty or not).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// Where a model's files are checked out.
enum class WorktreeState {
    none,     // branch only: not checked out anywhere
    present,  // a worktree (linked, or the main one) has it checked out
    missing,  // a linked worktree is registered but its folder has vanished
    locked,   // a linked worktree is locked (`git worktree lock`, or git still creating it)
    foreign,  // its folder holds another checkout (a link to another worktree, a copy): not read
};

// One row of `git model list`.
struct ModelEntry {
    std::string name;
    std::string branch;
    std::string base;                 // branch.<b>.modelBase, else model.baseBranch
    std::string head;                 // tip commit id
    std::int64_t last_commit_time = 0;
    std::optional<std::filesystem::path> worktree;
    WorktreeState worktree_state = WorktreeState::none;
    bool is_main_worktree = false;    // checked out in the main worktree (a --no-worktree model)
    std::optional<std::size_t> ahead;   // unknown when the base is gone
    std::optional<std::size_t> behind;
    std::optional<bool> dirty;        // unknown when there is no worktree to look at
};

// Collects every model of the repository, sorted by name. Changes nothing: a
// listing must never remove anything, not even what an interrupted start left.
std::vector<ModelEntry> list_models(const git::Repository& repo);

// A line per interrupted start (its process gone, its record still there), for
// list to print on stderr; rolling back is left to `git model start`.
std::vector<std::string> interrupted_start_notes(const git::Repository& repo);

// The documented, stable --json shape (see git-model(1), "JSON OUTPUT").
nlohmann::json to_json(const std::vector<ModelEntry>& models);

// The word for a worktree state, shared by the table and the JSON.
const char* to_string(WorktreeState state);

}  // namespace gm::model
