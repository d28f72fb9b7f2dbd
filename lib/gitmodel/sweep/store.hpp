#pragma once
// Where a sweep lives on disk and how it is read back: one folder per sweep
// under <common git dir>/git-model/sweeps/<id>/ holding sweep.json (what it
// runs, written once), runs/<k>.json (each run's state, rewritten atomically
// by whoever runs it: the local scheduler or a Slurm task) and, while it runs,
// scheduler.json. Every worktree of the repository sees the same sweeps.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/config/params_file.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/background.hpp"

namespace gm::sweep {

// Where runs are scheduled.
enum class Backend { local, slurm };

// A run's life: queued -> running -> done | failed; cancelled when stopped by `sweep cancel`.
enum class RunState { queued, running, done, failed, cancelled };

// "queued", "running", ...: the words status and --json use.
std::string to_string(RunState state);
std::string to_string(Backend backend);

// Slurm settings of a sweep submitted there.
struct SlurmSettings {
    std::optional<std::string> partition;
    std::optional<std::string> time_limit;  // Slurm's --time syntax, e.g. 2:00:00
    std::optional<std::string> account;
    std::vector<std::string> job_ids;       // one per array submitted (resume submits again)
    std::map<std::string, int> offsets;     // job id -> what its array task ids add up to run numbers (0: none)
    int max_array_size = 0;                 // the cluster's MaxArraySize when the sweep was planned (0: unknown)
    bool report_job = false;                // --report-job: after each submission, a job that writes the report
    std::vector<std::string> report_job_ids;  // those jobs (cancel stops them too)
    // Every job's --comment, random per sweep: cancel finds by it, among the user's own jobs, one
    // whose id was never written down (a start killed as sbatch answered; an exported script
    // submitted by hand). Empty in sweeps made before it: submit gives one.
    std::string job_comment;
};

// One run as created: its parameters and where its commit and worktree are.
struct RunSpec {
    int number = 0;                     // 1-based
    config::ParameterSet params;
    std::string model;                  // "<model>.sweep-<id>-<k>"
    std::string branch;
    std::filesystem::path worktree;
    std::string commit;                 // the commit holding params.json
};

// Everything a sweep is, as `sweep start` decided it.
struct Sweep {
    std::string id;
    std::string model;
    std::string model_branch;
    std::string base_commit;            // the model's commit the runs start from
    Backend backend = Backend::local;
    std::vector<std::string> command;   // as given, {placeholders} not yet replaced
    int gpus_per_run = 1;
    int max_parallel = 0;               // 0: as many as the GPUs allow
    bool container = true;              // false: --no-container, the command runs on the host
    int retries = 0;                    // --retries: a failed run is started again up to this many times
    int max_failures = 0;               // --max-failures: no new run starts once this many failed (0: no limit)
    std::string image;                  // the pinned image (empty without .modelenv.yaml)
    std::filesystem::path common_dir;
    std::filesystem::path model_worktree;  // where .modelenv.yaml was read (persist paths are relative to it)
    std::filesystem::path logs_dir;     // <persist logs>/sweep-<id>: run-<k>.log
    std::filesystem::path checkpoints_dir;  // <persist checkpoints>/sweep-<id>: run-<k>/
    std::int64_t created = 0;
    SlurmSettings slurm;
    std::vector<std::string> carry;     // --carry: files of a run's worktree `sweep promote` commits beside params.json
    std::vector<RunSpec> runs;
};

// One start of a run and how it ended, kept so that a retried run's history stays readable.
struct Attempt {
    std::optional<int> exit_code;
    int signal = 0;
    std::int64_t started = 0;           // Unix seconds
    std::int64_t ended = 0;
};

// A run's state as last recorded.
struct RunStatus {
    RunState state = RunState::queued;
    int attempt = 0;                    // 1 for the first start, more after a retry or resume
    int tries = 0;                      // starts since it was last queued by start, resume or extend (retries count here)
    bool held = false;                  // queued, but not started: the sweep reached --max-failures (resume lifts it)
    std::vector<Attempt> attempts;      // every start that ended, oldest first
    std::string gpus;                   // CUDA_VISIBLE_DEVICES it was given
    std::optional<int> exit_code;
    int signal = 0;
    std::int64_t started = 0;           // Unix seconds
    std::int64_t ended = 0;
    std::string container;              // the container's name, when it ran in one
    proc::ProcessIdentity process;      // its local process (leading a process group of its own), while it runs
    std::string host;                   // the machine it ran on
    std::string note;                   // why it failed or was cancelled, in words
    std::optional<std::string> slurm_task;  // <job>_<index> on Slurm
};

// <common dir>/git-model/sweeps.
std::filesystem::path sweeps_root(const std::filesystem::path& common_dir);
// The folder of one sweep.
std::filesystem::path sweep_dir(const std::filesystem::path& common_dir, const std::string& id);
// A run's log file.
std::filesystem::path run_log(const Sweep& sweep, int number);
// A run's checkpoints folder (mounted at /persist/checkpoints).
std::filesystem::path run_checkpoints(const Sweep& sweep, int number);
// The copy of a run's metrics.json kept when it finishes (it survives `sweep clean`).
std::filesystem::path saved_metrics(const Sweep& sweep, int number);
// Where a run's carried files (--carry) are moved before `sweep clean --branches` removes its
// worktree (<sweep dir>/runs/<k>.carried/<path>), so that promote and the user still find them.
std::filesystem::path carried_shelf(const Sweep& sweep, int number);

// Reserves the next free id ("1", "2", ...) by creating its folder; the id of a sweep
// that was refused (and so left nothing) is given again.
std::string allocate_id(const std::filesystem::path& common_dir);
// Every sweep id of the repository, oldest first.
std::vector<std::string> list_ids(const std::filesystem::path& common_dir);

// Every sweep whose record reads, in id order: a record being written or broken is skipped, as
// the listings (status, list, prune) would rather show the others than fail.
std::vector<Sweep> load_readable(const std::filesystem::path& common_dir);

// Writes sweep.json (atomically).
void save(const Sweep& sweep);
// A sweep record found in a repository other than the one it names (copied with `cp -r`,
// or moved): its runs, worktrees, scheduler and jobs are the repository it was made in, so
// no command acts on them from here (a cancel in the copy would stop the original's runs).
class ForeignSweepError : public Error {
public:
    using Error::Error;
};

// Refuses (gm::Error naming its owner) to `action` a sweep another user started: in a repository
// users share, their scheduler, runs and records are theirs (a signal to their processes fails,
// their files cannot be written: found at once, not after waiting for the signals to work). Root
// may act on any.
void refuse_others_sweep(const Sweep& sweep, std::string_view action);

// Reads a sweep; gm::Error naming the id when there is none, ForeignSweepError when the record
// was made in another repository.
Sweep load(const std::filesystem::path& common_dir, const std::string& id);
// Reads a sweep from its folder (Slurm tasks are given the folder); ForeignSweepError when the
// folder is not the one the record names (a copy).
Sweep load_from(const std::filesystem::path& dir);
// Writes a sweep's record to another file (the plan of `sweep extend`, kept until its runs are made).
void save_as(const Sweep& sweep, const std::filesystem::path& file);
// Reads a record written by save or save_as.
Sweep load_file(const std::filesystem::path& file);
// The lock `sweep extend` and the ending local scheduler take turns at, so that runs added
// while the scheduler ends are either taken by it or find it ended (and start another).
std::filesystem::path queue_lock_path(const Sweep& sweep);

// A run's recorded state (queued when nothing was recorded yet).
RunStatus load_run(const Sweep& sweep, int number);
// Records a run's state (atomically: readers never see half a file).
void save_run(const Sweep& sweep, int number, const RunStatus& status);

// How many runs of the sweep are recorded as failed (what --max-failures counts).
int count_failed(const Sweep& sweep);
// Whether the sweep's --max-failures budget is spent: no new run (nor retry) may start.
bool failure_budget_spent(const Sweep& sweep, int failed);
// The note of a run left queued by --max-failures.
std::string held_note(const Sweep& sweep);

// The local scheduler of a sweep, while it runs.
struct SchedulerRecord {
    proc::ProcessIdentity process;
    std::int64_t started = 0;
};
// Records this process as the sweep's scheduler.
void save_scheduler(const Sweep& sweep, const SchedulerRecord& record);
// The recorded scheduler, if any (it may have died: check proc::is_running).
std::optional<SchedulerRecord> load_scheduler(const Sweep& sweep);
// Forgets the scheduler record.
void clear_scheduler(const Sweep& sweep);
// Records that the scheduler ended on its own (load_scheduler then finds none), so that the
// `sweep start` waiting for it knows it ran even when all its runs ended before it looked.
void mark_scheduler_ended(const Sweep& sweep);
// Whether a scheduler recorded itself since clear_scheduler, running or ended.
bool scheduler_recorded(const Sweep& sweep);

// Whether the run's worktree folder is a worktree of the sweep's own repository (its .git file
// names a folder under the sweep's common dir): a sibling clone's sweep may have reused the path
// since this sweep's worktree went, and its files are not this run's; nor are those of a folder
// (or link) of a user who is neither the caller nor the repository's owner (model::untrusted_folder_problem).
bool run_worktree_ours(const Sweep& sweep, const RunSpec& run);

// The error for a run whose worktree folder is not run_worktree_ours: nothing is run there.
Error foreign_run_worktree(const RunSpec& run);

// Writes a file atomically (gm::write_file_atomically) with the given permission bits less the
// umask, as the sweep's files have always been written (readable by the team unless the umask says not).
void write_file_atomically(const std::filesystem::path& path, const std::string& content, unsigned mode = 0644);

}  // namespace gm::sweep
