#pragma once
// Snapshots in a repository: creating the tag (numbered per model, with the
// pinned image of that commit), listing a model's snapshots, finding one by
// name, and comparing two. The message format itself is in snapshot.hpp.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/git/history.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/snapshot.hpp"

namespace gm::snapshots {

// What `git model tag` was asked for.
struct TagRequest {
    std::string model;
    std::vector<Metric> metrics;
    std::optional<std::string> message;  // -m; a default subject when absent
    std::optional<std::string> commit;   // --commit; the branch head when absent
    std::vector<std::string> taken_elsewhere;  // snapshot tag names the remote has: their numbers are skipped too
    // (reference, image id) the model's environment last ran: recorded as Model-Image-Id when
    // the reference is the one the tagged commit pins.
    std::optional<std::pair<std::string, std::string>> image_run;
    std::vector<SnapshotGpu> gpus;  // the GPUs the model's environment ran on (Model-GPU), when known
    bool require_clean = false;  // model.tag.requireClean: refuse when the model's worktree has uncommitted changes
    // Non-empty: the snapshot is held at once (hold_unpushed's why, "kept" for --no-push), in the
    // same turn of the lock that makes it, so that no kill in between leaves it for a later
    // `tag` to push unasked.
    std::string hold;
};

// Tags a snapshot: model/<name>/v<N> with N one more than any taken here or on the remote (retrying
// when another process takes it first). The commit must be on the model's
// branch; a .modelenv.yaml there must load. When the commit is the branch head and the
// model's worktree has uncommitted changes, the snapshot records their hash (Model-Dirty),
// or, under require_clean, nothing is made. Throws gm::Error, creating nothing.
Snapshot create_snapshot(const git::Repository& repo, const TagRequest& request);

// Gives a snapshot made here the next free number (taken_elsewhere: names the remote has),
// when a teammate's snapshot took its number on the remote before it was pushed: the same
// commit, record and tagger date under the new name, and the old name goes (only while it is
// still that tag). Keeping it would make every fetch of the remote's tags fail ("would clobber
// existing tag") and leave the snapshot unpushable. Returns the new name; nullopt when the tag
// is not a snapshot this can renumber.
std::optional<std::string> renumber_snapshot(const git::Repository& repo, const std::string& model, const std::string& tag,
                                             const std::vector<std::string>& taken_elsewhere);

// Another tag of the snapshot's model that is this snapshot moved to another number (renumber_snapshot:
// the same commit, tagger and date, the same record but for its number), if any: a move killed
// before it wrote its ledger, or one another `tag` of this clone made while this one pushed.
std::optional<std::string> find_moved_snapshot(const git::Repository& repo, const Snapshot& snapshot);

// Takes back a snapshot made here that lost its number on the remote before its push, so that it
// can be made anew under the next number: deletes the tag and its ledger entry, in one turn with
// the other writers (another `tag` of this clone may be moving the very same snapshot, and then it
// goes out under that number, not twice). False when it is no longer this unpushed tag.
bool withdraw_unpushed(const git::Repository& repo, const std::string& tag, const std::string& object);

// Whether this clone made that snapshot tag (that very object) and has not seen it on the
// remote yet: the only kind renumber_snapshot may move.
bool made_here_unpushed(const git::Repository& repo, const std::string& tag, const std::string& object);

// Forgets the tags as unpushed: the remote has them now.
void forget_unpushed(const git::Repository& repo, const std::vector<std::string>& tags);

// Notes why these of the unpushed snapshots are not to be pushed unasked by a later `tag`:
// "kept" (the user tagged with --no-push, or model.tag.push is false), or "sent:<remote>" (the
// pre-push hook saw a `git push` typed by hand send it there; that push may have failed, or it
// went and a teammate deleted it there since: only its author can tell).
void hold_unpushed(const git::Repository& repo, const std::vector<std::string>& tags, const std::string& why);

// Why an unpushed snapshot is held (hold_unpushed); nullopt when it is not.
std::optional<std::string> held_why(const git::Repository& repo, const std::string& tag, const std::string& object);

// The image .modelenv.yaml pins at a commit; nullopt when the commit has no such
// file. Throws gm::Error when the file does not load (the snapshot would lie).
std::optional<std::string> pinned_image_at(const git::Repository& repo, const std::string& commit);

// A model's snapshots, and the tags under its name that are not snapshots.
struct SnapshotList {
    std::vector<Snapshot> snapshots;   // newest (highest version) first
    std::vector<std::string> skipped;  // "model/x/v7: <why it is not read>", for warnings
};

// Reads every snapshot of a model (its branch need not exist any more).
SnapshotList list_snapshots(const git::Repository& repo, std::string_view model);

// The newest snapshot of a model, if any.
std::optional<Snapshot> latest_snapshot(const git::Repository& repo, std::string_view model);

// Finds a snapshot by tag: "model/x/v3", "refs/tags/model/x/v3", "x/v3", or
// "v3" for the model of the current worktree. Throws gm::Error when there is none.
Snapshot resolve_snapshot(const git::Repository& repo, std::string_view name,
                          const std::optional<std::string>& current_model);

// The most commits a comparison lists; more are counted, not listed.
inline constexpr std::size_t max_compared_commits = 1000;

// Two snapshots side by side.
struct Comparison {
    Snapshot a;
    Snapshot b;
    std::vector<MetricComparison> metrics;
    bool image_changed = false;
    std::optional<std::vector<std::string>> hardware;  // compare_hardware: what differs; nullopt: not known
    std::vector<git::CommitSummary> commits;  // in b and not in a, newest first
    std::size_t commit_count = 0;             // all of them (commits may be cut at max_compared_commits)
    std::size_t only_in_a = 0;                // commits in a and not in b (a is not an ancestor of b)
};

// Compares two snapshots: metrics, image, the commits between them.
Comparison compare_snapshots(const git::Repository& repo, const Snapshot& a, const Snapshot& b);

// `git model log --json` (git-model(1), JSON OUTPUT).
nlohmann::json log_json(std::string_view model, const std::vector<Snapshot>& newest_first);

// `git model compare --json`.
nlohmann::json to_json(const Comparison& comparison);

}  // namespace gm::snapshots
