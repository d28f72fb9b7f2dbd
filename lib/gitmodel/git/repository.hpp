#pragma once
// A repository as the suite sees it: where it lives (git dir, common dir, main
// and linked worktrees), its branches and their history. Reads go through
// libgit2; anything that must run git's own machinery (checkout with filters
// and hooks, push) is done by running git in the feature layers.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/config.hpp"
#include "gitmodel/git/tree_links.hpp"

namespace gm::git {

// Frees a git_repository; defined where <git2.h> is included.
struct RepositoryDeleter {
    void operator()(git_repository* repo) const noexcept;
};

// Initialises libgit2 for the life of the process and applies git's environment
// rules that libgit2 does not know (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL).
class Library {
public:
    Library();
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

// A branch with what `list` needs to know about it without further lookups.
struct BranchInfo {
    std::string name;          // short name, e.g. "feature/model-resnet50"
    std::string target;        // commit id (hex)
    std::int64_t commit_time;  // committer time of the tip, seconds since the epoch
};

// The branch a rebase or bisect in progress in a worktree holds, as git's own `branch -D` and
// `worktree add` see it (HEAD is detached until it ends). git_dir is the worktree's own git dir
// (the common dir for the main worktree).
struct BranchOperation {
    std::string branch;  // short name
    std::string what;    // "a rebase", "a bisect"
    std::string ending;  // the commands that end it, for a message
};
std::optional<BranchOperation> operation_holding_branch(const std::filesystem::path& git_dir);

// A linked worktree registered in the common git dir.
struct WorktreeInfo {
    std::string id;                     // its folder name under <common dir>/worktrees
    std::filesystem::path path;         // where its files are checked out
    std::optional<std::string> branch;  // short branch name its HEAD is on, if any
    bool locked = false;                // `git worktree lock`, or git still initialising it
    std::string lock_reason;            // the content of the lock file
    bool folder_missing = false;        // its folder vanished (no .git there): forgettable
    // A rebase or bisect in progress that holds its branch (HEAD detached meanwhile; branch then
    // names the branch it comes back to), nullopt when none.
    std::optional<BranchOperation> operation;
};

// A file staged for the next commit, as pre-commit judges it.
struct StagedFile {
    std::string path;
    std::uint64_t size = 0;  // size of the staged blob (for Git LFS files: the pointer)
    std::string filter;      // its "filter" attribute ("lfs", ...), empty when unset
    std::string blob;        // the staged blob's id (hex)
};

// How far a branch has moved relative to another.
struct AheadBehind {
    std::size_t ahead = 0;
    std::size_t behind = 0;
};

// An open repository; move-only, owns its libgit2 handle.
class Repository {
public:
    // Finds the repository the user is in, exactly as git would: from the
    // current directory upwards, honouring GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES.
    // Unless as_hook, a linked worktree folder that git's record of it does not name is refused
    // (gm::Error): a copy of a worktree folder (cp -a of a project) still names the original's
    // record, and a command there would act on the original's model (its container, its tags);
    // a folder moved by hand needs `git worktree repair` first. A hook does not refuse: git
    // itself runs there.
    static Repository discover(bool as_hook = false);
    // Opens the repository at a known path (a worktree folder or a git dir), no discovery.
    static Repository open(const std::filesystem::path& path);

    // Opens another worktree of this repository reusing this one's object
    // database and its cache, so that checking many worktrees reads each tree once.
    // Both must stay on one thread: libgit2 hands the shared database's cache to
    // the repository that took it last and takes it back when that one is freed.
    Repository open_worktree(const std::filesystem::path& path) const;

    // The git dir of this worktree (.git, or .git/worktrees/<id> for a linked one).
    std::filesystem::path git_dir() const;
    // The git dir shared by all worktrees: refs, objects, config and hooks live here.
    std::filesystem::path common_dir() const;
    // The folder of this worktree's files; nullopt for a bare repository.
    std::optional<std::filesystem::path> workdir() const;
    // True when opened from a linked worktree rather than the main one.
    bool is_linked_worktree() const;
    // The main worktree's folder (where `../worktrees` is resolved from); the
    // common dir itself for a bare repository.
    std::filesystem::path main_worktree_or_common_dir() const;

    // The configuration every model.* reader sees: git's (with its command-line overrides) over the
    // committed team file .gitmodel as the base branch has it on the remote (policy keys: the file wins).
    // One factory for every command, so that none can forget the team's policy.
    Config config() const;
    // Git's configuration alone (no team file): for what this clone itself says, and for writers.
    Config plain_config() const;

