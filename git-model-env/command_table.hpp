#pragma once
// The one explicit table of `git model env` subcommands.

#include "gitmodel/cli/command.hpp"

namespace gm::env_commands {

// Every subcommand of `git model env`.
const cli::Suite& git_model_env_suite();

// `env check`: validate .modelenv.yaml and print the resolved settings.
int check(const cli::Args& args);
// `env up`: start the model's container.
int up(const cli::Args& args);
// `env down`: stop and remove it, give its GPUs back.
int down(const cli::Args& args);
// `env status` / `env list`: every environment of the repository (or machine).
int status(const cli::Args& args);
// `env exec -- <cmd>`: run a command in the container.
int exec(const cli::Args& args);
// `env shell`: an interactive shell in the container.
int shell(const cli::Args& args);
// `env logs [-f]`: the container's output.
int logs(const cli::Args& args);
// `env pin`: pin .modelenv.yaml's image by digest.
int pin(const cli::Args& args);
// `env login <registry>`: registry login with the password on stdin, never in argv.
int login(const cli::Args& args);

}  // namespace gm::env_commands
