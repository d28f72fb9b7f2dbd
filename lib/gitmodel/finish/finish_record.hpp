#pragma once
// The finish record: a note in refs/notes/git-model on the commit a model was
// finished at. A note, because it is dated by git (GIT_COMMITTER_DATE), stays
// attached to exactly that commit, survives the branch's deletion (a config
// entry under branch.<name> would not), and can be pushed and read with
// `git log --notes=git-model`. Format (git-model(1), FILES):
//
//   Model-Finish: 1
//   Model: resnet50
//   Branch: feature/model-resnet50
//   Base: main
//   Mode: merge-request | pull-request | push | merge
//   Remote: origin            (absent for merge)
//   Finished: 1767323045      (seconds since the epoch, as git dates commits)
//   Review: https://...       (the merge request the server named; absent when it named none)
//
// `finish` pushes the notes ref to the remote (merging the remote's notes first), and the
// fetch refspec that hooks install sets up brings teammates' records to
// refs/notes/remotes/<remote>/git-model, where readers look after our own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::finish {

// What finishing a model recorded.
struct FinishRecord {
    std::string model;
    std::string branch;
    std::string base;
    std::string mode;     // merge-request, pull-request, push or merge
    std::string remote;   // empty for merge
    std::int64_t finished_at = 0;
    std::string review_url;  // the review the server named (GitLab's "View merge request"); empty when none
};

// The note text of a record.
std::string format_finish_record(const FinishRecord& record);

// Reads a note back; nullopt when it is not a finish record (another tool's note).
std::optional<FinishRecord> parse_finish_record(std::string_view text);

// The model's finish record on a commit, if any: from refs/notes/git-model, else from the other
// notes refs given (a remote's notes as fetched), first found wins. A note about another model is
// passed over: anyone who can push notes can attach one to any commit, and "finished" must not
// be believed for a model its record does not name.
std::optional<FinishRecord> read_finish_record(const git::Repository& repo, const std::string& commit,
                                               std::string_view model, const std::vector<std::string>& other_refs = {});

// Writes (or replaces) the finish record on a commit with `git notes`.
void write_finish_record(const git::Repository& repo, const std::string& commit, const FinishRecord& record);

}  // namespace gm::finish
