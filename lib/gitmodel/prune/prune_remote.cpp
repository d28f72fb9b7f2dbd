#include "gitmodel/prune/prune_remote.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/prune/merge_judge.hpp"
#include "gitmodel/prune/prune.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <map>
#include <set>

namespace gm::prune {

namespace {

// Deletes every ref under a prefix (the scratch namespace), with git, in one transaction.
void delete_refs_under(const git::Repository& repo, const std::string& prefix) {
    const auto listed = run_git(repo, {"for-each-ref", "--format=delete %(refname)", prefix});
    if (!listed.ok() || listed.out.empty()) return;
    proc::RunOptions options;
    options.input = listed.out;
    run_git(repo, {"update-ref", "--stdin"}, options);
}

// The scratch namespace for the time of one run: emptied before and after.
class Scratch {
public:
    Scratch(const git::Repository& repo, std::string prefix) : repo_(repo), prefix_(std::move(prefix)) {
        delete_refs_under(repo_, prefix_);
    }
    ~Scratch() {
        try {
            delete_refs_under(repo_, prefix_);
        } catch (...) {
        }
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    const std::string& prefix() const { return prefix_; }

private:
    const git::Repository& repo_;
    std::string prefix_;
};

// Per remote branch, where its archive tag already is.
struct ArchiveState {
    bool local = false;   // a local tag of that name points at the head
    bool remote = false;  // the remote's tag of that name points at the head
    // Local tags at the head whose names the remote has at other commits (a teammate won the
    // name): once the archive is pushed under its own name, they go, since a fetch of the
    // remote's tags fails ("would clobber existing tag") while they are here.
    std::vector<std::string> clashing;
};

// The remote's state as judged: its refs, the fetched model branches and bases.
struct RemoteView {
    std::map<std::string, git::RemoteRef> refs;                        // ls-remote: name -> object
    std::vector<std::pair<std::string, std::string>> branches;    // fetched model branch -> commit
    std::map<std::string, std::string> bases;                     // fetched base -> commit
    std::string scratch;                                          // the scratch namespace it was fetched into
};

// Reads the remote: its refs, then fetches its model branches, the bases they need and its
// finish notes into the scratch namespace (the user's remote-tracking refs are left alone).
RemoteView read_remote(const git::Repository& repo, const model::Settings& settings, const std::string& scratch,
                       const std::set<std::string>& wanted_bases) {
    RemoteView view;
    view.scratch = scratch;
    view.refs = git::list_remote_refs(repo, settings.remote, {});
    const std::string prefix(naming::model_branch_prefix);
    std::vector<std::string> refspecs{fmt::format("+refs/heads/{0}*:{1}heads/{0}*", prefix, scratch)};
    for (const auto& base : wanted_bases)
        if (view.refs.count("refs/heads/" + base) && !starts_with(base, prefix))
            refspecs.push_back(fmt::format("+refs/heads/{0}:{1}heads/{0}", base, scratch));
    if (view.refs.count(std::string(model::finish_notes_ref)))
        refspecs.push_back(fmt::format("+{}:{}notes", model::finish_notes_ref, scratch));
    std::vector<std::string> args{"fetch", "--no-tags", "--quiet", "--refmap=", "--no-recurse-submodules", "--",
                                  settings.remote};
    args.insert(args.end(), refspecs.begin(), refspecs.end());
    proc::RunOptions options;
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    // The remote may ask for a password: no limit, in the terminal's group (Ctrl-C stops it).
    options.timeout = std::nullopt;
    options.terminal = true;
    const auto fetched = run_git(repo, args, options);
    if (!fetched.ok()) {
        throw Error(fmt::format("cannot fetch the model branches of {}: `git fetch` {}: {}", settings.remote,
                                fetched.describe(), git::git_said(fetched.err)),
                    fmt::format("check that the remote answers (git fetch {}), then prune again", settings.remote));
    }
    for (const auto& [ref, commit] : git::refs_matching(repo, scratch + "heads/" + prefix + "*"))
        view.branches.emplace_back(ref.substr(scratch.size() + 6), commit);
    for (const auto& base : wanted_bases)
        if (auto commit = repo.resolve_commit(scratch + "heads/" + base)) view.bases.emplace(base, *commit);
    return view;
}

// The steps prune takes on the remote for a decision to prune.
std::vector<PruneStep> remote_steps(const PruneFacts& fact, const ArchiveState& archive) {
    using Kind = PruneStep::Kind;
    std::vector<PruneStep> steps;
    if (archive.remote)
        steps.push_back({Kind::archive_tag, fmt::format("keep the archive tag {} (already on {} at {})",
                                                        fact.archive_tag, fact.remote, short_id(fact.head))});
    else if (archive.local)
        steps.push_back({Kind::archive_tag, fmt::format("push the archive tag {} (here already, at {}) to {}",
                                                        fact.archive_tag, short_id(fact.head), fact.remote)});
    else
        steps.push_back({Kind::archive_tag, fmt::format("tag {} as {} and push the tag to {}", short_id(fact.head),
                                                        fact.archive_tag, fact.remote)});
    for (const auto& name : archive.clashing)
        steps.push_back({Kind::archive_tag, fmt::format("remove this clone's tag {} (at {} too), since {} has {} at "
                                                        "another commit (fetching it would fail)",
                                                        name, short_id(fact.head), fact.remote, name)});
    steps.push_back({Kind::delete_branch, fmt::format("delete {} on {}, only while it is still at {}", fact.branch,
                                                      fact.remote, short_id(fact.head))});
    return steps;
}

// The remote's tag object for a tag the clone has too, at the same commit but as another object
// (a teammate's archive of the same model, tagged with another message or signature), or lacks:
// taken here in place of ours, which loses nothing (the same commit), so that fetching the
// remote's tags never fails with "would clobber existing tag". Returns whether it was taken.
bool adopt_remote_tag(const git::Repository& repo, const std::string& remote, const std::string& tag,
                      const git::RemoteRef& there, const std::string& scratch) {
    const auto here = git::ref_object(repo, "refs/tags/" + tag);
    if (here == std::optional<std::string>(there.object)) return false;
    proc::RunOptions options;
    options.timeout = std::nullopt;  // the remote may ask for a password
    options.terminal = true;
    // Into the scratch namespace first: only the very object listed (and judged) replaces ours, and
    // only while ours is still what it was; a tag moved there meanwhile is left alone.
    const std::string fetched_ref = scratch + "adopt";
    const auto fetched = run_git(
        repo, {"fetch", "--no-tags", "--quiet", "--", remote, fmt::format("+refs/tags/{}:{}", tag, fetched_ref)}, options);
    const bool same = fetched.ok() && git::ref_object(repo, fetched_ref) == std::optional<std::string>(there.object);
    // ours only while it is still what it was, or still absent (the zero id: must not exist)
    const bool taken =
        same && run_git(repo, {"update-ref", "refs/tags/" + tag, there.object, here.value_or(std::string(there.object.size(), '0'))})
                    .ok();
    run_git(repo, {"update-ref", "-d", fetched_ref});
    return taken;
}

// Pushes one tag; throws gm::Error with the remote's reason when it does not take it.
void push_tag(const git::Repository& repo, const std::string& remote, const std::string& tag) {
    git::PushRequest request;
    request.remote = remote;
    request.refspecs = {fmt::format("refs/tags/{0}:refs/tags/{0}", tag)};
    const auto pushed = git::push_refs(repo, request);
    const auto* line = pushed.find("refs/tags/" + tag);
    if (pushed.run.ok() && line && (line->sent() || line->up_to_date())) return;
    throw Error(fmt::format("{} did not take the archive tag {}: {}", remote, tag, pushed.why("refs/tags/" + tag)));
}

// Archives (tag made here if needed, pushed) and deletes one remote branch under a lease on the judged head.
void execute_remote(const git::Repository& repo, const PruneFacts& fact, const ArchiveState& archive,
                    const RemoteView& view, const std::function<void(const std::string&)>& say) {
    if (archive.remote && archive.local &&
        adopt_remote_tag(repo, fact.remote, fact.archive_tag, view.refs.at("refs/tags/" + fact.archive_tag), view.scratch))
        say(fmt::format("{}: took {}'s archive tag {} (the same commit) in place of this clone's", fact.model,
                        fact.remote, fact.archive_tag));
    if (!archive.remote) {
        if (!archive.local) archive_with_tag(repo, fact.archive_tag, fact.head, false, archive_message(fact));
        try {
            push_tag(repo, fact.remote, fact.archive_tag);
        } catch (const Error& e) {
            throw Error(fmt::format("{}; {} was kept there (it is deleted only once its archive is there)", e.what(),
                                    fact.branch));
        }
        say(fmt::format("{}: archived {} of {} as {}", fact.remote, short_id(fact.head), fact.branch, fact.archive_tag));
    }
    for (const auto& name : archive.clashing) {
        // Only while it is still the tag judged (at the head): one moved meanwhile stays.
        const auto here = git::find_tag(repo, name);
        const auto object = git::ref_object(repo, "refs/tags/" + name);
        if (!here || here->target != fact.head || !object) continue;
        if (git::delete_ref_if_at(repo, "refs/tags/" + name, *object))
            say(fmt::format("{}: removed this clone's tag {} (the commit {} holds now), whose name {} gave another commit",
                            fact.model, name, fact.archive_tag, fact.remote));
    }
    const std::string ref = "refs/heads/" + fact.branch;
    git::PushRequest request;
    request.remote = fact.remote;
    request.refspecs = {":" + ref};
    request.leases = {{ref, fact.head}};
    const auto pushed = git::push_refs(repo, request);
    const auto* line = pushed.find(ref);
    if (pushed.run.ok() && line && line->flag == '-') {
        say(fmt::format("{}: deleted {}", fact.remote, fact.branch));
        return;
    }
    if (line && line->reason == "stale info") {
        throw Error(fmt::format("{} moved on {} after it was judged (it is no longer at {}); it was kept, and "
                                "the archive tag {} stays; prune again to judge it as it is now",
                                fact.branch, fact.remote, short_id(fact.head), fact.archive_tag));
    }
    if (line && line->up_to_date()) {  // deleted meanwhile by someone else: nothing left to do
        say(fmt::format("{}: {} was deleted already", fact.remote, fact.branch));
        return;
    }
    throw Error(fmt::format("{} did not delete {}: {}; the archive tag {} stays", fact.remote, fact.branch,
                            pushed.why(ref), fact.archive_tag));
}

// Where a tag name is taken, here or there, for choose_archive_tag: the commit, "-" for a tag that
// names no commit or names different ones here and there.
std::optional<std::string> taken_here_or_there(const git::Repository& repo, const std::map<std::string, git::RemoteRef>& refs,
                                               const std::string& name) {
    const auto here = git::find_tag(repo, name);
    std::optional<std::string> here_target;
    if (here) here_target = here->target.empty() ? std::string("-") : here->target;
    const auto there = refs.find("refs/tags/" + name);
    if (there == refs.end()) return here_target;
    if (here_target && *here_target != there->second.commit()) return std::string("-");
    return there->second.commit();
}

// This clone's archive `tag` of `commit`, whose name the remote gives another commit (a teammate's
// archive of an earlier branch of the same model name), under the free name `renamed`: the
// remote's tag of that name when it has one at the commit (`there`), else one made here with the
// old one's message (listed as unshared). The old name goes here only then (its fetch of the
// remote's tag would fail); until it is gone it stays listed, so a kill or a lock on the way
// leaves it for the next prune to finish.
void rename_archive(const git::Repository& repo, const std::string& remote, const RemoteView& view,
                    const std::string& tag, const std::string& commit, const std::string& renamed) {
    const auto old = git::find_tag(repo, tag);
    const auto old_object = git::ref_object(repo, "refs/tags/" + tag);
    const auto here = git::find_tag(repo, renamed);
    if (const auto there = view.refs.find("refs/tags/" + renamed);
        there != view.refs.end() && there->second.commit() == commit) {
        adopt_remote_tag(repo, remote, renamed, there->second, view.scratch);
        if (git::ref_object(repo, "refs/tags/" + renamed) != std::optional<std::string>(there->second.object))
            throw Error(fmt::format("cannot take {}'s tag {} (this clone's archive of {} in place of {})", remote,
                                    renamed, short_id(commit), tag));
    } else if (!here) {
        archive_with_tag(repo, renamed, commit, false,
                         old && old->annotated ? old->message : fmt::format("Archive of {}, removed by git model prune\n", tag));
        update_unshared_archives(repo, {renamed}, {});
    } else if (here->target != commit) {
        throw Error(fmt::format("tag {} appeared meanwhile at another commit", renamed));
    } else {
        update_unshared_archives(repo, {renamed}, {});
    }
    if (old_object && !git::delete_ref_if_at(repo, "refs/tags/" + tag, *old_object) &&
        git::ref_object(repo, "refs/tags/" + tag))
        throw Error(fmt::format("this clone's tag {} moved meanwhile; it was kept", tag));
}

// Pushes the archive tags this run's local prunes made, and those earlier ones left here, unless
// the remote has them. One whose name the remote gives another commit is renamed first (@2, ...).
void push_local_archives(const git::Repository& repo, const std::string& remote, const LocalArchives& archives,
                         const RemoteView& view, bool dry_run, RemotePruneResult& result,
                         const std::function<void(const std::string&)>& say) {
    const auto& refs = view.refs;
    std::set<std::string> done;
    for (const auto& decision : result.plan)
        if (decision.prune) done.insert(decision.facts.archive_tag);
    for (const auto& [tag, commit] : archives) {
        if (done.count(tag)) {  // pushed with its remote branch, or as another's new name in this loop
            result.archives_shared.push_back(tag);
            continue;
        }
        const auto there = refs.find("refs/tags/" + tag);
        if (there != refs.end() && there->second.commit() == commit) {
            result.archives_shared.push_back(tag);
            if (!dry_run && adopt_remote_tag(repo, remote, tag, there->second, view.scratch))
                say(fmt::format("{}: took its archive tag {} (the same commit) in place of this clone's", remote, tag));
            continue;
        }
        std::string name = tag;
        try {
            if (there != refs.end()) {
                const std::string renamed = choose_archive_tag(tag, commit, [&](const std::string& candidate) {
                                                return taken_here_or_there(repo, refs, candidate);
                                            }).first;
                if (!dry_run) {
                    try {
                        rename_archive(repo, remote, view, tag, commit, renamed);
                    } catch (const Error& e) {  // said of the old name, which stays
                        throw Error(fmt::format("{} has a tag {} of another commit, and this clone's could not be "
                                                "renamed {}: {}",
                                                remote, tag, renamed, e.what()));
                    }
                    result.archives_shared.push_back(tag);  // the old name is gone here: off the list
                    say(fmt::format("{}: its tag {} is another commit's; this clone's archive of {} is {} now", remote,
                                    tag, short_id(commit), renamed));
                }
                name = renamed;
                result.archives_renamed.emplace_back(tag, name);
                if (const auto same = refs.find("refs/tags/" + name);
                    same != refs.end() && same->second.commit() == commit) {
                    result.archives_shared.push_back(name);
                    continue;
                }
                if (done.count(name)) continue;  // pushed already in this loop
            }
            if (dry_run) {
                result.archives_pushed.push_back(name);
                continue;
            }
            push_tag(repo, remote, name);
            done.insert(name);
            result.archives_pushed.push_back(name);
            result.archives_shared.push_back(name);
            say(fmt::format("{}: pushed the archive tag {}", remote, name));
        } catch (const Error& e) {
            result.archive_failures.push_back(fmt::format("{}: {}", name, e.what()));
            ++result.failed;
            say(fmt::format("{}: FAILED: {}", remote, e.what()));
        }
    }
}

}  // namespace

nlohmann::json remote_prune_json(const RemotePruneResult& result) {
    nlohmann::json renamed = nlohmann::json::array();
    for (const auto& [from, to] : result.archives_renamed) renamed.push_back({{"from", from}, {"to", to}});
    return {
        {"name", result.remote},
        {"models", prune_rows_json(result.plan, result.outcomes)},
        {"archive_tags_pushed", result.archives_pushed},
        {"archive_tags_renamed", renamed},
        {"archive_tag_failures", result.archive_failures},
    };
}

std::string remote_prune_scratch(const std::string& remote) {
    return fmt::format("refs/git-model/prune-remote/{}/", remote);
}

RemotePruneResult prune_remote(const git::Repository& repo, const model::Settings& settings,
                               const PruneOptions& options, bool dry_run, const LocalArchives& local_archives,
                               const std::function<void(const std::string&)>& say) {
    RemotePruneResult result;
    result.remote = settings.remote;
    // Two prunes of one remote from this repository take turns: they share the scratch namespace.
    model::RepositoryLock lock(repo, "prune-remote", "git model prune --remote");
    Scratch scratch(repo, remote_prune_scratch(settings.remote));

    const auto recorded = repo.config().get_matching("branch.", ".modelbase");
    const auto base_of = [&](const std::string& branch) {
        const auto found = recorded.find(fmt::format("branch.{}.modelbase", branch));
        return found != recorded.end() && !found->second.empty() ? found->second : settings.base_branch;
    };
    std::set<std::string> bases{settings.base_branch};
    for (const auto& [key, value] : recorded)
        if (!value.empty()) bases.insert(value);
    const RemoteView view = read_remote(repo, settings, scratch.prefix(), bases);

    PruneOptions remote_options = options;
    remote_options.force = false;  // never an unmerged branch on the remote
    MergeJudge judge(repo, {std::string(model::finish_notes_ref), model::remote_notes_ref(settings.remote), scratch.prefix() + "notes"});
    std::vector<PruneFacts> facts;
    std::vector<ArchiveState> archives;
    for (const auto& [branch, head] : view.branches) {
        const auto model = naming::model_from_branch(branch);
        if (!model) continue;
        PruneFacts fact;
        fact.model = *model;
        fact.branch = branch;
        fact.head = head;
        fact.remote = settings.remote;
        fact.base = base_of(branch);
        if (const auto summary = git::commit_summary(repo, head)) fact.last_commit_time = summary->commit_time;
        std::vector<std::string> tips;
        if (const auto base = view.bases.find(fact.base); base != view.bases.end()) tips.push_back(base->second);
        judge.judge(fact, tips);
        // A name is free when neither side has it, and the head's when each side that has it
        // points it at the head: one that the other side has at another commit is taken.
        ArchiveState state;
        const auto target = [&](const std::string& candidate) -> std::optional<std::string> {
            std::optional<std::string> here;
            if (const auto local = git::find_tag(repo, candidate)) here = local->target.empty() ? "-" : local->target;
            std::optional<std::string> there;
            if (const auto found = view.refs.find("refs/tags/" + candidate); found != view.refs.end())
                there = found->second.commit();
            if (here && there && *here != *there) {
                if (*here == head) state.clashing.push_back(candidate);
                return std::string("-");
            }
            return here ? here : there;
        };
        const auto [tag, exists] =
            choose_archive_tag(model::archive_tag_name(settings.archive_form.value(), fact.model, fact.branch), head, target);
        fact.archive_tag = tag;
        fact.archive_tag_exists = exists;
        if (exists) {
            const auto local = git::find_tag(repo, tag);
            state.local = local && local->target == head;
            const auto there = view.refs.find("refs/tags/" + tag);
            state.remote = there != view.refs.end() && there->second.commit() == head;
        }
        facts.push_back(std::move(fact));
        archives.push_back(state);
    }

    result.plan = plan_prune(facts, remote_options);
    result.outcomes.resize(result.plan.size());
    for (std::size_t i = 0; i < result.plan.size(); ++i) {
        auto& decision = result.plan[i];
        if (bases.count(decision.facts.branch)) {  // models start from it: not this rule's to remove
            decision.reasons.push_back("it is a base branch (model.baseBranch or a model's recorded base)");
            decision.prune = false;
            decision.steps.clear();
        }
        if (!decision.prune) continue;
        decision.steps = remote_steps(decision.facts, archives[i]);
        if (dry_run) continue;
        PruneOutcome outcome;
        try {
            execute_remote(repo, decision.facts, archives[i], view, say);
            outcome.done = true;
        } catch (const Error& e) {
            outcome.error = e.what();
            ++result.failed;
            say(fmt::format("{}: {}: FAILED: {}", settings.remote, decision.facts.model, e.what()));
        }
        result.outcomes[i] = outcome;
    }
    push_local_archives(repo, settings.remote, local_archives, view, dry_run, result, say);
    return result;
}

}  // namespace gm::prune
