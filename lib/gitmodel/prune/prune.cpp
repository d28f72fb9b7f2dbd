#include "gitmodel/prune/prune.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/reachability.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/git/worktree_state.hpp"
#include "gitmodel/snapshots/environment.hpp"
#include "gitmodel/finish/finish_record.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/prune/merge_judge.hpp"
#include "gitmodel/prune/prune_remote.hpp"
#include "gitmodel/model/journal.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/model/worktree_removal.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace gm::prune {

namespace fs = std::filesystem;

namespace {

// Whether path is the folder or inside it (both made absolute and normal first).
bool is_within(const fs::path& path, const fs::path& folder) {
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(path, ec);
    const fs::path f = fs::weakly_canonical(folder, ec);
    const auto relative = p.lexically_relative(f);
    return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

std::string archive_message(const PruneFacts& fact) {
    std::string merged = "no";
    if (fact.merged_by == MergedBy::merge_commit)
        merged = fmt::format("merge-commit {} {}", fact.merge_commit, *fact.merged_at);
    else if (fact.merged_by == MergedBy::finish_record)
        merged = fmt::format("finish-record {}", *fact.merged_at);
    else if (fact.merged_by == MergedBy::squash || fact.merged_by == MergedBy::rebase)
        merged = fmt::format("{} {} {}", merged_by_word(fact.merged_by), fact.merge_commit, *fact.merged_at);
    return fmt::format("Archive of model {} ({}), removed by git model prune\n\n"
                       "Model-Archive: 1\nModel: {}\nBranch: {}\nBase: {}\nMerged: {}\n",
                       fact.model, fact.branch, fact.model, fact.branch, fact.base, merged);
}

namespace {

std::string ref_archive_message(const PruneFacts& fact, const WorktreeRefArchive& ref) {
    return fmt::format("Archive of {} of model {}'s worktree {}, removed by git model prune\n\n"
                       "Model-Archive: 1\nModel: {}\nBranch: {}\nRef: {}\n",
                       ref.ref, fact.model, fact.worktree ? fact.worktree->string() : "", fact.model, fact.branch,
                       ref.ref);
}

// Where an existing tag points ("-" for a non-commit), for choose_archive_tag.
std::optional<std::string> tag_target(const git::Repository& repo, const std::string& name) {
    const auto found = git::find_tag(repo, name);
    if (!found) return std::nullopt;
    return found->target.empty() ? std::string("-") : found->target;
}

// Whether other users may write this repository: its common dir is another's, or its mode or
// ACL lets others or a group that is not its owner's private one write (what git's
// core.sharedRepository makes of it, whatever that says).
bool shared_with_others(const git::Repository& repo) {
    std::error_code ec;
    return !model::others_may_write(fs::canonical(repo.common_dir(), ec)).empty();
}

// Reads what the retention rule needs about model branches. The facts that
// change while other commands run (worktrees, journal, config) are re-read by
// refresh(); the base's first-parent lines are kept per tip.
class FactReader {
public:
    FactReader(const git::Repository& repo, const model::Settings& settings)
        : repo_(repo), settings_(settings),
          judge_(repo, {std::string(model::finish_notes_ref), model::remote_notes_ref(settings.remote)}) {
        remote_configured_ = git::remote_exists(repo, settings.remote);
        shared_ = shared_with_others(repo);
        std::error_code ec;
        cwd_ = fs::current_path(ec);
        if (ec) cwd_.clear();
        refresh();
    }

    void refresh() {
        recorded_bases_ = repo_.config().get_matching("branch.", ".modelbase");
        by_branch_.clear();
        for (auto& worktree : repo_.linked_worktrees())
            if (worktree.branch) by_branch_.emplace(*worktree.branch, worktree);
        main_branch_.reset();
        try {
            const auto main = git::Repository::open(repo_.common_dir());
            if (main.workdir()) main_branch_ = main.current_branch();
            if (main.workdir() && !main_branch_)  // a rebase or bisect there holds its branch
                if (auto operation = git::operation_holding_branch(repo_.common_dir())) main_branch_ = operation->branch;
        } catch (const Error&) {
        }
        tracking_.clear();
        if (remote_configured_) tracking_ = git::remote_tracking_refs(repo_, settings_.remote);
        const auto pending = model::models_with_pending_starts(repo_);
        pending_ = std::set<std::string>(pending.begin(), pending.end());
    }

    PruneFacts read(const git::BranchInfo& branch, const std::string& model) {
        PruneFacts fact;
        fact.model = model;
        fact.branch = branch.name;
        fact.head = branch.target;
        fact.last_commit_time = branch.commit_time;
        fact.remote = settings_.remote;
        const auto recorded = recorded_bases_.find(fmt::format("branch.{}.modelbase", branch.name));
        fact.base = recorded != recorded_bases_.end() && !recorded->second.empty() ? recorded->second
                                                                                    : settings_.base_branch;
        if (pending_.count(model))
            fact.pending_start = "a `git model start` of it has not finished (running, or interrupted: the next "
                                 "`git model start` rolls that back or says what it kept)";
        judge_.judge(fact, base_tips(fact.base));
        if (fact.in_base && fact.merged_by == MergedBy::none) {
            const auto created = git::branch_created_at(repo_, fact.branch);
            fact.no_own_commits = created && *created == fact.head;
        }
        read_worktree(fact);
        read_owner(fact);
        read_pushed(fact);
        const auto [tag, exists] = choose_archive_tag(
            model::archive_tag_name(settings_.archive_form.value(), fact.model, fact.branch), fact.head,
            [&](const std::string& candidate) { return tag_target(repo_, candidate); });
        fact.archive_tag = tag;
        fact.archive_tag_exists = exists;
        read_worktree_refs(fact);
        try {
            fact.environment = snapshots::planned_environment_removal(repo_, fact.model);
        } catch (const Error& e) {
            fact.foreign_container = e.what();  // made by hand with the environment's name: not prune's to remove
        }
        return fact;
    }

private:
    // Where the base is: the local one and the remote's (a merge request lands there first).
    std::vector<std::string> base_tips(const std::string& base) const {
        std::vector<std::string> tips;
        if (auto local = model::resolve_base(repo_, base)) tips.push_back(*local);
        if (remote_configured_)
            if (auto remote = repo_.resolve_commit(fmt::format("refs/remotes/{}/{}", settings_.remote, base)))
                tips.push_back(*remote);
        return tips;
    }

    void read_worktree(PruneFacts& fact) {
        std::optional<std::string> record_id;
        if (auto it = by_branch_.find(fact.branch); it != by_branch_.end()) {
            fact.worktree = it->second.path;
            record_id = it->second.id;
            fact.worktree_missing = it->second.folder_missing;
            if (fact.worktree_missing)
                fact.missing_worktree_staged =
                    git::staged_in_worktree_record(repo_, it->second.id, fact.head).value_or("");
            fact.worktree_locked = it->second.locked;
            if (const auto& operation = it->second.operation) {
                fact.worktree_operation = operation->what;
                fact.worktree_operation_ending = operation->ending;
            }
        } else if (main_branch_ == fact.branch) {
            fact.worktree = settings_.main_worktree;
            fact.worktree_main = true;
        }
        if (!fact.worktree || fact.worktree_missing || fact.worktree_main) return;
        fact.worktree_current = !cwd_.empty() && is_within(cwd_, *fact.worktree);
        fact.worktree_foreign = model::foreign_worktree_problem(repo_.common_dir(), *fact.worktree, record_id);
        if (fact.worktree_foreign) return;  // nothing of another repository's folder is read
        try {
            const auto opened = repo_.open_worktree(*fact.worktree);
            fact.dirty = opened.has_uncommitted_changes();
            const auto untracked = git::untracked_and_ignored(opened);
            fact.untracked_count = untracked.count;
            fact.untracked = untracked.describe();
            fact.filtered = model::files_filters_keep_out(*fact.worktree);
            fact.hidden = model::files_git_hides(*fact.worktree);
            fact.submodules = model::checked_out_submodules(*fact.worktree);
        } catch (const Error&) {
            fact.dirty = std::nullopt;
        }
    }

    // Whether the model may be another user's (root may prune any): its worktree's folder says
    // whose it is; in a repository others share, a model without a folder here cannot tell.
    void read_owner(PruneFacts& fact) const {
        if (::geteuid() == 0 || fact.worktree_main) return;
        if (fact.worktree && !fact.worktree_missing) {
            struct stat st {};
            if (::lstat(fact.worktree->c_str(), &st) == 0 && st.st_uid != ::geteuid())
                fact.not_yours = fmt::format("it is {}'s (they made its worktree): only they, or root, prune it",
                                             user_name_of(st.st_uid));
            return;
        }
        if (!shared_) return;
        fact.not_yours = fact.worktree
                             ? "its worktree's folder is gone (moved, or on a disk not mounted), and in a repository "
                               "other users share prune cannot tell whose it is: its maker prunes it, or root"
                             : "it has no worktree, and in a repository other users share prune cannot tell whose it "
                               "is: its maker deletes it (git branch -D), or root prunes it";
    }

    void read_pushed(PruneFacts& fact) {
        if (!remote_configured_) return;
        // Squashed or rebased, the branch's commits need not be on the remote: its changes must.
        const std::string& carried =
            fact.merged_by == MergedBy::squash || fact.merged_by == MergedBy::rebase ? fact.merge_commit : fact.head;
        bool pushed = false;
        for (const auto& [ref, commit] : tracking_) {
            if (repo_.is_ancestor(carried, commit)) {
                pushed = true;
                break;
            }
        }
        fact.unpushed = !pushed;
    }

    void read_worktree_refs(PruneFacts& fact) {
        const auto it = by_branch_.find(fact.branch);
        if (it == by_branch_.end()) return;
        const auto refs = git::worktree_private_refs(repo_, it->second.id);
        std::vector<std::string> leaving{"refs/heads/" + fact.branch};
        for (const auto& ref : refs) leaving.push_back(ref.name);
        for (const auto& ref : refs) {
            if (!git::held_only_by(repo_, ref.target, leaving, {fact.head})) continue;
            WorktreeRefArchive archive;
            archive.ref = ref.name;
            archive.target = ref.target;
            std::string slug = ref.name.substr(5);  // without "refs/"
            std::replace(slug.begin(), slug.end(), '/', '-');
            const auto [tag, exists] = choose_archive_tag(
                fmt::format("{}@{}", fact.archive_tag, slug), ref.target,
                [&](const std::string& candidate) { return tag_target(repo_, candidate); });
            archive.tag = tag;
            archive.tag_exists = exists;
            fact.worktree_refs.push_back(std::move(archive));
        }
    }

    const git::Repository& repo_;
    const model::Settings& settings_;
    bool remote_configured_ = false;
    bool shared_ = false;  // other users may write this repository
    fs::path cwd_;
    std::map<std::string, std::string> recorded_bases_;
    std::map<std::string, git::WorktreeInfo> by_branch_;
    std::optional<std::string> main_branch_;
    std::vector<std::pair<std::string, std::string>> tracking_;
    std::set<std::string> pending_;
    MergeJudge judge_;
};

}  // namespace

void archive_with_tag(const git::Repository& repo, const std::string& tag, const std::string& target, bool exists,
                      const std::string& message) {
    if (exists) return;
    // Tagged as the archived commit's committer: a teammate's prune of the same commit makes the
    // very same tag, so that neither clone's fetch of the other's ever says "would clobber".
    if (create_annotated_tag(repo, tag, target, message, git::Tagger::commit_committer)) return;
    const auto existing = git::find_tag(repo, tag);
    if (!existing || existing->target != target)
        throw Error(fmt::format("tag {} appeared meanwhile at another commit", tag));
}

namespace {

// `git config --remove-section branch.<b>`, waiting while another writer holds .git/config.lock.
void remove_branch_config(const git::Repository& repo, const std::string& branch, const fs::path& main_dir) {
    proc::RunOptions options;
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    auto pause = std::chrono::milliseconds(1);
    const auto deadline = std::chrono::steady_clock::now() + git::Config::write_lock_timeout;
    for (;;) {
        const auto result = run_git(repo, {"config", "--local", "--remove-section", "branch." + branch}, options, main_dir);
        if (result.ok() || result.err.find("could not lock config file") == std::string::npos) return;  // absent is fine
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error(fmt::format("cannot remove the configuration of {}: .git/config stays locked", branch));
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

// The archive tags prunes made here that no remote has been seen to hold: "<tag object> <tag>"
// lines, under the "archives" lock. Only these are pushed unasked by a later prune --remote: a
// teammate's archive, fetched here and deleted on the remote on purpose, is not this clone's to share.
fs::path unshared_archives_file(const git::Repository& repo) {
    return repo.common_dir() / "git-model" / "archives-unshared";
}

// The listed archives whose tag is still that object here, by tag name.
std::map<std::string, std::string> read_unshared_archives(const git::Repository& repo) {
    std::map<std::string, std::string> listed;
    std::ifstream in(unshared_archives_file(repo));
    std::string object, tag;
    while (in >> object >> tag)
        if (git::ref_object(repo, "refs/tags/" + tag) == std::optional<std::string>(object)) listed[tag] = object;
    return listed;
}

}  // namespace

void update_unshared_archives(const git::Repository& repo, const std::vector<std::string>& add,
                              const std::vector<std::string>& drop) {
    if (add.empty() && drop.empty()) return;
    model::RepositoryLock lock(repo, "archives", "git model prune (its list of unshared archives)");
    auto listed = read_unshared_archives(repo);
    for (const auto& tag : add)
        if (const auto object = git::ref_object(repo, "refs/tags/" + tag)) listed[tag] = *object;
    for (const auto& tag : drop) listed.erase(tag);
    std::string text;
    for (const auto& [tag, object] : listed) text += object + " " + tag + "\n";
    std::error_code ec;
    fs::create_directories(unshared_archives_file(repo).parent_path(), ec);
    write_file_atomically(unshared_archives_file(repo), text, FileMode{0666, true, true});  // git's shared umask applies
}

namespace {

// The archives earlier prunes made here and never shared, besides those already listed.
LocalArchives archives_left_here(const git::Repository& repo, const LocalArchives& listed) {
    std::set<std::string> known;
    for (const auto& archive : listed) known.insert(archive.tag);
    LocalArchives left;
    for (const auto& [tag, object] : read_unshared_archives(repo)) {
        const auto found = git::find_tag(repo, tag);
        if (!known.count(tag) && found && !found->target.empty()) left.push_back({tag, found->target});
    }
    return left;
}

// Carries out one decision's steps: archive tags, worktree, environment, branch, config.
void execute(const git::Repository& repo, const PruneFacts& fact, bool force, const fs::path& main_dir,
             const std::function<void(const std::string&)>& say) {
    archive_with_tag(repo, fact.archive_tag, fact.head, fact.archive_tag_exists, archive_message(fact));
    update_unshared_archives(repo, {fact.archive_tag}, {});
    say(fmt::format("{}: archived {} as {}", fact.model, short_id(fact.head), fact.archive_tag));
    for (const auto& ref : fact.worktree_refs) {
        archive_with_tag(repo, ref.tag, ref.target, ref.tag_exists, ref_archive_message(fact, ref));
        update_unshared_archives(repo, {ref.tag}, {});
        say(fmt::format("{}: archived {} ({} of its worktree) as {}", fact.model, short_id(ref.target), ref.ref, ref.tag));
    }
    // The environment first: it runs on the worktree, and one that cannot go (or is not the
    // model's to remove) keeps the worktree and the branch too.
    for (const auto& line : snapshots::remove_environment(repo, fact.model)) say(fmt::format("{}: {}", fact.model, line));
    if (fact.worktree && !fact.worktree_missing && force) {
        // --force: what git does not track goes too, as the user asked.
        std::vector<std::string> args{"worktree", "remove"};
        if (fact.dirty.value_or(true) || fact.worktree_locked || fact.untracked_count > 0) args.push_back("--force");
        if (fact.worktree_locked) args.push_back("--force");
        args.push_back(fact.worktree->string());
        run_git_checked(repo, args, fmt::format("cannot remove the worktree {}", fact.worktree->string()), {}, main_dir);
        say(fmt::format("{}: removed the worktree {}", fact.model, fact.worktree->string()));
    } else if (fact.worktree && !fact.worktree_missing) {
        // File by file: only what the commit holds, unchanged, is deleted. A checkpoint written
        // since the plan looked, or an edit hidden behind skip-worktree, keeps the worktree.
        const auto removal = model::remove_worktree_carefully(repo, *fact.worktree);
        if (!removal.removed)
            throw Error(fmt::format("the worktree {} was kept, and with it the branch: it holds files that are not "
                                    "the commit's (written or changed since prune looked, kept out of git by a clean filter, or hidden from git status "
                                    "by skip-worktree or assume-unchanged): {}",
                                    fact.worktree->string(), removal.describe()),
                        fmt::format("look at them, move what you keep, then prune again (or --force deletes them)"));
        say(fmt::format("{}: removed the worktree {}", fact.model, fact.worktree->string()));
        if (!removal.record_kept.empty()) say(fmt::format("{}: git's record of it stayed: {}", fact.model, removal.record_kept));
    }
    if (fact.worktree && fact.worktree_missing) {
        // Its folder is gone: git forgets this worktree (a locked one only with --force, which
        // the plan asked for), and no other.
        if (repo.forget_missing_worktree(*fact.worktree, force))
            say(fmt::format("{}: forgot the worktree {}", fact.model, fact.worktree->string()));
    }
    for (const auto& worktree : repo.linked_worktrees()) {
        if (worktree.branch == fact.branch)
            throw Error(fmt::format("{} is still checked out in {}; the branch was kept", fact.branch,
                                    worktree.path.string()));
    }
    if (!git::delete_branch_ref_if_at(repo, fact.branch, fact.head))
        throw Error(fmt::format("the branch {} moved meanwhile; it was kept", fact.branch));
    // Its configuration (modelBase, upstream) goes with it, as with `git branch -d`; absent is fine.
    remove_branch_config(repo, fact.branch, main_dir);
    say(fmt::format("{}: deleted the branch {}", fact.model, fact.branch));
}

}  // namespace

std::vector<PruneFacts> gather_prune_facts(const git::Repository& repo, const model::Settings& settings,
                                           const std::set<std::string>& skip) {
    FactReader reader(repo, settings);
    std::vector<PruneFacts> facts;
    for (const auto& branch : repo.branches_matching(std::string(naming::model_branch_prefix) + "*")) {
        const auto name = naming::model_from_branch(branch.name);
        if (!name || skip.count(*name)) continue;
        facts.push_back(reader.read(branch, *name));
    }
    return facts;
}

namespace {

// The local part: archive, remove worktree and environment, delete the branch, one model at a time.
void prune_locally(const git::Repository& repo, const model::Settings& settings, const PruneRequest& request,
                   PruneResult& result, const std::function<void(const std::string&)>& say, const PruneProgress& step) {
    const fs::path main_dir = settings.main_worktree;
    FactReader reader(repo, settings);
    const auto total = static_cast<std::size_t>(std::count_if(result.plan.begin(), result.plan.end(),
                                                              [](const PruneDecision& d) { return d.prune; }));
    std::size_t done = 0;
    for (std::size_t i = 0; i < result.plan.size(); ++i) {
        if (!result.plan[i].prune) continue;
        if (step) step(++done, total, result.plan[i].facts.model);
        PruneOutcome outcome;
        try {
            // Other commands may have changed this model since the plan: judge it again, in our turn.
            model::RepositoryLock lock(repo, model::worktrees_lock, "git model prune");
            reader.refresh();
            const std::string branch = result.plan[i].facts.branch;
            const auto found = repo.branches_matching(branch);
            if (found.empty() || found.front().name != branch)
                throw Error(fmt::format("the branch {} vanished meanwhile", branch));
            result.plan[i] = plan_prune({reader.read(found.front(), result.plan[i].facts.model)}, result.options).front();
            if (!result.plan[i].prune) continue;  // kept now, for the reasons the new plan gives
            execute(repo, result.plan[i].facts, request.force, main_dir, say);
            outcome.done = true;
        } catch (const Error& e) {
            outcome.error = e.what();
            ++result.failed;
            say(fmt::format("{}: FAILED: {}", result.plan[i].facts.model, e.what()));
        }
        result.outcomes[i] = outcome;
    }
}

}  // namespace

PruneResult run_prune(const git::Repository& repo, const PruneRequest& request,
                      const std::function<void(const std::string&)>& say, const PruneProgress& step) {
    const model::Settings settings = model::read_settings(repo);
    const bool remote = request.remote.value_or(settings.prune_remote.value());
    if (remote && !git::remote_exists(repo, settings.remote)) {
        throw Error(fmt::format("there is no remote '{}' to prune{}", settings.remote,
                                request.remote ? "" : " (model.prune.remote is true)"),
                    fmt::format("add it (git remote add {} <url>), name yours (git config model.remote <name>), "
                                "or prune only here: git model prune --no-remote",
                                settings.remote));
    }
    PruneResult result;
    result.options.now = git_now(repo);
    result.options.retention_seconds = request.retention_seconds.value_or(settings.retention_seconds.value());
    result.options.force = request.force;
    if (!request.dry_run) {
        // A removal an earlier prune (or sweep clean) was killed in the middle of is put back
        // first, and then judged like any other worktree.
        model::RepositoryLock lock(repo, model::worktrees_lock, "git model prune");
        result.restored = model::restore_interrupted_removals(repo);
        for (const auto& line : result.restored) say(line);
    }
    result.plan = plan_prune(gather_prune_facts(repo, settings, request.left_to_caller), result.options);
    result.outcomes.resize(result.plan.size());
    if (!request.dry_run) prune_locally(repo, settings, request, result, say, step);
    if (!remote) return result;

    LocalArchives archives;
    for (std::size_t i = 0; i < result.plan.size(); ++i)
        if (result.outcomes[i] && result.outcomes[i]->done)
            archives.push_back({result.plan[i].facts.archive_tag, result.plan[i].facts.head});
    for (auto& left : archives_left_here(repo, archives)) archives.push_back(std::move(left));
    result.remote = prune_remote(repo, settings, result.options, request.dry_run, archives, say);
    if (!request.dry_run) update_unshared_archives(repo, {}, result.remote->archives_shared);
    result.failed += result.remote->failed;
    return result;
}

}  // namespace gm::prune
