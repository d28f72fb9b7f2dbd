#pragma once
// `git model prune --remote`: the retention rule carried out on the team's remote. The
// remote's model branches and bases are fetched into a scratch namespace (removed again
// afterwards), judged with the same rule as local branches against the remote's own base
// (merge commits, finish records, squash and rebase merges), and a merged branch past its
// retention is archived first (the tag pushed) and then deleted with a lease on exactly the
// commit that was judged: a branch that moved meanwhile is kept. An unmerged branch is never
// deleted there, whatever --force says.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/prune/prune_plan.hpp"
#include "gitmodel/model/settings.hpp"

namespace gm::prune {

// Where a remote's refs are fetched to for judging: refs/git-model/prune-remote/<remote>/.
std::string remote_prune_scratch(const std::string& remote);

// What prune did (or, in a dry run, would do) on the remote.
struct RemotePruneResult {
    std::string remote;
    std::vector<PruneDecision> plan;                    // one per model branch on the remote
    std::vector<std::optional<PruneOutcome>> outcomes;  // per plan entry; nullopt when kept or dry run
    std::vector<std::string> archives_pushed;           // archive tags of this run's local prunes now on the remote
    // This clone's archives whose name the remote gives another commit: {old name, new name} (@2, ...)
    std::vector<std::pair<std::string, std::string>> archives_renamed;
    std::vector<std::string> archives_shared;           // of the local archives given, those the remote has now (pushed or not)
    std::vector<std::string> archive_failures;          // "<tag>: why" for those the remote did not take
    std::size_t failed = 0;
};

// An archive tag made here, to push to the remote too: one the local part of this prune made, or
// one an earlier prune made here and never shared (killed at its push, a remote that was down, a
// prune without --remote: listed in <common dir>/git-model/archives-unshared until the remote has
// it); the team must see every archive, since the branch it keeps is gone.
struct LocalArchive {
    std::string tag;
    std::string commit;
};
using LocalArchives = std::vector<LocalArchive>;

// Judges the remote's model branches and (unless dry_run) archives and deletes those the rule
// lets go; pushes local_archives. options.force is ignored: never an unmerged branch. Throws
// gm::Error, changing nothing on the remote, when the remote cannot be read or fetched.
RemotePruneResult prune_remote(const git::Repository& repo, const model::Settings& settings,
                               const PruneOptions& options, bool dry_run, const LocalArchives& local_archives,
                               const std::function<void(const std::string&)>& say);

// The "remote" part of `git model prune --json`: {"name", "models" (rows as for local branches),
// "archive_tags_pushed", "archive_tag_failures"}.
nlohmann::json remote_prune_json(const RemotePruneResult& result);

}  // namespace gm::prune
