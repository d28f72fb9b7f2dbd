#include "gitmodel/sweep/listing.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/store.hpp"

#include <fmt/core.h>

#include <set>

namespace gm::sweep {

std::string SweepGroup::summary() const {
    std::vector<std::string> counts;
    for (const char* state : {"queued", "running", "done", "failed", "cancelled"})
        if (auto it = states.find(state); it != states.end() && it->second > 0)
            counts.push_back(fmt::format("{} {}", it->second, state));
    return fmt::format("{} run{}{}", runs, runs == 1 ? "" : "s", counts.empty() ? "" : " (" + join(counts, ", ") + ")");
}

std::vector<SweepGroup> group_sweeps(const git::Repository& repo, const std::vector<model::ModelEntry>& models) {
    std::set<std::string> names;
    for (const auto& model : models) names.insert(model.name);
    std::vector<SweepGroup> groups;
    for (const auto& sweep : load_readable(repo.common_dir())) {
        SweepGroup group;
        group.id = sweep.id;
        group.model = sweep.model;
        group.runs = sweep.runs.size();
        for (const auto& run : sweep.runs)
            if (names.count(run.model)) group.listed.push_back(run.model);
        if (group.listed.empty()) continue;
        // A local sweep's view corrects a dead scheduler's runs; a Slurm one would ask Slurm: its records do.
        if (sweep.backend == Backend::local) {
            for (const auto& run : view_sweep(sweep).runs) ++group.states[to_string(run.state)];
        } else {
            for (const auto& run : sweep.runs) ++group.states[to_string(load_run(sweep, run.number).state)];
        }
        groups.push_back(std::move(group));
    }
    return groups;
}

std::optional<std::pair<std::string, int>> run_of(const std::vector<SweepGroup>& groups, const std::string& model) {
    for (const auto& group : groups)
        for (std::size_t i = 0; i < group.listed.size(); ++i)
            if (group.listed[i] == model) {
                const auto dash = model.rfind('-');
                return std::make_pair(group.id, std::stoi(model.substr(dash + 1)));
            }
    return std::nullopt;
}

nlohmann::json list_json(const std::vector<model::ModelEntry>& models, const std::vector<SweepGroup>& groups) {
    auto document = model::to_json(models);
    for (auto& row : document["models"]) {
        const auto run = run_of(groups, row["name"].get<std::string>());
        row["sweep"] = run ? nlohmann::json{{"id", run->first}, {"run", run->second}} : nlohmann::json(nullptr);
    }
    document["sweeps"] = nlohmann::json::array();
    for (const auto& group : groups)
        document["sweeps"].push_back(
            {{"id", group.id}, {"model", group.model}, {"runs", group.runs}, {"states", group.states}, {"listed", group.listed}});
    return document;
}

}  // namespace gm::sweep
