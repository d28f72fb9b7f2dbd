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
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/env/user.hpp"

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
    UserPlan user;                               // who the processes run as (plan_user)
    std::filesystem::path accounts_dir;          // where the passwd/group files are written (a 0700 folder)
    std::filesystem::path home;                  // the host folder mounted as the user's HOME (user.home)
    config::Placeholders placeholders;           // {model}, {branch}, {user} in the file's mount sources
};

// The planned container: the engine's spec, and the files to write first (the env file, the
// account files), each only its owner may read.
struct ContainerPlan {
    LaunchSpec spec;
    std::string env_file_content;
    std::vector<std::pair<std::filesystem::path, std::string>> account_files;
    // Mount points inside the user's host home folder (for mounts below HOME inside, such as the
    // common dir of a repository under the user's home), made by us so the engine does not make
    // them as root: (path, is a folder).
    std::vector<std::pair<std::filesystem::path, bool>> home_mount_points;
};

// Makes the plan's mount points in the home folder (as the caller, before the engine runs).
void create_home_mount_points(const ContainerPlan& plan);

// Plans the container; throws gm::Error when a mount source of the file does not exist or
// a variable holds a line break (an env file cannot carry it).
ContainerPlan plan_container(const config::ModelEnv& file, const ContainerRequest& request);

// The full argv of the planned `run` for this engine (its host flags included).
std::vector<std::string> engine_run_argv(const Engine& engine, const LaunchSpec& spec);

// The full argvs that make a foreground spec's container and then start it attached
// (launch.hpp's create_argv and start_attached_arguments, with the engine's host flags).
std::vector<std::string> engine_create_argv(const Engine& engine, const LaunchSpec& spec);
std::vector<std::string> engine_start_attached_argv(const Engine& engine, const std::string& name);

// The placeholder values of a model for its caller.
config::Placeholders placeholders_for(const std::string& model, const std::string& branch);

}  // namespace gm::env
