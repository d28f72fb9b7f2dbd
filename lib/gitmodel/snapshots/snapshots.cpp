#include "gitmodel/snapshots/snapshots.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/worktree_state.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/snapshots/metric_json.hpp"
#include "gitmodel/model/model_context.hpp"
#include "gitmodel/model/repository_lock.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>

namespace gm::snapshots {

namespace fs = std::filesystem;

namespace {

// A tag read as a snapshot; throws gm::Error saying why it is not one. Its block must name the
// model and version its name does: a tag pushed by anyone may carry any block, and one that
// claims another model's numbers would put its metrics beside the wrong snapshot.
Snapshot read_snapshot(const git::TagInfo& tag) {
    if (!tag.annotated) throw Error("a lightweight tag has no snapshot block");
    if (tag.target.empty()) throw Error("it does not point at a commit");
    Snapshot snapshot;
    snapshot.tag = tag.name;
    snapshot.commit = tag.target;
    snapshot.time = tag.tagger_time;
    snapshot.tagger = tag.tagger;
    snapshot.record = parse_snapshot_message(tag.message);
    if (tag.name != snapshot_tag_name(snapshot.record.model, snapshot.record.version))
        throw Error(fmt::format("its block says model '{}' v{}", printable(snapshot.record.model),
                                snapshot.record.version));
    return snapshot;
}

// The hash of the uncommitted changes of the model's worktree when the tagged commit is what it has
// checked out (its branch head); nullopt when it is clean, gone, or another commit is tagged.
std::optional<std::string> uncommitted_state(const git::Repository& repo, const model::ModelContext& context,
                                             const std::string& commit, bool require_clean) {
    if (!context.checkout || context.checkout->missing || !context.head || commit != *context.head)
        return std::nullopt;
    const auto& path = context.checkout->path;
    std::optional<std::string> hash;
    try {
        const auto worktree = repo.open_worktree(path);
        if (worktree.has_uncommitted_changes()) hash = git::uncommitted_changes_hash(worktree);
    } catch (const Error& e) {
        throw Error(fmt::format("cannot read the state of {}: {}", path.string(), e.what()));
    }
    if (hash && require_clean) {
        throw Error(fmt::format("model '{}' has uncommitted changes in {}, and model.tag.requireClean is true",
                                context.name, path.string()),
                    "commit them (or stash them) and tag again, so that the snapshot's commit holds the code "
                    "that made its metrics");
    }
    return hash;
}

}  // namespace

std::optional<std::string> pinned_image_at(const git::Repository& repo, const std::string& commit) {
    try {
        const auto text = repo.read_config_file_at(commit, config::modelenv_file_name);  // a link: its file
        if (!text) return std::nullopt;
        return config::load_modelenv_text(*text, short_id(commit) + ":" + config::modelenv_file_name).image.to_string();
    } catch (const Error& e) {
        throw Error(fmt::format("{} at {} does not load, so the snapshot cannot record its image: {}",
                                config::modelenv_file_name, short_id(commit), e.what()),
                    "fix .modelenv.yaml and commit (see gitmodelenv(5)), or tag an earlier commit with --commit");
    }
}

namespace {

// The snapshots this clone made and has not seen on the remote yet: "<tag object> <tag name>"
// lines, edited under the "snapshots" lock. Only these are ever renumbered: a tag fetched from a
// teammate or another remote, or one a teammate withdrew there, is not this clone's to move.
fs::path unpushed_ledger(const git::Repository& repo) { return repo.common_dir() / "git-model" / "snapshots-unpushed"; }
// Those of them that a push of git-model's must not send unasked, with why: "kept" (tagged with
// --no-push or model.tag.push false) or "sent:<remote>" (a `git push` to that remote was run
// for it by hand: it may have failed, or gone and been deleted there since).
fs::path held_ledger(const git::Repository& repo) { return repo.common_dir() / "git-model" / "snapshots-held"; }

// (tag name, tag object) -> the rest of its line ("" in the unpushed ledger).
using Ledger = std::map<std::pair<std::string, std::string>, std::string>;

Ledger read_ledger(const fs::path& file) {
    Ledger entries;
    std::ifstream in(file);
    std::string object, name, note;
    while (in >> object >> name) {
        std::getline(in, note);
        note.erase(0, std::min(note.size(), note.find_first_not_of(' ')));
        entries[{name, object}] = trim_end(note, " \r");
    }
    return entries;
}
Ledger read_ledger(const git::Repository& repo) { return read_ledger(unpushed_ledger(repo)); }

// Rewrites a ledger (the caller holds the "snapshots" lock): entries whose tag is no longer
// that object here go too.
void write_ledger(const git::Repository& repo, const Ledger& entries, const fs::path& file) {
    std::string text;
    for (const auto& [key, note] : entries)
        if (git::ref_object(repo, "refs/tags/" + key.first) == std::optional<std::string>(key.second))
            text += key.second + " " + key.first + (note.empty() ? "" : " " + note) + "\n";
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    write_file_atomically(file, text, FileMode{0666, true, true});  // git's shared umask applies
}
void write_ledger(const git::Repository& repo, const Ledger& entries) { write_ledger(repo, entries, unpushed_ledger(repo)); }

// Ends a snapshot's move to a new tag (the caller holds the "snapshots" lock): a hold (kept by
// --no-push, sent by hand) follows it first, then the ledger names the new tag, not the old (a
// rerun after a kill moves nothing twice); then the old name goes, only while it is still that
// tag: else both stay, and nothing is lost.
void complete_move(const git::Repository& repo, const std::string& old_tag, const std::string& old_object,
                   const std::string& new_tag) {
    const auto made = git::ref_object(repo, "refs/tags/" + new_tag);
    auto held = read_ledger(held_ledger(repo));
    if (const auto hold = held.find({old_tag, old_object}); hold != held.end() && made) {
        held[{new_tag, *made}] = hold->second;
        write_ledger(repo, held, held_ledger(repo));
    }
    auto ledger = read_ledger(repo);
    ledger.erase({old_tag, old_object});
    if (made) ledger.emplace(std::make_pair(new_tag, *made), "");
    write_ledger(repo, ledger);
    git::delete_ref_if_at(repo, "refs/tags/" + old_tag, old_object);
}

}  // namespace

Snapshot create_snapshot(const git::Repository& repo, const TagRequest& request) {
    const model::ModelContext context = model::require_model(repo, request.model);
    std::string commit = *context.head;
    if (request.commit) {
        const auto resolved = repo.resolve_commit(*request.commit);
        if (!resolved) {
            throw Error(fmt::format("--commit {}: no such commit", quote_for_message(*request.commit)),
                        "name a commit of " + context.branch + " (an id, a tag, HEAD~2, ...)");
        }
        if (!repo.is_ancestor(*resolved, *context.head)) {
            throw Error(fmt::format("commit {} is not on {}", short_id(*resolved), context.branch),
                        "a snapshot records a state of the model's own branch: pick a commit of it");
        }
        commit = *resolved;
    }
    SnapshotRecord record;
    record.dirty = uncommitted_state(repo, context, commit, request.require_clean);
    record.model = request.model;
    record.metrics = request.metrics;
    record.gpus = request.gpus;
    record.image = pinned_image_at(repo, commit);
    if (request.image_run && record.image && request.image_run->first == *record.image)
        record.image_id = request.image_run->second;
    if (request.message) record.message = *request.message;

    // Snapshots of a repository are numbered one at a time: concurrent tags (from
    // several worktrees, CI jobs) get v1, v2, ... without a gap or a duplicate.
    model::RepositoryLock lock(repo, "snapshots", fmt::format("git model tag {}", request.model));
    // A tag made by other means (plain `git tag`) may still take the number first: then the next one is ours.
    for (int attempt = 0; attempt < 20; ++attempt) {
        std::vector<std::string> names = request.taken_elsewhere;
        for (const auto& tag : git::tags_matching(repo, snapshot_tag_glob(request.model))) names.push_back(tag.name);
        record.version = next_snapshot_version(request.model, names);
        const std::string name = snapshot_tag_name(request.model, record.version);
        if (!create_annotated_tag(repo, name, commit, format_snapshot_message(record))) continue;
        const auto created = git::find_tag(repo, name);
        if (!created) throw Error(fmt::format("tag {} vanished right after it was created", name));
        if (const auto object = git::ref_object(repo, "refs/tags/" + name)) {
            try {
                if (!request.hold.empty()) {  // first: a hold without its listing holds nothing
                    auto held = read_ledger(held_ledger(repo));
                    held[{name, *object}] = request.hold;
                    write_ledger(repo, held, held_ledger(repo));
                }
                auto ledger = read_ledger(repo);
                ledger.emplace(std::make_pair(name, *object), "");
                write_ledger(repo, ledger);
            } catch (const Error&) {
                // The snapshot is made: unlisted, it is only never renumbered past a teammate's.
            }
        }
        return read_snapshot(*created);
    }
    throw Error(fmt::format("could not find a free snapshot number for model '{}'", request.model),
                "other processes keep tagging it; try again");
}

std::optional<std::string> renumber_snapshot(const git::Repository& repo, const std::string& model, const std::string& tag,
                                             const std::vector<std::string>& taken_elsewhere) {
    const auto found = git::find_tag(repo, tag);
    const auto object = git::ref_object(repo, "refs/tags/" + tag);
    if (!found || !found->annotated || !object) return std::nullopt;
    SnapshotRecord record = parse_snapshot_message(found->message);
    const unsigned old_version = record.version;
    if (trim_trailing_newlines(record.message) == default_snapshot_message(model, old_version))
        record.message.clear();  // the default subject is said anew, with the new number
    // Who made it, and when, stay.
    const auto open = found->tagger.rfind(" <");
    if (open == std::string::npos || found->tagger.empty() || found->tagger.back() != '>') return std::nullopt;
    const int offset = found->tagger_offset_minutes;
    const git::TaggerIdentity tagger{
        found->tagger.substr(0, open), found->tagger.substr(open + 2, found->tagger.size() - open - 3),
        fmt::format("{} {}{:02}{:02}", found->tagger_time, offset < 0 ? '-' : '+', std::abs(offset) / 60,
                    std::abs(offset) % 60)};
    model::RepositoryLock lock(repo, "snapshots", fmt::format("git model tag {}", model));
    // Read before the lock: another `tag` of this clone may have moved it meanwhile (and pushed
    // it); moving it again would put one snapshot on the remote under two numbers.
    if (git::ref_object(repo, "refs/tags/" + tag) != object || read_ledger(repo).count({tag, *object}) == 0)
        return std::nullopt;
    // A move killed after its new tag was made, before its ledger was written: that copy (listed
    // nowhere; a snapshot of its own, made in the same second with the same record, is listed) is the move.
    try {
        const auto copy = find_moved_snapshot(repo, read_snapshot(*found));
        const auto copy_object = copy ? git::ref_object(repo, "refs/tags/" + *copy) : std::nullopt;
        if (copy && copy_object && read_ledger(repo).count({*copy, *copy_object}) == 0) {
            complete_move(repo, tag, *object, *copy);
            return copy;
        }
    } catch (const Error&) {
        // not readable as a snapshot: no copy to look for
    }
    for (int attempt = 0; attempt < 20; ++attempt) {
        std::vector<std::string> names = taken_elsewhere;
        for (const auto& other : git::tags_matching(repo, snapshot_tag_glob(model))) names.push_back(other.name);
        record.version = next_snapshot_version(model, names);
        const std::string name = snapshot_tag_name(model, record.version);
        if (!create_annotated_tag(repo, name, found->target, format_snapshot_message(record), tagger)) continue;
        complete_move(repo, tag, *object, name);
        return name;
    }
    return std::nullopt;
}

std::optional<std::string> find_moved_snapshot(const git::Repository& repo, const Snapshot& snapshot) {
    // The record without its number: a default subject names the number, and is said anew on a move.
    const auto numberless = [&](SnapshotRecord record) {
        if (trim_trailing_newlines(record.message) == default_snapshot_message(record.model, record.version))
            record.message.clear();
        record.version = 1;
        return format_snapshot_message(record);
    };
    const std::string wanted = numberless(snapshot.record);
    for (const auto& other : git::tags_matching(repo, snapshot_tag_glob(snapshot.record.model))) {
        if (other.name == snapshot.tag || other.target != snapshot.commit || other.tagger != snapshot.tagger ||
            other.tagger_time != snapshot.time)
            continue;
        try {
            if (numberless(read_snapshot(other).record) == wanted) return other.name;
        } catch (const Error&) {
            // not a snapshot: not a copy
        }
    }
    return std::nullopt;
}

bool withdraw_unpushed(const git::Repository& repo, const std::string& tag, const std::string& object) {
    model::RepositoryLock lock(repo, "snapshots", "git model tag (a snapshot that lost its number)");
    auto ledger = read_ledger(repo);
    if (ledger.count({tag, object}) == 0 || !git::delete_ref_if_at(repo, "refs/tags/" + tag, object)) return false;
    ledger.erase({tag, object});
    write_ledger(repo, ledger);
    return true;
}

bool made_here_unpushed(const git::Repository& repo, const std::string& tag, const std::string& object) {
    return read_ledger(repo).count({tag, object}) > 0;
}

void forget_unpushed(const git::Repository& repo, const std::vector<std::string>& tags) {
    if (tags.empty() || !fs::exists(unpushed_ledger(repo))) return;
    model::RepositoryLock lock(repo, "snapshots", "git model tag (its push)");
    for (const auto& file : {unpushed_ledger(repo), held_ledger(repo)}) {
        auto ledger = read_ledger(file);
        for (auto it = ledger.begin(); it != ledger.end();)
            it = std::find(tags.begin(), tags.end(), it->first.first) != tags.end() ? ledger.erase(it) : std::next(it);
        write_ledger(repo, ledger, file);
    }
}

void hold_unpushed(const git::Repository& repo, const std::vector<std::string>& tags, const std::string& why) {
    if (tags.empty() || !fs::exists(unpushed_ledger(repo))) return;
    model::RepositoryLock lock(repo, "snapshots", "git model (its ledger of unpushed snapshots)");
    const auto unpushed = read_ledger(repo);
    auto held = read_ledger(held_ledger(repo));
    for (const auto& [key, note] : unpushed)
        if (std::find(tags.begin(), tags.end(), key.first) != tags.end()) held[key] = why;
    write_ledger(repo, held, held_ledger(repo));
}

std::optional<std::string> held_why(const git::Repository& repo, const std::string& tag, const std::string& object) {
    const auto held = read_ledger(held_ledger(repo));
    const auto found = held.find({tag, object});
    if (found == held.end()) return std::nullopt;
    return found->second;
}

SnapshotList list_snapshots(const git::Repository& repo, std::string_view model) {
    SnapshotList list;
    for (const auto& tag : git::tags_matching(repo, snapshot_tag_glob(model))) {
        const auto version = snapshot_version_from_tag(model, tag.name);
        if (!version) continue;  // model/x/v1-rc and the like: not in the numbering
        try {
            list.snapshots.push_back(read_snapshot(tag));
        } catch (const Error& e) {
            list.skipped.push_back(fmt::format("{}: not a snapshot: {}", tag.name, e.what()));
        }
    }
    std::sort(list.snapshots.begin(), list.snapshots.end(),
              [](const Snapshot& x, const Snapshot& y) { return x.record.version > y.record.version; });
    return list;
}

std::optional<Snapshot> latest_snapshot(const git::Repository& repo, std::string_view model) {
    auto list = list_snapshots(repo, model);
    if (list.snapshots.empty()) return std::nullopt;
    return std::move(list.snapshots.front());
}

Snapshot resolve_snapshot(const git::Repository& repo, std::string_view name,
                          const std::optional<std::string>& current_model) {
    std::string_view wanted = name;
    if (starts_with(wanted, "refs/tags/")) wanted.remove_prefix(10);
    // Snapshots live under model/ only: a plain tag "v2" (a release, or one a teammate pushed
    // to look like one) never stands for a snapshot, and inside a worktree "v2" is its model's.
    std::vector<std::string> candidates;
    if (starts_with(wanted, "model/")) {
        candidates.emplace_back(wanted);
        candidates.push_back("model/" + std::string(wanted));  // <model>/v<N> of a model named "model"
    } else {
        if (current_model && wanted.size() > 1 && wanted.front() == 'v' && wanted.find('/') == std::string_view::npos)
            candidates.push_back(fmt::format("model/{}/{}", *current_model, wanted));
        candidates.push_back("model/" + std::string(wanted));
    }
    for (const auto& candidate : candidates) {
        const auto tag = git::find_tag(repo, candidate);
        if (!tag) continue;
        try {
            return read_snapshot(*tag);
        } catch (const Error& e) {
            throw Error(fmt::format("tag {} is not a git-model snapshot: {}", tag->name, e.what()),
                        "`git model log <model>` lists a model's snapshots");
        }
    }
    throw Error(fmt::format("no snapshot {}", quote_for_message(name)),
                "name a tag such as model/<model>/v3 (or <model>/v3, or v3 inside the model's worktree); "
                "`git model log <model>` lists them");
}

Comparison compare_snapshots(const git::Repository& repo, const Snapshot& a, const Snapshot& b) {
    Comparison comparison;
    comparison.a = a;
    comparison.b = b;
    comparison.metrics = compare_metrics(a.record, b.record);
    comparison.image_changed = a.record.image != b.record.image;
    comparison.hardware = compare_hardware(a.record, b.record);
    const auto range = git::commits_reachable_only_from(repo, b.commit, {a.commit}, max_compared_commits);
    comparison.commit_count = range.total;
    for (const auto& id : range.commits)
        if (auto summary = git::commit_summary(repo, id)) comparison.commits.push_back(std::move(*summary));
    comparison.only_in_a = git::commits_reachable_only_from(repo, a.commit, {b.commit}, 0).total;
    return comparison;
}

nlohmann::json log_json(std::string_view model, const std::vector<Snapshot>& newest_first) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& snapshot : newest_first) rows.push_back(to_json(snapshot));
    return {{"version", 1}, {"model", model}, {"snapshots", rows}};
}

