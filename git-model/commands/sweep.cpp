// git model sweep start|status|cancel|resume|clean|report: one worktree per
// hyper-parameter set, scheduled over the GPUs locally or on Slurm.
#include "../command_table.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/config/params_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/progress.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/sweep/create.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/k8s.hpp"
#include "gitmodel/sweep/local.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <unistd.h>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace gm::commands {

namespace {

const char* const sweep_usage =
    "git model sweep start [<model>] (--grid <name>=<v1>,<v2>... | --params-file <file>)... [--backend local|slurm]\n"
    "                      [--gpus-per-run <n>] [--max-parallel <n>] [--retries <n>] [--max-failures <n>] [--no-container] [--carry <path>]... [--export k8s|slurm [-o <file>] [--queue <name>]] [--report-job] -- <command>...\n"
    "   or: git model sweep status [<id>] [--json]\n"
    "   or: git model sweep cancel <id>\n"
    "   or: git model sweep resume <id>\n"
    "   or: git model sweep extend <id> (--grid <name>=<v1>,<v2>... | --params-file <file>)... [--allow-duplicates]\n"
    "   or: git model sweep clean <id>\n"
    "   or: git model sweep report [<id>] [--metric <name>] [--minimize|--maximize] [--json] [--tag-best]\n"
    "   or: git model sweep promote <id> [--run <k>] [--metric <name>] [--minimize|--maximize] [--no-push]";

// Each sweep command works on a repository whose interrupted sweep starts are undone first.
git::Repository open_repository() {
    auto repo = git::Repository::discover();
    for (const auto& line : sweep::recover_interrupted_creations(repo)) fmt::print(stderr, "git-model: {}\n", line);
    return repo;
}

// The sweep an id names; the newest one when no id is given (for the read-only commands).
sweep::Sweep find_sweep(const git::Repository& repo, const std::optional<std::string>& id) {
    if (id) return sweep::load(repo.common_dir(), *id);
    const auto ids = sweep::list_ids(repo.common_dir());
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        try {
            return sweep::load(repo.common_dir(), *it);
        } catch (const Error&) {
            // being created right now: take the one before
        }
    }
    throw Error("there is no sweep in this repository yet", "start one with `git model sweep start`");
}

std::string required_id(const po::variables_map& vm, const char* command) {
    if (auto id = cli::positional(vm, "id")) return *id;
    throw UsageError(fmt::format("git model sweep {} needs the sweep's id", command),
                     "`git model sweep status` lists the sweeps");
}

int positive_option(const po::variables_map& vm, const char* name, int fallback, int minimum) {
    if (!vm.count(name)) return fallback;
    const int value = vm[name].as<int>();
    if (value < minimum) throw UsageError(fmt::format("--{} must be at least {} (got {})", name, minimum, value));
    return value;
}

std::optional<std::string> slurm_option(const po::variables_map& vm, const char* name) {
    if (!vm.count(name)) return std::nullopt;
    const std::string value = vm[name].as<std::string>();
    if (auto problem = sweep::slurm_value_problem(value); !problem.empty())
        throw UsageError(fmt::format("--{} {}: it {}", name, quote_for_message(value), problem));
    return value;
}

// What --export k8s adds: the Kueue LocalQueue of --queue.
sweep::K8sExport k8s_options(const po::variables_map& vm, bool export_k8s) {
    sweep::K8sExport k8s;
    if (!vm.count("queue")) return k8s;
    if (!export_k8s) throw UsageError("--queue goes with --export k8s");
    k8s.queue = vm["queue"].as<std::string>();
    if (const auto problem = sweep::k8s_name_problem(*k8s.queue); !problem.empty())
        throw UsageError(fmt::format("--queue {}: the name {}", quote_for_message(*k8s.queue), problem));
    return k8s;
}

