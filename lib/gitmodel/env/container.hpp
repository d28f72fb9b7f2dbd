#pragma once
// The container of a model's worktree, planned once for both `env up` and a
// sweep's runs: the pinned image with the worktree, the common git dir, the
// file's mounts and the persist folders mounted, its limits, its GPUs (as
// devices and as CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES), its labels
// and its variables (in an env file, never in argv).

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/env/launch.hpp"

namespace gm::env {

// What differs between an environment and a sweep's run.
struct ContainerRequest {
    EngineKind engine = EngineKind::podman;
    std::string name;                            // the container's name
    std::string hostname;                        // the model's name
    std::filesystem::path worktree;              // mounted at the file's workdir
    std::filesystem::path common_dir;            // the repository's common git dir
    bool mount_common_dir = true;                // at its own path (a linked worktree's .git points there)
    std::string model;
    std::string branch;
    std::filesystem::path checkpoints;           // mounted at /persist/checkpoints
    std::filesystem::path logs;                  // mounted at /persist/logs
    std::vector<GpuSlot> gpus;
    bool pass_gpu_devices = true;                // false where no NVIDIA driver is present
    std::vector<BindMount> extra_mounts;         // after the file's (ssh keys, the bench)
    std::vector<std::pair<std::string, std::string>> variables;  // after the file's env
    std::vector<std::pair<std::string, std::string>> extra_labels;  // after the common ones
    std::vector<PublishedPort> ports;
    std::vector<std::string> command;
    bool detach = true;
    std::filesystem::path env_file;              // where the caller writes env_file_content (mode 0600)
    std::filesystem::path pidfile;               // podman writes the container's host pid there
};

// The planned container: the engine's spec, and the env file's content to write first.
struct ContainerPlan {
    LaunchSpec spec;
    std::string env_file_content;
};

// Plans the container; throws gm::Error when a mount source of the file does not exist or
// a variable holds a line break (an env file cannot carry it).
ContainerPlan plan_container(const config::ModelEnv& file, const ContainerRequest& request);

}  // namespace gm::env
