#include "gitmodel/model/start.hpp"

#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/folder_walk.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/model/created_worktree.hpp"
#include "gitmodel/model/journal.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

// Refuses a worktree folder that holds anything: git would refuse too, later and less clearly.
void check_folder_free(const fs::path& path, const std::vector<git::WorktreeInfo>& worktrees) {
    for (const auto& worktree : worktrees) {
        if (same_folder(worktree.path, path)) {
            throw Error(fmt::format("a worktree is already registered at {}{}", path.string(),
                                    worktree.folder_missing ? " (its folder is gone)" : ""),
                        worktree.folder_missing ? fmt::format("`git worktree remove {}` forgets it", hint_word(path.string()))
                                                : "remove it with `git worktree remove`, or set model.worktreeRoot");
        }
    }
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (!fs::exists(status)) return;
    if (fs::is_directory(status) && fs::is_empty(path, ec)) return;
    throw Error(fmt::format("the worktree folder {} is in the way: it exists and is not empty", path.string()),
                "move it away, or choose another place with `git config model.worktreeRoot <dir>`");
}

// Whether a file was written after a moment of the coarse clock the kernel stamps files with: a
// file written in the same tick (a few ms) counts as older, so that a user's file never counts as
// the switch's. (On a file system that keeps whole seconds the switch's files count as older too,
// and are named rather than undone.)
bool written_since(const struct stat& st, const struct timespec& since) {
    return st.st_mtim.tv_sec > since.tv_sec || (st.st_mtim.tv_sec == since.tv_sec && st.st_mtim.tv_nsec > since.tv_nsec);
}

// Whether each file (a path in the worktree, seen as `seen`) holds its blob as the switch writes
// it: the blob's bytes, or the blob as checked out at that path (through its smudge filter and
// end-of-line conversion: a clean filter that drops what the user added, as nbstripout drops a
// notebook's outputs, must not make the user's file count as the blob), or, for a file git was
// writing when it was stopped, the blob's start cut at a whole page (4096 bytes); and still as
// seen once judged.
std::vector<bool> hold_blobs(const git::Repository& repo, const fs::path& worktree, const std::vector<std::string>& paths,
                             const std::vector<std::string>& blobs, const std::vector<struct stat>& seen,
                             const proc::RunOptions& quiet) {
    std::vector<std::string> raw(paths.size());
    // The raw ids in one batch through --stdin-paths (a line each, a leading quote unquoted, a
    // trailing CR dropped); a name git would read otherwise on its own.
    std::vector<std::size_t> batch;
    std::string input;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (paths[i].find_first_of("\n\r\"") == std::string::npos) {
            batch.push_back(i);
            input += paths[i] + '\n';
            continue;
        }
        const auto hashed = git::run_git(repo, {"hash-object", "--no-filters", "--", paths[i]}, quiet, worktree);
        if (hashed.ok()) raw[i] = trim_end(hashed.out, "\n");
    }
    if (!batch.empty()) {
        proc::RunOptions hashing = quiet;
        hashing.input = input;
        const auto hashed = git::run_git(repo, {"hash-object", "--no-filters", "--stdin-paths"}, hashing, worktree);
        const auto ids = split_records(hashed.out, '\n');
        if (hashed.ok() && ids.size() == batch.size())
            for (std::size_t k = 0; k < batch.size(); ++k) raw[batch[k]] = ids[k];
    }
    const auto read_file = [&](const std::string& path, std::size_t size) {
        std::ifstream file(worktree / path, std::ios::binary);
        std::string bytes(size, '\0');
        return file.read(bytes.data(), static_cast<std::streamsize>(size)) ? bytes : std::string("\x01 unreadable");
    };
    std::vector<bool> holds(paths.size(), false);
    FolderWalk walk(worktree);
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const struct stat& st = seen[i];
        if (blobs[i].empty()) continue;
        if (S_ISLNK(st.st_mode)) {  // a symbolic link's blob is its target
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            const auto length = ::readlink((worktree / paths[i]).c_str(), target.data(), target.size());
            const auto blob = git::run_git(repo, {"cat-file", "blob", blobs[i]}, quiet, worktree);
            holds[i] = length >= 0 && blob.ok() && blob.out == target.substr(0, static_cast<std::size_t>(length));
        } else if (S_ISREG(st.st_mode)) {
            holds[i] = raw[i] == blobs[i];
            const auto size = static_cast<std::size_t>(st.st_size);
            if (!holds[i]) {
                const auto checked_out =
                    git::run_git(repo, {"cat-file", "--filters", "--path=" + paths[i], blobs[i]}, quiet, worktree);
                holds[i] = checked_out.ok() && checked_out.out.size() == size && read_file(paths[i], size) == checked_out.out;
            }
            if (!holds[i] && size % 4096 == 0) {
                const auto blob = git::run_git(repo, {"cat-file", "blob", blobs[i]}, quiet, worktree);
                holds[i] = blob.ok() && size < blob.out.size() && blob.out.compare(0, size, read_file(paths[i], size)) == 0;
            }
        }
        struct stat now {};  // a user's save while it was judged makes the judgement stale
        holds[i] = holds[i] && walk.status(paths[i], now) && same_file_as_seen(now, st);
    }
    return holds;
}

