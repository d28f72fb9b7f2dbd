// git model env check [<model>] [--json] [--file <path>]
#include "../command_table.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::env_commands {

int check(const cli::Args& args) {
    const std::string usage = "git model env check [<model>] [--file <path>] [--json]";
    po::options_description options("options");
    options.add_options()
        ("file", po::value<std::string>()->value_name("<path>"), "check this file instead of the worktree's .modelenv.yaml")
        ("json", "print the resolved settings as JSON");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    config::ModelEnv env;
    if (vm.count("file")) {
        env = config::load_modelenv_file(vm["file"].as<std::string>());
    } else {
        // The working tree's file wherever it is (the base branch included), or a named model's.
        git::Library library;
        auto repo = git::Repository::discover();
        env = config::load_modelenv_file(env::worktree_environment_file(repo, cli::positional(vm, "model")));
    }
    if (vm.count("json")) fmt::print("{}\n", config::to_json(env).dump(2));
    else fmt::print("{}", config::describe(env));
    return 0;
}

}  // namespace gm::env_commands
