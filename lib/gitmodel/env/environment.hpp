#pragma once
// `git model env`: one pinned container per model worktree, with its own GPUs,
// ports, limits and persistent folders, started, inspected and removed
// without ever leaking a container or a GPU lease.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
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
    bool branch_gone = false;  // WorktreeUse::optional: no such branch (deleted while its environment ran?)
};

// Whether a command works in the model's worktree (up, exec), or only needs its name (down stops
// the container by its name: a worktree deleted or locked away must not keep it running).
enum class WorktreeUse { needed, optional };

// The named model's worktree, or the current one when no name is given. With
// WorktreeUse::optional a named model without a usable worktree, or even without its branch
// (branch_gone), is still a target, its worktree empty.
Target resolve_target(git::Repository& repo, const std::optional<std::string>& model,
                      WorktreeUse use = WorktreeUse::needed);

// An environment started before the repository was moved (mv, then `git worktree repair`): its
// container, named after the old place, and that place. Found through the model's last launch
// record, which moved with the repository: the container of that name, start token and model,
// when the common git dir is the very folder that launched it (its device and inode: a move keeps
// them, a copy does not) and the old place no longer holds that repository.
struct MovedEnvironment {
    ContainerInfo container;
    std::filesystem::path old_place;  // the common git dir it was labelled with
};
std::optional<MovedEnvironment> moved_environment(const Engine& engine, const Target& target);

// The place a container was started from, when the repository at common_dir launched it there
// and has moved since (the same judgement as moved_environment, for a container at hand).
std::optional<std::filesystem::path> launched_here_before_move(const std::filesystem::path& common_dir,
                                                               const ContainerInfo& info);

// Throws gm::Error, naming what its labels say, when the container of the target's name is not
// one git model made for this model of this repository (made or re-created by hand with that
// name): up, down and exec never start, remove or enter it in the environment's place. Also when
// another user than `caller` (root excepted) started it, through an engine they share.
void require_own_container(const ContainerInfo& info, const Target& target, const Engine& engine, uid_t caller);
// The same for the calling user.
void require_own_container(const ContainerInfo& info, const Target& target, const Engine& engine);

// The stable container name of a model: gm-<repo>-<model>-<hash of the common dir>.
std::string container_name(const std::filesystem::path& common_dir, const std::filesystem::path& main_worktree,
                           const std::string& model);

// The checkpoints and logs folders a model's environment mounts (placeholders expanded).
std::vector<std::filesystem::path> persist_folders(const Target& target, const config::ModelEnv& file);

// The .modelenv.yaml of a worktree; throws with file:line:col when it does not load.
config::ModelEnv load_environment_file(const Target& target);

// The image a snapshot of the branch ran, for image drift.
struct SnapshotImage {
    std::string tag;       // model/<name>/v3
    std::string image_id;  // sha256:...
};

// How `up` behaves.
struct UpOptions {
    bool wait_for_gpu = false;                      // --wait: wait for a GPU instead of failing
    std::optional<std::chrono::seconds> wait_limit; // --wait=<duration>
    bool bind_all_interfaces = false;               // --bind-all: publish on 0.0.0.0 (warned)
    bool check = false;                             // --check: git-model-bench inside, and torch
    bool recreate = false;                          // --recreate: replace a running container (persist folders stay)
    bool show_pull = false;                         // the engine's own pull progress reaches our stderr (a terminal, not --quiet)
    // The image id the branch's newest snapshot with this image reference ran, if any
    // (snapshots/ reads the tags; env cannot). Unset: no drift check.
    std::function<std::optional<SnapshotImage>(const std::string& reference)> image_ran_by_snapshots;
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
    bool replaced = false;                              // --recreate removed a container first
    std::vector<std::string> drift;                     // already running: how the file differs from it
    std::string image;
    std::string image_id;                               // what actually runs, when the engine says
    std::string user;                                   // who the processes run as ("alice (uid 1000)", "the image's user")
    std::string engine_mode;
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

// What `env down` did.
struct DownResult {
    bool removed = false;   // false: there was nothing to stop
    std::string container;  // the container's name (the old place's, for one moved_from)
    std::optional<std::filesystem::path> moved_from;  // started before the repository moved from there
    // Nothing was here to stop, but another user runs an environment of the model (in their
    // engine): why, for `env down` to refuse naming them. Never a failure of down() itself, so
    // that prune, which takes the caller's own environment down, goes on (a lease is the user's
    // own text: one written by hand could otherwise block another user's prune).
    std::string others;
};

// Stops and removes the environment's container, gives back its GPUs, keeps the persist
// folders; also the one started before the repository moved here (moved_environment).
DownResult down(const git::Repository& repo, const Target& target);

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
    std::string image_id;
    // How .modelenv.yaml at the tip of the model's branch differs from what the container
    // runs ("memory: 100663296 -> 134217728", "image"); nullopt when it cannot be told
    // (another repository, no file there, a container from before drift was recorded).
    std::optional<std::vector<std::string>> drift;
    // Started before this repository moved here from that common git dir ("" otherwise): `env
    // down` removes it.
    std::string moved_from;
};

// Every environment of this repository (all_repositories: of the machine), giving back the
// caller's GPU leases whose container is gone; notes (when given) say what was given back.
std::vector<EnvStatus> status(git::Repository& repo, bool all_repositories, std::vector<std::string>* notes = nullptr);

// The documented --json shape of status.
nlohmann::json to_json(const std::vector<EnvStatus>& environments);

// The engine for a target's commands (exec, logs) and its running container, or a clear error.
Engine engine_for(const git::Repository& repo, const Target& target);

// How the .modelenv.yaml at the tip of a container's branch differs from what it runs
// (see EnvStatus::drift); nullopt when it cannot be told.
std::optional<std::vector<std::string>> container_drift(const git::Repository& repo, const ContainerInfo& info);

// The .modelenv.yaml of the worktree the repository was opened in (the base branch's too),
// for `env check` and `env pin`; throws when the repository has no worktree or no file.
std::filesystem::path worktree_environment_file(git::Repository& repo, const std::optional<std::string>& model);

// What `env pin` did.
struct PinResult {
    std::filesystem::path file;
    std::string before;  // the reference as pinned before
    std::string after;   // name:tag@sha256:...
    std::string image_id;
};

// Rewrites the file's tag pin as tag@<registry digest> of the image the tag resolves to here,
// keeping every other byte, its mode and ACL; a link is followed to a file of its worktree (and
// stays a link). Throws, writing nothing, when it is pinned by digest already, the image is not
// here, it has no registry digest (built here and never pushed), the link leads out of the
// worktree, or the file changed while the engine was asked (an editor's save is not lost).
PinResult pin_image(git::Repository& repo, const std::filesystem::path& file);

}  // namespace gm::env
