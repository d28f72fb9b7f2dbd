#include "gitmodel/sweep/create.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/env/container.hpp"
#include "gitmodel/git/commit_file.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/model/created_worktree.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/worktree_removal.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/promote.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {

// git's message without its trailing line break, for one-line errors.
std::string trim_message(const std::string& text) {
    const std::string out = trim_end(text, "\n ");
    return out.empty() ? "no message" : out;
}

fs::path creating_marker(const Sweep& sweep) { return sweep_dir(sweep.common_dir, sweep.id) / "creating.json"; }

// A persist folder of the model's .modelenv.yaml with its placeholders filled in, a relative one
// taken from relative_to (the model's worktree); fallback when the file names none.
fs::path resolve_persist(const std::optional<config::PersistPath>& configured, const fs::path& relative_to,
                         const fs::path& fallback, const config::Placeholders& placeholders) {
    if (!configured) return fallback;
    fs::path path(config::expand_placeholders(configured->path, placeholders));
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
        if (!same_folder(worktree.path, run.worktree)) continue;
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
        try {
            git::delete_branch_ref_if_at(repo, run.branch, *commit);
        } catch (const Error& e) {  // a stale lock: the branch stays, said so
            kept.push_back(fmt::format("kept the branch {}: {}", run.branch, e.what()));
        }
    } else if (!commit && repo.branch_exists(run.branch)) {
        kept.push_back(fmt::format("kept the branch {}: it has new commits", run.branch));
    }
    return kept;
}


// Plans run `number`: its model name, branch and worktree, refused (gm::Error, nothing made)
// when its branch exists or its worktree folder is in the way.
RunSpec plan_run(const git::Repository& repo, const Sweep& sweep, const model::Settings& settings, int number,
                 const config::ParameterSet& params, const std::vector<git::WorktreeInfo>& registered) {
    RunSpec run;
    run.number = number;
    run.params = params;
    run.model = run_model_name(sweep.model, sweep.id, run.number);
    run.branch = naming::model_branch(run.model);
    run.worktree = model::worktree_path_for(settings, run.model);
    model::require_utf8_worktree_path(run.worktree);  // the sweep's record of it is JSON
    std::string problem;
    if (repo.branch_exists(run.branch)) problem = fmt::format("the branch {} exists already", run.branch);
    std::error_code ec;
    if (problem.empty() && fs::exists(run.worktree, ec) && !fs::is_empty(run.worktree, ec))
        problem = fmt::format("the worktree folder {} is in the way", run.worktree.string());
    for (const auto& worktree : registered)
        if (problem.empty() && same_folder(worktree.path, run.worktree))
            problem = fmt::format("a worktree is already registered at {}", run.worktree.string());
    if (!problem.empty()) throw Error(problem + "; nothing was created", "move it away, or remove what an old sweep left");
    model::refuse_foreign_worktree_place(settings, run.worktree, repo.common_dir());
    return run;
}

