#include "gitmodel/sweep/local.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/image.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/proc/identity.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/sweep/execute.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> stop_requested{false};
// The process group of the image pull the scheduler waits for (0: none), for request_stop.
std::atomic<pid_t> pulling_group{0};

// The self-pipe the signal handlers write a byte to, so that the scheduler's wait ends on a
// signal even when it lands just before the wait begins. Both ends live as long as the process.
int wake_read_end = -1;
int wake_write_end = -1;

extern "C" void wake_up(int) {
    const int saved = errno;
    const char byte = 1;
    if (wake_write_end >= 0) (void)!::write(wake_write_end, &byte, 1);  // full pipe: a wake-up is pending anyway
    errno = saved;
}
extern "C" void request_stop(int) {
    stop_requested = true;
    if (const pid_t group = pulling_group.load(); group > 0) ::kill(-group, SIGTERM);  // the engine stops and cleans up
    wake_up(0);
}

// Waits at most `most`, and less when a signal arrives (a run ending: SIGCHLD; a stop: SIGTERM),
// so the loop reaps and schedules at once. poll on the self-pipe: a sleep (nanosleep) interrupted
// by a SA_RESTART handler can go on sleeping, and a signal just before it would wait the timeout.
void sleep_until_signalled(std::chrono::milliseconds most) {
    pollfd wake{wake_read_end, POLLIN, 0};
    ::poll(&wake, 1, static_cast<int>(most.count()));
    char drained[64];
    while (::read(wake_read_end, drained, sizeof drained) > 0) {
    }
}

struct Active {
    int number = 0;
    proc::Child child;
    std::string container;
    std::int64_t started = 0;
    env::Reservation leases;  // given back when the run ends (never by a dying scheduler: its runs may live on)
};

// The next queued run's container, made while every run slot was busy, for the GPUs of the
// run likeliest to end first: once they free, the run starts with one engine call (`start
// --attach`) instead of two. A `create` between two runs was a GPU idle of its own (60 ms
// here), and it cannot be folded into a `podman run`, whose create a cancel may not stop.
struct Standby {
    int number = 0;
    std::vector<env::GpuSlot> gpus;  // those its devices and variables name (none: the runs take none)
    Launch launch;
    // The id the engine gave it: it is started by id, so that a container of its name made
    // since by someone else (`env up` in the run's worktree) is never started as the run.
    std::string id;
};

bool same_gpus(const std::vector<env::GpuSlot>& a, const std::vector<env::GpuSlot>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const env::GpuSlot& x, const env::GpuSlot& y) { return x.index == y.index && x.uuid == y.uuid; });
}

// The sweep's run as GPU leases name it.
std::string lease_sweep_name(const Sweep& sweep, int number) { return fmt::format("{}/{}", sweep.id, number); }

