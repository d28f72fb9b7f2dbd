#include "gitmodel/sweep/store.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/model/lookup.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

json to_json(const config::ParameterSet& params) {
    json array = json::array();
    for (const auto& [name, value] : params) array.push_back({name, value});
    return array;
}

config::ParameterSet params_from_json(const json& array) {
    config::ParameterSet params;
    for (const auto& item : array) params.emplace_back(item.at(0).get<std::string>(), item.at(1).get<std::string>());
    return params;
}

template <typename T>
json optional_json(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

template <typename T>
std::optional<T> optional_from(const json& object, const char* key) {
    if (!object.contains(key) || object.at(key).is_null()) return std::nullopt;
    return object.at(key).get<T>();
}

RunState state_from_string(const std::string& text) {
    for (RunState state : {RunState::queued, RunState::running, RunState::done, RunState::failed, RunState::cancelled})
        if (to_string(state) == text) return state;
    throw Error(fmt::format("unknown run state '{}' in a sweep record", text));
}

}  // namespace

std::string to_string(RunState state) {
    switch (state) {
        case RunState::queued: return "queued";
        case RunState::running: return "running";
        case RunState::done: return "done";
        case RunState::failed: return "failed";
        case RunState::cancelled: return "cancelled";
    }
    return "?";
}

std::string to_string(Backend backend) { return backend == Backend::local ? "local" : "slurm"; }

bool run_worktree_ours(const Sweep& sweep, const RunSpec& run) {
    // A folder another user put where the run's worktree was (a shared model.worktreeRoot) can
    // point its .git file back here too: its files are not the run's.
    return !model::untrusted_folder_problem(sweep.common_dir, run.worktree) &&
           !model::foreign_worktree_problem(sweep.common_dir, run.worktree);
}

Error foreign_run_worktree(const RunSpec& run) {
    const std::string path = hint_word(run.worktree.string());
    return Error(fmt::format("run {}'s worktree {} is not the run's: another user's folder, or not a worktree of this "
                             "repository (it took the place of the one removed); nothing was run there",
                             run.number, run.worktree.string()),
                 fmt::format("look at it, and move it away if it is not yours; then `git worktree prune` and "
                             "`git worktree add {} {}` recreate the run's, and `git model sweep resume` runs it",
                             path, hint_word(run.branch)));
}

fs::path sweeps_root(const fs::path& common_dir) { return common_dir / "git-model" / "sweeps"; }
fs::path sweep_dir(const fs::path& common_dir, const std::string& id) { return sweeps_root(common_dir) / id; }
fs::path run_log(const Sweep& sweep, int number) { return sweep.logs_dir / fmt::format("run-{}.log", number); }
fs::path run_checkpoints(const Sweep& sweep, int number) {
    return sweep.checkpoints_dir / fmt::format("run-{}", number);
}
fs::path saved_metrics(const Sweep& sweep, int number) {
    return sweep_dir(sweep.common_dir, sweep.id) / "runs" / fmt::format("{}.metrics.json", number);
}

fs::path carried_shelf(const Sweep& sweep, int number) {
    return sweep_dir(sweep.common_dir, sweep.id) / "runs" / fmt::format("{}.carried", number);
}

void write_file_atomically(const fs::path& path, const std::string& content, unsigned mode) {
    gm::write_file_atomically(path, content, FileMode{static_cast<mode_t>(mode & 07777), true, false});
}

