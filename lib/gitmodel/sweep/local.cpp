#include "gitmodel/sweep/local.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/proc/identity.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/sweep/execute.hpp"

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
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
    std::string container;
    std::int64_t started = 0;
    env::Reservation leases;  // given back when the run ends (never by a dying scheduler: its runs may live on)
};

// The sweep's run as GPU leases name it.
std::string lease_sweep_name(const Sweep& sweep, int number) { return fmt::format("{}/{}", sweep.id, number); }

// Takes the run's GPUs, or says (once per reason, in the scheduler's log) why it waits.
std::optional<env::Reservation> take_for_run(const fs::path& lease_dir, env::TakeRequest& request,
                                             std::string& last_wait_reason, int number) {
    std::vector<std::string> notes;
    try {
        auto book = env::LeaseBook::open(lease_dir);
        auto leases = env::take(book, request, notes);
        for (const auto& note : notes) fmt::print("{}\n", note);
        last_wait_reason.clear();
        return leases;
    } catch (const env::GpusBusyError& e) {
        const std::string reason = e.reason() == env::GpusBusyError::Reason::busy ? "no GPU free" : "the per-user GPU limit";
        if (reason != last_wait_reason) fmt::print("run {} waits: {}\n", number, reason);
        last_wait_reason = reason;
    } catch (const Error& e) {
        // The book's lock stayed taken, or the book cannot be used now: wait and try again, do not die.
        const std::string reason = e.what();
        if (reason != last_wait_reason) fmt::print("run {} waits for the GPU lease book: {}\n", number, reason);
        last_wait_reason = reason;
    }
    std::fflush(stdout);
    return std::nullopt;
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
    if (draft.container) env::select_engine(config, std::nullopt);
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
    env::TakeRequest request;
    request.pool = pool;
    request.request.count = sweep.gpus_per_run;
    request.limits = env::machine_limits();
    request.lock_timeout = env::lease_lock_timeout(config);
    request.holder.holder = proc::self_identity();  // the scheduler answers for its runs' leases while it lives
    request.holder.engine = engine ? engine->name : "host";
    request.holder.repo = sweep.common_dir.string();
    std::string last_wait_reason;

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
        run.leases.give_back();
    };
    std::size_t next = 0;
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
            const std::string container = engine ? run_container_name(sweep, spec, main_worktree) : std::string();
            if (request.request.wants_gpu()) {
                request.holder.container = container;
                request.holder.model = spec.model;
                request.holder.worktree = spec.worktree.string();
                request.holder.sweep = lease_sweep_name(sweep, spec.number);
                request.context = env::local_judge_context(engine ? &*engine : nullptr);
                auto leases = take_for_run(lease_dir, request, last_wait_reason, spec.number);
                if (!leases) break;  // no GPU now: the next run waits for one
                run.leases = std::move(*leases);
            }
            const std::vector<env::GpuSlot> gpus = run.leases.gpus();
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
                if (engine) env::remove_container(*engine, container, 0s);  // left by a scheduler that died
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
            // The run's process holds the GPUs from now on, even if this scheduler dies.
            run.leases.confirm("", proc::identity_of(run.child.pid).value_or(proc::ProcessIdentity{run.child.pid, 0}), false);
            run.leases.keep();
            const long pid = run.child.pid;
            active.emplace(pid, std::move(run));
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
    const auto book = env::LeaseBook::open_existing(env::LeaseBook::directory(repo.config()));
    for (const auto& run : sweep.runs) {
        RunStatus status = load_run(sweep, run.number);
        if (is_final(status.state)) continue;
        if (engine && !status.container.empty()) env::remove_container(*engine, status.container, 0s);
        status.state = RunState::cancelled;
        status.note = status.started ? "stopped by `git model sweep cancel`" : "cancelled before it started";
        if (status.started && !status.ended) status.ended = now_seconds();
        save_run(sweep, run.number, status);
        if (book) {
            const std::string name = lease_sweep_name(sweep, run.number);
            env::give_back_matching(*book, [&](const env::Lease& lease) { return lease.sweep == name; });
        }
    }
    clear_scheduler(sweep);
    return stopped;
}

}  // namespace gm::sweep
