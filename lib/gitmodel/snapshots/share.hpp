#pragma once
// The team's state on the remote: snapshot tags pushed as they are made (when the model's
// branch has an upstream), `finish` pushing the model's snapshot tags and the finish notes
// (merged with the remote's notes first, never forced), and the fetch configuration that
// brings teammates' tags and notes back with a plain `git fetch`. A push that fails never
// undoes what was made here: it is reported with the command that pushes it later.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/snapshots/snapshots.hpp"

namespace gm::snapshots {

// The remote a branch's snapshots go to: its upstream's (branch.<b>.remote) when that is a
// configured remote; nullopt when it has none (not pushed yet) or tracks a local branch.
std::optional<std::string> upstream_remote(const git::Repository& repo, const std::string& branch);

// What became of pushing one snapshot tag.
struct TagPush {
    std::string remote;
    bool pushed = false;   // the remote has the tag now
    std::string problem;   // why not, in git's (or the server's) words
    std::string fix;       // what to do about it
    bool number_taken = false;  // the remote has another tag of that name (another clone's snapshot)
};

// What `git model tag` did.
struct TagOutcome {
    Snapshot snapshot;
    std::optional<TagPush> push;  // nullopt: no push was tried
    std::string not_pushed;       // why no push was tried ("model.tag.push is false", "no upstream"), for --json
    std::vector<std::string> renumbered;  // our tags another clone's push took first on the remote, given up
    // Snapshots made here before and never pushed whose numbers a teammate's took on the remote
    // meanwhile: renumbered ("model/x/v1 -> model/x/v3"), then pushed; and what went wrong on the way.
    std::vector<std::string> moved;
    std::vector<std::string> move_problems;
    // Snapshots made here before whose push never happened (a tag killed while pushing, a
    // remote down then), pushed now with this one.
    std::vector<std::string> left_pushed;
};

// Tags a snapshot (create_snapshot) and, when push is true, model.tag.push allows it and the
// branch has an upstream, pushes the tag there; the number then also skips those the remote
// has taken. A number another clone pushes first meanwhile is given up (our tag, unpushed, goes)
// and the snapshot takes the next one, a few times at most. A failed push keeps the snapshot and
// says so. Throws only what create_snapshot throws.
TagOutcome tag_and_push(const git::Repository& repo, TagRequest request, bool push);

// Pushes a snapshot tag made earlier, as tag_and_push would have (push asked, model.tag.push,
// the branch's upstream), when that remote does not have it yet: for a command rerun after it was
// killed between tagging and pushing. nullopt when no push is due (as tag_and_push's not_pushed).
std::optional<TagPush> push_existing_snapshot(const git::Repository& repo, const std::string& model, const std::string& tag,
                                              const std::string& commit, bool push);

// What `finish` shared with the remote beside the branch.
struct TeamShare {
    std::string remote;
    std::vector<std::string> tags_sent;   // snapshot tags the remote did not have
    bool notes_sent = false;              // refs/notes/git-model went out (merged with the remote's first)
    std::vector<std::string> moved;       // unpushed snapshots renumbered past a teammate's ("v1 -> v3")
    std::vector<std::string> problems;    // one per thing that did not reach the remote, with its fix
};

// Pushes a model's snapshot tags and the finish notes to a remote. Never throws for what the
// remote refuses or a remote that cannot be read: those become problems.
TeamShare share_model_state(const git::Repository& repo, const std::string& remote, const std::string& model);

// Whether `git fetch <remote>` brings the team's state: every tag (remote.<r>.tagOpt --tags,
// or a refs/tags/* fetch refspec) and the finish notes (a refs/notes/git-model fetch refspec).
struct FetchSetup {
    std::string remote;
    bool remote_exists = false;
    bool tags = false;
    bool notes = false;
    // An exact refspec of the notes (git-model wrote one before): `git fetch` then fails
    // whenever the remote has no finish notes.
    bool exact_notes = false;
    // A pattern refspec of the notes that stores them for another remote's name
    // (refs/notes/remotes/origin/... after `git remote rename origin upstream`): they arrive
    // where git-model does not read them. Replaced by the right one.
    bool misplaced_notes = false;

    // The git config commands that complete it (empty when complete).
    std::vector<std::string> commands() const;
};

// Reads the fetch configuration of the lifecycle remote (model.remote).
FetchSetup read_fetch_setup(const git::Repository& repo, const std::string& remote);

// Completes it in .git/config (only what is missing); returns one line per change.
std::vector<std::string> apply_fetch_setup(const git::Repository& repo, const std::string& remote);

}  // namespace gm::snapshots
