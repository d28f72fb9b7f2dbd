#pragma once
// `git model finish`: main is protected, so finishing a model means review.
// Push the branch and open a merge request (GitLab, through push options), or
// print the page that opens one (GitHub and others); or, where model.finish.merge
// allows it, merge locally with --no-ff. The finish is recorded (finish_record.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/finish/finish_record.hpp"
#include "gitmodel/finish/forge.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/snapshots/share.hpp"

namespace gm::finish {

// What the user asked for.
struct FinishRequest {
    std::string model;
    bool merge = false;  // --merge: merge into the base locally instead of pushing
};

// How a push will ask for review: decided from settings and the remote URL alone (pure).
struct ReviewPlan {
    std::optional<model::ForgeKind> forge;          // nullopt: the remote has no web pages (a path, file://)
    std::optional<std::string> project_url;  // https://host/group/project
    std::optional<std::string> review_url;   // the page that opens (or shows) the review
    std::vector<std::string> push_options;   // GitLab's merge_request.* options
    std::string mode;                        // merge-request, pull-request or push
};

// Decides how a push asks for review: GitLab gets push options, every forge gets its review page.
ReviewPlan plan_review(const model::Settings& settings, const std::optional<std::string>& remote_url,
                       const std::string& branch, const std::string& base, const std::string& title);

// What was done, for the command to report.
struct FinishResult {
    std::string model;
    std::string branch;
    std::string base;
    std::string head;                        // the commit that was finished
    std::string mode;                        // merge-request, pull-request, push or merge (what the plan asks for)
    std::string remote;                      // empty for merge
    ReviewPlan review;
    std::optional<std::string> merge_commit;  // for merge
    std::int64_t finished_at = 0;
    bool branch_sent = false;                 // the push changed the branch on the remote (false: it had it already)
    bool review_requested = false;            // GitLab's push options went out with that push
    // The push failed as git saw it (its answer lost: a proxy's 502, a dropped connection), yet
    // the remote has the head right after: it most likely landed, review request and all. git's
    // words; empty otherwise. Then branch_sent is false and nothing claims more than that.
    std::string answer_lost;
    git::ForgeReply server;                        // what the server said about the branch's review
    std::optional<FinishRecord> earlier;      // nothing was pushed and this head was finished before: that record
    std::optional<snapshots::TeamShare> shared;          // the snapshot tags and finish notes (not for --merge)
    std::vector<std::string> recovered;       // what an earlier, interrupted finish --merge left and this one undid
};

// Finishes a model. Refuses (gm::Error, nothing changed) when its worktree has
// uncommitted changes, its branch has no commits of its own, the base is
// missing, or --merge is not allowed here. A push that sends nothing (the remote
// has the branch at its head already) requests no review and says so; an earlier
// finish record of that head is kept as it is. Then pushes the model's snapshot
// tags and the finish notes; what the remote refuses there is reported, not fatal.
FinishResult finish_model(const git::Repository& repo, const FinishRequest& request);

// The review title for a model ("Model resnet50", with the snapshot at its head when there is one).
std::string review_title(const git::Repository& repo, const std::string& model, const std::string& head);

}  // namespace gm::finish
