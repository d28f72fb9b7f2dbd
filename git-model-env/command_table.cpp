#include "command_table.hpp"

namespace gm::env_commands {

const cli::Suite& git_model_env_suite() {
    static const cli::Suite suite{
        "git model env",
        "git-model-env",
        {
            {"up", {}, "start the model's pinned container with its own GPUs and ports", up},
            {"down", {}, "stop and remove it, giving its GPUs back (persist folders stay)", down},
            {"status", {"list", "ls"}, "every environment of this repository (--all: of the machine)", status},
            {"exec", {}, "run a command in the model's container", exec},
            {"shell", {}, "an interactive shell in the model's container", shell, "git-model-env-exec"},
            {"logs", {}, "the container's output (-f to follow)", logs, "git-model-env-exec"},
            {"check", {}, "validate .modelenv.yaml and show the resolved settings", check},
            {"pin", {}, "pin the image by digest: rewrite 'name:tag' as 'name:tag@sha256:...'", pin},
            {"login", {}, "log in to a registry (password on standard input)", login},
        },
        {},
    };
    return suite;
}

}  // namespace gm::env_commands
