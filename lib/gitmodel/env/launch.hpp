#pragma once
// The engine's `run -d` command line for one environment, built from the
// resolved settings as plain data: pure, so the podman and docker forms are
// unit-tested without an engine, and nothing ever goes through a shell.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/config/modelenv.hpp"

namespace gm::env {

// The labels every container of the suite carries, so that `env status`, the
// lease book and sweeps recognise theirs (and the tests clean up theirs).
namespace label {
inline constexpr const char* managed = "io.git-model.managed";
inline constexpr const char* repo = "io.git-model.repo";
inline constexpr const char* model = "io.git-model.model";
inline constexpr const char* branch = "io.git-model.branch";
inline constexpr const char* worktree = "io.git-model.worktree";
inline constexpr const char* gpus = "io.git-model.gpus";
inline constexpr const char* ports = "io.git-model.ports";
inline constexpr const char* sweep = "io.git-model.sweep";  // "<id>/<run>" on a sweep run's container
// A random token per `env up`, on the container it makes and in its GPU leases until they have its
// id: the failure path removes only its own container, and a lease whose start died judges a
// container of that name without it (the one a --recreate replaces) as not its own.
inline constexpr const char* start = "io.git-model.start";
inline constexpr const char* image = "io.git-model.image";  // the reference the file pins (the run names its id)
inline constexpr const char* settings = "io.git-model.settings";  // fingerprint of the file's container settings
inline constexpr const char* login = "io.git-model.login";  // the user's name inside (SSH logins)
// The uid that started it: through an engine several users share (root's service on a socket),
// one user's down, exec or up never takes another's environment for their own.
inline constexpr const char* owner = "io.git-model.uid";
// On the throwaway container of a --recreate --check probe: the repository that ran it, so a probe
// a kill left behind is told from a teammate's, and is no environment (it has no `managed`).
inline constexpr const char* probe = "io.git-model.probe";
}  // namespace label

// A container engine's command-line dialect.
enum class EngineKind { podman, docker };

// One GPU taken from the pool.
struct GpuSlot {
    int index = 0;                    // host index (nvidia-smi order, or model.gpus)
    std::optional<std::string> uuid;  // GPU-xxxxxxxx-..., when the driver gives one
};

// A container port published on a host port.
struct PublishedPort {
    std::string name;
    int container_port = 0;
    int host_port = 0;
    std::string host_address = "127.0.0.1";
};

// A bind mount into the container.
struct BindMount {
    std::filesystem::path source;
    std::string target;
    bool readonly = false;
};

// Everything `run -d` needs, resolved: no defaults left to apply.
struct LaunchSpec {
    EngineKind engine = EngineKind::podman;
    std::string container_name;
    std::string image;
    std::string hostname;
    std::string workdir;
    std::vector<BindMount> mounts;             // worktree, common git dir, data, persist, ssh files
    std::vector<PublishedPort> ports;
    std::vector<GpuSlot> gpus;
    bool pass_gpu_devices = true;              // false where no NVIDIA driver is present (a configured pool)
    std::optional<std::uint64_t> memory_bytes;
    std::optional<double> cpus;
    std::optional<std::uint64_t> shm_bytes;
    std::filesystem::path env_file;            // NAME=value lines (mode 0600): keeps values out of argv
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<std::string> command;          // argv run in the container; empty: the image's own
    bool detach = true;                        // false: run in the foreground and remove it when it ends (--rm)
    std::filesystem::path pidfile;             // podman: where it writes the container's host pid (the GPU lease's workload)
    std::vector<std::string> user_flags;       // --user uid:gid or --userns=keep-id (env/user.hpp)
    std::vector<std::string> tmpfs;            // --tmpfs values (target:options): a HOME no host folder can hold
};

// The full argv ("podman", "run", "-d", ...) for the spec.
std::vector<std::string> run_argv(const std::string& engine_program, const LaunchSpec& spec);

// The same container as run_argv's foreground one (spec.detach false), made but not started
// ("podman", "create", "--pull=never", "--rm", ...): a sweep's scheduler makes a run's container
// first and starts it only if no cancel came meanwhile, so that no container it made can
// appear after a cancel looked for it. The image must be here already.
std::vector<std::string> create_argv(const std::string& engine_program, const LaunchSpec& spec);

// The arguments, in a row, of the engine client that creates `name` (as create_argv writes them):
// how a create that a killed scheduler left running is found (proc::find_own_process).
std::vector<std::string> create_arguments(const std::string& name);

// The engine's arguments that start a created container in the foreground ("start", "--attach",
// name): its output and exit status are the client's, and the client passes signals on to it.
std::vector<std::string> start_attached_arguments(const std::string& name);

// The engine's arguments (after the program) that run `binary.target --version` once in a
// throwaway container of the image, the host's binary.source mounted read-only there (no
// network, as root, removed after): whether a binary of ours can start in that image at all
// (a glibc loader and C library), asked before a --recreate --check removes what runs. The
// container is labelled label::probe=repository.
std::vector<std::string> version_probe_arguments(const std::string& image_id, const BindMount& binary,
                                                 const std::string& repository);

// The arguments, in a row, of the engine client that creates the detached container `name` (as
// run_argv writes them): how a client that a killed `env up` left is found (proc::find_own_process).
std::vector<std::string> detached_run_arguments(const std::string& name);

// CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES for the GPUs: UUIDs where known (they
// survive renumbering and device isolation alike), host indices otherwise; "" for none.
std::string visible_devices(const std::vector<GpuSlot>& gpus);

// The argv that runs a script with the image's own /bin/sh, inside the container
// (the `command:` string form, the default command, `env shell`); never on the host.
std::vector<std::string> in_container_shell(const std::string& script);

// The command a container runs when .modelenv.yaml names none: Jupyter when a
// jupyter port is set, else a shell that waits (and sshd too, when an ssh port is set).
// sshd_config: a full sshd configuration for an sshd that runs as the (non-root) user,
// with its host key made at first start; "" for root's sshd with the image's configuration.
std::vector<std::string> default_command(const config::ModelEnv& env, const std::string& sshd_config = {},
                                         const std::string& host_key = {});

}  // namespace gm::env
