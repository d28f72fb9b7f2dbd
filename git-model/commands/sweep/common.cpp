// What the sweep subcommands share: the repository, the id, numeric options, warnings.
#include "sweep.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/sweep/operations.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

namespace po = boost::program_options;

void warn(const std::string& line) { fmt::print(stderr, "git-model: {}\n", line); }

git::Repository open_repository() { return sweep::open_sweep_repository(warn); }

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

void add_parameter_options(po::options_description& options, const char* grid_help) {
    options.add_options()
        ("grid", po::value<std::vector<std::string>>()->composing()->value_name("<name>=<v1>,<v2>..."), grid_help)
        ("params-file", po::value<std::string>()->value_name("<file>"),
         "YAML: a list of parameter sets, or a mapping of parameters to their values (a grid)");
}

}  // namespace gm::commands::sweep_commands
