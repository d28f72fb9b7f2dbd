#pragma once
// The bench's findings as plain data: what the JSON writer and the table print, and what the
// verdict and exit code are computed from.

#include "gitmodel/gpu/classify.hpp"
#include "gitmodel/gpu/device.hpp"
#include "gitmodel/gpu/peaks.hpp"
#include "gitmodel/gpu/thresholds.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm::gpu {

// How thoroughly to measure.
enum class Mode {
    quick,  // "quick": prove kernels run correctly and bandwidth is sane, in the least time
    full,   // "full" (the default): measure thoroughly against the thresholds
};

// "quick" or "full", as JSON spells it.
std::string_view to_string(Mode mode);

// A verdict: per GPU and overall.
enum class Verdict {
    pass,      // "pass": every check passed
    fail,      // "fail": a check failed or a threshold was missed (exit 1)
    unusable,  // "unusable" (per GPU): the GPU could not be used at all; see its error
    no_gpu,    // "no-gpu" (overall): no GPU could be used at all (exit 3)
};

// "pass", "fail", "unusable" or "no-gpu".
std::string_view to_string(Verdict verdict);

// One named check and its outcome, as shown in the table and the JSON "checks" array.
struct Check {
    std::string name;    // e.g. "triad-result", "triad-bandwidth"
    bool passed = false; // whether it passed
    std::string detail;  // the figures behind the outcome
};

// One measured rate: the best of the repetitions (as STREAM reports) and the median.
struct Rate {
    double best = 0.0;    // highest rate over the timed repetitions
    double median = 0.0;  // median rate, to show the spread
};

// Rates from kernel or copy times: bytes (or operations) per repetition over each time.
// nullopt when there are no times or a time is not positive.
std::optional<Rate> rate_from_times(double units_per_repetition, const std::vector<double>& times_ms);

// The figures measured on one GPU; unset ones were not measured (a step failed, or the mode skips it).
struct Measurements {
    std::optional<Rate> triad_gbps;      // device-memory triad bandwidth, GB/s
    std::optional<Rate> copy_gbps;       // device-memory copy bandwidth, GB/s
    std::optional<Rate> h2d_gbps;        // pinned host to device, GB/s
    std::optional<Rate> d2h_gbps;        // device to pinned host, GB/s
    std::optional<Rate> fp32_tflops;     // FP32 FMA throughput, TFLOP/s
    std::optional<double> triad_fraction;  // best triad / peak bandwidth
    std::optional<double> copy_fraction;   // best copy / peak bandwidth
    std::optional<double> fp32_fraction;   // best FMA / peak FP32
    std::uint64_t stream_buffer_bytes = 0; // bytes per bandwidth buffer (three of them)
    int stream_repetitions = 0;            // timed launches of each bandwidth kernel
    std::uint64_t transfer_bytes = 0;      // bytes per host<->device copy
    int transfer_repetitions = 0;          // timed copies each way
    std::uint64_t fma_threads = 0;         // threads of the FMA kernel
    std::uint32_t fma_iterations = 0;      // FMA steps per accumulator
    int fma_repetitions = 0;               // timed FMA launches
};

// Everything about one GPU.
struct DeviceReport {
    int index = -1;                              // CUDA device ordinal
    std::optional<DeviceInfo> info;              // unset when even the query failed
    std::optional<std::uint64_t> memory_free_bytes;  // after context creation
    Peaks peaks;                                 // theoretical peaks
    Measurements measurements;                   // what was measured
    std::vector<Check> checks;                   // every check, in the order run
    Verdict verdict = Verdict::fail;             // pass, fail or unusable
    std::optional<Failure> error;                // why the GPU was unusable (or hung)
    double elapsed_ms = 0.0;                     // time spent on this GPU
};

// Everything the bench found, and its verdict.
struct BenchReport {
    std::string version;                 // git-model-bench's version
    Mode mode = Mode::full;              // how thoroughly it measured
    bool cuda_support = false;           // built with CUDA
    std::string targets;                 // SASS/PTX in the binary, e.g. "sm_75 ... compute_90"
    std::string driver_release;          // NVIDIA driver release, e.g. "580.65.06"; empty if unknown
    int cuda_driver_version = 0;         // CUDA version the driver supports, e.g. 13000
    int runtime_version = 0;             // CUDA runtime linked in, e.g. 13000
    int device_count = 0;                // GPUs visible to CUDA
    EffectiveThresholds thresholds;      // thresholds in force
    int step_timeout_ms = 0;             // time limit of each step
    std::vector<DeviceReport> devices;   // the GPUs tested
    std::optional<Failure> error;        // why the run as a whole failed (no GPU, a hang)
    Verdict verdict = Verdict::fail;     // pass, fail or no-gpu
    int exit_code = 1;                   // 0 pass, 1 fail, 3 no usable GPU
    double elapsed_ms = 0.0;             // the whole run, CUDA initialisation included
};

// A GPU's verdict from its checks and error: unusable with an error other than a timeout, else
// pass iff it has checks and all passed.
Verdict device_verdict(const DeviceReport& device);

// Sets the overall verdict and exit code: no-gpu (3) when the run failed before any GPU could be
// used, or every GPU was unusable; fail (1) after a timeout or any failing GPU; else pass (0).
void finalize(BenchReport& report);

// Marks a report as ended by a hung step (verdict fail, exit 1, error kind "timeout"), keeping
// what was measured before it.
void mark_timed_out(BenchReport& report, const std::string& step, int device, int limit_ms);

}  // namespace gm::gpu
