#include "gitmodel/sweep/report.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/snapshots/metric_json.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/sweep/backend.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/local.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/shelf.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace gm::sweep {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::string format_duration(std::int64_t seconds) {
    if (seconds < 0) return "-";
    if (seconds < 60) return fmt::format("{}s", seconds);
    if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
    return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

std::optional<std::int64_t> duration_of(const RunStatus& status) {
    if (!status.started) return std::nullopt;
    return (status.ended ? status.ended : now_seconds()) - status.started;
}

void flatten(const json& value, const std::string& prefix, std::vector<snapshots::Metric>& out,
             const fs::path& file) {
    (void)file;
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it)
            flatten(it.value(), prefix.empty() ? it.key() : prefix + "/" + it.key(), out, file);
        return;
    }
    if (!value.is_number()) return;  // text and flags are not metrics
    const double number = value.get<double>();
    if (!std::isfinite(number)) return;
    snapshots::Metric metric;
    metric.name = prefix;
    metric.value = number;
    metric.text = value.dump();
    out.push_back(std::move(metric));
}

// Every attempt of a run that ended: {"exit_code", "signal", "started", "ended"}.
json attempts_json(const RunStatus& status) {
    json out = json::array();
    for (const auto& attempt : status.attempts)
        out.push_back({{"exit_code", attempt.exit_code ? json(*attempt.exit_code) : json(nullptr)},
                       {"signal", attempt.signal ? json(attempt.signal) : json(nullptr)},
                       {"started", attempt.started},
                       {"ended", attempt.ended}});
    return out;
}

}  // namespace

std::size_t SweepView::count(RunState state) const {
    return static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [&](const RunView& r) { return r.state == state; }));
}

std::string SweepView::summary() const {
    std::vector<std::string> counts;
    for (RunState state : {RunState::queued, RunState::running, RunState::done, RunState::failed, RunState::cancelled})
        if (auto n = count(state)) counts.push_back(fmt::format("{} {}", n, to_string(state)));
    std::string line = join(counts, ", ");
    // --max-failures stopped the sweep: say so where its queued runs are counted.
    const auto held = std::count_if(runs.begin(), runs.end(), [](const RunView& r) { return r.state == RunState::queued && r.status.held; });
    if (held > 0)
        line += fmt::format("; stopped: the sweep reached --max-failures {}, {} not started (`git model sweep resume {}`)",
                            sweep.max_failures, count_of(static_cast<std::size_t>(held), "run"), sweep.id);
    return line;
}

