// git-model: run by git as `git model <command>`. All logic lives in lib/ and commands/.
#include "command_table.hpp"

#include "gitmodel/cli/command.hpp"

int main(int argc, char** argv) { return gm::cli::dispatch(gm::commands::git_model_suite(), argc, argv); }
