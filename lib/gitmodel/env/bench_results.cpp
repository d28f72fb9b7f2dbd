#include "gitmodel/env/bench_results.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/env/state.hpp"
#include "gitmodel/git/machine_config.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

namespace {

// model.leaseDir of the repository here, else of the user's and machine's config.
std::optional<std::string> configured_lease_dir() {
    try {
        const auto repo = git::Repository::discover();
        return repo.config().get_string("model.leaseDir");
    } catch (const Error&) {
        // outside any repository (inside a container, an admin's shell)
    }
    try {
        const auto values = git::config_outside_repository("model.");
        if (const auto it = values.find("model.leasedir"); it != values.end()) return it->second;
    } catch (const Error&) {
    }
    return std::nullopt;
}

// The GPU UUIDs the caller's leases give the model now, in index order.
std::vector<std::string> leased_uuids(const git::Repository& repo, const std::string& model,
                                      std::vector<std::string>& warnings) {
    std::vector<std::string> out;
    try {
        const auto book = LeaseBook::open_existing(LeaseBook::directory(repo.config()));
        if (!book) return out;
        const std::string common = repo.common_dir().string();
        for (const auto& entry : book->read().leases) {
            const Lease& lease = entry.lease;
            // Only the caller's own: another user's lease naming this repository proves nothing.
            if (lease.uid != ::geteuid() || lease.model != model || lease.repo != common || lease.sweep != "") continue;
            if (!starts_with(lease.gpu, "GPU-")) continue;
            if (std::find(out.begin(), out.end(), lease.gpu) == out.end()) out.push_back(lease.gpu);
        }
    } catch (const Error& e) {
        warnings.push_back(fmt::format("the GPUs of model '{}' are not known: {}", model, e.what()));
    }
    return out;
}

}  // namespace

gpu::ResultsHome bench_results_home() {
    gpu::ResultsHome home;
    home.book = LeaseBook::directory(configured_lease_dir());
    home.own_file = gpu::user_results_file();
    return home;
}

std::optional<std::string> keep_bench_report(const nlohmann::json& report, const fs::path& book,
                                             const std::set<std::string>& given) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto results = gpu::cached_results_from_report(report, now);
    results.erase(std::remove_if(results.begin(), results.end(),
                                 [&](const gpu::CachedResult& r) { return !given.count(r.uuid); }),
                  results.end());
    try {
        gpu::keep_results_at_home({book, gpu::user_results_file()}, results);
    } catch (const Error& e) {
        return fmt::format("could not keep the GPU check's results: {}", e.what());
    }
    return std::nullopt;
}

std::vector<std::string> ungiven_gpus(const nlohmann::json& report, const std::set<std::string>& given) {
    std::vector<std::string> extra;
    if (!report.is_object() || !report.contains("devices") || !report["devices"].is_array()) return extra;
    for (const auto& device : report["devices"]) {
        const std::string uuid = device.is_object() && device.contains("uuid") && device["uuid"].is_string()
                                     ? device["uuid"].get<std::string>()
                                     : "";
        if (!given.count(uuid)) extra.push_back(uuid.empty() ? "a GPU without a UUID" : printable(uuid, 80));
    }
    return extra;
}

std::vector<ModelGpu> model_gpus(const git::Repository& repo, const std::string& model,
                                 std::vector<std::string>& warnings) {
    std::vector<std::string> uuids = leased_uuids(repo, model, warnings);
    if (uuids.empty())
        if (const auto launched = read_launch(repo.common_dir(), model)) uuids = launched->gpus;
    std::vector<ModelGpu> out;
    if (uuids.empty()) return out;
    gpu::ResultsByGpu everyone;
    gpu::ResultsByGpu mine;
    try {
        auto shared = gpu::read_shared_results(LeaseBook::directory(repo.config()));
        everyone = std::move(shared.results);
        mine = std::move(shared.own);
        for (auto& warning : shared.warnings) warnings.push_back(std::move(warning));
    } catch (const Error& e) {
        warnings.push_back(e.what());
    }
    if (const auto own = gpu::user_results_file()) gpu::merge_newest(mine, gpu::read_result_cache(*own));
    // The caller's own check of a GPU wins over a teammate's, however new theirs claims to be: a
    // snapshot records what its author measured, and nobody can write figures into it for them.
    for (const auto& uuid : uuids) {
        ModelGpu gpu{uuid, std::nullopt, ""};
        if (const auto found = mine.find(uuid); found != mine.end())
            gpu.result = gpu::representative_result(found->second);
        if (!gpu.result)
            if (const auto found = everyone.find(uuid); found != everyone.end()) {
                gpu.result = gpu::representative_result(found->second);
                if (gpu.result && gpu.result->measured_by && *gpu.result->measured_by != ::geteuid())
                    gpu.measured_by = user_name_of(*gpu.result->measured_by);
            }
        out.push_back(std::move(gpu));
    }
    return out;
}

}  // namespace gm::env
