#include "gitmodel/prune/prune_plan.hpp"

#include "gitmodel/core/text.hpp"
#include <fmt/core.h>

#include <algorithm>
#include <ctime>

namespace gm::prune {

namespace {

// "a, b, c and 2 more": the first three of a list of files, for a reason's line.
std::string first_few(const std::vector<std::string>& files) {
    const std::vector<std::string> shown(files.begin(), files.begin() + std::min<std::size_t>(files.size(), 3));
    std::string text = join(shown, ", ");
    if (files.size() > shown.size()) text += fmt::format(" and {} more", files.size() - shown.size());
    return text;
}

std::string utc_date(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
    return buffer;
}

}  // namespace

const char* merged_by_word(MergedBy how) {
    switch (how) {
        case MergedBy::merge_commit: return "merge-commit";
        case MergedBy::finish_record: return "finish-record";
        case MergedBy::squash: return "squash";
        case MergedBy::rebase: return "rebase";
        case MergedBy::none: break;
    }
    return nullptr;
}

std::string describe_duration(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    const auto plural = [](std::int64_t n, const char* unit) {
        return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
    };
    if (seconds < 2 * 3600) return plural(seconds / 60, "minute");
    if (seconds < 86400) return plural(seconds / 3600, "hour");
    return plural(seconds / 86400, "day");
}

std::pair<std::string, bool> choose_archive_tag(
    const std::string& name, const std::string& head,
    const std::function<std::optional<std::string>(const std::string&)>& existing_target) {
    for (int n = 1;; ++n) {
        const std::string candidate = n == 1 ? name : fmt::format("{}@{}", name, n);
        const auto target = existing_target(candidate);
        if (!target) return {candidate, false};
        if (*target == head) return {candidate, true};
    }
}

std::vector<PruneDecision> plan_prune(const std::vector<PruneFacts>& facts, const PruneOptions& options) {
    std::vector<PruneDecision> plan;
    for (const auto& fact : facts) {
        PruneDecision decision;
        decision.facts = fact;
        auto& reasons = decision.reasons;
        auto& overridden = decision.overridden;

        if (fact.merged_at) {
            decision.eligible_at = *fact.merged_at + options.retention_seconds;
            if (options.now < *decision.eligible_at) {
                reasons.push_back(fmt::format("merged {} ago; kept for audit until {} (retention {})",
                                              describe_duration(options.now - *fact.merged_at),
                                              utc_date(*decision.eligible_at),
                                              describe_duration(options.retention_seconds)));
            }
        } else {
            const std::string why =
                !fact.base_exists ? fmt::format("its base '{}' does not exist", fact.base)
                : fact.in_base && fact.no_own_commits
                    ? fmt::format("it has no commits of its own (nothing beyond {}); nothing of it was merged", fact.base)
                : fact.in_base    ? fmt::format("it is in {} but without a merge commit or finish record", fact.base)
                                  : fmt::format("it is not merged into {}", fact.base);
            if (!options.force) {
                reasons.push_back(why);
            } else {
                decision.eligible_at = fact.last_commit_time + options.retention_seconds;
                if (options.now < *decision.eligible_at) {
                    reasons.push_back(fmt::format("{}, and its last commit is only {} old", why,
                                                  describe_duration(options.now - fact.last_commit_time)));
                } else {
                    overridden.push_back(why);
                }
            }
        }

        if (!fact.not_yours.empty()) reasons.push_back(fact.not_yours);  // not even --force
        if (!fact.pending_start.empty()) reasons.push_back(fact.pending_start);
        if (fact.worktree_main)
            reasons.push_back("it is checked out in the main worktree (switch that to another branch first)");
        if (fact.worktree_current) reasons.push_back("you are inside its worktree (run prune from elsewhere)");
        if (!fact.worktree_operation.empty())  // not even --force: its new commits are on no branch yet
            reasons.push_back(fmt::format(
                "{} is in progress in its worktree, which holds the branch until it ends ({})", fact.worktree_operation,
                fact.worktree_operation_ending));
        if (fact.worktree_foreign)  // not even --force: git's own removal refuses it too
            reasons.push_back(fmt::format("its worktree {} {}", fact.worktree->string(), *fact.worktree_foreign));

        const bool readable_worktree =
            fact.worktree && !fact.worktree_missing && !fact.worktree_main && !fact.worktree_foreign;
        if (fact.worktree && !fact.worktree_main && fact.worktree_locked) {
            if (options.force) overridden.push_back("its worktree is locked");
            else reasons.push_back("its worktree is locked (git worktree unlock)");
        }
        if (fact.worktree && fact.worktree_missing && !fact.missing_worktree_staged.empty()) {
            const std::string what = fmt::format(
                "its worktree's folder {} is gone, but git's record of it holds {}: if the folder was moved by "
                "hand, `git worktree repair <its new place>` joins them again",
                fact.worktree->string(), fact.missing_worktree_staged);
            if (options.force) overridden.push_back(fmt::format("{}; forgetting the record loses them", what));
            else reasons.push_back(fmt::format("{} (--force forgets the record and them)", what));
        }
        if (readable_worktree && fact.dirty.value_or(false)) {
            if (options.force) overridden.push_back("the uncommitted changes in its worktree will be lost");
            else reasons.push_back("its worktree has uncommitted changes");
        } else if (readable_worktree && !fact.dirty && !fact.worktree_locked) {
            if (options.force) overridden.push_back("its worktree's state could not be read");
            else reasons.push_back("its worktree's state cannot be read");
        }
        if (readable_worktree && !fact.submodules.empty())  // not even --force: git refuses such a removal
            reasons.push_back(fmt::format(
                "its worktree holds the submodule{} {}, whose repository may hold commits found nowhere else (git "
                "cannot remove such a worktree; push what it holds, then `git submodule deinit --all` in it, or remove "
                "the worktree yourself)",
                fact.submodules.size() == 1 ? "" : "s", join(fact.submodules, ", ")));
        if (readable_worktree && !fact.filtered.empty()) {
            const std::string what = fmt::format(
                "its worktree holds what a clean filter keeps out of git (checkout would not give it back): {}",
                first_few(fact.filtered));
            if (options.force) overridden.push_back(fmt::format("{} will be lost", what));
            else reasons.push_back(what);
        }
        if (readable_worktree && !fact.hidden.empty()) {
            const std::string what = fmt::format(
                "its worktree holds files whose changes git hides (skip-worktree), so git cannot vouch for them: {}",
                first_few(fact.hidden));
            if (options.force) overridden.push_back(fmt::format("{} will be deleted, changed or not", what));
            else reasons.push_back(what);
        }
        if (readable_worktree && fact.untracked_count > 0) {
            if (options.force)
                overridden.push_back(fmt::format("the files git does not track in its worktree will be deleted: {}",
                                                 fact.untracked));
            else
                reasons.push_back(fmt::format("its worktree holds files git does not track: {}", fact.untracked));
        }
        if (fact.unpushed.value_or(false)) {
            if (options.force) overridden.push_back(fmt::format("it has commits that are not on {}", fact.remote));
            else reasons.push_back(fmt::format("it has commits that are not on {}", fact.remote));
        }

        if (!fact.foreign_container.empty()) reasons.push_back(fact.foreign_container);  // not even --force
        decision.prune = reasons.empty();
        if (decision.prune) {
            using Kind = PruneStep::Kind;
            decision.steps.push_back(
                {Kind::archive_tag, fact.archive_tag_exists
                                        ? fmt::format("keep the archive tag {} (already at {})", fact.archive_tag,
                                                      short_id(fact.head))
                                        : fmt::format("tag {} as {}", short_id(fact.head), fact.archive_tag)});
            for (const auto& ref : fact.worktree_refs) {
                decision.steps.push_back(
                    {Kind::archive_tag,
                     ref.tag_exists ? fmt::format("keep the archive tag {} (already at {}, which only {} of its "
                                                  "worktree holds)",
                                                  ref.tag, short_id(ref.target), ref.ref)
                                    : fmt::format("tag {} as {} (only {} of its worktree holds it)", short_id(ref.target),
                                                  ref.tag, ref.ref)});
            }
            for (const auto& line : fact.environment) decision.steps.push_back({Kind::remove_environment, line});
            if (fact.worktree) {
                decision.steps.push_back(
                    {Kind::remove_worktree,
                     fact.worktree_missing
                         ? fmt::format("forget the worktree {} (its folder is gone)", fact.worktree->string())
                         : fmt::format("remove the worktree {}", fact.worktree->string())});
            }
            decision.steps.push_back({Kind::delete_branch, fmt::format("delete the branch {}", fact.branch)});
        }
        plan.push_back(std::move(decision));
    }
    return plan;
}

nlohmann::json prune_rows_json(const std::vector<PruneDecision>& plan,
                               const std::vector<std::optional<PruneOutcome>>& outcomes) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto& decision = plan[i];
        const auto& fact = decision.facts;
        nlohmann::json steps = nlohmann::json::array();
        for (const auto& step : decision.steps) steps.push_back(step.description);
        const char* how = merged_by_word(fact.merged_by);
        nlohmann::json row = {
            {"name", fact.model},
            {"branch", fact.branch},
            {"head", fact.head},
            {"base", fact.base},
            {"action", decision.prune ? "prune" : "keep"},
            {"reasons", decision.reasons},
            {"forced", decision.overridden},
            {"merged_at", fact.merged_at ? nlohmann::json(*fact.merged_at) : nlohmann::json(nullptr)},
            {"merged_by", how ? nlohmann::json(how) : nlohmann::json(nullptr)},
            {"merge_evidence", fact.merge_evidence.empty() ? nlohmann::json(nullptr) : nlohmann::json(fact.merge_evidence)},
            {"eligible_at", decision.eligible_at ? nlohmann::json(*decision.eligible_at) : nlohmann::json(nullptr)},
            {"worktree", fact.worktree ? nlohmann::json(fact.worktree->string()) : nlohmann::json(nullptr)},
            {"archive_tag", decision.prune ? nlohmann::json(fact.archive_tag) : nlohmann::json(nullptr)},
            {"steps", steps},
            {"done", nullptr},
            {"error", nullptr},
        };
        if (i < outcomes.size() && outcomes[i]) {
            row["done"] = outcomes[i]->done;
            if (!outcomes[i]->error.empty()) row["error"] = outcomes[i]->error;
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

nlohmann::json prune_json(const std::vector<PruneDecision>& plan, const std::vector<std::optional<PruneOutcome>>& outcomes,
                          const PruneOptions& options, bool dry_run) {
    const nlohmann::json rows = prune_rows_json(plan, outcomes);
    return {
        {"version", 1},
        {"dry_run", dry_run},
        {"now", options.now},
        {"retention_seconds", options.retention_seconds},
        {"force", options.force},
        {"models", rows},
    };
}

}  // namespace gm::prune
