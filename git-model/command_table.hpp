#pragma once
// The one explicit table of `git model` subcommands.

#include "gitmodel/cli/command.hpp"

namespace gm::commands {

// Every subcommand of `git model`, with the executables that serve `env` and `bench`.
const cli::Suite& git_model_suite();

// `git model start`: a model's branch and worktree.
int start(const cli::Args& args);
// `git model list` / `ls`: every model and its state.
int list(const cli::Args& args);
// `git model hooks`: install, uninstall and inspect the hook shims.
int hooks(const cli::Args& args);
// `git model hook <name>`: what the installed shims run.
int hook(const cli::Args& args);

}  // namespace gm::commands
