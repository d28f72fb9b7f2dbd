// git model sweep: one worktree per hyper-parameter set, scheduled over the GPUs locally or on
// Slurm. The table of its subcommands; each lives in sweep/<name>.cpp, its work in lib/gitmodel/sweep/.
#include "../command_table.hpp"
#include "sweep/sweep.hpp"

namespace gm::commands {

namespace {

const char* const sweep_usage =
    "git model sweep start [<model>] (--grid <name>=<v1>,<v2>... | --params-file <file>)... [--backend local|slurm]\n"
    "                      [--gpus-per-run <n>] [--max-parallel <n>] [--retries <n>] [--max-failures <n>] [--no-container] [--carry <path>]... [--export k8s|slurm [-o <file>] [--queue <name>]] [--report-job] -- <command>...\n"
    "   or: git model sweep status [<id>] [--json]\n"
    "   or: git model sweep cancel <id>\n"
    "   or: git model sweep resume <id>\n"
    "   or: git model sweep extend <id> (--grid <name>=<v1>,<v2>... | --params-file <file>)... [--allow-duplicates]\n"
    "   or: git model sweep clean <id> [--branches [--metric <name>] [--minimize|--maximize] [--force] [--dry-run]]\n"
    "   or: git model sweep report [<id>] [--metric <name>] [--minimize|--maximize] [--json] [--tag-best]\n"
    "   or: git model sweep promote <id> [--run <k>] [--metric <name>] [--minimize|--maximize] [--no-push]";

const cli::Group& sweep_group() {
    namespace sub = sweep_commands;
    static const cli::Group group{
        "git model sweep",
        sweep_usage,
        {
            {"start", {}, "create a run per parameter set and schedule (or export) them", sub::start},
            {"status", {}, "every sweep, or one sweep's runs", sub::status},
            {"cancel", {}, "stop a sweep's unfinished runs", sub::cancel},
            {"resume", {}, "queue a sweep's unfinished runs again", sub::resume},
            {"extend", {}, "add runs to a sweep", sub::extend},
            {"clean", {}, "remove a sweep's finished runs' worktrees (--branches: and branches)", sub::clean},
            {"report", {}, "rank a sweep's runs by a metric", sub::report},
            {"promote", {}, "commit a run's params.json (and --carry files) onto the model and snapshot it", sub::promote},
            {"schedule", {}, "the detached local scheduler", sub::schedule, {}, true},
            {"task", {}, "one Slurm array task", sub::task, {}, true},
        },
    };
    return group;
}

}  // namespace

int sweep(const cli::Args& args) { return cli::dispatch(sweep_group(), args); }

}  // namespace gm::commands
