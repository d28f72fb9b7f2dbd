#include "gitmodel/git/repository.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/handle.hpp"
#include "gitmodel/git/network_off.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>
#include <git2/sys/repository.h>

#include <cstdlib>
#include <fnmatch.h>
#include <fstream>
#include <mutex>
#include <sstream>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

std::string trim_newline(std::string text) {
    return trim_trailing_newlines(text);
}

fs::path without_trailing_slash(const char* path) {
    std::string text(path);
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return fs::path(text);
}

}  // namespace

Library::Library() {
    keep_libgit2_network_off();
    git_libgit2_init();
    // git verifies object hashes only in fsck; libgit2 re-hashes every object it
    // reads by default, which dominates reading many trees (list, status).
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    // libgit2 1.5 refuses a repository of format version 1 (a partial clone is one) that sets
    // extensions.worktreeConfig, unless told the extension is handled: it is, by
    // Repository::add_worktree_config, as git reads it.
    const char* handled_extensions[] = {"worktreeconfig"};
    git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, handled_extensions, std::size(handled_extensions));
    // git honours these for every command; libgit2 does not, so mirror them here.
    constexpr const char* nowhere = "/nonexistent/git-model-no-config";
    if (env_or_null("GIT_CONFIG_NOSYSTEM"))
        git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, nowhere);
    if (std::getenv("GIT_CONFIG_GLOBAL")) {
        git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, nowhere);
        git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, nowhere);
    }
    if (std::getenv("GIT_CONFIG_SYSTEM")) git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, nowhere);
}

Library::~Library() { git_libgit2_shutdown(); }

std::string to_hex(const git_oid& oid) {
    char buffer[GIT_OID_HEXSZ + 1];
    git_oid_tostr(buffer, sizeof buffer, &oid);
    return buffer;
}

void RepositoryDeleter::operator()(git_repository* repo) const noexcept { git_repository_free(repo); }

Repository::Repository(std::unique_ptr<git_repository, RepositoryDeleter> repo) : repo_(std::move(repo)) {
    // GIT_CONFIG_GLOBAL / GIT_CONFIG_SYSTEM name files that replace the usual ones.
    const char* files[] = {env_or_null("GIT_CONFIG_SYSTEM"), env_or_null("GIT_CONFIG_GLOBAL")};
    const git_config_level_t levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_GLOBAL};
    for (int i = 0; i < 2; ++i) {
        if (!files[i] || (i == 0 && env_or_null("GIT_CONFIG_NOSYSTEM"))) continue;
        if (!fs::exists(files[i])) continue;
        git_config* config = nullptr;
        check(git_repository_config(&config, repo_.get()), "cannot open the git configuration");
        ConfigHandle owner(config);
        check(git_config_add_file_ondisk(config, files[i], levels[i], repo_.get(), 1),
              "cannot read the configuration file named by the environment");
    }
    add_worktree_config();
}

namespace {

// extensions.worktreeConfig as git reads it: from the repository's own config file alone, not
// through its includes, nor from the global or system files (libgit2's lookup reads them all).
bool worktree_config_enabled(git_config* config) {
    git_config* local = nullptr;
    if (git_config_open_level(&local, config, GIT_CONFIG_LEVEL_LOCAL) != 0) {
        git_error_clear();
        return false;
    }
    ConfigHandle local_owner(local);
    git_config_iterator* raw = nullptr;
    if (git_config_multivar_iterator_new(&raw, local, "extensions.worktreeconfig", nullptr) != 0) {
        git_error_clear();
        return false;
    }
    ConfigIteratorHandle iterator(raw);
    std::optional<std::string> value;
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, iterator.get()) == 0)
        if (entry->include_depth == 0) value = entry->value ? entry->value : "true";  // a bare key is true
    git_error_clear();
    int enabled = 0;
    if (!value || git_config_parse_bool(&enabled, value->c_str()) != 0) {
        git_error_clear();  // unset, or no boolean (git refuses the repository then)
        return false;
    }
    return enabled != 0;
}

}  // namespace

void Repository::add_worktree_config() {
    git_config* config = nullptr;
    check(git_repository_config(&config, repo_.get()), "cannot open the git configuration");
    ConfigHandle owner(config);
    if (!worktree_config_enabled(config)) return;
    const fs::path file = git_dir() / "config.worktree";
    std::error_code error;
    if (!fs::is_regular_file(file, error)) return;
    // Above the repository's own file and below git's command-line overrides, as git reads it.
    check(git_config_add_file_ondisk(config, file.c_str(), worktree_config_level, repo_.get(), 1),
          fmt::format("cannot read {}", file.string()).c_str());
}

