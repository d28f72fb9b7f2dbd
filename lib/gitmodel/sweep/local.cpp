#include "gitmodel/sweep/local.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/sweep/execute.hpp"

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <pwd.h>
#include <thread>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested = true; }
extern "C" void wake_up(int) {}

struct Active {
    int number = 0;
    proc::Child child;
    std::string holder;  // the lease holder name (the container's name)
    std::string container;
    std::int64_t started = 0;
};

std::string user_name() {
    if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
    return std::to_string(::getuid());
}

bool is_final(RunState state) { return state == RunState::done || state == RunState::failed || state == RunState::cancelled; }

}  // namespace

int parallel_limit(const Sweep& sweep, std::size_t pool_size) {
    if (sweep.gpus_per_run > 0) {
        if (pool_size < static_cast<std::size_t>(sweep.gpus_per_run)) {
            throw UnavailableError(
                pool_size == 0 ? "the runs need GPUs, and this machine has no GPU pool: no NVIDIA driver, and git "
                                 "config model.gpus is not set"
                               : fmt::format("each run needs {} GPUs; this machine's pool has {}", sweep.gpus_per_run,
                                             pool_size),
                "run on a GPU machine, set the pool (git config model.gpus 0,1), or use --gpus-per-run 0");
        }
        const int by_gpus = static_cast<int>(pool_size) / sweep.gpus_per_run;
        return sweep.max_parallel > 0 ? std::min(sweep.max_parallel, by_gpus) : by_gpus;
    }
    return sweep.max_parallel > 0 ? sweep.max_parallel : 1;
}

void check_local_prerequisites(const Sweep& draft, const git::Config& config) {
    parallel_limit(draft, draft.gpus_per_run > 0 ? env::discover_pool(config).gpus.size() : 0);
    if (draft.container) env::select_engine(config.get_string("model.engine"), std::nullopt);
}

bool scheduler_running(const Sweep& sweep) {
    const auto record = load_scheduler(sweep);
    return record && proc::is_running(record->process);
}

void start_local_scheduler(const Sweep& sweep) {
    const fs::path dir = sweep_dir(sweep.common_dir, sweep.id);
    clear_scheduler(sweep);
    proc::spawn_detached({proc::current_executable().string(), "sweep", "schedule", dir.string()},
                         dir / "scheduler.log", sweep.model_worktree);
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (load_scheduler(sweep)) return;
        std::this_thread::sleep_for(20ms);
    }
    throw Error(fmt::format("the sweep's scheduler did not start; see {}", (dir / "scheduler.log").string()));
}