// A switch of the worktree itself that git did not complete (Ctrl-C, a kill, a failure part way)
// leaves files of the base there with HEAD unmoved. Only what the switch itself wrote is undone:
// a tracked file it changed or deleted (a path HEAD and the base differ in, not a submodule,
// written since the switch began or gone) is put back as HEAD has it, and a file the base adds
// that was written since then and is still exactly the base's goes (with the folders it leaves
// empty). Anything else is the user's and stays as it is: a change git's status hides (a file
// marked assume-unchanged), a submodule's, a file older than the switch (git refused up front and
// wrote nothing). Nothing when HEAD is the new branch (the switch was done). Returns what was done
// and what was left, for the error message ("" for nothing).
std::string restore_interrupted_switch(const git::Repository& repo, const fs::path& worktree, const std::string& branch,
                                       const std::string& base_commit, const struct timespec& switch_began) {
    proc::RunOptions quiet;
    quiet.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    const auto on = git::run_git(repo, {"symbolic-ref", "-q", "HEAD"}, quiet, worktree);
    if (on.ok() && trim_end(on.out, "\n") == "refs/heads/" + branch) return "";  // the switch was done
    const auto head = git::run_git(repo, {"rev-parse", "--verify", "-q", "HEAD^{commit}"}, quiet, worktree);
    const auto changed = git::run_git(
        repo, {"status", "--porcelain", "-z", "--no-renames", "--untracked-files=no", "--ignore-submodules=none"}, quiet,
        worktree);
    if (!head.ok() || !changed.ok()) return "";
    const std::string head_commit = trim_end(head.out, "\n");
    // Where the switch may write: ":<mode> <mode> <id> <id> <status>\0<path>\0" records.
    const auto differing =
        git::run_git(repo, {"diff-tree", "-r", "-z", "--no-renames", head_commit, base_commit}, quiet, worktree);
    if (!differing.ok()) return "";
    struct Switched {
        bool in_head = false;
        std::string base_blob;  // "" where the base has no file there
    };
    std::map<std::string, Switched> switched;  // a file path the switch writes
    std::vector<std::pair<std::string, std::string>> base_files;  // path, blob: what the base adds
    const auto fields = split_records(differing.out, '\0');
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        std::istringstream meta(fields[i]);
        std::string old_mode, new_mode, old_id, new_id, status;
        meta >> old_mode >> new_mode >> old_id >> new_id >> status;
        if (old_mode == ":160000" || new_mode == "160000") continue;  // a submodule: git's own business
        switched[fields[i + 1]] = Switched{status != "A", status == "D" ? "" : new_id};
        if (status == "A" && (new_mode == "100644" || new_mode == "100755")) base_files.emplace_back(fields[i + 1], new_id);
    }
    FolderWalk walk(worktree);  // files reached through real folders of the worktree only
    std::vector<std::string> restore;  // tracked files the switch wrote or deleted
    std::vector<std::string> left;     // tracked changes it did not make
    std::vector<std::string> written, written_blobs;  // to be checked: still as the switch wrote them?
    std::vector<struct stat> written_seen;
    for (const auto& entry : split_records(changed.out, '\0')) {
        if (entry.size() < 4) continue;
        const std::string path = entry.substr(3);
        const auto where = switched.find(path);
        struct stat st {};
        const bool gone = ::lstat((worktree / path).c_str(), &st) != 0 && errno == ENOENT;
        if (where != switched.end() && gone) {
            restore.push_back(path);
        } else if (where != switched.end() && walk.status(path, st) && written_since(st, switch_began)) {
            written.push_back(path);
            written_blobs.push_back(where->second.base_blob);
            written_seen.push_back(st);
        } else {
            left.push_back(path);
        }
    }
    // Written during the switch, but by the user too (an editor saving while a long checkout ran):
    // only the base's content is the switch's.
    const auto as_written = hold_blobs(repo, worktree, written, written_blobs, written_seen, quiet);
    for (std::size_t i = 0; i < written.size(); ++i) (as_written[i] ? restore : left).push_back(written[i]);
    std::vector<std::string> lines;
    if (!restore.empty()) {
        // The index back to HEAD for those paths (a switch killed after writing it), then the
        // files from it; literal paths, submodules left alone.
        std::string paths;
        for (const auto& path : restore) paths += path + '\0';
        proc::RunOptions feeding = quiet;
        feeding.input = paths;
        const auto reset = git::run_git(repo, {"--literal-pathspecs", "reset", "-q", "--no-recurse-submodules",
                                               head_commit, "--pathspec-from-file=-", "--pathspec-file-nul"},
                                        feeding, worktree);
        // 1: files still differ from the index, as they do until the next step
        bool put_back = reset.signal == 0 && !reset.timed_out && (reset.exit_code == 0 || reset.exit_code == 1);
        std::string in_head;
        for (const auto& path : restore)
            if (switched.at(path).in_head) in_head += path + '\0';
        feeding.input = in_head;
        if (put_back && !in_head.empty())
            put_back = git::run_git(repo, {"checkout-index", "-f", "-u", "-q", "-z", "--stdin"}, feeding, worktree).ok();
        lines.push_back(put_back ? fmt::format("put back {} the interrupted switch had changed, as {} has them",
                                               count_of(restore.size(), "file", "files"), head_commit.substr(0, 10))
                                 : fmt::format("could not put back the {} the interrupted switch had changed (`git "
                                               "status` shows them)",
                                               count_of(restore.size(), "file", "files")));
    }
    // The base's new files it wrote: still the base's blob, raw or through the path's filters
    // (end-of-line conversion, Git LFS), and written since the switch began.
    std::vector<std::string> present;
    std::vector<std::string> ids;
    std::vector<struct stat> seen;
    for (const auto& [path, id] : base_files) {
        struct stat st {};
        if (!walk.status(path, st) || !S_ISREG(st.st_mode) || !written_since(st, switch_began)) continue;
        present.push_back(path);
        ids.push_back(id);
        seen.push_back(st);
    }
    std::size_t removed = 0;
    std::vector<std::string> kept;
    if (!present.empty()) {
        const auto same = hold_blobs(repo, worktree, present, ids, seen, quiet);
        for (std::size_t i = 0; i < present.size(); ++i) {
            if (same[i] && walk.remove_if_same(present[i], seen[i])) {
                walk.remove_empty_folders_of(present[i]);
                ++removed;
            } else {
                kept.push_back(present[i]);
            }
        }
    }
    if (removed) lines.push_back(fmt::format("removed {} the switch had written", count_of(removed, "file", "files")));
    const auto some = [](const std::vector<std::string>& paths) {
        std::vector<std::string> named;
        for (std::size_t i = 0; i < paths.size() && i < 3; ++i) named.push_back(hint_word(paths[i]));
        return join(named, ", ") + (paths.size() > 3 ? fmt::format(" and {} more", paths.size() - 3) : "");
    };
    if (!kept.empty())
        lines.push_back(fmt::format("left {} the base adds, written since the switch began but no longer as the base "
                                    "has {} ({}): the next start is refused while {} there; remove {} if {} not yours",
                                    count_of(kept.size(), "file", "files"), kept.size() == 1 ? "it" : "them",
                                    some(kept), kept.size() == 1 ? "it is" : "they are",
                                    kept.size() == 1 ? "it" : "them", kept.size() == 1 ? "it is" : "they are"));
    // Named where something was undone, or where a change is in a path the switch writes (a file
    // the user saved while it ran): the worktree is not simply as it was.
    const bool in_switched_path =
        std::any_of(left.begin(), left.end(), [&](const std::string& path) { return switched.count(path) > 0; });
    if (!left.empty() && (!lines.empty() || in_switched_path))
        lines.push_back(fmt::format("left as {} the {} the switch did not make ({}): `git status` and `git diff` show {}",
                                    left.size() == 1 ? "it is" : "they are", count_of(left.size(), "change", "changes"),
                                    some(left), left.size() == 1 ? "it" : "them"));
    return join(lines, "; ");
}

