#include "gitmodel/sweep/tidy.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/git/reachability.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/model/worktree_removal.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/prune/prune_plan.hpp"
#include "gitmodel/snapshots/metrics.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/sweep/create.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/local.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/promote.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/shelf.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {


// <sweep dir>/tidy.json: the archive chosen by the first tidy, so that a rerun (after a kill,
// once the archived run's branch is gone) archives the same commit under the same tag.
fs::path tidy_record(const Sweep& sweep) { return sweep_dir(sweep.common_dir, sweep.id) / "tidy.json"; }

// The run `sweep promote` recorded ({"run": <n>} in promoted.json), if any.
std::optional<int> promoted_run(const Sweep& sweep) {
    const auto record = nlohmann::json::parse(read_text(sweep_dir(sweep.common_dir, sweep.id) / promoted_record_name),
                                               nullptr, false);
    if (record.is_object() && record.contains("run") && record["run"].is_number_integer()) return record["run"].get<int>();
    return std::nullopt;
}

// Where an existing tag points ("-" for a non-commit), for choose_archive_tag.
std::optional<std::string> tag_target(const git::Repository& repo, const std::string& name) {
    const auto found = git::find_tag(repo, name);
    if (!found) return std::nullopt;
    return found->target.empty() ? std::string("-") : found->target;
}

const RunSpec* find_run(const Sweep& sweep, int number) {
    for (const auto& run : sweep.runs)
        if (run.number == number) return &run;
    return nullptr;
}

// Chooses the archived run and its tag: the record of an earlier tidy, else the promoted run,
// else the report's best.
void choose_archive(const git::Repository& repo, const SweepView& view, const TidyRequest& request,
                    const model::Settings& settings, TidyPlan& plan) {
    const auto recorded = nlohmann::json::parse(read_text(tidy_record(plan.sweep)), nullptr, false);
    const auto promoted = promoted_run(plan.sweep);
    // A run promoted after an earlier clean chose another is archived now (its branch still here);
    // the earlier archive tag stays.
    const bool promoted_since = promoted && find_run(plan.sweep, *promoted) && recorded.is_object() &&
                                recorded.value("run", 0) != *promoted &&
                                repo.branch_exists(find_run(plan.sweep, *promoted)->branch);
    if (!promoted_since && recorded.is_object() && recorded.contains("run") && recorded.contains("tag") &&
        recorded.contains("commit")) {
        plan.archived_run = recorded["run"].get<int>();
        plan.archived_why = recorded.value("why", std::string("chosen by an earlier clean"));
        plan.archive_tag = recorded["tag"].get<std::string>();
        plan.archive_commit = recorded["commit"].get<std::string>();
        const auto target = tag_target(repo, plan.archive_tag);
        plan.archive_tag_exists = target && *target == plan.archive_commit;
        return;
    }
    if (promoted && find_run(plan.sweep, *promoted)) {
        plan.archived_run = promoted;
        plan.archived_why = "promoted";
    } else {
        const auto report = build_report(view, request.metric, request.minimize, request.maximize);
        if (report.metric.empty() || report.results.empty() ||
            !snapshots::find_metric(report.results.front().metrics, report.metric))
            return;
        plan.archived_run = report.results.front().run.spec.number;
        plan.archived_why = fmt::format("best by {}, {} first", report.metric, report.minimize ? "lowest" : "highest");
    }
    const RunSpec& run = *find_run(plan.sweep, *plan.archived_run);
    const auto head = repo.resolve_commit("refs/heads/" + run.branch);
    plan.archive_commit = head ? *head : run.commit;
    // A name another clone's clean already pushed for another commit is taken there too (as for
    // prune): its push would be refused, and the record below would keep that name for good.
    const std::string wanted = model::archive_tag_name(settings.archive_form.value(), run.model, run.branch);
    std::map<std::string, git::RemoteRef> there;
    if (request.push && plan.remote_exists) {
        try {
            there = git::list_remote_refs(repo, plan.remote, {"refs/tags/" + wanted + "*"}, git::RemoteSide::push);
        } catch (const Error&) {  // unreachable: the push says so later
        }
    }
    const auto [tag, exists] = prune::choose_archive_tag(wanted, plan.archive_commit, [&](const std::string& candidate) {
        if (auto here = tag_target(repo, candidate)) return here;
        if (const auto found = there.find("refs/tags/" + candidate); found != there.end())
            return std::optional<std::string>(found->second.commit());
        return std::optional<std::string>();
    });
    plan.archive_tag = tag;
    const auto here = exists ? tag_target(repo, tag) : std::nullopt;
    plan.archive_tag_exists = here && *here == plan.archive_commit;
}