// Takes the run's GPUs, or says (once per reason, in the scheduler's log, unless `quiet`) why it waits.
std::optional<env::Reservation> take_for_run(const fs::path& lease_dir, env::TakeRequest& request,
                                             std::string& last_wait_reason, int number, const git::Config& config,
                                             bool quiet = false) {
    std::vector<std::string> notes;
    try {
        // nvidia-smi failed at the last look: no GPU is taken until it lists them again.
        if (!request.pool.driver_error.empty()) request.pool = env::discover_pool(config);
        auto book = env::LeaseBook::open(lease_dir);
        request.limits = book->limits();  // root's, read afresh: they may change while a sweep waits
        auto leases = env::take(book, request, notes);
        for (const auto& note : notes) fmt::print("{}\n", note);
        last_wait_reason.clear();
        return leases;
    } catch (const env::GpusBusyError& e) {
        if (quiet) return std::nullopt;
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

// The leases of one run of this sweep: the repository and the run both match (sweep ids are
// numbered per repository, so "1/1" alone could be another repository's run).
std::function<bool(const env::Lease&)> run_leases(const Sweep& sweep, int number) {
    return [repo = valid_utf8(sweep.common_dir.string()), name = lease_sweep_name(sweep, number)](const env::Lease& lease) {
        return lease.sweep == name && lease.repo == repo;
    };
}

// Stops a local run's process group (SIGTERM, then SIGKILL after grace) when its leader is
// still the recorded process (never a recycled pid); returns whether it is gone now.
bool stop_run_process(const proc::ProcessIdentity& process, std::chrono::seconds grace) {
    // Only a process recorded with its start time: a bare pid may since name anyone's process.
    if (process.pid <= 0 || process.start_ticks == 0 || proc::liveness(process) != proc::Liveness::alive) return true;
    const auto wait_gone = [&](std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (proc::liveness(process) == proc::Liveness::alive && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(50ms);
        return proc::liveness(process) != proc::Liveness::alive;
    };
    if (::kill(static_cast<pid_t>(-process.pid), SIGTERM) != 0) ::kill(static_cast<pid_t>(process.pid), SIGTERM);
    if (wait_gone(grace)) return true;
    if (proc::liveness(process) != proc::Liveness::alive) return true;
    if (::kill(static_cast<pid_t>(-process.pid), SIGKILL) != 0) ::kill(static_cast<pid_t>(process.pid), SIGKILL);
    return wait_gone(2s);
}

// The note of a run whose engine client (or command) ended badly. Podman's client exits 125
// for its own failures (the container made ahead removed by hand: "no such container"),
// 126 and 127 when the command cannot be run or found in the image; a command may exit so
// itself, so the note says both and points at the run's log, where the engine's words are.
std::string ended_run_note(const proc::ExitStatus& ended, bool in_container) {
    std::string note = "the command " + ended.describe();
    if (!in_container || ended.signal != 0) return note;
    const char* meaning = ended.exit_code == 125   ? "the container engine's own failure"
                          : ended.exit_code == 126 ? "the command could not be run in the container"
                          : ended.exit_code == 127 ? "the command was not found in the container"
                                                   : nullptr;
    if (meaning) note += fmt::format(" ({}, unless the command exited so: see the run's log)", meaning);
    return note;
}

// After a run's engine client ended, its container must be gone before its GPUs are given
// back (a client killed with -9 leaves it running): a container left is stopped and removed,
// the run counts as failed, and stays (its GPUs kept) when it cannot be removed. Returns what
// to add to the run's note ("" when no container was left).
std::string settle_left_container(const env::Engine& engine, const std::string& container, RunState& state, bool& stays) {
    stays = false;
    try {
        if (!env::find_container(engine, container)) return {};
        env::remove_container(engine, container, 10s);
    } catch (const Error& e) {
        stays = true;
        state = RunState::failed;
        return fmt::format("its container {} outlived its engine client and was not removed ({}): its GPUs stay leased",
                           container, e.what());
    }
    state = RunState::failed;
    return fmt::format("its container {} outlived its engine client and was stopped and removed", container);
}

// A scheduler killed while the engine made a run's container leaves that `create` running (it is
// never signalled, so that it never leaves half a container): a cancel waits for it, at most the
// engine's start time limit, so that the container it makes is removed, not left behind.
void wait_for_left_create(const env::Engine& engine, const std::string& container) {
    const auto deadline = std::chrono::steady_clock::now() + engine.start_timeout;
    while (proc::find_own_process(env::create_arguments(container)) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
}

// SIGTERM and SIGINT stop the scheduler; SIGCHLD wakes it; SIGHUP (a closed terminal) is ignored.
void install_scheduler_signals() {
    int ends[2];
    if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0)
        throw Error(fmt::format("the sweep's scheduler cannot make its wake-up pipe: {}", std::strerror(errno)));
    wake_read_end = ends[0];
    wake_write_end = ends[1];
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    action.sa_handler = wake_up;  // a handled SIGCHLD (not SIG_IGN) keeps exit statuses for reap_any
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGCHLD, &action, nullptr);
    ::signal(SIGHUP, SIG_IGN);
}

// The runs a scheduler starts: those queued and not held back by --max-failures, in order.
std::vector<int> runs_to_start(const Sweep& sweep) {
    std::vector<int> queue;
    for (const auto& run : sweep.runs) {
        const RunStatus status = load_run(sweep, run.number);
        if (status.state == RunState::queued && !status.held) queue.push_back(run.number);
    }
    return queue;
}

// Leaves the runs the scheduler did not start queued, marked as held back by --max-failures.
void hold_runs(const Sweep& sweep, const std::vector<int>& numbers) {
    for (int number : numbers) {
        RunStatus status = load_run(sweep, number);
        status.held = true;
        status.note = held_note(sweep);
        save_run(sweep, number, status);
    }
    if (!numbers.empty())
        fmt::print("sweep {} reached --max-failures {}: {} not started\n", sweep.id, sweep.max_failures,
                   count_of(numbers.size(), "run"));
}

// At the end of its queue: takes the runs `sweep extend` added meanwhile, else records the
// scheduler as ended, both under the queue lock, so that extend either finds its runs taken
// here or this scheduler ended (and starts another). Returns whether there is more to start.
bool take_new_runs(Sweep& sweep, std::vector<int>& queue, bool spent) {
    FileLock lock(queue_lock_path(sweep));
    Sweep fresh = load_from(sweep_dir(sweep.common_dir, sweep.id));
    const std::size_t before = queue.size();
    for (int number : runs_to_start(fresh))
        if (static_cast<std::size_t>(number) > sweep.runs.size()) queue.push_back(number);
    sweep = std::move(fresh);
    if (queue.size() > before && !spent) {
        fmt::print("sweep {} extended: {} more queued\n", sweep.id, count_of(queue.size() - before, "run"));
        return true;
    }
    mark_scheduler_ended(sweep);
    return false;
}

}  // namespace

int parallel_limit(const Sweep& sweep, std::size_t pool_size) {
    if (sweep.gpus_per_run > 0) {
        if (pool_size < static_cast<std::size_t>(sweep.gpus_per_run)) {
            throw UnavailableError(
                pool_size == 0 ? "the runs need GPUs, and this machine has no GPU pool: no NVIDIA driver, and git "
                                 "config model.gpus is not set"
                               : fmt::format("each run needs {}; this machine's pool has {}", count_of(sweep.gpus_per_run, "GPU"),
                                             pool_size),
                "run on a GPU machine, set the pool (git config model.gpus 0,1), or use --gpus-per-run 0");
        }
        const int by_gpus = static_cast<int>(pool_size) / sweep.gpus_per_run;
        return sweep.max_parallel > 0 ? std::min(sweep.max_parallel, by_gpus) : by_gpus;
    }
    return sweep.max_parallel > 0 ? sweep.max_parallel : 1;
}

std::vector<std::string> check_local_prerequisites(const Sweep& draft, const git::Config& config) {
    std::vector<std::string> warnings;
    if (draft.gpus_per_run > 0) {
        const env::Pool pool = env::discover_pool(config);
        if (!pool.driver_error.empty())
            throw UnavailableError(fmt::format("an NVIDIA driver is loaded, but its GPUs cannot be listed ({}), so no GPU "
                                               "can be taken safely",
                                               printable(pool.driver_error, 512)),
                                   "fix nvidia-smi (after a driver upgrade: reboot), then start the sweep again");
        parallel_limit(draft, pool.gpus.size());
        try {
            if (auto book = env::LeaseBook::open_existing(env::LeaseBook::directory(config)))
                if (auto warning = book->other_book_warning()) warnings.push_back(*warning);
        } catch (const Error&) {
            // the scheduler says what is wrong with the book when it takes
        }
    } else {
        parallel_limit(draft, 0);
    }
    if (draft.container) env::select_engine(config, std::nullopt);
    return warnings;
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
        if (scheduler_recorded(sweep)) return;  // running, or already ended: runs with no GPU may end at once
        std::this_thread::sleep_for(20ms);
    }
    throw Error(fmt::format("the sweep's scheduler did not start; see {}", (dir / "scheduler.log").string()));
}

