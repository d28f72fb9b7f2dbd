// git model hook <pre-push|pre-commit> [<git's hook arguments>...]: run by the installed shims.
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/git/team_file.hpp"
#include "gitmodel/hooks/bench_gate.hpp"
#include "gitmodel/hooks/install.hpp"
#include "gitmodel/hooks/pre_commit.hpp"
#include "gitmodel/hooks/pre_push.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/snapshots/snapshots.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <unistd.h>

namespace gm::commands {

namespace {

// Runs the foreign hook our shim replaced (--chain, Git LFS) with the same arguments and input.
int run_chained(const git::RepoReader& repo, const std::string& name, const cli::Args& hook_args,
                const std::optional<std::string>& input) {
    const char* shim = std::getenv("GIT_MODEL_HOOK");
    const std::filesystem::path chained =
        std::string(shim && *shim ? std::filesystem::path(shim).string() : (repo.hooks_dir() / name).string()) +
        hooks::chained_suffix;
    if (::access(chained.c_str(), X_OK) != 0) return 0;
    std::vector<std::string> argv{chained.string()};
    argv.insert(argv.end(), hook_args.begin(), hook_args.end());
    proc::RunOptions options;
    options.inherit_output = true;
    options.input = input;
    // No limit, in the terminal's group: Git LFS's pre-push uploads large files (hours on a slow
    // link) and may ask for a password; the user sees its progress and can press Ctrl-C.
    options.timeout = std::nullopt;
    options.terminal = true;
    const auto result = proc::run(argv, options);
    if (result.signal) return 128 + result.signal;
    return result.exit_code;
}

// Says which of this clone's policy settings the team file overrides, so that nobody wonders.
void note_overridden(const git::LayeredConfig& config) {
    for (const auto& [key, local] : config.overridden())
        fmt::print(stderr, "git-model: note: {} = {} from {} at {} overrides this clone's git config ({}): "
                   "policy keys come from the team file\n",
                   key, config.get_string(key).value_or(""), git::team_file_name, config.team().ref, local);
}

// The unpushed snapshot tags a push typed by hand sends to `remote` are held as sent there
// (snapshots::hold_unpushed): else the next `git model tag` pushed such a tag again, even after a
// teammate deleted it there. Whether this push lands (or is a dry run) is not known here;
// git-model's own pushes know, and are left alone.
void mark_pushed_snapshots(const std::vector<hooks::RefUpdate>& updates, const std::string& remote) {
    if (std::getenv(git::own_push_variable)) return;
    std::vector<std::string> tags;
    for (const auto& update : updates)
        if (!update.is_delete() && starts_with(update.remote_ref, "refs/tags/model/")) tags.push_back(update.remote_ref.substr(10));
    if (tags.empty()) return;
    try {
        snapshots::hold_unpushed(git::Repository::discover(true), tags, "sent:" + remote);
    } catch (const Error& e) {
        fmt::print(stderr, "git-model: warning: {}\n", e.what());  // the push goes on
    }
}

int pre_push(const cli::Args& hook_args) {
    // Read all of git's input first: the chained hook gets the very same bytes.
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    const auto updates = hooks::parse_pre_push_input(input);
    const std::string remote = hook_args.empty() ? std::string("origin") : hook_args[0];
    git::Library library;
    const auto repo = git::open_reader(true);
    if (!updates.empty()) {
        // The policy as the remote's base branch has it: a pushed .gitmodel changes nothing yet.
        const git::LayeredConfig config(repo->config(), git::read_team_file(repo->config()));
        note_overridden(config);
        if (const auto problem = git::unresolved_team_remote(repo->config()); !problem.empty())
            fmt::print(stderr, "git-model: warning: {}\n", problem);
        const auto violations = hooks::check_push(*repo, remote, updates, hooks::read_push_policy(config, config.team().remote_default),
                                                  hooks::read_data_policy(config));
        if (!violations.empty()) {
            fmt::print(stderr, "{}", hooks::format_rejection(violations));
            return 1;
        }
        const auto gate = hooks::run_bench_gate(config, repo->common_dir(),
                                                [&] {
                                                    return env::gpus_others_hold(env::LeaseBook::directory(
                                                        repo->config().get_string("model.leaseDir")));
                                                });
        if (!gate.passed) {
            fmt::print(stderr,
                       "git-model: push refused by the pre-push hook: {}\n"
                       "  model.bench.beforePush asks for a working GPU before pushing from this machine.\n"
                       "  fix the GPU (git model bench shows details), set `git config model.bench.beforePush never`\n"
                       "  on a machine without one, or bypass once with `git push --no-verify`.\n",
                       gate.message);
            return 1;
        }
        if (gate.unknown) fmt::print(stderr, "git-model: warning: {}\n", gate.message);
    }
    const int chained = run_chained(*repo, "pre-push", hook_args, input);
    if (chained == 0) mark_pushed_snapshots(updates, remote);  // a chained hook's refusal sends nothing
    return chained;
}

int pre_commit(const cli::Args& hook_args) {
    git::Library library;
    const auto repo = git::open_reader(true);
    const git::LayeredConfig config(repo->config(), git::read_team_file(repo->config()));
    note_overridden(config);
    const auto offenders = hooks::check_staged(*repo, hooks::read_data_policy(config));
    if (!offenders.empty()) {
        fmt::print(stderr, "{}", hooks::format_commit_rejection(offenders));
        return 1;
    }
    return run_chained(*repo, "pre-commit", hook_args, std::nullopt);
}

}  // namespace

int hook(const cli::Args& args) {
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        fmt::print("usage: git model hook <pre-push|pre-commit> [<hook arguments>...]\n"
                   "Run by the hooks `git model hooks install` puts in place; not meant to be typed.\n");
        return args.empty() ? 2 : 0;
    }
    const cli::Args hook_args(args.begin() + 1, args.end());
    const bool known = args[0] == "pre-push" || args[0] == "pre-commit";
    // git never passes -h to a hook (a remote's name cannot start with '-'): asking for help is safe to honour.
    if (known && !hook_args.empty() && (hook_args[0] == "-h" || hook_args[0] == "--help")) {
        if (args[0] == "pre-push") {
            fmt::print("usage: git model hook pre-push <remote> <url>   (ref updates on standard input)\n"
                       "Run by the pre-push hook: refuses pushes to protected branches, badly named branches and\n"
                       "tags, unpinned or unexplained image changes, and data or checkpoints in the pushed commits.\n"
                       "See git-model-hooks(1).\n");
        } else {
            fmt::print("usage: git model hook pre-commit\n"
                       "Run by the pre-commit hook: refuses staged data, checkpoints and files over\n"
                       "model.maxFileSize. See git-model-hooks(1).\n");
        }
        return 0;
    }
    if (args[0] == "pre-push") return pre_push(hook_args);
    if (args[0] == "pre-commit") return pre_commit(hook_args);
    throw UsageError(fmt::format("git-model has no {} hook", quote_for_message(args[0])),
                     "the hooks are: " + join(hooks::managed_hooks(), ", "));
}

}  // namespace gm::commands