// The ignored files of the worktree (build output, a local .env) that the switch to the base would
// overwrite or remove: at a path where the base has a file, inside a folder where it has a file, or
// a file or link where it needs a folder. git's switch does so without asking. Throws when git
// cannot tell.
std::vector<std::string> ignored_in_the_way(const git::Repository& repo, const fs::path& worktree,
                                            const std::string& base_commit) {
    proc::RunOptions quiet;
    quiet.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    const auto added = git::run_git(repo, {"diff-tree", "-r", "-z", "--no-renames", "--name-only", "--diff-filter=AT",
                                           "HEAD", base_commit},
                                    quiet, worktree);
    if (!added.ok()) return {};
    // What is in the way, found without following links: the first thing on the path that is not
    // a folder, or a folder where the base has its file.
    std::set<std::string> in_the_way;
    for (const auto& path : split_records(added.out, '\0')) {
        fs::path prefix;
        for (const auto& part : fs::path(path)) {
            prefix /= part;
            struct stat st {};
            if (::lstat((worktree / prefix).c_str(), &st) != 0) break;
            if (!S_ISDIR(st.st_mode) || prefix == fs::path(path)) {
                in_the_way.insert(prefix.string());
                break;
            }
        }
    }
    if (in_the_way.empty()) return {};
    std::vector<std::string> ignored;
    std::vector<std::string> chunk;
    const auto ask = [&] {
        // The ignored untracked files at or under those paths, as git's switch judges them.
        std::vector<std::string> args{"--literal-pathspecs", "ls-files", "-z", "--others", "--ignored",
                                      "--exclude-standard", "--"};
        args.insert(args.end(), chunk.begin(), chunk.end());
        const auto listed = git::run_git(repo, args, quiet, worktree);
        if (!listed.ok())
            throw Error(fmt::format("cannot tell whether the switch to {} would overwrite ignored files: `git ls-files` {}",
                                    base_commit.substr(0, 10), listed.describe()),
                        "leave out --no-worktree to get a separate worktree");
        for (auto& path : split_records(listed.out, '\0')) ignored.push_back(std::move(path));
        chunk.clear();
    };
    for (const auto& path : in_the_way) {
        chunk.push_back(path);
        if (chunk.size() == 500) ask();
    }
    if (!chunk.empty()) ask();
    return ignored;
}

