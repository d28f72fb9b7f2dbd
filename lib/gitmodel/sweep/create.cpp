#include "gitmodel/sweep/create.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/commit_file.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/model/created_worktree.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/worktree_removal.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/sweep/plan.hpp"

#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {

// git's message without its trailing line break, for one-line errors.
std::string trim_message(const std::string& text) {
    std::string out = text;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out.empty() ? "no message" : out;
}

fs::path creating_marker(const Sweep& sweep) { return sweep_dir(sweep.common_dir, sweep.id) / "creating.json"; }

proc::RunOptions git_options(const fs::path& where) {
    proc::RunOptions options;
    options.cwd = where;
    options.env = {{"GIT_DIR", std::nullopt}, {"GIT_WORK_TREE", std::nullopt}, {"GIT_INDEX_FILE", std::nullopt}};
    return options;
}

fs::path resolve_persist(const std::optional<config::PersistPath>& configured, const fs::path& relative_to,
                         const fs::path& fallback) {
    if (!configured) return fallback;
    fs::path path(configured->path);
    if (configured->relative) path = relative_to / path;
    return path.lexically_normal();
}

// The commit a run's branch holds while it is still ours: the one made for it, or (for a
// creation killed before it recorded the commit) one commit on top of the sweep's base.
std::optional<std::string> run_commit(const git::Repository& repo, const Sweep& sweep, const RunSpec& run) {
    const auto tip = repo.branch_target(run.branch);
    if (!tip) return std::nullopt;
    const bool ours = run.commit.empty() ? repo.first_parent(*tip) == sweep.base_commit : *tip == run.commit;
    return ours ? tip : std::nullopt;
}

// Removes one run: its worktree (only when it is exactly what the checkout wrote: no
// change, no untracked or ignored file, no lock of anyone's) and its branch (only while
// it is still the commit we made). Returns what had to be kept. The caller holds the lock.
std::vector<std::string> remove_run(git::Repository& repo, const Sweep& sweep, const RunSpec& run) {
    std::vector<std::string> kept;
    const auto commit = run_commit(repo, sweep, run);
    bool worktree_kept = false;
    for (const auto& worktree : repo.linked_worktrees()) {
        if (worktree.path.lexically_normal() != run.worktree.lexically_normal()) continue;
        const auto verdict = commit ? model::judge_created_worktree(repo, worktree, run.branch, *commit)
                                    : model::TouchedWorktree{{fmt::format("{} has new commits", run.branch)}, false};
        if (verdict.found.empty()) {
            model::remove_created_worktree(repo, worktree);
        } else {
            kept.push_back(fmt::format("kept the worktree {}: {}", run.worktree.string(), join(verdict.found, "; ")));
            worktree_kept = true;
        }
    }
    std::error_code ec;
    if (!worktree_kept && fs::is_directory(run.worktree, ec) && fs::is_empty(run.worktree, ec))
        fs::remove(run.worktree, ec);  // git makes the folder before it registers it
    if (commit && !worktree_kept) {
        git::delete_branch_ref_if_at(repo, run.branch, *commit);
    } else if (!commit && repo.branch_exists(run.branch)) {
        kept.push_back(fmt::format("kept the branch {}: it has new commits", run.branch));
    }
    return kept;
}

}  // namespace

std::optional<fs::path> model_worktree(const git::Repository& repo, const std::string& branch) {
    for (const auto& worktree : repo.linked_worktrees())
        if (worktree.branch == branch && !worktree.folder_missing) return worktree.path;
    const fs::path main = repo.main_worktree_or_common_dir();
    if (repo.workdir() && !repo.is_linked_worktree() && repo.current_branch() == branch) return *repo.workdir();
    if (fs::exists(main / ".git")) {
        try {
            const auto main_repo = git::Repository::open(main);
            if (main_repo.current_branch() == branch) return main;
        } catch (const Error&) {
            // a bare repository or an unreadable main worktree: no worktree there
        }
    }
    return std::nullopt;
}

