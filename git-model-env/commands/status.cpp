// git model env status [--all] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

#include "gitmodel/core/text.hpp"

#include <chrono>

namespace po = boost::program_options;

namespace gm::env_commands {

namespace {

std::string uptime(const env::EnvStatus& e) {
    if (e.state != "running" || e.started_at <= 0) return "-";
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    const auto seconds = std::max<std::int64_t>(0, now - e.started_at);
    if (seconds < 120) return fmt::format("{}s", seconds);
    if (seconds < 7200) return fmt::format("{}m", seconds / 60);
    if (seconds < 172800) return fmt::format("{}h", seconds / 3600);
    return fmt::format("{}d", seconds / 86400);
}

}  // namespace

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
    fmt::print("{:<16} {:<40} {:<8} {:<7} {:<6} {}\n", "MODEL", "CONTAINER", "STATE", "GPUS", "UP", "IMAGE / PORTS");
    for (const auto& e : environments) {
        fmt::print("{:<16} {:<40} {:<8} {:<7} {:<6} {}\n", e.model, e.container, e.state, e.gpus.empty() ? "-" : e.gpus,
                   uptime(e), e.image);
        for (const auto& p : e.endpoints) fmt::print("{:<82} {} {}\n", "", p.name, p.url);
        if (e.drift && !e.drift->empty()) {
            fmt::print("{:<16} drift from .modelenv.yaml at the tip of its branch: {}\n", "", join(*e.drift, "; "));
            fmt::print("{:<16} `git model env up --recreate {}` replaces the container (persist folders stay)\n", "", e.model);
        }
    }
    return 0;
}

}  // namespace gm::env_commands