// Rolls back after a failed step and rethrows with what happened.
[[noreturn]] void fail_and_roll_back(git::Repository& repo, const Intent& intent, PendingStart& pending,
                                     const std::string& what) {
    Rollback rollback;
    try {
        rollback = roll_back(repo, intent);
        if (rollback.resolved) pending.commit();
    } catch (const Error& rollback_error) {
        throw Error(fmt::format("{}; rolling back failed too: {}", what, rollback_error.what()),
                    rollback_error.hint());
    }
    if (!rollback.kept.empty()) {
        throw Error(fmt::format("{}; {}", what, join(rollback.kept, "\n")),
                    "the next `git model start` looks at it again");
    }
    if (rollback.completed)  // git's checkout was done when it failed (a post-checkout hook, say)
        throw Error(fmt::format("{}; the model was started all the same: its branch {} is checked out {}", what,
                                intent.branch, intent.worktree ? "in " + hint_word(intent.worktree->string()) : "here"),
                    "look at what git reported above; `git model list` shows the model");
    throw Error(fmt::format("{}; nothing was changed", what),
                intent.worktree ? "the output above shows what git reported; fix that and run the same command again"
                                : "fix what git reported above and run the same command again");
}

// Runs git's own checkout (filters such as Git LFS and post-checkout hooks behave as usual) with
// interrupting signals deferred; returns why it failed, empty when it succeeded.
std::string run_checkout(const std::vector<std::string>& git_args, const fs::path& run_in, bool in_place) {
    DeferSignals defer;
    proc::RunOptions options;
    options.cwd = run_in;
    options.inherit_output = true;
    // No limit, and in the terminal's process group: the checkout may download large LFS files
    // (hours on a slow link) and ask for a password; the user sees its progress, and Ctrl-C
    // stops git while ours is deferred, so that the start is rolled back.
    options.timeout = std::nullopt;
    options.terminal = true;
    proc::RunResult checkout;
    try {
        // run_git: GIT_DIR/GIT_WORK_TREE from our caller would point git at the wrong worktree.
        checkout = git::run_git(git_args, options);
    } catch (const Error& e) {
        return e.what();
    }
    if (DeferSignals::pending()) return fmt::format("interrupted by signal {}", DeferSignals::pending());
    if (!checkout.ok())
        return fmt::format("`git {}` {}", in_place ? "switch" : "worktree add", checkout.describe());
    return {};
}

}  // namespace