namespace {

// libgit2 1.5 refuses a repository whose objects are named by SHA-256 (or, with GIT_INDEX_FILE
// set as in a pre-commit hook, fails on its index first): ask git, and say what still works.
void refuse_object_format(int rc, const std::optional<fs::path>& where) {
    if (rc >= 0 || rc == GIT_ENOTFOUND) return;
    const git_error* error = git_error_last();
    bool sha256 = error && error->message && std::string(error->message).find("objectformat") != std::string::npos;
    if (!sha256) {
        std::vector<std::string> argv{"git"};
        if (where) argv.insert(argv.end(), {"-C", where->string()});
        argv.insert(argv.end(), {"rev-parse", "--show-object-format"});
        try {
            const auto result = proc::run(argv);
            sha256 = result.ok() && result.out.rfind("sha256", 0) == 0;
        } catch (const Error&) {
            sha256 = false;  // no git to ask: libgit2's own message stands
        }
    }
    if (!sha256) return;
    throw ObjectFormatError(
        "this repository names its objects by SHA-256 (extensions.objectFormat = sha256), which the libgit2 "
        "git-model reads repositories with (1.5) cannot open",
        "in a SHA-256 repository only the hooks work: git model hooks install|status|uninstall and the "
        "pre-commit and pre-push checks (they use git itself); the other commands need a SHA-1 repository");
}

// Every open of a repository goes through here, under one lock: libgit2's owner check is one
// process-wide switch, and the list's dirty checks open worktrees from several threads. With
// `validate_owner` false the check is off for this open only, and no other open runs meanwhile.
int open_repository(git_repository** out, const char* path, unsigned flags, bool validate_owner = true) {
    static std::mutex open_lock;
    const std::lock_guard<std::mutex> hold(open_lock);
    if (validate_owner) return git_repository_open_ext(out, path, flags, nullptr);
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    const int rc = git_repository_open_ext(out, path, flags, nullptr);
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 1);
    return rc;
}

// libgit2 1.5 checks who owns a repository as git does, but reads safe.directory less well than
// git: not "*", not from the file GIT_CONFIG_GLOBAL names, and while it searches upward it says
// "not found". When it refuses (GIT_EOWNER, or GIT_ENOTFOUND), git itself is asked: a repository
// git opens is opened again without libgit2's check (as trusted as the git that runs this
// extension), and one git refuses as another user's gets git's own words and fix. `path`: that
// folder, asked with the caller's GIT_DIR and the like removed; none: found as the caller's git
// finds it (their GIT_DIR holds).
int open_as_git_would(git_repository** out, const char* path, unsigned flags, int rc) {
    if (rc != GIT_EOWNER && rc != GIT_ENOTFOUND) return rc;
    proc::RunResult asked;
    try {
        asked = path ? run_git({"-C", path, "rev-parse", "--absolute-git-dir"})
                     : proc::run({"git", "rev-parse", "--absolute-git-dir"});
    } catch (const Error&) {
        return rc;  // no git to ask: libgit2's answer stands
    }
    if (!asked.ok()) {
        if (asked.err.find("dubious ownership") == std::string::npos) return rc;
        std::string refusal;
        std::string fix;
        for (const auto& line : split_records(asked.err, '\n')) {
            const std::size_t start = line.find_first_not_of(" \t");
            const std::string text = start == std::string::npos ? std::string() : trim_end(line.substr(start), " \t\r");
            if (text.rfind("fatal: ", 0) == 0 && refusal.empty()) refusal = std::string(text.substr(7));
            if (text.find("safe.directory") != std::string::npos && text.rfind("git config", 0) == 0) fix = text;
        }
        throw ForeignRepositoryError(fmt::format("git refuses this repository: {} (it belongs to another user, and no "
                                                 "safe.directory in your or the system's git config names it)",
                                                 printable(refusal.empty() ? "detected dubious ownership" : refusal, 512)),
                                     fix.empty() ? "if you trust its owner, add it to safe.directory (see git-config(1))"
                                                 : fmt::format("if you trust its owner: {}", printable(fix, 512)));
    }
    const int again = open_repository(out, path, flags, false);
    if (again != 0) return again;
    // git's yes holds only for the repository git found, by the path git gives (every link
    // resolved): libgit2 may stop at a nearer .git that git passes over (one whose HEAD git does
    // not accept, or a link another user turns around meanwhile), and reads through that path
    // from then on. Compared as written, not resolved again, so no link in it can pass.
    const std::string opened = without_trailing_slash(git_repository_path(*out)).string();
    const std::string found = trim_newline(asked.out);
    if (opened == found) return 0;
    git_repository_free(*out);
    *out = nullptr;
    throw ForeignRepositoryError(
        fmt::format("{} belongs to another user, and git does not take it for this repository (git finds {}), so "
                    "git-model will not read it",
                    printable(opened, 512), printable(found, 512)),
        "run git model from a folder outside it, or ask its owner to remove it");
}

}  // namespace

