#pragma once
// Settings of the machine rather than of a user or repository: the GPU
// fair-share limits an admin sets in the system git config. They are read
// from that one file only (never from ~/.gitconfig, a repository's config or
// `git -c`), so that a user cannot lift them with their own settings; and
// settings that apply wherever git-model runs, inside a repository or not.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace gm::git {

// The machine's settings under one prefix, and where they came from.
struct MachineConfig {
    std::filesystem::path file;                 // the system config file read ("" when none)
    std::map<std::string, std::string> values;  // normalised key -> last value
    std::string note;                           // why a file named by GIT_CONFIG_SYSTEM was passed over
};

// Reads the keys starting with prefix from the system config file: GIT_CONFIG_SYSTEM's when
// that file belongs to root and only root can write it (how tests and admins point elsewhere),
// else /etc/gitconfig. GIT_CONFIG_NOSYSTEM does not hide it: limits are not a user's choice.
// Throws gm::Error naming the file and line when it does not parse.
MachineConfig read_machine_config(std::string_view prefix);

// The keys starting with prefix as git shows them outside any repository (system file,
// global file, `git -c` overrides; GIT_CONFIG_* honoured), for commands that run anywhere.
std::map<std::string, std::string> config_outside_repository(std::string_view prefix);

}  // namespace gm::git