int sweep_start(const cli::Args& all_args) {
    const auto dashes = std::find(all_args.begin(), all_args.end(), "--");
    const cli::Args args(all_args.begin(), dashes);
    const std::vector<std::string> command =
        dashes == all_args.end() ? std::vector<std::string>{} : std::vector<std::string>(dashes + 1, all_args.end());
    po::options_description options("options");
    options.add_options()
        ("grid", po::value<std::vector<std::string>>()->composing()->value_name("<name>=<v1>,<v2>..."),
         "a parameter and its values; every combination of the grids is one run (repeatable)")
        ("params-file", po::value<std::string>()->value_name("<file>"),
         "YAML: a list of parameter sets, or a mapping of parameters to their values (a grid)")
        ("backend", po::value<std::string>()->value_name("<backend>"), "where the runs are scheduled: local (default) or slurm")
        ("gpus-per-run", po::value<int>()->value_name("<n>"), "GPUs each run gets (default 1; 0 for CPU-only runs)")
        ("max-parallel", po::value<int>()->value_name("<n>"), "at most this many runs at once (default: as the GPUs allow)")
        ("retries", po::value<int>()->value_name("<n>"), "start a failed run again up to this many times (default 0)")
        ("max-failures", po::value<int>()->value_name("<n>"),
         "start no new run once this many runs have failed, after their retries (default: no limit)")
        ("no-container", "run the command on the host (or node) instead of in the pinned image")
        ("carry", po::value<std::vector<std::string>>()->composing()->value_name("<path>"), "a run's file `sweep promote` commits too (repeatable)")
        ("partition", po::value<std::string>()->value_name("<name>"), "slurm: the partition")
        ("time", po::value<std::string>()->value_name("<limit>"), "slurm: each task's time limit, e.g. 2:00:00")
        ("account", po::value<std::string>()->value_name("<name>"), "slurm: the account to charge")
        ("export", po::value<std::string>()->value_name("<format>"),
         "k8s or slurm: create the runs and write a Kubernetes Indexed Job or a Slurm batch script for them "
         "instead of scheduling them")
        ("output,o", po::value<std::string>()->value_name("<file>"), "with --export: also write the manifest here")
        ("queue", po::value<std::string>()->value_name("<name>"), "with --export k8s: the Kueue LocalQueue to submit to")
        ("report-job", "slurm: after the runs, a job that writes the sweep's report (afterany)")
        ("quiet,q", "no progress while the runs are created (shown only on a terminal anyway)")
        ("json", "print the new sweep's status as JSON");
    const auto parsed = cli::parse_command(args, "git model sweep start [<model>] [options] -- <command>...", options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    sweep::CreateRequest request;
    if (command.empty())
        throw UsageError("the sweep needs the command each run runs, after --",
                         "e.g. git model sweep start resnet50 --grid lr=1e-3,3e-4 -- python train.py --lr {lr}");
    request.command = command;
    std::vector<config::ParameterSet> from_file;
    if (vm.count("params-file")) from_file = config::load_params_file(vm["params-file"].as<std::string>());
    std::vector<sweep::GridAxis> grid;
    if (vm.count("grid"))
        for (const auto& option : vm["grid"].as<std::vector<std::string>>()) grid.push_back(sweep::parse_grid_option(option));
    request.parameter_sets = sweep::expand(from_file, grid);
    const std::string backend = vm.count("backend") ? vm["backend"].as<std::string>() : "local";
    if (backend != "local" && backend != "slurm")
        throw UsageError(fmt::format("--backend {}: expected local or slurm", quote_for_message(backend)));
    request.backend = backend == "slurm" ? sweep::Backend::slurm : sweep::Backend::local;
    request.gpus_per_run = positive_option(vm, "gpus-per-run", 1, 0);
    request.max_parallel = positive_option(vm, "max-parallel", 0, 1);
    request.retries = positive_option(vm, "retries", 0, 0);
    request.max_failures = positive_option(vm, "max-failures", 0, 1);
    request.container = vm.count("no-container") == 0;
    if (vm.count("carry")) request.carry = vm["carry"].as<std::vector<std::string>>();  // checked by create_sweep (exit 2)
    request.slurm.partition = slurm_option(vm, "partition");
    request.slurm.time_limit = slurm_option(vm, "time");
    request.slurm.account = slurm_option(vm, "account");
    const std::string export_format = vm.count("export") ? vm["export"].as<std::string>() : "";
    if (!export_format.empty() && export_format != "k8s" && export_format != "slurm")
        throw UsageError(fmt::format("--export {}: expected k8s or slurm", quote_for_message(export_format)));
    const bool export_k8s = export_format == "k8s";
    const bool export_slurm = export_format == "slurm";
    if (export_k8s && (vm.count("backend") || vm.count("partition") || vm.count("time") || vm.count("account")))
        throw UsageError("--export k8s schedules nothing: leave out --backend and the Slurm options");
    if (export_k8s && !request.container) throw UsageError("--export k8s runs the pinned image: leave out --no-container");
    if (export_slurm && vm.count("backend") && request.backend != sweep::Backend::slurm)
        throw UsageError("--export slurm writes a Slurm batch script: leave out --backend local");
    if (export_slurm) request.backend = sweep::Backend::slurm;
    if (vm.count("output") && export_format.empty()) throw UsageError("--output goes with --export k8s or --export slurm");
    const sweep::K8sExport k8s = k8s_options(vm, export_k8s);
    request.slurm.report_job = vm.count("report-job") > 0;
    if (request.slurm.report_job && request.backend != sweep::Backend::slurm)
        throw UsageError("--report-job is a Slurm option: add --backend slurm or --export slurm");
    if (request.backend == sweep::Backend::local && (request.slurm.partition || request.slurm.time_limit || request.slurm.account))
        throw UsageError("--partition, --time and --account are Slurm options: add --backend slurm");

    git::Library library;
    auto repo = open_repository();
    if (request.backend == sweep::Backend::slurm) request.slurm.max_array_size = sweep::slurm_max_array_size(repo.config());
    request.model = model::resolve_model_name(repo, cli::positional(vm, "model"));
    // Everything the backend needs is checked before the first run is made.
    if (export_k8s || export_slurm) {
        // Nothing is scheduled from here: the batch script may be submitted from a login node.
    } else if (request.backend == sweep::Backend::slurm) {
        sweep::check_slurm_prerequisites();
    } else {
        sweep::Sweep draft;
        draft.gpus_per_run = request.gpus_per_run;
        draft.max_parallel = request.max_parallel;
        draft.container = request.container;
        for (const auto& warning : sweep::check_local_prerequisites(draft, repo.config()))
            fmt::print(stderr, "git-model: {}\n", warning);
    }
    Progress progress("Creating runs", "run", request.parameter_sets.size(),
                      progress_wanted(vm.count("quiet") > 0 || vm.count("json") > 0));
    auto sweep = sweep::create_sweep(repo, request, [&](const sweep::RunSpec& run) {
        progress.update(static_cast<std::size_t>(run.number), sweep::describe(run.params));
    });
    progress.finish();
    std::string scheduled;
    try {
        if (export_k8s) {
            const std::string manifest = sweep::indexed_job_manifest(sweep, k8s);
            const fs::path file = sweep::sweep_dir(sweep.common_dir, sweep.id) / "k8s-job.yaml";
            sweep::write_file_atomically(file, manifest);
            if (vm.count("output")) sweep::write_file_atomically(vm["output"].as<std::string>(), manifest);
            scheduled = fmt::format("written as a Kubernetes Indexed Job: {}{}\n  kubectl apply -f {}", file.string(),
                                    vm.count("output") ? " and " + vm["output"].as<std::string>() : "",
                                    vm.count("output") ? vm["output"].as<std::string>() : file.string());
        } else if (export_slurm) {
            std::vector<int> numbers;
            for (const auto& run : sweep.runs) numbers.push_back(run.number);
            const auto scripts = sweep::write_batch_scripts(
                sweep, numbers, vm.count("output") ? std::optional<fs::path>(vm["output"].as<std::string>()) : std::nullopt);
            const std::string shown = vm.count("output") ? vm["output"].as<std::string>() : scripts.entry.string();
            scheduled = fmt::format("written as {}: {}{}\n  {} {}",
                                    scripts.entry_is_wrapper
                                        ? fmt::format("{}{}", count_of(scripts.parts.size(), "Slurm job array"),
                                                      scripts.report ? " and a report job" : "")
                                        : std::string("a Slurm batch script"),
                                    scripts.entry.string(), vm.count("output") ? " and " + vm["output"].as<std::string>() : "",
                                    scripts.entry_is_wrapper ? "sh" : "sbatch", shown);
        } else if (sweep.backend == sweep::Backend::slurm) {
            std::vector<int> numbers;
            for (const auto& run : sweep.runs) numbers.push_back(run.number);
            const std::string job = sweep::submit(sweep, numbers);
            scheduled = fmt::format("submitted to Slurm as job array{} {} ({})", job.find(',') == std::string::npos ? "" : "s",
                                    job, (sweep::sweep_dir(sweep.common_dir, sweep.id) / "sweep.sbatch").string());
        } else {
            sweep::start_local_scheduler(sweep);
            const auto record = sweep::load_scheduler(sweep);
            scheduled = record ? fmt::format("queued on this machine (scheduler pid {})", record->process.pid)
                               : std::string("queued on this machine (its scheduler has already ended)");
        }
    } catch (const Error& e) {
        const auto kept = sweep::destroy_sweep(repo, sweep);
        std::string message = fmt::format("{}; the sweep's runs were removed", e.what());
        for (const auto& line : kept) message += "\n  " + line;
        throw Error(message, e.hint(), e.code());
    }
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(sweep::status_json(sweep::view_sweep(sweep))));
        return 0;
    }
    fmt::print("Sweep {} of model {}: {}, {}\n", sweep.id, sweep.model, count_of(sweep.runs.size(), "run"), scheduled);
    fmt::print("  runs: {} ... {}\n", sweep.runs.front().branch, sweep.runs.back().branch);
    fmt::print("  logs: {}\n", sweep.logs_dir.string());
    if (export_format.empty() || export_slurm) fmt::print("  follow it with `git model sweep status {}`\n", sweep.id);
    return 0;
}