namespace {

// The scheduler of one sweep: starts its queued runs as GPUs and --max-parallel allow, records
// how each ends (retrying under --retries), and on SIGTERM stops its runs (`sweep cancel`).
class LocalScheduler {
public:
    explicit LocalScheduler(Sweep sweep);
    // The main loop; returns the process's exit code.
    int run();

private:
    void remove_left_containers();
    void pull_missing_images();
    std::optional<std::string> pull_stoppably(const std::string& image);
    std::string create_container(const Launch& launch);
    void reap_ended(RunState ok, RunState failed, const char* note);
    bool start_next();
    std::optional<env::Reservation> take_gpus(int number, const std::vector<env::GpuSlot>* only);
    std::optional<env::Reservation> take_for_next(bool& made_ahead);
    bool spawn_run(Active& run, const RunSpec& spec, RunStatus& status, std::optional<Launch> made,
                   const std::string& made_id);
    bool remove_unstarted(const std::string& container);
    void cancel_unstarted(Active& run, const std::string& container);
    void make_standby();
    void drop_standby();
    void finish(Active& run, RunState state, std::string note, std::optional<int> exit_code, int signal,
                bool container_may_stay = true);
    void stop_runs();

    Sweep sweep_;
    git::Repository repo_;
    git::Config config_;
    fs::path main_worktree_;
    env::Pool pool_;
    int limit_ = 1;
    std::optional<env::Engine> engine_;
    fs::path lease_dir_;
    env::TakeRequest request_;
    std::string last_wait_reason_;
    std::vector<int> queue_;  // run numbers in the order they start; retries go to the back
    std::size_t next_ = 0;    // the first of queue_ not started yet
    int failed_ = 0;          // what --max-failures counts: failed runs, after their retries
    std::map<long, Active> active_;  // by pid
    std::optional<Standby> standby_;  // at most one: for queue_[next_], or a later run after a swap
    int no_standby_for_ = 0;          // a run whose container could not be made ahead: made when it starts
};

LocalScheduler::LocalScheduler(Sweep sweep)
    : sweep_(std::move(sweep)),
      repo_(git::Repository::open(sweep_.common_dir)),
      config_(repo_.config()),
      main_worktree_(repo_.main_worktree_or_common_dir()),
      pool_(sweep_.gpus_per_run > 0 ? env::discover_pool(config_) : env::Pool{}),
      limit_(parallel_limit(sweep_, pool_.gpus.size())),
      engine_(sweep_engine(sweep_, config_)),
      lease_dir_(env::LeaseBook::directory(config_)),
      queue_(runs_to_start(sweep_)),
      failed_(count_failed(sweep_)) {
    request_.pool = pool_;
    request_.request.count = sweep_.gpus_per_run;
    request_.lock_timeout = env::lease_lock_timeout(config_);
    request_.holder.holder = proc::self_identity();  // the scheduler answers for its runs' leases while it lives
    request_.holder.engine = engine_ ? engine_->name : "host";
    request_.holder.engine_host = engine_ ? engine_->place() : "";
    request_.holder.repo = sweep_.common_dir.string();
}

int LocalScheduler::run() {
    fmt::print("scheduler {} for sweep {}: {} queued runs, at most {} at once\n", ::getpid(), sweep_.id, queue_.size(),
               limit_);
    std::fflush(stdout);
    remove_left_containers();
    pull_missing_images();
    while (true) {
        reap_ended(RunState::done, RunState::failed, nullptr);
        if (stop_requested) break;
        const bool spent = failure_budget_spent(sweep_, failed_);
        if ((next_ >= queue_.size() || spent) && active_.empty()) {
            if (take_new_runs(sweep_, queue_, spent)) continue;
            break;
        }
        while (!stop_requested && !spent && next_ < queue_.size() && static_cast<int>(active_.size()) < limit_)
            if (!start_next()) break;  // no GPU now: the next run waits for one
        make_standby();
        sleep_until_signalled(active_.empty() ? 500ms : 250ms);
    }
    drop_standby();  // before its run is cancelled or held
    if (stop_requested) stop_runs();
    else hold_runs(sweep_, std::vector<int>(queue_.begin() + static_cast<long>(next_), queue_.end()));
    mark_scheduler_ended(sweep_);
    fmt::print("scheduler {} for sweep {}: {}\n", ::getpid(), sweep_.id, stop_requested ? "cancelled" : "all runs ended");
    return 0;
}

// The containers of this sweep's queued runs that a scheduler killed before them left behind
// (their clients died with it): removed once, here, in one engine call to find them, so that
// starting each run costs no engine call but its own `run`.
void LocalScheduler::remove_left_containers() {
    if (!engine_) return;
    std::set<std::string> names;
    for (std::size_t i = next_; i < queue_.size(); ++i) {
        names.insert(run_container_name(sweep_, sweep_.runs.at(static_cast<std::size_t>(queue_[i] - 1)), main_worktree_));
        // A killed scheduler's create (a run's, or one made ahead) may still be making it: waited
        // for, so that the listing below finds what it makes.
        const std::string recorded = load_run(sweep_, queue_[i]).container;
        if (!recorded.empty()) wait_for_left_create(*engine_, recorded);
    }
    try {
        const std::string mine = std::string(env::label::repo) + "=" + sweep_.common_dir.string();
        for (const auto& left : env::list_containers(*engine_, mine))
            if (names.count(left.name)) env::remove_container(*engine_, left.name, 0s);
    } catch (const Error& e) {
        // A run whose name is still taken fails to start, and says so: nothing is lost.
        fmt::print("could not remove the containers an earlier scheduler left: {}\n", e.what());
    }
}

// The images of the sweep and its queued runs (a run's .modelenv.yaml may pin another), when
// not here, are pulled once each before any run takes a GPU: a run's `podman run` pulled its
// image while holding its GPUs, for minutes nobody else could have them, and did so for each run
// started before the first pull ended. `sweep cancel` stops a pull (its SIGTERM is passed on). A
// pull that fails leaves each run to try, and to fail with the engine's own message.
void LocalScheduler::pull_missing_images() {
    if (!engine_ || next_ >= queue_.size()) return;
    std::vector<std::string> images;
    if (!sweep_.image.empty()) images.push_back(sweep_.image);
    for (std::size_t i = next_; i < queue_.size(); ++i) {
        std::string image = run_image(sweep_.runs.at(static_cast<std::size_t>(queue_[i] - 1)));
        if (!image.empty() && std::find(images.begin(), images.end(), image) == images.end())
            images.push_back(std::move(image));
    }
    for (const auto& image : images) {
        if (stop_requested) return;
        if (env::inspect_image(*engine_, image)) continue;
        fmt::print("pulling {} before any run takes a GPU\n", image);
        std::fflush(stdout);
        if (const auto why = pull_stoppably(image)) {
            if (stop_requested) fmt::print("the pull of {} was stopped: the sweep is cancelled\n", image);
            else fmt::print("could not pull {} (each run tries on its own): {}\n", image, *why);
        } else {
            fmt::print("pulled {}\n", image);
        }
        std::fflush(stdout);
    }
}

// Pulls an image, as `sweep cancel` can stop it (request_stop passes its SIGTERM to the pull's
// process group). Returns why it failed, or nullopt when the image is here.
std::optional<std::string> LocalScheduler::pull_stoppably(const std::string& image) {
    std::optional<std::string> why;
    try {
        env::pull_image(*engine_, image, false, [](long pid) {
            pulling_group = static_cast<pid_t>(pid);
            if (stop_requested) throw Error("the sweep was cancelled");  // a stop that came just before
        });
    } catch (const Error& e) {
        why = trim_end(e.what(), "\n ");
    }
    pulling_group = 0;
    return why;
}

// Makes a run's container without starting it (the image pulled first when it is not here).
// Returns its id as the engine printed it ("" when it printed none). Throws gm::Error with the
// engine's message.
//
// The create comes first (--pull=never): the sweep's start pulled its images, and one engine
// call less between two runs is a GPU idle that much less. Only when it fails and the image
// is gone (removed meanwhile) is it pulled, and the create tried again.
std::string LocalScheduler::create_container(const Launch& launch) {
    proc::RunOptions options;
    options.timeout = engine_->start_timeout;  // its own process group: a stop of this scheduler lets it finish
    auto made = proc::run(launch.create_argv, options);
    if (!made.ok() && !stop_requested && !env::inspect_image(*engine_, launch.image)) {
        if (const auto why = pull_stoppably(launch.image))
            throw Error(fmt::format("the image {} could not be pulled: {}", launch.image,
                                    stop_requested ? "the sweep is cancelled" : why->substr(why->rfind('\n') + 1)));
        made = proc::run(launch.create_argv, options);
    }
    if (!made.ok())
        throw Error(fmt::format("{} could not make the run's container ({}): {}", engine_->name, made.describe(),
                                env::engine_message(made.err)));
    std::string id = last_nonempty_line(made.out);
    const bool hex = id.size() >= 12 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
    return hex ? id : std::string();
}

// Records the runs whose processes ended: as `ok` when they exited 0, else as `failed`, with
// `note` (or what ended them).
void LocalScheduler::reap_ended(RunState ok, RunState failed, const char* note) {
    while (auto ended = proc::reap_any()) {
        auto it = active_.find(ended->pid);
        if (it == active_.end()) continue;
        const bool success = ended->signal == 0 && ended->exit_code == 0;
        std::string why = note ? note : success ? "" : ended_run_note(*ended, engine_.has_value());
        // An engine client that exited by itself with the command's status (not its own 125-127,
        // not a signal) ran the container to its end and removed it (--rm): no engine call.
        const bool container_may_stay = ended->signal != 0 || ended->exit_code >= 125;
        finish(it->second, success ? ok : failed, why,
               ended->signal == 0 ? std::optional<int>(ended->exit_code) : std::nullopt, ended->signal,
               container_may_stay);
        active_.erase(it);
    }
}

// Takes the next queued run's GPUs and starts it. Returns false (starting nothing) when no GPU is free.
bool LocalScheduler::start_next() {
    Active run;
    bool made_ahead = false;
    if (request_.request.wants_gpu()) {
        auto leases = take_for_next(made_ahead);
        if (!leases) return false;
        run.leases = std::move(*leases);
    } else {
        made_ahead = standby_ && standby_->number == queue_[next_];
    }
    const RunSpec& spec = sweep_.runs.at(static_cast<std::size_t>(queue_[next_] - 1));
    run.number = spec.number;
    RunStatus status = load_run(sweep_, spec.number);
    begin_attempt(status);
    status.gpus = env::visible_devices(run.leases.gpus());
    ++next_;
    std::optional<Launch> made;
    std::string made_id;
    if (made_ahead) {
        made = std::move(standby_->launch);
        made_id = standby_->id;
        standby_.reset();
    }
    if (!spawn_run(run, spec, status, std::move(made), made_id)) return true;
    run.started = status.started;
    status.process = proc::identity_of(run.child.pid).value_or(proc::ProcessIdentity{run.child.pid, 0});
    save_run(sweep_, spec.number, status);
    // The run's process holds the GPUs from now on, even if this scheduler dies.
    run.leases.confirm("", status.process, false);
    run.leases.keep();
    const long pid = run.child.pid;
    active_.emplace(pid, std::move(run));
    return true;
}

// The GPUs of queue_[next_], as the lease book gives them (only those in `only`, when given).
std::optional<env::Reservation> LocalScheduler::take_gpus(int number, const std::vector<env::GpuSlot>* only) {
    const RunSpec& spec = sweep_.runs.at(static_cast<std::size_t>(number - 1));
    env::TakeRequest request = request_;
    request.holder.container = engine_ ? run_container_name(sweep_, spec, main_worktree_) : std::string();
    request.holder.model = spec.model;
    request.holder.worktree = spec.worktree.string();
    request.holder.sweep = lease_sweep_name(sweep_, spec.number);
    request.context = env::local_judge_context(engine_ ? &*engine_ : nullptr);
    if (only) {
        request.request.kind = config::GpuRequest::Kind::indices;
        request.request.indices.clear();
        for (const auto& gpu : *only) request.request.indices.push_back(gpu.index);
    }
    auto leases = take_for_run(lease_dir_, request, last_wait_reason_, spec.number, config_, only != nullptr);
    request_.pool = request.pool;  // a pool listed again after a driver error
    return leases;
}

// The GPUs for the next run. A run whose container was made ahead takes the GPUs it was made
// for; when another run freed others first, the run after it takes those (the two swap places
// in the queue), and it waits for its own, unless it is the last: then its container goes, and
// it is made again for the GPUs free now. Sets made_ahead when queue_[next_] starts from its
// container made ahead.
std::optional<env::Reservation> LocalScheduler::take_for_next(bool& made_ahead) {
    made_ahead = false;
    if (!standby_ || standby_->number != queue_[next_]) return take_gpus(queue_[next_], nullptr);
    if (auto leases = take_gpus(standby_->number, &standby_->gpus)) {
        if (same_gpus(leases->gpus(), standby_->gpus)) {
            made_ahead = true;
            return leases;
        }
        drop_standby();  // the driver renumbered them: made again for what they are now
        return leases;
    }
    const bool swap = next_ + 1 < queue_.size();
    if (swap) std::swap(queue_[next_], queue_[next_ + 1]);
    auto leases = take_gpus(queue_[next_], nullptr);
    if (!leases && swap) std::swap(queue_[next_], queue_[next_ + 1]);  // nothing started: the order stays
    if (leases && !swap) drop_standby();
    return leases;
}

// Starts a run's process; a run that cannot start is recorded as failed, and one cancelled
// while its container was made as cancelled (returns false). `made` is its launch when its
// container was made ahead (make_standby).
//
// A container is made first and started after: a `podman run` stopped by a cancel while it
// made the container could leave one that appeared after the scheduler (and the cancel) had
// looked for it. Now the create is never signalled; a cancel that comes meanwhile finds the
// container made, and removes it before it runs.
bool LocalScheduler::spawn_run(Active& run, const RunSpec& spec, RunStatus& status, std::optional<Launch> made,
                               const std::string& made_id) {
    const bool ahead = made.has_value();
    if (ahead && stop_requested) {
        // A cancel that came while this run waited for the lease book: it never starts.
        status.container = made->container;
        save_run(sweep_, spec.number, status);
        cancel_unstarted(run, made_id.empty() ? made->container : made_id);
        return false;
    }
    try {
        const Launch launch =
            ahead ? std::move(*made)
                  : prepare_launch(sweep_, spec, run.leases.gpus(), pool_.from_driver, engine_, main_worktree_);
        status.container = launch.container;
        run.container = ahead && !made_id.empty() ? made_id : launch.container;
        if (ahead) ensure_run_folders(sweep_, spec);  // its mounts are looked up now, not when it was made
        log_launch(sweep_, spec, status.attempt, run.leases.gpus());
        if (!ahead && !launch.create_argv.empty()) {
            save_run(sweep_, spec.number, status);  // from here a cancel that finds this scheduler dead removes it
            create_container(launch);
            if (stop_requested) {
                cancel_unstarted(run, launch.container);
                return false;
            }
        }
        run.child = proc::spawn(launch.create_argv.empty() ? launch.argv : launch.start_argv, launch.options);
        return true;
    } catch (const Error& e) {
        save_run(sweep_, spec.number, status);
        const bool removed = !ahead || remove_unstarted(run.container);  // made, never started
        finish(run, RunState::failed, fmt::format("could not start: {}", e.what()), std::nullopt, 0, !removed);
        return false;
    }
}

// While every run slot is busy, makes the next queued run's container ahead (Standby), for the
// GPUs of the run that started first. Nothing when it cannot be guessed which GPUs free next
// (a slot is free, yet the run waits: a teammate holds the GPUs).
void LocalScheduler::make_standby() {
    if (!engine_ || standby_ || stop_requested || next_ >= queue_.size() || active_.empty() ||
        static_cast<int>(active_.size()) < limit_ || failure_budget_spent(sweep_, failed_))
        return;
    const int number = queue_[next_];
    if (number == no_standby_for_) return;
    Standby standby;
    standby.number = number;
    if (request_.request.wants_gpu()) {
        const Active* first = nullptr;
        for (const auto& entry : active_) {
            const Active& candidate = entry.second;
            if (!first || std::tie(candidate.started, candidate.number) < std::tie(first->started, first->number))
                first = &candidate;
        }
        standby.gpus = first->leases.gpus();
        if (standby.gpus.size() != static_cast<std::size_t>(sweep_.gpus_per_run)) return;
    }
    const RunSpec& spec = sweep_.runs.at(static_cast<std::size_t>(number - 1));
    RunStatus status = load_run(sweep_, number);
    try {
        standby.launch = prepare_launch(sweep_, spec, standby.gpus, pool_.from_driver, engine_, main_worktree_);
        if (standby.launch.create_argv.empty()) return;
        status.container = standby.launch.container;
        save_run(sweep_, number, status);  // a cancel that finds this scheduler dead removes it
        standby.id = create_container(standby.launch);
        // Started by its id: start_argv ends with the name (engine_start_attached_argv).
        if (!standby.id.empty() && !standby.launch.start_argv.empty() &&
            standby.launch.start_argv.back() == standby.launch.container)
            standby.launch.start_argv.back() = standby.id;
        else
            standby.id.clear();
    } catch (const Error& e) {
        // The run's start makes it, and says what fails.
        no_standby_for_ = number;
        fmt::print("run {}: its container was not made ahead: {}\n", number, e.what());
        std::fflush(stdout);
        return;
    }
    const std::string visible = env::visible_devices(standby.gpus);
    fmt::print("run {}: container made ahead{}\n", number, visible.empty() ? "" : ", for GPU " + visible);
    std::fflush(stdout);
    standby_ = std::move(standby);
    if (stop_requested) drop_standby();
}

// Removes a run's container that never started (by its id when known); says why in the log
// when it cannot.
bool LocalScheduler::remove_unstarted(const std::string& container) {
    try {
        env::remove_container(*engine_, container, 0s);
        return true;
    } catch (const Error& e) {
        fmt::print("the container {}, which never started, could not be removed: {}\n", container, e.what());
        std::fflush(stdout);
        return false;
    }
}

// A run cancelled once its container was made, before it started: the container goes, and the
// run is cancelled (finish tries the removal again, and keeps its GPUs if the container stays).
void LocalScheduler::cancel_unstarted(Active& run, const std::string& container) {
    run.container = container;
    const bool removed = remove_unstarted(container);
    finish(run, RunState::cancelled, "cancelled before it started", std::nullopt, 0, !removed);
}

// Removes the container made ahead, which never ran (a cancel, --max-failures, or other GPUs).
// One that cannot be removed stays recorded on its queued run, for the cancel or the next
// scheduler (remove_left_containers) to remove.
void LocalScheduler::drop_standby() {
    if (!standby_) return;
    const Standby standby = std::move(*standby_);
    standby_.reset();
    if (!remove_unstarted(standby.id.empty() ? standby.launch.container : standby.id)) return;
    RunStatus status = load_run(sweep_, standby.number);
    if (status.state == RunState::queued && status.container == standby.launch.container) {
        status.container.clear();
        save_run(sweep_, standby.number, status);
    }
}

// Ends a run's attempt: its record, its retry (to the back of the queue) and its GPUs.
void LocalScheduler::finish(Active& run, RunState state, std::string note, std::optional<int> exit_code, int signal,
                            bool container_may_stay) {
    // The GPUs follow the container, not its client (which kill -9 or the OOM killer may end first).
    bool container_stays = false;
    const RunState asked = state;
    if (engine_ && !run.container.empty() && container_may_stay)
        if (auto left = settle_left_container(*engine_, run.container, state, container_stays); !left.empty())
            note += (note.empty() ? "" : "; ") + left;
    // A cancel's SIGTERM can end the engine client before it passed signals on (as `start
    // --attach` began): its container was left and is gone now, and the run is cancelled, not failed.
    if (asked == RunState::cancelled && !container_stays) state = RunState::cancelled;
    RunStatus status = load_run(sweep_, run.number);
    status.state = state;
    status.process = {};  // ended: nothing of it is to be stopped later
    end_attempt(status, exit_code, signal);
    status.note = note;
    const RunSpec& spec = sweep_.runs.at(static_cast<std::size_t>(run.number - 1));
    const bool retry = record_attempt(sweep_, spec, status, !stop_requested && !container_stays);
    failed_ += status.state == RunState::failed ? 1 : 0;
    if (container_stays) run.leases.keep();
    else run.leases.give_back();
    if (retry) queue_.push_back(run.number);  // to the back of the queue
}

// `sweep cancel`: stops the running runs (SIGTERM, SIGKILL after 20 s) and cancels the queued ones.
void LocalScheduler::stop_runs() {
    for (auto& [pid, run] : active_) proc::signal_child(run.child, SIGTERM);  // podman passes it to the container
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!active_.empty() && std::chrono::steady_clock::now() < deadline) {
        reap_ended(RunState::cancelled, RunState::cancelled, "stopped by `git model sweep cancel`");
        std::this_thread::sleep_for(100ms);
    }
    for (auto& [pid, run] : active_) {
        if (engine_ && !run.container.empty()) env::remove_container(*engine_, run.container, 0s);
        proc::signal_child(run.child, SIGKILL);
        finish(run, RunState::cancelled, "killed by `git model sweep cancel` after 20 s", std::nullopt, SIGKILL);
    }
    for (; next_ < queue_.size(); ++next_) {
        RunStatus status = load_run(sweep_, queue_[next_]);
        status.state = RunState::cancelled;
        status.note = "cancelled before it started";
        save_run(sweep_, queue_[next_], status);
    }
}

}  // namespace

