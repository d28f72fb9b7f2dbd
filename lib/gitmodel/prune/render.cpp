#include "gitmodel/prune/render.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

namespace gm::prune {

namespace {

// The prune counts of a plan, for summary lines.
struct PruneCounts {
    std::size_t pruned = 0, kept = 0, failed = 0;
};

// One block per branch: kept with every reason, or pruned (would be, failed) with its steps.
std::string render_decisions(const std::vector<PruneDecision>& plan,
                             const std::vector<std::optional<PruneOutcome>>& outcomes, bool dry_run,
                             PruneCounts& counts) {
    std::string out;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto& decision = plan[i];
        const auto& fact = decision.facts;
        const std::string evidence =
            fact.merge_evidence.empty() ? std::string() : fmt::format("  merged: {}\n", fact.merge_evidence);
        if (!decision.prune) {
            ++counts.kept;
            out += fmt::format("keep  {} ({}): {}\n", fact.model, fact.branch, join(decision.reasons, "; "));
            out += evidence;
            continue;
        }
        const auto& outcome = i < outcomes.size() ? outcomes[i] : std::nullopt;
        if (dry_run) {
            ++counts.pruned;
            out += fmt::format("would prune {} ({}):\n", fact.model, fact.branch);
        } else if (outcome && outcome->done) {
            ++counts.pruned;
            out += fmt::format("pruned {} ({}):\n", fact.model, fact.branch);
        } else {
            ++counts.failed;
            out += fmt::format("FAILED {} ({}): {}\n", fact.model, fact.branch, outcome ? outcome->error : "");
        }
        out += evidence;
        for (const auto& forced : decision.overridden) out += fmt::format("  --force: {}\n", forced);
        for (const auto& step : decision.steps) out += fmt::format("  - {}\n", step.description);
    }
    return out;
}

}  // namespace

std::string render_prune(const std::vector<PruneDecision>& plan, const std::vector<std::optional<PruneOutcome>>& outcomes,
                         bool dry_run) {
    if (plan.empty()) return "No model branches.\n";
    PruneCounts counts;
    std::string out = render_decisions(plan, outcomes, dry_run, counts);
    out += fmt::format("{}: {} {}, {} kept{}.\n", dry_run ? "Dry run" : "Summary", counts.pruned,
                       dry_run ? "would be pruned" : "pruned", counts.kept,
                       counts.failed ? fmt::format(", {} failed", counts.failed) : std::string());
    return out;
}

std::string render_remote_prune(const RemotePruneResult& remote, bool dry_run) {
    std::string out = fmt::format("\nOn {}:\n", remote.remote);
    PruneCounts counts;
    if (remote.plan.empty()) out += fmt::format("No model branches on {}.\n", remote.remote);
    out += render_decisions(remote.plan, remote.outcomes, dry_run, counts);
    for (const auto& [from, to] : remote.archives_renamed)
        out += fmt::format("{} this clone's archive tag {} to {}: {} has a tag {} of another commit\n",
                           dry_run ? "would rename" : "renamed", from, to, remote.remote, from);
    for (const auto& tag : remote.archives_pushed)
        out += fmt::format("{} the archive tag {} to {}\n", dry_run ? "would push" : "pushed", tag, remote.remote);
    for (const auto& failure : remote.archive_failures) out += fmt::format("FAILED: archive tag {}\n", failure);
    out += fmt::format("{} ({}): {} {}, {} kept{}.\n", dry_run ? "Dry run" : "Summary", remote.remote, counts.pruned,
                       dry_run ? "would be deleted there" : "deleted there", counts.kept,
                       counts.failed + remote.archive_failures.size()
                           ? fmt::format(", {} failed", counts.failed + remote.archive_failures.size())
                           : std::string());
    return out;
}

}  // namespace gm::prune
