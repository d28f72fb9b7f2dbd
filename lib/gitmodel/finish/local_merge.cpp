#include "gitmodel/finish/local_merge.hpp"

#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/model/repository_lock.hpp"

#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace gm::finish {

namespace fs = std::filesystem;

namespace {


std::string merge_message(const model::ModelContext& context) {
    return fmt::format("Merge model '{}' ({}) into {}", context.name, context.branch, context.base);
}

// The worktree that has the base checked out, and its own git dir (where git keeps MERGE_HEAD
// and index.lock, and where the record of a merge under way is kept beside them).
struct BaseCheckout {
    fs::path worktree;
    fs::path git_dir;
    fs::path record() const { return git_dir / "git-model-finish-merge"; }
};

// What a finish --merge under way was merging.
struct MergeUnderWay {
    std::string model;
    std::string base_commit;  // the base's commit before the merge
    std::string model_tip;    // the model's commit being merged
};

std::optional<MergeUnderWay> read_record(const BaseCheckout& base) {
    std::ifstream in(base.record());
    if (!in) return std::nullopt;
    MergeUnderWay record;
    std::string line;
    while (std::getline(in, line)) {
        const auto space = line.find(' ');
        if (space == std::string::npos) continue;
        const std::string key = line.substr(0, space);
        const std::string value = line.substr(space + 1);
        if (key == "model") record.model = printable(value, 100);
        if (key == "base") record.base_commit = value;
        if (key == "tip") record.model_tip = value;
    }
    // Both go to git as arguments: object names and nothing else.
    if (record.model.empty() || !is_object_id(record.base_commit) || !is_object_id(record.model_tip))
        return std::nullopt;
    return record;
}

void forget_record(const BaseCheckout& base) {
    std::error_code ignored;
    fs::remove(base.record(), ignored);
}

std::optional<std::string> head_of(const git::Repository& repo, const BaseCheckout& base) {
    const auto head = run_git(repo, {"rev-parse", "--verify", "-q", "HEAD"}, {}, base.worktree);
    if (!head.ok()) return std::nullopt;
    return first_line(head.out);
}

// The second parent of the base's HEAD (the commit a merge brought in), if HEAD is a merge.
std::optional<std::string> second_parent_of_head(const git::Repository& repo, const BaseCheckout& base) {
    const auto parent = run_git(repo, {"rev-parse", "--verify", "-q", "HEAD^2"}, {}, base.worktree);
    if (!parent.ok()) return std::nullopt;
    return first_line(parent.out);
}

// The tree git makes of merging `theirs` into `ours` (with conflict markers where it has conflicts).
struct MergedTree {
    std::string tree;
    bool clean = false;
};

// Run where the merge runs (`where`: the base's worktree), so that worktree config (merge.renames,
// drivers) is the same.
std::optional<MergedTree> merged_tree(const git::Repository& repo, const std::string& ours, const std::string& theirs,
                                      const std::optional<fs::path>& where = std::nullopt) {
    const auto merged = run_git(repo, {"merge-tree", "--write-tree", ours, theirs}, {}, where);
    if (merged.signal != 0 || merged.timed_out || (merged.exit_code != 0 && merged.exit_code != 1))
        return std::nullopt;  // 1: conflicts
    return MergedTree{first_line(merged.out), merged.exit_code == 0};
}

// Whether everything below `folder` (files and links, relative to the worktree) is in `going`.
bool holds_only(const fs::path& worktree, const std::string& folder, const std::set<std::string>& going) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(worktree / folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
        if (!going.count(it->path().lexically_relative(worktree).string())) return false;
    }
    return !ec;
}

