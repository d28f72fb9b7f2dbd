// git model sweep start: create a run per parameter set and schedule (or export) them.
#include "sweep.hpp"

#include "gitmodel/config/params_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/progress.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/sweep/create.hpp"
#include "gitmodel/sweep/k8s.hpp"
#include "gitmodel/sweep/operations.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace gm::commands::sweep_commands {

namespace po = boost::program_options;

namespace {

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

}  // namespace

int start(const cli::Args& all_args) {
    const auto dashes = std::find(all_args.begin(), all_args.end(), "--");
    const cli::Args args(all_args.begin(), dashes);
    const std::vector<std::string> command =
        dashes == all_args.end() ? std::vector<std::string>{} : std::vector<std::string>(dashes + 1, all_args.end());
    po::options_description options("options");
    add_parameter_options(options, "a parameter and its values; every combination of the grids is one run (repeatable)");
    options.add_options()
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

    sweep::LaunchRequest launch;
    launch.export_format = export_format;
    if (vm.count("output")) launch.output = vm["output"].as<std::string>();
    launch.k8s = k8s;

    git::Library library;
    auto repo = open_repository();
    if (request.backend == sweep::Backend::slurm) request.slurm.max_array_size = sweep::slurm_max_array_size(repo.config());
    request.model = model::resolve_model_name(repo, cli::positional(vm, "model"));
    // Everything the backend needs is checked before the first run is made.
    sweep::check_launch(repo, request, launch, warn);
    Progress progress("Creating runs", "run", request.parameter_sets.size(),
                      progress_wanted(vm.count("quiet") > 0 || vm.count("json") > 0));
    const auto [sweep, scheduled] = sweep::start_sweep(repo, request, launch, warn, [&](const sweep::RunSpec& run) {
        progress.update(static_cast<std::size_t>(run.number), sweep::describe(run.params));
    });
    progress.finish();
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

}  // namespace gm::commands::sweep_commands