namespace {

// The folder whose .git file discovery read: the nearest one from here up (libgit2 gives the
// work tree git's record names instead). nullopt when it is no .git file naming `admin`.
std::optional<fs::path> discovered_worktree_folder(const fs::path& admin) {
    std::error_code ec;
    for (fs::path dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
        const fs::path dot_git = dir / ".git";
        if (fs::exists(fs::symlink_status(dot_git, ec))) {
            const auto named = fs::is_regular_file(dot_git, ec) ? worktree_admin_dir(dir) : std::nullopt;
            if (!named || !fs::equivalent(*named, admin, ec) || ec) return std::nullopt;
            return dir;
        }
        if (dir == dir.root_path()) break;
    }
    return std::nullopt;
}

// Refuses a linked worktree folder that its record (<git dir>/gitdir) does not name: a copy of
// the folder, or one moved by hand. A record that cannot be read is git's to judge.
void refuse_unrecorded_worktree(git_repository* repo) {
    if (git_repository_is_worktree(repo) != 1) return;
    const fs::path admin = without_trailing_slash(git_repository_path(repo));
    const auto found = discovered_worktree_folder(admin);
    if (!found) return;
    // git's record: the path of the folder's .git file, the whole file (a path may hold a newline).
    const std::string line = trim_end(read_text(admin / "gitdir"), "\r\n");
    if (line.empty()) return;
    fs::path named(line);
    if (named.is_relative()) named = admin / named;  // git >= 2.48's relative records
    const fs::path here = *found;
    std::error_code ec;
    if (fs::equivalent(named, here / ".git", ec) && !ec) return;
    const fs::path other = named.lexically_normal().parent_path();
    throw Error(fmt::format("this worktree folder {} is not the one git's record of it names ({}): it is a copy of "
                            "that folder, or it was moved by hand, and what git-model did here would be that "
                            "folder's (its environment, its snapshots)",
                            printable(here.string()), printable(other.string())),
                fmt::format("work in {}; if you moved this folder from there, `git worktree repair` here updates "
                            "git's record",
                            printable(other.string())));
}

}  // namespace

Repository Repository::discover(bool as_hook) {
    // libgit2 1.5 refuses GIT_WORK_TREE ("unimplemented"), which git sets for `git --work-tree=<dir>
    // model ...`: the repository is found without it (GIT_DIR, or from here), then given that work
    // tree, as git does. The variable is back before anything else runs (git children need it).
    const char* work_tree_value = env_or_null("GIT_WORK_TREE");
    const std::optional<std::string> work_tree = work_tree_value ? std::optional<std::string>(work_tree_value) : std::nullopt;
    if (work_tree) ::unsetenv("GIT_WORK_TREE");
    git_repository* raw = nullptr;
    int rc = open_repository(&raw, nullptr, GIT_REPOSITORY_OPEN_FROM_ENV);
    try {
        rc = open_as_git_would(&raw, nullptr, GIT_REPOSITORY_OPEN_FROM_ENV, rc);
    } catch (const Error&) {
        if (work_tree) ::setenv("GIT_WORK_TREE", work_tree->c_str(), 1);
        throw;
    }
    if (work_tree) ::setenv("GIT_WORK_TREE", work_tree->c_str(), 1);
    if (rc == GIT_ENOTFOUND) {
        throw Error("not a git repository (or any of the parent directories)",
                    "run this inside a git repository, or use `git -C <path> model ...`");
    }
    refuse_object_format(rc, std::nullopt);
    check(rc, "cannot open the git repository");
    std::unique_ptr<git_repository, RepositoryDeleter> repo(raw);
    if (work_tree) {
        std::error_code error;
        const fs::path wanted = fs::weakly_canonical(fs::absolute(*work_tree), error);
        const char* current = git_repository_workdir(repo.get());
        // Only when it differs: libgit2 1.5 leaks its path buffer when asked for the work tree it has.
        if (!current || without_trailing_slash(current) != wanted)
            check(git_repository_set_workdir(repo.get(), wanted.c_str(), 0),
                  fmt::format("cannot use GIT_WORK_TREE {} as the work tree", *work_tree).c_str());
    }
    // Only a folder found from here: GIT_DIR or GIT_WORK_TREE name theirs on purpose.
    if (!as_hook && !work_tree && !env_or_null("GIT_DIR")) refuse_unrecorded_worktree(repo.get());
    return Repository(std::move(repo));
}

Repository Repository::open(const fs::path& path) {
    git_repository* raw = nullptr;
    const int rc = open_as_git_would(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                     open_repository(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH));
    refuse_object_format(rc, path);
    check(rc, fmt::format("cannot open the git repository at {}", path.string()).c_str());
    return Repository(std::unique_ptr<git_repository, RepositoryDeleter>(raw));
}

