#include "gitmodel/finish/finish.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/finish/finish_record.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/model/model_context.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/repository_lock.hpp"

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>

namespace gm::finish {

namespace {

void refuse_dirty(const git::Repository& repo, const model::ModelContext& context) {
    if (!context.checkout || context.checkout->missing) return;
    bool dirty = false;
    try {
        dirty = repo.open_worktree(context.checkout->path).has_uncommitted_changes();
    } catch (const Error& e) {
        throw Error(fmt::format("cannot read the state of {}: {}", context.checkout->path.string(), e.what()));
    }
    if (dirty) {
        throw Error(fmt::format("model '{}' has uncommitted changes in {}", context.name,
                                context.checkout->path.string()),
                    "commit them (or stash, or remove untracked files) and finish again");
    }
}

namespace fs = std::filesystem;

// A local merge under way. git stages a clean merge in the base's worktree before its
// pre-merge-commit hook runs and writes MERGE_HEAD only when it stops on its own, so a finish
// killed in that hook (or while git commits) leaves the base with the merge staged and nothing
// that says so: the next finish would see "uncommitted changes", and committing them would make a
// plain commit that leaves the model looking unmerged. This record says what was being merged.
struct MergeUnderWay {
    std::string model;
    std::string base_commit;  // the base's commit before the merge
    std::string model_tip;    // the model's commit being merged
};

fs::path merge_record_path(const git::Repository& repo) {
    return repo.common_dir() / "git-model" / "finish-merge";
}

std::optional<MergeUnderWay> read_merge_record(const git::Repository& repo) {
    std::ifstream in(merge_record_path(repo));
    if (!in) return std::nullopt;
    MergeUnderWay record;
    std::string key;
    std::string value;
    while (in >> key >> value) {
        if (key == "model") record.model = value;
        if (key == "base") record.base_commit = value;
        if (key == "tip") record.model_tip = value;
    }
    // Both go to git as arguments: object names and nothing else.
    const auto object_name = [](const std::string& text) {
        return (text.size() == 40 || text.size() == 64) &&
               text.find_first_not_of("0123456789abcdef") == std::string::npos;
    };
    if (record.model.empty() || !object_name(record.base_commit) || !object_name(record.model_tip))
        return std::nullopt;
    record.model = printable(record.model, 100);
    return record;
}

void forget_merge_record(const git::Repository& repo) {
    std::error_code ignored;
    fs::remove(merge_record_path(repo), ignored);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The paths a NUL-separated git listing names that are also in `among`.
std::vector<std::string> paths_among(const std::string& listing, const std::set<std::string>& among) {
    std::vector<std::string> found;
    for (auto& path : split_records(listing, '\0'))
        if (among.count(path)) found.push_back(std::move(path));
    return found;
}

// Under the merge lock, before the base's worktree is judged: an earlier finish --merge that was
// killed after git staged its merge is undone, path by path: the files that merge changed go back
// to the base's commit in the index and the worktree (`git restore`), but only while the base is
// still at that commit and every one of those files is, staged and on disk, exactly the merge's
// result (so its content is in the two commits and nothing is lost). What else the user changed
// there stays as it is; a merged file changed since stops it, named. Returns what was done.
std::optional<std::string> undo_interrupted_merge(const git::Repository& repo, const fs::path& base_worktree,
                                                  const std::string& base) {
    const auto record = read_merge_record(repo);
    if (!record) {
        forget_merge_record(repo);  // none, or not one this version wrote
        return std::nullopt;
    }
    const auto head = run_git(repo, {"rev-parse", "--verify", "-q", "HEAD"}, {}, base_worktree);
    const bool base_unmoved = head.ok() && first_line(head.out) == record->base_commit;
    const auto worktree = repo.open_worktree(base_worktree);
    if (!base_unmoved || !worktree.has_tracked_changes() || fs::exists(worktree.git_dir() / "MERGE_HEAD")) {
        forget_merge_record(repo);  // committed, moved on, or git's own merge state says what it is
        return std::nullopt;
    }
    const std::string was = fmt::format("an earlier `git model finish --merge {}` was stopped after git staged the "
                                        "merge in {} and before it committed it",
                                        record->model, base_worktree.string());
    const auto merged = run_git(repo, {"merge-tree", "--write-tree", record->base_commit, record->model_tip});
    if (!merged.ok()) {
        forget_merge_record(repo);  // it had conflicts: git stopped on its own and was aborted
        return std::nullopt;
    }
    const std::string merged_tree = first_line(merged.out);
    const auto changed = run_git_checked(
        repo, {"diff-tree", "-r", "-z", "--name-only", "--no-renames", record->base_commit, merged_tree},
        "listing the files of the interrupted merge");
    const auto merge_paths = split_records(changed.out, '\0');
    const std::set<std::string> merge_set(merge_paths.begin(), merge_paths.end());
    const auto staged = run_git_checked(repo, {"diff-index", "--cached", "-z", "--name-only", "--no-renames",
                                               merged_tree},
                                        "reading what is staged", {}, base_worktree);
    const auto on_disk = run_git_checked(repo, {"diff", "-z", "--name-only", "--no-renames", "--no-ext-diff"},
                                         "reading what changed on disk", {}, base_worktree);
    auto touched = paths_among(staged.out, merge_set);
    for (auto& path : paths_among(on_disk.out, merge_set))
        if (std::find(touched.begin(), touched.end(), path) == touched.end()) touched.push_back(std::move(path));
    if (!touched.empty()) {
        if (touched.size() > 5) {
            touched.resize(5);
            touched.push_back("...");
        }
        throw Error(fmt::format("{}, and files of that merge were changed since: {}", was, join(touched, ", ")),
                    fmt::format("keep what you need of them, put them back with `git -C {} restore --source=HEAD "
                                "--staged --worktree -- <file>...` and finish again",
                                base_worktree.string()));
    }
    // git's own two-tree switch from the merge's tree back to the base's commit, as a checkout
    // does it: it checks every path before it writes one, keeps what else is staged, and refuses
    // to overwrite a file git does not track (one the user made since at a path the merge had
    // deleted, an ignored one too) or a changed one.
    proc::RunOptions switching;
    switching.timeout = std::nullopt;  // as the merge: the checkout may download large LFS files
    switching.terminal = true;
    const auto back = run_git(repo, {"read-tree", "-m", "-u", merged_tree, record->base_commit}, switching,
                              base_worktree);
    if (!back.ok()) {
        throw Error(fmt::format("{}; putting back the files that merge changed failed, and nothing was changed ({}):\n{}",
                                was, back.describe(), trim_end(back.err, "\n")),
                    "move away (or commit) the files git names, then finish again");
    }
    forget_merge_record(repo);
    return fmt::format("{}; its {} staged file{} went back to {}'s commit, and the merge is made again.", was,
                       merge_paths.size(), merge_paths.size() == 1 ? "" : "s", base);
}

// git writes MERGE_HEAD before it commits a merge and removes it after its post-merge hook: killed
// in that hook, the merge is made and MERGE_HEAD stays, so every later merge there stops with
// "You have not concluded your merge". Such a state is removed (git's own files of it), but only
// while the worktree's HEAD is that very merge: a merge whose second parent is MERGE_HEAD.
void forget_concluded_merge_state(const git::Repository& repo, const fs::path& base_worktree) {
    const fs::path git_dir = repo.open_worktree(base_worktree).git_dir();
    std::ifstream in(git_dir / "MERGE_HEAD");
    std::string merging;
    std::string more;
    if (!(in >> merging) || (in >> more)) return;  // none, or an octopus: not ours to judge
    const auto second_parent = run_git(repo, {"rev-parse", "--verify", "-q", "HEAD^2"}, {}, base_worktree);
    if (!second_parent.ok() || first_line(second_parent.out) != merging) return;
    std::error_code ignored;
    for (const char* name : {"MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"}) fs::remove(git_dir / name, ignored);
}

// When git was killed while it wrote the base's worktree (an LFS download, a smudge filter),
// its index.lock stays and every later git command there fails: said here, with what to do,
// instead of a merge that fails for a reason it cannot name.
void refuse_stale_index_lock(const git::Repository& repo, const fs::path& base_worktree, const std::string& base) {
    const fs::path lock = repo.open_worktree(base_worktree).git_dir() / "index.lock";
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(lock, ec))) return;
    const auto record = read_merge_record(repo);
    throw Error(fmt::format("{} exists: a git command is writing the worktree of {} ({}), or one was killed "
                            "while it did{}",
                            lock.string(), base, base_worktree.string(),
                            record ? fmt::format(" (an earlier `git model finish --merge {}` was stopped while "
                                                 "git wrote its merge)",
                                                 record->model)
                                   : ""),
                fmt::format("when no git runs there, remove it (rm {}) and see what git had written with "
                            "`git -C {} status`",
                            lock.string(), base_worktree.string()));
}

std::string merge_message(const model::ModelContext& context) {
    return fmt::format("Merge model '{}' ({}) into {}", context.name, context.branch, context.base);
}

// The merge commit an earlier `finish --merge` made of exactly this head, when it was stopped
// after git committed and before the finish was recorded (killed in git's post-merge hook): a
// merge in the base, after the head, whose second parent is the head and whose message is ours.
std::optional<std::string> merge_made_before_stop(const git::Repository& repo, const model::ModelContext& context,
                                                  const std::string& head, const std::string& base_commit) {
    if (read_finish_record(repo, head)) return std::nullopt;  // recorded: finished, nothing to make up
    const auto merges = run_git(repo, {"log", "--merges", "--ancestry-path", "--format=%H %P%x09%s",
                                       head + ".." + base_commit});
    if (!merges.ok()) return std::nullopt;
    for (const auto& line : split_records(merges.out, '\n')) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos || line.substr(tab + 1) != merge_message(context)) continue;
        const auto ids = split_records(line.substr(0, tab) + ' ', ' ');
        if (ids.size() == 3 && ids[2] == head) return ids[0];
    }
    return std::nullopt;
}

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
    const auto target = model::worktree_of(repo, context.base);
    if (!target || target->missing) {
        throw Error(fmt::format("{} is not checked out in any worktree, so git cannot merge into it", context.base),
                    fmt::format("check it out (`git switch {}` in the main worktree) and finish again", context.base));
    }
    // Two finishes merging at once would meet in the base's worktree, and the loser's
    // `merge --abort` would undo the winner's merge: they take turns.
    model::RepositoryLock lock(repo, "merge", fmt::format("git model finish --merge {}", context.name));
    refuse_stale_index_lock(repo, target->path, context.base);
    forget_concluded_merge_state(repo, target->path);
    if (auto undone = undo_interrupted_merge(repo, target->path, context.base)) recovered.push_back(*undone);
    if (repo.open_worktree(target->path).has_tracked_changes()) {
        throw Error(fmt::format("the worktree of {} ({}) has uncommitted changes", context.base, target->path.string()),
                    "commit or stash them there first");
    }
    const std::string message = merge_message(context);
    proc::RunOptions merging;
    // No limit, in the terminal's group: updating the base's worktree may download large LFS
    // files and ask for a password; Ctrl-C stops it.
    merging.timeout = std::nullopt;
    merging.terminal = true;
    const auto base_before = run_git(repo, {"rev-parse", "--verify", "-q", "HEAD"}, {}, target->path);
    if (!base_before.ok()) {
        throw Error(fmt::format("cannot read the commit of {} in {} ({})", context.base, target->path.string(),
                                base_before.describe()));
    }
    write_file_atomically(merge_record_path(repo),
                          fmt::format("model {}\nbase {}\ntip {}\n", context.name, first_line(base_before.out),
                                      *context.head));
    const auto merged =
        run_git(repo, {"merge", "--no-ff", "--no-edit", "-m", message, *context.head}, merging, target->path);
    forget_merge_record(repo);  // git ended on its own: merged, or stopped with its own merge state
    if (!merged.ok()) {
        run_git(repo, {"merge", "--abort"}, {}, target->path);  // leave the base as it was
        const std::string said = trim_end(merged.err.empty() ? merged.out : merged.err, "\n");
        throw Error(fmt::format("`git merge --no-ff {}` into {} failed ({}); nothing was merged:\n{}", context.branch,
                                context.base, merged.describe(), said),
                    fmt::format("merge {} into the model first and resolve the conflicts there, then finish again",
                                context.base));
    }
    const auto commit = repo.branch_target(context.base);
    if (!commit) throw Error(fmt::format("{} vanished during the merge", context.base));
    return *commit;
}