// Makes the runs from index `first` on: each one's commit, branch and worktree, in one turn of
// the repository's worktrees lock each. `fail` undoes what was made and throws.
void make_runs(git::Repository& repo, Sweep& sweep, std::size_t first, const model::Settings& settings,
               const git::CommitIdentity& identity, const std::function<void(const std::string&)>& fail,
               const std::function<void(const RunSpec&)>& progress) {
    const std::string lock_reason =
        model::creation_lock_reason(fmt::format("sweep {}", sweep.id), proc::self_identity().pid);
    std::error_code ec;
    for (std::size_t i = first; i < sweep.runs.size(); ++i) {
        // A signal while the runs were planned, or the run before was made: no more is made.
        if (DeferSignals::pending()) fail(fmt::format("interrupted by signal {}", DeferSignals::pending()));
        RunSpec& run = sweep.runs[i];
        // Each run's branch and worktree are made in one turn of the repository's worktrees lock.
        model::RepositoryLock lock(repo, model::worktrees_lock,
                                   fmt::format("git model sweep start ({} run {})", sweep.id, run.number));
        try {
            run.commit = git::commit_with_file(
                repo, identity, sweep.base_commit, params_file_name, params_json(run.params),
                fmt::format("Sweep {} run {} of {}: {}\n\nParameters of run {} of sweep {} of model {}.\n", sweep.id,
                            run.number, sweep.runs.size(), describe(run.params), run.number, sweep.id, sweep.model));
            repo.create_branch(run.branch, run.commit);
        } catch (const std::exception& e) {  // any failure, not only ours, undoes the runs made
            fail(e.what());
        }
        proc::RunResult added;
        try {
            model::make_worktree_parents(run.worktree.parent_path());
            // Judged again now that the folders on the way exist, and the run's own made here.
            model::refuse_foreign_worktree_place(settings, run.worktree, repo.common_dir());
            model::claim_worktree_folder(run.worktree);
            proc::RunOptions in_main;
            in_main.cwd = settings.main_worktree;
            // As for `git model start`: a checkout may download large LFS files (no fair limit) and
            // ask for a password, and Ctrl-C must reach git while ours is deferred for the rollback.
            in_main.timeout = std::nullopt;
            in_main.terminal = true;
            added = git::run_git(model::worktree_add_args(run.worktree, run.branch, lock_reason), in_main);
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
}

}  // namespace

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
    if (sweep.backend == Backend::slurm) sweep.slurm.job_comment = new_job_comment();
    sweep.common_dir = repo.common_dir();
    // Where the model's branch is checked out (its .modelenv.yaml persist paths are relative to it).
    const auto checkout = model::worktree_of(repo, sweep.model_branch);
    if (checkout) model::require_trusted_checkout(repo, sweep.model, *checkout);
    sweep.model_worktree = checkout && !checkout->missing ? checkout->path : settings.main_worktree;
    check_carry_paths(request.carry, sweep.model_worktree);
    sweep.carry = request.carry;
    sweep.created = now_seconds();

    // The runs get the model's committed .modelenv.yaml: that is what must load.
    std::optional<config::ModelEnv> environment;
    if (auto text = repo.read_config_file_at(sweep.base_commit, config::modelenv_file_name)) {
        environment = config::load_modelenv_text(*text, fmt::format("{}:{}", sweep.model_branch, config::modelenv_file_name));
        sweep.image = environment->image.to_string();
    } else if (request.container) {
        throw Error(fmt::format("the runs need a pinned image, and {} has no committed {}", sweep.model_branch,
                                config::modelenv_file_name),
                    "commit one that pins the image (see `man gitmodelenv`), or run on the host with --no-container");
    }
    for (const auto& params : request.parameter_sets) substitute(request.command, params);  // unknown {names} fail now
    // The sweep's record keeps the command in JSON, which holds only UTF-8.
    for (std::size_t i = 0; i < request.command.size(); ++i)
        if (const auto problem = non_utf8_problem(request.command[i]))
            throw UsageError(fmt::format("the command's word {} ({}) is not UTF-8 text ({}): the sweep records it in "
                                         "JSON, which holds only UTF-8",
                                         i + 1, printable(request.command[i], 80), *problem),
                             "write it in UTF-8 (a shell with a UTF-8 locale), or put it in a script the command runs");

    const git::CommitIdentity identity = git::commit_identity(repo);
    sweep.id = allocate_id(sweep.common_dir);
    const fs::path persist_default = sweep.common_dir / "git-model" / "persist" / request.model;
    // {user}, {model} and {branch} as the model's `env up` fills them in: the sweep's folders lie in its own.
    const auto placeholders = env::placeholders_for(sweep.model, sweep.model_branch);
    sweep.logs_dir = resolve_persist(environment ? environment->persist.logs : std::nullopt, sweep.model_worktree,
                                     persist_default / "logs", placeholders) / ("sweep-" + sweep.id);
    sweep.checkpoints_dir = resolve_persist(environment ? environment->persist.checkpoints : std::nullopt,
                                            sweep.model_worktree, persist_default / "checkpoints", placeholders) /
                            ("sweep-" + sweep.id);

    const auto registered = repo.linked_worktrees();
    for (std::size_t i = 0; i < request.parameter_sets.size(); ++i) {
        try {
            sweep.runs.push_back(plan_run(repo, sweep, settings, static_cast<int>(i) + 1, request.parameter_sets[i], registered));
        } catch (...) {
            fs::remove_all(sweep_dir(sweep.common_dir, sweep.id));
            throw;
        }
    }

    // The plan is on disk before the first step, so that a killed start can be undone later;
    // the marker first, so that a sweep.json never stands for runs that were not made.
    write_file_atomically(creating_marker(sweep),
                          nlohmann::json{{"pid", proc::self_identity().pid},
                                         {"start_ticks", proc::self_identity().start_ticks}}.dump() + "\n");
    save(sweep);
    try {
        make_sweep_folder(sweep, sweep.logs_dir);
    } catch (const Error&) {
        destroy_sweep(repo, sweep);
        throw;
    }

    DeferSignals defer;  // inside start_sweep's (extend_and_schedule's), which cleared: a signal since is kept
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
    make_runs(repo, sweep, 0, settings, identity, fail, progress);
    save(sweep);
    for (const auto& run : sweep.runs) {
        RunStatus status;
        save_run(sweep, run.number, status);
    }
    std::error_code ec;
    fs::remove(creating_marker(sweep), ec);
    return sweep;
}

