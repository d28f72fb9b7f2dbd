#pragma once
// `git model list`'s view of sweeps: a sweep's runs are models (<model>.sweep-<id>-<k>), which
// would bury the models people started among dozens of run rows. The list shows one line per
// sweep under its model instead (`--all` shows every run), and its JSON keeps every run's row,
// marking it with its sweep, and adds the sweeps themselves.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/list.hpp"

namespace gm::sweep {

// One recorded sweep as list shows it.
struct SweepGroup {
    std::string id;
    std::string model;                       // the model it sweeps
    std::size_t runs = 0;                    // every run of its record
    std::map<std::string, std::size_t> states;  // "done" -> 6, "failed" -> 2 (local: as status corrects them)
    std::vector<std::string> listed;         // its run models that have a branch (list rows), in run order
    // "8 runs (6 done, 2 failed)".
    std::string summary() const;
};

// The sweeps with at least one run branch, oldest first (unreadable records are skipped).
std::vector<SweepGroup> group_sweeps(const git::Repository& repo, const std::vector<model::ModelEntry>& models);

// The sweep and run number a model is a run of (from the groups), if it is one.
std::optional<std::pair<std::string, int>> run_of(const std::vector<SweepGroup>& groups, const std::string& model);

// list --json with the sweeps: every model row gains "sweep": {"id", "run"} (null for a model that
// is no run), and the document gains "sweeps": [{"id", "model", "runs", "states", "listed"}].
nlohmann::json list_json(const std::vector<model::ModelEntry>& models, const std::vector<SweepGroup>& groups);

}  // namespace gm::sweep
