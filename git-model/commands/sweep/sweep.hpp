#pragma once
// The subcommands of `git model sweep`, one file each; their table is in ../sweep.cpp.
// Each parses its options and prints; the work is in lib/gitmodel/sweep/.

#include "gitmodel/cli/command.hpp"
#include "gitmodel/git/repository.hpp"

#include <boost/program_options.hpp>

#include <string>

namespace gm::commands::sweep_commands {

// `sweep start`: create the runs and schedule (or export) them.
int start(const cli::Args& args);
// `sweep status`: every sweep, or one sweep's runs.
int status(const cli::Args& args);
// `sweep cancel`: stop the unfinished runs.
int cancel(const cli::Args& args);
// `sweep resume`: queue the unfinished runs again.
int resume(const cli::Args& args);
// `sweep extend`: add runs to a sweep.
int extend(const cli::Args& args);
// `sweep clean`: remove finished runs' worktrees.
int clean(const cli::Args& args);
// `sweep report`: rank the runs by a metric; --tag-best.
int report(const cli::Args& args);
// `sweep promote`: a run's params.json (and --carry files) committed and snapshotted on the model.
int promote(const cli::Args& args);
// Internal `sweep schedule`: the detached local scheduler.
int schedule(const cli::Args& args);
// Internal `sweep task`: one Slurm array task.
int task(const cli::Args& args);

// The repository, with interrupted sweep starts rolled back (what was undone on stderr).
git::Repository open_repository();

// The <id> positional, else a usage error naming the subcommand.
std::string required_id(const boost::program_options::variables_map& vm, const char* command);

// The option's value when given, else fallback; a usage error when below minimum.
int positive_option(const boost::program_options::variables_map& vm, const char* name, int fallback, int minimum);

// --grid and --params-file, the parameter sets of start and extend; grid_help says what a combination makes.
void add_parameter_options(boost::program_options::options_description& options, const char* grid_help);

// Prints a warning as every sweep command does ("git-model: ..." on stderr).
void warn(const std::string& line);

}  // namespace gm::commands::sweep_commands
