#pragma once
// `git model env`: one pinned container per model worktree, with its own GPUs,
// ports, limits and persistent folders, started, inspected and removed
// without ever leaking a container or a GPU lease.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/repository.hpp"

namespace gm::env {

// The worktree an env command acts on.
struct Target {
    std::string model;
    std::string branch;
    std::filesystem::path worktree;
    std::filesystem::path common_dir;
    bool linked_worktree = true;
    std::string container;  // the stable container name
};

// The named model's worktree, or the current one when no name is given.
Target resolve_target(git::Repository& repo, const std::optional<std::string>& model);

// The stable container name of a model: gm-<repo>-<model>-<hash of the common dir>.
std::string container_name(const std::filesystem::path& common_dir, const std::filesystem::path& main_worktree,
                           const std::string& model);

// The .modelenv.yaml of a worktree; throws with file:line:col when it does not load.
config::ModelEnv load_environment_file(const Target& target);

// How `up` behaves.
struct UpOptions {
    bool wait_for_gpu = false;                      // --wait: wait for a GPU instead of failing
    std::optional<std::chrono::seconds> wait_limit; // --wait=<duration>
    bool bind_all_interfaces = false;               // --bind-all: publish on 0.0.0.0 (warned)
    bool check = false;                             // --check: git-model-bench inside, and torch
};

// A published port as the user reaches it.
struct Endpoint {
    std::string name;
    int container_port = 0;
    std::string host_address;
    int host_port = 0;
    std::string url;  // http://127.0.0.1:<port>/... for web ports, host:port otherwise
};

// What `up` did.
struct UpResult {
    Target target;
    bool already_running = false;
    std::string image;
    std::vector<GpuSlot> gpus;
    bool gpu_devices_passed = false;
    std::vector<Endpoint> endpoints;
    std::optional<std::string> jupyter_url_with_token;  // shown once
    std::filesystem::path token_file;
    std::vector<std::string> notes;                     // healed leases, warnings
    std::vector<std::string> check_lines;               // what --check proved
};

// Starts the environment; on any failure nothing is left running and no GPU stays leased.
UpResult up(git::Repository& repo, const Target& target, const UpOptions& options);

// Stops and removes the environment's container, gives back its GPUs, keeps the persist
// folders. Returns false when there was nothing to stop.
bool down(git::Repository& repo, const Target& target);

// One environment as `env status` shows it.
struct EnvStatus {
    std::string model;
    std::string container;
    std::string state;
    std::string image;
    std::string repo;
    std::string worktree;
    std::string gpus;       // visible devices, as given to the container
    std::vector<Endpoint> endpoints;
    std::int64_t started_at = 0;
};

// Every environment of this repository (all_repositories: of the machine), giving back the
// caller's GPU leases whose container is gone; notes (when given) say what was given back.
std::vector<EnvStatus> status(git::Repository& repo, bool all_repositories, std::vector<std::string>* notes = nullptr);

// The documented --json shape of status.
nlohmann::json to_json(const std::vector<EnvStatus>& environments);

// The engine for a target's commands (exec, logs) and its running container, or a clear error.
Engine engine_for(git::Repository& repo, const Target& target);

}  // namespace gm::env