SweepView view_sweep(const Sweep& sweep) {
    SweepView view;
    view.sweep = sweep;
    std::map<int, SlurmTask> tasks;
    bool scheduler_alive = false;
    bool scheduler_died = false;  // its record is there, its process is not: it was killed
    bool slurm_answered = false;
    bool exported = false;
    if (sweep.backend == Backend::slurm) {
        tasks = query_tasks(sweep, &slurm_answered);
        view.scheduler = sweep.slurm.job_ids.empty() ? "not submitted" : "slurm job " + join(sweep.slurm.job_ids, ", ");
    } else {
        scheduler_alive = scheduler_running(sweep);
        const auto record = load_scheduler(sweep);
        scheduler_died = record && !scheduler_alive;
        exported = exported_to_k8s(sweep);  // its runs are Kubernetes's to start
        view.scheduler = scheduler_alive ? fmt::format("running (pid {})", record->process.pid)
                       : record          ? "stopped unexpectedly"
                                         : "not running";
    }
    for (const auto& spec : sweep.runs) {
        RunView run;
        run.spec = spec;
        run.status = load_run(sweep, spec.number);
        run.state = run.status.state;
        run.detail = run.status.note;
        run.log = run_log(sweep, spec.number);
        const bool unfinished = run.status.state == RunState::queued || run.status.state == RunState::running;
        // A run's process leads a group of its own, so it outlives a scheduler killed alone (SIGKILL, OOM).
        const bool orphan_alive = run.status.state == RunState::running && run.status.process.pid > 0 &&
                                  (run.status.host.empty() || run.status.host == host_name()) &&
                                  proc::is_running(run.status.process);
        if (unfinished && sweep.backend == Backend::local && scheduler_died && orphan_alive) {
            run.detail = fmt::format("the scheduler stopped, but this run's process (pid {}) still runs; wait for it, or "
                                     "stop it with `git model sweep cancel {}`",
                                     run.status.process.pid, sweep.id);
        } else if (unfinished && sweep.backend == Backend::local && scheduler_died) {
            run.detail = "the scheduler stopped before this run finished; `git model sweep resume` reruns it";
            if (run.status.state == RunState::running) run.state = RunState::failed;
        } else if (run.status.state == RunState::queued && !run.status.held && sweep.backend == Backend::local &&
                   !scheduler_alive && !exported) {
            // Queued by a start, extend or resume killed before it started the scheduler: nothing would run it.
            run.detail = fmt::format("queued, but no scheduler runs this sweep: unless a `git model sweep` command "
                                     "is starting one right now, `git model sweep resume {}` does",
                                     sweep.id);
        } else if (unfinished && sweep.backend == Backend::slurm) {
            const auto task = tasks.find(spec.number);
            if (task == tasks.end()) {
                if (slurm_answered && !sweep.slurm.job_ids.empty() && run.status.state == RunState::running) {
                    run.state = RunState::failed;
                    run.detail = "Slurm no longer lists the task, and it recorded no result";
                } else if (slurm_answered && !sweep.slurm.job_ids.empty() && !run.status.held) {
                    // Queued, never started, and its job is gone: cancelled by hand (scancel) or
                    // purged. Shown as cancelled, so that resume queues it again.
                    run.state = RunState::cancelled;
                    run.detail = "Slurm no longer lists its job, which never started it (cancelled outside git-model?); "
                                 "`git model sweep resume` queues it again";
                }
            } else if (task->second.state == "PENDING") {
                run.state = RunState::queued;
                run.detail = task->second.reason == "None" ? "" : "slurm: " + task->second.reason;
            } else if (task->second.state == "RUNNING" || task->second.state == "COMPLETING") {
                run.state = RunState::running;
            } else if (task->second.state.rfind("CANCELLED", 0) == 0) {
                run.state = RunState::cancelled;
                run.detail = "cancelled in Slurm";
            } else if (task->second.state != "COMPLETED") {
                run.state = RunState::failed;
                run.detail = "slurm: " + task->second.state;
            }
        }
        view.runs.push_back(std::move(run));
    }
    const bool all_ended = std::none_of(view.runs.begin(), view.runs.end(), [](const RunView& r) {
        return r.state == RunState::queued || r.state == RunState::running;
    });
    if (sweep.backend == Backend::local && !scheduler_alive && !scheduler_died && all_ended) view.scheduler = "finished";
    return view;
}

std::string render_status(const SweepView& view) {
    const Sweep& sweep = view.sweep;
    std::string out = fmt::format("Sweep {} of model {}: {} on {} ({}), {} per run\n", sweep.id, sweep.model,
                                  count_of(sweep.runs.size(), "run"), to_string(sweep.backend), view.scheduler,
                                  count_of(sweep.gpus_per_run, "GPU"));
    out += fmt::format("  {}\n", view.summary());
    out += fmt::format("  command: {}\n", join(sweep.command, " "));
    out += fmt::format("  image:   {}\n\n", sweep.container ? sweep.image : "(none: on the host)");
    std::vector<std::vector<std::string>> rows{{"RUN", "STATE", "GPU", "EXIT", "TRIES", "TIME", "PARAMETERS", "LOG"}};
    for (const auto& run : view.runs) {
        const auto duration = duration_of(run.status);
        std::string exit = run.status.exit_code ? std::to_string(*run.status.exit_code)
                         : run.status.signal    ? fmt::format("sig{}", run.status.signal)
                                                : "-";
        rows.push_back({std::to_string(run.spec.number), to_string(run.state), run.status.gpus.empty() ? "-" : run.status.gpus, exit,
                        std::to_string(run.status.attempts.size()), duration ? format_duration(*duration) : "-", describe(run.spec.params), run.log.string()});
    }
    out += layout_columns(rows);
    std::vector<std::string> notes;
    for (const auto& run : view.runs)
        if (!run.detail.empty() && run.state != RunState::done) notes.push_back(fmt::format("  run {}: {}", run.spec.number, run.detail));
    for (const auto& run : view.runs)
        if (const auto shelved = shelved_carried(sweep, run.spec.number); !shelved.empty())
            notes.push_back(fmt::format("  run {}: carried {} shelved in {}", run.spec.number, describe_carried(shelved),
                                        carried_shelf(sweep, run.spec.number).string()));
    if (!notes.empty()) out += "\n" + join(notes, "\n") + "\n";
    return out;
}

