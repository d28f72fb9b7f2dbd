// git model sweep extend: add runs to a sweep and schedule them.
#include "sweep.hpp"

#include "gitmodel/config/params_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/progress.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/sweep/operations.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

namespace po = boost::program_options;

int extend(const cli::Args& args) {
    po::options_description options("options");
    add_parameter_options(options, "a parameter and its values; every combination of the grids is one new run (repeatable)");
    options.add_options()
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
    Progress progress("Creating runs", "run", request.parameter_sets.size(), progress_wanted(vm.count("quiet") > 0));
    const auto extended = sweep::extend_and_schedule(repo, id, request, warn, [&](std::size_t k, const sweep::RunSpec& run) {
        progress.update(k, sweep::describe(run.params));
    });
    progress.finish();
    const auto& numbers = extended.numbers;
    fmt::print("Extended sweep {}: run{} {} ({}) {}\n", id, numbers.size() == 1 ? "" : "s", sweep::array_ranges(numbers),
               count_of(numbers.size(), "new run"), extended.scheduled);
    return 0;
}

}  // namespace gm::commands::sweep_commands
