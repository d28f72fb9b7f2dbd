#include "gitmodel/gpu/peaks.hpp"

namespace gm::gpu {

std::optional<Fp32Lanes> fp32_lanes(ComputeCapability capability) {
    // NVIDIA CUDA C++ Programming Guide, "Arithmetic Instructions" throughput table (FP32 FMA
    // results per clock per SM).
    switch (capability.major) {
    case 3: return Fp32Lanes{192, false};                                  // Kepler
    case 5: return Fp32Lanes{128, false};                                  // Maxwell
    case 6: return Fp32Lanes{capability.minor == 0 ? 64 : 128, false};     // Pascal: P100 64, others 128
    case 7: return Fp32Lanes{64, false};                                   // Volta, Turing
    case 8: return Fp32Lanes{capability.minor == 0 ? 64 : 128, false};     // Ampere: A100 64, GA10x/Ada 128
    case 9: return Fp32Lanes{128, false};                                  // Hopper
    case 10:                                                               // Blackwell (B200, B300)
    case 11:                                                               // Thor
    case 12: return Fp32Lanes{128, false};                                 // Blackwell (RTX, GB10)
    default: break;
    }
    if (capability.major > 12) return Fp32Lanes{128, true};
    return std::nullopt;
}

std::optional<double> peak_memory_bandwidth_gbps(int memory_clock_khz, int bus_width_bits) {
    if (memory_clock_khz <= 0 || bus_width_bits <= 0) return std::nullopt;
    const double transfers_per_second = 2.0 * memory_clock_khz * 1e3;
    return transfers_per_second * (bus_width_bits / 8.0) / 1e9;
}

std::optional<double> peak_fp32_tflops(int multiprocessors, int lanes_per_multiprocessor, int clock_khz) {
    if (multiprocessors <= 0 || lanes_per_multiprocessor <= 0 || clock_khz <= 0) return std::nullopt;
    return 2.0 * multiprocessors * lanes_per_multiprocessor * (clock_khz * 1e3) / 1e12;
}

Peaks compute_peaks(const DeviceInfo& info) {
    Peaks peaks;
    peaks.memory_bandwidth_gbps = peak_memory_bandwidth_gbps(info.memory_clock_khz, info.memory_bus_width_bits);
    if (const auto lanes = fp32_lanes(info.capability)) {
        peaks.fp32_lanes_per_multiprocessor = lanes->per_multiprocessor;
        peaks.fp32_lanes_estimated = lanes->estimated;
        peaks.fp32_tflops = peak_fp32_tflops(info.multiprocessors, lanes->per_multiprocessor, info.clock_khz);
    }
    return peaks;
}

}  // namespace gm::gpu