// What is on disk in the base's worktree where a switch from `from` to `to` writes a file and
// git tracks nothing there: untracked or ignored files, the user's. git's merge and read-tree
// overwrite ignored ones without a word (a checkpoint under an ignored outputs/), and replace a
// submodule's folder (its clone, its own commits) with the file that takes its place, so they are
// looked for first. A folder above the path that is a file or a link git does not remove is in
// the way too; one git removes (a tracked link becoming a folder) leaves nothing of the user's there.
// Of the untracked files at paths where git writes a new file (path -> "<mode> <blob>"), those
// that already hold exactly what it writes: git's own, from a merge killed while it wrote them, or
// a copy of the same; deleting them loses nothing (git refuses to overwrite them all the same).
// Hashed as git would store them (its filters by path, one `hash-object --stdin-paths`); a regular
// file whose executable bit matches only.
std::set<std::string> same_as_written(const git::Repository& repo, const BaseCheckout& base,
                                      const std::map<std::string, std::string>& writes,
                                      const std::set<std::string>& candidates) {
    std::vector<std::string> paths;
    for (const auto& path : candidates) {
        const auto write = writes.find(path);
        struct stat st {};
        if (write == writes.end() || ::lstat((base.worktree / path).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        const bool executable = (st.st_mode & S_IXUSR) != 0;
        if (write->second.rfind(executable ? "100755 " : "100644 ", 0) == 0) paths.push_back(path);
    }
    std::set<std::string> same;
    if (paths.empty()) return same;
    proc::RunOptions options;
    std::string input;
    for (const auto& path : paths) input += path + "\n";
    options.input = input;
    if (std::any_of(paths.begin(), paths.end(), [](const std::string& p) { return p.find('\n') != std::string::npos; }))
        return same;  // a name --stdin-paths cannot carry: judged the user's
    const auto hashed = run_git(repo, {"hash-object", "--stdin-paths"}, options, base.worktree);
    if (!hashed.ok()) return same;
    const auto ids = split_records(hashed.out, '\n');
    for (std::size_t i = 0; i < paths.size() && i < ids.size(); ++i)
        if (writes.at(paths[i]).substr(7) == ids[i]) same.insert(paths[i]);
    return same;
}

// The files git does not track where going from `from` to `to` writes: the user's, and those that
// hold exactly what would be written there (see same_as_written).
struct FilesInTheWay {
    std::vector<std::string> users;
    std::vector<std::string> identical;
    std::vector<std::string> hidden;  // tracked, marked --assume-unchanged: a local edit git does not show
};

// The tracked files marked --assume-unchanged (`git ls-files -v` tags them in lower case) among
// paths: git's status hides a local edit of theirs, and a merge or checkout writing them would
// drop it unseen.
std::vector<std::string> assumed_unchanged(const git::Repository& repo, const BaseCheckout& base,
                                           const std::set<std::string>& paths) {
    if (paths.empty()) return {};
    const auto listed = run_git_checked(repo, {"ls-files", "-v", "-z"}, "listing the files of the base's worktree", {},
                                        base.worktree);
    std::vector<std::string> found;
    for (const auto& entry : split_records(listed.out, '\0'))
        if (entry.size() > 2 && std::islower(static_cast<unsigned char>(entry[0])) && entry[1] == ' ' &&
            paths.count(entry.substr(2)))
            found.push_back(entry.substr(2));
    return found;
}

FilesInTheWay files_in_the_way(const git::Repository& repo, const BaseCheckout& base, const std::string& from,
                               const std::string& to) {
    const auto diff = run_git_checked(repo, {"diff-tree", "-r", "-z", "--no-renames", from, to},
                                      "listing the files the merge writes", {}, base.worktree);
    // -z --raw: ":<old mode> <new mode> <old id> <new id> <status>" NUL "<path>" NUL
    const auto fields = split_records(diff.out, '\0');
    std::vector<std::string> written;           // paths where git tracks nothing now, or a submodule
    std::map<std::string, std::string> writes;  // of those, new files: "<new mode> <new id>"
    std::set<std::string> going;                // tracked now (files and links), gone after
    std::set<std::string> changed;              // every path it writes or removes
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        const std::string& info = fields[i];
        const std::string& path = fields[i + 1];
        if (info.size() < 8 || info[0] != ':') throw Error(fmt::format("git diff-tree said {}", printable(info)));
        changed.insert(path);
        const std::string old_mode = info.substr(1, 6);
        const char status = info.back();
        if (status == 'A' || (status == 'T' && old_mode == "160000")) written.push_back(path);
        if (status == 'A') {
            const auto words = split_records(info.substr(1), ' ');  // old mode, new mode, old id, new id, status
            if (words.size() == 5) writes[path] = words[1] + " " + words[3];
        }
        if (status == 'D' && old_mode != "160000") going.insert(path);
    }
    std::set<std::string> in_the_way;
    for (const auto& path : written) {
        struct stat st {};
        bool settled_above = false;  // a folder above is missing, git's to replace, or in the way
        for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
            const std::string above = path.substr(0, slash);
            const bool there = ::lstat((base.worktree / above).c_str(), &st) == 0;
            if (there && S_ISDIR(st.st_mode)) continue;
            // Nothing there (so nothing below it), or a file or link: git's when it goes, else the user's.
            if (there && !going.count(above)) in_the_way.insert(above);
            settled_above = true;
            break;
        }
        if (settled_above) continue;
        if (::lstat((base.worktree / path).c_str(), &st) == 0 &&
            !(S_ISDIR(st.st_mode) && holds_only(base.worktree, path, going)))
            in_the_way.insert(path);
    }
    FilesInTheWay found;
    found.hidden = assumed_unchanged(repo, base, changed);
    const auto identical = same_as_written(repo, base, writes, in_the_way);
    for (const auto& path : in_the_way) (identical.count(path) ? found.identical : found.users).push_back(path);
    return found;
}

