#include "gitmodel/sweep/operations.hpp"

#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/sweep/backend.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/shelf.hpp"
#include "gitmodel/sweep/slurm.hpp"
#include "gitmodel/sweep/tidy.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

namespace gm::sweep {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void warn_all(const std::vector<std::string>& warnings, const Warn& warn) {
    if (warn)
        for (const auto& warning : warnings) warn(warning);
}

std::string export_k8s(const Sweep& sweep, const LaunchRequest& launch) {
    const std::string manifest = indexed_job_manifest(sweep, launch.k8s);
    const fs::path file = sweep_dir(sweep.common_dir, sweep.id) / "k8s-job.yaml";
    write_file_atomically(file, manifest);
    if (launch.output) write_file_atomically(*launch.output, manifest);
    return fmt::format("written as a Kubernetes Indexed Job: {}{}\n  kubectl apply -f {}", file.string(),
                       launch.output ? " and " + launch.output->string() : "",
                       launch.output ? launch.output->string() : file.string());
}

std::string export_slurm(const Sweep& sweep, const LaunchRequest& launch) {
    std::vector<int> numbers;
    for (const auto& run : sweep.runs) numbers.push_back(run.number);
    const auto scripts = write_batch_scripts(sweep, numbers, launch.output);
    const std::string shown = launch.output ? launch.output->string() : scripts.entry.string();
    return fmt::format("written as {}: {}{}\n  {} {}",
                       scripts.entry_is_wrapper
                           ? fmt::format("{}{}", count_of(scripts.parts.size(), "Slurm job array"),
                                         scripts.report ? " and a report job" : "")
                           : std::string("a Slurm batch script"),
                       scripts.entry.string(), launch.output ? " and " + launch.output->string() : "",
                       scripts.entry_is_wrapper ? "sh" : "sbatch", shown);
}

// Refuses to extend what git model does not schedule itself: an exported sweep runs elsewhere.
void check_extendable(const Sweep& sweep) {
    if (exported_to_k8s(sweep) || (sweep.backend == Backend::slurm && sweep.slurm.job_ids.empty()))
        throw Error(fmt::format("sweep {} was exported (--export), so git model does not schedule its runs", sweep.id),
                    "start a new sweep with --export for the new parameter sets");
}

}  // namespace

git::Repository open_sweep_repository(const Warn& warn) {
    auto repo = git::Repository::discover();
    warn_all(recover_interrupted_creations(repo), warn);
    return repo;
}

Sweep find_sweep(const git::Repository& repo, const std::optional<std::string>& id) {
    if (id) return load(repo.common_dir(), *id);
    const auto ids = list_ids(repo.common_dir());
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        try {
            return load(repo.common_dir(), *it);
        } catch (const Error&) {
            // being created right now: take the one before
        }
    }
    throw Error("there is no sweep in this repository yet", "start one with `git model sweep start`");
}

void check_launch(const git::Repository& repo, const CreateRequest& request, const LaunchRequest& launch, const Warn& warn) {
    // Nothing is scheduled from here for an export: the batch script may be submitted from a login node.
    if (!launch.export_format.empty()) return;
    Sweep draft;
    draft.backend = request.backend;
    draft.gpus_per_run = request.gpus_per_run;
    draft.max_parallel = request.max_parallel;
    draft.container = request.container;
    warn_all(driver_for(request.backend)->check_prerequisites(draft, repo.config()), warn);
}

