#pragma once
// What each place a sweep runs (this machine, a Slurm cluster, a Kubernetes export) does for the
// sweep operations: check it can run, schedule runs, stop them, say whether a run is still in it.
// The operations (operations.hpp) are written once against this interface; a backend that cannot
// do one (an exported Kubernetes Job is not scheduled by git model) throws a gm::Error saying so.
// A new operation that differs by backend (e.g. forgetting a sweep's jobs) is one more virtual here.

#include <memory>
#include <string>
#include <vector>

#include "gitmodel/git/config.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// The operations of one backend. (The enum sweep::Backend names where a sweep's record says it runs.)
class Driver {
public:
    virtual ~Driver() = default;

    // Checks this machine can schedule the sweep's runs (an engine, GPUs, Slurm's commands);
    // returns warnings to show. Throws gm::Error (or UnavailableError) when it cannot.
    virtual std::vector<std::string> check_prerequisites(const Sweep& sweep, const git::Config& config) const = 0;

    // Schedules a new sweep's runs, for `sweep start`; returns how, in words
    // ("queued on this machine (scheduler pid 12)").
    virtual std::string start(Sweep& sweep) = 0;

    // Schedules queued runs of an existing sweep (resume, extend); returns how, in words
    // ("submitted to Slurm as job array 12").
    virtual std::string submit(Sweep& sweep, const std::vector<int>& numbers) = 0;

    // Throws when something of the sweep still runs, so that its runs cannot be queued again.
    virtual void check_idle(const Sweep& sweep) const = 0;

    // Throws when this unfinished run is still running or queued in the backend.
    virtual void check_requeueable(const Sweep& sweep, const RunView& run) const = 0;

    // Stops every unfinished run; returns how many; notes get what stayed (a process that did
    // not end, a GPU that stays leased).
    virtual int cancel(const Sweep& sweep, std::vector<std::string>& notes) = 0;
};

// The driver of a backend, for a sweep about to be created.
std::unique_ptr<Driver> driver_for(Backend backend);

// The driver of an existing sweep: its backend's, or the export-only Kubernetes one for a sweep
// written as a Kubernetes Job (k8s-job.yaml in its folder).
std::unique_ptr<Driver> driver_for(const Sweep& sweep);

// Whether the sweep was written as a Kubernetes Indexed Job (`sweep start --export k8s`).
bool exported_to_k8s(const Sweep& sweep);

}  // namespace gm::sweep
