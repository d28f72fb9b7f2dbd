#include "command_table.hpp"

namespace gm::commands {

const cli::Suite& git_model_suite() {
    static const cli::Suite suite{
        "git model",
        "git-model",
        {
            {"start", {}, "create a model's branch and its own worktree", start},
            {"list", {"ls"}, "list every model with its worktree and state", list},
            {"hooks", {}, "install, remove or inspect the team's git hooks", hooks},
            {"hook", {}, "run one hook's checks (called by the installed hooks)", hook},
        },
        {
            {"env", "git-model-env", "the model's pinned container environment"},
            {"bench", "git-model-bench", "prove and measure the GPUs"},
        },
    };
    return suite;
}

}  // namespace gm::commands