std::string allocate_id(const fs::path& common_dir) {
    const fs::path root = sweeps_root(common_dir);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", root.string(), ec.message()));
    int next = 1;
    for (const auto& id : list_ids(common_dir)) next = std::max(next, std::atoi(id.c_str()) + 1);
    for (;; ++next) {  // mkdir is the reservation: two starts at once get different ids
        const fs::path dir = root / std::to_string(next);
        if (::mkdir(dir.c_str(), 0755) == 0) {
            // The sweep's own records: never group-writable, whatever the umask of a shared repository.
            ::mkdir((dir / "runs").c_str(), 0755);
            return std::to_string(next);
        }
        if (errno != EEXIST) throw Error(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
    }
}

std::vector<Sweep> load_readable(const fs::path& common_dir) {
    std::vector<Sweep> sweeps;
    for (const auto& id : list_ids(common_dir)) {
        try {
            sweeps.push_back(load(common_dir, id));
        } catch (const Error&) {
        }
    }
    return sweeps;
}

std::vector<std::string> list_ids(const fs::path& common_dir) {
    std::vector<int> numbers;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(sweeps_root(common_dir), ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
            numbers.push_back(std::atoi(name.c_str()));
    }
    std::sort(numbers.begin(), numbers.end());
    std::vector<std::string> ids;
    for (int n : numbers) ids.push_back(std::to_string(n));
    return ids;
}

void save(const Sweep& sweep) { save_as(sweep, sweep_dir(sweep.common_dir, sweep.id) / "sweep.json"); }

void save_as(const Sweep& sweep, const fs::path& file) {
    json runs = json::array();
    for (const auto& run : sweep.runs) {
        runs.push_back({{"number", run.number},
                        {"params", to_json(run.params)},
                        {"model", run.model},
                        {"branch", run.branch},
                        {"worktree", run.worktree.string()},
                        {"commit", run.commit}});
    }
    const json document = {
        {"format", 1},
        {"id", sweep.id},
        {"model", sweep.model},
        {"model_branch", sweep.model_branch},
        {"base_commit", sweep.base_commit},
        {"backend", to_string(sweep.backend)},
        {"command", sweep.command},
        {"gpus_per_run", sweep.gpus_per_run},
        {"max_parallel", sweep.max_parallel},
        {"container", sweep.container},
        {"retries", sweep.retries},
        {"max_failures", sweep.max_failures},
        {"image", sweep.image},
        {"common_dir", sweep.common_dir.string()},
        {"model_worktree", sweep.model_worktree.string()},
        {"logs_dir", sweep.logs_dir.string()},
        {"checkpoints_dir", sweep.checkpoints_dir.string()},
        {"created", sweep.created},
        {"slurm",
         {{"partition", optional_json(sweep.slurm.partition)},
          {"time_limit", optional_json(sweep.slurm.time_limit)},
          {"account", optional_json(sweep.slurm.account)},
          {"job_ids", sweep.slurm.job_ids},
          {"offsets", sweep.slurm.offsets},
          {"max_array_size", sweep.slurm.max_array_size},
          {"report_job", sweep.slurm.report_job},
          {"report_job_ids", sweep.slurm.report_job_ids},
          {"job_comment", sweep.slurm.job_comment}}},
        {"carry", sweep.carry},
        {"runs", runs},
    };
    write_file_atomically(file, document.dump(2) + "\n");
}

void refuse_others_sweep(const Sweep& sweep, std::string_view action) {
    if (::geteuid() == 0) return;
    struct stat st {};
    const fs::path record = sweep_dir(sweep.common_dir, sweep.id) / "sweep.json";
    if (::lstat(record.c_str(), &st) != 0 || st.st_uid == ::geteuid()) return;
    throw Error(fmt::format("sweep {} is {}'s (they started it): its scheduler, runs and records are theirs, so you "
                            "cannot {} it",
                            printable(sweep.id), user_name_of(st.st_uid), action),
                fmt::format("ask {} to, or root", user_name_of(st.st_uid)));
}

Sweep load_from(const fs::path& dir) {
    Sweep sweep = load_file(dir / "sweep.json");
    // By identity, not by name: a repository reached through a link is the same one.
    std::error_code ec;
    const fs::path home = sweep_dir(sweep.common_dir, sweep.id);
    if (!fs::equivalent(dir, home, ec) || ec) {
        throw ForeignSweepError(
            fmt::format("sweep {} here ({}) was made in the repository {}, not in this one: this repository was copied "
                        "or moved with its sweeps, and that sweep's runs, worktrees, scheduler and jobs are the other's",
                        printable(sweep.id), printable(dir.string()), printable(sweep.common_dir.string())),
            fmt::format("run sweep commands where it was made; `rm -r {}` drops this copy of its record",
                        printable(hint_word(dir.string()))));
    }
    return sweep;
}

Sweep load_file(const fs::path& file) {
    const std::string text = read_text(file);
    const json document = json::parse(text, nullptr, false);
    if (text.empty() || document.is_discarded() || !document.is_object())
        throw Error(fmt::format("the sweep record {} is missing or unreadable", file.string()),
                    "a sweep whose start was interrupted leaves no record; start it again");
    try {
        Sweep sweep;
        sweep.id = document.at("id").get<std::string>();
        sweep.model = document.at("model").get<std::string>();
        sweep.model_branch = document.at("model_branch").get<std::string>();
        sweep.base_commit = document.at("base_commit").get<std::string>();
        sweep.backend = document.at("backend").get<std::string>() == "slurm" ? Backend::slurm : Backend::local;
        sweep.command = document.at("command").get<std::vector<std::string>>();
        sweep.gpus_per_run = document.at("gpus_per_run").get<int>();
        sweep.max_parallel = document.at("max_parallel").get<int>();
        sweep.container = document.at("container").get<bool>();
        sweep.retries = document.value("retries", 0);
        sweep.max_failures = document.value("max_failures", 0);
        sweep.image = document.at("image").get<std::string>();
        sweep.common_dir = document.at("common_dir").get<std::string>();
        sweep.model_worktree = document.at("model_worktree").get<std::string>();
        sweep.logs_dir = document.at("logs_dir").get<std::string>();
        sweep.checkpoints_dir = document.at("checkpoints_dir").get<std::string>();
        sweep.created = document.at("created").get<std::int64_t>();
        const json& slurm = document.at("slurm");
        sweep.slurm.partition = optional_from<std::string>(slurm, "partition");
        sweep.slurm.time_limit = optional_from<std::string>(slurm, "time_limit");
        sweep.slurm.account = optional_from<std::string>(slurm, "account");
        sweep.slurm.job_ids = slurm.at("job_ids").get<std::vector<std::string>>();
        if (slurm.contains("offsets")) sweep.slurm.offsets = slurm.at("offsets").get<std::map<std::string, int>>();
        if (slurm.contains("max_array_size")) sweep.slurm.max_array_size = slurm.at("max_array_size").get<int>();
        if (slurm.contains("report_job")) sweep.slurm.report_job = slurm.at("report_job").get<bool>();
        if (slurm.contains("report_job_ids"))
            sweep.slurm.report_job_ids = slurm.at("report_job_ids").get<std::vector<std::string>>();
        sweep.slurm.job_comment = slurm.value("job_comment", std::string());
        if (document.contains("carry")) sweep.carry = document.at("carry").get<std::vector<std::string>>();
        for (const auto& item : document.at("runs")) {
            RunSpec run;
            run.number = item.at("number").get<int>();
            run.params = params_from_json(item.at("params"));
            run.model = item.at("model").get<std::string>();
            run.branch = item.at("branch").get<std::string>();
            run.worktree = item.at("worktree").get<std::string>();
            run.commit = item.at("commit").get<std::string>();
            sweep.runs.push_back(std::move(run));
        }
        return sweep;
    } catch (const json::exception& e) {
        throw Error(fmt::format("the sweep record {} is damaged: {}", file.string(), e.what()));
    }
}

Sweep load(const fs::path& common_dir, const std::string& id) {
    const fs::path dir = sweep_dir(common_dir, id);
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos || !fs::exists(dir / "sweep.json"))
        throw Error(fmt::format("there is no sweep '{}' in this repository", id),
                    "`git model sweep status` lists the sweeps");
    return load_from(dir);
}

