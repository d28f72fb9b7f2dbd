#include "gitmodel/gpu/device.hpp"
#include "gitmodel/gpu/pattern.hpp"
#include "gitmodel/gpu/peaks.hpp"

#include <catch2/catch.hpp>

using namespace gm::gpu;

namespace {

// The H100 80GB HBM3 (SXM) with the properties of NVIDIA's specifications (132 SMs, 1,980 MHz, HBM3 at
// 2,619 MHz on 5,120 bits, 50 MiB L2): values typed in, not read from a GPU by this project.
DeviceInfo h100() {
    DeviceInfo info;
    info.index = 0;
    info.name = "NVIDIA H100 80GB HBM3";
    info.capability = {9, 0};
    info.multiprocessors = 132;
    info.max_threads_per_multiprocessor = 2048;
    info.clock_khz = 1980000;
    info.memory_clock_khz = 2619000;
    info.memory_bus_width_bits = 5120;
    info.l2_cache_bytes = 50 * 1024 * 1024;
    info.memory_total_bytes = 85045280768ull;
    return info;
}

}  // namespace

TEST_CASE("peak memory bandwidth matches the H100 figure in ENVIRONMENT.md", "[gpu]") {
    // 2,619 MHz x 5,120 bit x 2 = 3,352 GB/s.
    const auto peak = peak_memory_bandwidth_gbps(2619000, 5120);
    REQUIRE(peak.has_value());
    CHECK(*peak == Approx(3352.32).epsilon(1e-6));
    CHECK(compute_peaks(h100()).memory_bandwidth_gbps == peak);
}

TEST_CASE("peak memory bandwidth of other memories", "[gpu]") {
    // A100 40GB: 1,215 MHz x 5,120 bit x 2 = 1,555 GB/s.
    CHECK(*peak_memory_bandwidth_gbps(1215000, 5120) == Approx(1555.2));
    // RTX 4090 (GDDR6X as CUDA reports it): 10,501 MHz x 384 bit x 2 = 1,008 GB/s.
    CHECK(*peak_memory_bandwidth_gbps(10501000, 384) == Approx(1008.096));
    // No clock or no width: no peak rather than a zero that would fail every fraction.
    CHECK_FALSE(peak_memory_bandwidth_gbps(0, 5120).has_value());
    CHECK_FALSE(peak_memory_bandwidth_gbps(2619000, 0).has_value());
}

TEST_CASE("FP32 lanes per SM follow the architecture table", "[gpu]") {
    CHECK(fp32_lanes({7, 0})->per_multiprocessor == 64);   // V100
    CHECK(fp32_lanes({7, 5})->per_multiprocessor == 64);   // T4
    CHECK(fp32_lanes({8, 0})->per_multiprocessor == 64);   // A100
    CHECK(fp32_lanes({8, 6})->per_multiprocessor == 128);  // A10, RTX 30
    CHECK(fp32_lanes({8, 9})->per_multiprocessor == 128);  // L4, L40S, RTX 40
    CHECK(fp32_lanes({9, 0})->per_multiprocessor == 128);  // H100, H200
    CHECK(fp32_lanes({10, 0})->per_multiprocessor == 128); // B200
    CHECK(fp32_lanes({12, 0})->per_multiprocessor == 128); // RTX 50
    CHECK_FALSE(fp32_lanes({9, 0})->estimated);
    CHECK(fp32_lanes({15, 0})->estimated);                 // newer than the table
    CHECK_FALSE(fp32_lanes({2, 0}).has_value());           // older than anything we can run on
}

TEST_CASE("peak FP32 throughput", "[gpu]") {
    // H100 SXM: 132 SMs x 128 lanes x 2 x 1.98 GHz = 66.9 TFLOP/s (ENVIRONMENT.md measured 56, 84%).
    const Peaks peaks = compute_peaks(h100());
    REQUIRE(peaks.fp32_tflops.has_value());
    CHECK(*peaks.fp32_tflops == Approx(66.90816));
    CHECK(peaks.fp32_lanes_per_multiprocessor == 128);
    // A100: 108 x 64 x 2 x 1.41 GHz = 19.5 TFLOP/s.
    CHECK(*peak_fp32_tflops(108, 64, 1410000) == Approx(19.49184));
    CHECK_FALSE(peak_fp32_tflops(0, 64, 1410000).has_value());
}