// The tracked files missing from a worktree when that is all that differs from its commit (a
// removal killed part way leaves that; their content is the commit's, so nothing is lost);
// none when anything else changed or git cannot tell.
model::DeletedFiles deleted_files_only(const fs::path& worktree) {
    try {
        auto deleted = model::deleted_tracked_files(worktree);
        if (!deleted.others) return deleted;
    } catch (const Error&) {
    }
    return {};
}

// The branch the main worktree has checked out, if any (deleting it would leave that checkout on
// an unborn branch).
std::optional<std::string> main_worktree_branch(const git::Repository& repo) {
    try {
        const auto main = git::Repository::open(repo.common_dir());
        if (main.workdir()) return main.current_branch();
    } catch (const Error&) {
    }
    return std::nullopt;
}

// Weighs a run's carried files before its worktree goes: a carried path that is (or lies below)
// a symbolic link keeps the run (nothing is followed; --force overrides, the link goes with the
// worktree and what it points at stays), and so does a shelf already holding other bytes for a
// path. Returns the carried files that are shelved (and so keep nothing).
std::vector<std::string> judge_carried(const Sweep& sweep, const RunSpec& spec,
                                       const std::function<void(std::string, bool)>& keep) {
    std::vector<std::string> shelving;
    for (const auto& rel : sweep.carry) {
        if (carry_path_problem(rel)) continue;
        const auto look = look_at_carried(spec.worktree, rel);
        if (look.kind == CarriedKind::link)
            keep(fmt::format("its carried path {} is or lies below the symbolic link {}, which is never followed, so it "
                             "cannot be shelved",
                             rel, look.at.string()),
                 true);
        if (look.kind == CarriedKind::folder)
            keep(fmt::format("its carried path {} is a folder, and --carry carries files only, so it stays in the worktree "
                             "(move what you need out of {}, or name its files with --carry in the next sweep)",
                             rel, look.at.string()),
                 true);
        if (look.kind != CarriedKind::file) continue;
        if (auto conflict = shelf_conflict(sweep, spec, rel)) keep(*conflict, false);
        else shelving.push_back(rel);
    }
    return shelving;
}

// What of a worktree's untracked files keeps its run, in words: all but metrics.json (saved beside
// the record) and the carried files about to be shelved; empty when nothing does.
std::string untracked_keeping(const git::Repository& repo, const fs::path& worktree, const git::CheckoutDifference& untracked,
                              const std::vector<std::string>& shelving) {
    if (untracked.none()) return {};
    if (shelving.empty()) {  // the first few in git's words (an untracked folder once)
        git::CheckoutDifference others = untracked;
        const std::string shelved = std::string(metrics_file_name) + " ";
        const auto it = std::find_if(others.found.begin(), others.found.end(),
                                     [&](const std::string& f) { return f.rfind(shelved, 0) == 0; });
        if (it != others.found.end()) {
            others.found.erase(it);
            --others.count;
        }
        return others.count > 0 ? others.describe() : std::string();
    }
    // Every file git does not track, ignored ones too (no exclude option), one by one.
    const auto listed = run_git(repo, {"ls-files", "--others", "-z"}, {}, worktree);
    if (!listed.ok()) return untracked.describe();
    std::vector<std::string> rest;
    for (const std::string& path : split_records(listed.out, '\0')) {
        if (path.empty() || path == metrics_file_name) continue;
        if (std::find(shelving.begin(), shelving.end(), path) == shelving.end()) rest.push_back(path);
    }
    std::string out;
    for (std::size_t i = 0; i < rest.size() && i < 5; ++i) out += (i ? ", " : "") + rest[i];
    if (rest.size() > 5) out += fmt::format(" and {} more", rest.size() - 5);
    return out;
}

