#pragma once
// The team file: `.gitmodel` at the repository's root, in git-config syntax (like
// git-lfs's .lfsconfig), committed so that every clone shares one policy. It is read
// from the base branch as the remote has it, never from the commits being pushed,
// so a branch cannot loosen its own rules by rewriting the file.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gitmodel/git/reader.hpp"

struct git_repository;

namespace gm::git {

// The team file's name at the root of the base branch's tree.
inline constexpr std::string_view team_file_name = ".gitmodel";

// Whether a key is policy (what the hooks enforce): the team file's value wins over any git config.
bool is_policy_key(std::string_view key);

// Whether a key belongs to this machine or user (engine, engine host, GPU pool, lease folder, SSH
// keys, worktree places): a team file from the remote may not set it, or a teammate's commit could
// point every clone at another engine socket or another user's key. The file's value is ignored.
bool is_machine_key(std::string_view key);

// The team file as one revision of the repository holds it.
struct TeamFile {
    std::string ref;  // the ref it was read from ("refs/remotes/origin/master", or "HEAD" in a clone
                      // without its base); empty when none was found
    // The branch the remote's default branch (refs/remotes/<remote>/HEAD) names ("main"), when this
    // clone knows it: the pre-push protects it beside the base, which a clone's own config may move.
    std::string remote_default;
    bool present = false;                                      // the ref holds a .gitmodel
    std::vector<std::pair<std::string, std::string>> entries;  // normalised key, value, in file order
    std::vector<std::string> ignored;                          // machine keys the file sets (is_machine_key)
};

// The fix that sets a policy key for the whole team, one line: the commands that add it to .gitmodel
// and commit it, and the lines they write ("[model]\n\tallowPath = x" as `[model] allowPath = x`).
// add: a multi-valued key (--add). value is shown as is, single-quoted for the shell.
std::string team_setting_fix(std::string_view key, std::string_view value, bool add);

// Parses `git config -z --list` output (for tests and the plumbing): normalised key, value.
std::vector<std::pair<std::string, std::string>> parse_config_list(std::string_view text);

// How a team file is reached: whether a ref names a commit, and the file at a ref (absent, or its
// entries; throws naming .gitmodel:<line> on bad syntax). Plumbing (git) or libgit2 fill it in.
struct TeamFileAccess {
    // The full name of the ref a name resolves to (a symbolic one followed: "refs/remotes/origin/HEAD"
    // gives "refs/remotes/origin/main"; "HEAD" the branch checked out), nullopt when it names nothing.
    std::function<std::optional<std::string>(const std::string& ref)> resolve;
    std::function<TeamFile(const std::string& ref)> read_at;      // the team file in that ref's tree
    // The names of the remotes set up here; asked only when model.remote is unset and there is no
    // origin (team_remote_name). Unset: none.
    std::function<std::vector<std::string>()> remotes;
};

// The remote that stands for the team (whose base branch holds the team file, where finish
// pushes, what "pushed" means): model.remote when set; else origin, when it is set up or no remote
// is; else the clone's only remote (`git clone -o upstream`, a fork workflow's name), so that
// such a clone obeys the team's policy as its remote has it and not a stale local base. With
// several remotes and no origin it is "origin", which names none: doctor says to set model.remote.
// `local` gives git config's value; `remotes` lists the remotes (asked only then).
std::string team_remote_name(const std::function<std::optional<std::string>(std::string_view)>& local,
                             const std::function<std::vector<std::string>()>& remotes);

// Why the team's policy cannot be read from the team's remote here (team_remote_name names none of
// the remotes this clone fetches from, while there are some), for the hooks to warn; empty when
// it can, or when the clone has no remote at all.
std::string unresolved_team_remote(const ConfigView& local);

// The rule of where the team file is read from, over any access: the remote's default branch
// (refs/remotes/<team_remote_name>/HEAD), else refs/remotes/<remote>/<base>, else the local base,
// else (a clone of one model branch, a remote added by hand: no base here at all) HEAD, whose
// history holds the base's file as it was when the branch left it, rather than no policy at all;
// then again from the base the file itself names, if another. `local` gives git config's value.
TeamFile find_team_file(const std::function<std::optional<std::string>(std::string_view)>& local,
                        const TeamFileAccess& access);

// The layering rule, in one place for every reader: the values of key with the team file under
// git config's, except for a policy key the team file sets, whose values are the team file's alone.
std::vector<std::string> layer_all(const TeamFile& team, std::string_view key, std::vector<std::string> local);
// The single value of key git's rule picks from local, with the team file layered as layer_all says.
std::optional<std::string> layer_one(const TeamFile& team, std::string_view key, std::optional<std::string> local);
// Policy keys git config sets (local_all gives its values) to something the team file overrides, with the local value.
std::vector<std::pair<std::string, std::string>> overridden_keys(
    const TeamFile& team, const std::function<std::vector<std::string>(std::string_view)>& local_all);

// Reads .gitmodel from the base branch as the remote has it: the remote's default branch
// (refs/remotes/<model.remote>/HEAD), else refs/remotes/<remote>/<base>, else the local
// base; then again from the base the file itself names, if another. Runs git in the
// current folder; throws gm::Error naming .gitmodel:<line> when the file does not parse.
TeamFile read_team_file(const ConfigView& local);

// Reads .gitmodel of an open repository by the same rule, through libgit2 (refs and trees, no
// process); git parses a file it finds, once per blob for the life of the process. No base: no team.
TeamFile read_team_file(git_repository* repo, const std::function<std::optional<std::string>(std::string_view)>& local);

// For doctor, once it has reported a team file that does not parse: from then on, in this process,
// such a file reads as absent, so that every other check still runs on git config alone.
void treat_bad_team_file_as_absent();

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
    const ConfigView& local_;
    TeamFile team_;
};

}  // namespace gm::git
