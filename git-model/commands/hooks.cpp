// git model hooks install [--chain | --force | --manual] | uninstall | status [--json]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/hooks/install.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/snapshots/share.hpp"

#include <fmt/core.h>
#include <optional>
#include <nlohmann/json.hpp>

namespace po = boost::program_options;

namespace gm::commands {

int hooks(const cli::Args& args) {
    const std::string usage = "git model hooks (install [--chain | --force | --manual] | uninstall | status [--json])";
    po::options_description options("options");
    options.add_options()
        ("chain", "install: keep a foreign hook and run it after ours (same arguments and input)")
        ("force", "install: replace a foreign hook, keeping it as <hook>.git-model-backup")
        ("manual", "install: change nothing; print the lines to add to your own hooks")
        ("json", "status: print JSON");
    const auto parsed = cli::parse_command(args, usage, options, "action");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "status";
    const int policies = static_cast<int>(vm.count("chain") + vm.count("force") + vm.count("manual"));
    if (policies > 1) throw UsageError("--chain, --force and --manual exclude each other", "usage: " + usage);
    if (policies && action != "install") throw UsageError(fmt::format("--chain, --force and --manual go with install, not {}", action));

    git::Library library;
    const auto repo = git::open_reader();  // also in SHA-256 repositories, through git itself
    const auto context = hooks::hooks_context(*repo);
    const auto dir = context.dir;
    if (action == "install") {
        // The team's fetch setup reads and writes through libgit2, which cannot open a SHA-256
        // repository: there the hooks are installed and the fetch is left to the user.
        std::optional<git::Repository> full;
        if (repo->object_format() == "sha1") full.emplace(git::Repository::discover());
        const std::string remote = full ? model::read_settings(*full).remote : std::string("origin");
        if (vm.count("manual")) {
            fmt::print("{}", hooks::manual_instructions(context.relative_hooks_path ? context.pinned_dir : dir));
            if (context.relative_hooks_path)
                fmt::print("\nAnd make core.hooksPath absolute, or the worktrees of `git model start` run none of them:\n"
                           "  git config core.hooksPath '{}'\n",
                           context.pinned_dir.string());
            const auto missing = full ? snapshots::read_fetch_setup(*full, remote).commands() : std::vector<std::string>{};
            if (!missing.empty())
                fmt::print("\nTo fetch teammates' snapshots and finish notes with git fetch:\n  {}\n", join(missing, "\n  "));
            return 0;
        }
        const auto policy = vm.count("chain") ? hooks::ForeignPolicy::chain
                            : vm.count("force") ? hooks::ForeignPolicy::force
                                                : hooks::ForeignPolicy::refuse;
        for (const auto& line : hooks::install_repository_hooks(context, policy)) fmt::print("{}\n", line);
        // The team's state comes back with a plain git fetch: tags and the finish notes.
        if (!full) {
            fmt::print("fetch: not set up in a {} repository; see git-model-hooks(1), install\n", repo->object_format());
        } else if (!git::remote_exists(*full, remote)) {
            const auto remotes = git::remote_names(full->config());
            if (remotes.empty())
                fmt::print("fetch: no remote '{}' yet; once there is one, run this again so that git fetch brings "
                           "teammates' snapshots\n", remote);
            else
                fmt::print("fetch: not set up: the team's remote is none of this clone's remotes ({}); name it with "
                           "`git config model.remote <the team's remote>`, then run this again\n",
                           join(remotes, ", "));
        }
        if (full)
            for (const auto& line : snapshots::apply_fetch_setup(*full, remote)) fmt::print("{}\n", line);
        return 0;
    }
    if (action == "uninstall") {
        for (const auto& line : hooks::uninstall_hooks(dir)) fmt::print("{}\n", line);
        return 0;
    }
    if (action == "status") {
        const auto statuses = hooks::hook_status(dir);
        const auto problems = hooks::hooks_problems(context);
        const auto lfs = hooks::lfs_hooks_state(context);
        if (vm.count("json")) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& s : statuses) {
                rows.push_back({{"name", s.name}, {"path", s.path.string()}, {"state", hooks::to_string(s.state)},
                                {"version", s.version}, {"git_lfs", s.is_git_lfs}, {"executable", s.executable},
                                {"chained", s.chained ? nlohmann::json(s.chained->string()) : nlohmann::json(nullptr)},
                                {"backup", s.backup ? nlohmann::json(s.backup->string()) : nlohmann::json(nullptr)}});
            }
            nlohmann::json lfs_json{{"used", lfs.used}, {"installed", lfs.lfs_installed}, {"missing_hooks", lfs.missing}};
            fmt::print("{}\n", json_text(nlohmann::json{{"hooks_dir", dir.string()},
                                              {"hooks", rows},
                                              {"git_lfs", lfs_json},
                                              {"problems", problems}}));
            return 0;
        }
        fmt::print("hooks folder: {}\n", dir.string());
        for (const auto& s : statuses) {
            std::string note;
            if (s.state == hooks::HookState::outdated) note = " (run `git model hooks install` to upgrade)";
            if (!s.executable)
                note = s.state == hooks::HookState::outdated
                           ? " (not executable, so git skips it: run `git model hooks install`)"
                           : " (not executable, so git skips it)";
            if (s.state == hooks::HookState::foreign)
                note = s.is_git_lfs ? " (Git LFS's; install chains it)" : " (not ours; install offers --chain/--force/--manual)";
            if (s.state == hooks::HookState::missing) note = " (run `git model hooks install`)";
            if (s.state == hooks::HookState::edited)
                note = " (git-model's, changed since it was installed: kept; install --force replaces it, keeping a backup)";
            fmt::print("  {:<11} {}{}\n", s.name, hooks::to_string(s.state), note);
            if (s.chained) fmt::print("  {:<11} then runs {}\n", "", s.chained->string());
        }
        if (lfs.used && lfs.missing.empty()) fmt::print("  {:<11} Git LFS's hooks run too\n", "");
        for (const auto& problem : problems) fmt::print("problem: {}\n", problem);
        return 0;
    }
    throw UsageError(fmt::format("unknown hooks action '{}'", action), "usage: " + usage);
}

}  // namespace gm::commands
