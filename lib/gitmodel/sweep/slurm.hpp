#pragma once
// The Slurm backend, for teams that outgrow one server: one job array per
// submission (`sbatch`, throttled with %<max-parallel>), --gres=gpu:<n> per
// task, each task running `git-model sweep task <sweep folder> <run>` on the
// node: the run's worktree (on shared storage) and image, with the GPUs Slurm
// gave it (CUDA_VISIBLE_DEVICES). Status comes from the tasks' own records,
// squeue and sacct; cancel is scancel.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// Why a partition, account or time limit is unusable in a batch script; empty when fine.
std::string slurm_value_problem(std::string_view value);

// "1-4", "1,3,5-7": Slurm's --array syntax for run numbers (sorted, distinct).
std::string array_ranges(const std::vector<int>& numbers);

// The batch script for some runs of a sweep; `program` is the git-model the nodes run.
std::string batch_script(const Sweep& sweep, const std::vector<int>& numbers, const std::filesystem::path& program);

// Checks before a sweep is created that Slurm's commands are here.
void check_slurm_prerequisites();

// Writes the script for these runs into the sweep's folder (slurm-<k>.sbatch, and sweep.sbatch
// for the latest), and to copy_to when given (--export slurm -o), with the folders its tasks
// write to. Returns the slurm-<k>.sbatch path.
std::filesystem::path write_batch_script(const Sweep& sweep, const std::vector<int>& numbers,
                                         const std::optional<std::filesystem::path>& copy_to = std::nullopt);

// Writes the script (write_batch_script), submits it with sbatch and records the job id in
// sweep.json. Returns the job id.
std::string submit(Sweep& sweep, const std::vector<int>& numbers);

// What Slurm says of a sweep's tasks that it still knows: run number -> (state, reason),
// from squeue, and for tasks squeue has forgotten, from sacct where accounting is on.
struct SlurmTask {
    std::string state;   // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...
    std::string reason;  // squeue's reason for pending tasks
};
std::map<int, SlurmTask> query_tasks(const Sweep& sweep);

// Cancels every job of the sweep (scancel) and waits until Slurm has stopped them.
void cancel_slurm(const Sweep& sweep);

// Runs one task on a node: the body of `git-model sweep task`. Returns the run's exit code.
int run_slurm_task(const std::filesystem::path& sweep_folder, int number);

}  // namespace gm::sweep
