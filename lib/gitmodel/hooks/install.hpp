#pragma once
// Installing the suite's hook shims into the folder git really runs hooks
// from, without ever overwriting a hook somebody else wrote.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/reader.hpp"

namespace gm::hooks {

// Where a repository's hooks are, and what else decides whether they run.
struct HooksContext {
    std::filesystem::path dir;                       // the folder git runs hooks from in this worktree
    std::optional<std::string> relative_hooks_path;  // core.hooksPath when relative: git resolves it per worktree
    std::filesystem::path pinned_dir;                // that path resolved from the main worktree (install pins it)
    bool uses_lfs = false;                           // .gitattributes or info/attributes sets filter=lfs
    // Where core.hooksPath is set when that is not this repository's own configuration (the
    // global or system file, git -c) and it names one folder for all: the hooks there run in
    // every repository the setting reaches, so git-model's are not installed there.
    std::optional<std::string> shared_hooks_origin;
    std::filesystem::path common_dir;                // where this repository's own hooks/ folder is
    std::filesystem::path main_worktree;             // whose tracked files a hooks folder inside it may hold
};

// Reads the context: core.hooksPath, the main worktree, the attributes files.
HooksContext hooks_context(const git::RepoReader& repo);

// Why git-model's hooks are not put in a core.hooksPath shared beyond this repository
// (context.shared_hooks_origin set), and how to give the repository a folder of its own: for
// `hooks install`'s refusal, `start`'s offer and doctor.
std::string shared_hooks_problem(const HooksContext& context);
std::string shared_hooks_fix(const HooksContext& context);

// The hooks Git LFS needs to run (it uploads objects at pre-push and fetches them at checkout).
const std::vector<std::string>& lfs_hook_names();

// Whether Git LFS's hooks run where .gitattributes asks for LFS.
struct LfsHooksState {
    bool used = false;                  // the repository stores files through LFS
    bool lfs_installed = false;         // git-lfs is on PATH
    std::vector<std::string> missing;   // LFS hooks that would not run (pre-push: neither ours chains it nor is it LFS's)
};

// Reads the state of LFS's hooks in a hooks folder.
LfsHooksState lfs_hooks_state(const HooksContext& context);

// The problems that keep hooks from running everywhere, each a sentence (relative
// core.hooksPath, LFS hooks missing); empty when there are none.
std::vector<std::string> hooks_problems(const HooksContext& context);

// The hooks the suite manages.
const std::vector<std::string>& managed_hooks();

// Suffix of a foreign hook that our shim runs after its own checks (--chain, Git LFS).
inline constexpr const char* chained_suffix = ".git-model-chained";
// Suffix of a foreign hook set aside by --force.
inline constexpr const char* backup_suffix = ".git-model-backup";

// What occupies a hook's place.
// edited: the suite's shim (it carries the marker) whose text differs from the shim of its
// version, or a link to one: changed by the user, so never rewritten nor removed without --force.
enum class HookState { missing, current, outdated, edited, foreign };

// One hook's situation, for `hooks status`, `install` and `doctor`.
struct HookStatus {
    std::string name;
    std::filesystem::path path;
    HookState state = HookState::missing;
    int version = 0;                  // the shim version found (ours only)
    bool is_git_lfs = false;          // the foreign hook is Git LFS's own
    // Whether the caller may execute it: git skips a hook that is not executable (with a hint
    // only when advice.ignoredHook is on), so a shim without its x bit checks nothing.
    bool executable = true;
    std::optional<std::filesystem::path> chained;  // a foreign hook our shim runs after us
    std::optional<std::filesystem::path> backup;   // a foreign hook set aside by --force
};

// How to treat a foreign hook in the way.
enum class ForeignPolicy { refuse, chain, force, manual };

// Where the shims to install live: beside the installed suite
// (<prefix>/share/git-model/hooks), or GIT_MODEL_HOOKS_DIR.
std::filesystem::path shim_source_dir();

// Reads the state of every managed hook in a hooks folder.
std::vector<HookStatus> hook_status(const std::filesystem::path& hooks_dir);

// Installs (or upgrades) every managed hook; Git LFS's hook is always chained.
// Returns one line per action; throws gm::Error listing the foreign hooks and
// the choices when policy is refuse, changing nothing.
std::vector<std::string> install_hooks(const std::filesystem::path& hooks_dir, ForeignPolicy policy);

// install_hooks for a repository: pins a relative core.hooksPath (so that every
// worktree runs the hooks), installs ours, and where .gitattributes uses Git LFS
// installs LFS's hooks (chaining its pre-push behind ours) from git-lfs itself.
std::vector<std::string> install_repository_hooks(const HooksContext& context, ForeignPolicy policy);

// The lines a user adds to their own hook to run ours (--manual).
std::string manual_instructions(const std::filesystem::path& hooks_dir);

// Removes our shims and puts back what we chained or set aside; leaves foreign hooks alone.
std::vector<std::string> uninstall_hooks(const std::filesystem::path& hooks_dir);

// The word for a state, for tables and JSON.
const char* to_string(HookState state);

}  // namespace gm::hooks
