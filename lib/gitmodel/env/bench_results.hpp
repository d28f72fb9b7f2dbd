#pragma once
// Where git-model-bench keeps each GPU's last result by default (the lease book's
// bench-results/ folder, else the user's own cache), and which GPUs a model's environment ran
// on, so that `git model tag` can record the hardware a snapshot's metrics came from.

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/gpu/result_cache.hpp"

#include <nlohmann/json.hpp>

namespace gm::env {

// The default home of bench results: the lease book of the repository at (or above) `cwd`
// (GIT_MODEL_LEASE_DIR, model.leaseDir, the machine's default), and the user's own file.
gpu::ResultsHome bench_results_home();

// Keeps the results of a `git-model-bench --json` report that ran elsewhere (inside a container,
// `env up --check`) in the default home of `book`, only of the GPUs in `given` (what ran there
// chose what it reports: figures of other GPUs would be believed as the caller's own); a warning
// to show when that fails, else nullopt.
std::optional<std::string> keep_bench_report(const nlohmann::json& report, const std::filesystem::path& book,
                                             const std::set<std::string>& given);

// The GPUs a `git-model-bench --json` report tested that are not in `given` (by UUID, made
// printable; "a GPU without a UUID" for one it could not name), in report order.
std::vector<std::string> ungiven_gpus(const nlohmann::json& report, const std::set<std::string>& given);

// One GPU a model ran on, with what the results say of it (result empty when none is kept).
struct ModelGpu {
    std::string uuid;                         // "GPU-..."
    std::optional<gpu::CachedResult> result;  // its newest full result, else its newest quick one
    std::string measured_by;                  // the teammate whose run that is; empty: the caller's own
};

// The GPUs of a model's environment, by UUID: those the caller's leases in the book give it now
// (its container, running or stopped), else those its last `env up` recorded; each with the
// caller's own newest result (their file in the book, their cache), else the newest any other
// user's owner-checked file holds, named as that user's: nobody can pass figures off as the
// caller's own. Empty when none is known (no environment, a GPU without UUID, a CPU-only
// machine). Warnings (ignored result files, an unreadable book) go to `warnings`; nothing here
// throws.
std::vector<ModelGpu> model_gpus(const git::Repository& repo, const std::string& model,
                                 std::vector<std::string>& warnings);

}  // namespace gm::env
