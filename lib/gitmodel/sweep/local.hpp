#pragma once
// The local backend: a queue on this machine. A detached scheduler process
// (`git-model sweep schedule`, started by `sweep start` and `sweep resume`)
// starts the queued runs in order, never more at once than free GPUs (shared
// with `git model env up` through the machine's lease book) or --max-parallel,
// starts the next as soon as a GPU frees, and records every run's state.

#include <filesystem>
#include <string>
#include <vector>

#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// How many runs may run at once: --max-parallel, else as many as the pool's GPUs allow (one
// for CPU-only runs). Throws gm::UnavailableError when the pool cannot hold even one run.
int parallel_limit(const Sweep& sweep, std::size_t pool_size);

// Checks before a sweep is created that this machine can run it locally (an engine,
// enough GPUs in the pool, a pool nvidia-smi can list where a driver is loaded), so that a
// sweep that cannot run is never created. Returns warnings to show (the lease book in use
// is not the machine's shared one).
std::vector<std::string> check_local_prerequisites(const Sweep& draft, const git::Config& config);

// Starts the detached scheduler and waits until it has recorded itself.
void start_local_scheduler(const Sweep& sweep);

// The scheduler's main loop (the daemon process); returns its exit code.
int run_local_scheduler(const std::filesystem::path& sweep_folder);

// Whether the sweep's local scheduler is alive.
bool scheduler_running(const Sweep& sweep);

// Stops the local scheduler (it stops its runs, marking them cancelled) and
// waits for it; runs left unfinished by a dead scheduler are marked cancelled,
// their containers removed and their host processes stopped (process group), and
// their GPU leases (this repository's runs only) given back unless their processes
// still run. Returns how many runs were stopped; notes get what stayed.
int cancel_local(const Sweep& sweep, std::vector<std::string>* notes = nullptr);

}  // namespace gm::sweep