Repository Repository::open_worktree(const fs::path& path) const {
    Repository worktree = open(path);
    git_odb* raw = nullptr;
    if (git_repository_odb(&raw, repo_.get()) == 0) {
        const OdbHandle odb(raw);
        git_repository_set_odb(worktree.repo_.get(), odb.get());  // takes its own reference
    }
    return worktree;
}

fs::path Repository::git_dir() const { return without_trailing_slash(git_repository_path(repo_.get())); }

fs::path Repository::common_dir() const { return without_trailing_slash(git_repository_commondir(repo_.get())); }

std::optional<fs::path> Repository::workdir() const {
    const char* dir = git_repository_workdir(repo_.get());
    if (!dir) return std::nullopt;
    return without_trailing_slash(dir);
}

bool Repository::is_linked_worktree() const { return git_repository_is_worktree(repo_.get()) == 1; }

fs::path Repository::main_worktree_or_common_dir() const {
    if (!is_linked_worktree()) {
        if (auto dir = workdir()) return *dir;
        return common_dir();
    }
    // The main worktree is the one whose git dir is the common dir.
    git_repository* raw = nullptr;
    const auto common = common_dir();
    int rc = open_repository(&raw, common.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH);
    try {
        rc = open_as_git_would(&raw, common.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, rc);
    } catch (const Error&) {
        return common;  // git refuses the main worktree: the common dir names the repository
    }
    if (rc == 0) {
        RepositoryHandle main(raw);
        if (const char* dir = git_repository_workdir(raw)) return without_trailing_slash(dir);
    }
    return common_dir();
}

Config Repository::config() const { return Config(repo_.get(), Config::Layers::with_team_file); }

Config Repository::plain_config() const { return Config(repo_.get(), Config::Layers::git_only); }

std::optional<std::string> Repository::resolve_commit(std::string_view revision) const {
    if (revision.empty()) return std::nullopt;
    git_object* raw = nullptr;
    if (git_revparse_single(&raw, repo_.get(), std::string(revision).c_str()) != 0) return std::nullopt;
    ObjectHandle object(raw);
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0) return std::nullopt;
    ObjectHandle commit(peeled);
    return to_hex(*git_object_id(commit.get()));
}

std::optional<std::string> Repository::branch_target(std::string_view name) const {
    git_reference* raw = nullptr;
    if (git_branch_lookup(&raw, repo_.get(), std::string(name).c_str(), GIT_BRANCH_LOCAL) != 0) return std::nullopt;
    ReferenceHandle ref(raw);
    git_reference* resolved = nullptr;
    if (git_reference_resolve(&resolved, ref.get()) != 0) return std::nullopt;
    ReferenceHandle resolved_ref(resolved);
    const git_oid* oid = git_reference_target(resolved_ref.get());
    if (!oid) return std::nullopt;
    return to_hex(*oid);
}

bool Repository::branch_exists(std::string_view name) const {
    git_reference* raw = nullptr;
    const int rc = git_reference_lookup(&raw, repo_.get(), ("refs/heads/" + std::string(name)).c_str());
    ReferenceHandle ref(raw);
    return rc == 0;
}

void Repository::create_branch(std::string_view name, std::string_view commit) {
    git_oid oid;
    check(git_oid_fromstr(&oid, std::string(commit).c_str()), "bad commit id");
    git_commit* raw_commit = nullptr;
    check(git_commit_lookup(&raw_commit, repo_.get(), &oid), "cannot read the base commit");
    CommitHandle target(raw_commit);
    git_reference* raw_ref = nullptr;
    const int rc = git_branch_create(&raw_ref, repo_.get(), std::string(name).c_str(), target.get(), 0);
    ReferenceHandle ref(raw_ref);
    if (rc == GIT_EEXISTS) throw Error(fmt::format("branch '{}' already exists", name));
    check(rc, fmt::format("cannot create branch '{}'", name).c_str());
}

bool Repository::delete_branch_if_at(std::string_view name, std::string_view commit) {
    git_reference* raw = nullptr;
    if (git_branch_lookup(&raw, repo_.get(), std::string(name).c_str(), GIT_BRANCH_LOCAL) != 0) return false;
    ReferenceHandle ref(raw);
    const git_oid* oid = git_reference_target(ref.get());
    if (!oid || to_hex(*oid) != commit) return false;
    return git_branch_delete(ref.get()) == 0;
}

