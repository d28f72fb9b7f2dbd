// git model env down [<model>]
#include "../command_table.hpp"
#include "common.hpp"

#include "gitmodel/env/environment.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::env_commands {

int down(const cli::Args& args) {
    const std::string usage = "git model env down [<model>]";
    po::options_description options("options");
    options.add_options()("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("model", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("model", 1);
    const auto vm = cli::parse(args, usage, options, positional, hidden);
    if (vm.count("help")) {
        cli::print_usage(usage, options);
        return 0;
    }
    git::Library library;
    auto repo = git::Repository::discover();
    const auto target = env::resolve_target(repo, model_argument(vm));
    if (env::down(repo, target))
        fmt::print("Environment of '{}' is down: {} removed, its GPUs given back; persist folders kept.\n", target.model,
                   target.container);
    else
        fmt::print("Environment of '{}' was not running; nothing to stop.\n", target.model);
    return 0;
}

}  // namespace gm::env_commands
