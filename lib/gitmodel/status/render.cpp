#include "gitmodel/status/render.hpp"

#include "gitmodel/core/text.hpp"
#include "gitmodel/snapshots/render.hpp"

#include <fmt/core.h>

namespace gm::status {

namespace {

std::string count_or_dash(const std::optional<std::size_t>& value) { return value ? std::to_string(*value) : "-"; }

}  // namespace

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
                                           s.record.metrics.empty() ? "" : "  " + snapshots::inline_metrics(s.record.metrics));
            if (report.snapshot_count > 1) text += fmt::format("  [{} snapshots]", report.snapshot_count);
            add("snapshot", text);
        } else {
            add("snapshot", "(none yet: git model tag --metric <name>=<value>)");
        }
        if (report.finished)
            add("finished", fmt::format("{} ({}{})", snapshots::format_local_time(report.finished->finished_at),
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
    // Printable: snapshots and finish notes are teammates' text, which must not drive the terminal.
    for (const auto& row : rows) out += fmt::format("{:<14}{}\n", row[0], printable(row[1]));
    return out;
}

}  // namespace gm::status