std::optional<std::string> Repository::current_branch() const {
    git_reference* raw = nullptr;
    const int rc = git_repository_head(&raw, repo_.get());
    ReferenceHandle head(raw);
    if (rc == GIT_EUNBORNBRANCH) {
        // HEAD names a branch with no commit yet: read the symbolic ref itself.
        git_reference* sym = nullptr;
        if (git_reference_lookup(&sym, repo_.get(), "HEAD") != 0) return std::nullopt;
        ReferenceHandle symbolic(sym);
        const char* target = git_reference_symbolic_target(sym);
        if (!target) return std::nullopt;
        std::string name(target);
        if (name.rfind("refs/heads/", 0) == 0) return name.substr(11);
        return std::nullopt;
    }
    if (rc != 0 || !git_reference_is_branch(head.get())) return std::nullopt;
    return std::string(git_reference_shorthand(head.get()));
}

std::vector<BranchInfo> Repository::branches_matching(std::string_view glob) const {
    std::vector<BranchInfo> out;
    git_reference_iterator* raw = nullptr;
    const std::string full_glob = "refs/heads/" + std::string(glob);
    check(git_reference_iterator_glob_new(&raw, repo_.get(), full_glob.c_str()), "cannot list branches");
    IteratorHandle iterator(raw);
    git_reference* ref_raw = nullptr;
    while (git_reference_next(&ref_raw, iterator.get()) == 0) {
        ReferenceHandle ref(ref_raw);
        if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) continue;
        const git_oid* oid = git_reference_target(ref.get());
        BranchInfo info;
        info.name = std::string(git_reference_name(ref.get())).substr(11);
        info.target = to_hex(*oid);
        info.commit_time = 0;
        git_commit* commit_raw = nullptr;
        if (git_commit_lookup(&commit_raw, repo_.get(), oid) == 0) {
            CommitHandle commit(commit_raw);
            info.commit_time = git_commit_time(commit.get());
        }
        out.push_back(std::move(info));
    }
    return out;
}

AheadBehind Repository::ahead_behind(std::string_view local, std::string_view base) const {
    git_oid a, b;
    check(git_oid_fromstr(&a, std::string(local).c_str()), "bad commit id");
    check(git_oid_fromstr(&b, std::string(base).c_str()), "bad commit id");
    AheadBehind result;
    check(git_graph_ahead_behind(&result.ahead, &result.behind, repo_.get(), &a, &b), "cannot compare branches");
    return result;
}

bool Repository::has_commit(std::string_view commit) const {
    git_oid oid;
    if (!parse_oid(oid, commit)) return false;
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo_.get(), &oid) != 0) return false;
    const CommitHandle found(raw);
    return true;
}

bool Repository::is_ancestor(std::string_view ancestor, std::string_view descendant) const {
    git_oid a, d;
    if (!parse_oid(a, ancestor) || !parse_oid(d, descendant)) return false;
    if (git_oid_equal(&a, &d)) return true;
    return git_graph_descendant_of(repo_.get(), &d, &a) == 1;
}

std::optional<std::string> Repository::merge_base(std::string_view a, std::string_view b) const {
    git_oid oa, ob, base;
    if (!parse_oid(oa, a) || !parse_oid(ob, b)) return std::nullopt;
    if (git_merge_base(&base, repo_.get(), &oa, &ob) != 0) return std::nullopt;
    return to_hex(base);
}

std::vector<std::string> Repository::commits_between(std::string_view tip, const std::vector<std::string>& exclude,
                                                     std::size_t limit) const {
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo_.get()), "cannot walk the history");
    Handle<git_revwalk, git_revwalk_free> walk(raw);
    git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
    git_oid oid;
    if (!parse_oid(oid, tip)) return {};
    check(git_revwalk_push(walk.get(), &oid), "cannot walk the history");
    for (const auto& hidden : exclude) {
        git_oid h;
        if (parse_oid(h, hidden)) git_revwalk_hide(walk.get(), &h);  // absent commits are simply not hidden
    }
    std::vector<std::string> out;
    while (out.size() < limit && git_revwalk_next(&oid, walk.get()) == 0) out.push_back(to_hex(oid));
    return out;
}

std::optional<std::string> Repository::first_parent(std::string_view commit) const {
    git_oid oid;
    if (!parse_oid(oid, commit)) return std::nullopt;
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo_.get(), &oid) != 0) return std::nullopt;
    CommitHandle owner(raw);
    if (git_commit_parentcount(raw) == 0) return std::nullopt;
    return to_hex(*git_commit_parent_id(raw, 0));
}

std::string Repository::commit_message(std::string_view commit) const {
    git_oid oid;
    if (!parse_oid(oid, commit)) return {};
    git_commit* raw = nullptr;
    check(git_commit_lookup(&raw, repo_.get(), &oid), "cannot read a commit");
    CommitHandle owner(raw);
    const char* message = git_commit_message(raw);
    return message ? message : "";
}

