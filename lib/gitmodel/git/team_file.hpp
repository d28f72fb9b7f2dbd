#pragma once
// The team file: `.gitmodel` at the repository's root, in git-config syntax (like
// git-lfs's .lfsconfig), committed so that every clone shares one policy. It is read
// from the base branch as the remote has it, never from the commits being pushed,
// so a branch cannot loosen its own rules by rewriting the file.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gitmodel/git/reader.hpp"

namespace gm::git {

// The team file's name at the root of the base branch's tree.
inline constexpr std::string_view team_file_name = ".gitmodel";

// Whether a key is policy (what the hooks enforce): the team file's value wins over any git config.
bool is_policy_key(std::string_view key);

// The team file as one revision of the repository holds it.
struct TeamFile {
    std::string ref;  // the ref it was read from ("refs/remotes/origin/master"); empty when no base was found
    bool present = false;                                      // the ref holds a .gitmodel
    std::vector<std::pair<std::string, std::string>> entries;  // normalised key, value, in file order
};

// Parses `git config -z --list` output (for tests and the plumbing): normalised key, value.
std::vector<std::pair<std::string, std::string>> parse_config_list(std::string_view text);

// Reads .gitmodel from the base branch as the remote has it: the remote's default branch
// (refs/remotes/<model.remote>/HEAD), else refs/remotes/<remote>/<base>, else the local
// base; then again from the base the file itself names, if another. Runs git in the
// current folder; throws gm::Error naming .gitmodel:<line> when the file does not parse.
TeamFile read_team_file(const ConfigView& local);

// The configuration every model.* reader should see: the team file at the lowest
// priority, except for policy keys it sets, where it wins.
class LayeredConfig final : public ConfigView {
public:
    // Layers team over local (which must outlive this view).
    LayeredConfig(const ConfigView& local, TeamFile team);

    // The value git's rule picks, with the team file's policy on top.
    std::optional<std::string> get_string(std::string_view key) const override;
    // Every value: the team file's alone for a policy key it sets, else the team file's then git config's.
    std::vector<std::string> get_all(std::string_view key) const override;

    // The team file this view layers.
    const TeamFile& team() const { return team_; }
    // Policy keys this clone's git config sets to something the team file overrides, with the local value.
    std::vector<std::pair<std::string, std::string>> overridden() const;
    // Where the value of a key comes from: "team file .gitmodel at <ref>", "git config", or nullopt when unset.
    std::optional<std::string> source(std::string_view key) const;

private:
    std::vector<std::string> team_values(const std::string& normalized) const;
    const ConfigView& local_;
    TeamFile team_;
};

}  // namespace gm::git