nlohmann::json to_json(const Comparison& comparison) {
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& row : comparison.metrics) {
        nlohmann::json entry = {
            {"name", row.name},
            {"a", row.a ? metric_json(*row.a) : nlohmann::json(nullptr)},
            {"b", row.b ? metric_json(*row.b) : nlohmann::json(nullptr)},
            {"difference", row.difference ? difference_json(*row.a, *row.b) : nlohmann::json(nullptr)},
        };
        // null there means "one side lacks it", except when this says otherwise
        if (row.a && row.b && entry["difference"].is_null()) entry["difference_out_of_range"] = true;
        metrics.push_back(std::move(entry));
    }
    nlohmann::json commits = nlohmann::json::array();
    for (const auto& commit : comparison.commits)
        commits.push_back({{"id", commit.id}, {"subject", commit.subject}, {"time", commit.commit_time}});
    return {
        {"version", 1},
        {"a", to_json(comparison.a)},
        {"b", to_json(comparison.b)},
        {"metrics", metrics},
        {"image_changed", comparison.image_changed},
        {"hardware", comparison.hardware ? nlohmann::json{{"changed", !comparison.hardware->empty()},
                                                          {"differences", *comparison.hardware}}
                                         : nlohmann::json(nullptr)},
        {"commits", commits},
        {"commit_count", comparison.commit_count},
        {"commits_only_in_a", comparison.only_in_a},
    };
}

}  // namespace gm::snapshots
