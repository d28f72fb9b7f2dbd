#include "gitmodel/model/start.hpp"

#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/model/created_worktree.hpp"
#include "gitmodel/model/in_place_switch.hpp"
#include "gitmodel/model/journal.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

// Refuses a worktree folder that holds anything: git would refuse too, later and less clearly.
void check_folder_free(const fs::path& path, const std::vector<git::WorktreeInfo>& worktrees) {
    for (const auto& worktree : worktrees) {
        if (same_folder(worktree.path, path)) {
            throw Error(fmt::format("a worktree is already registered at {}{}", path.string(),
                                    worktree.folder_missing ? " (its folder is gone)" : ""),
                        worktree.folder_missing ? fmt::format("`git worktree remove {}` forgets it", hint_word(path.string()))
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
    Rollback rollback;
    try {
        rollback = roll_back(repo, intent);
        if (rollback.resolved) pending.commit();
    } catch (const Error& rollback_error) {
        throw Error(fmt::format("{}; rolling back failed too: {}", what, rollback_error.what()),
                    rollback_error.hint());
    }
    if (!rollback.kept.empty()) {
        throw Error(fmt::format("{}; {}", what, join(rollback.kept, "\n")),
                    "the next `git model start` looks at it again");
    }
    if (rollback.completed)  // git's checkout was done when it failed (a post-checkout hook, say)
        throw Error(fmt::format("{}; the model was started all the same: its branch {} is checked out {}", what,
                                intent.branch, intent.worktree ? "in " + hint_word(intent.worktree->string()) : "here"),
                    "look at what git reported above; `git model list` shows the model");
    throw Error(fmt::format("{}; nothing was changed", what),
                intent.worktree ? "the output above shows what git reported; fix that and run the same command again"
                                : "fix what git reported above and run the same command again");
}

// Runs git's own checkout (filters such as Git LFS and post-checkout hooks behave as usual) with
// interrupting signals deferred; returns why it failed, empty when it succeeded.
std::string run_checkout(const std::vector<std::string>& git_args, const fs::path& run_in, bool in_place) {
    DeferSignals defer;
    proc::RunOptions options;
    options.cwd = run_in;
    options.inherit_output = true;
    // No limit, and in the terminal's process group: the checkout may download large LFS files
    // (hours on a slow link) and ask for a password; the user sees its progress, and Ctrl-C
    // stops git while ours is deferred, so that the start is rolled back.
    options.timeout = std::nullopt;
    options.terminal = true;
    proc::RunResult checkout;
    try {
        // run_git: GIT_DIR/GIT_WORK_TREE from our caller would point git at the wrong worktree.
        checkout = git::run_git(git_args, options);
    } catch (const Error& e) {
        return e.what();
    }
    if (DeferSignals::pending()) return fmt::format("interrupted by signal {}", DeferSignals::pending());
    if (!checkout.ok())
        return fmt::format("`git {}` {}", in_place ? "switch" : "worktree add", checkout.describe());
    return {};
}

}  // namespace

StartResult start_model(git::Repository& repo, const StartRequest& request,
                        const std::function<void(const std::string&)>& note) {
    const Settings settings = read_settings(repo);
    StartResult result;
    result.branch = naming::model_branch(request.model);
    result.base = request.base.value_or(settings.base_branch);
    const auto base_commit = resolve_base(repo, result.base);
    if (!base_commit) {
        throw Error(fmt::format("the base '{}' does not exist (no branch, tag or commit of that name)", result.base),
                    request.base ? "name an existing branch or commit with --base"
                                 : "create it, or name another with --base; " +
                                       git::team_setting_fix("model.baseBranch", "<branch>", false));
    }
    result.base_commit = *base_commit;

    Intent intent;
    intent.model = request.model;
    intent.branch = result.branch;
    intent.base = result.base;
    intent.base_commit = result.base_commit;
    intent.process = proc::self_identity();

    std::vector<std::string> git_command;
    fs::path run_in;
    const std::string lock_reason = creation_lock_reason(fmt::format("start {}", request.model), intent.process.pid);
    if (request.in_place) {
        const auto workdir = repo.workdir();
        if (!workdir) throw Error("--no-worktree needs a worktree, and this repository is bare", "leave out --no-worktree");
        git_command = {"switch", "--quiet", result.branch};
        run_in = *workdir;
    } else {
        const fs::path path = worktree_path_for(settings, request.model);
        require_utf8_worktree_path(path);  // its record, for the rollback of a start cut short, is JSON
        intent.worktree = path;
        result.worktree = path;
        git_command = worktree_add_args(path, result.branch, lock_reason);
        run_in = settings.main_worktree;
        // Checked before the folders on the way are made, and again once they are (one another
        // user made meanwhile, in a shared folder, is then theirs).
        refuse_foreign_worktree_place(settings, path, repo.common_dir());
        make_worktree_parents(path.parent_path());
    }

    // Other starts, sweeps and prunes of this repository wait here for their turn.
    RepositoryLock lock(repo, worktrees_lock, fmt::format("git model start {}", request.model));
    for (const auto& line : recover_interrupted_starts(repo))
        if (note) note(line);
    if (repo.branch_exists(result.branch)) {
        std::string where;
        for (const auto& worktree : repo.linked_worktrees())
            if (worktree.branch == result.branch) where = fmt::format(" (worktree {})", worktree.path.string());
        throw Error(fmt::format("model '{}' exists already: branch {}{}", request.model, result.branch, where),
                    "pick another name; `git model list` shows where the existing one lives");
    }
    // A teammate's model of that name (fetched) with work the base lacks: a new branch would fork
    // it silently, and its finish would fail as non-fast-forward with git inviting a pull of that
    // history. One merged into the base already (a model finished, pruned, started again) is fine.
    const std::string remote_branch = fmt::format("refs/remotes/{}/{}", settings.remote, result.branch);
    const auto merged_into = [&](const std::string& commit, const std::string& base) {
        const auto tip = resolve_base(repo, base);
        return tip && repo.is_ancestor(commit, *tip);
    };
    if (const auto there = repo.resolve_commit(remote_branch);
        there && !repo.is_ancestor(*there, result.base_commit) &&
        !merged_into(*there, fmt::format("refs/remotes/{}/{}", settings.remote, settings.base_branch))) {
        const fs::path place = intent.worktree.value_or(fs::path("<folder>"));
        throw Error(fmt::format("model '{}' exists on {} already: {}/{} (a teammate's, or yours from another clone); a "
                                "new branch of that name would fork it",
                                request.model, settings.remote, settings.remote, result.branch),
                    fmt::format("pick another name; or, to work on that model here: git worktree add {} {} (git sets "
                                "it to track {}/{}); if it was merged and deleted there since (a squash merge), `git "
                                "fetch --prune {}` forgets it here",
                                hint_word(place.string()), result.branch, settings.remote,
                                result.branch, settings.remote));
    }
    if (request.in_place && repo.has_tracked_changes()) {
        throw Error(fmt::format("cannot switch {} to {}: it has uncommitted changes", run_in.string(), result.branch),
                    "commit or stash them first, or leave out --no-worktree to get a separate worktree");
    }
    if (request.in_place) {
        if (const auto in_the_way = ignored_in_the_way(repo, run_in, result.base_commit); !in_the_way.empty()) {
            std::vector<std::string> named;
            for (const auto& path : in_the_way) named.push_back(hint_word(path));
            throw Error(fmt::format("cannot switch {} to {}: the base has files where ignored files of yours are ({}); "
                                    "git's switch would overwrite them",
                                    run_in.string(), result.branch, first_few(named)),
                        "move them away first, or leave out --no-worktree to get a separate worktree");
        }
    }
    if (intent.worktree) {
        refuse_foreign_worktree_place(settings, *intent.worktree, repo.common_dir());
        check_folder_free(*intent.worktree, repo.linked_worktrees());
        claim_worktree_folder(*intent.worktree);  // nobody else can make it now (a rollback removes it, empty)
    }

    if (request.in_place) {
        // In the record too: should this process be killed half way through the switch, the next
        // start undoes what the switch wrote, on the same terms as here.
        intent.switched = run_in;
        // "" for the main worktree, "worktrees/<id>" for a linked one (see Intent::switched_git_dir)
        std::string git_dir = trim_end(
            repo.git_dir().lexically_normal().lexically_relative(repo.common_dir().lexically_normal()).generic_string(),
            "/");
        intent.switched_git_dir = git_dir == "." ? "" : git_dir;
        intent.head_before = repo.resolve_commit("HEAD").value_or("");
        intent.switch_began = switch_moment();
    }
    PendingStart pending = PendingStart::claim(repo, intent);
    try {
        repo.create_branch(result.branch, result.base_commit);
    } catch (const Error& e) {
        fail_and_roll_back(repo, intent, pending, e.what());
    }
    if (std::string failed = run_checkout(git_command, run_in, request.in_place); !failed.empty()) {
        try {
            if (request.in_place) {
                if (const auto restored =
                        restore_interrupted_switch(repo, run_in, result.branch, result.base_commit, intent.switch_began)
                            .said;
                    !restored.empty())
                    failed += "; " + restored;
            }
            fail_and_roll_back(repo, intent, pending, failed);
        } catch (const Error& e) {
            // Killed by the signal next: said first, as the caller would say it.
            if (DeferSignals::pending()) report_error("git-model", e);
            DeferSignals::raise_pending();
            throw;
        }
    }
    try {
        if (intent.worktree) release_creation_lock(*intent.worktree, lock_reason);
        repo.config().set_local(fmt::format("branch.{}.modelBase", result.branch), result.base);
    } catch (const Error& e) {
        fail_and_roll_back(repo, intent, pending, e.what());
    }
    pending.commit();
    return result;
}

}  // namespace gm::model
