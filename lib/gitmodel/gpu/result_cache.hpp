#pragma once
// Each GPU's last bench result, kept by GPU UUID in one JSON file, so that results follow the
// work: `git model tag` can record the figures of the GPU a model ran on, and `compare` can say
// when two snapshots ran on different hardware. The bench writes it when given
// --results-cache FILE; git-model decides where the file lives (beside its lease book).
//
// {
//   "format": 1,
//   "gpus": {
//     "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx": {
//       "quick": { result },   the last --quick run on this GPU
//       "full":  { result }    the last full run
//     }
//   }
// }
// result: "time" (Unix seconds), "suite_version", "name", "compute_capability", "pci_bus_id",
// "memory_total_bytes", "driver_version", "cuda_driver_version", "kernels_cuda_version",
// "verdict" (this GPU's), "triad_fraction", "copy_fraction", "fp32_fraction", "triad_gbps",
// "fp32_tflops" (medians; null where not measured).

#include "gitmodel/gpu/results.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gm::gpu {

// One GPU's result of one run, as the cache keeps it.
struct CachedResult {
    std::string uuid;                      // "GPU-...", the key
    Mode mode = Mode::quick;               // which run it came from
    std::int64_t time = 0;                 // when, Unix seconds
    std::string suite_version;             // git-model-bench's version
    std::string name;                      // e.g. "NVIDIA H100 80GB HBM3"
    std::string compute_capability;        // e.g. "9.0"
    std::string pci_bus_id;                // e.g. "00000000:19:00.0"
    std::uint64_t memory_total_bytes = 0;  // device memory
    std::string driver_version;            // NVIDIA driver release; empty when unknown
    std::string cuda_driver_version;       // e.g. "12.2"; empty when unknown
    std::string kernels_cuda_version;      // e.g. "11.8"
    std::string verdict;                   // this GPU's verdict: pass, fail, unusable, cannot-judge
    std::optional<double> triad_fraction;  // median triad / peak
    std::optional<double> copy_fraction;   // median copy / peak
    std::optional<double> fp32_fraction;   // median FP32 / peak (full mode)
    std::optional<double> triad_gbps;      // median triad bandwidth
    std::optional<double> fp32_tflops;     // median FP32 throughput (full mode)
};

// The results of a report, one per GPU whose UUID is known, stamped with `now`.
std::vector<CachedResult> cached_results(const BenchReport& report, std::int64_t now);

// The cache file's content; an empty map when the file is missing or not a cache (it is only a
// cache: the next write replaces it). Keyed by UUID, then by mode ("quick", "full").
std::map<std::string, std::map<std::string, CachedResult>> read_result_cache(const std::filesystem::path& file);

// Merges results into the file (each replaces the same GPU's result of the same mode; other GPUs
// and modes stay), under a lock on FILE.lock, by writing a new file beside it and renaming it
// over, so a reader never sees half a file. Creates the folder. Throws gm::Error on failure.
void update_result_cache(const std::filesystem::path& file, const std::vector<CachedResult>& results);

// A result as the file spells it, and back (nullopt for an entry that is not one).
nlohmann::json to_json(const CachedResult& result);
// See to_json.
std::optional<CachedResult> cached_result_from_json(const std::string& uuid, const nlohmann::json& entry);

}  // namespace gm::gpu