namespace {

// Schedules or exports a new sweep; returns how, in words. On failure removes the sweep's runs
// and throws gm::Error saying so (and what had to be kept).
std::string launch_sweep(git::Repository& repo, Sweep& sweep, const LaunchRequest& launch) {
    try {
        if (launch.export_format == "k8s") return export_k8s(sweep, launch);
        if (launch.export_format == "slurm") return export_slurm(sweep, launch);
        return driver_for(sweep.backend)->start(sweep);
    } catch (const Error& e) {
        const auto kept = destroy_sweep(repo, sweep);
        std::string message = fmt::format("{}; the sweep's runs were removed", e.what());
        for (const auto& line : kept) message += "\n  " + line;
        throw Error(message, e.hint(), e.code());
    }
}

// When a signal came while runs were made (deferred until they could be undone): `undo` removes
// them, the error says so, and the process ends with the signal, as it would have ended.
void end_if_interrupted(const std::string& removed, const std::function<std::vector<std::string>()>& undo) {
    const int signal = DeferSignals::pending();
    if (signal == 0) return;
    std::string message = fmt::format("interrupted by signal {}; {}", signal, removed);
    try {
        for (const auto& line : undo()) message += "\n  " + line;
    } catch (const Error& e) {
        message += fmt::format(" (not all: {}; the next sweep command removes them)", e.what());
    }
    fmt::print(stderr, "git-model: error: {}\n", message);
    DeferSignals::raise_pending();
}

// A signal that came after the runs were handed on: they run, and the user hears how to stop them.
void warn_if_interrupted(const Sweep& sweep, const Warn& warn) {
    if (const int signal = DeferSignals::pending())
        warn(fmt::format("signal {} came after sweep {} was scheduled: its runs go on; `git model sweep cancel {}` stops them",
                         signal, sweep.id, sweep.id));
}

}  // namespace

Started start_sweep(git::Repository& repo, const CreateRequest& request, const LaunchRequest& launch,
                    const Warn& warn, const std::function<void(const RunSpec&)>& progress) {
    DeferSignals defer;  // create_sweep checks between runs; this one covers the steps after the last
    DeferSignals::clear();
    Started started{create_sweep(repo, request, progress), {}};
    end_if_interrupted("the sweep's runs were removed", [&] { return destroy_sweep(repo, started.sweep); });
    started.scheduled = launch_sweep(repo, started.sweep, launch);
    warn_if_interrupted(started.sweep, warn);
    return started;
}

Cancelled cancel_sweep(const Sweep& sweep) {
    refuse_others_sweep(sweep, "cancel");
    Cancelled result;
    result.stopped = driver_for(sweep)->cancel(sweep, result.notes);
    for (const auto& run : sweep.runs) {
        const auto state = load_run(sweep, run.number).state;
        result.left += state == RunState::queued || state == RunState::running ? 1 : 0;
    }
    return result;
}

Resumed resume_sweep(git::Repository& repo, const std::string& id, const Warn& warn) {
    refuse_others_sweep(load(repo.common_dir(), id), "resume");  // "there is no sweep" before a lock file is made
    // One resume or extend of a sweep at a time: a second one finds the first one's scheduler running.
    const auto scheduling = lock_scheduling(repo.common_dir(), id);
    auto sweep = load(repo.common_dir(), id);
    const auto driver = driver_for(sweep);
    const auto view = view_sweep(sweep);
    driver->check_idle(sweep);
    Resumed result;
    for (const auto& run : view.runs) {
        if (run.state == RunState::done) continue;
        driver->check_requeueable(sweep, run);
        result.numbers.push_back(run.spec.number);
    }
    // A run whose worktree and branch `clean --branches` removed is not resumed (the others are,
    // and runs an extend added later); one whose branch is still here waits for its worktree.
    bool left_out = false;
    for (const auto& run : sweep.runs) {
        const auto at = std::find(result.numbers.begin(), result.numbers.end(), run.number);
        if (at == result.numbers.end()) continue;
        if (fs::is_directory(run.worktree)) {
            // A folder another user put where `clean` removed the run's worktree (a shared
            // model.worktreeRoot) would have this user run their code.
            if (!run_worktree_ours(sweep, run)) throw foreign_run_worktree(run);
            continue;
        }
        if (repo.branch_target(run.branch))
            throw Error(fmt::format("run {}'s worktree {} is gone (cleaned?)", run.number, run.worktree.string()),
                        fmt::format("recreate it with `git worktree add {} {}`", hint_word(run.worktree.string()),
                                    hint_word(run.branch)));
        result.numbers.erase(at);
        left_out = true;
        warn(fmt::format("run {} is not resumed: its worktree and branch {} were removed (by sweep clean --branches, or by hand); to run "
                         "it again, recreate them with `git worktree add -b {} {} {}` and resume",
                         run.number, run.branch, hint_word(run.branch),
                         hint_word(run.worktree.string()), short_id(run.commit)));
    }
    if (result.numbers.empty()) {
        if (!left_out) return result;
        throw Error(fmt::format("sweep {} has no run to resume: its unfinished runs' worktrees and branches were removed",
                                sweep.id),
                    "recreate a run's worktree and branch as said above, or extend the sweep with new parameter sets");
    }
    const auto& numbers = result.numbers;
    warn_all(driver->check_prerequisites(sweep, repo.config()), warn);
    std::vector<RunStatus> before;
    for (int number : numbers) {
        auto status = load_run(sweep, number);
        before.push_back(status);
        status.state = RunState::queued;
        status.tries = 0;     // its --retries afresh
        status.held = false;  // and the --max-failures budget: every failed run is queued again
        status.note = "queued again by `git model sweep resume`";
        save_run(sweep, number, status);
    }
    const std::size_t jobs_before = sweep.slurm.job_ids.size();
    try {
        result.scheduled = driver->submit(sweep, numbers);
    } catch (const Error&) {
        // Nothing was scheduled: the runs keep their states, so that status tells the truth and a
        // second resume is not refused as "still queued in Slurm".
        if (sweep.slurm.job_ids.size() == jobs_before)
            for (std::size_t i = 0; i < numbers.size(); ++i) save_run(sweep, numbers[i], before[i]);
        throw;
    }
    return result;
}