TEST_CASE("compute capabilities parse, compare and print", "[gpu]") {
    CHECK(parse_compute_capability("8.0") == std::optional<ComputeCapability>(ComputeCapability{8, 0}));
    CHECK(parse_compute_capability("12.1") == std::optional<ComputeCapability>(ComputeCapability{12, 1}));
    CHECK(parse_compute_capability("9") == std::optional<ComputeCapability>(ComputeCapability{9, 0}));
    CHECK_FALSE(parse_compute_capability("").has_value());
    CHECK_FALSE(parse_compute_capability("8.").has_value());
    CHECK_FALSE(parse_compute_capability("x8.0").has_value());
    CHECK_FALSE(parse_compute_capability("8.10").has_value());
    CHECK(ComputeCapability{8, 6} < ComputeCapability{9, 0});
    CHECK(ComputeCapability{9, 0} >= ComputeCapability{8, 9});
    CHECK_FALSE(ComputeCapability{7, 5} >= ComputeCapability{8, 0});
    CHECK(to_string(ComputeCapability{9, 0}) == "9.0");
}

TEST_CASE("UUIDs and PCI addresses print as nvidia-smi prints them", "[gpu]") {
    std::array<std::uint8_t, 16> uuid{};
    for (std::size_t i = 0; i < uuid.size(); ++i) uuid[i] = static_cast<std::uint8_t>(0xa0 + i);
    CHECK(format_uuid(uuid) == "GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
    DeviceInfo info;
    info.pci_domain = 0;
    info.pci_bus = 0x19;
    info.pci_device = 0;
    CHECK(format_pci_bus_id(info) == "00000000:19:00.0");
}

TEST_CASE("compiled targets decide which GPUs the binary can run on", "[gpu]") {
    const CompiledTargets cuda13{split_architectures("75,80,86,89,90"), split_architectures("90")};
    CHECK(cuda13.sass.size() == 5);
    CHECK(targets_support(cuda13, {7, 5}));
    CHECK_FALSE(targets_support(cuda13, {7, 0}));  // Volta: dropped by CUDA 13
    CHECK(targets_support(cuda13, {8, 7}));        // Orin runs sm_86 SASS
    CHECK(targets_support(cuda13, {9, 0}));
    CHECK(targets_support(cuda13, {10, 0}));       // Blackwell: through the compute_90 PTX
    CHECK(targets_support(cuda13, {12, 0}));
    const CompiledTargets no_ptx{split_architectures("80,90a"), {}};
    CHECK(targets_support(no_ptx, {9, 0}));
    CHECK_FALSE(targets_support(no_ptx, {10, 0}));
    CHECK(targets_support(CompiledTargets{}, {3, 0}));  // unknown build: let the launch decide
    CHECK(describe_targets(cuda13) == "sm_75 sm_80 sm_86 sm_89 sm_90 compute_90");
}

TEST_CASE("pattern values are exact in float", "[gpu]") {
    for (std::uint64_t i : {0ull, 1ull, 2ull, 12345ull, (1ull << 26) - 1, (1ull << 33) + 7}) {
        const float a = pattern::triad_a(i), b = pattern::triad_b(i);
        CHECK(a >= 0.0f);
        CHECK(a < 65536.0f);
        CHECK(b < 65536.0f);
        CHECK(pattern::triad_result(i) == a + 3.0f * b);
        CHECK(static_cast<double>(pattern::triad_result(i)) == static_cast<double>(a) + 3.0 * static_cast<double>(b));
        CHECK(pattern::transfer_value(i) < 16777216.0f);
    }
    // Neighbours differ, so a shifted store is caught.
    int equal_neighbours = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) equal_neighbours += pattern::triad_result(i) == pattern::triad_result(i + 1);
    CHECK(equal_neighbours < 5);
    // The largest FMA result stays exact: 8 accumulators of at most 255 + 7 + 2^20.
    const float big = pattern::fma_result(255, pattern::fma_max_iterations);
    CHECK(static_cast<double>(big) == 8.0 * (255 + pattern::fma_max_iterations) + 28.0);
    CHECK(pattern::fma_result(0, 0) == 28.0f);
}