int sweep_status(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()("json", "print JSON (shape in git-model-sweep(1))");
    const auto parsed = cli::parse_command(args, "git model sweep status [<id>] [--json]", options, "id");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    git::Library library;
    auto repo = open_repository();
    const bool json = vm.count("json") > 0;
    if (!cli::positional(vm, "id")) {
        // Every sweep, one line each.
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        std::string lines;
        for (const auto& id : sweep::list_ids(repo.common_dir())) {
            sweep::Sweep sweep;
            try {
                sweep = sweep::load(repo.common_dir(), id);
            } catch (const Error&) {
                continue;
            }
            const auto view = sweep::view_sweep(sweep);
            if (json) {
                all.push_back(sweep::status_json(view));
                continue;
            }
            lines += fmt::format("{:>4}  {:<24} {:<6} {}: {}\n", sweep.id, sweep.model, sweep::to_string(sweep.backend),
                                 count_of(sweep.runs.size(), "run"), view.summary());
        }
        if (json) fmt::print("{}\n", json_text(all));
        else fmt::print("{}", lines.empty() ? "no sweeps yet; start one with `git model sweep start`\n" : lines);
        return 0;
    }
    const auto view = sweep::view_sweep(find_sweep(repo, cli::positional(vm, "id")));
    if (json) fmt::print("{}\n", json_text(sweep::status_json(view)));
    else fmt::print("{}", sweep::render_status(view));
    return 0;
}

