#include "gitmodel/model/list.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/model/journal.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

const char* to_string(WorktreeState state) {
    switch (state) {
        case WorktreeState::none: return "none";
        case WorktreeState::present: return "present";
        case WorktreeState::missing: return "missing";
        case WorktreeState::locked: return "locked";
        case WorktreeState::foreign: return "foreign";
    }
    return "none";
}

namespace {

// Dirty checks dominate on repositories with many worktrees: they run on worker
// threads, started before the branches are read so that both overlap. No libgit2
// object crosses threads: each worker opens the repository once and lends its
// object database to the worktrees it checks, one after the other.
class DirtyChecks {
public:
    DirtyChecks(fs::path common_dir, std::vector<fs::path> worktrees)
        : common_dir_(std::move(common_dir)), worktrees_(std::move(worktrees)), results_(worktrees_.size()) {
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        const std::size_t workers = std::min<std::size_t>({cores, 8, (worktrees_.size() + 3) / 4});
        for (std::size_t t = 0; t < workers; ++t) threads_.emplace_back([this] { work(); });
    }
    ~DirtyChecks() { wait(); }
    DirtyChecks(const DirtyChecks&) = delete;
    DirtyChecks& operator=(const DirtyChecks&) = delete;

    // Whether the worktree at `path` has uncommitted changes; nullopt when it could
    // not be read (say unknown rather than guess) or was not among those checked.
    std::optional<bool> result(const fs::path& path) {
        wait();
        for (std::size_t i = 0; i < worktrees_.size(); ++i)
            if (worktrees_[i] == path) return results_[i];
        return std::nullopt;
    }

private:
    void work() {
        std::optional<git::Repository> lender;
        for (std::size_t i = next_++; i < worktrees_.size(); i = next_++) {
            try {
                if (!lender) lender.emplace(git::Repository::open(common_dir_));
                results_[i] = lender->open_worktree(worktrees_[i]).has_uncommitted_changes();
            } catch (const Error&) {
                results_[i] = std::nullopt;
            }
        }
    }
    void wait() {
        if (threads_.empty() && next_ < worktrees_.size()) work();  // too few to be worth a thread
        for (auto& thread : threads_)
            if (thread.joinable()) thread.join();
    }

    fs::path common_dir_;
    std::vector<fs::path> worktrees_;
    std::vector<std::optional<bool>> results_;
    std::atomic<std::size_t> next_{0};
    std::vector<std::thread> threads_;
};

}  // namespace

std::vector<ModelEntry> list_models(const git::Repository& repo) {
    // Read-only: interrupted starts are reported (interrupted_start_notes), never rolled back here.
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

    // The worktrees that hold a model, checked while the branches are read below.
    const auto is_model_branch = [](const std::string& branch) {
        return branch.rfind(naming::model_branch_prefix, 0) == 0 && naming::model_from_branch(branch).has_value();
    };
    std::vector<fs::path> to_check;
    for (const auto& [branch, worktree] : by_branch)
        if (!worktree.folder_missing && !worktree.locked && is_model_branch(branch)) to_check.push_back(worktree.path);
    if (main_branch && !by_branch.count(*main_branch) && is_model_branch(*main_branch))
        to_check.push_back(settings.main_worktree);
    DirtyChecks dirty_checks(repo.common_dir(), std::move(to_check));

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
        if (cached == base_commits.end()) cached = base_commits.emplace(entry.base, resolve_base(repo, entry.base)).first;
        if (cached->second) {
            const auto counts = repo.ahead_behind(entry.head, *cached->second);
            entry.ahead = counts.ahead;
            entry.behind = counts.behind;
        }
        if (auto it = by_branch.find(branch.name); it != by_branch.end()) {
            entry.worktree = it->second.path;
            entry.worktree_state = it->second.folder_missing ? WorktreeState::missing
                                   : it->second.locked       ? WorktreeState::locked
                                   : foreign_worktree_problem(repo.common_dir(), it->second.path, it->second.id) ? WorktreeState::foreign
                                                             : WorktreeState::present;
        } else if (main_branch == branch.name) {
            entry.worktree = settings.main_worktree;
            entry.worktree_state = WorktreeState::present;
            entry.is_main_worktree = true;
        }
        models.push_back(std::move(entry));
    }
    for (auto& model : models)
        if (model.worktree && model.worktree_state == WorktreeState::present)
            model.dirty = dirty_checks.result(*model.worktree);
    std::sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return models;
}

std::vector<std::string> interrupted_start_notes(const git::Repository& repo) {
    std::vector<std::string> notes;
    for (const auto& start : interrupted_starts(repo)) {
        const bool own = start.owner == ::geteuid();
        notes.push_back(fmt::format("{}`git model start {}` (pid {}) was interrupted; {} next `git model start` rolls "
                                    "back what it left if nobody has touched it, and otherwise says what it kept",
                                    own ? "" : user_name_of(start.owner) + "'s ", start.intent.model,
                                    start.intent.process.pid, own ? "the" : "their"));
    }
    return notes;
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
