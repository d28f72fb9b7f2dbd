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
// By default (no --results-cache) each user keeps their own file in the lease book's folder,
// <book>/bench-results/<uid>.json (mode 0644, written without following a link, its owner
// checked on every read), so that teammates see what a shared GPU last measured and nobody can
// plant or alter another user's results; where the book (or that folder) is missing or not
// writable, the user's own $XDG_CACHE_HOME/git-model/bench-results.json instead.
//
// result: "time" (Unix seconds), "suite_version", "name", "compute_capability", "pci_bus_id",
// "memory_total_bytes", "driver_version", "cuda_driver_version", "kernels_cuda_version",
// "verdict" (this GPU's), "triad_fraction", "copy_fraction", "fp32_fraction", "triad_gbps",
// "fp32_tflops" (medians; null where not measured).

#include "gitmodel/gpu/results.hpp"

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <sys/types.h>

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
    // Whose run it was: the owner of the shared results file it was read from, so that a
    // snapshot can say its figures are a teammate's; nullopt when read from the caller's own
    // cache (never written to a file: a file's owner says it).
    std::optional<uid_t> measured_by;
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

// The results of one GPU by mode ("quick", "full"), and of many GPUs by UUID.
using ModeResults = std::map<std::string, CachedResult>;
// See ModeResults.
using ResultsByGpu = std::map<std::string, ModeResults>;

// The folder of per-user result files inside a lease book.
inline constexpr const char* shared_results_folder = "bench-results";

// A user's result file's name in that folder: "<uid>.json".
std::string shared_results_name(uid_t uid);

// The user's own results file: $XDG_CACHE_HOME/git-model/bench-results.json, else
// $HOME/.cache/git-model/bench-results.json; nullopt when neither variable is set.
std::optional<std::filesystem::path> user_results_file();

// Where a bench run's results go when no --results-cache is given.
struct ResultsHome {
    std::optional<std::filesystem::path> book;       // the lease book's folder (its bench-results/ is used)
    std::optional<std::filesystem::path> own_file;   // the fallback: user_results_file()
};

// The results of a `git-model-bench --json` report (as render_json writes it), one per GPU whose
// UUID it gives, stamped with `now`: for a bench run elsewhere (inside a container).
std::vector<CachedResult> cached_results_from_report(const nlohmann::json& report, std::int64_t now);

// Writes results into the caller's own file of <book>/bench-results (made when the caller
// owns the book: with the book's mode and group). Returns the file written, or nullopt when the
// book or its results folder does not exist, is not safe or not writable (the caller falls back
// to its own file). Throws gm::Error when the write there fails (e.g. a link planted under the
// caller's name: it is never followed). `lock` names a file of the caller's own to serialize
// the caller's concurrent runs.
std::optional<std::filesystem::path> update_shared_results(const std::filesystem::path& book,
                                                           const std::vector<CachedResult>& results,
                                                           const std::filesystem::path& lock);

// Keeps results at home: in the caller's file of the book's bench-results/ (update_shared_results),
// else in home.own_file. Returns the file written; nullopt when home has no own_file (nothing
// to lock in or fall back to) or there are no results. Throws gm::Error naming the file that failed
// (also when the book's file failed and the results were kept in own_file instead).
std::optional<std::filesystem::path> keep_results_at_home(const ResultsHome& home, const std::vector<CachedResult>& results);

// What every user's files of <book>/bench-results say.
struct SharedResults {
    ResultsByGpu results;               // the newest result per GPU and mode among trusted files
    ResultsByGpu own;                   // those of the caller's own file (geteuid), also in results
    std::vector<std::string> warnings;  // files ignored: owned by another user than their name says, links, corrupt
};

// Reads every "<uid>.json" of <book>/bench-results whose owner is that uid (others, links and
// unreadable files are ignored with a warning), keeping the newest result per GPU and mode.
// A missing book or folder reads as empty.
SharedResults read_shared_results(const std::filesystem::path& book);

// Keeps, per GPU and mode, the newer of the two (by time).
void merge_newest(ResultsByGpu& into, const ResultsByGpu& from);

// The result that stands for a GPU: its newest full run (which measures FP32), unless a newer
// quick run saw another driver or CUDA version (the full figures describe software that is gone),
// else its newest quick run; nullopt when it has neither. Every field comes from one run.
std::optional<CachedResult> representative_result(const ModeResults& modes);

}  // namespace gm::gpu