// Why a run's registered worktree must stay, as both cleans judge it (keep's second argument:
// whether --force overrides it): a lock, tracked changes (but for deleted files when
// `deletions_restored`, as clean --branches restores them first), files git does not track other
// than metrics.json and the carried files, a carried link. Returns the carried files to shelve.
std::vector<std::string> judge_worktree(const git::Repository& repo, const Sweep& sweep, const git::WorktreeInfo& worktree,
                                        const RunSpec& spec, bool deletions_restored,
                                        const std::function<void(std::string, bool)>& keep) {
    if (worktree.locked) keep("its worktree is locked" + (worktree.lock_reason.empty() ? "" : ": " + worktree.lock_reason), true);
    if (worktree.folder_missing) return {};
    if (auto elsewhere = run_head_elsewhere(worktree, spec))  // not even --force: those commits are nowhere else
        keep(fmt::format("its worktree {}: {}", spec.worktree.string(), *elsewhere), false);
    std::vector<std::string> shelving;
    try {
        const auto opened = repo.open_worktree(worktree.path);
        if (opened.has_tracked_changes() && (!deletions_restored || deleted_files_only(spec.worktree).paths.empty()))
            keep(fmt::format("its worktree {} has uncommitted changes", spec.worktree.string()), true);
        const auto untracked = git::untracked_and_ignored(opened);
        // metrics.json and the carried files are shelved beside the sweep's record first.
        if (run_worktree_ours(sweep, spec)) shelving = judge_carried(sweep, spec, keep);
        const std::string described = untracked_keeping(repo, spec.worktree, untracked, shelving);
        if (!described.empty())
            keep(fmt::format("its worktree {} holds files git does not track: {}", spec.worktree.string(), described), true);
    } catch (const Error& e) {
        keep(fmt::format("its worktree {} cannot be read: {}", spec.worktree.string(), e.what()), true);
    }
    return shelving;
}

// Why a run's worktree or branch must stay (what force overrides goes to `forced` instead).
void judge_run(const git::Repository& repo, const TidyPlan& plan, const std::vector<git::WorktreeInfo>& worktrees,
               const std::vector<std::string>& leaving, bool force, RunTidy& run) {
    auto keep = [&](std::string why, bool forcible) {
        if (force && forcible) run.forced.push_back(std::move(why));
        else run.keep.push_back(std::move(why));
    };
    const auto head = repo.resolve_commit("refs/heads/" + run.spec.branch);
    run.head = head.value_or("");
    if (const auto main = main_worktree_branch(repo); main && *main == run.spec.branch)
        keep(fmt::format("its branch is checked out in the main worktree {}", repo.main_worktree_or_common_dir().string()),
             false);
    std::error_code ec;
    if (const fs::path cwd = fs::current_path(ec); !ec && is_below(fs::weakly_canonical(cwd, ec), fs::weakly_canonical(run.spec.worktree, ec)))
        keep(fmt::format("this command runs inside its worktree {} (run it from elsewhere)", run.spec.worktree.string()),
             false);
    for (const auto& worktree : worktrees) {
        if (!same_folder(worktree.path, run.spec.worktree)) continue;
        run.worktree_registered = true;
        run.carried = judge_worktree(repo, plan.sweep, worktree, run.spec, true, keep);
    }
    if (run.head.empty() || run.head == run.spec.commit) return;
    std::vector<std::string> kept{run.spec.commit};
    if (!plan.archive_commit.empty()) kept.push_back(plan.archive_commit);
    if (git::held_only_by(repo, run.head, leaving, kept))
        keep(fmt::format("its branch {} has commits that nothing else holds (not the archive tag, the model's branch, "
                         "its upstream or another ref): {}",
                         run.spec.branch, short_id(run.head)),
             true);
}

std::string archive_message(const TidyPlan& plan, const RunSpec& run) {
    return fmt::format("Archive of run {} of sweep {} of {} ({}, {}), removed by git model sweep clean --branches\n\n"
                       "Model-Archive: 1\nModel: {}\nBranch: {}\nSweep: {}\nRun: {}\nParameters: {}\n",
                       run.number, plan.sweep.id, plan.sweep.model, describe(run.params), plan.archived_why, run.model,
                       run.branch, plan.sweep.id, run.number, describe(run.params));
}

}  // namespace