namespace {

using TreeEntryHandle = Handle<git_tree_entry, git_tree_entry_free>;

// The entry at a path of a commit's tree (it outlives the tree); an empty handle when the commit
// or the path is not there.
TreeEntryHandle entry_at(git_repository* repo, std::string_view commit, std::string_view path) {
    git_oid oid;
    if (!parse_oid(oid, commit)) return TreeEntryHandle(nullptr);
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo, &oid) != 0) {
        git_error_clear();
        return TreeEntryHandle(nullptr);
    }
    CommitHandle owner(raw);
    git_tree* tree_raw = nullptr;
    if (git_commit_tree(&tree_raw, raw) != 0) {
        git_error_clear();
        return TreeEntryHandle(nullptr);
    }
    Handle<git_tree, git_tree_free> tree(tree_raw);
    git_tree_entry* entry_raw = nullptr;
    if (git_tree_entry_bypath(&entry_raw, tree.get(), std::string(path).c_str()) != 0) git_error_clear();
    return TreeEntryHandle(entry_raw);
}

// A blob's content; nullopt when it cannot be read.
std::optional<std::string> blob_content(git_repository* repo, const git_oid* id) {
    git_blob* blob_raw = nullptr;
    if (git_blob_lookup(&blob_raw, repo, id) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    Handle<git_blob, git_blob_free> blob(blob_raw);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                       static_cast<std::size_t>(git_blob_rawsize(blob.get())));
}

}  // namespace

std::optional<std::string> Repository::read_file_at(std::string_view commit, std::string_view path) const {
    const auto entry = entry_at(repo_.get(), commit, path);
    if (!entry || git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::nullopt;
    return blob_content(repo_.get(), git_tree_entry_id(entry.get()));
}

std::optional<TreeEntryKind> Repository::tree_entry_at(std::string_view commit, std::string_view path) const {
    const auto entry = entry_at(repo_.get(), commit, path);
    if (!entry) return std::nullopt;
    TreeEntryKind kind;
    const git_filemode_t mode = git_tree_entry_filemode(entry.get());
    if (mode == GIT_FILEMODE_TREE) {
        kind.kind = TreeEntryKind::Kind::tree;
    } else if (mode == GIT_FILEMODE_LINK) {
        const auto target = blob_content(repo_.get(), git_tree_entry_id(entry.get()));
        if (!target) return std::nullopt;
        kind.kind = TreeEntryKind::Kind::link;
        kind.link_target = *target;
    } else if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
        kind.kind = TreeEntryKind::Kind::blob;
    }
    return kind;
}

std::optional<std::string> Repository::read_config_file_at(std::string_view commit, std::string_view path) const {
    const auto followed = follow_tree_links(std::string(path), [&](const std::string& at) { return tree_entry_at(commit, at); });
    if (!followed.problem.empty())
        throw Error(fmt::format("{} at {}: {}: not read", path, commit.substr(0, 10), followed.problem),
                    "make the link point to a file of the repository (or replace it with the file) and commit that");
    if (!followed.path) return std::nullopt;
    return read_file_at(commit, *followed.path);
}

std::vector<StagedFile> Repository::staged_changes() const {
    git_index* index_raw = nullptr;
    check(git_repository_index(&index_raw, repo_.get()), "cannot read the index");
    Handle<git_index, git_index_free> index(index_raw);
    git_tree* head_tree = nullptr;  // stays null before the first commit: everything staged is new
    git_reference* head_raw = nullptr;
    if (git_repository_head(&head_raw, repo_.get()) == 0) {
        ReferenceHandle head(head_raw);
        git_object* tree_obj = nullptr;
        if (git_reference_peel(&tree_obj, head.get(), GIT_OBJECT_TREE) == 0)
            head_tree = reinterpret_cast<git_tree*>(tree_obj);
    }
    Handle<git_tree, git_tree_free> tree_owner(head_tree);
    git_diff_options options = GIT_DIFF_OPTIONS_INIT;
    options.flags = GIT_DIFF_IGNORE_SUBMODULES;
    git_diff* diff_raw = nullptr;
    check(git_diff_tree_to_index(&diff_raw, repo_.get(), head_tree, index.get(), &options), "cannot diff the index");
    Handle<git_diff, git_diff_free> diff(diff_raw);
    git_odb* odb_raw = nullptr;
    check(git_repository_odb(&odb_raw, repo_.get()), "cannot open the object database");
    Handle<git_odb, git_odb_free> odb(odb_raw);
    std::vector<StagedFile> out;
    for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
        const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
        if (delta->status == GIT_DELTA_DELETED) continue;
        if (delta->new_file.mode == GIT_FILEMODE_COMMIT) continue;  // a submodule
        StagedFile file;
        file.path = delta->new_file.path;
        std::size_t size = 0;
        git_object_t type;
        if (git_odb_read_header(&size, &type, odb.get(), &delta->new_file.id) == 0) file.size = size;
        file.blob = to_hex(delta->new_file.id);
        const char* filter = nullptr;
        if (git_attr_get(&filter, repo_.get(), GIT_ATTR_CHECK_INDEX_THEN_FILE, file.path.c_str(), "filter") == 0 &&
            GIT_ATTR_HAS_VALUE(filter))
            file.filter = filter;
        out.push_back(std::move(file));
    }
    return out;
}

