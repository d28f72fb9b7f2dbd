// git model list [--all] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/text.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/list.hpp"
#include "gitmodel/sweep/listing.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <ctime>

namespace po = boost::program_options;

namespace gm::commands {

namespace {

std::string format_time(std::int64_t seconds) {
    if (seconds <= 0) return "-";
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm local{};
    ::localtime_r(&t, &local);
    return fmt::format("{:%Y-%m-%d %H:%M}", local);
}

std::string count_or_dash(const std::optional<std::size_t>& value) {
    return value ? std::to_string(*value) : "-";
}

// Printable: a path may hold a newline or an escape sequence, which must not break the table.
std::string worktree_cell(const model::ModelEntry& model) {
    if (!model.worktree) return "(none)";
    const std::string path = printable(model.worktree->string());
    switch (model.worktree_state) {
        case model::WorktreeState::missing: return path + " (missing)";
        case model::WorktreeState::locked: return path + " (locked)";
        case model::WorktreeState::foreign: return path + " (not its worktree)";
        default: return path + (model.is_main_worktree ? " (main)" : "");
    }
}

std::string changes_cell(const model::ModelEntry& model) {
    if (!model.dirty) return "-";
    return *model.dirty ? "uncommitted" : "clean";
}

}  // namespace

int list(const cli::Args& args) {
    const std::string usage = "git model list [--all] [--json]";
    po::options_description options("options");
    options.add_options()
        ("all", "list every sweep run as a model of its own (default: one line per sweep, under its model)")
        ("json", "print a JSON document (shape in git-model(1)); it always holds every run");
    const auto parsed = cli::parse_command(args, usage, options);
    if (!parsed) return 0;
    const auto& vm = *parsed;

    git::Library library;
    auto repo = git::Repository::discover();
    const auto all_models = model::list_models(repo);
    for (const auto& line : model::interrupted_start_notes(repo)) warn("git-model", line);
    const auto groups = sweep::group_sweeps(repo, all_models);
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(sweep::list_json(all_models, groups)));
        return 0;
    }
    if (all_models.empty()) {
        fmt::print("No models yet. Start one with: git model start <name>\n");
        return 0;
    }
    // Sweep runs fold into one line per sweep under their model, unless --all.
    const bool all = vm.count("all") > 0;
    std::vector<model::ModelEntry> models;
    for (const auto& model : all_models)
        if (all || !sweep::run_of(groups, model.name)) models.push_back(model);
    std::size_t name_width = 5, branch_width = 6, worktree_width = 8;
    for (const auto& model : models) {
        name_width = std::max(name_width, model.name.size());
        branch_width = std::max(branch_width, model.branch.size());
        worktree_width = std::max(worktree_width, worktree_cell(model).size());
    }
    fmt::print("{:<{}}  {:<{}}  {:<{}}  {:>5}  {:>6}  {:<16}  {}\n", "MODEL", name_width, "BRANCH", branch_width,
               "WORKTREE", worktree_width, "AHEAD", "BEHIND", "LAST COMMIT", "CHANGES");
    std::vector<bool> shown(groups.size(), false);
    for (const auto& model : models) {
        fmt::print("{:<{}}  {:<{}}  {:<{}}  {:>5}  {:>6}  {:<16}  {}\n", model.name, name_width, model.branch,
                   branch_width, worktree_cell(model), worktree_width, count_or_dash(model.ahead),
                   count_or_dash(model.behind), format_time(model.last_commit_time), changes_cell(model));
        if (all) continue;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            if (groups[i].model != model.name) continue;
            fmt::print("  \u2514 sweep {}: {}\n", groups[i].id, groups[i].summary());
            shown[i] = true;
        }
    }
    // Sweeps whose model's branch is gone (pruned, deleted): their runs are still here.
    for (std::size_t i = 0; i < groups.size() && !all; ++i)
        if (!shown[i])
            fmt::print("  \u2514 sweep {} of {} (its branch is gone): {}\n", groups[i].id, groups[i].model, groups[i].summary());
    return 0;
}

}  // namespace gm::commands
