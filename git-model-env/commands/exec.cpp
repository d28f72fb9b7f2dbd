// git model env exec [<model>] -- <command>...; env shell [<model>]; env logs [<model>] [-f]
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <unistd.h>

namespace po = boost::program_options;

namespace gm::env_commands {

namespace {

// Hands the terminal over to `<engine> <verb> ... <container> ...`: signals, stdin and the exit code are the engine's.
[[noreturn]] void hand_over(const std::optional<std::string>& model, const std::vector<std::string>& before,
                            const std::vector<std::string>& after, bool need_running) {
    git::Library library;
    auto repo = git::Repository::discover();
    const auto target = env::resolve_target(repo, model);
    const auto engine = env::engine_for(repo, target);
    const auto info = env::find_container(engine, target.container);
    if (!info || (need_running && info->state != "running")) {
        throw Error(fmt::format("the environment of '{}' is not running", target.model), "start it: git model env up");
    }
    env::require_own_container(*info, target, engine);
    std::vector<std::string> rest(before);
    rest.push_back(target.container);
    rest.insert(rest.end(), after.begin(), after.end());
    proc::exec_replace(engine.program, engine.command(rest));
}

std::vector<std::string> interactive_flags() {
    std::vector<std::string> flags{"exec", "--interactive"};
    if (::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) flags.push_back("--tty");
    return flags;
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
    hand_over(cli::positional(*parsed, "model"), interactive_flags(), command, true);
}

int shell(const cli::Args& args) {
    const std::string usage = "git model env shell [<model>]";
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    hand_over(cli::positional(*parsed, "model"), interactive_flags(),
              env::in_container_shell("if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"), true);
}

int logs(const cli::Args& args) {
    const std::string usage = "git model env logs [<model>] [-f]";
    po::options_description options("options");
    options.add_options()
        ("follow,f", "keep printing new output")
        ("tail", po::value<int>()->value_name("<n>"), "only the last <n> lines");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    std::vector<std::string> before{"logs"};
    if (vm.count("follow")) before.push_back("--follow");
    if (vm.count("tail")) before.insert(before.end(), {"--tail", std::to_string(vm["tail"].as<int>())});
    hand_over(cli::positional(vm, "model"), before, {}, false);
}

}  // namespace gm::env_commands
