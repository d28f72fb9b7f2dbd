#pragma once
// Running one run of a sweep, the same way on every backend: the command (with
// its {placeholders} filled in) inside the pinned image of the run's
// .modelenv.yaml with exactly its GPUs, or on the host with --no-container;
// output appended to the run's log in the persist logs folder. The local
// scheduler and the Slurm task both start runs through here.

#include <optional>
#include <string>
#include <vector>

#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// How one run is started.
struct Launch {
    std::vector<std::string> argv;  // in one step: the host command, or the engine's `run`
    proc::SpawnOptions options;
    std::string container;  // the container's name; empty on the host
    // A container's run in two steps, for a caller that must look between them (the local
    // scheduler, for a cancel): create_argv makes it from `image` (which must be here), and
    // start_argv runs it in the foreground. Empty on the host.
    std::vector<std::string> create_argv;
    std::vector<std::string> start_argv;
    std::string image;
};

// The name a run's container gets (the same one `git model env` would give the run's model).
std::string run_container_name(const Sweep& sweep, const RunSpec& run, const std::filesystem::path& main_worktree);

// Prepares a run: its folders and (for a container) its 0600 env file. gpus are what it may
// use; pass_devices says whether they are real devices to pass to the container (an NVIDIA
// driver is present) or only to announce. Throws gm::Error when the run's .modelenv.yaml does
// not load, or when a folder it uses is not this user's (ensure_run_folders).
Launch prepare_launch(const Sweep& sweep, const RunSpec& run, const std::vector<env::GpuSlot>& gpus,
                      bool pass_devices, const std::optional<env::Engine>& engine,
                      const std::filesystem::path& main_worktree);

// Checks, just before a run starts, that its worktree is this user's run worktree and its
// checkpoint and log folders no other user's (made when missing); throws gm::Error naming the
// folder. prepare_launch does it too; a container made ahead of its start is checked again,
// since the folders its mounts name are only looked up when it starts.
void ensure_run_folders(const Sweep& sweep, const RunSpec& run);

// Makes one of a sweep's folders (its logs, a run's checkpoints) when missing, the way env up
// makes persist folders: below the common dir without following links, elsewhere only in a
// place no other user controls and without the ACLs a parent's default ACL hands down (the
// runs would be refused a folder the sweep made, or write where another user can). Throws
// gm::Error naming the folder.
void make_sweep_folder(const Sweep& sweep, const std::filesystem::path& dir);

// The run log's header line of an attempt, written as it starts (not when it is prepared:
// a container made ahead may never start).
void log_launch(const Sweep& sweep, const RunSpec& run, int attempt, const std::vector<env::GpuSlot>& gpus);

// Begins one more attempt of a run, the same on every backend: running, attempt and tries
// counted, the last result and note cleared, this host recorded.
void begin_attempt(RunStatus& status);

// Ends the current attempt: its exit code (nullopt when killed) and signal become the run's
// last result and are kept in status.attempts.
void end_attempt(RunStatus& status, std::optional<int> exit_code, int signal);

// Records an ended attempt, the same on every backend: queues a failed run again when
// may_retry and --retries allow, keeps its metrics, saves its record and logs how it ended.
// Returns whether it will be retried.
bool record_attempt(const Sweep& sweep, const RunSpec& run, RunStatus& status, bool may_retry);

// Whether a failed run gets another attempt under --retries (a cancelled one never does).
bool retry_left(const Sweep& sweep, const RunStatus& status);

// Queues a failed run again for its retry, its note saying which attempt failed and why.
void queue_retry(const Sweep& sweep, RunStatus& status);

// Appends a line to a run's log ("== run 3 ended: exited with status 0"), so the log tells its own story.
void log_line(const Sweep& sweep, int number, const std::string& line);

// Keeps a copy of the run's metrics.json beside the sweep's record, so that
// reports survive `sweep clean`. Does nothing when the run wrote none.
void save_metrics_copy(const Sweep& sweep, const RunSpec& run);

// The image a run's .modelenv.yaml pins ("" when it has none, or it does not load): what the
// scheduler pulls before any run takes a GPU.
std::string run_image(const RunSpec& run);

// The engine the runs of a sweep use (git config model.engine, else the
// .modelenv.yaml's); nullopt for --no-container sweeps.
std::optional<env::Engine> sweep_engine(const Sweep& sweep, const git::Config& config);

// The host name, for run records.
std::string host_name();

}  // namespace gm::sweep