int sweep_cancel(const cli::Args& args) {
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, "git model sweep cancel <id>", options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    const auto sweep = sweep::load(repo.common_dir(), required_id(*parsed, "cancel"));
    int stopped = 0;
    if (sweep.backend == sweep::Backend::slurm) {
        const auto cancelled_at = now_seconds();
        sweep::cancel_slurm(sweep);
        for (const auto& run : sweep.runs) {
            auto status = sweep::load_run(sweep, run.number);
            // Slurm signals every process of a task, so a run may have recorded its own death first.
            const bool killed_by_us = status.state == sweep::RunState::failed && status.signal != 0 &&
                                      status.ended >= cancelled_at - 1;
            if (status.state != sweep::RunState::queued && status.state != sweep::RunState::running && !killed_by_us)
                continue;
            status.state = sweep::RunState::cancelled;
            status.note = status.started ? "stopped by `git model sweep cancel`" : "cancelled before it started";
            if (status.started && !status.ended) status.ended = now_seconds();
            sweep::save_run(sweep, run.number, status);
            ++stopped;
        }
    } else {
        std::vector<std::string> notes;
        stopped = sweep::cancel_local(sweep, &notes);
        for (const auto& note : notes) fmt::print(stderr, "git-model: warning: {}\n", note);
    }
    fmt::print("Cancelled sweep {}: {} unfinished run{} stopped; worktrees and branches are kept\n", sweep.id, stopped,
               stopped == 1 ? "" : "s");
    fmt::print("  `git model sweep resume {}` reruns them, `git model sweep clean {}` removes the worktrees\n", sweep.id,
               sweep.id);
    return 0;
}

