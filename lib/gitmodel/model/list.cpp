#include "gitmodel/model/list.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/model/journal.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace gm::model {

namespace fs = std::filesystem;

const char* to_string(WorktreeState state) {
    switch (state) {
        case WorktreeState::none: return "none";
        case WorktreeState::present: return "present";
        case WorktreeState::missing: return "missing";
        case WorktreeState::locked: return "locked";
    }
    return "none";
}

namespace {

// Dirty checks dominate on repositories with many worktrees: spread them over the cores.
void fill_dirty_flags(const git::Repository& repo, std::vector<ModelEntry>& models) {
    std::vector<ModelEntry*> todo;
    for (auto& model : models)
        if (model.worktree && model.worktree_state == WorktreeState::present) todo.push_back(&model);
    const unsigned workers = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 8));
    std::atomic<std::size_t> next{0};
    const auto work = [&] {
        for (std::size_t i = next++; i < todo.size(); i = next++) {
            try {
                todo[i]->dirty = repo.open_worktree(*todo[i]->worktree).has_uncommitted_changes();
            } catch (const Error&) {
                todo[i]->dirty = std::nullopt;  // unreadable: say unknown rather than guess
            }
        }
    };
    if (todo.size() < 4 || workers == 1) {
        work();
        return;
    }
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < std::min<std::size_t>(workers, todo.size()); ++t) threads.emplace_back(work);
    for (auto& thread : threads) thread.join();
}

}  // namespace

std::vector<ModelEntry> list_models(git::Repository& repo) {
    recover_interrupted_starts(repo);
    const Settings settings = read_settings(repo);
    const git::Config config = repo.config();

    // Which worktree has which branch checked out.
    std::map<std::string, git::WorktreeInfo> by_branch;
    for (auto& worktree : repo.linked_worktrees())
        if (worktree.branch) by_branch.emplace(*worktree.branch, worktree);
    std::optional<std::string> main_branch;
    try {
        main_branch = git::Repository::open(repo.common_dir()).current_branch();
    } catch (const Error&) {
    }

    const auto recorded_bases = config.get_matching("branch.", ".modelbase");
    std::map<std::string, std::optional<std::string>> base_commits;  // cache: base name -> commit
    std::vector<ModelEntry> models;
    for (auto& branch : repo.branches_matching(std::string(naming::model_branch_prefix) + "*")) {
        auto name = naming::model_from_branch(branch.name);
        if (!name) continue;  // feature/model-* that is not a valid model name: not ours
        ModelEntry entry;
        entry.name = *name;
        entry.branch = branch.name;
        entry.head = branch.target;
        entry.last_commit_time = branch.commit_time;
        const auto recorded = recorded_bases.find(fmt::format("branch.{}.modelbase", branch.name));
        entry.base = recorded != recorded_bases.end() ? recorded->second : settings.base_branch;
        auto cached = base_commits.find(entry.base);
        if (cached == base_commits.end()) cached = base_commits.emplace(entry.base, repo.resolve_commit(entry.base)).first;
        if (cached->second) {
            const auto counts = repo.ahead_behind(entry.head, *cached->second);
            entry.ahead = counts.ahead;
            entry.behind = counts.behind;
        }
        if (auto it = by_branch.find(branch.name); it != by_branch.end()) {
            entry.worktree = it->second.path;
            entry.worktree_state = it->second.folder_missing ? WorktreeState::missing
                                   : it->second.locked       ? WorktreeState::locked
                                                             : WorktreeState::present;
        } else if (main_branch == branch.name) {
            entry.worktree = settings.main_worktree;
            entry.worktree_state = WorktreeState::present;
            entry.is_main_worktree = true;
        }
        models.push_back(std::move(entry));
    }
    fill_dirty_flags(repo, models);
    std::sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return models;
}

nlohmann::json to_json(const std::vector<ModelEntry>& models) {
    nlohmann::json rows = nlohmann::json::array();
    const auto optional_number = [](const std::optional<std::size_t>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    for (const auto& model : models) {
        rows.push_back({
            {"name", model.name},
            {"branch", model.branch},
            {"base", model.base},
            {"head", model.head},
            {"last_commit_time", model.last_commit_time},
            {"worktree", model.worktree ? nlohmann::json(model.worktree->string()) : nlohmann::json(nullptr)},
            {"worktree_state", to_string(model.worktree_state)},
            {"main_worktree", model.is_main_worktree},
            {"ahead", optional_number(model.ahead)},
            {"behind", optional_number(model.behind)},
            {"dirty", model.dirty ? nlohmann::json(*model.dirty) : nlohmann::json(nullptr)},
        });
    }
    return {{"version", 1}, {"models", rows}};
}

}  // namespace gm::model