Extended extend_and_schedule(git::Repository& repo, const std::string& id, const ExtendRequest& request,
                             const Warn& warn, const std::function<void(std::size_t, const RunSpec&)>& progress) {
    refuse_others_sweep(load(repo.common_dir(), id), "extend");  // "there is no sweep" before a lock file is made
    // One extend of a sweep at a time, from reading its runs to scheduling the new ones.
    const auto scheduling = lock_scheduling(repo.common_dir(), id);
    auto sweep = load(repo.common_dir(), id);
    check_extendable(sweep);
    const auto driver = driver_for(sweep);
    warn_all(driver->check_prerequisites(sweep, repo.config()), warn);
    const int first = static_cast<int>(sweep.runs.size()) + 1;
    Extended result;
    DeferSignals defer;  // extend_sweep checks between runs; this one covers the steps after the last
    DeferSignals::clear();
    result.numbers = extend_sweep(repo, sweep, request, [&](const RunSpec& run) {
        if (progress) progress(static_cast<std::size_t>(run.number - first + 1), run);
    });
    end_if_interrupted("the new runs were removed", [&] { return retract_runs(repo, sweep, first); });
    try {
        result.scheduled = driver->submit(sweep, result.numbers);
    } catch (const Error& e) {
        std::string message = fmt::format("{}; the new runs were removed", e.what());
        for (const auto& line : retract_runs(repo, sweep, first)) message += "\n  " + line;
        throw Error(message, e.hint(), e.code());
    }
    warn_if_interrupted(sweep, warn);
    return result;
}

namespace {

// The names of the repository's containers, in one engine call (none when the engine cannot say).
std::set<std::string> repository_containers(const env::Engine& engine, const fs::path& common_dir) {
    std::set<std::string> names;
    try {
        for (const auto& container : env::list_containers(engine, std::string(env::label::repo) + "=" + common_dir.string()))
            names.insert(container.name);
    } catch (const Error&) {
        // the worktrees are cleaned all the same; a container left stays for the next clean
    }
    return names;
}

// An ended run's container that is still there (made by a scheduler killed before it could
// start or remove it): removed, before its worktree goes. Says what it did, or "" for nothing.
std::string remove_left_container(const env::Engine& engine, const std::set<std::string>& present, const Sweep& sweep,
                                  int number) {
    const std::string container = load_run(sweep, number).container;
    if (container.empty() || !present.count(container)) return {};
    try {
        env::remove_container(engine, container, 0s);
        return fmt::format("removed its container {}, which was left behind", container);
    } catch (const Error& e) {
        return fmt::format("its container {} was left behind and could not be removed: {}", container, e.what());
    }
}

}  // namespace

