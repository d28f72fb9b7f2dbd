#pragma once
// The verdicts of `git model doctor`, from facts gathered elsewhere (doctor.hpp): pure functions,
// so every verdict and every suggested fix is unit-tested without git, podman or a GPU.

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/doctor/report.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/lease.hpp"
#include "gitmodel/hooks/install.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm::doctor {

// A git version, compared as a tuple.
struct GitVersion {
    int major = 0;
    int minor = 0;
    int patch = 0;
};

// The oldest git the suite supports (worktree and hook behaviour it relies on; the package depends on it).
inline constexpr GitVersion minimum_git{2, 25, 0};

// Reads "git version 2.39.5" (also "2.39.5.windows.1", "2.45.2 (Apple Git-154)"); nullopt otherwise.
std::optional<GitVersion> parse_git_version(std::string_view text);

// git: runnable and recent enough. version_output is `git --version`'s output, nullopt when git did not run.
Check judge_git(const std::optional<std::string>& version_output);

// Where one of the suite's programs is found.
struct ProgramFact {
    std::string name;                              // git-model, git-model-env, git-model-bench
    std::optional<std::filesystem::path> on_path;  // what PATH finds (what git runs)
};

// programs: all three on PATH, and from the same folder as the running git-model (one install).
Check judge_programs(const std::vector<ProgramFact>& programs, const std::filesystem::path& own_dir);

// hooks: every managed hook is the current shim, and nothing keeps them (or Git LFS's) from
// running (problems: hooks::hooks_problems). statuses is nullopt outside a repository.
// shared_fix: the fix when core.hooksPath is a folder shared beyond this repository
// (hooks::shared_hooks_fix), where `hooks install` refuses and so cannot be the fix.
Check judge_hooks(const std::optional<std::vector<hooks::HookStatus>>& statuses, const std::filesystem::path& hooks_dir,
                  const std::vector<std::string>& problems = {}, const std::optional<std::string>& shared_fix = {});

// What was found about .modelenv.yaml.
struct ModelenvFact {
    bool in_repo = false;
    std::filesystem::path path;              // <worktree>/.modelenv.yaml
    bool exists = false;
    std::optional<std::string> error;        // the loader's message when it does not load
    std::optional<config::ModelEnv> env;     // when it loads
};

// modelenv: present and valid (absent is a warning: only env and CI need it).
Check judge_modelenv(const ModelenvFact& fact);

// What was found about the container engine.
struct EngineFact {
    std::optional<std::string> unavailable;  // select_engine's message when none is usable
    std::string hint;                        // and its hint
    std::string name;                        // podman or docker
    bool answered = false;                   // `<engine> info` ran and exited 0 in time
    bool timed_out = false;
    std::string error;                       // the last line of its stderr otherwise
    std::chrono::seconds timeout{0};
    std::string mode;                        // Engine::describe_mode(): rootless, rootful (local), rootful through ...
};

// engine: installed and `<engine> info` works; the detail names its mode.
Check judge_engine(const EngineFact& fact);

// Files in one folder owned by someone other than the caller.
struct ForeignFiles {
    std::filesystem::path folder;    // a worktree or persist folder
    std::size_t count = 0;           // how many entries (of those looked at)
    std::filesystem::path example;   // one of them
    unsigned owner = 0;              // its owner
    std::string owner_name;
    bool partial = false;            // the walk stopped at its limit
    bool root_owned = false;         // some are root's (a rootful engine)
    bool subordinate_owned = false;  // some are the caller's subordinate ids' (a rootless engine)
};

// Whether a file owned by `owner` was made by a container of the caller's: root's (a rootful
// engine) when the caller is not root, or one of the caller's subordinate ids (a rootless
// engine). Another real user's files (a teammate's in a shared folder) are not.
bool container_made(unsigned owner, unsigned caller, const std::vector<IdRange>& subordinate);

// What was found about the ownership of the models' worktrees and persist folders.
struct OwnershipFact {
    bool in_repo = false;
    unsigned uid = 0;                     // the caller
    unsigned gid = 0;
    std::string engine_name;              // for the fix through the engine ("" when none)
    bool rootless = false;                // files owned by subordinate ids come from a rootless engine
    std::string image;                    // an image for the fix through the engine ("" when unknown)
    std::size_t folders = 0;              // how many were looked at
    std::vector<ForeignFiles> found;      // folders with entries a container made (root's, subordinate ids)
};

// ownership: no file in the worktrees and persist folders was made by a container as another
// uid; else a warning naming the folder, the owner and a fix that chowns only those files
// (find -uid 0 ... chown, through the engine, or podman unshare), never a teammate's.
Check judge_ownership(const OwnershipFact& fact);

// What `git-model-bench --quick --json` said.
struct BenchFact {
    bool skipped = false;            // --no-bench, or skip_reason
    std::string skip_reason;         // why it was not run, when not for --no-bench
    bool missing = false;            // git-model-bench not found
    bool timed_out = false;
    int exit_code = 0;
    int signal = 0;
    std::string out;                 // its JSON
    std::string err;                 // its error lines
    std::chrono::seconds timeout{0};
};

// gpus: exit 0 ok (names listed), 3 (no usable GPU) a warning, anything else a failure.
Check judge_gpus(const BenchFact& fact);

// What was found about the machine's GPU pool.
struct PoolFact {
    std::optional<std::string> error;  // model.gpus malformed, lease folder unreadable
    env::Pool pool;
    std::vector<env::Lease> leases;
    bool wants_gpu = false;            // .modelenv.yaml asks for GPUs
};

// pool: how many of the pool's GPUs are free, and who holds the rest.
Check judge_pool(const PoolFact& fact);

// Whether `git fetch` brings the team's state (snapshots::FetchSetup, as facts).
struct FetchFact {
    bool in_repo = false;
    std::string remote;                 // the team's remote (git::team_remote_name)
    bool remote_exists = false;
    std::vector<std::string> remotes;   // every remote set up here: when the team's names none of them,
                                        // its policy is read from the local base, finish cannot push
    bool tags = false;                  // every tag is fetched (remote.<r>.tagOpt --tags, or a refs/tags/* refspec)
    bool notes = false;                 // refs/notes/git-model is fetched
    bool exact_notes = false;           // by an exact refspec: git fetch fails while the remote has no notes
    std::vector<std::string> commands;  // the git config commands that complete it
};

// fetch: teammates' snapshot tags and finish notes arrive with git fetch (warn when not: log,
// best and compare would not show teammates' snapshots); fail when model.remote names no remote
// while there are some (the team's policy would be read from a local base that may be stale).
Check judge_fetch(const FetchFact& fact);

// The configuration keys doctor looks at.
struct ConfigFact {
    bool in_repo = false;
    std::optional<std::string> user_name;
    std::optional<std::string> user_email;
    std::string base_branch;              // model.baseBranch, else main
    bool base_exists = false;
    std::map<std::string, std::string> model_keys;  // every model.* key set, lower-cased as git stores them
};

// config: user.name/user.email set, the base branch exists, model.* values well-formed.
Check judge_config(const ConfigFact& fact);

}  // namespace gm::doctor
