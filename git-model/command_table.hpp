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
// `git model tag`: snapshot a model as model/<name>/v<N> with its metrics.
int tag(const cli::Args& args);
// `git model log`: a model's snapshots, newest first.
int log(const cli::Args& args);
// `git model best`: the snapshot with the best value of a metric.
int best(const cli::Args& args);
// `git model compare`: two snapshots side by side.
int compare(const cli::Args& args);
// `git model status`: the state of the model worktree you are in.
int status(const cli::Args& args);
// `git model finish`: push for review (or merge locally where allowed) and record it.
int finish(const cli::Args& args);
// `git model prune`: archive and remove merged model branches after the retention time.
int prune(const cli::Args& args);
// `git model hooks`: install, uninstall and inspect the hook shims.
int hooks(const cli::Args& args);
// `git model hook <name>`: what the installed shims run.
int hook(const cli::Args& args);
// `git model gpus`: the machine's GPUs and their leases; `gpus init`, `gpus release`.
int gpus(const cli::Args& args);
// `git model doctor`: what is wrong here, and the command that fixes it.
int doctor(const cli::Args& args);
// `git model ci init`: the team's GitLab or GitHub pipeline from .modelenv.yaml.
int ci(const cli::Args& args);
// git model sweep: one worktree per hyper-parameter set, scheduled locally or on Slurm.
int sweep(const cli::Args& args);
// `git model sweep promote`: a run's params.json (and --carry files) committed and snapshotted on the model.
int sweep_promote(const cli::Args& args);

}  // namespace gm::commands