WorktreeShelving shelve_before_worktree_removal(const git::Repository& repo, const Sweep& sweep, const RunSpec& run) {
    WorktreeShelving result;
    if (sweep.carry.empty() || !fs::exists(run.worktree)) return result;
    for (const auto& worktree : repo.linked_worktrees()) {
        if (!same_folder(worktree.path, run.worktree)) continue;
        std::vector<std::string> reasons;
        const auto shelving =
            judge_worktree(repo, sweep, worktree, run, false, [&](std::string why, bool) { reasons.push_back(std::move(why)); });
        if (!reasons.empty()) result.kept = join(reasons, "; ");
        else if (!shelving.empty()) result.moved = shelve_carried(sweep, run);
        break;
    }
    return result;
}

void shelve_metrics(const Sweep& sweep, const RunSpec& run) {
    const fs::path metrics = run.worktree / metrics_file_name;
    if (!fs::exists(metrics) || !run_worktree_ours(sweep, run)) return;
    save_metrics_copy(sweep, run);
    // A carried metrics.json (--carry metrics.json) stays for shelve_carried, which moves it to the shelf.
    if (std::find(sweep.carry.begin(), sweep.carry.end(), metrics_file_name) != sweep.carry.end()) return;
    if (read_text(metrics) == read_text(saved_metrics(sweep, run.number))) fs::remove(metrics);
}

namespace {

// Archives (recorded first, so a rerun archives the same) and pushes where a remote exists.
void archive(git::Repository& repo, TidyPlan& plan, const TidyRequest& request,
             const std::function<void(const std::string&)>& say) {
    if (!plan.archived_run) return;
    const RunSpec& run = *find_run(plan.sweep, *plan.archived_run);
    nlohmann::json record{{"run", *plan.archived_run}, {"why", plan.archived_why}, {"tag", plan.archive_tag},
                          {"commit", plan.archive_commit}};
    write_file_atomically(tidy_record(plan.sweep), record.dump(2) + "\n");
    prune::archive_with_tag(repo, plan.archive_tag, plan.archive_commit, plan.archive_tag_exists, archive_message(plan, run));
    say(fmt::format("sweep {}: archived run {} ({}) at {} as {}", plan.sweep.id, run.number, plan.archived_why,
                    short_id(plan.archive_commit), plan.archive_tag));
    if (!request.push || !plan.remote_exists) return;
    git::PushRequest push;
    push.remote = plan.remote;
    push.refspecs = {fmt::format("refs/tags/{0}:refs/tags/{0}", plan.archive_tag)};
    const auto pushed = git::push_refs(repo, push);
    const auto* line = pushed.find("refs/tags/" + plan.archive_tag);
    if (pushed.run.ok() && line && (line->sent() || line->up_to_date())) {
        plan.pushed = true;
        say(fmt::format("sweep {}: pushed {} to {}", plan.sweep.id, plan.archive_tag, plan.remote));
    } else {
        plan.push_error = pushed.why("refs/tags/" + plan.archive_tag);
        say(fmt::format("sweep {}: {} did not take {}: {}", plan.sweep.id, plan.remote, plan.archive_tag, plan.push_error));
    }
}

// Removes one run's worktree and branch (only at the commit judged).
void remove_run_branch(git::Repository& repo, const Sweep& sweep, RunTidy& run, bool force,
                       const std::function<void(const std::string&)>& say) {
    const fs::path main_dir = repo.main_worktree_or_common_dir();
    if (run.worktree_registered) {
        if (fs::exists(run.spec.worktree)) shelve_metrics(sweep, run.spec);
        if (fs::exists(run.spec.worktree) && run_worktree_ours(sweep, run.spec)) {
            const auto moved = shelve_carried(sweep, run.spec);  // throws: the run is kept, nothing removed
            if (!moved.empty())
                say(fmt::format("sweep {}: run {}: shelved {} in {}", sweep.id, run.spec.number, describe_carried(moved),
                                carried_shelf(sweep, run.spec.number).string()));
        }
        if (force) {
            model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep clean ({})", run.spec.model));
            if (fs::exists(run.spec.worktree)) {
                run_git(repo, {"worktree", "unlock", run.spec.worktree.string()}, {}, main_dir);
                run_git_checked(repo, {"worktree", "remove", "--force", "--force", run.spec.worktree.string()},
                                fmt::format("cannot remove the worktree {}", run.spec.worktree.string()), {}, main_dir);
            }
        } else if (fs::exists(run.spec.worktree)) {
            model::put_back_deleted_files(run.spec.worktree, deleted_files_only(run.spec.worktree));
            const std::string why = remove_finished_run_worktree(repo, run.spec);
            if (!why.empty()) throw Error(fmt::format("kept its worktree {}: {}", run.spec.worktree.string(), why));
        }
        model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep clean ({})", run.spec.model));
        repo.forget_missing_worktree(run.spec.worktree, force);  // the run's own record, and no other
        say(fmt::format("sweep {}: run {}: removed the worktree {}", sweep.id, run.spec.number, run.spec.worktree.string()));
    }
    if (run.head.empty()) return;
    model::RepositoryLock lock(repo, model::worktrees_lock, fmt::format("git model sweep clean ({})", run.spec.model));
    for (const auto& worktree : repo.linked_worktrees())
        if (worktree.branch == run.spec.branch)
            throw Error(fmt::format("{} is checked out in {}; the branch was kept", run.spec.branch, worktree.path.string()));
    if (const auto main = main_worktree_branch(repo); main && *main == run.spec.branch)
        throw Error(fmt::format("{} is checked out in the main worktree {}; the branch was kept", run.spec.branch,
                                main_dir.string()));
    if (!git::delete_branch_ref_if_at(repo, run.spec.branch, run.head))
        throw Error(fmt::format("the branch {} moved meanwhile; it was kept", run.spec.branch));
    run_git(repo, {"config", "--local", "--remove-section", "branch." + run.spec.branch}, {}, main_dir);
    say(fmt::format("sweep {}: run {}: deleted the branch {}", sweep.id, run.spec.number, run.spec.branch));
}

}  // namespace

