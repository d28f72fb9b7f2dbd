// git model env exec [<model>] -- <command>...; env shell [<model>]; env logs [<model>] [-f]
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/env/enter.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <unistd.h>

namespace po = boost::program_options;

namespace gm::env_commands {

namespace {

// The environment's container, checked to be running (for exec and shell) and git model's own.
std::pair<env::Engine, std::string> environment_container(const std::optional<std::string>& model, bool need_running) {
    git::Library library;
    auto repo = git::Repository::discover();
    const auto target = env::resolve_target(repo, model);
    auto engine = env::engine_for(repo, target);
    auto info = env::find_container(engine, target.container);
    if (info) {
        env::require_own_container(*info, target, engine);
    } else if (auto moved = env::moved_environment(engine, target)) {
        info = std::move(moved->container);  // started before the repository moved here: still the model's
    }
    if (!info || (need_running && info->state != "running")) {
        throw Error(fmt::format("the environment of '{}' is not running", target.model), "start it: git model env up");
    }
    return {std::move(engine), info->name};
}

// A command in the container: stdin, stdout, the exit code and the signals sent here are the command's.
int run_inside(const std::optional<std::string>& model, const std::vector<std::string>& command) {
    const auto [engine, container] = environment_container(model, true);
    std::vector<std::string> flags{"--interactive"};
    if (::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) flags.push_back("--tty");
    return env::run_in_container(engine, container, flags, command);
}

}  // namespace

int exec(const cli::Args& args) {
    const std::string usage = "git model env exec [<model>] -- <command> [<args>...]";
    // Everything after "--" is the command, untouched: split it off before parsing options.
    auto dash = std::find(args.begin(), args.end(), "--");
    const cli::Args own(args.begin(), dash);
    const std::vector<std::string> command(dash == args.end() ? dash : dash + 1, args.end());
    po::options_description options("options");
    const auto parsed = cli::parse_command(own, usage, options, "model");
    if (!parsed) return 0;
    if (command.empty()) throw UsageError("no command to run", "usage: " + usage);
    return run_inside(cli::positional(*parsed, "model"), command);
}

int shell(const cli::Args& args) {
    const std::string usage = "git model env shell [<model>]";
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    return run_inside(cli::positional(*parsed, "model"),
                      env::in_container_shell("if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"));
}

int logs(const cli::Args& args) {
    const std::string usage = "git model env logs [<model>] [-f] [--tail <n>]";
    po::options_description options("options");
    options.add_options()
        ("follow,f", "keep printing new output")
        ("tail", po::value<int>()->value_name("<n>"), "only the last <n> lines");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    std::vector<std::string> before{"logs"};
    if (vm.count("follow")) before.push_back("--follow");
    if (vm.count("tail")) {
        const int lines = vm["tail"].as<int>();  // the engine reads a negative count as "everything"
        if (lines < 0)
            throw UsageError(fmt::format("--tail {}: expected a number of lines, 0 or more", lines), "usage: " + usage);
        before.insert(before.end(), {"--tail", std::to_string(lines)});
    }
    // Only the engine's client runs (nothing in the container): the terminal is handed over to it.
    const auto [engine, container] = environment_container(cli::positional(vm, "model"), false);
    before.push_back(container);
    proc::exec_replace(engine.program, engine.command(before));
}

}  // namespace gm::env_commands