// "a, b, c" of at most five paths, then "and N more".
std::string some_paths(std::vector<std::string> paths) {
    const std::size_t count = paths.size();
    if (count > 5) {
        paths.resize(5);
        paths.push_back(fmt::format("and {} more", count - 5));
    }
    for (auto& path : paths) path = printable(path);
    return join(paths, ", ");
}

// Refuses, naming them, when files_in_the_way finds any: the user's to move away, and apart
// from them those that hold exactly what git would write (left by a merge stopped while git
// wrote its files: the user could not tell them from their own).
void refuse_files_in_the_way(const git::Repository& repo, const BaseCheckout& base, const std::string& from,
                             const std::string& to, const std::string& doing) {
    const auto found = files_in_the_way(repo, base, from, to);
    if (!found.hidden.empty())
        throw Error(fmt::format("{} would write {} marked --assume-unchanged in {}, whose local edits git does not "
                                "show (and would lose): {}; nothing was changed",
                                doing, found.hidden.size() == 1 ? "a file" : "files", base.worktree.string(),
                                some_paths(found.hidden)),
                    fmt::format("see them with `git -C {0} update-index --no-assume-unchanged -- <file>...` and `git "
                                "-C {0} status`; commit or stash what you keep, then finish again",
                                hint_word(base.worktree.string())));
    const std::size_t count = found.users.size() + found.identical.size();
    if (count == 0) return;
    std::vector<std::string> parts;
    if (!found.users.empty()) parts.push_back(some_paths(found.users));
    if (!found.identical.empty())
        parts.push_back(fmt::format("{} (holding exactly what it writes there)", some_paths(found.identical)));
    std::string hint = found.users.empty() ? std::string()
                                           : "they are yours (untracked or ignored): move them away, then finish again";
    if (!found.identical.empty())
        hint += fmt::format("{}{} the very content the merge has for {} (left by a merge stopped while git wrote "
                            "its files, or a copy): delete {}, nothing is lost, then finish again",
                            hint.empty() ? "" : "; ", found.identical.size() == 1 ? "one holds" : "those hold",
                            found.identical.size() == 1 ? "its path" : "their paths",
                            found.identical.size() == 1 ? "it" : "them");
    throw Error(fmt::format("{} would overwrite {} git does not track in {}: {}; nothing was changed", doing,
                            count == 1 ? "a file" : "files", base.worktree.string(), join(parts, "; ")),
                hint);
}

// When git was killed while it wrote the base's worktree (an LFS download, a smudge filter),
// its index.lock stays and every later git command there fails: said here, with what to do,
// instead of a merge that fails for a reason it cannot name.
void refuse_stale_index_lock(const BaseCheckout& base, const std::string& name) {
    const fs::path lock = base.git_dir / "index.lock";
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(lock, ec))) return;
    const auto record = read_record(base);
    throw Error(fmt::format("{} exists: a git command is writing the worktree of {} ({}), or one was killed "
                            "while it did{}",
                            lock.string(), name, base.worktree.string(),
                            record ? fmt::format(" (an earlier `git model finish --merge {}` was stopped while "
                                                 "git wrote its merge)",
                                                 record->model)
                                   : ""),
                fmt::format("when no git runs there, remove it (rm {}) and see what git had written with "
                            "`git -C {} status`",
                            hint_word(lock.string()), hint_word(base.worktree.string())));
}

