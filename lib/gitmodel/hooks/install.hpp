#pragma once
// Installing the suite's hook shims into the folder git really runs hooks
// from, without ever overwriting a hook somebody else wrote.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gm::hooks {

// The hooks the suite manages.
const std::vector<std::string>& managed_hooks();

// Suffix of a foreign hook that our shim runs after its own checks (--chain, Git LFS).
inline constexpr const char* chained_suffix = ".git-model-chained";
// Suffix of a foreign hook set aside by --force.
inline constexpr const char* backup_suffix = ".git-model-backup";

// What occupies a hook's place.
enum class HookState { missing, current, outdated, foreign };

// One hook's situation, for `hooks status`, `install` and `doctor`.
struct HookStatus {
    std::string name;
    std::filesystem::path path;
    HookState state = HookState::missing;
    int version = 0;                  // the shim version found (ours only)
    bool is_git_lfs = false;          // the foreign hook is Git LFS's own
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

// The lines a user adds to their own hook to run ours (--manual).
std::string manual_instructions(const std::filesystem::path& hooks_dir);

// Removes our shims and puts back what we chained or set aside; leaves foreign hooks alone.
std::vector<std::string> uninstall_hooks(const std::filesystem::path& hooks_dir);

// The word for a state, for tables and JSON.
const char* to_string(HookState state);

}  // namespace gm::hooks
