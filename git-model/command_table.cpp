#include "command_table.hpp"

namespace gm::commands {

const cli::Suite& git_model_suite() {
    static const cli::Suite suite{
        "git model",
        "git-model",
        {
            {"start", {}, "create a model's branch and its own worktree", start},
            {"list", {"ls"}, "list every model with its worktree and state", list},
            {"tag", {}, "snapshot the model with its metrics as model/<name>/v<N>", tag},
            {"log", {}, "list a model's snapshots and their metrics", log},
            {"best", {}, "the snapshot with the best value of a metric", best},
            {"compare", {}, "two snapshots side by side: metrics, image, commits", compare},
            {"status", {}, "the model worktree you are in: base, remote, snapshot, hooks", status},
            {"finish", {}, "push the model for review (or merge it where allowed)", finish},
            {"prune", {}, "archive and remove merged model branches after the retention time", prune},
            {"sweep", {}, "one worktree per hyper-parameter set, scheduled over the GPUs (local or Slurm)", sweep},
            {"hooks", {}, "install, remove or inspect the team's git hooks", hooks},
            {"hook", {}, "run one hook's checks (called by the installed hooks)", hook, "git-model-hooks"},
            {"gpus", {}, "the machine's GPUs and who holds each; init the lease book, release a lease (root)", gpus},
            {"doctor", {}, "check this machine and repository, and say how to fix what is wrong", doctor},
            {"ci", {}, "write the team's CI pipeline (ci init --gitlab | --github)", ci},
        },
        {
            {"env", "git-model-env", "the model's pinned container environment"},
            {"bench", "git-model-bench", "prove and measure the GPUs"},
        },
    };
    return suite;
}

}  // namespace gm::commands