std::vector<std::string> retract_runs(git::Repository& repo, Sweep& sweep, int first) {
    std::vector<std::string> kept;
    {
        model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep extend: removing runs of {}", sweep.id));
        for (auto it = sweep.runs.rbegin(); it != sweep.runs.rend() && it->number >= first; ++it)
            for (auto& line : remove_run(repo, sweep, *it)) kept.push_back(std::move(line));
    }
    if (!kept.empty()) return kept;  // the record keeps naming what is left
    sweep.runs.erase(std::remove_if(sweep.runs.begin(), sweep.runs.end(), [&](const RunSpec& r) { return r.number >= first; }),
                     sweep.runs.end());
    save(sweep);
    std::error_code ec;
    for (const auto& name : {"extending.json", "extending.sweep.json"}) fs::remove(sweep_dir(sweep.common_dir, sweep.id) / name, ec);
    return kept;
}

FileLock lock_scheduling(const fs::path& common_dir, const std::string& id) {
    return FileLock(sweep_dir(common_dir, id) / "scheduling.lock", std::nullopt);
}

std::vector<int> extend_sweep(git::Repository& repo, Sweep& sweep, const ExtendRequest& request,
                              const std::function<void(const RunSpec&)>& progress) {
    const auto key = [](const config::ParameterSet& params) {  // any order, any spelling (1e2, 100.0) of a value
        config::ParameterSet values;
        for (const auto& [name, text] : params) values.emplace_back(name, config::parameter_identity(text));
        std::sort(values.begin(), values.end());
        return values;
    };
    std::vector<config::ParameterSet> seen;
    for (const auto& run : sweep.runs) seen.push_back(key(run.params));
    for (const auto& params : request.parameter_sets) {
        substitute(sweep.command, params);  // unknown {names} fail now
        if (!request.allow_duplicates && std::find(seen.begin(), seen.end(), key(params)) != seen.end())
            throw Error(fmt::format("sweep {} already has a run with {}; nothing was added", sweep.id, describe(params)),
                        "drop it from the grid, or add --allow-duplicates to run it again");
        seen.push_back(key(params));
    }
    const model::Settings settings = model::read_settings(repo);
    const auto registered = repo.linked_worktrees();
    const std::size_t first = sweep.runs.size();
    Sweep draft = sweep;
    for (std::size_t i = 0; i < request.parameter_sets.size(); ++i)
        draft.runs.push_back(plan_run(repo, draft, settings, static_cast<int>(first + i) + 1, request.parameter_sets[i], registered));
    // The plan and a marker first, so that a killed extend is undone by the next sweep command; the
    // sweep's record names the new runs only once they are made (a scheduler may read it any time).
    const fs::path dir = sweep_dir(sweep.common_dir, sweep.id);
    save_as(draft, dir / "extending.sweep.json");
    write_file_atomically(dir / "extending.json",
                          nlohmann::json{{"pid", proc::self_identity().pid},
                                         {"start_ticks", proc::self_identity().start_ticks},
                                         {"first", first + 1}}.dump() + "\n");
    DeferSignals defer;  // inside start_sweep's (extend_and_schedule's), which cleared: a signal since is kept
    const auto fail = [&](const std::string& what) {
        std::string message = what;
        try {
            const auto kept = retract_runs(repo, draft, static_cast<int>(first) + 1);
            message += "; the runs made so far were removed";
            for (const auto& line : kept) message += "\n  " + line;
        } catch (const Error& e) {
            message += fmt::format("; removing the runs made so far failed too ({}): the next sweep command removes them",
                                   e.what());
        }
        if (DeferSignals::pending()) {
            fmt::print(stderr, "git-model: error: {}\n", message);
            DeferSignals::raise_pending();
        }
        throw Error(message, "fix what git reported above and extend the sweep again");
    };
    make_runs(repo, draft, first, settings, git::commit_identity(repo), fail, progress);
    std::vector<int> numbers;
    for (std::size_t i = first; i < draft.runs.size(); ++i) {
        save_run(draft, draft.runs[i].number, RunStatus{});
        numbers.push_back(draft.runs[i].number);
    }
    {
        FileLock lock(queue_lock_path(draft));
        save(draft);
    }
    std::error_code ec;
    for (const auto& name : {"extending.json", "extending.sweep.json"}) fs::remove(dir / name, ec);
    sweep = draft;
    return numbers;
}

