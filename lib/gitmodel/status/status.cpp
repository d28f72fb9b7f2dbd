#include "gitmodel/status/status.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/model/model_context.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

namespace gm::status {

namespace {

nlohmann::json optional_count(const std::optional<std::size_t>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json optional_text(const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

StatusReport read_status(const git::Repository& repo) {
    const auto workdir = repo.workdir();
    if (!workdir) throw Error("a bare repository has no worktree to report on", "run this inside a worktree");
    StatusReport report;
    report.worktree = *workdir;
    report.main_worktree = !repo.is_linked_worktree();
    report.branch = repo.current_branch();
    if (report.branch) report.model = naming::model_from_branch(*report.branch);
    report.head = repo.resolve_commit("HEAD");
    report.dirty = repo.has_uncommitted_changes();

    const model::Settings settings = model::read_settings(repo);
    if (report.model) {
        const model::ModelContext context = model::read_model(repo, *report.model);
        report.base = context.base;
    } else {
        report.base = settings.base_branch;
    }
    if (const auto base_commit = model::resolve_base(repo, report.base); base_commit && report.head) {
        report.base_exists = true;
        const auto counts = repo.ahead_behind(*report.head, *base_commit);
        report.ahead = counts.ahead;
        report.behind = counts.behind;
    }

    report.remote.remote = settings.remote;
    report.remote.configured = git::remote_exists(repo, settings.remote);
    if (report.remote.configured && report.branch && report.head) {
        const std::string tracking = fmt::format("{}/{}", settings.remote, *report.branch);
        if (const auto remote_commit = repo.resolve_commit("refs/remotes/" + tracking)) {
            report.remote.tracking = tracking;
            const auto counts = repo.ahead_behind(*report.head, *remote_commit);
            report.remote.ahead = counts.ahead;
            report.remote.behind = counts.behind;
        }
    }

    if (report.model) {
        auto list = snapshots::list_snapshots(repo, *report.model);
        report.snapshot_count = list.snapshots.size();
        if (!list.snapshots.empty()) report.latest_snapshot = std::move(list.snapshots.front());
        if (report.head) report.finished = finish::read_finish_record(repo, *report.head, *report.model, {model::remote_notes_ref(settings.remote)});
        // A report names what it cannot read (a bad model.engineTimeout, an engine that fails) and goes on.
        try {
            report.environment = snapshots::environment_state(repo, *report.model, report.worktree);
        } catch (const Error& e) {
            report.environment = snapshots::EnvironmentState{"unknown", e.what(), {}};
        }
    }

    report.hooks = hooks::hook_status(repo.hooks_dir());
    report.hooks_installed = !report.hooks.empty();
    for (const auto& hook : report.hooks)
        if (hook.state != hooks::HookState::current) report.hooks_installed = false;
    return report;
}

nlohmann::json to_json(const StatusReport& report) {
    nlohmann::json hooks = nlohmann::json::object();
    for (const auto& hook : report.hooks) hooks[hook.name] = hooks::to_string(hook.state);
    nlohmann::json snapshot = nullptr;
    if (report.latest_snapshot) {
        snapshot = snapshots::to_json(*report.latest_snapshot);
        snapshot["at_head"] = report.head && report.latest_snapshot->commit == *report.head;
    }
    nlohmann::json finished = nullptr;
    if (report.finished) {
        finished = {{"time", report.finished->finished_at},
                    {"mode", report.finished->mode},
                    {"base", report.finished->base},
                    {"remote", report.finished->remote.empty() ? nlohmann::json(nullptr)
                                                               : nlohmann::json(report.finished->remote)}};
    }
    nlohmann::json environment = nullptr;
    if (report.environment)
        environment = {{"state", report.environment->state},
                       {"detail", report.environment->detail},
                       {"drift", report.environment->drift}};
    return {
        {"version", 1},
        {"worktree", report.worktree.string()},
        {"main_worktree", report.main_worktree},
        {"branch", optional_text(report.branch)},
        {"model", optional_text(report.model)},
        {"head", optional_text(report.head)},
        {"base", report.base},
        {"ahead", optional_count(report.ahead)},
        {"behind", optional_count(report.behind)},
        {"dirty", report.dirty},
        {"remote",
         {{"name", report.remote.remote},
          {"configured", report.remote.configured},
          {"tracking", optional_text(report.remote.tracking)},
          {"ahead", optional_count(report.remote.ahead)},
          {"behind", optional_count(report.remote.behind)}}},
        {"snapshots", report.snapshot_count},
        {"latest_snapshot", snapshot},
        {"finished", finished},
        {"environment", environment},
        {"hooks", {{"installed", report.hooks_installed}, {"states", hooks}}},
    };
}

}  // namespace gm::status