std::size_t TidyPlan::kept() const {
    std::size_t n = 0;
    for (const auto& run : runs)
        if (!run.keep.empty() || !run.error.empty()) ++n;
    return n;
}

TidyPlan plan_tidy(const git::Repository& repo, const Sweep& sweep, const TidyRequest& request) {
    TidyPlan plan;
    plan.sweep = sweep;
    plan.push = request.push;
    const auto settings = model::read_settings(repo);
    plan.remote = settings.remote;
    plan.remote_exists = git::remote_exists(repo, settings.remote);
    const auto view = view_sweep(sweep);
    std::vector<int> active;
    for (const auto& run : view.runs)
        if (run.state == RunState::queued || run.state == RunState::running) active.push_back(run.spec.number);
    if (sweep.backend == Backend::local && scheduler_running(sweep))
        plan.refusal = fmt::format("sweep {} is running (its scheduler is alive)", sweep.id);
    else if (!active.empty())
        plan.refusal = fmt::format("sweep {} is still running: {} queued or running", sweep.id,
                                   active.size() == 1 ? "1 run is" : fmt::format("{} runs are", active.size()));
    if (!plan.refusal.empty()) return plan;
    choose_archive(repo, view, request, settings, plan);
    std::vector<std::string> leaving;
    for (const auto& run : sweep.runs) leaving.push_back("refs/heads/" + run.branch);
    const auto worktrees = repo.linked_worktrees();
    for (const auto& spec : sweep.runs) {
        RunTidy run;
        run.spec = spec;
        judge_run(repo, plan, worktrees, leaving, request.force, run);
        plan.runs.push_back(std::move(run));
    }
    return plan;
}

