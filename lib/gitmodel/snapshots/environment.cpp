// Where the lifecycle commands meet `git model env`; see environment.hpp.
#include "gitmodel/snapshots/environment.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/env/bench_results.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/env/state.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/snapshots/snapshots.hpp"

#include <fmt/core.h>

namespace gm::snapshots {

namespace {

// The engine, or nullopt when none is installed (then no environment can exist either).
std::optional<env::Engine> engine_if_any(const git::Repository& repo) {
    try {
        return env::select_engine(repo.config(), std::nullopt);
    } catch (const UnavailableError&) {
        return std::nullopt;
    }
}

std::string model_container(const git::Repository& repo, const std::string& model) {
    return env::container_name(repo.common_dir(), repo.main_worktree_or_common_dir(), model);
}

}  // namespace

std::optional<EnvironmentState> environment_state(const git::Repository& repo, const std::string& model,
                                                  const std::optional<std::filesystem::path>& /*worktree*/) {
    const auto engine = engine_if_any(repo);
    if (!engine) return EnvironmentState{"unavailable", "no container engine installed", {}};
    const std::string name = model_container(repo, model);
    const auto info = env::find_container(*engine, name);
    if (!info) return EnvironmentState{"down", "start it with: git model env up", {}};
    const auto label = [&](const char* key) {
        const auto it = info->labels.find(key);
        return it == info->labels.end() ? std::string() : it->second;
    };
    const std::string image = label(env::label::image).empty() ? info->image : label(env::label::image);
    EnvironmentState state{info->state,
                           fmt::format("container {}, image {}, GPUs {}", name, image,
                                       label(env::label::gpus).empty() ? "none" : label(env::label::gpus)),
                           {}};
    if (auto drift = env::container_drift(repo, *info)) state.drift = std::move(*drift);
    return state;
}

std::optional<env::SnapshotImage> image_ran_by_snapshots(const git::Repository& repo, const std::string& model,
                                                         const std::string& reference) {
    for (const auto& snapshot : list_snapshots(repo, model).snapshots)  // newest first
        if (snapshot.record.image == reference && snapshot.record.image_id)
            return env::SnapshotImage{snapshot.tag, *snapshot.record.image_id};
    return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> image_last_run(const git::Repository& repo, const std::string& model) {
    const auto launched = env::read_launch(repo.common_dir(), model);
    if (!launched || launched->image_id.empty()) return std::nullopt;
    return std::make_pair(launched->image, launched->image_id);
}

std::vector<SnapshotGpu> hardware_last_run(const git::Repository& repo, const std::string& model,
                                           std::vector<std::string>& warnings) {
    std::vector<SnapshotGpu> out;
    for (const auto& found : env::model_gpus(repo, model, warnings)) {
        SnapshotGpu gpu;
        gpu.uuid = found.uuid;
        if (const auto& r = found.result) {
            gpu.name = r->name;
            gpu.driver_version = r->driver_version;
            gpu.cuda_driver_version = r->cuda_driver_version;
            gpu.triad_fraction = r->triad_fraction;
            gpu.fp32_fraction = r->fp32_fraction;
            gpu.bench_mode = std::string(gpu::to_string(r->mode));
            gpu.bench_time = r->time;
            gpu.bench_by = found.measured_by;
        }
        out.push_back(std::move(gpu));
    }
    return out;
}

namespace {

// The model's environment as env down sees it, without a worktree (prune may have none left).
env::Target environment_target(const git::Repository& repo, const std::string& model) {
    env::Target target;
    target.model = model;
    target.branch = naming::model_branch(model);
    target.common_dir = repo.common_dir();
    target.container = model_container(repo, model);
    return target;
}

}  // namespace

std::vector<std::string> planned_environment_removal(const git::Repository& repo, const std::string& model) {
    const auto engine = engine_if_any(repo);
    if (!engine) return {};
    const env::Target target = environment_target(repo, model);
    if (const auto info = env::find_container(*engine, target.container)) {
        env::require_own_container(*info, target, *engine);
        return {fmt::format("remove container {} and give back its GPUs", target.container)};
    }
    if (const auto moved = env::moved_environment(*engine, target))
        return {fmt::format("remove container {} (started before the repository moved from {}) and give back its GPUs",
                            moved->container.name, moved->old_place.string())};
    return {};
}

std::vector<std::string> remove_environment(const git::Repository& repo, const std::string& model) {
    if (!engine_if_any(repo)) return {};
    // env down's own rules: an up of it in progress finishes first, a container of its name
    // that git model did not make for it here is refused, one started before the repository
    // moved is the one removed, and GPUs whose processes still run stay leased (refused too).
    const auto result = env::down(repo, environment_target(repo, model));
    if (!result.removed) return {};
    return {fmt::format("removed container {}{} and gave back its GPUs", result.container,
                        result.moved_from ? fmt::format(" (started before the repository moved from {})",
                                                        result.moved_from->string())
                                          : "")};
}

}  // namespace gm::snapshots