fs::path Repository::hooks_dir() const {
    const Config cfg = plain_config();
    if (auto hooks_path = cfg.get_string("core.hooksPath"); hooks_path && !hooks_path->empty()) {
        fs::path path(*hooks_path);
        if (hooks_path->rfind("~/", 0) == 0) {
            if (const char* home = std::getenv("HOME")) path = fs::path(home) / hooks_path->substr(2);
        }
        if (path.is_relative()) path = (workdir() ? *workdir() : git_dir()) / path;
        return path.lexically_normal();
    }
    return common_dir() / "hooks";
}

std::vector<std::pair<std::string, std::string>> message_trailers(const std::string& message) {
    TrailerArray trailers;  // freed even when a copy below throws
    std::vector<std::pair<std::string, std::string>> out;
    if (git_message_trailers(&trailers.value, message.c_str()) != 0) return out;
    for (std::size_t i = 0; i < trailers.value.count; ++i)
        out.emplace_back(trailers.value.trailers[i].key, trailers.value.trailers[i].value);
    return out;
}

std::optional<BranchOperation> operation_holding_branch(const fs::path& git_dir) {
    const auto first_line = [&](const fs::path& file) -> std::optional<std::string> {
        std::ifstream in(git_dir / file);
        std::string line;
        if (!in || !std::getline(in, line)) return std::nullopt;
        return trim_newline(line);
    };
    for (const char* state : {"rebase-merge/head-name", "rebase-apply/head-name"})
        if (const auto name = first_line(state); name && name->rfind("refs/heads/", 0) == 0)
            return BranchOperation{name->substr(11), "a rebase", "git rebase --continue, or --abort"};
    // BISECT_START: the branch the bisect started from (its short name), or the commit id of a
    // detached HEAD (git's own get_branch() reads it so).
    if (auto start = first_line("BISECT_START"); start && !start->empty()) {
        if (start->rfind("refs/heads/", 0) == 0) start->erase(0, 11);
        const bool commit_id = (start->size() == 40 || start->size() == 64) &&
                               start->find_first_not_of("0123456789abcdef") == std::string::npos;
        if (!commit_id) return BranchOperation{*start, "a bisect", "git bisect reset"};
    }
    return std::nullopt;
}

std::vector<WorktreeInfo> Repository::linked_worktrees() const {
    // Read from the common dir so that the answer is the same from every worktree.
    std::vector<WorktreeInfo> out;
    const fs::path admin = common_dir() / "worktrees";
    std::error_code ec;
    if (!fs::is_directory(admin, ec)) return out;
    for (const auto& entry : fs::directory_iterator(admin, ec)) {
        if (!entry.is_directory()) continue;
        WorktreeInfo info;
        info.id = entry.path().filename().string();
        // The whole file, less its one trailing newline: a worktree's path may hold a newline.
        std::ifstream gitdir_file(entry.path() / "gitdir", std::ios::binary);
        if (!gitdir_file) continue;  // not a worktree git knows how to use
        std::stringstream gitdir_text;
        gitdir_text << gitdir_file.rdbuf();
        std::string gitdir = gitdir_text.str();
        if (!gitdir.empty() && gitdir.back() == '\n') gitdir.pop_back();
        if (gitdir.empty()) continue;
        info.path = fs::path(gitdir).parent_path();
        std::ifstream head_file(entry.path() / "HEAD");
        std::string head;
        if (std::getline(head_file, head) && head.rfind("ref: refs/heads/", 0) == 0) {
            info.branch = trim_newline(head.substr(16));
        } else if ((info.operation = operation_holding_branch(entry.path()))) {
            info.branch = info.operation->branch;
        }
        std::ifstream lock_file(entry.path() / "locked");
        if (lock_file) {
            info.locked = true;
            std::stringstream reason;
            reason << lock_file.rdbuf();
            info.lock_reason = trim_newline(reason.str());
        }
        info.folder_missing = !fs::exists(info.path / ".git", ec);
        out.push_back(std::move(info));
    }
    return out;
}

