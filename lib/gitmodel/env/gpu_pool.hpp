#pragma once
// The machine's GPUs and who holds them. Environments take GPUs exclusively
// through one lease book per machine, shared by every repository and user,
// so that two environments never get the same GPU, even when several
// `env up` run at the same moment.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/config.hpp"

namespace gm::env {

// The GPUs environments may use, and where that list came from.
struct Pool {
    std::vector<GpuSlot> gpus;
    bool from_driver = false;  // the NVIDIA driver listed them (devices can be passed to containers)
};

// Whether an NVIDIA driver is loaded on this machine.
bool nvidia_driver_present();

// The pool: the driver's GPUs (by UUID), narrowed to git config model.gpus
// ("0,1") when set; where there is no driver, model.gpus alone defines it.
Pool discover_pool(const git::Config& config);

// Parses model.gpus ("0,1,3"); throws gm::Error naming the bad entry.
std::vector<int> parse_gpu_list(const std::string& text);

// Who holds one GPU.
struct Lease {
    std::string gpu;        // the GPU's identity: its UUID, or "index-<n>" in a configured pool
    int index = 0;
    std::string container;  // the environment's container name
    std::string engine;     // podman or docker
    std::string repo;       // the repository's common git dir
    std::string model;
    std::string worktree;
    std::string user;
    std::int64_t since = 0;  // Unix seconds
    // The process that holds the lease for as long as it lives (a sweep's scheduler or
    // Slurm task), 0 for an environment, whose container holds it; start_ticks tells a
    // recycled pid apart.
    long pid = 0;
    unsigned long long pid_start_ticks = 0;
};

// The identity a lease records for a GPU.
std::string gpu_identity(const GpuSlot& gpu);

// The lease book, locked for as long as this object lives.
class LeaseBook {
public:
    // GIT_MODEL_LEASE_DIR, else git config model.leaseDir, else /var/tmp/git-model/gpu-leases.
    static std::filesystem::path directory(const git::Config& config);
    // Opens the book and takes its lock (waits up to 60 s for other git-model processes).
    explicit LeaseBook(const std::filesystem::path& dir);

    // Every lease in the book.
    std::vector<Lease> leases() const;
    // Drops leases whose container is gone (still_held says so) and whose holding
    // process, if any, has ended; returns what was freed.
    std::vector<Lease> heal(const std::function<bool(const Lease&)>& still_held);
    // Takes the GPUs a request asks for from the pool for one holder, or throws
    // gm::Error saying who holds what. An empty request takes nothing.
    std::vector<GpuSlot> take(const Pool& pool, const config::GpuRequest& request, const Lease& holder);
    // Gives back every GPU a container holds.
    void release(const std::string& container);

private:
    std::filesystem::path dir_;
    FileLock lock_;
};

}  // namespace gm::env