// Pushes the branch (GitLab: with the merge-request options) and reads what happened: whether
// anything went out, what the server said, the upstream recorded. Throws when the push failed.
// Whether the remote has the branch at exactly this commit (then a push would send nothing).
bool remote_has(const git::Repository& repo, const std::string& remote, const std::string& branch,
                const std::string& head) {
    const std::string ref = "refs/heads/" + branch;
    std::map<std::string, git::RemoteRef> refs;
    try {
        refs = git::list_remote_refs(repo, remote, {ref}, git::RemoteSide::push);
    } catch (const Error& e) {
        throw Error(fmt::format("{}; the model is not finished", e.what()), e.hint());
    }
    const auto found = refs.find(ref);
    return found != refs.end() && found->second.object == head;
}

// Pushes the branch (GitLab: with the merge-request options) and reads what happened: whether
// anything went out, what the server said, the upstream recorded. Throws when the push failed.
void push_for_review(const git::Repository& repo, const model::Settings& settings, const model::ModelContext& context,
                     FinishResult& result) {
    // A push that would send nothing is not made: git would say "Everything up-to-date" and send
    // no push options (git 2.39 even dies of SIGPIPE writing them, now and then).
    result.branch_sent = !remote_has(repo, settings.remote, context.branch, result.head);
    if (result.branch_sent) {
        git::PushRequest push;
        push.remote = settings.remote;
        push.refspecs = {fmt::format("refs/heads/{0}:refs/heads/{0}", context.branch)};
        push.push_options = result.review.push_options;
        push.show_messages = true;  // the pre-push hook and the server's merge-request lines, as they come
        if (context.checkout && !context.checkout->missing) push.where = context.checkout->path;
        const auto pushed = git::push_refs(repo, push);
        const auto* line = pushed.find("refs/heads/" + context.branch);
        const bool done = pushed.run.ok() && line && (line->sent() || line->up_to_date());
        // Someone pushed this very commit meanwhile: nothing of ours went out.
        if (!done && remote_has(repo, settings.remote, context.branch, result.head)) {
            result.branch_sent = false;
        } else if (!done) {
            throw Error(fmt::format("`git push {} {}` {}; the model is not finished", settings.remote, context.branch,
                                    line ? pushed.why(line->to) : pushed.run.describe()),
                        result.review.push_options.empty()
                            ? "see git's messages above"
                            : "see git's messages above; a server that refuses push options is not GitLab: "
                              "git config model.forge github (or other)");
        } else {
            result.branch_sent = line->sent();
            result.server = git::parse_forge_reply(pushed.run.err, context.branch);
        }
    }
    result.review_requested = result.branch_sent && !result.review.push_options.empty();
    // The upstream is recorded here rather than by --set-upstream: git's own config write
    // does not wait for a lock another command holds, ours does.
    auto config = repo.config();
    config.set_local(fmt::format("branch.{}.remote", context.branch), settings.remote);
    config.set_local(fmt::format("branch.{}.merge", context.branch), "refs/heads/" + context.branch);
    if (!result.branch_sent) {
        if (auto earlier = read_finish_record(repo, result.head); earlier && earlier->remote == settings.remote)
            result.earlier = std::move(earlier);
    }
}

}  // namespace

