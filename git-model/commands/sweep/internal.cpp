// The hidden sweep subcommands the suite runs itself: the local scheduler and a Slurm task.
#include "sweep.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/sweep/local.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

// Internal: the detached local scheduler.
int schedule(const cli::Args& args) {
    if (args.size() != 1 || args[0].empty())
        throw UsageError("usage: git-model sweep schedule <sweep folder> (started by sweep start)");
    // A second scheduler of one sweep (this command run by hand) would start its queued runs again.
    const auto sweep = sweep::load_from(args[0]);
    if (const auto record = sweep::load_scheduler(sweep); record && sweep::scheduler_running(sweep))
        throw Error(fmt::format("sweep {} already has a scheduler (process {}); a second one would run its runs twice",
                                sweep.id, record->process.pid),
                    fmt::format("`git model sweep status {}` follows it", sweep.id));
    return sweep::run_local_scheduler(args[0]);
}

// Internal: one Slurm array task.
int task(const cli::Args& args) {
    if (args.size() != 2 || args[1].empty() || args[1].size() > 9 || args[1].find_first_not_of("0123456789") != std::string::npos)
        throw UsageError("usage: git-model sweep task <sweep folder> <run> (run by the sweep's Slurm script)");
    return sweep::run_slurm_task(args[0], std::stoi(args[1]));
}

}  // namespace gm::commands::sweep_commands