    // The commit a revision names (branch, tag, id, "main~2"), or nullopt if none.
    std::optional<std::string> resolve_commit(std::string_view revision) const;
    // Whether refs/heads/<name> exists.
    bool branch_exists(std::string_view name) const;
    // The commit refs/heads/<name> points at, if it exists.
    std::optional<std::string> branch_target(std::string_view name) const;
    // Creates refs/heads/<name> at a commit; fails if it exists (never moves a branch).
    void create_branch(std::string_view name, std::string_view commit);
    // Deletes refs/heads/<name> only if it still points at commit, so that a rollback
    // never throws away work; returns whether it was deleted.
    bool delete_branch_if_at(std::string_view name, std::string_view commit);
    // The branch HEAD of this worktree is on, if any.
    std::optional<std::string> current_branch() const;
    // Branches whose short name matches a glob (fnmatch rules, e.g. "feature/model-*").
    std::vector<BranchInfo> branches_matching(std::string_view glob) const;
    // Commits in `local` not in `base` and the reverse.
    AheadBehind ahead_behind(std::string_view local, std::string_view base) const;

    // Whether a commit with this id exists here.
    bool has_commit(std::string_view commit) const;
    // Whether `ancestor` is reachable from `descendant` (or equal to it).
    bool is_ancestor(std::string_view ancestor, std::string_view descendant) const;
    // The best common ancestor of two commits, if any.
    std::optional<std::string> merge_base(std::string_view a, std::string_view b) const;
    // Commits reachable from tip but not from any of `exclude`, oldest first,
    // at most `limit` of them (a push of a new root can be the whole history).
    std::vector<std::string> commits_between(std::string_view tip, const std::vector<std::string>& exclude,
                                             std::size_t limit) const;
    // The first parent of a commit, if any.
    std::optional<std::string> first_parent(std::string_view commit) const;
    // The full message of a commit.
    std::string commit_message(std::string_view commit) const;
    // The content of a file in a commit's tree; nullopt when the path is absent or not a file.
    std::optional<std::string> read_file_at(std::string_view commit, std::string_view path) const;
    // The same for a configuration file that may be a link to a file of the same tree (see
    // tree_links.hpp): the linked file's content. Throws gm::Error naming a link that leads out
    // of the tree or loops; nullopt when the path (or what it links to) is absent.
    std::optional<std::string> read_config_file_at(std::string_view commit, std::string_view path) const;
    // What a commit's tree holds at a path (for following links); nullopt when nothing.
    std::optional<TreeEntryKind> tree_entry_at(std::string_view commit, std::string_view path) const;
    // The files whose staged content differs from HEAD (added or modified; not deleted).
    std::vector<StagedFile> staged_changes() const;
    // The folder git runs hooks from: core.hooksPath (relative to this worktree)
    // or the common dir's hooks/, so that every worktree is covered.
    std::filesystem::path hooks_dir() const;

    // Every linked worktree of the repository (not the main one).
    std::vector<WorktreeInfo> linked_worktrees() const;

    // The linked worktree registered at `path`, written either way (a link in it, a trailing
    // slash: git records the path it was given, callers may hold another spelling); nullopt
    // when none is.
    std::optional<WorktreeInfo> linked_worktree_at(const std::filesystem::path& path) const;

    // Forgets the one linked worktree registered at `path` whose folder is gone (no .git there):
    // its admin folder under <common dir>/worktrees goes, and no other. Never `git worktree
    // prune`, which forgets every worktree whose folder is missing, a moved or unmounted one
    // too, with the index, HEAD and reflog only that admin folder held. A locked one is
    // forgotten only when `even_locked` (--force). Returns false when none is registered there;
    // throws gm::Error when its folder is back, or it is locked.
    bool forget_missing_worktree(const std::filesystem::path& path, bool even_locked = false) const;

    // Whether this worktree has changes to tracked files (staged or not); untracked files don't count.
    bool has_tracked_changes() const;
    // Whether this worktree has anything uncommitted: tracked changes or untracked (not ignored) files.
    // Paths under a filter driver that libgit2 cannot run are confirmed with git itself.
    bool has_uncommitted_changes() const;

    // The raw handle, for the rare call a feature needs directly.
    git_repository* raw() const { return repo_.get(); }

private:
    explicit Repository(std::unique_ptr<git_repository, RepositoryDeleter> repo);
    // With extensions.worktreeConfig, git reads this worktree's config.worktree (`git config
    // --worktree`) above the repository's file; libgit2 1.5 does not, so its values would be ignored.
    void add_worktree_config();
    std::unique_ptr<git_repository, RepositoryDeleter> repo_;
};

// The trailers of a commit message ("Image-Change: reason"), as git interprets them.
std::vector<std::pair<std::string, std::string>> message_trailers(const std::string& message);

}  // namespace gm::git