int sweep_resume(const cli::Args& args) {
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, "git model sweep resume <id>", options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    const std::string id = required_id(*parsed, "resume");
    sweep::load(repo.common_dir(), id);  // "there is no sweep" before a lock file is made
    // One resume or extend of a sweep at a time: a second one finds the first one's scheduler running.
    const auto scheduling = sweep::lock_scheduling(repo.common_dir(), id);
    auto sweep = sweep::load(repo.common_dir(), id);
    const auto view = sweep::view_sweep(sweep);
    if (sweep.backend == sweep::Backend::local && sweep::scheduler_running(sweep))
        throw Error(fmt::format("sweep {} is still running", sweep.id),
                    "wait for it, or stop it first with `git model sweep cancel`");
    std::vector<int> numbers;
    for (const auto& run : view.runs) {
        if (run.state == sweep::RunState::done) continue;
        // Its scheduler died, but its process still runs: a second start would share its worktree.
        if (sweep.backend == sweep::Backend::local && run.state == sweep::RunState::running)
            throw Error(fmt::format("run {} of sweep {} is still running (pid {}), though its scheduler stopped",
                                    run.spec.number, sweep.id, run.status.process.pid),
                        fmt::format("wait for it, or stop it first with `git model sweep cancel {}`", sweep.id));
        // A run --max-failures held back is queued in its record only: Slurm runs nothing of it.
        const bool in_slurm = run.state == sweep::RunState::running || (run.state == sweep::RunState::queued && !run.status.held);
        if (sweep.backend == sweep::Backend::slurm && in_slurm)
            throw Error(fmt::format("run {} of sweep {} is still {} in Slurm", run.spec.number, sweep.id, sweep::to_string(run.state)),
                        "wait for it, or stop the sweep first with `git model sweep cancel`");
        numbers.push_back(run.spec.number);
    }
    if (numbers.empty()) {
        fmt::print("Sweep {}: every run is done; nothing to resume\n", sweep.id);
        return 0;
    }
    for (const auto& run : sweep.runs) {
        if (!fs::is_directory(run.worktree) && std::find(numbers.begin(), numbers.end(), run.number) != numbers.end())
            throw Error(fmt::format("run {}'s worktree {} is gone (cleaned?)", run.number, run.worktree.string()),
                        fmt::format("recreate it with `git worktree add {} {}`", run.worktree.string(), run.branch));
    }
    if (sweep.backend == sweep::Backend::local) {
        for (const auto& warning : sweep::check_local_prerequisites(sweep, repo.config()))
            fmt::print(stderr, "git-model: {}\n", warning);
    } else {
        sweep::check_slurm_prerequisites();
    }
    std::vector<sweep::RunStatus> before;
    for (int number : numbers) {
        auto status = sweep::load_run(sweep, number);
        before.push_back(status);
        status.state = sweep::RunState::queued;
        status.tries = 0;      // its --retries afresh
        status.held = false;   // and the --max-failures budget: every failed run is queued again
        status.note = "queued again by `git model sweep resume`";
        sweep::save_run(sweep, number, status);
    }
    std::string scheduled;
    const std::size_t jobs_before = sweep.slurm.job_ids.size();
    try {
        if (sweep.backend == sweep::Backend::local) {
            sweep::start_local_scheduler(sweep);
            scheduled = "queued on this machine";
        } else {
            scheduled = "submitted to Slurm as job array " + sweep::submit(sweep, numbers);
        }
    } catch (const Error&) {
        // Nothing was scheduled: the runs keep their states, so that status tells the truth and a
        // second resume is not refused as "still queued in Slurm".
        if (sweep.slurm.job_ids.size() == jobs_before)
            for (std::size_t i = 0; i < numbers.size(); ++i) sweep::save_run(sweep, numbers[i], before[i]);
        throw;
    }
    fmt::print("Resumed sweep {}: run{} {} {}\n", sweep.id, numbers.size() == 1 ? "" : "s", sweep::array_ranges(numbers),
               scheduled);
    return 0;
}