TidyPlan tidy_sweep(git::Repository& repo, const Sweep& sweep, const TidyRequest& request,
                    const std::function<void(const std::string&)>& say) {
    if (request.dry_run) return plan_tidy(repo, sweep, request);
    // A resume or extend of this sweep waits until the runs are gone (then finds them gone), and
    // runs an extend added before this turn are tidied too: the record is read again.
    auto scheduling = lock_scheduling(sweep.common_dir, sweep.id);
    TidyPlan plan = plan_tidy(repo, load(sweep.common_dir, sweep.id), request);
    if (!plan.refusal.empty()) return plan;
    archive(repo, plan, request, say);
    for (auto& run : plan.runs) {
        if (!run.keep.empty()) {
            run.carried = shelved_carried(sweep, run.spec.number);  // none were moved now
            continue;
        }
        if (run.head.empty() && !run.worktree_registered) continue;  // gone already (an earlier, interrupted clean)
        for (const auto& why : run.forced)
            say(fmt::format("sweep {}: run {}: --force: {}", sweep.id, run.spec.number, why));
        try {
            remove_run_branch(repo, sweep, run, request.force, say);
            run.done = true;
            run.carried = shelved_carried(sweep, run.spec.number);
        } catch (const Error& e) {
            run.error = e.what();
            run.carried = shelved_carried(sweep, run.spec.number);
            say(fmt::format("sweep {}: run {}: FAILED: {}", sweep.id, run.spec.number, e.what()));
        }
    }
    return plan;
}

std::string render_tidy(const TidyPlan& plan, bool dry_run) {
    const Sweep& sweep = plan.sweep;
    std::string out;
    if (!plan.refusal.empty())
        return fmt::format("Sweep {} of {}: kept: {} (wait for it, or `git model sweep cancel {}`)\n", sweep.id,
                           sweep.model, plan.refusal, sweep.id);
    if (plan.archived_run) {
        std::string where = !plan.push ? std::string()
                            : plan.remote_exists ? (dry_run ? fmt::format(" and push it to {}", plan.remote)
                                                          : plan.pushed ? fmt::format(", pushed to {}", plan.remote)
                                                                        : fmt::format(", NOT pushed to {}: {}", plan.remote,
                                                                                      plan.push_error))
                                               : fmt::format(" (no remote '{}': the tag stays here only)", plan.remote);
        out += fmt::format("Sweep {} of {}: {} run {} ({}) at {} as {}{}\n", sweep.id, sweep.model,
                           dry_run ? "would archive" : "archived", *plan.archived_run, plan.archived_why,
                           short_id(plan.archive_commit), plan.archive_tag, where);
    } else {
        out += fmt::format("Sweep {} of {}: no run was promoted or recorded metrics: nothing to archive\n", sweep.id, sweep.model);
    }
    std::size_t removed = 0;
    for (const auto& run : plan.runs) {
        if (!run.keep.empty()) {
            out += fmt::format("  run {}: kept {}: {}\n", run.spec.number, run.spec.branch, join(run.keep, "; "));
        } else if (!run.error.empty()) {
            out += fmt::format("  run {}: kept {}: {}\n", run.spec.number, run.spec.branch, run.error);
        } else if (run.head.empty() && !run.worktree_registered) {
            continue;
        } else if (dry_run) {
            out += fmt::format("  run {}: would delete {}{}\n", run.spec.number, run.spec.branch,
                               run.worktree_registered ? " and its worktree " + run.spec.worktree.string() : "");
            if (!run.carried.empty())
                out += fmt::format("  run {}: would shelve its carried {} in {}\n", run.spec.number, describe_carried(run.carried),
                                   carried_shelf(sweep, run.spec.number).string());
            ++removed;
        } else if (run.done) {
            ++removed;
        }
        if (!dry_run && !run.carried.empty())
            out += fmt::format("  run {}: its carried {} {} in {}\n", run.spec.number, describe_carried(run.carried),
                               run.carried.size() == 1 ? "is" : "are", carried_shelf(sweep, run.spec.number).string());
        for (const auto& why : run.forced)
            out += fmt::format("  run {}: --force {}: {}\n", run.spec.number, dry_run ? "would override" : "overrode", why);
    }
    if (!dry_run)
        out += fmt::format("Sweep {}: {} run branch{} removed, {} kept\n", sweep.id, removed, removed == 1 ? "" : "es",
                           plan.kept());
    return out;
}

