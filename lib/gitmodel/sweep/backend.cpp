#include "gitmodel/sweep/backend.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/k8s.hpp"
#include "gitmodel/sweep/local.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <fmt/core.h>

#include <set>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {

// This machine: a detached scheduler per sweep, GPUs from the machine's lease book.
class LocalDriver final : public Driver {
public:
    std::vector<std::string> check_prerequisites(const Sweep& sweep, const git::Config& config) const override {
        return check_local_prerequisites(sweep, config);
    }

    std::string start(Sweep& sweep) override {
        start_local_scheduler(sweep);
        const auto record = load_scheduler(sweep);
        return record ? fmt::format("queued on this machine (scheduler pid {})", record->process.pid)
                      : std::string("queued on this machine (its scheduler has already ended)");
    }

    std::string submit(Sweep& sweep, const std::vector<int>&) override {
        // A running scheduler takes the new queued runs at the end of its queue (extend).
        if (scheduler_running(sweep)) return "queued for the sweep's running scheduler";
        start_local_scheduler(sweep);
        return "queued on this machine";
    }

    void check_idle(const Sweep& sweep) const override {
        if (scheduler_running(sweep))
            throw Error(fmt::format("sweep {} is still running", sweep.id),
                        "wait for it, or stop it first with `git model sweep cancel`");
    }

    void check_requeueable(const Sweep& sweep, const RunView& run) const override {
        // Its scheduler died, but its process still runs: a second start would share its worktree.
        if (run.state == RunState::running)
            throw Error(fmt::format("run {} of sweep {} is still running (pid {}), though its scheduler stopped",
                                    run.spec.number, sweep.id, run.status.process.pid),
                        fmt::format("wait for it, or stop it first with `git model sweep cancel {}`", sweep.id));
        // A cancel that could not end its process (it said so) left it running: a rerun would share its worktree.
        if (run.state != RunState::done && run.status.process.pid > 0 &&
            (run.status.host.empty() || run.status.host == host_name()) && proc::is_running(run.status.process))
            throw Error(fmt::format("run {} of sweep {} is {}, but its process (pid {}) still runs", run.spec.number,
                                    sweep.id, to_string(run.state), run.status.process.pid),
                        fmt::format("wait for it to end, or stop it (kill -- -{}), then resume", run.status.process.pid));
    }

    int cancel(const Sweep& sweep, std::vector<std::string>& notes) override { return cancel_local(sweep, &notes); }
};

// A Slurm cluster: one job array per submission; the tasks record their runs themselves.
class SlurmDriver final : public Driver {
public:
    std::vector<std::string> check_prerequisites(const Sweep&, const git::Config&) const override {
        check_slurm_prerequisites();
        return {};
    }

    std::string start(Sweep& sweep) override {
        std::vector<int> numbers;
        for (const auto& run : sweep.runs) numbers.push_back(run.number);
        const std::string job = sweep::submit(sweep, numbers);
        return fmt::format("submitted to Slurm as job array{} {} ({})", job.find(',') == std::string::npos ? "" : "s", job,
                           (sweep_dir(sweep.common_dir, sweep.id) / "sweep.sbatch").string());
    }

    std::string submit(Sweep& sweep, const std::vector<int>& numbers) override {
        return "submitted to Slurm as job array " + sweep::submit(sweep, numbers);
    }

    void check_idle(const Sweep&) const override {}  // each run says for itself (check_requeueable)

    void check_requeueable(const Sweep& sweep, const RunView& run) const override {
        // A run --max-failures held back is queued in its record only: Slurm runs nothing of it.
        const bool in_slurm = run.state == RunState::running || (run.state == RunState::queued && !run.status.held);
        if (in_slurm)
            throw Error(fmt::format("run {} of sweep {} is still {} in Slurm", run.spec.number, sweep.id, to_string(run.state)),
                        "wait for it, or stop the sweep first with `git model sweep cancel`");
    }

    int cancel(const Sweep& sweep, std::vector<std::string>& notes) override {
        const auto cancelled_at = now_seconds();
        std::set<int> unfinished;  // counted before: a task that Slurm stops records its own end
        {
            // Queued runs are cancelled first, under the lock tasks claim runs by: a task that starts
            // while the jobs are cancelled (a throttled array's next one, as the one before ends)
            // finds its run cancelled and leaves it.
            FileLock claims(queue_lock_path(sweep));
            for (const auto& run : sweep.runs) {
                auto status = load_run(sweep, run.number);
                if (status.state == RunState::queued) {
                    status.state = RunState::cancelled;
                    status.note = "cancelled before it started";
                    save_run(sweep, run.number, status);
                    unfinished.insert(run.number);
                }
                if (status.state == RunState::running) unfinished.insert(run.number);
            }
        }
        const auto still_running = cancel_slurm(sweep, notes);
        int stopped = 0;
        for (const auto& run : sweep.runs) {
            if (still_running.count(run.number)) continue;  // it goes on: it must not look cancelled
            auto status = load_run(sweep, run.number);
            // Slurm signals every process of a task, so a run may have recorded its own death first.
            const bool killed_by_us = status.state == RunState::failed && status.signal != 0 && status.ended >= cancelled_at - 1;
            stopped += unfinished.count(run.number) > 0 || killed_by_us ? 1 : 0;
            if (status.state != RunState::queued && status.state != RunState::running && !killed_by_us) continue;
            status.state = RunState::cancelled;
            status.note = status.started ? "stopped by `git model sweep cancel`" : "cancelled before it started";
            if (status.started && !status.ended) status.ended = now_seconds();
            save_run(sweep, run.number, status);
        }
        return stopped;
    }
};

// A sweep written as a Kubernetes Indexed Job: the cluster schedules it, git model only wrote it.
class K8sDriver final : public Driver {
public:
    std::vector<std::string> check_prerequisites(const Sweep&, const git::Config&) const override { return {}; }
    std::string start(Sweep& sweep) override { refuse(sweep, "schedule"); }
    std::string submit(Sweep& sweep, const std::vector<int>&) override { refuse(sweep, "schedule"); }
    void check_idle(const Sweep& sweep) const override { refuse(sweep, "resume"); }
    void check_requeueable(const Sweep& sweep, const RunView&) const override { refuse(sweep, "resume"); }
    int cancel(const Sweep& sweep, std::vector<std::string>&) override { refuse(sweep, "stop"); }

private:
    [[noreturn]] static void refuse(const Sweep& sweep, const char* what) {
        throw Error(fmt::format("sweep {} was exported as a Kubernetes Indexed Job (--export k8s): git model cannot {} "
                                "its runs; the cluster schedules them",
                                sweep.id, what),
                    fmt::format("use kubectl (`kubectl delete job {}` stops it), or start a new sweep", job_name(sweep)));
    }
};

}  // namespace

bool exported_to_k8s(const Sweep& sweep) {
    std::error_code ec;
    return fs::exists(sweep_dir(sweep.common_dir, sweep.id) / "k8s-job.yaml", ec);
}

std::unique_ptr<Driver> driver_for(Backend backend) {
    if (backend == Backend::slurm) return std::make_unique<SlurmDriver>();
    return std::make_unique<LocalDriver>();
}

std::unique_ptr<Driver> driver_for(const Sweep& sweep) {
    if (exported_to_k8s(sweep)) return std::make_unique<K8sDriver>();
    return driver_for(sweep.backend);
}

}  // namespace gm::sweep
