#pragma once
// The Slurm backend, for teams that outgrow one server: one job array per
// submission (`sbatch`, throttled with %<max-parallel>), --gres=gpu:<n> per
// task, each task running `git-model sweep task <sweep folder> <run>` on the
// node: the run's worktree (on shared storage) and image, with the GPUs Slurm
// gave it (CUDA_VISIBLE_DEVICES). Status comes from the tasks' own records,
// squeue and sacct; cancel is scancel.

#include <filesystem>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/config.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// Why a partition, account or time limit is unusable in a batch script; empty when fine.
std::string slurm_value_problem(std::string_view value);

// "1-4", "1,3,5-7": Slurm's --array syntax for run numbers (sorted, distinct).
std::string array_ranges(const std::vector<int>& numbers);

// Runs that go into one job array: their array task ids are the numbers less `offset`.
struct ArrayPart {
    std::vector<int> numbers;  // run numbers, sorted
    int offset = 0;            // run number = array task id + offset
};

// Splits runs into job arrays whose task ids stay below the cluster's MaxArraySize (Slurm
// refuses ids >= it): runs 1-1500 under 1001 are tasks 1-1000 and tasks 1-500 (+1000).
std::vector<ArrayPart> array_parts(const std::vector<int>& numbers, int max_array_size);

// The cluster's MaxArraySize (`scontrol show config`), else model.slurm.maxArraySize, else
// Slurm's default 1001. Throws gm::UsageError for a configured value that is not a number >= 2.
int slurm_max_array_size(const git::Config& config);

// The batch script for one array of a sweep's runs; `program` is the git-model the nodes run,
// and task id k runs run k + offset.
std::string batch_script(const Sweep& sweep, const std::vector<int>& numbers, const std::filesystem::path& program,
                         int offset = 0);

// Checks before a sweep is created that Slurm's commands are here.
void check_slurm_prerequisites();

// The scripts written for a submission.
struct BatchScripts {
    std::vector<std::pair<std::filesystem::path, ArrayPart>> parts;  // slurm-<k>.sbatch, one per array
    std::filesystem::path entry;  // sweep.sbatch: the one array's script, or a script submitting each
    bool entry_is_wrapper = false;  // entry is run with sh (several arrays, or a report job), not given to sbatch
    std::optional<std::filesystem::path> report;  // report.sbatch, with --report-job
};

// The job that writes `git model sweep report` to <sweep>/slurm/report.out once the arrays end.
std::string report_script(const Sweep& sweep, const std::filesystem::path& program);

// Writes one script per job array for these runs into the sweep's folder (slurm-<k>.sbatch), the
// entry point sweep.sbatch, a copy of it at copy_to when given (--export slurm -o), and the
// folders the tasks write to.
BatchScripts write_batch_scripts(const Sweep& sweep, const std::vector<int>& numbers,
                                 const std::optional<std::filesystem::path>& copy_to = std::nullopt);

// Writes the scripts, submits each array with sbatch (one after another under --max-parallel,
// with afterany), then the report job after them all (--report-job), and records the job ids and
// offsets in sweep.json. Returns the arrays' job ids, ", "-joined.
std::string submit(Sweep& sweep, const std::vector<int>& numbers);

// A fresh random --comment for a sweep's jobs (SlurmSettings::job_comment).
std::string new_job_comment();

// What Slurm says of a sweep's tasks that it still knows: run number -> (state, reason),
// from squeue, and for tasks squeue has forgotten, from sacct where accounting is on.
struct SlurmTask {
    std::string state;   // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...
    std::string reason;  // squeue's reason for pending tasks
};
// `answered` (when given) says whether squeue answered: only then is a task it does not list gone.
std::map<int, SlurmTask> query_tasks(const Sweep& sweep, bool* answered = nullptr);

// Cancels every job of the sweep (scancel): those it recorded, and the user's own jobs that bear
// the sweep's comment (an exported script submitted by hand, a job whose id a killed `sweep start`
// never wrote down), pending tasks included. A run's recorded task of another job is cancelled
// only when squeue shows it as this sweep's. Waits (a minute at most) until Slurm has stopped
// them. Returns the runs that may still run (not cancelled, or still listed by Slurm), with why in
// notes; notes also say when the user's jobs could not be listed or judged (a pending task of such
// a job finds its run cancelled, or claimed by another task, when it starts, and leaves it).
std::set<int> cancel_slurm(const Sweep& sweep, std::vector<std::string>& notes);

// Runs one task on a node: the body of `git-model sweep task`. Returns the run's exit code.
int run_slurm_task(const std::filesystem::path& sweep_folder, int number);

}  // namespace gm::sweep