namespace {

// Undoes a `sweep extend` whose process died before it recorded its runs; appends what it did.
// Whether a `git worktree add` that a killed start or extend of the sweep began still runs (it goes
// on alone): what it makes is not removed under it; the next sweep command looks again.
bool git_still_adding(const std::string& id, const proc::ProcessIdentity& creator) {
    return creator.pid > 0 &&
           own_process_with_arguments(
               {"worktree", "add", model::creation_lock_reason(fmt::format("sweep {}", id), creator.pid)});
}

// Whose a marker of a start or extend in progress is: in a repository users share, another user's
// interrupted start or extend is theirs to roll back (their files are not ours to delete, and
// failing on them would stop every sweep command of ours). Adds the note and returns true then.
bool left_to_its_user(const fs::path& marker, const std::string& what, std::vector<std::string>& done) {
    struct stat st {};
    if (::lstat(marker.c_str(), &st) != 0 || st.st_uid == ::geteuid()) return false;
    done.push_back(fmt::format("kept: {}'s interrupted {} is theirs to roll back; their next sweep command does it",
                               user_name_of(st.st_uid), what));
    return true;
}

void recover_interrupted_extension(git::Repository& repo, const fs::path& dir, std::vector<std::string>& done) {
    const fs::path marker = dir / "extending.json";
    if (!fs::exists(marker)) return;
    std::ifstream in(marker);
    const auto record = nlohmann::json::parse(in, nullptr, false);
    proc::ProcessIdentity creator;
    int first = 0;
    if (record.is_object()) {
        creator.pid = record.value("pid", 0L);
        creator.start_ticks = record.value("start_ticks", 0ULL);
        first = record.value("first", 0);
    }
    if (proc::is_running(creator) || git_still_adding(dir.filename().string(), creator)) return;  // still being extended
    if (left_to_its_user(marker, fmt::format("`git model sweep extend {}`", dir.filename().string()), done)) return;
    std::optional<FileLock> extending;
    try {
        extending.emplace(dir / "scheduling.lock", std::chrono::milliseconds(0));
    } catch (const LockTimeoutError&) {
        return;  // another extend is under way (its marker replaced this one's)
    }
    std::error_code ec;
    Sweep draft;
    try {
        draft = load_file(dir / "extending.sweep.json");
        if (first < 1 || load_from(dir).runs.size() >= draft.runs.size()) throw Error("recorded");  // it finished
    } catch (const Error&) {
        for (const auto& name : {"extending.json", "extending.sweep.json"}) fs::remove(dir / name, ec);
        return;
    }
    const auto kept = retract_runs(repo, draft, first);
    if (kept.empty()) {
        done.push_back(fmt::format("removed the runs an interrupted `git model sweep extend {}` had made", draft.id));
    } else {
        done.push_back(fmt::format("`git model sweep extend {}` was interrupted; the runs it made were removed except:", draft.id));
        for (const auto& line : kept) done.push_back("  " + line);
    }
}

}  // namespace

