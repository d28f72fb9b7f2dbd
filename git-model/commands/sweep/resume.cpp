// git model sweep resume: queue a sweep's unfinished runs again and schedule them.
#include "sweep.hpp"

#include "gitmodel/sweep/operations.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

int resume(const cli::Args& args) {
    boost::program_options::options_description options("options");
    const auto parsed = cli::parse_command(args, "git model sweep resume <id>", options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    const std::string id = required_id(*parsed, "resume");
    const auto resumed = sweep::resume_sweep(repo, id, warn);
    if (resumed.numbers.empty()) {
        fmt::print("Sweep {}: every run is done; nothing to resume\n", id);
        return 0;
    }
    fmt::print("Resumed sweep {}: run{} {} {}\n", id, resumed.numbers.size() == 1 ? "" : "s",
               sweep::array_ranges(resumed.numbers), resumed.scheduled);
    return 0;
}

}  // namespace gm::commands::sweep_commands