ReviewPlan plan_review(const model::Settings& settings, const std::optional<std::string>& remote_url,
                       const std::string& branch, const std::string& base, const std::string& title) {
    ReviewPlan plan;
    plan.mode = "push";
    if (remote_url) plan.project_url = project_web_url(*remote_url, settings.forge_url);
    else if (settings.forge_url) plan.project_url = project_web_url("", settings.forge_url);
    if (const auto& forge = settings.forge.value()) {
        plan.forge = forge;
    } else if (plan.project_url) {
        const auto location = parse_remote_url(*plan.project_url);
        plan.forge = location ? guess_forge(location->host) : model::ForgeKind::other;
    }
    if (!plan.forge) return plan;
    if (plan.project_url) plan.review_url = review_url(*plan.forge, *plan.project_url, branch, base);
    if (*plan.forge == model::ForgeKind::gitlab) {
        plan.push_options = gitlab_push_options(base, title);
        plan.mode = "merge-request";
    } else if (plan.review_url) {
        plan.mode = "pull-request";
    }
    return plan;
}

std::string review_title(const git::Repository& repo, const std::string& model, const std::string& head) {
    std::string title = fmt::format("Model {}", model);
    const auto latest = snapshots::latest_snapshot(repo, model);
    if (!latest || latest->commit != head) return title;
    title += fmt::format(" v{}", latest->record.version);
    std::vector<std::string> metrics;
    for (const auto& metric : latest->record.metrics) metrics.push_back(metric.name + "=" + metric.text);
    if (!metrics.empty()) title += " (" + join(metrics, ", ") + ")";
    return title;
}

