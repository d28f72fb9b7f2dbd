#pragma once
// Settings of the machine rather than of a user or repository: the GPU
// fair-share limits an admin sets in /etc/gitconfig. They are read from that
// one file only (never from ~/.gitconfig, a repository's config, `git -c`, nor
// a file GIT_CONFIG_SYSTEM names), so that a user cannot lift them with their
// own settings; and settings that apply wherever git-model runs, inside a
// repository or not.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace gm::git {

// The machine's settings under one prefix, and where they came from.
struct MachineConfig {
    std::filesystem::path file;                 // the system config file read ("" when none)
    std::map<std::string, std::string> values;  // normalised key -> last value
};

// Reads the keys starting with prefix from /etc/gitconfig, when root owns it and only root
// can write it. A fixed path: GIT_CONFIG_SYSTEM and GIT_CONFIG_NOSYSTEM do not change it,
// since limits are not a user's choice. Throws gm::Error naming the file and line when it
// does not parse.
MachineConfig read_machine_config(std::string_view prefix);

// The keys starting with prefix in a git config file's text, already read (and its owner
// checked) by the caller; shown names it in errors. Throws gm::Error when it does not parse.
std::map<std::string, std::string> parse_config_text(const std::string& text, const std::filesystem::path& shown,
                                                     std::string_view prefix);

// The keys starting with prefix as git shows them outside any repository (system file,
// global file, `git -c` overrides; GIT_CONFIG_* honoured), for commands that run anywhere.
std::map<std::string, std::string> config_outside_repository(std::string_view prefix);

}  // namespace gm::git