json status_json(const SweepView& view) {
    const Sweep& sweep = view.sweep;
    json runs = json::array();
    for (const auto& run : view.runs) {
        json params = json::object();
        for (const auto& [name, value] : run.spec.params) params[name] = config::parameter_value(value);
        const auto duration = duration_of(run.status);
        const auto shelved = shelved_carried(sweep, run.spec.number);  // moved there by clean --branches
        runs.push_back({{"run", run.spec.number},
                        {"params", params},
                        {"state", to_string(run.state)},
                        {"detail", run.detail},
                        {"gpus", run.status.gpus},
                        {"exit_code", run.status.exit_code ? json(*run.status.exit_code) : json(nullptr)},
                        {"signal", run.status.signal ? json(run.status.signal) : json(nullptr)},
                        {"attempt", run.status.attempt},
                        {"held", run.status.held},
                        {"attempts", attempts_json(run.status)},
                        {"started", run.status.started ? json(run.status.started) : json(nullptr)},
                        {"ended", run.status.ended ? json(run.status.ended) : json(nullptr)},
                        {"duration_seconds", duration ? json(*duration) : json(nullptr)},
                        {"host", run.status.host},
                        {"slurm_task", run.status.slurm_task ? json(*run.status.slurm_task) : json(nullptr)},
                        {"branch", run.spec.branch},
                        {"commit", run.spec.commit},
                        {"worktree", run.spec.worktree.string()},
                        {"log", run.log.string()},
                        {"carried_shelf", shelved.empty() ? json(nullptr) : json(carried_shelf(sweep, run.spec.number).string())},
                        {"carried_shelved", shelved}});
    }
    return {{"id", sweep.id},
            {"model", sweep.model},
            {"backend", to_string(sweep.backend)},
            {"scheduler", view.scheduler},
            {"slurm_jobs", sweep.slurm.job_ids},
            {"command", sweep.command},
            {"image", sweep.container ? json(sweep.image) : json(nullptr)},
            {"gpus_per_run", sweep.gpus_per_run},
            {"max_parallel", sweep.max_parallel},
            {"retries", sweep.retries},
            {"max_failures", sweep.max_failures},
            {"stopped_by_max_failures", std::any_of(view.runs.begin(), view.runs.end(), [](const RunView& r) {
                 return r.state == RunState::queued && r.status.held;
             })},
            {"created", sweep.created},
            {"runs", runs}};
}

