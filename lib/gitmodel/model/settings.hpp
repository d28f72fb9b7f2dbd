#pragma once
// The model.* git config keys (git-model(1), CONFIGURATION), read in this one place so that
// every command agrees on them: where models live (start, list) and a model's life after
// start (tag, finish, prune, status).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// Resolved model.* settings of a repository.
struct Settings {
    // model.baseBranch: what new models branch from (default "main").
    std::string base_branch = "main";
    // model.worktreeRoot: folder of model worktrees; relative paths are resolved
    // against the main worktree (default "../worktrees").
    std::filesystem::path worktree_root;
    // model.worktreePath: path of one worktree under the root; {branch}, {model}
    // and {repo} are replaced (default "{branch}").
    std::string worktree_template = "{branch}";
    // The main worktree's folder (or the common dir of a bare repository).
    std::filesystem::path main_worktree;
};

// Reads the settings, with defaults for unset keys.
Settings read_settings(const git::Repository& repo);

// model.baseBranch of a configuration ("main" when unset or empty): the one reading that start
// and doctor share, so that doctor checks the base start would use.
std::string base_branch_setting(const git::Config& config);

// Where the worktree of a model goes, from the root and template; throws when
// the template gives a path outside the root.
std::filesystem::path worktree_path_for(const Settings& settings, const std::string& model_name);

// --- after start: tag, finish, prune, status ---

// The review servers `finish` knows how to talk to.
enum class ForgeKind {
    gitlab,     // push options open the merge request
    github,     // a compare page opens the pull request
    bitbucket,  // a pull-request page
    other,      // Gitea, Forgejo and others: a compare page in GitHub's form
};

// The word for a kind, for messages, config and JSON.
const char* to_string(ForgeKind kind);

// Parses model.forge ("auto" gives nullopt: guess from the host); throws gm::Error for unknown words.
std::optional<ForgeKind> parse_forge_setting(std::string_view text);

// The retention rule's default: merged branches stay two weeks for audit.
inline constexpr std::string_view default_retention = "14d";

// The default form of an archive tag; {model} and {branch} are replaced.
inline constexpr std::string_view default_archive_form = "archive/model/{model}";

// The notes ref that holds finish records (see finish_record.hpp).
inline constexpr std::string_view finish_notes_ref = "refs/notes/git-model";

// Where `git fetch` puts a remote's finish notes (the fetch refspec hooks install and doctor set up),
// beside our own refs/notes/git-model: readers consult both, finish merges them before it pushes.
std::string remote_notes_ref(std::string_view remote);

// Resolved lifecycle settings of a repository.
struct LifecycleSettings {
    std::string remote = "origin";            // model.remote: where finish pushes, what "pushed" means
    std::optional<ForgeKind> forge;           // model.forge; nullopt: guess from the remote's host
    std::optional<std::string> forge_url;     // model.forgeUrl: the project's web address, when not derivable
    bool allow_local_merge = false;           // model.finish.merge: allow (true) or deny (default)
    std::int64_t retention_seconds = 14 * 86400;  // model.prune.retention
    std::string archive_form{default_archive_form};  // model.prune.archiveTag
    bool tag_push = true;                     // model.tag.push: tag pushes the snapshot to the branch's upstream
    bool tag_require_clean = false;           // model.tag.requireClean: tag refuses a worktree with uncommitted changes
    bool prune_remote = false;                // model.prune.remote: prune also prunes the remote (--remote)
};

// model.remote alone (default origin), for commands that need nothing else and must not fail on other keys.
std::string read_remote_setting(const git::Repository& repo);

// Reads the settings; throws gm::Error naming the key for a malformed value.
LifecycleSettings read_lifecycle_settings(const git::Repository& repo);

// Parses a retention ("14d", "36h"); throws gm::UsageError (for --retention) or
// gm::Error (for config) naming where the value came from.
std::int64_t parse_retention(std::string_view text, std::string_view where, bool usage);

// The archive tag for a model from a form; throws gm::Error when the form has
// neither {model} nor {branch} (models would share one tag) or gives an invalid tag name.
std::string archive_tag_name(std::string_view form, std::string_view model, std::string_view branch);

}  // namespace gm::model
