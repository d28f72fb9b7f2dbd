// git model env down [<model>]
#include "../command_table.hpp"

#include "gitmodel/core/text.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::env_commands {

int down(const cli::Args& args) {
    const std::string usage = "git model env down [<model>]";
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    git::Library library;
    auto repo = git::Repository::discover();
    // By name, a model's environment goes down even when its worktree is gone or locked.
    const auto target = env::resolve_target(repo, cli::positional(*parsed, "model"), env::WorktreeUse::optional);
    const auto result = env::down(repo, target);
    if (result.removed)
        fmt::print("Environment of '{}' is down: {} removed, its GPUs given back; persist folders kept.{}\n", target.model,
                   result.container,
                   result.moved_from ? fmt::format("\n  (it was started before the repository moved here from {})",
                                                   printable(result.moved_from->string()))
                                     : std::string());
    else if (!result.others.empty())
        throw Error(result.others, "`git model gpus` shows the lease");
    else if (target.branch_gone)  // nothing ran under that name either: a typo, most likely
        throw Error(fmt::format("there is no model '{}' in this repository, and no environment of that name",
                                target.model),
                    "`git model list` shows the models");
    else
        fmt::print("Environment of '{}' was not running; nothing to stop.\n", target.model);
    return 0;
}

}  // namespace gm::env_commands