StartResult start_model(git::Repository& repo, const StartRequest& request,
                        const std::function<void(const std::string&)>& note) {
    const Settings settings = read_settings(repo);
    StartResult result;
    result.branch = naming::model_branch(request.model);
    result.base = request.base.value_or(settings.base_branch);
    const auto base_commit = resolve_base(repo, result.base);
    if (!base_commit) {
        throw Error(fmt::format("the base '{}' does not exist (no branch, tag or commit of that name)", result.base),
                    request.base ? "name an existing branch or commit with --base"
                                 : "create it, or name another with --base; " +
                                       git::team_setting_fix("model.baseBranch", "<branch>", false));
    }
    result.base_commit = *base_commit;

    Intent intent;
    intent.model = request.model;
    intent.branch = result.branch;
    intent.base = result.base;
    intent.base_commit = result.base_commit;
    intent.process = proc::self_identity();

    std::vector<std::string> git_command;
    fs::path run_in;
    const std::string lock_reason = creation_lock_reason(fmt::format("start {}", request.model), intent.process.pid);
    if (request.in_place) {
        const auto workdir = repo.workdir();
        if (!workdir) throw Error("--no-worktree needs a worktree, and this repository is bare", "leave out --no-worktree");
        git_command = {"switch", "--quiet", result.branch};
        run_in = *workdir;
    } else {
        const fs::path path = worktree_path_for(settings, request.model);
        require_utf8_worktree_path(path);  // its record, for the rollback of a start cut short, is JSON
        intent.worktree = path;
        result.worktree = path;
        git_command = worktree_add_args(path, result.branch, lock_reason);
        run_in = settings.main_worktree;
        // Checked before the folders on the way are made, and again once they are (one another
        // user made meanwhile, in a shared folder, is then theirs).
        refuse_foreign_worktree_place(settings, path, repo.common_dir());
        make_worktree_parents(path.parent_path());
    }

    // Other starts, sweeps and prunes of this repository wait here for their turn.
    RepositoryLock lock(repo, worktrees_lock, fmt::format("git model start {}", request.model));
    for (const auto& line : recover_interrupted_starts(repo))
        if (note) note(line);
    if (repo.branch_exists(result.branch)) {
        std::string where;
        for (const auto& worktree : repo.linked_worktrees())
            if (worktree.branch == result.branch) where = fmt::format(" (worktree {})", worktree.path.string());
        throw Error(fmt::format("model '{}' exists already: branch {}{}", request.model, result.branch, where),
                    "pick another name; `git model list` shows where the existing one lives");
    }
    // A teammate's model of that name (fetched) with work the base lacks: a new branch would fork
    // it silently, and its finish would fail as non-fast-forward with git inviting a pull of that
    // history. One merged into the base already (a model finished, pruned, started again) is fine.
    const std::string remote_branch = fmt::format("refs/remotes/{}/{}", settings.remote, result.branch);
    const auto merged_into = [&](const std::string& commit, const std::string& base) {
        const auto tip = resolve_base(repo, base);
        return tip && repo.is_ancestor(commit, *tip);
    };
    if (const auto there = repo.resolve_commit(remote_branch);
        there && !repo.is_ancestor(*there, result.base_commit) &&
        !merged_into(*there, fmt::format("refs/remotes/{}/{}", settings.remote, settings.base_branch))) {
        const fs::path place = intent.worktree.value_or(fs::path("<folder>"));
        throw Error(fmt::format("model '{}' exists on {} already: {}/{} (a teammate's, or yours from another clone); a "
                                "new branch of that name would fork it",
                                request.model, settings.remote, settings.remote, result.branch),
                    fmt::format("pick another name; or, to work on that model here: git worktree add {} {} (git sets "
                                "it to track {}/{}); if it was merged and deleted there since (a squash merge), `git "
                                "fetch --prune {}` forgets it here",
                                hint_word(place.string()), result.branch, settings.remote,
                                result.branch, settings.remote));
    }
    if (request.in_place && repo.has_tracked_changes()) {
        throw Error(fmt::format("cannot switch {} to {}: it has uncommitted changes", run_in.string(), result.branch),
                    "commit or stash them first, or leave out --no-worktree to get a separate worktree");
    }
    if (request.in_place) {
        if (const auto in_the_way = ignored_in_the_way(repo, run_in, result.base_commit); !in_the_way.empty()) {
            std::vector<std::string> named;
            for (std::size_t i = 0; i < in_the_way.size() && i < 3; ++i) named.push_back(hint_word(in_the_way[i]));
            throw Error(fmt::format("cannot switch {} to {}: the base has files where ignored files of yours are ({}{}); "
                                    "git's switch would overwrite them",
                                    run_in.string(), result.branch, join(named, ", "),
                                    in_the_way.size() > 3 ? fmt::format(" and {} more", in_the_way.size() - 3) : ""),
                        "move them away first, or leave out --no-worktree to get a separate worktree");
        }
    }
    if (intent.worktree) {
        refuse_foreign_worktree_place(settings, *intent.worktree, repo.common_dir());
        check_folder_free(*intent.worktree, repo.linked_worktrees());
        claim_worktree_folder(*intent.worktree);  // nobody else can make it now (a rollback removes it, empty)
    }

    PendingStart pending = PendingStart::claim(repo, intent);
    try {
        repo.create_branch(result.branch, result.base_commit);
    } catch (const Error& e) {
        fail_and_roll_back(repo, intent, pending, e.what());
    }
    // The clock the kernel stamps files with, then its next tick awaited (a few ms): every file the
    // switch writes is stamped after this moment, even the first one written at once.
    struct timespec switch_began {};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &switch_began);
    for (int waited = 0; waited < 50; ++waited) {
        struct timespec now {};
        ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
        if (now.tv_sec != switch_began.tv_sec || now.tv_nsec != switch_began.tv_nsec) break;
        const struct timespec millisecond {0, 1000000};
        ::nanosleep(&millisecond, nullptr);
    }
    if (std::string failed = run_checkout(git_command, run_in, request.in_place); !failed.empty()) {
        try {
            if (request.in_place) {
                if (const auto restored =
                        restore_interrupted_switch(repo, run_in, result.branch, result.base_commit, switch_began);
                    !restored.empty())
                    failed += "; " + restored;
            }
            fail_and_roll_back(repo, intent, pending, failed);
        } catch (const Error& e) {
            // Killed by the signal next: said first, as the caller would say it.
            if (DeferSignals::pending()) report_error("git-model", e);
            DeferSignals::raise_pending();
            throw;
        }
    }
    try {
        if (intent.worktree) release_creation_lock(*intent.worktree, lock_reason);
        repo.config().set_local(fmt::format("branch.{}.modelBase", result.branch), result.base);
    } catch (const Error& e) {
        fail_and_roll_back(repo, intent, pending, e.what());
    }
    pending.commit();
    return result;
}

}  // namespace gm::model