Sweep create_sweep(git::Repository& repo, const CreateRequest& request,
                   const std::function<void(const RunSpec&)>& progress) {
    const model::Settings settings = model::read_settings(repo);
    Sweep sweep;
    sweep.model = request.model;
    sweep.model_branch = naming::model_branch(request.model);
    const auto base = repo.branch_target(sweep.model_branch);
    if (!base)
        throw Error(fmt::format("there is no model '{}': no branch {}", request.model, sweep.model_branch),
                    fmt::format("create it with `git model start {}`", request.model));
    sweep.base_commit = *base;
    sweep.backend = request.backend;
    sweep.command = request.command;
    sweep.gpus_per_run = request.gpus_per_run;
    sweep.max_parallel = request.max_parallel;
    sweep.container = request.container;
    sweep.retries = request.retries;
    sweep.max_failures = request.max_failures;
    sweep.slurm = request.slurm;
    sweep.common_dir = repo.common_dir();
    sweep.model_worktree = model_worktree(repo, sweep.model_branch).value_or(settings.main_worktree);
    sweep.created = now_seconds();

    // The runs get the model's committed .modelenv.yaml: that is what must load.
    std::optional<config::ModelEnv> environment;
    if (auto text = repo.read_file_at(sweep.base_commit, config::modelenv_file_name)) {
        environment = config::load_modelenv_text(*text, fmt::format("{}:{}", sweep.model_branch, config::modelenv_file_name));
        sweep.image = environment->image.to_string();
    } else if (request.container) {
        throw Error(fmt::format("the runs need a pinned image, and {} has no committed {}", sweep.model_branch,
                                config::modelenv_file_name),
                    "commit one that pins the image (see `man gitmodelenv`), or run on the host with --no-container");
    }
    for (const auto& params : request.parameter_sets) substitute(request.command, params);  // unknown {names} fail now

    const git::CommitIdentity identity = git::commit_identity(repo);
    sweep.id = allocate_id(sweep.common_dir);
    const fs::path persist_default = sweep.common_dir / "git-model" / "persist" / request.model;
    sweep.logs_dir = resolve_persist(environment ? environment->persist.logs : std::nullopt, sweep.model_worktree,
                                     persist_default / "logs") / ("sweep-" + sweep.id);
    sweep.checkpoints_dir = resolve_persist(environment ? environment->persist.checkpoints : std::nullopt,
                                            sweep.model_worktree, persist_default / "checkpoints") /
                            ("sweep-" + sweep.id);

    const auto registered = repo.linked_worktrees();
    for (std::size_t i = 0; i < request.parameter_sets.size(); ++i) {
        RunSpec run;
        run.number = static_cast<int>(i) + 1;
        run.params = request.parameter_sets[i];
        try {
            run.model = run_model_name(request.model, sweep.id, run.number);
        } catch (...) {
            fs::remove_all(sweep_dir(sweep.common_dir, sweep.id));
            throw;
        }
        run.branch = naming::model_branch(run.model);
        run.worktree = model::worktree_path_for(settings, run.model);
        std::string problem;
        if (repo.branch_exists(run.branch)) problem = fmt::format("the branch {} exists already", run.branch);
        std::error_code ec;
        if (problem.empty() && fs::exists(run.worktree, ec) && !fs::is_empty(run.worktree, ec))
            problem = fmt::format("the worktree folder {} is in the way", run.worktree.string());
        for (const auto& worktree : registered)
            if (problem.empty() && worktree.path.lexically_normal() == run.worktree.lexically_normal())
                problem = fmt::format("a worktree is already registered at {}", run.worktree.string());
        if (!problem.empty()) {
            fs::remove_all(sweep_dir(sweep.common_dir, sweep.id));
            throw Error(problem + "; nothing was created", "move it away, or remove what an old sweep left");
        }
        sweep.runs.push_back(std::move(run));
    }

    // The plan is on disk before the first step, so that a killed start can be undone later;
    // the marker first, so that a sweep.json never stands for runs that were not made.
    write_file_atomically(creating_marker(sweep),
                          nlohmann::json{{"pid", proc::self_identity().pid},
                                         {"start_ticks", proc::self_identity().start_ticks}}.dump() + "\n");
    save(sweep);
    std::error_code ec;
    fs::create_directories(sweep.logs_dir, ec);
    if (ec) {
        destroy_sweep(repo, sweep);
        throw Error(fmt::format("cannot create the log folder {}: {}", sweep.logs_dir.string(), ec.message()));
    }

    DeferSignals defer;
    DeferSignals::clear();
    const std::string lock_reason =
        model::creation_lock_reason(fmt::format("sweep {}", sweep.id), proc::self_identity().pid);
    const auto fail = [&](const std::string& what) {
        std::string message = what;
        try {
            const auto kept = destroy_sweep(repo, sweep);
            message += "; the runs made so far were removed";
            for (const auto& line : kept) message += "\n  " + line;
        } catch (const Error& e) {
            message += fmt::format("; removing the runs made so far failed too ({}): the next sweep command "
                                   "removes them",
                                   e.what());
        }
        if (DeferSignals::pending()) {
            fmt::print(stderr, "git-model: error: {}\n", message);
            DeferSignals::raise_pending();
        }
        throw Error(message, "fix what git reported above and start the sweep again");
    };
    for (auto& run : sweep.runs) {
        // Each run's branch and worktree are made in one turn of the repository's worktrees lock.
        model::RepositoryLock lock(repo, model::worktrees_lock,
                                   fmt::format("git model sweep start ({} run {})", sweep.id, run.number));
        try {
            run.commit = git::commit_with_file(
                repo, identity, sweep.base_commit, params_file_name, params_json(run.params),
                fmt::format("Sweep {} run {} of {}: {}\n\nParameters of run {} of sweep {} of model {}.\n", sweep.id,
                            run.number, sweep.runs.size(), describe(run.params), run.number, sweep.id, sweep.model));
            repo.create_branch(run.branch, run.commit);
        } catch (const Error& e) {
            fail(e.what());
        }
        fs::create_directories(run.worktree.parent_path(), ec);
        proc::RunResult added;
        try {
            added = proc::run(model::worktree_add_argv(run.worktree, run.branch, lock_reason),
                              git_options(settings.main_worktree));
        } catch (const Error& e) {
            fail(e.what());
        }
        if (DeferSignals::pending()) fail(fmt::format("interrupted by signal {}", DeferSignals::pending()));
        if (!added.ok())
            fail(fmt::format("`git worktree add {}` {}: {}", run.worktree.string(), added.describe(),
                             trim_message(added.err)));
        try {
            model::release_creation_lock(run.worktree, lock_reason);
        } catch (const Error& e) {
            fail(e.what());
        }
        if (progress) progress(run);
    }
    save(sweep);
    for (const auto& run : sweep.runs) {
        RunStatus status;
        save_run(sweep, run.number, status);
    }
    fs::remove(creating_marker(sweep), ec);
    return sweep;
}