// git writes MERGE_HEAD before it commits a merge and removes it after its post-merge hook: killed
// in that hook, the merge is made and MERGE_HEAD stays, so every later merge there stops with
// "You have not concluded your merge". Such a state is removed (git's own files of it), but only
// while the worktree's HEAD is that very merge: a merge whose second parent is MERGE_HEAD.
void forget_concluded_merge_state(const git::Repository& repo, const BaseCheckout& base) {
    std::ifstream in(base.git_dir / "MERGE_HEAD");
    std::string merging;
    std::string more;
    if (!(in >> merging) || (in >> more)) return;  // none, or an octopus: not ours to judge
    if (second_parent_of_head(repo, base) != merging) return;
    std::error_code ignored;
    for (const char* name : {"MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"})
        fs::remove(base.git_dir / name, ignored);
}

// A merge, cherry-pick or revert the user has under way there is theirs to conclude: a merge
// started over it would fail, and its `merge --abort` would throw their merge away.
void refuse_operation_in_progress(const BaseCheckout& base, const std::string& name) {
    for (const auto& [file, what] : {std::pair{"MERGE_HEAD", "merge"}, std::pair{"CHERRY_PICK_HEAD", "cherry-pick"},
                                     std::pair{"REVERT_HEAD", "revert"}}) {
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(base.git_dir / file, ec))) continue;
        throw Error(fmt::format("a {} is under way in the worktree of {} ({}): git's {} is there", what, name,
                                base.worktree.string(), file),
                    fmt::format("conclude it there (`git commit`) or drop it (`git {} --abort`), then finish again",
                                what));
    }
    std::error_code ec;
    if (fs::exists(fs::symlink_status(base.git_dir / "sequencer", ec))) {
        throw Error(fmt::format("a cherry-pick or revert of several commits is under way in the worktree of {} ({}): "
                                "git's sequencer/ is there",
                                name, base.worktree.string()),
                    "go on with it there (`git cherry-pick --continue`, or `git revert --continue`) or drop it "
                    "(`--abort`), then finish again");
    }
}

// The paths of a NUL-separated git listing (`--name-only -z`).
std::set<std::string> listed_paths(const std::string& listing) {
    const auto paths = split_records(listing, '\0');
    return {paths.begin(), paths.end()};
}

