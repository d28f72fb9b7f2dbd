#pragma once
// History a model's life needs to read: annotated tags (snapshots, archives),
// commit summaries, where a branch entered its base, remotes and notes. Read
// through libgit2; tags and notes are written by running git (see gm::snapshots and gm::finish).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::git {

// A tag with what snapshot listings need, read in one pass.
struct TagInfo {
    std::string name;               // short name, e.g. "model/resnet50/v3"
    std::string target;             // the commit it finally points at (peeled), empty if not a commit
    bool annotated = false;         // a tag object (lightweight tags carry no message)
    std::string message;            // the tag object's message (empty for lightweight tags)
    std::int64_t tagger_time = 0;   // tagger date, seconds since the epoch (0 when unknown)
    int tagger_offset_minutes = 0;  // the tagger's time zone, minutes east of UTC
    std::string tagger;             // "Name <email>", empty when unknown
};

// Every tag whose short name matches a glob ("model/resnet50/v*"), in ref order.
std::vector<TagInfo> tags_matching(const Repository& repo, std::string_view glob);

// One tag by short name, if it exists.
std::optional<TagInfo> find_tag(const Repository& repo, std::string_view name);

// A commit as one line of a listing.
struct CommitSummary {
    std::string id;
    std::string subject;               // first line of the message
    std::int64_t commit_time = 0;      // committer date, seconds since the epoch
    std::size_t parent_count = 0;      // 2+ for merge commits
};

// Reads a commit's summary; nullopt when the id names no commit here.
std::optional<CommitSummary> commit_summary(const Repository& repo, std::string_view commit);

// Some commits of a range and how many it has, so that a listing can be cut short honestly.
struct CommitRange {
    std::vector<std::string> commits;  // breadth-first from the tip: the newest come first
    std::size_t total = 0;             // all of them, also those not listed
};

// Commits reachable from tip and from none of exclude, at most limit of them
// listed. Walks by graph, not by date, so that clock skew (commits dated before
// their parents) cannot make it stop early as date-ordered walks do.
CommitRange commits_reachable_only_from(const Repository& repo, std::string_view tip,
                                        const std::vector<std::string>& exclude, std::size_t limit);

// The first-parent line of a branch tip, newest first: the history of what
// landed on it, computed once and shared by every merge_point question about it.
std::vector<std::string> first_parent_chain(const Repository& repo, std::string_view tip);

// The commit of a first-parent line (from first_parent_chain) where `commit`
// became part of it: the oldest one that contains `commit`. For a branch merged
// with a merge commit, that merge; for a fast-forward, the commit itself.
// nullopt when `commit` is not reachable from the line's tip.
std::optional<CommitSummary> merge_point(const Repository& repo, const std::vector<std::string>& chain,
                                         std::string_view commit);

// Whether a remote of this name is configured.
bool remote_exists(const Repository& repo, std::string_view remote);

// A remote's URL (remote.<name>.url with url.*.insteadOf applied as git does,
// else its pushurl): where its web pages are; nullopt when the remote does not exist.
std::optional<std::string> remote_url(const Repository& repo, std::string_view remote);

// The remote-tracking refs of a remote (refs/remotes/<remote>/*) and their commits,
// so that "is this pushed?" is one pass over what the last fetch or push saw.
std::vector<std::pair<std::string, std::string>> remote_tracking_refs(const Repository& repo, std::string_view remote);

// Every direct ref matching a glob ("refs/git-model/prune-remote/origin/heads/*") and the commit
// it peels to (refs that peel to no commit are left out): a read of a fetched namespace in one pass.
std::vector<std::pair<std::string, std::string>> refs_matching(const Repository& repo, std::string_view glob);

// The object a ref points at directly (a tag ref: the tag object, not its commit), hex; nullopt
// when there is no such ref.
std::optional<std::string> ref_object(const Repository& repo, std::string_view full_name);

// Deletes the ref `full_name` only while it still points at `object` (compare and delete in one
// step); returns whether it was deleted: false when it points elsewhere or is gone. A lock held
// by another git is waited for up to a second; then (a stale lock of a killed git) gm::Error
// names the lock file, so that no caller takes a blocked delete for a moved ref.
bool delete_ref_if_at(const Repository& repo, std::string_view full_name, std::string_view object);

// Deletes refs/heads/<name> only while it still points at commit (compare and
// delete in one step), leaving its configuration alone; returns whether it was
// deleted, throws like delete_ref_if_at. (Repository::delete_branch_if_at also renames the config section,
// which in libgit2 1.5 leaks in its regex matcher.)
bool delete_branch_ref_if_at(const Repository& repo, std::string_view name, std::string_view commit);

// The note a notes ref ("refs/notes/git-model") attaches to a commit, if any.
std::optional<std::string> read_note(const Repository& repo, std::string_view notes_ref, std::string_view commit);

}  // namespace gm::git
