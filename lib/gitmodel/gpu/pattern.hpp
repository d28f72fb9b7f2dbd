#pragma once
// The values the benchmark kernels read and write, shared by the CUDA kernels (which fill and
// compute them) and the host (which recomputes and compares them). Every value is an integer
// small enough for float arithmetic on it to be exact, so results compare with ==, not a tolerance.
//
// Pure constexpr C++ with no CUDA header and nothing from the standard library but <cstdint>: the
// kernels (git-model-bench/kernels/kernels.cu, compiled by NVRTC or nvcc with
// --expt-relaxed-constexpr) call these functions, so host and device cannot drift apart.

#include <cstdint>

namespace gm::gpu::pattern {

// An integer hash of an element index, so that neighbouring elements differ and a store to the
// wrong place (a bad index, a lost block) shows up as a wrong value.
constexpr std::uint32_t mix(std::uint64_t index) {
    std::uint32_t x = static_cast<std::uint32_t>(index) ^ (static_cast<std::uint32_t>(index >> 32) * 0x9E3779B9u);
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

// The scalar of the triad c = a + scalar * b; 3 keeps every result an exact integer below 2^18.
constexpr float triad_scalar = 3.0f;

// The triad's first input at element i: a 16-bit integer.
constexpr float triad_a(std::uint64_t i) { return static_cast<float>(mix(i) & 0xFFFFu); }

// The triad's second input at element i: another 16-bit integer.
constexpr float triad_b(std::uint64_t i) { return static_cast<float>(mix(i) >> 16); }

// What the triad must write at element i (and what the copy of its output must hold).
constexpr float triad_result(std::uint64_t i) { return triad_a(i) + triad_scalar * triad_b(i); }

// Independent accumulators per thread of the FMA kernel: enough instruction-level parallelism
// to hide the FMA latency, few enough registers for full occupancy.
constexpr int fma_accumulators = 8;

// The FMA kernel multiplies by 1 and adds 1 (both passed at run time, so the compiler cannot fold
// them): each accumulator ends exactly `iterations` above its start while below 2^24.
constexpr float fma_multiplier = 1.0f;
// See fma_multiplier.
constexpr float fma_addend = 1.0f;

// The largest iteration count whose results stay exact: each accumulator ends at most
// 2^20 + 262 and the sum of the eight at most 2^23 + 2,096, all below 2^24, so every step and the
// final sum are exact float integers.
constexpr std::uint32_t fma_max_iterations = 1u << 20;

// Start value of accumulator k of global thread `thread`.
constexpr float fma_start(std::uint32_t thread, int k) {
    return static_cast<float>((thread & 255u) + static_cast<std::uint32_t>(k));
}

// What thread `thread` must write: the sum of its accumulators after `iterations` steps.
constexpr float fma_result(std::uint32_t thread, std::uint32_t iterations) {
    float sum = 0.0f;
    for (int k = 0; k < fma_accumulators; ++k) sum += fma_start(thread, k) + static_cast<float>(iterations);
    return sum;
}

// The host-to-device and back round trip's value at element i: a 24-bit integer.
constexpr float transfer_value(std::uint64_t i) { return static_cast<float>(mix(i ^ 0x5BD1E995u) & 0xFFFFFFu); }

// The memory integrity test (full mode) writes 64-bit words. Address-in-address: each word holds
// its own device address, so a bad address line (two addresses on one cell) shows. Moving
// inversions: every word is filled with this pattern, then checked and inverted, checked and
// inverted back, and checked again, so every bit is seen holding 0 and 1 next to neighbours that
// hold the opposite.
constexpr std::uint64_t memtest_pattern = 0x5555555555555555ull;

// Failing words the check kernels record with their address (the count goes on past it).
constexpr int memtest_max_reported = 16;

// Which test found a failing word, as the check kernels record it.
constexpr std::uint64_t memtest_address_test = 1;    // address-in-address
constexpr std::uint64_t memtest_inversion_test = 2;  // moving inversions
// The check of a bandwidth output (gm_check_triad) uses the same record: the element's index in
// the address slot, the float bits read and expected in the value slots.
constexpr std::uint64_t stream_result_test = 3;

// The error record the check kernels fill, as 64-bit words: [0] the count of failing words, then
// for each recorded one (slot < memtest_max_reported) its address, the value read, the value
// expected and the test, at these offsets.
constexpr int memtest_record_words = 1 + 4 * memtest_max_reported;
// Offset of the address of recorded failure `slot`.
constexpr int memtest_address_at(int slot) { return 1 + slot; }
// Offset of the value read at recorded failure `slot`.
constexpr int memtest_got_at(int slot) { return 1 + memtest_max_reported + slot; }
// Offset of the value expected at recorded failure `slot`.
constexpr int memtest_expected_at(int slot) { return 1 + 2 * memtest_max_reported + slot; }
// Offset of the test of recorded failure `slot`.
constexpr int memtest_test_at(int slot) { return 1 + 3 * memtest_max_reported + slot; }

}  // namespace gm::gpu::pattern