int run_local_scheduler(const fs::path& sweep_folder) {
    Sweep sweep = load_from(sweep_folder);
    // One scheduler per sweep, for its whole life: a second (two started at once by hand) would
    // start the queued runs again. The kernel lets go of the lock when this process ends.
    std::optional<FileLock> only_scheduler;
    try {
        only_scheduler.emplace(sweep_folder / "scheduler-life.lock", std::chrono::milliseconds(0));
    } catch (const LockTimeoutError&) {
        throw Error(fmt::format("sweep {} already has a scheduler; a second one would run its runs twice", sweep.id),
                    fmt::format("`git model sweep status {}` follows it", sweep.id));
    }
    install_scheduler_signals();
    save_scheduler(sweep, {proc::self_identity(), now_seconds()});
    git::Library library;
    LocalScheduler scheduler(std::move(sweep));
    return scheduler.run();
}

int cancel_local(const Sweep& sweep, std::vector<std::string>* notes) {
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
    // Whatever a dead scheduler left: containers and host runs still running, runs still marked unfinished.
    git::Library library;
    const auto repo = git::Repository::open(sweep.common_dir);
    const git::Config config = repo.config();
    std::optional<env::Engine> engine;
    try {
        engine = sweep_engine(sweep, config);
    } catch (const Error&) {
        // no engine: nothing can be running in one
    }
    const auto book = env::LeaseBook::open_existing(env::LeaseBook::directory(config));
    for (const auto& run : sweep.runs) {
        RunStatus status = load_run(sweep, run.number);
        if (engine && !status.container.empty() && !is_final(status.state)) wait_for_left_create(*engine, status.container);
        if (status.state == RunState::cancelled && engine && !status.container.empty()) {
            // A cancelled run whose container the scheduler could not remove, or whose create went
            // on alone after its scheduler was killed (it did not stop within 40 s): removed now.
            try {
                if (env::find_container(*engine, status.container)) env::remove_container(*engine, status.container, 0s);
            } catch (const Error& e) {
                if (notes) notes->push_back(fmt::format("run {}: {}", run.number, e.what()));
            }
        }
        if (is_final(status.state)) continue;
        if (engine && !status.container.empty()) env::remove_container(*engine, status.container, 0s);
        // A host run outlives its scheduler by design: it is stopped here (its process group).
        const bool process_gone = stop_run_process(status.process, 10s);
        const long pid = status.process.pid;
        if (process_gone) status.process = {};
        status.state = RunState::cancelled;
        status.note = status.started ? "stopped by `git model sweep cancel`" : "cancelled before it started";
        if (status.started && !status.ended) status.ended = now_seconds();
        save_run(sweep, run.number, status);
        if (notes && !process_gone)
            notes->push_back(fmt::format("run {}: its process {} did not end", run.number, pid));
        if (book) {
            // Leases whose processes still run stay: their GPUs are in use.
            const auto given = env::give_back_matching(*book, run_leases(sweep, run.number), env::lease_lock_timeout(config));
            for (const auto& [lease, why] : given.kept)
                if (notes) notes->push_back(fmt::format("run {}: GPU {} stays leased, since {}", run.number, lease.index, why));
        }
    }
    clear_scheduler(sweep);
    return stopped;
}

}  // namespace gm::sweep
