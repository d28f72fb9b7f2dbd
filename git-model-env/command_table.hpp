#pragma once
// The one explicit table of `git model env` subcommands.

#include "gitmodel/cli/command.hpp"

namespace gm::env_commands {

// Every subcommand of `git model env`.
const cli::Suite& git_model_env_suite();

}  // namespace gm::env_commands
