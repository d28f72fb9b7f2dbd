#pragma once
// Theoretical peaks computed from a GPU's reported clocks and widths: the yardsticks that turn a
// measurement into "x% of what this GPU can do", so one threshold fits every GPU model.

#include "gitmodel/gpu/device.hpp"

#include <optional>

namespace gm::gpu {

// FP32 lanes per multiprocessor for a compute capability, from NVIDIA's architecture tables.
struct Fp32Lanes {
    int per_multiprocessor = 0;  // FP32 FMA units per SM
    bool estimated = false;      // a capability newer than the table: assumed like the newest known
};

// FP32 lanes per SM for a capability; nullopt for ones older than any the bench can run on.
std::optional<Fp32Lanes> fp32_lanes(ComputeCapability capability);

// Peak memory bandwidth in GB/s (1e9 bytes/s): memory clock x bus width x 2 (double data rate).
// nullopt when the device reports no memory clock or width (some integrated or virtual GPUs).
std::optional<double> peak_memory_bandwidth_gbps(int memory_clock_khz, int bus_width_bits);

// Peak FP32 throughput in TFLOP/s: SMs x lanes per SM x 2 (an FMA is two operations) x SM clock.
std::optional<double> peak_fp32_tflops(int multiprocessors, int lanes_per_multiprocessor, int clock_khz);

// A device's peaks, as reported in the JSON "peaks" object.
struct Peaks {
    std::optional<double> memory_bandwidth_gbps;  // see peak_memory_bandwidth_gbps
    std::optional<double> fp32_tflops;            // see peak_fp32_tflops
    int fp32_lanes_per_multiprocessor = 0;        // the table value used (0: unknown)
    bool fp32_lanes_estimated = false;            // the capability was newer than the table
};

// Both peaks of a device from its properties.
Peaks compute_peaks(const DeviceInfo& info);

}  // namespace gm::gpu