// Under the merge lock, before the base's worktree is judged: a finish --merge killed after git
// staged its merge is undone, but only while the base is still at the commit it was and every file
// that merge changed is, staged and on disk, exactly the merge's result (so its content is in the
// two commits and nothing is lost). git's own switch from the merge's tree back to the base's
// commit puts them back as a checkout does: it checks every path before it writes one, keeps what
// else is staged, and refuses to overwrite a file git does not track (one the user made since at a
// path the merge had deleted, an ignored one too) or a changed one. Returns what was done.
std::optional<std::string> undo_interrupted_merge(const git::Repository& repo, const BaseCheckout& base,
                                                  const model::ModelContext& context, bool just_now = false) {
    const auto record = read_record(base);
    if (!record) {
        forget_record(base);  // none, or not one this version wrote
        return std::nullopt;
    }
    const auto head = head_of(repo, base);
    if (!head || *head != record->base_commit || !repo.open_worktree(base.worktree).has_tracked_changes()) {
        forget_record(base);  // committed, moved on, or nothing was staged
        return std::nullopt;
    }
    // Said for the next finish (an earlier one was stopped), or for this one, whose git was just stopped.
    const std::string stopped = just_now ? std::string("this merge's git was stopped")
                                         : fmt::format("an earlier `git model finish --merge {}` was stopped",
                                                       record->model);
    const std::string was = fmt::format("{} after git staged the merge in {} and before it committed it", stopped,
                                        base.worktree.string());
    const auto merged = merged_tree(repo, record->base_commit, record->model_tip, base.worktree);
    if (!merged) {
        throw Error(fmt::format("{}, and git cannot tell what that merge wrote (`git merge-tree` failed)", was),
                    fmt::format("see `git -C {} status`; finish again when git works there", hint_word(base.worktree.string())));
    }
    if (!merged->clean) {
        forget_record(base);  // it had conflicts: git stopped on its own and was aborted
        return std::nullopt;
    }
    const std::string* tree = &merged->tree;
    const auto changed =
        run_git_checked(repo, {"diff-tree", "-r", "-z", "--name-only", "--no-renames", record->base_commit, *tree},
                        "listing the files of the interrupted merge", {}, base.worktree);
    const auto merge_paths = split_records(changed.out, '\0');
    // Stopped before git staged anything (while it wrote the files: the index is written last),
    // nothing of the merge is staged: what is on disk may hold files it wrote, unstaged, beside the
    // user's own changes, and only the user can tell them apart. The record stays until the
    // worktree is clean.
    const auto staged_since_base =
        run_git_checked(repo, {"diff-index", "--cached", "-z", "--name-only", "--no-renames", record->base_commit},
                        "reading what is staged", {}, base.worktree);
    const auto staged_away = listed_paths(staged_since_base.out);
    if (std::none_of(merge_paths.begin(), merge_paths.end(), [&](const auto& path) { return staged_away.count(path); })) {
        throw Error(fmt::format("{} while git wrote the merge's files into {} (nothing of it was staged); some of "
                                "the changes there may be files it wrote",
                                stopped, base.worktree.string()),
                    fmt::format("see `git -C {} status`: keep what is yours (commit or stash it), put back the rest "
                                "(`git restore <file>`, remove the new files), then finish again",
                                hint_word(base.worktree.string())));
    }
    const auto staged = run_git_checked(repo, {"diff-index", "--cached", "-z", "--name-only", "--no-renames", *tree},
                                        "reading what is staged", {}, base.worktree);
    const auto on_disk = run_git_checked(repo, {"diff", "-z", "--name-only", "--no-renames", "--no-ext-diff"},
                                         "reading what changed on disk", {}, base.worktree);
    // A file the user already put back (staged and on disk as the base has it) is done, not changed.
    const auto staged_off_merge = listed_paths(staged.out);
    const auto changed_on_disk = listed_paths(on_disk.out);
    std::vector<std::string> touched;
    for (const auto& path : merge_paths) {
        const bool put_back = !staged_away.count(path) && !changed_on_disk.count(path);
        if ((staged_off_merge.count(path) || changed_on_disk.count(path)) && !put_back) touched.push_back(path);
    }
    if (!touched.empty()) {
        if (touched.size() > 5) {
            touched.resize(5);
            touched.push_back("...");
        }
        throw Error(fmt::format("{}, and files of that merge were changed since: {}", was, join(touched, ", ")),
                    fmt::format("keep what you need of them, put them back with `git -C {} restore --source=HEAD "
                                "--staged --worktree -- <file>...` and finish again",
                                hint_word(base.worktree.string())));
    }
    refuse_files_in_the_way(repo, base, *tree, record->base_commit,
                            fmt::format("{}; putting back the files that merge changed", was));
    proc::RunOptions switching;
    switching.timeout = std::nullopt;  // as the merge: the checkout may download large LFS files
    switching.terminal = true;
    const auto back = run_git(repo, {"read-tree", "-m", "-u", *tree, record->base_commit}, switching, base.worktree);
    if (!back.ok() && (back.signal != 0 || back.timed_out)) {
        throw Error(fmt::format("{}; putting back the files that merge changed was stopped part way ({}): some of "
                                "them may be back already",
                                was, back.describe()),
                    fmt::format("when no git runs there, remove {} if it is there, then finish again",
                                (base.git_dir / "index.lock").string()));
    }
    if (!back.ok()) {
        throw Error(fmt::format("{}; putting back the files that merge changed failed, and nothing was changed ({}):\n{}",
                                was, back.describe(), trim_end(back.err, "\n")),
                    "move away (or commit) the files git names, then finish again");
    }
    forget_record(base);
    const std::size_t count = merge_paths.size();
    return fmt::format("{}; its {} staged file{} went back to {}'s commit{}", was, count, count == 1 ? "" : "s",
                       context.base,
                       record->model == context.name
                           ? ", and the merge is made again."
                           : fmt::format(" ('{}' is not merged: finish it again for that).", record->model));
}

BaseCheckout base_checkout(const git::Repository& repo, const model::ModelContext& context) {
    const auto target = model::worktree_of(repo, context.base);
    if (!target || target->missing) {
        throw Error(fmt::format("{} is not checked out in any worktree, so git cannot merge into it", context.base),
                    fmt::format("check it out (`git switch {}` in the main worktree) and finish again", context.base));
    }
    return BaseCheckout{target->path, repo.open_worktree(target->path).git_dir()};
}

}  // namespace

