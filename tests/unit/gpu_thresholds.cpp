#include "gitmodel/gpu/thresholds.hpp"

#include <catch2/catch.hpp>

using namespace gm::gpu;

TEST_CASE("flags override the file threshold by threshold", "[gpu]") {
    Thresholds file;
    file.min_bandwidth_fraction = 0.8;
    file.min_fp32_fraction = 0.7;
    file.min_free_memory = 1024;
    Thresholds flags;
    flags.min_bandwidth_fraction = 0.9;
    flags.min_compute_capability = ComputeCapability{8, 0};
    const Thresholds merged = merge(file, flags);
    CHECK(merged.min_bandwidth_fraction == 0.9);                 // flag wins
    CHECK(merged.min_fp32_fraction == 0.7);                      // file kept
    CHECK(merged.min_free_memory == std::optional<std::uint64_t>(1024));
    CHECK(merged.min_compute_capability == std::optional<ComputeCapability>(ComputeCapability{8, 0}));
    CHECK_FALSE(merged.min_quick_bandwidth_fraction.has_value());
}

TEST_CASE("resolve fills defaults only where nothing was said", "[gpu]") {
    const EffectiveThresholds none = resolve(Thresholds{});
    CHECK(none.min_bandwidth_fraction == defaults::min_bandwidth_fraction);
    CHECK(none.min_quick_bandwidth_fraction == defaults::min_quick_bandwidth_fraction);
    CHECK(none.min_fp32_fraction == defaults::min_fp32_fraction);
    CHECK_FALSE(none.min_compute_capability.has_value());
    CHECK_FALSE(none.min_free_memory.has_value());
    Thresholds some;
    some.min_fp32_fraction = 0.0;  // explicitly "no FP32 requirement"
    CHECK(resolve(some).min_fp32_fraction == 0.0);
}

TEST_CASE("fractions parse as decimals or percentages", "[gpu]") {
    CHECK(parse_fraction("0.85") == std::optional<double>(0.85));
    CHECK(*parse_fraction("85%") == Approx(0.85));
    CHECK(parse_fraction("1") == std::optional<double>(1.0));
    CHECK(parse_fraction("0") == std::optional<double>(0.0));
    CHECK_FALSE(parse_fraction("1.5").has_value());
    CHECK_FALSE(parse_fraction("150%").has_value());
    CHECK_FALSE(parse_fraction("-0.1").has_value());
    CHECK_FALSE(parse_fraction("abc").has_value());
    CHECK_FALSE(parse_fraction("").has_value());
    CHECK_FALSE(parse_fraction("%").has_value());
    CHECK_FALSE(parse_fraction("1e-1").has_value());
}