std::optional<WorktreeInfo> Repository::linked_worktree_at(const fs::path& path) const {
    // The folder may be gone, so only the part of the path that still exists can be resolved.
    std::error_code ec;
    const auto same_place = [&](const fs::path& a, const fs::path& b) {
        if (a.lexically_normal() == b.lexically_normal()) return true;
        const auto ca = fs::weakly_canonical(a, ec);
        if (ec) return false;
        const auto cb = fs::weakly_canonical(b, ec);
        return !ec && ca == cb;
    };
    for (auto& info : linked_worktrees())
        if (same_place(info.path, path)) return std::move(info);
    return std::nullopt;
}

bool Repository::forget_missing_worktree(const fs::path& path, bool even_locked) const {
    const auto found = linked_worktree_at(path);
    if (!found) return false;
    const WorktreeInfo& info = *found;
    if (!info.folder_missing)
        throw Error(fmt::format("the worktree {} is there again; it was not forgotten", info.path.string()));
    if (info.locked && !even_locked)
        throw Error(fmt::format("the worktree {} is locked ({}); it was not forgotten", info.path.string(),
                                info.lock_reason.empty() ? "git worktree lock" : info.lock_reason),
                    fmt::format("git worktree unlock {}", hint_word(info.path.string())));
    WorktreeHandle worktree;
    {
        git_worktree* raw = nullptr;
        check(git_worktree_lookup(&raw, repo_.get(), info.id.c_str()), "cannot read a worktree's record");
        worktree.reset(raw);
    }
    git_worktree_prune_options options = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
    // "Valid" to libgit2 when the folder is there without its .git; never the working tree.
    options.flags = GIT_WORKTREE_PRUNE_VALID;
    if (even_locked) options.flags |= GIT_WORKTREE_PRUNE_LOCKED;
    check(git_worktree_prune(worktree.get(), &options),
          fmt::format("cannot forget the worktree {}", info.path.string()).c_str());
    return true;
}

namespace {

struct StatusScan {
    git_repository* repo = nullptr;
    git_index* index = nullptr;  // the repository's, owned by scan_status
    bool any = false;
    bool needs_git = false;  // a changed path is one libgit2 cannot judge: filtered, or outside a sparse checkout
};

// Whether a path's index entry is outside the sparse checkout (skip-worktree): libgit2 does not
// know the flag and reports such a file, absent on purpose, as deleted.
bool skipped_in_worktree(git_index* index, const char* path) {
    const git_index_entry* entry = index ? git_index_get_bypath(index, path, 0) : nullptr;
    return entry && (entry->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
}

int on_status(const char* path, unsigned int flags, void* payload) {
    auto* scan = static_cast<StatusScan*>(payload);
    if (flags == GIT_STATUS_CURRENT || (flags & GIT_STATUS_IGNORED)) return 0;
    scan->any = true;
    // libgit2 cannot run filter drivers (Git LFS, custom clean filters): a
    // filtered file that was checked out moments ago can look modified to it.
    const char* filter = nullptr;
    if (!(flags & GIT_STATUS_WT_NEW) &&
        git_attr_get(&filter, scan->repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") == 0 &&
        GIT_ATTR_HAS_VALUE(filter)) {
        scan->needs_git = true;
    }
    if ((flags & GIT_STATUS_WT_DELETED) && skipped_in_worktree(scan->index, path)) scan->needs_git = true;
    return 1;  // one change is enough to know
}

StatusScan scan_status(git_repository* repo, bool include_untracked) {
    git_status_options options = GIT_STATUS_OPTIONS_INIT;
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    options.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    if (include_untracked) options.flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED;
    StatusScan scan;
    scan.repo = repo;
    git_index* index_raw = nullptr;
    if (git_repository_index(&index_raw, repo) < 0) index_raw = nullptr;  // a bare one: status fails below
    Handle<git_index, git_index_free> index(index_raw);
    scan.index = index.get();
    const int rc = git_status_foreach_ext(repo, &options, on_status, &scan);
    scan.index = nullptr;  // freed with `index` below
    if (rc < 0) check(rc, "cannot read the worktree's status");
    return scan;
}

// Asks git itself whether a worktree has changes, for the cases libgit2 cannot judge.
bool git_reports_changes(const fs::path& workdir, bool include_untracked) {
    const auto result = proc::run_checked(
        {"git", "-C", workdir.string(), "status", "--porcelain", include_untracked ? "-unormal" : "-uno"});
    return !result.out.empty();
}

}  // namespace

bool Repository::has_tracked_changes() const {
    const StatusScan scan = scan_status(repo_.get(), false);
    if (scan.needs_git && workdir()) return git_reports_changes(*workdir(), false);
    return scan.any;
}

bool Repository::has_uncommitted_changes() const {
    const StatusScan scan = scan_status(repo_.get(), true);
    if (scan.needs_git && workdir()) return git_reports_changes(*workdir(), true);
    return scan.any;
}

}  // namespace gm::git
