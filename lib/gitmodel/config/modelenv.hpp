#pragma once
// The .modelenv.yaml schema: what a model's container environment may say,
// loaded into plain structs with every problem reported as
// "<file>:<line>:<column>: <what was expected>" (see gitmodelenv(5)).

#include "gitmodel/config/config_error.hpp"
#include "gitmodel/config/image_ref.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gm::config {

// Where env up mounts the persist folders and the SSH files in the container: no mount or
// workdir may take these places (the engine would refuse two mounts on one target).
inline constexpr const char* persist_checkpoints_target = "/persist/checkpoints";
inline constexpr const char* persist_logs_target = "/persist/logs";
inline constexpr const char* ssh_keys_target = "/root/.ssh/authorized_keys";
inline constexpr const char* ssh_config_target = "/etc/ssh/sshd_config.d/git-model.conf";


// The file name the loader looks for at the root of a model's worktree.
inline constexpr const char* modelenv_file_name = ".modelenv.yaml";

// Files larger than this are refused unread: a configuration never needs more.
inline constexpr std::size_t modelenv_max_bytes = 1u << 20;

// Which GPUs a container asks for; engines take a count, a device list or "all".
struct GpuRequest {
    // The three spellings of `gpus:` in the file.
    enum class Kind { count, indices, all };
    // Which spelling was used; the default (count 0) means CPU only.
    Kind kind = Kind::count;
    // For Kind::count: how many GPUs (0 = none).
    int count = 0;
    // For Kind::indices: host GPU indices in file order, no duplicates.
    std::vector<int> indices;

    // Whether the container needs any GPU at all, so callers can skip GPU probing.
    bool wants_gpu() const { return kind != Kind::count || count > 0; }
};

// A named container port; the name lets commands print "jupyter: http://…".
struct Port {
    // Lowercase name such as "jupyter", "ssh" or "tensorboard".
    std::string name;
    // Port inside the container, 1..65535.
    int container_port = 0;
    // A fixed host port ('8888:8888'), refused only when taken; none: a stable one per model.
    std::optional<int> host_port;
};

// Who the container's processes run as, so that the files they write have the right owner.
struct UserSetting {
    // host: the caller's uid:gid (the default); image: the image's own user; ids: uid:gid as written.
    enum class Mode { host, image, ids };
    // Which of the three the file chose.
    Mode mode = Mode::host;
    // For Mode::ids: the uid inside the container.
    std::uint32_t uid = 0;
    // For Mode::ids: the gid inside the container.
    std::uint32_t gid = 0;
};

// The values {model}, {branch} and {user} stand for in persist folders and mount sources,
// so that each model (or person) gets a folder of its own.
struct Placeholders {
    // The model's name.
    std::string model;
    // Its branch, such as feature/model-alpha (a '/' makes a subfolder).
    std::string branch;
    // The caller's login name.
    std::string user;
};

// A host folder bound into the container.
struct Mount {
    // Absolute, normalised host path.
    std::string source;
    // Absolute, normalised container path (never "/" nor the workdir).
    std::string target;
    // Whether the container may not write to it.
    bool readonly = false;
};

// A host folder for checkpoints or logs, as written in the file.
struct PersistPath {
    // The normalised path; relative ones are resolved by the caller against the repository.
    std::string path;
    // Whether path is relative (to the repository), so the caller knows to resolve it.
    bool relative = false;
};

// Where outputs survive the container; unset entries get the caller's default
// (a folder per model under the common git dir).
struct Persist {
    // Host folder for checkpoints, if the file names one.
    std::optional<PersistPath> checkpoints;
    // Host folder for logs, if the file names one.
    std::optional<PersistPath> logs;
};

// What the container runs, in the two forms engines accept.
struct Command {
    // none: the image's default; shell: one string for the image's shell; exec: an argv list.
    enum class Form { none, shell, exec };
    // Which form the file used.
    Form form = Form::none;
    // For Form::shell: the command line.
    std::string shell;
    // For Form::exec: program and arguments.
    std::vector<std::string> argv;
};

// A GPU compute capability such as 8.0, compared as (major, minor).
struct ComputeCapability {
    // Architecture generation (8 for Ampere).
    int major = 0;
    // Revision within the generation.
    int minor = 0;
};