Cleaned clean_sweep(git::Repository& repo, const Sweep& recorded) {
    refuse_others_sweep(recorded, "clean");
    Cleaned result;
    // A resume or extend of this sweep finishes queueing its runs first (then they are kept as
    // queued), or waits until this clean is done (then finds their worktrees gone): the states and
    // the record are read under the same lock as theirs.
    const auto scheduling = lock_scheduling(recorded.common_dir, recorded.id);
    const Sweep sweep = load(recorded.common_dir, recorded.id);
    std::optional<env::Engine> engine;
    try {
        engine = sweep_engine(sweep, repo.config());
    } catch (const Error&) {
        // no engine: no container of the sweep can be left
    }
    const auto present = engine ? repository_containers(*engine, sweep.common_dir) : std::set<std::string>{};
    for (const auto& run : view_sweep(sweep).runs) {
        if (run.state == RunState::queued || run.state == RunState::running) {
            result.lines.push_back(fmt::format("run {}: {}, its worktree stays", run.spec.number, to_string(run.state)));
            ++result.kept;
            continue;
        }
        if (engine) {
            if (auto line = remove_left_container(*engine, present, sweep, run.spec.number); !line.empty())
                result.lines.push_back(fmt::format("run {}: {}", run.spec.number, line));
        }
        if (!fs::exists(run.spec.worktree)) continue;
        // The results stay beside the sweep's record; the worktree's copy may then go (a carried
        // metrics.json goes to the shelf below instead).
        shelve_metrics(sweep, run.spec);
        // Carried files go to the run's shelf first (nothing moves when something else keeps the worktree).
        WorktreeShelving shelving;
        try {
            shelving = shelve_before_worktree_removal(repo, sweep, run.spec);
        } catch (const Error& e) {
            shelving.kept = fmt::format("its carried files could not be shelved: {}", e.what());
        }
        if (!shelving.kept.empty()) {
            result.lines.push_back(fmt::format("run {}: kept, {}", run.spec.number, shelving.kept));
            ++result.kept;
            continue;
        }
        if (!shelving.moved.empty())
            result.lines.push_back(fmt::format("run {}: shelved {} in {}", run.spec.number, describe_carried(shelving.moved),
                                               carried_shelf(sweep, run.spec.number).string()));
        const std::string why = remove_finished_run_worktree(repo, run.spec);
        if (why.empty()) {
            result.lines.push_back(fmt::format("run {}: removed {} (branch {} kept)", run.spec.number,
                                               run.spec.worktree.string(), run.spec.branch));
            ++result.removed;
        } else {
            result.lines.push_back(fmt::format("run {}: kept {}: {}", run.spec.number, run.spec.worktree.string(), why));
            ++result.kept;
        }
    }
    return result;
}

TaggedBest tag_best_run(git::Repository& repo, const Sweep& sweep, const Report& report) {
    if (report.metric.empty() || report.results.empty() ||
        !snapshots::find_metric(report.results.front().metrics, report.metric))
        throw Error(fmt::format("no run of sweep {} has recorded metrics yet, so none is best", sweep.id),
                    fmt::format("runs write them to {} in their worktree", metrics_file_name));
    const auto& best = report.results.front();
    snapshots::TagRequest request;
    request.model = best.run.spec.model;
    auto recorded = snapshot_metrics(best.metrics, report.metric);
    request.metrics = std::move(recorded.metrics);
    request.message = fmt::format("Best run of sweep {} of {} by {}: {}", sweep.id, sweep.model, report.metric,
                                  describe(best.run.spec.params));
    return {snapshots::create_snapshot(repo, request), recorded.left_out};
}

}  // namespace gm::sweep
