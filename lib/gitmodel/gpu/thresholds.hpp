#pragma once
// Pass/fail thresholds of the bench. They come from .modelenv.yaml's `bench:` section and from
// flags; flags win. This layer does not read YAML itself: whoever loads the file fills a
// Thresholds from it and calls merge(), so the bench stays independent of the config loader.

#include "gitmodel/gpu/device.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gm::gpu {

// Thresholds as given (file or flags): an unset field means "not said here".
struct Thresholds {
    std::optional<double> min_bandwidth_fraction;        // triad GB/s / peak, full mode
    std::optional<double> min_quick_bandwidth_fraction;  // triad GB/s / peak, --quick (small buffers)
    std::optional<double> min_fp32_fraction;             // FMA TFLOP/s / peak, full mode
    std::optional<ComputeCapability> min_compute_capability;  // oldest acceptable architecture
    std::optional<std::uint64_t> min_free_memory;        // bytes free after context creation
};

// Each field from `flags` when set there, else from `file`: the command line overrides the file.
Thresholds merge(const Thresholds& file, const Thresholds& flags);

// Defaults for what neither file nor flags set. Chosen so that every healthy data-centre GPU
// passes (GDDR and power-capped cards reach less of their peak than HBM ones); raise them in
// .modelenv.yaml for a known fleet.
namespace defaults {
constexpr double min_bandwidth_fraction = 0.60;        // see Thresholds
constexpr double min_quick_bandwidth_fraction = 0.10;  // "a sane bandwidth", proves memory works
constexpr double min_fp32_fraction = 0.50;             // see Thresholds
}  // namespace defaults

// The thresholds in force: every fraction has a value; the capability and memory stay optional
// (no check unless asked for).
struct EffectiveThresholds {
    double min_bandwidth_fraction = defaults::min_bandwidth_fraction;              // see Thresholds
    double min_quick_bandwidth_fraction = defaults::min_quick_bandwidth_fraction;  // see Thresholds
    double min_fp32_fraction = defaults::min_fp32_fraction;                        // see Thresholds
    std::optional<ComputeCapability> min_compute_capability;                       // see Thresholds
    std::optional<std::uint64_t> min_free_memory;                                  // see Thresholds
};

// Fills the defaults in.
EffectiveThresholds resolve(const Thresholds& thresholds);

// Parses a fraction "0.85" or a percentage "85%" into 0.85; nullopt unless 0 <= value <= 1.
std::optional<double> parse_fraction(std::string_view text);

}  // namespace gm::gpu
