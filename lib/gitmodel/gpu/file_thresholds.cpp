#include "gitmodel/gpu/file_thresholds.hpp"

namespace gm::gpu {

namespace fs = std::filesystem;

std::optional<fs::path> find_modelenv(const fs::path& start) {
    std::error_code ec;
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
        const fs::path candidate = dir / config::modelenv_file_name;
        if (fs::is_regular_file(candidate, ec)) return candidate;
        if (fs::exists(dir / ".git", ec) || dir == dir.parent_path()) break;
    }
    return std::nullopt;
}

Thresholds thresholds_from(const config::BenchThresholds& bench) {
    Thresholds out;
    out.min_bandwidth_fraction = bench.min_bandwidth_fraction;
    out.min_fp32_fraction = bench.min_fp32_fraction;
    out.min_free_memory = bench.min_free_memory;
    if (bench.min_compute_capability)
        out.min_compute_capability = ComputeCapability{bench.min_compute_capability->major, bench.min_compute_capability->minor};
    return out;
}

}  // namespace gm::gpu
