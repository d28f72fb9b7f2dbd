// git model sweep clean: remove the worktrees of a sweep's finished runs.
#include "sweep.hpp"

#include "gitmodel/sweep/operations.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

int clean(const cli::Args& args) {
    boost::program_options::options_description options("options");
    // `clean --branches` (lib/gitmodel/sweep/tidy.hpp) adds its option here.
    const auto parsed = cli::parse_command(args, "git model sweep clean <id>", options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    const auto sweep = sweep::load(repo.common_dir(), required_id(*parsed, "clean"));
    const auto cleaned = sweep::clean_sweep(repo, sweep);
    for (const auto& line : cleaned.lines) fmt::print("{}\n", line);
    fmt::print("Cleaned sweep {}: {} worktree{} removed, {} kept; branches and snapshots are kept\n", sweep.id,
               cleaned.removed, cleaned.removed == 1 ? "" : "s", cleaned.kept);
    return 0;
}

}  // namespace gm::commands::sweep_commands