std::vector<snapshots::Metric> read_metrics_file(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw Error(fmt::format("cannot read {}", path.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    const auto document = json::parse(buffer.str(), nullptr, false);
    if (document.is_discarded()) throw Error(fmt::format("{} is not valid JSON", path.string()));
    if (!document.is_object())
        throw Error(fmt::format("{} must hold a JSON object of metric names and numbers", path.string()));
    std::vector<snapshots::Metric> metrics;
    flatten(document, "", metrics, path);
    // {"a": {"b": 1}, "a/b": 2} names one metric twice: which value is meant cannot be told, and a
    // snapshot recording both would be read by nobody.
    std::set<std::string> names;
    for (const auto& metric : metrics)
        if (!names.insert(metric.name).second)
            throw Error(fmt::format("{} gives the metric '{}' twice (a nested object's member and a key of that name)",
                                    path.string(), printable(metric.name, 200)));
    return metrics;
}

Report build_report(const SweepView& view, const std::optional<std::string>& metric, bool minimize, bool maximize) {
    Report report;
    report.view = view;
    for (const auto& run : view.runs) {
        RunResult result;
        result.run = run;
        fs::path file = run.spec.worktree / metrics_file_name;
        if (!fs::exists(file) || !run_worktree_ours(view.sweep, run.spec)) file = saved_metrics(view.sweep, run.spec.number);
        if (fs::exists(file)) {
            try {
                result.metrics = read_metrics_file(file);
            } catch (const Error& e) {
                result.problem = e.what();
            }
        }
        for (const auto& m : result.metrics)
            if (std::find(report.metric_columns.begin(), report.metric_columns.end(), m.name) == report.metric_columns.end())
                report.metric_columns.push_back(m.name);
        report.results.push_back(std::move(result));
    }
    if (metric) {
        if (std::find(report.metric_columns.begin(), report.metric_columns.end(), *metric) == report.metric_columns.end()) {
            throw UsageError(fmt::format("no run of sweep {} recorded the metric '{}'", view.sweep.id, *metric),
                             report.metric_columns.empty()
                                 ? fmt::format("runs write their metrics to {} in their worktree", metrics_file_name)
                                 : "recorded: " + join(report.metric_columns, ", "));
        }
        report.metric = *metric;
    } else if (!report.metric_columns.empty()) {
        report.metric = report.metric_columns.front();
    }
    const auto choice = snapshots::choose_rank_order(report.metric, minimize, maximize);
    report.minimize = choice.order == snapshots::RankOrder::lowest_first;
    report.order_from_name = choice.from_name;
    std::stable_sort(report.results.begin(), report.results.end(), [&](const RunResult& a, const RunResult& b) {
        const auto* ma = report.metric.empty() ? nullptr : snapshots::find_metric(a.metrics, report.metric);
        const auto* mb = report.metric.empty() ? nullptr : snapshots::find_metric(b.metrics, report.metric);
        if (ma && mb) return report.minimize ? ma->value < mb->value : ma->value > mb->value;
        if (ma || mb) return ma != nullptr;
        return a.run.spec.number < b.run.spec.number;
    });
    return report;
}

std::string render_report(const Report& report) {
    const Sweep& sweep = report.view.sweep;
    std::string out = fmt::format("Sweep {} of model {}: {}", sweep.id, sweep.model, count_of(sweep.runs.size(), "run"));
    out += report.metric.empty() ? ", no metrics recorded yet\n"
                                 : fmt::format(", best first by {} ({})\n", report.metric,
                                               snapshots::describe_rank_choice(
                                                   {report.minimize ? snapshots::RankOrder::lowest_first
                                                                    : snapshots::RankOrder::highest_first,
                                                    report.order_from_name},
                                                   "--minimize", "--maximize"));
    out += "\n";
    std::vector<std::string> header{"RUN", "STATE"};
    std::vector<std::string> param_names;
    for (const auto& [name, value] : sweep.runs.empty() ? config::ParameterSet{} : sweep.runs.front().params)
        param_names.push_back(name);
    for (const auto& run : sweep.runs)
        for (const auto& [name, value] : run.params)
            if (std::find(param_names.begin(), param_names.end(), name) == param_names.end()) param_names.push_back(name);
    header.insert(header.end(), param_names.begin(), param_names.end());
    header.insert(header.end(), report.metric_columns.begin(), report.metric_columns.end());
    std::vector<std::vector<std::string>> rows{header};
    std::vector<std::string> problems;
    for (const auto& result : report.results) {
        std::vector<std::string> row{std::to_string(result.run.spec.number), to_string(result.run.state)};
        for (const auto& name : param_names) {
            std::string value = "-";
            for (const auto& [key, text] : result.run.spec.params)
                if (key == name) value = text;
            row.push_back(value);
        }
        for (const auto& name : report.metric_columns) {
            const auto* m = snapshots::find_metric(result.metrics, name);
            row.push_back(m ? m->text : "-");
        }
        rows.push_back(std::move(row));
        if (!result.problem.empty()) problems.push_back(fmt::format("  run {}: {}", result.run.spec.number, result.problem));
    }
    out += layout_columns(rows);
    if (!problems.empty()) out += "\n" + join(problems, "\n") + "\n";
    return out;
}

SnapshotMetrics snapshot_metrics(const std::vector<snapshots::Metric>& run_metrics, const std::string& ranked_by) {
    SnapshotMetrics out;
    for (const auto& metric : run_metrics)
        if (!snapshots::metric_name_problem(metric.name)) out.metrics.push_back(metric);
    if (out.metrics.size() > snapshots::max_snapshot_metrics) {  // else no reader would read the snapshot
        std::stable_partition(out.metrics.begin(), out.metrics.end(),
                              [&](const snapshots::Metric& m) { return m.name == ranked_by; });
        out.left_out = out.metrics.size() - snapshots::max_snapshot_metrics;
        out.metrics.resize(snapshots::max_snapshot_metrics);
    }
    return out;
}

json report_json(const Report& report) {
    json runs = json::array();
    for (const auto& result : report.results) {
        json params = json::object();
        for (const auto& [name, value] : result.run.spec.params) params[name] = config::parameter_value(value);
        json metrics = json::object();
        for (const auto& m : result.metrics) metrics[m.name] = snapshots::metric_json(m);
        runs.push_back({{"run", result.run.spec.number},
                        {"state", to_string(result.run.state)},
                        {"params", params},
                        {"metrics", metrics},
                        {"problem", result.problem.empty() ? json(nullptr) : json(result.problem)},
                        {"branch", result.run.spec.branch},
                        {"commit", result.run.spec.commit}});
    }
    return {{"id", report.view.sweep.id},
            {"model", report.view.sweep.model},
            {"metric", report.metric.empty() ? json(nullptr) : json(report.metric)},
            {"minimize", report.minimize},
            {"order_from", report.order_from_name ? "name" : "option"},
            {"runs", runs}};
}

}  // namespace gm::sweep
