#include "command_table.hpp"

namespace gm::env_commands {

const cli::Suite& git_model_env_suite() {
    static const cli::Suite suite{"git model env", "git-model-env", {}, {}};
    return suite;
}

}  // namespace gm::env_commands
