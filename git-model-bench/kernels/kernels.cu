// git-model-bench's kernels: STREAM-style triad and copy (device-memory bandwidth) and the check
// of their results, FMA chains (FP32 throughput), the fill of the bandwidth inputs, and the memory
// integrity test.
//
// Device code only. The build compiles this file into a fat binary, SASS for each architecture of
// GM_CUDA_ARCHITECTURES plus PTX for newer GPUs to JIT-compile (kernels/build_kernels.py with
// NVRTC 11.8, or nvcc --fatbin), and embeds it in git-model-bench, which loads it with the CUDA
// driver API (driver_backend.cpp) and looks the kernels up by these extern "C" names. So: no host
// code, nothing from the standard library but <cstdint> (NVRTC has no library; the build gives it
// that one header), and values from gitmodel/gpu/pattern.hpp, which the host verifies against.

#include "gitmodel/gpu/pattern.hpp"

namespace gm_kernels {

using gm::gpu::pattern::fma_accumulators;
using u64 = unsigned long long;  // the width of the driver API's pointers and sizes

// Streaming (evict-first) float4 load: each byte is used once, so it should not displace others in L2.
__device__ __forceinline__ float4 load_streaming(const float4* p) { return __ldcs(p); }

// Streaming float4 store, for the same reason.
__device__ __forceinline__ void store_streaming(float4* p, float4 v) { __stcs(p, v); }

// One float4 of the triad.
__device__ __forceinline__ float4 triad4(float4 a, float4 b, float s) {
    return make_float4(a.x + s * b.x, a.y + s * b.y, a.z + s * b.z, a.w + s * b.w);
}

// This thread's first index and the grid's stride, for grid-stride loops.
__device__ __forceinline__ u64 first_index() { return static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x; }
// See first_index.
__device__ __forceinline__ u64 grid_stride() { return static_cast<u64>(gridDim.x) * blockDim.x; }

// Records a failing word (its address, or an element index) in the error record
// (pattern::memtest_record_words).
__device__ void record_error(u64* record, u64 where, u64 got, u64 expected, u64 test) {
    const u64 slot = atomicAdd(record, 1ull);
    if (slot < static_cast<u64>(gm::gpu::pattern::memtest_max_reported)) {
        const int s = static_cast<int>(slot);
        record[gm::gpu::pattern::memtest_address_at(s)] = where;
        record[gm::gpu::pattern::memtest_got_at(s)] = got;
        record[gm::gpu::pattern::memtest_expected_at(s)] = expected;
        record[gm::gpu::pattern::memtest_test_at(s)] = test;
    }
}

}  // namespace gm_kernels

using namespace gm_kernels;

// Fills a and b (n4 float4 each) with pattern::triad_a and triad_b.
extern "C" __global__ void gm_init(float4* __restrict__ a, float4* __restrict__ b, u64 n4) {
    for (u64 j = first_index(); j < n4; j += grid_stride()) {
        const u64 i = 4 * j;
        using namespace gm::gpu::pattern;
        a[j] = make_float4(triad_a(i), triad_a(i + 1), triad_a(i + 2), triad_a(i + 3));
        b[j] = make_float4(triad_b(i), triad_b(i + 1), triad_b(i + 2), triad_b(i + 3));
    }
}

// c = a + s*b, one float4 per thread over a grid that covers all n4 (ceil(n4 / block) blocks).
// Measured on an H200 (bench/gpu-session.sh): 88% of peak at 240 MiB per buffer and 90% at 1 GiB,
// against 84% and 82% for a one-wave grid-stride loop unrolled four times, whose blocks finish
// unevenly; the hardware's block scheduler balances many short blocks better.
extern "C" __global__ void gm_triad(const float4* __restrict__ a, const float4* __restrict__ b,
                                    float4* __restrict__ c, float s, u64 n4) {
    const u64 j = first_index();
    if (j < n4) store_streaming(c + j, triad4(load_streaming(a + j), load_streaming(b + j), s));
}

// dst = src over n4 float4, one per thread like the triad.
extern "C" __global__ void gm_copy(const float4* __restrict__ src, float4* __restrict__ dst, u64 n4) {
    const u64 j = first_index();
    if (j < n4) store_streaming(dst + j, load_streaming(src + j));
}

// Checks every float of a bandwidth output (the triad's, or the copy of it) against
// pattern::triad_result on the GPU, so that no gigabyte needs to cross PCIe to be verified; the
// host recomputes a sample itself (bench.cpp). A wrong value (NaN included) counts in record[0],
// and the first ones are recorded with their index and bits.
extern "C" __global__ void gm_check_triad(const float4* __restrict__ values, u64 n4, u64* record) {
    for (u64 j = first_index(); j < n4; j += grid_stride()) {
        const float4 v = values[j];
        const float got[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const u64 i = 4 * j + k;
            const float expected = gm::gpu::pattern::triad_result(i);
            if (got[k] != expected)
                record_error(record, i, __float_as_uint(got[k]), __float_as_uint(expected),
                             gm::gpu::pattern::stream_result_test);
        }
    }
}

// FP32 throughput: each thread runs fma_accumulators independent chains x = x * multiplier +
// addend for `iterations` steps (both values passed at run time, so the compiler must issue every
// FFMA) and writes their sum to out[thread]. Any iteration count works: the loop is unrolled 16
// times and the compiler adds the remainder.
extern "C" __global__ void gm_fma(float* __restrict__ out, unsigned int iterations, float multiplier, float addend) {
    const unsigned int thread = blockIdx.x * blockDim.x + threadIdx.x;
    float acc[fma_accumulators];
#pragma unroll
    for (int k = 0; k < fma_accumulators; ++k) acc[k] = gm::gpu::pattern::fma_start(thread, k);
#pragma unroll 16
    for (unsigned int it = 0; it < iterations; ++it) {
#pragma unroll
        for (int k = 0; k < fma_accumulators; ++k) acc[k] = fmaf(acc[k], multiplier, addend);
    }
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < fma_accumulators; ++k) sum += acc[k];
    out[thread] = sum;
}

// Memory test, address-in-address, first pass: every word gets its own address.
extern "C" __global__ void gm_mem_write_addresses(u64* words, u64 n) {
    for (u64 i = first_index(); i < n; i += grid_stride()) words[i] = reinterpret_cast<u64>(words + i);
}

// Second pass: every word must still hold its own address.
extern "C" __global__ void gm_mem_check_addresses(const u64* words, u64 n, u64* record) {
    for (u64 i = first_index(); i < n; i += grid_stride()) {
        const u64 expected = reinterpret_cast<u64>(words + i);
        const u64 got = words[i];
        if (got != expected) record_error(record, reinterpret_cast<u64>(words + i), got, expected, gm::gpu::pattern::memtest_address_test);
    }
}

// Moving inversions: every word gets `value`.
extern "C" __global__ void gm_mem_fill(u64* words, u64 n, u64 value) {
    for (u64 i = first_index(); i < n; i += grid_stride()) words[i] = value;
}

// Moving inversions: every word must hold `expected`; it then gets the inverse (when `invert`).
extern "C" __global__ void gm_mem_check(u64* words, u64 n, u64 expected, int invert, u64* record) {
    for (u64 i = first_index(); i < n; i += grid_stride()) {
        const u64 got = words[i];
        if (got != expected) record_error(record, reinterpret_cast<u64>(words + i), got, expected, gm::gpu::pattern::memtest_inversion_test);
        if (invert) words[i] = ~expected;
    }
}
