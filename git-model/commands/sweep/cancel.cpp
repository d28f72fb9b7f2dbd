// git model sweep cancel: stop a sweep's unfinished runs; worktrees and branches stay.
#include "sweep.hpp"

#include "gitmodel/core/wording.hpp"
#include "gitmodel/sweep/operations.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

int cancel(const cli::Args& args) {
    boost::program_options::options_description options("options");
    const auto parsed = cli::parse_command(args, "git model sweep cancel <id>", options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    const auto sweep = sweep::load(repo.common_dir(), required_id(*parsed, "cancel"));
    const auto cancelled = sweep::cancel_sweep(sweep);
    for (const auto& note : cancelled.notes) fmt::print(stderr, "git-model: warning: {}\n", note);
    fmt::print("Cancelled sweep {}: {} unfinished run{} stopped; worktrees and branches are kept\n", sweep.id,
               cancelled.stopped, cancelled.stopped == 1 ? "" : "s");
    fmt::print("  `git model sweep resume {}` reruns them, `git model sweep clean {}` removes the worktrees\n", sweep.id,
               sweep.id);
    if (cancelled.left > 0) {
        fmt::print(stderr, "git-model: {} of sweep {} may still run (see the warnings above): it is not shown as cancelled\n",
                   count_of(static_cast<std::size_t>(cancelled.left), "run"), sweep.id);
        return 1;
    }
    return 0;
}

}  // namespace gm::commands::sweep_commands
