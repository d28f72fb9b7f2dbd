#include "gitmodel/finish/finish.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/finish/finish_record.hpp"
#include "gitmodel/finish/local_merge.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/push.hpp"
#include "gitmodel/git/worktree_state.hpp"
#include "gitmodel/model/model_context.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/snapshots/snapshots.hpp"

#include <fmt/core.h>

#include <map>

namespace gm::finish {

namespace {

void refuse_dirty(const git::Repository& repo, const model::ModelContext& context) {
    if (!context.checkout || context.checkout->missing) return;
    bool dirty = false;
    try {
        dirty = repo.open_worktree(context.checkout->path).has_uncommitted_changes();
    } catch (const Error& e) {
        throw Error(fmt::format("cannot read the state of {}: {}", context.checkout->path.string(), e.what()));
    }
    if (dirty) {
        throw Error(fmt::format("model '{}' has uncommitted changes in {}", context.name,
                                context.checkout->path.string()),
                    "commit them (or stash, or remove untracked files) and finish again");
    }
}

// Pushes the branch (GitLab: with the merge-request options) and reads what happened: whether
// anything went out, what the server said, the upstream recorded. Throws when the push failed.
// Whether the remote has the branch at exactly this commit (then a push would send nothing).
bool remote_has(const git::Repository& repo, const std::string& remote, const std::string& branch,
                const std::string& head) {
    const std::string ref = "refs/heads/" + branch;
    std::map<std::string, git::RemoteRef> refs;
    try {
        refs = git::list_remote_refs(repo, remote, {ref}, git::RemoteSide::push);
    } catch (const Error& e) {
        throw Error(fmt::format("{}; the model is not finished", e.what()), e.hint());
    }
    const auto found = refs.find(ref);
    return found != refs.end() && found->second.object == head;
}

// Pushes the branch (GitLab: with the merge-request options) and reads what happened: whether
// anything went out, what the server said, the upstream recorded. Throws when the push failed.
void push_for_review(const git::Repository& repo, const model::Settings& settings, const model::ModelContext& context,
                     FinishResult& result) {
    // A push that would send nothing is not made: git would say "Everything up-to-date" and send
    // no push options (git 2.39 even dies of SIGPIPE writing them, now and then).
    result.branch_sent = !remote_has(repo, settings.remote, context.branch, result.head);
    if (result.branch_sent) {
        git::PushRequest push;
        push.remote = settings.remote;
        push.refspecs = {fmt::format("refs/heads/{0}:refs/heads/{0}", context.branch)};
        push.push_options = result.review.push_options;
        push.show_messages = true;  // the pre-push hook and the server's merge-request lines, as they come
        if (context.checkout && !context.checkout->missing) push.where = context.checkout->path;
        const auto pushed = git::push_refs(repo, push);
        const auto* line = pushed.find("refs/heads/" + context.branch);
        const bool done = pushed.run.ok() && line && (line->sent() || line->up_to_date());
        // The remote has the head now though git saw the push fail. With an answer for the branch
        // (a refusal: "[remote rejected] (failed to update ref)"), someone pushed this very commit
        // first and nothing of ours went out. Without one (no line, a line that says sent while git
        // failed after it, or "[remote failure] (remote failed to report status)"), the answer was
        // lost, most likely after ours landed.
        if (!done && remote_has(repo, settings.remote, context.branch, result.head)) {
            result.branch_sent = false;
            if (!line || line->sent() || line->summary == "[remote failure]") {
                std::string said = pushed.run.describe() + (pushed.run.err.empty() ? "" : ": " + pushed.run.err);
                while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
                replace_all(said, "\n", "; ");  // git's lines, on one line
                result.answer_lost = said;
            }
        } else if (!done) {
            throw Error(fmt::format("`git push {} {}` {}; the model is not finished", settings.remote, context.branch,
                                    line ? pushed.why(line->to) : pushed.run.describe()),
                        result.review.push_options.empty()
                            ? "see git's messages above"
                            : "see git's messages above; a server that refuses push options is not GitLab: "
                              "git config model.forge github (or other)");
        } else {
            result.branch_sent = line->sent();
            result.server = git::parse_forge_reply(pushed.run.err, context.branch);
        }
    }
    result.review_requested = result.branch_sent && !result.review.push_options.empty();
    // The upstream is recorded here rather than by --set-upstream: git's own config write
    // does not wait for a lock another command holds, ours does.
    auto config = repo.config();
    config.set_local(fmt::format("branch.{}.remote", context.branch), settings.remote);
    config.set_local(fmt::format("branch.{}.merge", context.branch), "refs/heads/" + context.branch);
    if (!result.branch_sent) {
        if (auto earlier = read_finish_record(repo, result.head, context.name, {model::remote_notes_ref(settings.remote)});
            earlier && earlier->remote == settings.remote)
            result.earlier = std::move(earlier);
    }
}

}  // namespace

ReviewPlan plan_review(const model::Settings& settings, const std::optional<std::string>& remote_url,
                       const std::string& branch, const std::string& base, const std::string& title) {
    ReviewPlan plan;
    plan.mode = "push";
    if (remote_url) plan.project_url = project_web_url(*remote_url, settings.forge_url);
    else if (settings.forge_url) plan.project_url = project_web_url("", settings.forge_url);
    if (const auto& forge = settings.forge.value()) {
        plan.forge = forge;
    } else if (plan.project_url) {
        const auto location = parse_remote_url(*plan.project_url);
        plan.forge = location ? guess_forge(location->host) : model::ForgeKind::other;
    }
    if (!plan.forge) return plan;
    if (plan.project_url) plan.review_url = review_url(*plan.forge, *plan.project_url, branch, base);
    if (*plan.forge == model::ForgeKind::gitlab) {
        plan.push_options = gitlab_push_options(base, title);
        plan.mode = "merge-request";
    } else if (plan.review_url) {
        plan.mode = "pull-request";
    }
    return plan;
}

std::string review_title(const git::Repository& repo, const std::string& model, const std::string& head) {
    std::string title = fmt::format("Model {}", model);
    const auto latest = snapshots::latest_snapshot(repo, model);
    if (!latest || latest->commit != head) return title;
    title += fmt::format(" v{}", latest->record.version);
    std::vector<std::string> metrics;
    for (const auto& metric : latest->record.metrics) metrics.push_back(metric.name + "=" + metric.text);
    if (!metrics.empty()) title += " (" + join(metrics, ", ") + ")";
    return title;
}

FinishResult finish_model(const git::Repository& repo, const FinishRequest& request) {
    const model::Settings settings = model::read_settings(repo);
    // finish's own keys are refused when malformed, whether this finish needs them or not, before anything happens.
    settings.allow_local_merge.value();
    settings.forge.value();
    const model::ModelContext context = model::require_model(repo, request.model);
    FinishResult result;
    result.model = context.name;
    result.branch = context.branch;
    result.base = context.base;
    result.head = *context.head;

    refuse_dirty(repo, context);
    const auto base_commit = model::resolve_base(repo, context.base);
    if (!base_commit) {
        throw Error(fmt::format("the base '{}' of model '{}' does not exist", context.base, context.name),
                    fmt::format("fetch or create it, or record another: git config branch.{}.modelBase <branch>",
                                context.branch));
    }
    const bool nothing_of_its_own = repo.ahead_behind(result.head, *base_commit).ahead == 0;
    const auto merged_before =
        nothing_of_its_own ? merge_of_head(repo, context, result.head, *base_commit) : std::nullopt;
    const auto finished_before = nothing_of_its_own ? read_finish_record(repo, result.head, context.name) : std::nullopt;
    const bool record_merge = merged_before && merged_before->unrecorded_finish && !finished_before;
    if (nothing_of_its_own && !(record_merge && request.merge)) {
        if (const auto& earlier = finished_before) {
            throw Error(fmt::format("model '{}' was finished at {} already ({}, {}), and {} holds it", context.name,
                                    short_id(result.head), earlier->mode,
                                    snapshots::format_local_time(earlier->finished_at), context.base),
                        "nothing is left to finish; commit new work on the model to finish again");
        }
        if (record_merge) {
            throw Error(fmt::format("{} is merged into {} already ({}), by a `git model finish --merge` that was "
                                    "stopped before it recorded that",
                                    context.branch, context.base, short_id(merged_before->commit)),
                        "record it with `git model finish --merge`");
        }
        if (merged_before) {
            throw Error(fmt::format("{} is merged into {} already ({})", context.branch, context.base,
                                    short_id(merged_before->commit)),
                        "nothing is left to finish; commit new work on the model to finish again");
        }
        if (result.head == *base_commit) {
            // The base at the model's head: the model never moved, or the base was moved to it
            // (a fast-forward by hand), which its reflog tells apart.
            const auto created_at = git::branch_created_at(repo, context.branch);
            if (created_at && *created_at != result.head && repo.is_ancestor(*created_at, result.head))
                throw Error(fmt::format("{} is merged into {} already: {} was moved to the model's head ({}), a "
                                        "fast-forward",
                                        context.branch, context.base, context.base, short_id(result.head)),
                            "nothing is left to finish; commit new work on the model to finish again");
            throw Error(fmt::format("{} has no commits of its own (nothing beyond {})", context.branch, context.base),
                        "commit the model's work first; there is nothing to review");
        }
        throw Error(fmt::format("{} has nothing that {} does not have ({} is in {})", context.branch, context.base,
                                short_id(result.head), context.base),
                    "commit the model's work first; there is nothing to review (if it was merged by hand, nothing "
                    "is left to finish)");
    }

    if (request.merge) {
        result.mode = "merge";
        if (record_merge) {
            result.merge_commit = merged_before->commit;
            result.recovered.push_back(fmt::format(
                "{} was merged into {} ({}) by an earlier `git model finish --merge` that was stopped before it "
                "recorded that; recorded now.",
                context.branch, context.base, short_id(merged_before->commit)));
            forget_finished_merge(repo, context);
        } else {
            result.merge_commit = merge_locally(repo, context, settings, result.recovered);
        }
    } else {
        if (!git::remote_exists(repo, settings.remote)) {
            throw Error(fmt::format("there is no remote '{}' to push {} to", settings.remote, context.branch),
                        "add one (git remote add origin <url>) or name yours: git config model.remote <name>");
        }
        result.remote = settings.remote;
        result.review = plan_review(settings, git::remote_url(repo, settings.remote), context.branch,
                                    context.base, review_title(repo, context.name, result.head));
        result.mode = result.review.mode;
        push_for_review(repo, settings, context, result);
    }

    if (result.earlier) {
        // Finished before at this very head: that record (and its date, which dates a
        // fast-forward merge for prune) stays as it is.
        result.finished_at = result.earlier->finished_at;
    } else {
        result.finished_at = git_now(repo);
        FinishRecord record;
        record.model = result.model;
        record.branch = result.branch;
        record.base = result.base;
        // A push that sent nothing requested no review: the record says only that it is on the remote.
        // One whose answer was lost most likely landed with its request: the plan's mode.
        record.mode = request.merge || result.branch_sent || !result.answer_lost.empty() ? result.mode : "push";
        record.remote = result.remote;
        record.finished_at = result.finished_at;
        if (result.server.review_url) record.review_url = *result.server.review_url;
        try {
            write_finish_record(repo, result.head, record);
        } catch (const Error& e) {
            throw Error(fmt::format("{} was {}, but the finish was not recorded: {}", context.branch,
                                    request.merge ? "merged" : "pushed", e.what()),
                        "prune dates fast-forwarded merges by this record; finish again to record it");
        }
    }
    if (!request.merge) result.shared = snapshots::share_model_state(repo, settings.remote, context.name);
    return result;
}

}  // namespace gm::finish
