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
    pass,          // "pass": every check passed
    fail,          // "fail": a check failed or a threshold was missed (exit 1)
    unusable,      // "unusable" (per GPU): the GPU could not be used at all; see its error
    no_gpu,        // "no-gpu" (overall): no GPU could be used at all (exit 3)
    cannot_judge,  // "cannot-judge": a GPU is there but the bench cannot judge it (driver too old,
                   // busy, compute mode prohibited, ECC reset pending, MIG slice, no code for it);
                   // its error says why and what to do (exit 3, never "fail")
};

// "pass", "fail", "unusable", "no-gpu" or "cannot-judge".
std::string_view to_string(Verdict verdict);

// One named check and its outcome, as shown in the table and the JSON "checks" array.
struct Check {
    std::string name;    // e.g. "triad-result", "triad-bandwidth"
    bool passed = false; // whether it passed
    std::string detail;  // the figures behind the outcome
};

// One measured rate: the best of the repetitions (as STREAM reports) and the median, which the
// thresholds judge (one lucky repetition must not pass a GPU that is slow most of the time).
struct Rate {
    double best = 0.0;    // highest rate over the timed repetitions
    double median = 0.0;  // median rate: what the fractions and thresholds use
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
    std::optional<double> triad_fraction;  // median triad / peak bandwidth
    std::optional<double> copy_fraction;   // median copy / peak bandwidth
    std::optional<double> fp32_fraction;   // median FMA / peak FP32
    std::uint64_t stream_buffer_bytes = 0; // bytes per bandwidth buffer (three of them)
    int stream_repetitions = 0;            // timed launches of each bandwidth kernel
    std::uint64_t transfer_bytes = 0;      // bytes per host<->device copy
    int transfer_repetitions = 0;          // timed copies each way
    std::uint64_t fma_threads = 0;         // threads of the FMA kernel
    std::uint32_t fma_iterations = 0;      // FMA steps per accumulator
    int fma_repetitions = 0;               // timed FMA launches
    std::uint64_t memtest_bytes = 0;       // memory integrity test: bytes tested (0: not run)
    double memtest_ms = 0.0;               // its GPU time
    std::uint64_t memtest_failures = 0;    // wrong reads it counted
};

// How long one step of the run took on the host's clock (driver calls, copies and host-side
// checks included), so that a slow run can be explained step by step (JSON "steps").
struct StepTime {
    std::string name;  // the step, as the watchdog names it ("context creation")
    double ms = 0.0;   // its wall time
};

// How a GPU compares with the other GPUs of the same model in the same run: a throttled or
// degraded card shows as one well below its peers.
struct PeerComparison {
    int peers = 0;                                 // other GPUs of the same model measured in this run
    std::optional<double> triad_vs_best_peer;      // median triad / the best peer's median triad
    std::optional<double> fp32_vs_best_peer;       // the same for FP32 (full mode only)
    bool flagged = false;                          // more than peer_flag_margin below on either
};

// How far below its best peer of the same model a GPU may be before it is flagged (10%).
constexpr double peer_flag_margin = 0.10;

// Everything about one GPU.
struct DeviceReport {
    int index = -1;                              // CUDA device ordinal
    std::optional<DeviceInfo> info;              // unset when even the query failed
    std::optional<std::uint64_t> memory_free_bytes;  // after context creation
    Peaks peaks;                                 // theoretical peaks
    Measurements measurements;                   // what was measured
    std::vector<Check> checks;                   // every check, in the order run
    std::vector<MemtestError> memtest_errors;    // failing words of the memory test, as reported
    std::optional<PeerComparison> peer;          // set when other GPUs of the same model were measured
    std::vector<std::string> warnings;           // findings that do not change the verdict (a slow peer)
    Verdict verdict = Verdict::fail;             // pass, fail, unusable or cannot-judge
    std::optional<Failure> error;                // why the GPU was unusable, cannot be judged, or hung
    double elapsed_ms = 0.0;                     // time spent on this GPU
    std::vector<StepTime> steps;                 // each step's wall time, in the order run
};

// Everything the bench found, and its verdict.
struct BenchReport {
    std::string version;                 // git-model-bench's version
    Mode mode = Mode::full;              // how thoroughly it measured
    bool cuda_support = false;           // built with CUDA
    std::string targets;                 // SASS/PTX in the binary, e.g. "sm_75 ... compute_90"
    std::string driver_release;          // NVIDIA driver release, e.g. "580.65.06"; empty if unknown
    int cuda_driver_version = 0;         // CUDA version the driver supports, e.g. 13000
    int kernels_version = 0;             // CUDA version the kernels were built with, e.g. 11080
    int device_count = 0;                // GPUs visible to CUDA
    EffectiveThresholds thresholds;      // thresholds in force
    int step_timeout_ms = 0;             // time limit of each step
    std::vector<DeviceReport> devices;   // the GPUs tested
    std::vector<SkippedGpu> skipped;     // the GPUs left alone (--skip-gpu), not in devices
    std::optional<Failure> error;        // why the run as a whole failed (no GPU, a hang)
    Verdict verdict = Verdict::fail;     // pass, fail, no-gpu or cannot-judge
    int exit_code = 1;                   // 0 pass, 1 fail, 3 no usable GPU or cannot judge
    double elapsed_ms = 0.0;             // the whole run, CUDA initialisation included
    double init_ms = 0.0;                // of which loading the driver and cuInit
};

// A GPU's verdict: fail when a check failed or a step hung; cannot-judge or unusable by its
// error's class (classify.hpp); else pass iff it has checks.
Verdict device_verdict(const DeviceReport& device);

// Compares each GPU with the others of the same model (MIG slices left out), sets their
// PeerComparison and adds a warning to each one flagged.
void compare_peers(BenchReport& report);

// Sets the overall verdict and exit code: fail (1) after a timeout, a failing GPU, or an unusable
// one among good ones; no-gpu (3) when the run failed before any GPU could be used or every GPU
// was unusable; cannot-judge (3) when some GPU could not be judged and none failed; else pass (0).
void finalize(BenchReport& report);

// Marks a report as ended by a hung step (verdict fail, exit 1, error kind "timeout"), keeping
// what was measured before it.
void mark_timed_out(BenchReport& report, const std::string& step, int device, int limit_ms);

}  // namespace gm::gpu
