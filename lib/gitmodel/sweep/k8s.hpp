#pragma once
// `git model sweep start --export k8s`: the sweep as a Kubernetes Indexed Job
// for clusters that schedule on Kubernetes instead: one completion per run,
// the pinned image, and what `.modelenv.yaml` asks of the container (GPUs,
// memory and CPU limits, /dev/shm, its env, the persist folders' variables).
// Pod k runs run k+1's command in that run's worktree, which (as for Slurm)
// must be on storage mounted at the same path on every node; the Job mounts it
// with a hostPath volume.

#include <optional>
#include <string>

#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// What the command line adds to the manifest.
struct K8sExport {
    std::optional<std::string> queue;  // --queue: the Kueue LocalQueue (label kueue.x-k8s.io/queue-name)
};

// Why a --queue name is not a Kubernetes name (a DNS label); empty when it is.
std::string k8s_name_problem(std::string_view name);

// The manifest (YAML) for every run of the sweep, with the container settings of the model's
// .modelenv.yaml (read from sweep.model_worktree). Throws gm::Error when that file does not load.
std::string indexed_job_manifest(const Sweep& sweep, const K8sExport& options = {});

// A name Kubernetes accepts (DNS label: lower case, digits, '-', at most 63) for the sweep's Job.
std::string job_name(const Sweep& sweep);

}  // namespace gm::sweep
