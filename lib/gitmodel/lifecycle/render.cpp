#include "gitmodel/lifecycle/render.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <algorithm>
#include <ctime>

namespace gm::lifecycle {

namespace {

std::string short_id(const std::string& id) { return id.substr(0, 10); }

// Pads cells to column widths; the last column is not padded.
std::string render_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right_aligned) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i) line += "  ";
            const bool right = i < right_aligned.size() && right_aligned[i];
            if (i + 1 == row.size() && !right) line += row[i];
            else if (right) line += fmt::format("{:>{}}", row[i], widths[i]);
            else line += fmt::format("{:<{}}", row[i], widths[i]);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string count_or_dash(const std::optional<std::size_t>& value) { return value ? std::to_string(*value) : "-"; }

}  // namespace

std::string format_local_time(std::int64_t seconds) {
    if (seconds <= 0) return "-";
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm local{};
    ::localtime_r(&t, &local);
    return fmt::format("{:%Y-%m-%d %H:%M}", local);
}

std::string inline_metrics(const std::vector<Metric>& metrics) {
    std::vector<std::string> parts;
    for (const auto& metric : metrics) parts.push_back(metric.name + "=" + metric.text);
    return join(parts, ", ");
}

namespace {

// The GPUs of a snapshot in a log cell: "NVIDIA H100 (GPU-1a2b3c4d) triad 91% fp32 78%", joined by " + ".
std::string gpu_summary(const std::vector<SnapshotGpu>& gpus) {
    if (gpus.empty()) return "-";
    std::vector<std::string> parts;
    for (const auto& gpu : gpus) {
        std::string part = gpu.name.empty() ? gpu.uuid.substr(0, 12) : fmt::format("{} ({})", gpu.name, gpu.uuid.substr(0, 12));
        if (gpu.triad_fraction) part += fmt::format(" triad {:.0f}%", *gpu.triad_fraction * 100.0);
        if (gpu.fp32_fraction) part += fmt::format(" fp32 {:.0f}%", *gpu.fp32_fraction * 100.0);
        parts.push_back(printable(part));
    }
    return join(parts, " + ");
}

// The hardware line of a comparison: nothing when a snapshot records none.
std::string hardware_line(const Comparison& comparison) {
    if (!comparison.hardware) return "";
    const auto gpus = [](const Snapshot& s) {
        std::vector<std::string> parts;
        for (const auto& gpu : s.record.gpus) parts.push_back(printable(describe_gpu(gpu)));
        return join(parts, " + ");
    };
    if (comparison.hardware->empty()) return fmt::format("Hardware: same: {}\n", gpus(comparison.a));
    std::vector<std::string> what;
    for (const auto& d : *comparison.hardware)
        what.push_back(d == "gpu_model" ? "GPU model" : d == "gpu" ? "GPU" : d == "driver" ? "driver" : d);
    return fmt::format("Hardware: DIFFERENT ({}): {} ran on {}; {} ran on {}\n", join(what, ", "), comparison.a.tag,
                       gpus(comparison.a), comparison.b.tag, gpus(comparison.b));
}

}  // namespace

std::string render_log(const std::vector<Snapshot>& newest_first) {
    const auto columns = metric_columns(newest_first);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"VERSION", "DATE", "COMMIT"};
    header.insert(header.end(), columns.begin(), columns.end());
    const bool any_gpu = std::any_of(newest_first.begin(), newest_first.end(),
                                     [](const Snapshot& s) { return !s.record.gpus.empty(); });
    header.push_back("IMAGE");
    if (any_gpu) header.push_back("GPU");  // no column (no noise) where no snapshot knows its hardware
    header.push_back("MESSAGE");
    rows.push_back(header);
    for (const auto& snapshot : newest_first) {
        std::vector<std::string> row{fmt::format("v{}{}", snapshot.record.version, snapshot.record.dirty ? " (dirty)" : ""),
                                     format_local_time(snapshot.time),
                                     short_id(snapshot.commit)};
        for (const auto& column : columns) {
            const Metric* metric = find_metric(snapshot.record.metrics, column);
            row.push_back(metric ? metric->text : "-");
        }
        row.push_back(snapshot.record.image ? *snapshot.record.image : "-");
        if (any_gpu) row.push_back(gpu_summary(snapshot.record.gpus));
        row.push_back(first_line(snapshot.record.message));
        rows.push_back(std::move(row));
    }
    std::vector<bool> right(3 + columns.size(), false);
    for (std::size_t i = 0; i < columns.size(); ++i) right[3 + i] = true;
    return render_table(rows, right);
}