std::vector<std::string> destroy_sweep(git::Repository& repo, const Sweep& sweep) {
    model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep: removing sweep {}", sweep.id));
    std::vector<std::string> kept;
    for (auto it = sweep.runs.rbegin(); it != sweep.runs.rend(); ++it) {
        for (auto& line : remove_run(repo, sweep, *it)) kept.push_back(std::move(line));
    }
    std::error_code ec;
    if (kept.empty()) fs::remove_all(sweep_dir(sweep.common_dir, sweep.id), ec);
    fs::remove(sweep.logs_dir, ec);  // only when empty: logs are never deleted
    return kept;
}

std::string remove_finished_run_worktree(git::Repository& repo, const RunSpec& run) {
    model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep clean ({})", run.model));
    for (const auto& worktree : repo.linked_worktrees()) {
        if (worktree.path.lexically_normal() != run.worktree.lexically_normal()) continue;
        if (worktree.locked) return worktree.lock_reason.empty() ? "it is locked" : "it is locked: " + worktree.lock_reason;
        if (worktree.folder_missing) break;
        try {
            const auto opened = repo.open_worktree(worktree.path);
            if (opened.has_tracked_changes()) return "it has uncommitted changes";
            const auto untracked = git::untracked_and_ignored(opened);
            if (!untracked.none())
                return fmt::format("it holds files git does not track: {} (`git worktree remove --force {}` deletes them)",
                                   untracked.describe(), run.worktree.string());
        } catch (const Error& e) {
            return e.what();
        }
        // File by file: a result written since the check above, or an edit behind skip-worktree, stays.
        try {
            const auto removal = model::remove_worktree_carefully(run.worktree, repo.main_worktree_or_common_dir());
            if (!removal.removed) return fmt::format("it holds files that are not its commit's: {}", removal.describe());
        } catch (const Error& e) {
            return e.what();
        }
        return std::string();
    }
    return "it is not a registered worktree";
}

std::vector<std::string> recover_interrupted_creations(git::Repository& repo) {
    std::vector<std::string> done;
    const fs::path common = repo.common_dir();
    for (const auto& id : list_ids(common)) {
        const fs::path dir = sweep_dir(common, id);
        const fs::path marker = dir / "creating.json";
        if (!fs::exists(marker)) continue;
        std::ifstream in(marker);
        const auto record = nlohmann::json::parse(in, nullptr, false);
        proc::ProcessIdentity creator;
        if (record.is_object()) {
            creator.pid = record.value("pid", 0L);
            creator.start_ticks = record.value("start_ticks", 0ULL);
        }
        if (proc::is_running(creator)) continue;  // still being created
        // Another command may be recovering it too: take turns, then look again.
        model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep: recovering sweep {}", id));
        if (!fs::exists(marker)) continue;
        Sweep sweep;
        try {
            sweep = load_from(dir);
        } catch (const Error&) {
            std::error_code ec;
            fs::remove_all(dir, ec);
            continue;
        }
        const auto kept = destroy_sweep(repo, sweep);
        if (kept.empty()) {
            done.push_back(fmt::format("removed sweep {}, whose start was interrupted", id));
        } else {
            done.push_back(fmt::format("sweep {}'s start was interrupted; what it made was removed except:", id));
            for (const auto& line : kept) done.push_back("  " + line);
        }
    }
    return done;
}

}  // namespace gm::sweep