std::optional<MergeFound> merge_of_head(const git::Repository& repo, const model::ModelContext& context,
                                        const std::string& head, const std::string& base_commit) {
    std::optional<fs::path> where;  // where the merge ran, for the same worktree config
    if (const auto target = model::worktree_of(repo, context.base); target && !target->missing) where = target->path;
    const auto merges =
        run_git(repo, {"log", "--merges", "--ancestry-path", "--format=%H %P%x09%s", head + ".." + base_commit});
    if (!merges.ok()) return std::nullopt;
    for (const auto& line : split_records(merges.out, '\n')) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos) continue;
        const auto ids = split_records(line.substr(0, tab) + ' ', ' ');
        if (ids.size() != 3 || ids[2] != head) continue;
        MergeFound found{ids[0], false};
        if (line.substr(tab + 1) == merge_message(context)) {
            const auto tree = run_git(repo, {"rev-parse", "--verify", "-q", ids[0] + "^{tree}"});
            const auto expected = merged_tree(repo, ids[1], head, where);
            found.unrecorded_finish = tree.ok() && expected && expected->clean && first_line(tree.out) == expected->tree;
        }
        return found;
    }
    return std::nullopt;
}

namespace {

// After `git merge` failed, says what happened and leaves the base as it was, whatever stopped
// git: conflicts or a hook (git's own merge state, ours: none was there before), or git itself
// killed or failing after it committed the merge, or after it staged it (then undone, exactly
// as an interrupted finish's is).
[[noreturn]] void merge_failed(const git::Repository& repo, const BaseCheckout& base, const model::ModelContext& context,
                               const std::string& base_before, const proc::RunResult& merged) {
    const std::string output = trim_end(merged.err.empty() ? merged.out : merged.err, "\n");
    const std::string said = output.empty() ? std::string() : ":\n" + output;
    const std::string failed = fmt::format("`git merge --no-ff {}` into {} failed ({})", context.branch,
                                           context.base, merged.describe());
    const std::string next = merged.signal != 0
                                 ? "git was killed (by a hook, the kernel's OOM killer, a user); finish again once "
                                   "that is dealt with"
                                 : "git says why above; once that is dealt with, finish again";
    const auto head = head_of(repo, base);
    if (head && *head != base_before) {
        forget_record(base);
        forget_concluded_merge_state(repo, base);
        throw Error(fmt::format("{} after it made the merge {}, before finish recorded it{}", failed,
                                short_id(*head), said),
                    "finish --merge again to record it");
    }
    std::error_code ec;
    if (fs::exists(base.git_dir / "MERGE_HEAD", ec)) {
        const auto unmerged = run_git(repo, {"ls-files", "-u"}, {}, base.worktree);
        const bool conflicts = unmerged.ok() && !unmerged.out.empty();
        forget_record(base);
        const auto aborted = run_git(repo, {"merge", "--abort"}, {}, base.worktree);
        if (!aborted.ok()) {
            // A hook that changed a merged file (a formatter) and failed, or the abort itself stopped.
            throw Error(fmt::format("{}{}\nand undoing it (`git merge --abort`) failed ({}): {}; the merge is still "
                                    "under way in {}",
                                    failed, said, aborted.describe(), trim_end(aborted.err, "\n"),
                                    base.worktree.string()),
                        fmt::format("see `git -C {} status`: keep what you need of the files changed there, then "
                                    "drop the merge (`git merge --abort`; `git reset --merge` when files are in its "
                                    "way) or conclude it (`git commit`), and finish again",
                                    hint_word(base.worktree.string())));
        }
        throw Error(fmt::format("{}; nothing was merged{}", failed, said),
                    conflicts ? fmt::format("merge {} into the model first and resolve the conflicts there, then "
                                            "finish again",
                                            context.base)
                              : next);
    }
    refuse_stale_index_lock(base, context.base);  // git killed while it wrote the files: the record stays
    if (repo.open_worktree(base.worktree).has_tracked_changes()) {
        undo_interrupted_merge(repo, base, context, true);  // throws, keeping the record, when it cannot
        throw Error(fmt::format("{} after it staged the merge; that was undone, nothing was merged{}", failed, said),
                    next);
    }
    forget_record(base);
    throw Error(fmt::format("{}; nothing was merged{}", failed, said), next);
}

// Under the merge lock, with the base's worktree judged: the merge itself. Returns its commit.
std::string merge_into_base(const git::Repository& repo, const BaseCheckout& base, const model::ModelContext& context) {
    if (repo.open_worktree(base.worktree).has_tracked_changes()) {
        throw Error(fmt::format("the worktree of {} ({}) has uncommitted changes", context.base, base.worktree.string()),
                    "commit or stash them there first");
    }
    const auto base_before = head_of(repo, base);
    if (!base_before) throw Error(fmt::format("cannot read the commit of {} in {}", context.base, base.worktree.string()));
    const auto merged_preview = merged_tree(repo, *base_before, *context.head, base.worktree);
    if (!merged_preview) {
        throw Error(fmt::format("cannot tell what merging {} into {} would write (`git merge-tree` failed); nothing "
                                "was changed",
                                context.branch, context.base));
    }
    refuse_files_in_the_way(repo, base, *base_before, merged_preview->tree, fmt::format("merging {}", context.branch));
    write_file_atomically(base.record(),
                          fmt::format("model {}\nbase {}\ntip {}\n", context.name, *base_before, *context.head));
    proc::RunOptions merging;
    // No limit, in the terminal's group: updating the base's worktree may download large LFS
    // files and ask for a password; Ctrl-C stops it.
    merging.timeout = std::nullopt;
    merging.terminal = true;
    // --commit --no-squash: a branch.<base>.mergeOptions of --no-commit or --squash would make
    // git end well without the merge commit.
    const auto merged = run_git(repo,
                                {"merge", "--no-ff", "--commit", "--no-squash", "--no-edit", "-m",
                                 merge_message(context), *context.head},
                                merging, base.worktree);
    if (!merged.ok()) merge_failed(repo, base, context, *base_before, merged);
    forget_record(base);
    const auto commit = head_of(repo, base);
    if (!commit || *commit == *base_before || second_parent_of_head(repo, base) != *context.head) {
        throw Error(fmt::format("git's merge of {} into {} ended well, but {} is not a merge of {}", context.branch,
                                context.base, context.base, short_id(*context.head)),
                    fmt::format("see `git -C {} log -1`", hint_word(base.worktree.string())));
    }
    return *commit;
}

}  // namespace