int run_local_scheduler(const fs::path& sweep_folder) {
    Sweep sweep = load_from(sweep_folder);
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    action.sa_handler = wake_up;  // a handled SIGCHLD (not SIG_IGN) keeps exit statuses for reap_any
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGCHLD, &action, nullptr);
    ::signal(SIGHUP, SIG_IGN);
    save_scheduler(sweep, {proc::self_identity(), now_seconds()});

    git::Library library;
    const auto repo = git::Repository::open(sweep.common_dir);
    const git::Config config = repo.config();
    const fs::path main_worktree = repo.main_worktree_or_common_dir();
    const env::Pool pool = sweep.gpus_per_run > 0 ? env::discover_pool(config) : env::Pool{};
    const int limit = parallel_limit(sweep, pool.gpus.size());
    const auto engine = sweep_engine(sweep, config);
    const fs::path lease_dir = env::LeaseBook::directory(config);
    config::GpuRequest request;
    request.count = sweep.gpus_per_run;

    std::vector<int> queue;
    for (const auto& run : sweep.runs)
        if (load_run(sweep, run.number).state == RunState::queued) queue.push_back(run.number);
    fmt::print("scheduler {} for sweep {}: {} queued runs, at most {} at once\n", ::getpid(), sweep.id, queue.size(), limit);
    std::fflush(stdout);

    std::map<long, Active> active;
    const auto finish = [&](Active& run, RunState state, const std::string& note, std::optional<int> exit_code, int signal) {
        const RunSpec& spec = sweep.runs.at(static_cast<std::size_t>(run.number - 1));
        RunStatus status = load_run(sweep, run.number);
        status.state = state;
        status.exit_code = exit_code;
        status.signal = signal;
        status.ended = now_seconds();
        status.note = note;
        save_metrics_copy(sweep, spec);
        save_run(sweep, run.number, status);
        log_line(sweep, run.number, fmt::format("run {} {}{}", run.number, to_string(state), note.empty() ? "" : ": " + note));
        if (!run.holder.empty()) env::LeaseBook(lease_dir).release(run.holder);
    };
    std::size_t next = 0;
    auto last_heal = std::chrono::steady_clock::time_point{};
    while (true) {
        while (auto ended = proc::reap_any()) {
            auto it = active.find(ended->pid);
            if (it == active.end()) continue;
            const bool ok = ended->signal == 0 && ended->exit_code == 0;
            finish(it->second, ok ? RunState::done : RunState::failed, ok ? "" : "the command " + ended->describe(),
                   ended->signal == 0 ? std::optional<int>(ended->exit_code) : std::nullopt, ended->signal);
            active.erase(it);
        }
        if (stop_requested) break;
        if (next >= queue.size() && active.empty()) break;
        while (!stop_requested && next < queue.size() && static_cast<int>(active.size()) < limit) {
            const RunSpec& spec = sweep.runs.at(static_cast<std::size_t>(queue[next] - 1));
            Active run;
            run.number = spec.number;
            run.holder = run_container_name(sweep, spec, main_worktree);
            std::vector<env::GpuSlot> gpus;
            if (request.wants_gpu()) {
                env::LeaseBook book(lease_dir);
                if (std::chrono::steady_clock::now() - last_heal > 5s) {
                    last_heal = std::chrono::steady_clock::now();
                    std::optional<std::set<std::string>> running;
                    book.heal([&](const env::Lease& lease) {
                        if (!engine || lease.engine != engine->name) return true;
                        if (!running) {
                            running.emplace();
                            for (const auto& info : env::list_containers(*engine, std::string(env::label::managed) + "=1"))
                                if (info.state == "running") running->insert(info.name);
                        }
                        return running->count(lease.container) > 0;
                    });
                }
                env::Lease holder;
                holder.container = run.holder;
                holder.engine = engine ? engine->name : "host";
                holder.repo = sweep.common_dir.string();
                holder.model = spec.model;
                holder.worktree = spec.worktree.string();
                holder.user = user_name();
                holder.since = now_seconds();
                const auto self = proc::self_identity();
                holder.pid = self.pid;
                holder.pid_start_ticks = self.start_ticks;
                try {
                    gpus = book.take(pool, request, holder);
                } catch (const Error&) {
                    break;  // no GPU free now: the next run waits for one
                }
            }
            RunStatus status = load_run(sweep, spec.number);
            status.state = RunState::running;
            status.attempt += 1;
            status.gpus = env::visible_devices(gpus);
            status.started = now_seconds();
            status.ended = 0;
            status.exit_code.reset();
            status.signal = 0;
            status.note.clear();
            status.host = host_name();
            ++next;
            try {
                if (engine) env::remove_container(*engine, run.holder, 0s);  // left by a scheduler that died
                const Launch launch =
                    prepare_launch(sweep, spec, gpus, pool.from_driver, engine, main_worktree, status.attempt);
                status.container = launch.container;
                run.container = launch.container;
                run.child = proc::spawn(launch.argv, launch.options);
            } catch (const Error& e) {
                save_run(sweep, spec.number, status);
                finish(run, RunState::failed, fmt::format("could not start: {}", e.what()), std::nullopt, 0);
                continue;
            }
            run.started = status.started;
            save_run(sweep, spec.number, status);
            active.emplace(run.child.pid, run);
        }
        std::this_thread::sleep_for(active.empty() ? 500ms : 250ms);  // SIGCHLD or SIGTERM cut this short
    }

    if (stop_requested) {
        for (auto& [pid, run] : active) proc::signal_child(run.child, SIGTERM);  // podman passes it to the container
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!active.empty() && std::chrono::steady_clock::now() < deadline) {
            while (auto ended = proc::reap_any()) {
                auto it = active.find(ended->pid);
                if (it == active.end()) continue;
                finish(it->second, RunState::cancelled, "stopped by `git model sweep cancel`",
                       ended->signal == 0 ? std::optional<int>(ended->exit_code) : std::nullopt, ended->signal);
                active.erase(it);
            }
            std::this_thread::sleep_for(100ms);
        }
        for (auto& [pid, run] : active) {
            if (engine && !run.container.empty()) env::remove_container(*engine, run.container, 0s);
            proc::signal_child(run.child, SIGKILL);
            finish(run, RunState::cancelled, "killed by `git model sweep cancel` after 20 s", std::nullopt, SIGKILL);
        }
        for (; next < queue.size(); ++next) {
            RunStatus status = load_run(sweep, queue[next]);
            status.state = RunState::cancelled;
            status.note = "cancelled before it started";
            save_run(sweep, queue[next], status);
        }
    }
    clear_scheduler(sweep);
    fmt::print("scheduler {} for sweep {}: {}\n", ::getpid(), sweep.id, stop_requested ? "cancelled" : "all runs ended");
    return 0;
}

int cancel_local(const Sweep& sweep) {
    int stopped = 0;
    for (const auto& run : sweep.runs) {
        const auto state = load_run(sweep, run.number).state;
        if (!is_final(state)) ++stopped;
    }
    if (const auto record = load_scheduler(sweep); record && proc::is_running(record->process)) {
        ::kill(static_cast<pid_t>(record->process.pid), SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + 40s;
        while (proc::is_running(record->process) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(50ms);
        if (proc::is_running(record->process)) ::kill(static_cast<pid_t>(record->process.pid), SIGKILL);
    }
    // Whatever a dead scheduler left: containers still running, runs still marked unfinished.
    git::Library library;
    const auto repo = git::Repository::open(sweep.common_dir);
    std::optional<env::Engine> engine;
    try {
        engine = sweep_engine(sweep, repo.config());
    } catch (const Error&) {
        // no engine: nothing can be running in one
    }
    const fs::path lease_dir = env::LeaseBook::directory(repo.config());
    for (const auto& run : sweep.runs) {
        RunStatus status = load_run(sweep, run.number);
        if (is_final(status.state)) continue;
        if (engine && !status.container.empty()) env::remove_container(*engine, status.container, 0s);
        status.state = RunState::cancelled;
        status.note = status.started ? "stopped by `git model sweep cancel`" : "cancelled before it started";
        if (status.started && !status.ended) status.ended = now_seconds();
        save_run(sweep, run.number, status);
        if (!status.container.empty() || sweep.gpus_per_run > 0)
            env::LeaseBook(lease_dir).release(run_container_name(sweep, run, repo.main_worktree_or_common_dir()));
    }
    clear_scheduler(sweep);
    return stopped;
}

}  // namespace gm::sweep
