#include "gitmodel/model/start.hpp"

#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/model/journal.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

// Refuses a worktree folder that holds anything: git would refuse too, later and less clearly.
void check_folder_free(const fs::path& path, const std::vector<git::WorktreeInfo>& worktrees) {
    for (const auto& worktree : worktrees) {
        if (worktree.path.lexically_normal() == path) {
            throw Error(fmt::format("a worktree is already registered at {}{}", path.string(),
                                    worktree.folder_missing ? " (its folder is gone)" : ""),
                        worktree.folder_missing ? "run `git worktree prune` to forget it"
                                                : "remove it with `git worktree remove`, or set model.worktreeRoot");
        }
    }
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (!fs::exists(status)) return;
    if (fs::is_directory(status) && fs::is_empty(path, ec)) return;
    throw Error(fmt::format("the worktree folder {} is in the way: it exists and is not empty", path.string()),
                "move it away, or choose another place with `git config model.worktreeRoot <dir>`");
}

// Rolls back after a failed step and rethrows with what happened.
[[noreturn]] void fail_and_roll_back(git::Repository& repo, const Intent& intent, PendingStart& pending,
                                     const std::string& what) {
    std::vector<std::string> undone;
    try {
        undone = roll_back(repo, intent);
        pending.commit();
    } catch (const Error& rollback_error) {
        throw Error(fmt::format("{}; rolling back failed too: {}", what, rollback_error.what()),
                    rollback_error.hint());
    }
    throw Error(fmt::format("{}; nothing was changed", what),
                intent.worktree ? "the output above shows what git reported; fix that and run the same command again"
                                : "fix what git reported above and run the same command again");
}

}  // namespace

StartResult start_model(git::Repository& repo, const StartRequest& request) {
    const Settings settings = read_settings(repo);
    StartResult result;
    result.branch = naming::model_branch(request.model);
    result.base = request.base.value_or(settings.base_branch);
    result.recovered = recover_interrupted_starts(repo);

    if (repo.branch_exists(result.branch)) {
        std::string where;
        for (const auto& worktree : repo.linked_worktrees())
            if (worktree.branch == result.branch) where = fmt::format(" (worktree {})", worktree.path.string());
        throw Error(fmt::format("model '{}' exists already: branch {}{}", request.model, result.branch, where),
                    "pick another name; `git model list` shows where the existing one lives");
    }
    const auto base_commit = repo.resolve_commit(result.base);
    if (!base_commit) {
        throw Error(fmt::format("the base '{}' does not exist (no branch, tag or commit of that name)", result.base),
                    request.base ? "name an existing branch or commit with --base"
                                 : "create it, name another with --base, or set `git config model.baseBranch <branch>`");
    }
    result.base_commit = *base_commit;

    Intent intent;
    intent.model = request.model;
    intent.branch = result.branch;
    intent.base_commit = result.base_commit;
    intent.pid = static_cast<long>(::getpid());

    std::vector<std::string> git_command;
    std::optional<fs::path> run_in;
    if (request.in_place) {
        const auto workdir = repo.workdir();
        if (!workdir) throw Error("--no-worktree needs a worktree, and this repository is bare", "leave out --no-worktree");
        if (repo.has_tracked_changes()) {
            throw Error(fmt::format("cannot switch {} to {}: it has uncommitted changes", workdir->string(), result.branch),
                        "commit or stash them first, or leave out --no-worktree to get a separate worktree");
        }
        git_command = {"git", "switch", "--quiet", result.branch};
        run_in = *workdir;
    } else {
        const fs::path path = worktree_path_for(settings, request.model);
        check_folder_free(path, repo.linked_worktrees());
        intent.worktree = path;
        result.worktree = path;
        git_command = {"git", "worktree", "add", "--quiet", path.string(), result.branch};
        run_in = settings.main_worktree;
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec) throw Error(fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
    }

    PendingStart pending = PendingStart::claim(repo, intent);
    try {
        repo.create_branch(result.branch, result.base_commit);
    } catch (const Error& e) {
        fail_and_roll_back(repo, intent, pending, e.what());
    }

    // git's own machinery checks out, so filters (Git LFS) and post-checkout hooks behave as usual.
    proc::RunResult checkout;
    {
        DeferSignals defer;
        proc::RunOptions options;
        options.cwd = run_in;
        options.inherit_output = true;
        // GIT_DIR/GIT_WORK_TREE from our caller would point git at the wrong worktree.
        options.env = {{"GIT_DIR", std::nullopt}, {"GIT_WORK_TREE", std::nullopt}, {"GIT_INDEX_FILE", std::nullopt}};
        try {
            checkout = proc::run(git_command, options);
        } catch (const Error& e) {
            fail_and_roll_back(repo, intent, pending, e.what());
        }
    }
    if (!checkout.ok() || DeferSignals::pending()) {
        const std::string what =
            DeferSignals::pending()
                ? fmt::format("interrupted by signal {}", DeferSignals::pending())
                : fmt::format("`{}` {}", fmt::format("git {}", request.in_place ? "switch" : "worktree add"),
                              checkout.describe());
        try {
            fail_and_roll_back(repo, intent, pending, what);
        } catch (...) {
            DeferSignals::raise_pending();
            throw;
        }
    }
    repo.config().set_local(fmt::format("branch.{}.modelBase", result.branch), result.base);
    pending.commit();
    return result;
}

}  // namespace gm::model
