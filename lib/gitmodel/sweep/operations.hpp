#pragma once
// The sweep commands' work, written once for every backend (backend.hpp): scheduling a new
// sweep or exporting it, cancel, resume, extend and clean. Each returns what the command prints;
// the command line only parses options and prints. (promote.hpp and tidy.hpp hold the others.)

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/sweep/create.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/sweep/k8s.hpp"
#include "gitmodel/sweep/report.hpp"
#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// Where warnings go as an operation finds them (before any progress is shown).
using Warn = std::function<void(const std::string&)>;

// Opens the repository a sweep command works on, rolling back interrupted sweep starts first;
// warn hears what was undone.
git::Repository open_sweep_repository(const Warn& warn);

// The sweep an id names; the newest one (that loads) when no id is given.
Sweep find_sweep(const git::Repository& repo, const std::optional<std::string>& id);

// How `sweep start` hands its new sweep on: to its backend, or written out (--export).
struct LaunchRequest {
    std::string export_format;                // "", "k8s" or "slurm"
    std::optional<std::filesystem::path> output;  // --output: a copy of the manifest or script
    K8sExport k8s;
};

// Checks, before a sweep is created, that its backend can take it (nothing for exports);
// warn hears what to show.
void check_launch(const git::Repository& repo, const CreateRequest& request, const LaunchRequest& launch, const Warn& warn);

// A new sweep and how it was handed on (in words).
struct Started {
    Sweep sweep;
    std::string scheduled;
};
// Creates a sweep's runs, then schedules or exports it. On failure removes the sweep's runs and
// throws gm::Error saying so (and what had to be kept). A Ctrl-C (SIGINT, SIGTERM, SIGHUP) from
// the first run made until the sweep is handed on removes the runs, then ends the process with
// that signal: an interrupted start never runs. One that comes later is a warning that says how
// to cancel the sweep, which runs.
Started start_sweep(git::Repository& repo, const CreateRequest& request, const LaunchRequest& launch,
                    const Warn& warn, const std::function<void(const RunSpec&)>& progress);

// What `sweep cancel` did.
struct Cancelled {
    int stopped = 0;                 // unfinished runs stopped
    std::vector<std::string> notes;  // what stayed (warnings)
    int left = 0;                    // runs still queued or running after it: they may go on
};
Cancelled cancel_sweep(const Sweep& sweep);

// What `sweep resume` did: the runs queued again (none when every run is done) and how.
struct Resumed {
    std::vector<int> numbers;
    std::string scheduled;
};
// Queues every unfinished run of the sweep again (their --retries and the --max-failures budget
// afresh) and schedules them, under the sweep's scheduling lock; a run `clean --branches` removed
// is left out, with a warning that says how to bring it back. Throws gm::Error, changing nothing,
// while anything of the sweep still runs, a run's worktree is gone but its branch is not, or
// every unfinished run was removed.
Resumed resume_sweep(git::Repository& repo, const std::string& id, const Warn& warn);

// What `sweep extend` did: the new runs and how they were scheduled.
struct Extended {
    std::vector<int> numbers;
    std::string scheduled;
};
// Adds runs to a sweep and schedules them, under the sweep's scheduling lock; all or nothing
// (runs whose scheduling failed are removed again). progress hears of each run made, counted from 1.
Extended extend_and_schedule(git::Repository& repo, const std::string& id, const ExtendRequest& request,
                             const Warn& warn, const std::function<void(std::size_t, const RunSpec&)>& progress = {});

// What `sweep clean` did: a line per run it looked at, and the counts.
struct Cleaned {
    std::vector<std::string> lines;
    int removed = 0;
    int kept = 0;
};
// Removes the worktrees of the sweep's finished runs that hold nothing git does not track; their
// metrics are copied beside the sweep's record and their carried files moved to their shelves
// first. Branches and snapshots stay. Reads the record again under the sweep's scheduling lock,
// so a resume or extend at the same time never has a queued run's worktree removed.
Cleaned clean_sweep(git::Repository& repo, const Sweep& recorded);

// `sweep report --tag-best`: snapshots the report's best run (`git model tag` on its model) with
// its metrics (snapshot_metrics: `metrics_left_out` past the limit). Throws gm::Error when no
// run has recorded the report's metric.
struct TaggedBest {
    snapshots::Snapshot snapshot;
    std::size_t metrics_left_out = 0;
};
TaggedBest tag_best_run(git::Repository& repo, const Sweep& sweep, const Report& report);

}  // namespace gm::sweep