std::vector<std::string> destroy_sweep(git::Repository& repo, const Sweep& sweep) {
    model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep: removing sweep {}", sweep.id));
    std::vector<std::string> kept;
    std::vector<RunSpec> left;  // the runs something of which was kept, newest first
    for (auto it = sweep.runs.rbegin(); it != sweep.runs.rend(); ++it) {
        auto lines = remove_run(repo, sweep, *it);
        if (!lines.empty()) left.push_back(*it);
        for (auto& line : lines) kept.push_back(std::move(line));
    }
    std::error_code ec;
    if (kept.empty()) {
        fs::remove_all(sweep_dir(sweep.common_dir, sweep.id), ec);
    } else if (left.size() < sweep.runs.size()) {
        // The record names only what is still there: status, cancel and resume never speak of
        // runs whose worktree and branch are gone.
        Sweep trimmed = sweep;
        trimmed.runs.assign(left.rbegin(), left.rend());
        save(trimmed);
    }
    fs::remove(sweep.logs_dir, ec);  // only when empty: logs are never deleted
    return kept;
}

std::optional<std::string> run_head_elsewhere(const git::WorktreeInfo& worktree, const RunSpec& run) {
    if (const auto& operation = worktree.operation)
        return fmt::format("{} is in progress in it (end it there first: {})", operation->what, operation->ending);
    if (worktree.branch == run.branch) return std::nullopt;
    return fmt::format("its HEAD is {} rather than on {}: commits made there would go with it (switch it back, or "
                       "remove it yourself)",
                       worktree.branch ? "on " + *worktree.branch : std::string("detached"), run.branch);
}

std::string remove_finished_run_worktree(git::Repository& repo, const RunSpec& run) {
    model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep clean ({})", run.model));
    for (const auto& worktree : repo.linked_worktrees()) {
        if (!same_folder(worktree.path, run.worktree)) continue;
        if (worktree.locked) return worktree.lock_reason.empty() ? "it is locked" : "it is locked: " + worktree.lock_reason;
        if (worktree.folder_missing) break;
        if (auto elsewhere = run_head_elsewhere(worktree, run)) return *elsewhere;
        try {
            const auto opened = repo.open_worktree(worktree.path);
            if (opened.has_tracked_changes()) return "it has uncommitted changes";
            const auto untracked = git::untracked_and_ignored(opened);
            if (!untracked.none())
                return fmt::format("it holds files git does not track: {} (`git worktree remove --force {}` deletes them)",
                                   untracked.describe(), hint_word(run.worktree.string()));
        } catch (const Error& e) {
            return e.what();
        }
        // File by file: a result written since the check above, or an edit behind skip-worktree, stays.
        try {
            const auto removal = model::remove_worktree_carefully(repo, run.worktree);
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
        recover_interrupted_extension(repo, dir, done);
        const fs::path marker = dir / "creating.json";
        if (!fs::exists(marker)) continue;
        std::ifstream in(marker);
        const auto record = nlohmann::json::parse(in, nullptr, false);
        proc::ProcessIdentity creator;
        if (record.is_object()) {
            creator.pid = record.value("pid", 0L);
            creator.start_ticks = record.value("start_ticks", 0ULL);
        }
        if (proc::is_running(creator) || git_still_adding(id, creator)) continue;  // still being created
        if (left_to_its_user(marker, fmt::format("`git model sweep start` of sweep {}", id), done)) continue;
        // Another command may be recovering it too: take turns, then look again.
        model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep: recovering sweep {}", id));
        if (!fs::exists(marker)) continue;
        Sweep sweep;
        try {
            sweep = load_from(dir);
        } catch (const ForeignSweepError&) {
            continue;  // another repository's sweep (a copy): nothing of it is this repository's to remove
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
