// git-model-env: run as `git model env <command>`. All logic lives in lib/ and commands/.
#include "command_table.hpp"

#include "gitmodel/cli/command.hpp"

int main(int argc, char** argv) { return gm::cli::dispatch(gm::env_commands::git_model_env_suite(), argc, argv); }