std::string render_compare(const Comparison& comparison) {
    const auto& a = comparison.a;
    const auto& b = comparison.b;
    const auto dirty = [](const Snapshot& s) { return s.record.dirty ? std::string(", dirty") : std::string(); };
    std::string out = fmt::format("{} ({}{})  ->  {} ({}{})\n", a.tag, short_id(a.commit), dirty(a), b.tag,
                                  short_id(b.commit), dirty(b));
    for (const Snapshot* s : {&a, &b})
        if (s->record.dirty)
            out += fmt::format("Dirty: {} was tagged with uncommitted changes (hash {}): its commit does not hold "
                               "all the code that made its metrics\n",
                               s->tag, s->record.dirty->substr(0, 12));
    out += "\n";
    if (comparison.metrics.empty()) {
        out += "No metrics recorded in either snapshot.\n";
    } else {
        std::vector<std::vector<std::string>> rows{{"METRIC", a.tag, b.tag, "CHANGE"}};
        for (const auto& row : comparison.metrics) {
            std::string change = "-";
            if (row.a && row.b) change = format_difference(row.a->value, row.b->value);
            else if (row.b) change = "(new)";
            else change = "(gone)";
            rows.push_back({row.name, row.a ? row.a->text : "-", row.b ? row.b->text : "-", change});
        }
        out += render_table(rows, {false, true, true, true});
    }
    out += "\n";
    const auto image = [](const std::optional<std::string>& value) { return value ? *value : std::string("(none)"); };
    if (comparison.image_changed)
        out += fmt::format("Image: changed: {} -> {}\n", image(a.record.image), image(b.record.image));
    else
        out += fmt::format("Image: unchanged: {}\n", image(a.record.image));
    out += hardware_line(comparison);
    out += fmt::format("Commits: {} in {} that are not in {}", comparison.commit_count, b.tag, a.tag);
    if (comparison.only_in_a) out += fmt::format(" ({} in {} are not in {})", comparison.only_in_a, a.tag, b.tag);
    out += "\n";
    for (const auto& commit : comparison.commits)
        out += fmt::format("  {} {}  {}\n", short_id(commit.id), format_local_time(commit.commit_time), commit.subject);
    if (comparison.commits.size() < comparison.commit_count)
        out += fmt::format("  ... and {} more\n", comparison.commit_count - comparison.commits.size());
    return out;
}

std::string render_status(const StatusReport& report) {
    std::vector<std::vector<std::string>> rows;
    const auto add = [&](std::string key, std::string value) { rows.push_back({std::move(key) + ":", std::move(value)}); };
    add("worktree", report.worktree.string() + (report.main_worktree ? " (main)" : ""));
    add("model", report.model ? *report.model : "(none: not on a model branch)");
    add("branch", report.branch ? *report.branch : "(detached HEAD)");
    if (report.base_exists)
        add("base", fmt::format("{} ({} ahead, {} behind)", report.base, count_or_dash(report.ahead),
                                count_or_dash(report.behind)));
    else
        add("base", fmt::format("{} (does not exist)", report.base));
    add("changes", report.dirty ? "uncommitted" : "clean");
    if (!report.remote.configured)
        add("remote", fmt::format("{} (not configured)", report.remote.remote));
    else if (!report.remote.tracking)
        add("remote", fmt::format("{} (not pushed)", report.remote.remote));
    else
        add("remote", fmt::format("{} ({} to push, {} to pull)", *report.remote.tracking,
                                  count_or_dash(report.remote.ahead), count_or_dash(report.remote.behind)));
    if (report.model) {
        if (report.latest_snapshot) {
            const auto& s = *report.latest_snapshot;
            const bool at_head = report.head && s.commit == *report.head;
            std::string text = fmt::format("{} ({}{}{}){}", s.tag, short_id(s.commit), at_head ? ", at HEAD" : "",
                                           s.record.dirty ? ", dirty" : "",
                                           s.record.metrics.empty() ? "" : "  " + inline_metrics(s.record.metrics));
            if (report.snapshot_count > 1) text += fmt::format("  [{} snapshots]", report.snapshot_count);
            add("snapshot", text);
        } else {
            add("snapshot", "(none yet: git model tag --metric <name>=<value>)");
        }
        if (report.finished)
            add("finished", fmt::format("{} ({}{})", format_local_time(report.finished->finished_at),
                                        report.finished->mode,
                                        report.finished->remote.empty() ? "" : " to " + report.finished->remote));
        else
            add("finished", "no");
        add("environment", report.environment
                               ? report.environment->state +
                                     (report.environment->detail.empty() ? "" : " (" + report.environment->detail + ")")
                               : std::string("unknown"));
        if (report.environment && !report.environment->drift.empty())
            add("env drift", join(report.environment->drift, "; ") +
                                 " (.modelenv.yaml changed since the container started; "
                                 "`git model env up --recreate` replaces it)");
    }
    std::vector<std::string> hooks;
    for (const auto& hook : report.hooks) hooks.push_back(fmt::format("{} {}", hook.name, hooks::to_string(hook.state)));
    add("hooks", fmt::format("{}{}", report.hooks_installed ? "installed" : "not installed",
                             hooks.empty() ? "" : " (" + join(hooks, ", ") + ")"));
    std::string out;  // a fixed key column, so that scripts and eyes find the values in one place
    for (const auto& row : rows) out += fmt::format("{:<14}{}\n", row[0], row[1]);
    return out;
}

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
    for (const auto& tag : remote.archives_pushed)
        out += fmt::format("{} the archive tag {} to {}\n", dry_run ? "would push" : "pushed", tag, remote.remote);
    for (const auto& failure : remote.archive_failures) out += fmt::format("FAILED to push {}\n", failure);
    out += fmt::format("{} ({}): {} {}, {} kept{}.\n", dry_run ? "Dry run" : "Summary", remote.remote, counts.pruned,
                       dry_run ? "would be deleted there" : "deleted there", counts.kept,
                       counts.failed + remote.archive_failures.size()
                           ? fmt::format(", {} failed", counts.failed + remote.archive_failures.size())
                           : std::string());
    return out;
}

}  // namespace gm::lifecycle
