#pragma once
// `git model sweep start --export k8s`: the sweep as a Kubernetes Indexed Job
// for clusters that schedule on Kubernetes instead: one completion per run,
// the pinned image, nvidia.com/gpu in the limits. Pod k runs run k+1's command
// in that run's worktree, which (as for Slurm) must be on storage mounted at
// the same path on every node; the Job mounts it with a hostPath volume.

#include <string>

#include "gitmodel/sweep/store.hpp"

namespace gm::sweep {

// The manifest (YAML) for every run of the sweep.
std::string indexed_job_manifest(const Sweep& sweep);

// A name Kubernetes accepts (DNS label: lower case, digits, '-', at most 63) for the sweep's Job.
std::string job_name(const Sweep& sweep);

}  // namespace gm::sweep
