#include "gitmodel/snapshots/share.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace gm::snapshots {

namespace {

std::string notes_refspec(const std::string& remote) {
    return fmt::format("+{}:{}", model::finish_notes_ref, model::remote_notes_ref(remote));
}

// The refspec the remote's fetch configuration gets: a pattern, because git fails a whole
// `git fetch` (and `git pull`) on an exact refspec the remote lacks, as it does before the
// team's first finish or once someone deleted the notes there.
std::string notes_fetch_pattern(const std::string& remote) {
    return fmt::format("+{}*:{}*", model::finish_notes_ref, model::remote_notes_ref(remote));
}

// `git config --local <args>`, waiting (bounded, growing pause) while another writer holds .git/config.lock.
void write_config(const git::Repository& repo, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"config", "--local"};
    argv.insert(argv.end(), args.begin(), args.end());
    proc::RunOptions options;
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    auto pause = std::chrono::milliseconds(1);
    const auto deadline = std::chrono::steady_clock::now() + git::Config::write_lock_timeout;
    for (;;) {
        const auto result = run_git(repo, argv, options);
        if (result.ok()) return;
        if (result.err.find("could not lock config file") == std::string::npos ||
            std::chrono::steady_clock::now() >= deadline) {
            throw Error(fmt::format("cannot write the repository's config (git config {}): {}", join(args, " "),
                                    git::git_said(result.err)));
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

// A model's snapshot tags here: short name -> tag object id.
std::map<std::string, std::string> local_snapshot_tags(const git::Repository& repo, const std::string& model) {
    std::map<std::string, std::string> tags;
    const auto listed = run_git_checked(
        repo, {"for-each-ref", "--format=%(objectname) %(refname)", fmt::format("refs/tags/model/{}/", model)},
        "cannot list the snapshot tags");
    std::istringstream lines(listed.out);
    std::string object, ref;
    while (lines >> object >> ref) {
        const std::string name = ref.substr(10);  // without refs/tags/
        if (snapshot_version_from_tag(model, name)) tags.emplace(name, object);
    }
    return tags;
}

// Brings the remote's finish notes into ours (git notes merge, ours winning a conflict: records
// on one commit say the same thing), so that our push of refs/notes/git-model is a fast-forward.
void merge_remote_notes(const git::Repository& repo, const std::string& remote) {
    proc::RunOptions options;
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    proc::RunOptions fetch_options = options;
    // The remote may ask for a password: no limit, in the terminal's group (Ctrl-C stops it).
    fetch_options.timeout = std::nullopt;
    fetch_options.terminal = true;
    const auto fetched = run_git(repo, {"fetch", "--no-tags", "--quiet", "--refmap=", "--", remote, notes_refspec(remote)},
                                 fetch_options);
    if (!fetched.ok())
        throw Error(fmt::format("cannot fetch the finish notes of {}: {}", remote, git::git_said(fetched.err)));
    model::RepositoryLock lock(repo, "notes", "git model finish (merging the remote's finish notes)");
    // Where both have a record of one commit, the remote's stays: it was shared first (another
    // clone's finish of the same head, with its review link and date); ours would overwrite it.
    const auto merged = run_git(repo,
                                {"notes", "--ref=" + std::string(model::finish_notes_ref), "merge", "--quiet", "-s", "theirs",
                                 model::remote_notes_ref(remote)},
                                options);
    if (!merged.ok())
        throw Error(fmt::format("cannot merge the finish notes of {} into ours: {}", remote, git::git_said(merged.err)));
}

// Whether the remote refused a ref because another push changed it meanwhile: behind it
// ("non-fast-forward", "fetch first"), or it moved between the server's check and its update
// ("failed to update ref": "cannot lock ref", "is at X but expected Y", "reference already exists").
bool moved_there_meanwhile(const git::PushedRef& line) {
    return line.reason == "non-fast-forward" || line.reason == "fetch first" ||
           starts_with(line.reason, "failed to update ref");
}

// Whether a tag push was refused because the remote has (or just got) a tag of that name.
bool name_taken_there(const git::PushedRef& line) {
    return line.reason == "already exists" || starts_with(line.reason, "failed to update ref");
}

// The warning for a snapshot of ours whose name another clone's took on the remote meanwhile:
// the next finish renumbers it.
std::string name_taken_warning(const std::string& tag, const std::string& remote) {
    return fmt::format("{} was not pushed: {} has another snapshot of that name (another clone's, pushed just now); "
                       "finish again to give yours the next free number",
                       tag, remote);
}

// What to push of the notes: nothing (absent here, or the remote has ours), or our ref after merging theirs.
bool prepare_notes(const git::Repository& repo, const std::string& remote, const std::map<std::string, git::RemoteRef>& refs) {
    const auto local = repo.resolve_commit(std::string(model::finish_notes_ref));
    if (!local) return false;
    const auto there = refs.find(std::string(model::finish_notes_ref));
    if (there == refs.end()) return true;
    if (there->second.object == *local) return false;
    if (!repo.has_commit(there->second.object) || !repo.is_ancestor(there->second.object, *local))
        merge_remote_notes(repo, remote);
    return repo.resolve_commit(std::string(model::finish_notes_ref)) != there->second.object;
}

}  // namespace

std::optional<std::string> upstream_remote(const git::Repository& repo, const std::string& branch) {
    const auto config = repo.config();
    const auto upstream = config.get_string(fmt::format("branch.{}.remote", branch));
    if (!upstream || upstream->empty() || *upstream == ".") return std::nullopt;
    // Where git itself pushes the branch: branch.<b>.pushRemote, remote.pushDefault, its remote.
    std::string remote = *upstream;
    if (const auto push = config.get_string(fmt::format("branch.{}.pushRemote", branch)); push && !push->empty())
        remote = *push;
    else if (const auto fallback = config.get_string("remote.pushDefault"); fallback && !fallback->empty())
        remote = *fallback;
    if (!git::remote_exists(repo, remote)) return std::nullopt;
    return remote;
}

namespace {

// Pushes one snapshot tag to the remote; `unreadable` is why the remote could not be listed first
// (then nothing is pushed and that is the problem).
TagPush push_tag(const git::Repository& repo, const std::string& remote, const std::string& tag, const std::string& model,
                 const std::string& commit, const std::string& unreadable) {
    TagPush result;
    result.remote = remote;
    result.fix = fmt::format("the next `git model tag` (or finish) of this model pushes it; or push it yourself: "
                             "git push {} refs/tags/{}",
                             remote, tag);
    if (!unreadable.empty()) {
        result.problem = unreadable;
        return result;
    }
    git::PushRequest request_push;
    request_push.remote = remote;
    request_push.refspecs = {fmt::format("refs/tags/{0}:refs/tags/{0}", tag)};
    const auto pushed = git::push_refs(repo, request_push);
    const auto* line = pushed.find("refs/tags/" + tag);
    result.pushed = pushed.run.ok() && line && (line->sent() || line->up_to_date());
    if (!result.pushed) {
        result.problem = pushed.why("refs/tags/" + tag);
        // "already exists" when the remote had the name as we sent; "failed to update ref" when
        // another push created it while ours was under way: the remote is asked which.
        bool taken = line && line->reason == "already exists";
        if (!taken) {
            try {
                const auto refs = git::list_remote_refs(repo, remote, {"refs/tags/" + tag}, git::RemoteSide::push);
                const auto there = refs.find("refs/tags/" + tag);
                const auto ours = git::ref_object(repo, "refs/tags/" + tag);
                taken = there != refs.end() && ours && there->second.object != *ours;
            } catch (const Error&) {
            }
        }
        if (taken) {
            result.number_taken = true;
            result.fix = fmt::format(
                "another clone took that number on {} meanwhile: delete yours and tag the same commit again for a "
                "free number: git tag -d {} && git model tag {} --commit {} (with the same --metric and -m)",
                remote, tag, model, commit.substr(0, 10));
        }
    }
    return result;
}

// What move_clashing_snapshots did and saw.
struct Clashes {
    std::vector<std::pair<std::string, std::string>> moved;  // old name, new name
    std::vector<std::string> others;  // a tag here that is not the remote's of that name, and not this clone's unpushed one
};

// Renumbers the model's snapshots this clone made and never pushed (made_here_unpushed) whose
// names the remote has as other tags (a teammate's took the number meanwhile): each gets the next
// free number (renumber_snapshot). Any other tag here that is not the remote's of its name is
// only named: it came from elsewhere, and is not this clone's to move. Those the remote has as
// they are here are forgotten as unpushed. `taken` gains the remote's names.
Clashes move_clashing_snapshots(const git::Repository& repo, const std::string& model,
                                const std::map<std::string, git::RemoteRef>& remote_refs, std::vector<std::string>& taken) {
    Clashes clashes;
    for (const auto& [name, ref] : remote_refs)
        if (starts_with(name, "refs/tags/") &&
            std::find(taken.begin(), taken.end(), name.substr(10)) == taken.end())
            taken.push_back(name.substr(10));
    std::vector<std::string> there_as_here;
    for (const auto& [name, object] : local_snapshot_tags(repo, model)) {
        const auto there = remote_refs.find("refs/tags/" + name);
        if (there == remote_refs.end()) continue;
        if (there->second.object == object) {
            there_as_here.push_back(name);
            continue;
        }
        if (!made_here_unpushed(repo, name, object)) {
            clashes.others.push_back(name);
            continue;
        }
        if (const auto renamed = renumber_snapshot(repo, model, name, taken)) {
            clashes.moved.emplace_back(name, *renamed);
            taken.push_back(*renamed);
        }
    }
    forget_unpushed(repo, there_as_here);
    return clashes;
}

// The warning for a tag here that is not the remote's of its name (Clashes::others).
std::string foreign_clash_warning(const std::string& tag, const std::string& remote) {
    return fmt::format("{} here is not {}'s {} (fetched from elsewhere, or replaced there): a fetch of {}'s tags "
                       "fails on it (\"would clobber existing tag\"); if it is not yours to keep, delete it here: "
                       "git tag -d {}",
                       tag, remote, tag, remote, tag);
}

// Pushes the model's snapshots this clone made before and never pushed (still in the ledger, not
// on the remote): a `tag` killed before its push ended, a remote that was down. Only `finish`
// pushed them before, and a model is seldom finished twice: its team never saw them. Held ones
// (hold_unpushed) are not: one kept here by choice stays, silently; one pushed there by hand is
// only named (that push may have failed, or a teammate deleted the tag there since).
void push_left_snapshots(const git::Repository& repo, const std::string& remote, const std::string& model,
                         const std::map<std::string, git::RemoteRef>& remote_refs, TagOutcome& outcome) {
    for (const auto& [name, object] : local_snapshot_tags(repo, model)) {
        if (remote_refs.count("refs/tags/" + name) || !made_here_unpushed(repo, name, object)) continue;
        if (const auto why = held_why(repo, name, object)) {
            if (*why == "sent:" + remote)
                outcome.move_problems.push_back(fmt::format(
                    "{}, made here, is not on {}, though a `git push` of it there ran (a dry run, or one that failed, "
                    "or the tag was deleted there since): `git push {} refs/tags/{}` sends it; if it was withdrawn, "
                    "`git tag -d {}` here",
                    name, remote, remote, name, name));
            if (*why == "kept" || *why == "sent:" + remote) continue;
        }
        const auto made = git::find_tag(repo, name);
        const auto pushed = push_tag(repo, remote, name, model, made ? made->target : "", {});
        if (pushed.pushed) {
            forget_unpushed(repo, {name});
            outcome.left_pushed.push_back(name);
        } else {
            outcome.move_problems.push_back(
                fmt::format("{}, made here before, is still not on {}: {}; {}", name, remote, pushed.problem, pushed.fix));
        }
    }
}

}  // namespace

TagOutcome tag_and_push(const git::Repository& repo, TagRequest request, bool push) {
    TagOutcome outcome;
    const model::Settings settings = model::read_settings(repo);
    const std::string branch = std::string(naming::model_branch_prefix) + request.model;
    request.require_clean = settings.tag_require_clean.value();
    std::optional<std::string> remote;
    if (!push) outcome.not_pushed = "--no-push";
    else if (!settings.tag_push.value()) outcome.not_pushed = "model.tag.push is false";
    else if (!(remote = upstream_remote(repo, branch))) outcome.not_pushed = "the branch has no upstream yet";
    std::string unreadable;
    if (remote) {
        // Numbers the remote has taken (another clone's snapshots) are not reused here, and an
        // unpushed snapshot of ours that lost its number to one of them moves on first.
        try {
            const auto refs = git::list_remote_refs(repo, *remote, {"refs/tags/" + snapshot_tag_glob(request.model)},
                                                    git::RemoteSide::push);
            const auto clashes = move_clashing_snapshots(repo, request.model, refs, request.taken_elsewhere);
            for (const auto& [old_name, renamed] : clashes.moved) {
                outcome.moved.push_back(fmt::format("{} -> {}", old_name, renamed));
                // Kept here by choice (or sent by hand): moved, but not pushed unasked.
                if (const auto object = git::ref_object(repo, "refs/tags/" + renamed))
                    if (const auto why = held_why(repo, renamed, *object); why && (*why == "kept" || *why == "sent:" + *remote))
                        continue;
                const auto made = git::find_tag(repo, renamed);
                const auto pushed = push_tag(repo, *remote, renamed, request.model, made ? made->target : "", {});
                if (pushed.pushed) forget_unpushed(repo, {renamed});
                else
                    outcome.move_problems.push_back(fmt::format("{} was not pushed to {}: {}; {}", renamed, *remote,
                                                                pushed.problem, pushed.fix));
            }
            for (const auto& other : clashes.others) outcome.move_problems.push_back(foreign_clash_warning(other, *remote));
            push_left_snapshots(repo, *remote, request.model, refs, outcome);
        } catch (const Error& e) {
            unreadable = e.what();
        }
    }
    constexpr int attempts = 5;
    // Kept here by choice: a later tag must not push it unasked (finish shares it, as ever).
    if (!push || !settings.tag_push.value()) request.hold = "kept";
    for (int attempt = 1;; ++attempt) {
        outcome.snapshot = create_snapshot(repo, request);
        if (!remote) return outcome;
        outcome.push = push_tag(repo, *remote, outcome.snapshot.tag, request.model, outcome.snapshot.commit, unreadable);
        if (outcome.push->pushed) forget_unpushed(repo, {outcome.snapshot.tag});
        if (outcome.push->pushed || !outcome.push->number_taken || attempt == attempts) return outcome;
        // Another clone pushed that number between our listing and our push. Ours is unpushed
        // and moments old: it goes (only while it is still the tag just made), and the snapshot
        // takes the next free number, so the team's numbers stay one sequence.
        const std::string ref = "refs/tags/" + outcome.snapshot.tag;
        const auto made = git::find_tag(repo, outcome.snapshot.tag);
        const auto object = git::ref_object(repo, ref);
        const bool still_made_here =
            made && object && made->target == outcome.snapshot.commit && made->tagger_time == outcome.snapshot.time;
        if (!still_made_here || !withdraw_unpushed(repo, outcome.snapshot.tag, *object)) {
            // Another `tag` of this clone moved it to the next free number meanwhile: that is it now.
            if (const auto copy = find_moved_snapshot(repo, outcome.snapshot)) {
                outcome.moved.push_back(fmt::format("{} -> {}", outcome.snapshot.tag, *copy));
                outcome.snapshot = resolve_snapshot(repo, *copy, std::nullopt);
                outcome.push = push_tag(repo, *remote, *copy, request.model, outcome.snapshot.commit, unreadable);
                if (outcome.push->pushed) forget_unpushed(repo, {*copy});
            }
            return outcome;
        }
        outcome.renumbered.push_back(outcome.snapshot.tag);
        request.taken_elsewhere.push_back(outcome.snapshot.tag);
    }
}

std::optional<TagPush> push_existing_snapshot(const git::Repository& repo, const std::string& model, const std::string& tag,
                                              const std::string& commit, bool push) {
    const model::Settings settings = model::read_settings(repo);
    const auto remote = upstream_remote(repo, std::string(naming::model_branch_prefix) + model);
    if (!push || !settings.tag_push.value() || !remote) return std::nullopt;
    // A remote that has the same tag answers "up to date"; another clone's tag of that name is refused.
    return push_tag(repo, *remote, tag, model, commit, {});
}

TeamShare share_model_state(const git::Repository& repo, const std::string& remote, const std::string& model) {
    TeamShare share;
    share.remote = remote;
    const std::string later = fmt::format("git push {} 'refs/tags/model/{}/*' {}", remote, model, model::finish_notes_ref);
    try {
        const auto list_remote = [&] {
            return git::list_remote_refs(repo, remote, {"refs/tags/" + snapshot_tag_glob(model), std::string(model::finish_notes_ref)},
                                         git::RemoteSide::push);
        };
        auto refs = list_remote();
        {
            std::vector<std::string> taken;
            const auto clashes = move_clashing_snapshots(repo, model, refs, taken);
            for (const auto& [old_name, renamed] : clashes.moved) share.moved.push_back(fmt::format("{} -> {}", old_name, renamed));
            for (const auto& other : clashes.others) share.problems.push_back(foreign_clash_warning(other, remote));
        }
        const auto tags = local_snapshot_tags(repo, model);
        bool tags_done = false;
        // Clones finishing at once each merge the others' notes and push again; a pause of a
        // random length between tries keeps them from colliding in step.
        constexpr int notes_attempts = 8;
        std::minstd_rand jitter(static_cast<unsigned>(::getpid()) ^
                                static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
        for (int attempt = 0; attempt < notes_attempts; ++attempt) {
            if (attempt > 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20 + jitter() % (30 * attempt + 30)));
                refs = list_remote();  // another clone pushed notes meanwhile: as they are now
            }
            std::vector<std::string> refspecs;
            if (!tags_done) {
                for (const auto& [name, object] : tags) {
                    const auto there = refs.find("refs/tags/" + name);
                    if (there == refs.end()) refspecs.push_back(fmt::format("refs/tags/{0}:refs/tags/{0}", name));
                    else if (there->second.object != object && made_here_unpushed(repo, name, object))
                        share.problems.push_back(name_taken_warning(name, remote));
                }
            }
            const bool notes = prepare_notes(repo, remote, refs);
            if (notes) refspecs.push_back(fmt::format("{0}:{0}", model::finish_notes_ref));
            if (refspecs.empty()) return share;
            git::PushRequest request;
            request.remote = remote;
            request.refspecs = refspecs;
            const auto pushed = git::push_refs(repo, request);
            if (pushed.refs.empty()) {  // refused as a whole (the pre-push hook): nothing went out
                share.problems.push_back(fmt::format("the snapshot tags and finish notes were not pushed to {}: {}; "
                                                     "push them later: {}",
                                                     remote, pushed.why(""), later));
                return share;
            }
            tags_done = true;
            bool retry = false;
            for (const auto& line : pushed.refs) {
                if (starts_with(line.to, "refs/tags/")) {
                    if (line.sent()) share.tags_sent.push_back(line.to.substr(10));
                    else if (name_taken_there(line))
                        share.problems.push_back(name_taken_warning(line.to.substr(10), remote));
                    else if (!line.up_to_date())
                        share.problems.push_back(fmt::format("{} was not pushed: {}; push it later: git push {} {}",
                                                             line.to.substr(10), pushed.why(line.to), remote, line.to));
                } else if (line.to == model::finish_notes_ref) {
                    if (line.sent()) share.notes_sent = true;
                    else if (moved_there_meanwhile(line)) retry = true;
                    else if (!line.up_to_date())
                        share.problems.push_back(fmt::format("the finish notes were not pushed: {}; push them later: "
                                                             "git push {} {}",
                                                             pushed.why(line.to), remote, model::finish_notes_ref));
                }
            }
            forget_unpushed(repo, share.tags_sent);
            if (!retry) return share;  // else: another clone pushed notes meanwhile; merge theirs again
        }
        share.problems.push_back(fmt::format("the finish notes were not pushed: {} kept changing them; finish again",
                                             remote));
    } catch (const Error& e) {
        share.problems.push_back(fmt::format("the snapshot tags and finish notes were not pushed to {}: {}; push "
                                             "them later: {}",
                                             remote, e.what(), later));
    }
    return share;
}

std::vector<std::string> FetchSetup::commands() const {
    std::vector<std::string> out;
    if (!tags) out.push_back(fmt::format("git config remote.{}.tagOpt --tags", remote));
    if (misplaced_notes && !notes)
        out.push_back(fmt::format("git config --replace-all remote.{}.fetch '{}' '^\\+?{}\\*:'", remote,
                                  notes_fetch_pattern(remote), model::finish_notes_ref));
    else if (exact_notes)
        out.push_back(fmt::format("git config --replace-all remote.{}.fetch '{}' '^\\+?{}:'", remote,
                                  notes_fetch_pattern(remote), model::finish_notes_ref));
    else if (!notes)
        out.push_back(fmt::format("git config --add remote.{}.fetch '{}'", remote, notes_fetch_pattern(remote)));
    return out;
}

FetchSetup read_fetch_setup(const git::Repository& repo, const std::string& remote) {
    FetchSetup setup;
    setup.remote = remote;
    setup.remote_exists = git::remote_exists(repo, remote);
    if (!setup.remote_exists) return setup;
    const auto config = repo.config();
    setup.tags = config.get_string(fmt::format("remote.{}.tagOpt", remote)).value_or("") == "--tags";
    for (const auto& spec : config.get_all(fmt::format("remote.{}.fetch", remote))) {
        std::string_view source = spec;
        if (starts_with(source, "+")) source.remove_prefix(1);
        const auto colon = source.find(':');
        const std::string_view destination = colon == std::string_view::npos ? "" : source.substr(colon + 1);
        source = source.substr(0, colon);
        if (source == "refs/tags/*") setup.tags = true;
        if (source == model::finish_notes_ref) setup.exact_notes = true;
        if (source == "refs/notes/*") setup.notes = true;
        if (source == std::string(model::finish_notes_ref) + "*") {
            // Where they are stored matters: git-model reads refs/notes/remotes/<this remote>/git-model.
            if (destination == model::remote_notes_ref(remote) + "*") setup.notes = true;
            else setup.misplaced_notes = true;
        }
    }
    return setup;
}

std::vector<std::string> apply_fetch_setup(const git::Repository& repo, const std::string& remote) {
    const auto setup = read_fetch_setup(repo, remote);
    std::vector<std::string> done;
    if (!setup.remote_exists) return done;
    if (!setup.tags) {
        write_config(repo, {fmt::format("remote.{}.tagOpt", remote), "--tags"});
        done.push_back(fmt::format("fetch: git fetch {} now brings every tag (teammates' snapshots and archives)", remote));
    }
    if (setup.misplaced_notes && !setup.notes) {
        write_config(repo, {"--replace-all", fmt::format("remote.{}.fetch", remote), notes_fetch_pattern(remote),
                            fmt::format("^\\+?{}\\*:", model::finish_notes_ref)});
        done.push_back(fmt::format("fetch: git fetch {} now stores the finish notes in {}, where git model reads "
                                   "them (its refspec named another remote: renamed?)",
                                   remote, model::remote_notes_ref(remote)));
    } else if (setup.exact_notes) {
        // Written so by git-model before: one pattern replaces every exact one.
        write_config(repo, {"--replace-all", fmt::format("remote.{}.fetch", remote), notes_fetch_pattern(remote),
                            fmt::format("^\\+?{}:", model::finish_notes_ref)});
        done.push_back(fmt::format("fetch: git fetch {} no longer fails while it has no finish notes (a pattern "
                                   "refspec replaces the exact one)", remote));
    } else if (!setup.notes) {
        write_config(repo, {"--add", fmt::format("remote.{}.fetch", remote), notes_fetch_pattern(remote)});
        done.push_back(fmt::format("fetch: git fetch {} now brings the finish notes to {}", remote, model::remote_notes_ref(remote)));
    }
    return done;
}

}  // namespace gm::snapshots