std::string merge_locally(const git::Repository& repo, const model::ModelContext& context,
                          const model::Settings& settings, std::vector<std::string>& recovered) {
    if (!settings.allow_local_merge.value()) {
        throw Error("local merges are not allowed here (model.finish.merge is deny)",
                    "finish without --merge to push and open a review; a repository without a review server "
                    "can allow them: git config model.finish.merge allow");
    }
    if (!repo.branch_exists(context.base)) {
        throw Error(fmt::format("the base '{}' is not a local branch, so there is nothing to merge into", context.base),
                    "create it, or finish without --merge");
    }
    const BaseCheckout base = base_checkout(repo, context);
    // Two finishes merging at once would meet in the base's worktree, and the loser's
    // `merge --abort` would undo the winner's merge: they take turns.
    model::RepositoryLock lock(repo, "merge", fmt::format("git model finish --merge {}", context.name));
    refuse_stale_index_lock(base, context.base);
    forget_concluded_merge_state(repo, base);
    refuse_operation_in_progress(base, context.base);
    const auto undone = undo_interrupted_merge(repo, base, context);
    if (undone) recovered.push_back(*undone);
    try {
        return merge_into_base(repo, base, context);
    } catch (const Error& e) {
        if (!undone) throw;
        throw Error(fmt::format("{}\n{}", *undone, e.what()), e.hint(), e.code());  // what was done is said
    }
}

void forget_finished_merge(const git::Repository& repo, const model::ModelContext& context) {
    const auto target = model::worktree_of(repo, context.base);
    if (!target || target->missing) return;
    const BaseCheckout base{target->path, repo.open_worktree(target->path).git_dir()};
    model::RepositoryLock lock(repo, "merge", fmt::format("git model finish --merge {}", context.name));
    forget_concluded_merge_state(repo, base);
    if (const auto record = read_record(base); record && record->model == context.name) forget_record(base);
}

}  // namespace gm::finish
