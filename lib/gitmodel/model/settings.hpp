#pragma once
// The model.* git config keys (git-model(1), CONFIGURATION), read in this one place so that
// every command agrees on them: where models live (start, list) and a model's life after
// start (tag, finish, prune, status).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/repository.hpp"

namespace gm::model {

// A setting that may be malformed. Every model.* key is read at once by read_settings, but a
// bad value is reported only by the command that uses it: a typo in model.prune.retention stops
// prune, with the key named, and never start or tag.
template <class T>
class Setting {
public:
    template <class U = T, class = std::enable_if_t<std::is_convertible_v<U&&, T>>>
    Setting(U&& value) : value_(std::forward<U>(value)) {}

    // A key whose text did not parse: value() throws this error.
    static Setting malformed(Error error) {
        Setting setting{T{}};
        setting.problem_ = std::move(error);
        return setting;
    }

    // The value; throws the error naming the key when it was malformed.
    const T& value() const {
        if (problem_) throw *problem_;
        return value_;
    }

    // The error a malformed value raises (for doctor, which reports instead of failing).
    const std::optional<Error>& problem() const { return problem_; }

private:
    T value_;
    std::optional<Error> problem_;
};

// model.baseBranch of a configuration ("main" when unset or empty): the one reading that start
// and doctor share, so that doctor checks the base start would use.
std::string base_branch_setting(const git::Config& config);

// The commit a model's base names, a branch of that name first: `main` is the branch main even
// where a tag main (a teammate's, fetched with the --tags that hooks install sets) comes first in
// git's own lookup; else any revision (origin/main, a tag, a commit id). nullopt when none.
std::optional<std::string> resolve_base(const git::Repository& repo, const std::string& base);

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

// Every model.* setting of a repository (git-model(1), CONFIGURATION), with defaults for unset
// keys. Where models live never fails; a malformed lifecycle key fails only its value().
struct Settings {
    // --- where models live: start, list, lookup ---

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

    // --- a model's life after start: tag, finish, prune, status ---

    std::string remote = "origin";            // model.remote: where finish pushes, what "pushed" means
    Setting<std::optional<ForgeKind>> forge = std::nullopt;  // model.forge; nullopt: guess from the remote's host
    std::optional<std::string> forge_url;     // model.forgeUrl: the project's web address, when not derivable
    Setting<bool> allow_local_merge = false;  // model.finish.merge: allow (true) or deny (default)
    Setting<std::int64_t> retention_seconds = std::int64_t{14 * 86400};  // model.prune.retention
    Setting<std::string> archive_form = std::string(default_archive_form);  // model.prune.archiveTag
    Setting<bool> tag_push = true;            // model.tag.push: tag pushes the snapshot to the branch's upstream
    Setting<bool> tag_require_clean = false;  // model.tag.requireClean: tag refuses a worktree with uncommitted changes
    Setting<bool> prune_remote = false;       // model.prune.remote: prune also prunes the remote (--remote)
};

// The one reader of model.* keys: every command that needs one reads them all here, so that they
// agree on defaults, spellings and errors.
Settings read_settings(const git::Repository& repo);

// Where the worktree of a model goes, from the root and template; throws when
// the template gives a path outside the root.
std::filesystem::path worktree_path_for(const Settings& settings, const std::string& model_name);

// Refuses (gm::Error naming it and model.worktreeRoot) a worktree folder whose path is not UTF-8
// text: what makes a worktree records it in JSON, which holds only UTF-8. Called before
// anything is made.
void require_utf8_worktree_path(const std::filesystem::path& path);

// Why users other than this one (and root) may change what a folder holds: it is another's, or
// its mode or POSIX ACL lets others, or a group that is not its owner's private one, write to
// it without the sticky bit. "" when nobody else may.
std::string others_may_write(const std::filesystem::path& folder);

// Refuses (gm::Error, naming the folder and why) a worktree whose place another user controls,
// since they could have made its folder first or could swap the model's files there (a worktree
// root in a shared /tmp-like folder, a teammate's clone next to this one): the worktree's folder
// or any folder above it (links resolved) that belongs to someone other than this user, root or
// the repository's owner (who owns `common_dir`), or that anyone, or a user a POSIX ACL names,
// may write to without the sticky bit; from model.worktreeRoot down also one a group with other
// members may write to; and a link on the path that another user made or could replace. Folders
// the repository itself lies in are not judged: whoever controls them controls it already.
// Missing folders are fine: the start makes them (make_worktree_parents).
void refuse_foreign_worktree_place(const Settings& settings, const std::filesystem::path& worktree,
                                   const std::filesystem::path& common_dir);

// Makes (or reuses) a persist folder named outside the git dir (checkpoints on a shared scratch
// disk, /scratch/{user}/{model}), after and before refusing (gm::Error naming the folder) one in a
// place another user controls: whoever made /scratch/<you> first, or may write to a folder on its
// way without the sticky bit, could read the checkpoints or swap the one a resume unpickles. The
// worktree place rule above, with group members counted as others for the folder itself only
// (not for the team folders above it). A link of the user's on its path is followed.
void make_persist_folder(const std::filesystem::path& folder, const std::filesystem::path& common_dir);

// Makes (or reuses) a folder of the user's below <common dir>/git-model (a default persist folder,
// .../persist/<model>/checkpoints; a sweep's logs), walked without following links (a container
// may have made one there). From the third level down (persist/<model>) it is the user's alone to
// write, whatever the umask (002 with a shared primary group let the group swap the checkpoint a
// resume loads): group and other write bits are dropped (from the files in `dir` too, before a run
// or a container reads them again), and one another user made is refused
// (gm::Error naming them). git-model/ and git-model/<area>/ above are where each user of a shared
// repository makes their own: when others may write to them they get the sticky bit, so that
// nobody renames what another made.
void make_own_folder_below(const std::filesystem::path& common_dir, const std::filesystem::path& dir);

// Parses a retention ("14d", "36h"); throws gm::UsageError (for --retention) or
// gm::Error (for config) naming where the value came from.
std::int64_t parse_retention(std::string_view text, std::string_view where, bool usage);

// The archive tag for a model from a form; throws gm::Error when the form has
// neither {model} nor {branch} (models would share one tag) or gives an invalid tag name.
std::string archive_tag_name(std::string_view form, std::string_view model, std::string_view branch);

}  // namespace gm::model