// Refuses to extend what git model does not schedule itself: an exported sweep runs elsewhere.
void check_extendable(const sweep::Sweep& sweep) {
    std::error_code ec;
    if (fs::exists(sweep::sweep_dir(sweep.common_dir, sweep.id) / "k8s-job.yaml", ec) ||
        (sweep.backend == sweep::Backend::slurm && sweep.slurm.job_ids.empty()))
        throw Error(fmt::format("sweep {} was exported (--export), so git model does not schedule its runs", sweep.id),
                    "start a new sweep with --export for the new parameter sets");
}

int sweep_extend(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()
        ("grid", po::value<std::vector<std::string>>()->composing()->value_name("<name>=<v1>,<v2>..."),
         "a parameter and its values; every combination of the grids is one new run (repeatable)")
        ("params-file", po::value<std::string>()->value_name("<file>"),
         "YAML: a list of parameter sets, or a mapping of parameters to their values (a grid)")
        ("allow-duplicates", "add a run even when the sweep already has one with the same parameters")
        ("quiet,q", "no progress while the runs are created (shown only on a terminal anyway)");
    const auto parsed = cli::parse_command(args, "git model sweep extend <id> (--grid <name>=<v1>,<v2>... | --params-file <file>)...",
                                           options, "id");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    const std::string id = required_id(vm, "extend");
    if (!vm.count("grid") && !vm.count("params-file"))
        throw UsageError("git model sweep extend needs the new parameter sets: --grid or --params-file");
    sweep::ExtendRequest request;
    std::vector<config::ParameterSet> from_file;
    if (vm.count("params-file")) from_file = config::load_params_file(vm["params-file"].as<std::string>());
    std::vector<sweep::GridAxis> grid;
    if (vm.count("grid"))
        for (const auto& option : vm["grid"].as<std::vector<std::string>>()) grid.push_back(sweep::parse_grid_option(option));
    request.parameter_sets = sweep::expand(from_file, grid);
    request.allow_duplicates = vm.count("allow-duplicates") > 0;
    git::Library library;
    auto repo = open_repository();
    sweep::load(repo.common_dir(), id);  // "there is no sweep" before a lock file is made
    // One extend of a sweep at a time, from reading its runs to scheduling the new ones.
    const auto scheduling = sweep::lock_scheduling(repo.common_dir(), id);
    auto sweep = sweep::load(repo.common_dir(), id);
    check_extendable(sweep);
    if (sweep.backend == sweep::Backend::local) {
        for (const auto& warning : sweep::check_local_prerequisites(sweep, repo.config()))
            fmt::print(stderr, "git-model: {}\n", warning);
    } else {
        sweep::check_slurm_prerequisites();
    }
    Progress progress("Creating runs", "run", request.parameter_sets.size(), progress_wanted(vm.count("quiet") > 0));
    const int first = static_cast<int>(sweep.runs.size()) + 1;
    const auto numbers = sweep::extend_sweep(repo, sweep, request, [&](const sweep::RunSpec& run) {
        progress.update(static_cast<std::size_t>(run.number - first + 1), sweep::describe(run.params));
    });
    progress.finish();
    std::string scheduled;
    try {
        if (sweep.backend == sweep::Backend::slurm) {
            scheduled = "submitted to Slurm as job array " + sweep::submit(sweep, numbers);
        } else if (sweep::scheduler_running(sweep)) {
            scheduled = "queued for the sweep's running scheduler";
        } else {
            sweep::start_local_scheduler(sweep);
            scheduled = "queued on this machine";
        }
    } catch (const Error& e) {
        std::string message = fmt::format("{}; the new runs were removed", e.what());
        for (const auto& line : sweep::retract_runs(repo, sweep, first)) message += "\n  " + line;
        throw Error(message, e.hint(), e.code());
    }
    fmt::print("Extended sweep {}: run{} {} ({}) {}\n", sweep.id, numbers.size() == 1 ? "" : "s", sweep::array_ranges(numbers),
               count_of(numbers.size(), "new run"), scheduled);
    return 0;
}