RunStatus load_run(const Sweep& sweep, int number) {
    RunStatus status;
    const std::string text = read_text(sweep_dir(sweep.common_dir, sweep.id) / "runs" / fmt::format("{}.json", number));
    if (text.empty()) return status;
    const json document = json::parse(text, nullptr, false);
    if (document.is_discarded() || !document.is_object()) return status;
    try {
        status.state = state_from_string(document.at("state").get<std::string>());
        status.attempt = document.value("attempt", 0);
        status.tries = document.value("tries", 0);
        status.held = document.value("held", false);
        if (document.contains("attempts") && document.at("attempts").is_array())
            for (const auto& item : document.at("attempts"))
                status.attempts.push_back({optional_from<int>(item, "exit_code"), item.value("signal", 0),
                                           item.value("started", std::int64_t{0}), item.value("ended", std::int64_t{0})});
        status.gpus = document.value("gpus", "");
        status.exit_code = optional_from<int>(document, "exit_code");
        status.signal = document.value("signal", 0);
        status.started = document.value("started", std::int64_t{0});
        status.ended = document.value("ended", std::int64_t{0});
        status.container = document.value("container", "");
        status.process.pid = document.value("pid", 0L);
        status.process.start_ticks = document.value("start_ticks", 0ULL);
        status.host = document.value("host", "");
        status.note = document.value("note", "");
        status.slurm_task = optional_from<std::string>(document, "slurm_task");
    } catch (const json::exception&) {
        return RunStatus{};
    }
    return status;
}

