#pragma once
// Creating a sweep's runs: for each parameter set a commit that adds
// params.json on top of the model's branch (written by libgit2, no worktree
// needed), a branch at it, and a worktree checked out by git itself. All or
// nothing: a failure, an interrupt or a killed process leaves no run behind.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/config/params_file.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// What `sweep start` asks for, checked by the command line.
struct CreateRequest {
    std::string model;
    std::vector<config::ParameterSet> parameter_sets;
    Backend backend = Backend::local;
    std::vector<std::string> command;
    int gpus_per_run = 1;
    int max_parallel = 0;
    bool container = true;
    int retries = 0;       // --retries
    int max_failures = 0;  // --max-failures (0: no limit)
    std::vector<std::string> carry;  // --carry: checked (promote.hpp check_carry_paths) before anything is made
    SlurmSettings slurm;
};

// Creates the runs and records the sweep; `progress` hears about each run made.
// Throws gm::Error having removed everything it made.
Sweep create_sweep(git::Repository& repo, const CreateRequest& request,
                   const std::function<void(const RunSpec&)>& progress = {});

// What `sweep extend` asks for.
struct ExtendRequest {
    std::vector<config::ParameterSet> parameter_sets;
    bool allow_duplicates = false;  // --allow-duplicates: a set the sweep already ran is run again
};

// The lock `sweep extend` and `sweep resume` of a sweep hold from reading its record to
// scheduling its runs: two extends never plan the same run numbers (one's rollback never removes
// the other's runs), two resumes (or a resume and an extend) never start two schedulers that
// run each run twice, and a recovery never undoes an extend that is still under way.
FileLock lock_scheduling(const std::filesystem::path& common_dir, const std::string& id);

// Adds runs to a sweep after its last (same model, command, image and settings), made as
// create_sweep makes them and recorded (queued) only once all are made; all or nothing.
// Returns their numbers. Throws gm::Error (nothing added) for a parameter set the sweep
// already has unless allow_duplicates, or when a branch or worktree is in the way.
std::vector<int> extend_sweep(git::Repository& repo, Sweep& sweep, const ExtendRequest& request,
                              const std::function<void(const RunSpec&)>& progress = {});

// Removes the runs numbered `first` and up (as destroy_sweep removes runs) and, when nothing
// had to be kept, drops them from the sweep's record: an extend whose backend refused it.
std::vector<std::string> retract_runs(git::Repository& repo, Sweep& sweep, int first);

// Removes what a sweep created (worktrees exactly as checked out: no change, no
// untracked or ignored file, no lock; branches that did not move) and its
// record, when its backend could not take it. Takes the repository's worktrees
// lock. Returns a line for each thing it had to keep.
std::vector<std::string> destroy_sweep(git::Repository& repo, const Sweep& sweep);

// Removes a finished run's worktree for `sweep clean`, only when git tracks all
// it holds (no change, no untracked or ignored file, no lock); returns why it
// was kept, empty when it was removed. Takes the repository's worktrees lock.
std::string remove_finished_run_worktree(git::Repository& repo, const RunSpec& run);

// Why a run's worktree must stay because its HEAD is not simply on the run's branch (detached,
// on another branch, or a rebase or bisect under way): commits made there are held by that HEAD
// alone and would go with the worktree. nullopt when it is on the branch.
std::optional<std::string> run_head_elsewhere(const git::WorktreeInfo& worktree, const RunSpec& run);

// Rolls back sweeps whose creating process died half way (killed, power loss);
// returns what was done. Called by every sweep command.
std::vector<std::string> recover_interrupted_creations(git::Repository& repo);

}  // namespace gm::sweep