FinishResult finish_model(const git::Repository& repo, const FinishRequest& request) {
    const model::Settings settings = model::read_settings(repo);
    // finish's own keys are refused when malformed, whether this finish needs them or not, before anything happens.
    settings.allow_local_merge.value();
    settings.forge.value();
    const model::ModelContext context = model::require_model(repo, request.model);
    FinishResult result;
    result.model = context.name;
    result.branch = context.branch;
    result.base = context.base;
    result.head = *context.head;

    refuse_dirty(repo, context);
    const auto base_commit = repo.resolve_commit(context.base);
    if (!base_commit) {
        throw Error(fmt::format("the base '{}' of model '{}' does not exist", context.base, context.name),
                    fmt::format("fetch or create it, or record another: git config branch.{}.modelBase <branch>",
                                context.branch));
    }
    std::optional<std::string> merged_before;
    const bool nothing_of_its_own = repo.ahead_behind(result.head, *base_commit).ahead == 0;
    if (nothing_of_its_own) {
        merged_before = merge_made_before_stop(repo, context, result.head, *base_commit);
        if (merged_before && !request.merge) {
            throw Error(fmt::format("{} is merged into {} already ({}), by a `git model finish --merge` that was "
                                    "stopped before it recorded that",
                                    context.branch, context.base, merged_before->substr(0, 10)),
                        "record it with `git model finish --merge`");
        }
    }
    if (nothing_of_its_own && !merged_before) {
        throw Error(fmt::format("{} has no commits of its own (nothing beyond {})", context.branch, context.base),
                    "commit the model's work first; there is nothing to review");
    }

    if (request.merge) {
        result.mode = "merge";
        if (merged_before) {
            result.merge_commit = *merged_before;
            result.recovered.push_back(fmt::format(
                "{} was merged into {} ({}) by an earlier `git model finish --merge` that was stopped before it "
                "recorded that; recorded now.",
                context.branch, context.base, merged_before->substr(0, 10)));
            forget_merge_record(repo);
            if (const auto target = model::worktree_of(repo, context.base); target && !target->missing)
                forget_concluded_merge_state(repo, target->path);
        } else {
            result.merge_commit = merge_locally(repo, context, settings, result.recovered);
        }
    } else {
        if (!git::remote_exists(repo, settings.remote)) {
            throw Error(fmt::format("there is no remote '{}' to push {} to", settings.remote, context.branch),
                        "add one (git remote add origin <url>) or name yours: git config model.remote <name>");
        }
        result.remote = settings.remote;
        result.review = plan_review(settings, git::remote_url(repo, settings.remote), context.branch,
                                    context.base, review_title(repo, context.name, result.head));
        result.mode = result.review.mode;
        push_for_review(repo, settings, context, result);
    }

    if (result.earlier) {
        // Finished before at this very head: that record (and its date, which dates a
        // fast-forward merge for prune) stays as it is.
        result.finished_at = result.earlier->finished_at;
    } else {
        result.finished_at = git_now(repo);
        FinishRecord record;
        record.model = result.model;
        record.branch = result.branch;
        record.base = result.base;
        // A push that sent nothing requested no review: the record says only that it is on the remote.
        record.mode = request.merge || result.branch_sent ? result.mode : "push";
        record.remote = result.remote;
        record.finished_at = result.finished_at;
        if (result.server.review_url) record.review_url = *result.server.review_url;
        try {
            write_finish_record(repo, result.head, record);
        } catch (const Error& e) {
            throw Error(fmt::format("{} was {}, but the finish was not recorded: {}", context.branch,
                                    request.merge ? "merged" : "pushed", e.what()),
                        "prune dates fast-forwarded merges by this record; finish again to record it");
        }
    }
    if (!request.merge) result.shared = snapshots::share_model_state(repo, settings.remote, context.name);
    return result;
}

}  // namespace gm::finish
