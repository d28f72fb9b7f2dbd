#pragma once
// Git configuration as git itself sees it: libgit2's files plus the overrides
// git hands to external commands (`git -c key=value model ...` arrives as
// GIT_CONFIG_PARAMETERS / GIT_CONFIG_COUNT, which libgit2 does not read).

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/core/error.hpp"

// libgit2's handles stay opaque outside the git layer.
struct git_repository;
struct git_config;

namespace gm::git {

struct TeamFile;  // team_file.hpp: the committed .gitmodel this view layers under git config

// Frees a git_config; defined where <git2.h> is included.
struct ConfigDeleter {
    void operator()(git_config* config) const noexcept;
};

// A read view of a repository's configuration, with git's command-line overrides on top.
class Config {
public:
    // Whether the committed team file (.gitmodel on the base branch) is layered in.
    enum class Layers { git_only, with_team_file };

    // Takes a snapshot of the repository's configuration and reads the environment's overrides;
    // with_team_file reads .gitmodel lazily, at the first read, so that writers never run git.
    explicit Config(git_repository* repo, Layers layers = Layers::git_only);

    // The last value of a key (git's rule: the most specific file wins), if set.
    std::optional<std::string> get_string(std::string_view key) const;
    // Every value of a multi-valued key, in file order, overrides last.
    std::vector<std::string> get_all(std::string_view key) const;
    // Every key (normalised name) that starts with prefix and ends with suffix,
    // with its last value, in one pass: reading thousands of keys one by one is
    // quadratic. (Not libgit2's regex iterator: 1.5 leaks on every mismatch.)
    std::map<std::string, std::string> get_matching(std::string_view prefix, std::string_view suffix) const;
    // A boolean in git's spellings (true/yes/on/1, false/no/off/0); throws on anything else.
    std::optional<bool> get_bool(std::string_view key) const;
    // A path, as git reads one (`git config --type=path`): a leading "~/" is the user's home
    // ($HOME), "~name/" that user's; throws naming the key when neither is known. Else as written.
    std::optional<std::string> get_path(std::string_view key) const;

    // The team file layered in (nullptr for git_only); throws naming .gitmodel:<line> when it does not parse.
    const TeamFile* team() const;
    // Where the value of key comes from, exactly: "team file .gitmodel at <ref>", "command line (git -c)",
    // "local <file>", "worktree <file>", "global <file>", "xdg <file>", "system <file>", "<included
    // file>, included from local <file>", ...; nullopt when unset.
    std::optional<std::string> origin(std::string_view key) const;
    // git_only's values, whatever this view layers: what this clone's own configuration says.
    std::vector<std::string> get_all_git(std::string_view key) const;
    // git_only's get_matching.
    std::map<std::string, std::string> plain_matching(std::string_view prefix, std::string_view suffix) const;
    // git_only's value (overrides, then the most specific file).
    std::optional<std::string> get_string_git(std::string_view key) const;

    // How long a write waits for another writer's .git/config.lock before it fails.
    static constexpr std::chrono::milliseconds write_lock_timeout{10000};

    // Writes a key into the repository's own config file (.git/config), waiting
    // (bounded, with back-off) while another writer holds its lock.
    void set_local(std::string_view key, std::string_view value);
    // Removes a key from the repository's own config file; absent keys are fine. Waits like set_local.
    void unset_local(std::string_view key);

    // Parses GIT_CONFIG_PARAMETERS the way git writes it; public for tests.
    static std::vector<std::pair<std::string, std::string>> parse_parameters(std::string_view text);

    // Lower-cases the section and variable name (subsections keep their case), as git does.
    static std::string normalize_key(std::string_view key);

private:
    // The included file (as git names it) that holds key's value in force; nullopt when git
    // cannot tell. libgit2 gives an entry's level and include depth but not its file.
    std::optional<std::string> included_file_holding(const std::string& key) const;
    // The folder git runs in to read this repository's configuration as the caller's command
    // would: the worktree (its config.worktree applies), else the repository folder.
    std::filesystem::path git_folder() const;

    // One value as `git config --list --show-scope --show-origin` gives it.
    struct ListedEntry {
        std::string key;     // normalised
        std::string value;
        std::string scope;   // "system", "global", "local", "worktree", "command"
        std::string file;    // absolute; empty for a plain git -c value
    };
    // The configuration as git lists it (for listed_by_git_); nullopt when git cannot list it.
    std::optional<std::vector<ListedEntry>> list_with_git() const;

    git_repository* repo_;
    std::unique_ptr<git_config, ConfigDeleter> snapshot_;
    std::vector<std::pair<std::string, std::string>> overrides_;  // normalised key, value
    Layers layers_;
    mutable std::shared_ptr<const TeamFile> team_;  // read at the first use when layers_ says so
    // The configuration as git itself lists it, in git's order, the command line's values (and
    // what they include) last, when it uses what libgit2 1.5 ignores (an includeIf "hasconfig:"
    // condition, or a git -c include.path): then it, not the snapshot and overrides_, is what
    // every read sees.
    std::optional<std::vector<ListedEntry>> listed_by_git_;
};

// The names of the remotes set up in this clone (remote.<name>.url), in name order: to choose the
// team's remote (team_remote_name) and to name the choices when model.remote names none.
std::vector<std::string> remote_names(const Config& config);

// The error refusing key's malformed value, told where the value was set ("... (set in team file
// .gitmodel at refs/remotes/origin/main)"): a teammate's committed value is fixed in .gitmodel on
// the base branch, not with the `git config` the hint suggests, so the hint says so for that file.
Error config_value_error(const Config& config, std::string_view key, const Error& error);

// A duration key's value in seconds (10s, 2m, 36h, 14d), nullopt when unset. A value that is no
// duration, or is 0 where positive says it must not be, throws naming the key, its value and where
// it was set (config_value_error), with examples as the hint: the one reader of duration keys.
std::optional<std::int64_t> duration_setting(const Config& config, std::string_view key, std::string_view examples,
                                             bool positive = false);

}  // namespace gm::git
