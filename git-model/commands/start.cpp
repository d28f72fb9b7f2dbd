// git model start <name> [--base <ref>] [--no-worktree]
#include "../command_table.hpp"

#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/hooks/install.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/model/start.hpp"

#include <fmt/core.h>

#include <iostream>
#include <unistd.h>

namespace po = boost::program_options;

namespace gm::commands {

namespace {

// After a start, offers the team's hooks where they are missing (model.installHooks: ask, always, never).
void offer_hooks(const git::Repository& repo) {
    const std::string mode = repo.config().get_string("model.installHooks").value_or("ask");
    if (mode == "never") return;
    if (mode != "ask" && mode != "always") {
        warn("git-model", fmt::format("model.installHooks '{}' is not ask, always or never; treating it as ask", mode));
    }
    const auto context = hooks::hooks_context(*git::open_reader());
    const auto dir = context.relative_hooks_path ? context.pinned_dir : context.dir;
    // Missing, outdated, or kept from running (a relative core.hooksPath, Git LFS's hooks missing).
    bool missing = !hooks::hooks_problems(context).empty();
    for (const auto& status : hooks::hook_status(context.dir))
        if (status.state == hooks::HookState::missing || status.state == hooks::HookState::outdated ||
            (status.state == hooks::HookState::foreign && status.is_git_lfs))
            missing = true;
    if (!missing || !std::filesystem::exists(hooks::shim_source_dir())) return;
    if (context.shared_hooks_origin) {  // never written there, not even asked
        fmt::print(stderr, "hint: git-model's hooks are not installed: {}\nhint: {}\n", hooks::shared_hooks_problem(context),
                   hooks::shared_hooks_fix(context));
        return;
    }
    bool install = mode == "always";
    if (!install) {
        if (!::isatty(STDIN_FILENO) || !::isatty(STDERR_FILENO)) {
            fmt::print(stderr, "hint: the team's hooks are not installed in this repository: git model hooks install\n"
                               "hint: (git config model.installHooks always|never stops this hint)\n");
            return;
        }
        fmt::print(stderr, "Install git-model's hooks (pre-commit, pre-push) in {}? [Y/n] ", dir.string());
        std::string answer;
        std::getline(std::cin, answer);
        install = answer.empty() || answer[0] == 'y' || answer[0] == 'Y';
        if (!install) {
            fmt::print(stderr, "hint: not installed; `git model hooks install` does it later, and "
                               "`git config model.installHooks never` stops the question\n");
            return;
        }
    }
    try {
        for (const auto& line : hooks::install_repository_hooks(context, hooks::ForeignPolicy::refuse))
            fmt::print("hooks: {}\n", line);
    } catch (const Error& e) {
        warn("git-model", fmt::format("hooks not installed: {}", e.what()));
    }
}

}  // namespace

int start(const cli::Args& args) {
    const std::string usage = "git model start [--base <ref>] [--no-worktree] <name>";
    po::options_description options("options");
    options.add_options()
        ("base", po::value<std::string>()->value_name("<ref>"), "branch, tag or commit to start from (default: model.baseBranch, else main)")
        ("no-worktree", "create the branch and switch to it here instead of a new worktree");
    const auto parsed = cli::parse_command(args, usage, options, "name");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    if (!vm.count("name")) throw UsageError("missing the model name", "usage: " + usage);

    model::StartRequest request;
    request.model = vm["name"].as<std::string>();
    model::require_model_name(request.model,
                              "model names use a-z, 0-9, '.', '_' and '-', begin and end with a letter or digit, "
                              "and are at most 64 characters");
    if (vm.count("base")) request.base = vm["base"].as<std::string>();
    request.in_place = vm.count("no-worktree") > 0;

    git::Library library;
    auto repo = git::Repository::discover();
    const auto result = model::start_model(repo, request, [](const std::string& line) { warn("git-model", line); });
    if (result.worktree) {
        fmt::print("Started model '{}' on branch {} (from {}).\nWorktree: {}\n", request.model, result.branch,
                   result.base, result.worktree->string());
        fmt::print("  cd {}\n", hint_word(result.worktree->string()));  // pasted into a shell
    } else {
        fmt::print("Started model '{}' on branch {} (from {}), switched to it here.\n", request.model, result.branch,
                   result.base);
    }
    offer_hooks(repo);
    return 0;
}

}  // namespace gm::commands