int sweep_clean(const cli::Args& args) {
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, "git model sweep clean <id>", options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    const auto sweep = sweep::load(repo.common_dir(), required_id(*parsed, "clean"));
    const auto view = sweep::view_sweep(sweep);
    int removed = 0, kept = 0;
    for (const auto& run : view.runs) {
        if (run.state == sweep::RunState::queued || run.state == sweep::RunState::running) {
            fmt::print("run {}: {}, its worktree stays\n", run.spec.number, sweep::to_string(run.state));
            ++kept;
            continue;
        }
        if (!fs::exists(run.spec.worktree)) continue;
        // The results stay beside the sweep's record; the worktree's copy may then go.
        const fs::path metrics = run.spec.worktree / sweep::metrics_file_name;
        if (fs::exists(metrics)) {
            sweep::save_metrics_copy(sweep, run.spec);
            std::ifstream a(metrics), b(sweep::saved_metrics(sweep, run.spec.number));
            const std::string left((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
            const std::string right((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
            if (left == right) fs::remove(metrics);
        }
        const std::string why = sweep::remove_finished_run_worktree(repo, run.spec);
        if (why.empty()) {
            fmt::print("run {}: removed {} (branch {} kept)\n", run.spec.number, run.spec.worktree.string(), run.spec.branch);
            ++removed;
        } else {
            fmt::print("run {}: kept {}: {}\n", run.spec.number, run.spec.worktree.string(), why);
            ++kept;
        }
    }
    fmt::print("Cleaned sweep {}: {} worktree{} removed, {} kept; branches and snapshots are kept\n", sweep.id, removed,
               removed == 1 ? "" : "s", kept);
    return 0;
}

int sweep_report(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()
        ("metric", po::value<std::string>()->value_name("<name>"), "rank by this metric (default: the first one written)")
        ("minimize", "lower is better; default: as the metric's name implies (loss, error, ... lowest first)")
        ("maximize", "higher is better; default: as the metric's name implies")
        ("json", "print JSON (shape in git-model-sweep(1))")
        ("tag-best", "snapshot the best run with `git model tag` and its metrics");
    const auto parsed = cli::parse_command(args, "git model sweep report [<id>] [--metric <name>] [--minimize|--maximize] [--json] [--tag-best]",
                                           options, "id");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    if (vm.count("minimize") && vm.count("maximize"))
        throw UsageError("--minimize and --maximize exclude each other",
                         "usage: git model sweep report [<id>] [--metric <name>] [--minimize|--maximize] [--json] [--tag-best]");
    git::Library library;
    auto repo = open_repository();
    const auto sweep = find_sweep(repo, cli::positional(vm, "id"));
    const auto report = sweep::build_report(
        sweep::view_sweep(sweep), vm.count("metric") ? std::optional<std::string>(vm["metric"].as<std::string>()) : std::nullopt,
        vm.count("minimize") > 0, vm.count("maximize") > 0);
    std::optional<snapshots::Snapshot> tagged;
    if (vm.count("tag-best")) {
        if (report.metric.empty() || report.results.empty() ||
            !snapshots::find_metric(report.results.front().metrics, report.metric))
            throw Error(fmt::format("no run of sweep {} has recorded metrics yet, so none is best", sweep.id),
                        fmt::format("runs write them to {} in their worktree", sweep::metrics_file_name));
        const auto& best = report.results.front();
        snapshots::TagRequest request;
        request.model = best.run.spec.model;
        for (const auto& metric : best.metrics)
            if (!snapshots::metric_name_problem(metric.name)) request.metrics.push_back(metric);
        request.message = fmt::format("Best run of sweep {} of {} by {}: {}", sweep.id, sweep.model, report.metric,
                                      sweep::describe(best.run.spec.params));
        tagged = snapshots::create_snapshot(repo, request);
    }
    if (vm.count("json")) {
        auto document = sweep::report_json(report);
        document["tagged"] = tagged ? nlohmann::ordered_json(tagged->tag) : nlohmann::ordered_json(nullptr);
        fmt::print("{}\n", json_text(document));
        return 0;
    }
    fmt::print("{}", sweep::render_report(report));
    if (tagged) fmt::print("\nTagged {} at {} (run {})\n", tagged->tag, tagged->commit.substr(0, 10), report.results.front().run.spec.number);
    return 0;
}

// Internal: the detached local scheduler.
int sweep_schedule(const cli::Args& args) {
    if (args.size() != 1) throw UsageError("usage: git-model sweep schedule <sweep folder> (started by sweep start)");
    return sweep::run_local_scheduler(args[0]);
}

// Internal: one Slurm array task.
int sweep_task(const cli::Args& args) {
    if (args.size() != 2 || args[1].empty() || args[1].find_first_not_of("0123456789") != std::string::npos)
        throw UsageError("usage: git-model sweep task <sweep folder> <run> (run by the sweep's Slurm script)");
    return sweep::run_slurm_task(args[0], std::stoi(args[1]));
}

}  // namespace

int sweep(const cli::Args& args) {
    struct Sub {
        const char* name;
        int (*run)(const cli::Args&);
    };
    static const Sub subcommands[] = {
        {"start", sweep_start},   {"status", sweep_status}, {"cancel", sweep_cancel},     {"resume", sweep_resume},
        {"extend", sweep_extend}, {"clean", sweep_clean},   {"report", sweep_report}, {"promote", sweep_promote}, {"schedule", sweep_schedule}, {"task", sweep_task},
    };
    if (args.empty() || args[0] == "-h") {
        fmt::print("usage: {}\n", sweep_usage);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--help") {  // reached only when git-model-sweep(1) could not be opened (dispatch tried)
        fmt::print("usage: {}\n", sweep_usage);
        return 0;
    }
    const cli::Args rest(args.begin() + 1, args.end());
    for (const auto& sub : subcommands)
        if (args[0] == sub.name) return sub.run(rest);
    std::vector<std::string> names{"start", "status", "cancel", "resume", "extend", "clean", "report", "promote"};
    const auto guess = closest_match(args[0], names);
    throw UsageError(fmt::format("'{}' is not a sweep command{}", args[0], guess ? fmt::format("; did you mean '{}'?", *guess) : ""),
                     "git model sweep start|status|cancel|resume|extend|clean|report|promote");
}

}  // namespace gm::commands