nlohmann::json tidy_json(const TidyPlan& plan) {
    nlohmann::json document{{"id", plan.sweep.id}, {"model", plan.sweep.model}};
    document["refused"] = plan.refusal.empty() ? nlohmann::json(nullptr) : nlohmann::json(plan.refusal);
    if (plan.archived_run)
        document["archive"] = {{"run", *plan.archived_run}, {"why", plan.archived_why}, {"tag", plan.archive_tag},
                               {"commit", plan.archive_commit}, {"pushed", plan.pushed}};
    else
        document["archive"] = nullptr;
    document["runs"] = nlohmann::json::array();
    for (const auto& run : plan.runs) {
        nlohmann::json row{{"run", run.spec.number}, {"model", run.spec.model}, {"branch", run.spec.branch}};
        row["removed"] = run.done;
        std::vector<std::string> kept = run.keep;
        if (!run.error.empty()) kept.push_back(run.error);
        row["kept"] = kept;
        row["forced"] = run.forced;
        row["carried"] = run.carried;
        row["carried_shelf"] = run.carried.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(carried_shelf(plan.sweep, run.spec.number).string());
        document["runs"].push_back(row);
    }
    return document;
}

Error missing_sweep_error(const git::Repository& repo, const std::string& id) {
    std::size_t runs = 0;
    if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos)
        for (const auto& branch : repo.branches_matching(std::string(naming::model_branch_prefix) + "*")) {
            const auto model = naming::model_from_branch(branch.name);
            if (model && model->find(".sweep-" + id + "-") != std::string::npos) ++runs;
        }
    if (runs > 0)
        return Error(fmt::format("there is no record of sweep '{}' in this repository, though {} branch{} of its runs "
                                 "{} here",
                                 id, runs, runs == 1 ? "" : "es", runs == 1 ? "is" : "are"),
                     "a sweep's record lives in the clone that started it (its .git/git-model/sweeps): clean it "
                     "there; here, delete the branches with `git branch -D` once you know they are not needed");
    return Error(fmt::format("there is no sweep '{}' in this repository", id),
                 "`git model sweep status` lists the sweeps; a sweep started in another clone is cleaned there");
}

Sweep load_for_tidy(const git::Repository& repo, const std::string& id) {
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos ||
        !fs::exists(sweep_dir(repo.common_dir(), id) / "sweep.json"))
        throw missing_sweep_error(repo, id);
    return load(repo.common_dir(), id);
}

std::set<std::string> recorded_run_models(const git::Repository& repo) {
    std::set<std::string> models;
    for (const auto& sweep : load_readable(repo.common_dir()))
        for (const auto& run : sweep.runs) models.insert(run.model);
    return models;
}

SweepPruneResult prune_with_sweeps(git::Repository& repo, const prune::PruneRequest& request,
                                   const std::function<void(const std::string&)>& say,
                                   const prune::PruneProgress& step) {
    SweepPruneResult result;
    prune::PruneRequest asked = request;
    const auto run_models = recorded_run_models(repo);
    asked.left_to_caller.insert(run_models.begin(), run_models.end());
    result.prune = prune::run_prune(repo, asked, say, step);
    result.failed = result.prune.failed;
    std::map<std::string, bool> pruned;  // model -> pruned now (or would be, in a dry run)
    for (std::size_t i = 0; i < result.prune.plan.size(); ++i) {
        const auto& decision = result.prune.plan[i];
        const auto& outcome = result.prune.outcomes[i];
        pruned[decision.facts.model] = decision.prune && (request.dry_run || (outcome && outcome->done));
    }
    TidyRequest tidy;
    tidy.force = request.force;
    tidy.dry_run = request.dry_run;
    const auto settings = model::read_settings(repo);
    tidy.push = request.remote.value_or(settings.prune_remote.value());
    for (const auto& sweep : load_readable(repo.common_dir())) {
        const auto it = pruned.find(sweep.model);
        const bool model_gone = it == pruned.end() && !repo.branch_exists(sweep.model_branch);
        if (!model_gone && (it == pruned.end() || !it->second)) continue;
        bool anything = false;  // a sweep tidied already has nothing left to report
        for (const auto& run : sweep.runs)
            if (repo.branch_exists(run.branch) || fs::exists(run.worktree)) anything = true;
        if (!anything) continue;
        auto plan = tidy_sweep(repo, sweep, tidy, say);
        // As for models, a run prune keeps is no failure; one it set out to remove and could not is.
        for (const auto& run : plan.runs) result.failed += run.error.empty() ? 0 : 1;
        result.sweeps.push_back(std::move(plan));
    }
    return result;
}

}  // namespace gm::sweep
