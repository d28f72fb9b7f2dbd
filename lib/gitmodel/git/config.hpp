#pragma once
// Git configuration as git itself sees it: libgit2's files plus the overrides
// git hands to external commands (`git -c key=value model ...` arrives as
// GIT_CONFIG_PARAMETERS / GIT_CONFIG_COUNT, which libgit2 does not read).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// libgit2's handles stay opaque outside the git layer.
struct git_repository;
struct git_config;

namespace gm::git {

// Frees a git_config; defined where <git2.h> is included.
struct ConfigDeleter {
    void operator()(git_config* config) const noexcept;
};

// A read view of a repository's configuration, with git's command-line overrides on top.
class Config {
public:
    // Takes a snapshot of the repository's configuration and reads the environment's overrides.
    explicit Config(git_repository* repo);

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
    git_repository* repo_;
    std::unique_ptr<git_config, ConfigDeleter> snapshot_;
    std::vector<std::pair<std::string, std::string>> overrides_;  // normalised key, value
};

}  // namespace gm::git