void save_run(const Sweep& sweep, int number, const RunStatus& status) {
    json attempts = json::array();
    for (const auto& attempt : status.attempts)
        attempts.push_back({{"exit_code", optional_json(attempt.exit_code)}, {"signal", attempt.signal},
                            {"started", attempt.started}, {"ended", attempt.ended}});
    const json document = {{"state", to_string(status.state)}, {"attempt", status.attempt},
                           {"tries", status.tries},             {"held", status.held},
                           {"attempts", attempts},
                           {"gpus", status.gpus},               {"exit_code", optional_json(status.exit_code)},
                           {"signal", status.signal},           {"started", status.started},
                           {"ended", status.ended},             {"container", status.container},
                           {"pid", status.process.pid},         {"start_ticks", status.process.start_ticks},
                           {"host", status.host},               {"note", status.note},
                           {"slurm_task", optional_json(status.slurm_task)}};
    write_file_atomically(sweep_dir(sweep.common_dir, sweep.id) / "runs" / fmt::format("{}.json", number),
                          document.dump(2) + "\n");
}

int count_failed(const Sweep& sweep) {
    int failed = 0;
    for (const auto& run : sweep.runs)
        if (load_run(sweep, run.number).state == RunState::failed) ++failed;
    return failed;
}

bool failure_budget_spent(const Sweep& sweep, int failed) { return sweep.max_failures > 0 && failed >= sweep.max_failures; }

std::string held_note(const Sweep& sweep) {
    return fmt::format("not started: the sweep reached --max-failures {}; `git model sweep resume {}` runs it",
                       sweep.max_failures, sweep.id);
}

void save_scheduler(const Sweep& sweep, const SchedulerRecord& record) {
    const json document = {{"pid", record.process.pid},
                           {"start_ticks", record.process.start_ticks},
                           {"started", record.started}};
    write_file_atomically(sweep_dir(sweep.common_dir, sweep.id) / "scheduler.json", document.dump(2) + "\n");
}

std::optional<SchedulerRecord> load_scheduler(const Sweep& sweep) {
    const std::string text = read_text(sweep_dir(sweep.common_dir, sweep.id) / "scheduler.json");
    const json document = json::parse(text, nullptr, false);
    if (text.empty() || document.is_discarded() || !document.is_object() || document.contains("ended"))
        return std::nullopt;
    SchedulerRecord record;
    record.process.pid = document.value("pid", 0L);
    record.process.start_ticks = document.value("start_ticks", 0ULL);
    record.started = document.value("started", std::int64_t{0});
    return record;
}

void mark_scheduler_ended(const Sweep& sweep) {
    write_file_atomically(sweep_dir(sweep.common_dir, sweep.id) / "scheduler.json",
                          json{{"ended", now_seconds()}}.dump(2) + "\n");
}

fs::path queue_lock_path(const Sweep& sweep) { return sweep_dir(sweep.common_dir, sweep.id) / "queue.lock"; }

bool scheduler_recorded(const Sweep& sweep) {
    std::error_code ec;
    return fs::exists(sweep_dir(sweep.common_dir, sweep.id) / "scheduler.json", ec);
}

void clear_scheduler(const Sweep& sweep) {
    std::error_code ec;
    fs::remove(sweep_dir(sweep.common_dir, sweep.id) / "scheduler.json", ec);
}

}  // namespace gm::sweep