// Pass/fail thresholds for `git model bench`; unset ones are not checked.
struct BenchThresholds {
    // Measured / theoretical memory bandwidth must reach this (0 < x <= 1).
    std::optional<double> min_bandwidth_fraction;
    // Measured / theoretical FP32 throughput must reach this (0 < x <= 1).
    std::optional<double> min_fp32_fraction;
    // The GPU must be at least this architecture.
    std::optional<ComputeCapability> min_compute_capability;
    // Free GPU memory, in bytes, must be at least this.
    std::optional<std::uint64_t> min_free_memory;
};

// Everything a .modelenv.yaml says, with defaults filled in.
struct ModelEnv {
    // The container image, pinned by a tag other than latest or by a digest.
    ImageRef image;
    // GPUs to pass through (default: none).
    GpuRequest gpus;
    // Memory limit in bytes (default: the engine's).
    std::optional<std::uint64_t> memory_bytes;
    // CPU limit, possibly fractional (default: the engine's).
    std::optional<double> cpus;
    // /dev/shm size in bytes (default: the engine's).
    std::optional<std::uint64_t> shm_bytes;
    // Named container ports in file order, no duplicate names or numbers.
    std::vector<Port> ports;
    // Bind mounts in file order, no duplicate targets.
    std::vector<Mount> mounts;
    // Host folders for checkpoints and logs.
    Persist persist;
    // Environment variables in file order; numbers are kept as written.
    std::vector<std::pair<std::string, std::string>> env;
    // Working directory inside the container.
    std::string workdir = "/workspace";
    // What to run (default: the image's command).
    Command command;
    // Who the processes run as (default: the caller).
    UserSetting user;
    // "podman" or "docker", when the file insists on one.
    std::optional<std::string> engine;
    // Thresholds for `git model bench`.
    BenchThresholds bench;

    // The port with this name, so commands can find "jupyter" without a loop.
    std::optional<int> find_port(std::string_view name) const;
};

// The top-level keys in the order the man page lists them, for completion and did-you-mean.
const std::vector<std::string>& modelenv_keys();

// Parses and checks a .modelenv.yaml held in memory (from a worktree or a git
// blob); display_name is what errors call the file. Throws ConfigError.
ModelEnv load_modelenv_text(std::string_view text, const std::string& display_name);

// Reads and loads a worktree's .modelenv.yaml, refusing files over 1 MiB without parsing them,
// and a link that leads out of its worktree (or into its .git) without reading it: a commit may
// hold a link to any host file, whose lines the errors would quote (a root-run check in a CI log).
// Errors name the path as given. Throws ConfigError, or gm::Error when unreadable.
ModelEnv load_modelenv_file(const std::filesystem::path& path);

// Where a worktree's .modelenv.yaml leads when it is a link (resolved), or nullopt when the link
// leads out of the worktree at path's folder, into its .git, or to no regular file. A plain file
// is its own target. The one rule of what a committed link may name, for reading and for pin.
std::optional<std::filesystem::path> modelenv_link_target(const std::filesystem::path& path);

// A persist folder or mount source with {model}, {branch} and {user} replaced (the loader
// refuses any other {name}, so nothing else is left to expand).
std::string expand_placeholders(std::string_view text, const Placeholders& values);

// The file's text with its tag pin `image: name:tag` rewritten as `name:tag@<digest>`, every
// other byte (comments, quoting, order) kept; throws ConfigError when the file does not load,
// and gm::Error when it is pinned by digest already or the value cannot be found as written.
std::string pin_image_digest(std::string_view text, const std::string& display_name, const std::string& digest);

// The resolved settings, one "key: value" per line, defaults marked, for `git model env check`.
std::string describe(const ModelEnv& env);

// The resolved settings as JSON, for --json output and scripts.
nlohmann::json to_json(const ModelEnv& env);

// The settings that shape the container (to_json without the bench thresholds and the engine),
// so that a running container can be compared with the file.
nlohmann::json container_settings(const ModelEnv& env);

// "host", "image" or "<uid>:<gid>", as the file spells it.
std::string describe_user(const UserSetting& user);

}  // namespace gm::config
