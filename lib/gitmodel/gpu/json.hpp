#pragma once
// `git model bench --json`: every figure in one documented shape, for the pre-push hook (which
// caches a pass per GPU UUID), `env up --check` and people's scripts. Keep this comment, the
// README (git-model-bench/README.md) and the man page in step; the unit test gpu_json checks it.
//
// {
//   "version": "0.1.0",             git-model-bench's version
//   "mode": "quick" | "full",
//   "verdict": "pass" | "fail" | "no-gpu" | "cannot-judge",
//   "exit_code": 0 | 1 | 3,         the process's exit code
//   "cuda_support": true,           false: built without GPU kernels
//   "targets": "sm_70 ... compute_70",  GPU code in the binary ("" without kernels)
//   "driver_version": "580.65.06" | null,   NVIDIA driver release (from /proc/driver/nvidia/version)
//   "cuda_driver_version": "13.0" | null,   newest CUDA version the driver supports
//   "kernels_cuda_version": "11.8" | null,  CUDA version the kernels were built with
//   "device_count": 1,              GPUs visible to CUDA (after CUDA_VISIBLE_DEVICES)
//   "elapsed_ms": 251.2,            the run (CUDA initialisation included), in milliseconds
//   "init_ms": 102.5,               of which loading the driver and cuInit
//   "step_timeout_ms": 10000,       time limit of each step
//   "thresholds": {
//     "min_bandwidth_fraction": 0.6, "min_quick_bandwidth_fraction": 0.1, "min_fp32_fraction": 0.5,
//     "min_compute_capability": "8.0" | null, "min_free_memory_bytes": 8589934592 | null
//   },
//   "devices": [ {                  one per GPU tested, in the order tested
//     "index": 0,                   CUDA device ordinal
//     "uuid": "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" | null,  as nvidia-smi prints it
//     "name": "NVIDIA H100 80GB HBM3" | null,
//     "pci_bus_id": "00000000:19:00.0" | null,
//     "compute_capability": "9.0" | null,
//     "memory_total_bytes": 85045280768 | null, "memory_free_bytes": 84386775040 | null,
//     "multiprocessors": 132 | null, "clock_khz": 1980000 | null, "memory_clock_khz": 2619000 | null,
//     "memory_bus_width_bits": 5120 | null, "l2_cache_bytes": 52428800 | null,
//     "compute_mode": 0 | null,     0 default, 2 prohibited, 3 exclusive-process
//     "mig_slice": false | null,    a MIG slice: speed not judged
//     "peaks": { "memory_bandwidth_gbps": 3352.3 | null, "fp32_tflops": 66.9 | null,
//                "fp32_lanes_per_multiprocessor": 128 | null, "fp32_lanes_estimated": false },
//     "measurements": {             null where not measured; rates: best and median repetition;
//                                   fractions: the median over the peak (what thresholds judge)
//       "triad_gbps", "triad_gbps_median", "triad_fraction",
//       "copy_gbps", "copy_gbps_median", "copy_fraction",
//       "h2d_gbps", "h2d_gbps_median", "d2h_gbps", "d2h_gbps_median",
//       "fp32_tflops", "fp32_tflops_median", "fp32_fraction",   (numbers; fractions of the peak, 0..1;
//                                                              fp32_fraction is null with --quick)
//       "stream_buffer_bytes", "stream_repetitions", "transfer_bytes", "transfer_repetitions",
//       "fma_threads", "fma_iterations", "fma_repetitions",     (integers)
//       "memtest_bytes", "memtest_failures" (integers; 0 bytes: not run), "memtest_ms" (null: not run)
//     },
//     "memtest_errors": [ { "address": "0x...", "offset": 8, "got": "0x...", "expected": "0x...",
//                           "test": "address-in-address" | "moving-inversions" } ],   first 16 failing reads
//     "peer": null | { "peers": 3, "triad_vs_best_peer": 0.98, "fp32_vs_best_peer": 0.99 | null,
//                      "flagged": false },    vs the other GPUs of the same model in this run
//     "warnings": [ "..." ],        findings that do not change the verdict (a GPU flagged against its peers)
//     "checks": [ { "name": "triad-result", "passed": true, "detail": "67108864 values correct" } ],
//     "verdict": "pass" | "fail" | "unusable" | "cannot-judge",
//     "error": null | { "kind", "message", "hint", "step", "device" },   why unusable, not judged, or hung
//     "elapsed_ms": 180.4,
//     "steps": [ { "name": "context creation", "ms": 61.3 } ]   each step's wall time, in order
//   } ],
//   "skipped": [ { "index": 1, "uuid": "GPU-..." } ],   GPUs left alone (--skip-gpu: another user's)
//   "error": null | {               why the run failed as a whole
//     "kind": "no-cuda-support" | "no-driver" | "no-device"                     (verdict no-gpu)
//           | "driver-too-old" | "device-busy" | "unsupported-device" | "compute-prohibited"
//           | "ecc-pending" | "mig-slice" | "held-by-others"                     (verdict cannot-judge)
//           | "device-bad-state" | "timeout",
//     "message": "...", "hint": "..." | null, "step": "..." | null, "device": 0 | null
//   }
// }
//
// Check names: compute-capability, free-memory (only with those thresholds), triad-result,
// copy-result, triad-bandwidth, fma-result, fp32-throughput (full mode only), transfer-result,
// memory-integrity (full mode only), memory-bandwidth (too little free memory), transfer-timing,
// cuda-error, time-limit.

#include "gitmodel/gpu/results.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace gm::gpu {

// The report as JSON, in the shape documented above (keys in that order, for people reading it).
nlohmann::ordered_json to_json(const BenchReport& report);

// The report as indented JSON text with a final newline, ready to print.
std::string render_json(const BenchReport& report);

}  // namespace gm::gpu
