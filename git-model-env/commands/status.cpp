// git model env status [--all] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/status_table.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

#include <chrono>

namespace po = boost::program_options;

namespace gm::env_commands {

int status(const cli::Args& args) {
    const std::string usage = "git model env status [--all] [--json]";
    po::options_description options("options");
    options.add_options()
        ("all", "every environment on this machine, not only this repository's")
        ("json", "print a JSON document (shape in git-model-env(1))");
    const auto parsed = cli::parse_command(args, usage, options);
    if (!parsed) return 0;
    const auto& vm = *parsed;
    git::Library library;
    auto repo = git::Repository::discover();
    std::vector<std::string> notes;
    const auto environments = env::status(repo, vm.count("all") > 0, &notes);
    for (const auto& note : notes) fmt::print(stderr, "git-model-env: {}\n", note);
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(env::to_json(environments)));
        return 0;
    }
    if (environments.empty()) {
        fmt::print("No environments. Start one in a model's worktree with: git model env up\n");
        return 0;
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    fmt::print("{}", env::render_status_table(environments, now));
    return 0;
}

}  // namespace gm::env_commands
