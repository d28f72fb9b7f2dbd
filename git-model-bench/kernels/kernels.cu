// The bench's kernels: STREAM-style triad and copy for device-memory bandwidth, an FMA-chain
// kernel for FP32 throughput, and the fill of the bandwidth inputs. Values come from
// gitmodel/gpu/pattern.hpp (constexpr, shared with the host's verification; nvcc compiles it for
// the device with --expt-relaxed-constexpr).

#include "kernels/kernels.hpp"

#include "gitmodel/gpu/pattern.hpp"

#include <algorithm>

namespace gm::gpu::cuda {

namespace {

constexpr int block_threads = 256;

// Streaming (evict-first) float4 load: each byte is used once, so it should not displace others in L2.
__device__ __forceinline__ float4 load_streaming(const float4* p) { return __ldcs(p); }

// Streaming float4 store, for the same reason.
__device__ __forceinline__ void store_streaming(float4* p, float4 v) { __stcs(p, v); }

// One float4 of the triad.
__device__ __forceinline__ float4 triad4(float4 a, float4 b, float s) {
    return make_float4(a.x + s * b.x, a.y + s * b.y, a.z + s * b.z, a.w + s * b.w);
}

__global__ void init_kernel(float4* __restrict__ a, float4* __restrict__ b, std::size_t n4) {
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n4; j += stride) {
        const std::uint64_t i = 4 * static_cast<std::uint64_t>(j);
        a[j] = make_float4(pattern::triad_a(i), pattern::triad_a(i + 1), pattern::triad_a(i + 2), pattern::triad_a(i + 3));
        b[j] = make_float4(pattern::triad_b(i), pattern::triad_b(i + 1), pattern::triad_b(i + 2), pattern::triad_b(i + 3));
    }
}

// Grid-stride triad, unrolled four times so each thread has eight independent loads in flight
// before its first store: enough bytes in flight to saturate HBM with one wave of blocks.
__global__ void triad_kernel(const float4* __restrict__ a, const float4* __restrict__ b, float4* __restrict__ c,
                             float s, std::size_t n4) {
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    std::size_t j = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    for (; j + 3 * stride < n4; j += 4 * stride) {
        const float4 a0 = load_streaming(a + j), a1 = load_streaming(a + j + stride);
        const float4 a2 = load_streaming(a + j + 2 * stride), a3 = load_streaming(a + j + 3 * stride);
        const float4 b0 = load_streaming(b + j), b1 = load_streaming(b + j + stride);
        const float4 b2 = load_streaming(b + j + 2 * stride), b3 = load_streaming(b + j + 3 * stride);
        store_streaming(c + j, triad4(a0, b0, s));
        store_streaming(c + j + stride, triad4(a1, b1, s));
        store_streaming(c + j + 2 * stride, triad4(a2, b2, s));
        store_streaming(c + j + 3 * stride, triad4(a3, b3, s));
    }
    for (; j < n4; j += stride) store_streaming(c + j, triad4(load_streaming(a + j), load_streaming(b + j), s));
}

// Grid-stride copy, unrolled like the triad.
__global__ void copy_kernel(const float4* __restrict__ src, float4* __restrict__ dst, std::size_t n4) {
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    std::size_t j = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    for (; j + 3 * stride < n4; j += 4 * stride) {
        const float4 v0 = load_streaming(src + j), v1 = load_streaming(src + j + stride);
        const float4 v2 = load_streaming(src + j + 2 * stride), v3 = load_streaming(src + j + 3 * stride);
        store_streaming(dst + j, v0);
        store_streaming(dst + j + stride, v1);
        store_streaming(dst + j + 2 * stride, v2);
        store_streaming(dst + j + 3 * stride, v3);
    }
    for (; j < n4; j += stride) store_streaming(dst + j, load_streaming(src + j));
}

// FP32 throughput: independent FMA chains per thread (x = x * multiplier + addend, both passed at
// run time so the compiler must issue every FFMA), unrolled so loop overhead takes few issue slots.
__global__ void fma_kernel(float* __restrict__ out, std::uint32_t iterations, float multiplier, float addend) {
    const std::uint32_t thread = blockIdx.x * blockDim.x + threadIdx.x;
    float acc[pattern::fma_accumulators];
#pragma unroll
    for (int k = 0; k < pattern::fma_accumulators; ++k) acc[k] = pattern::fma_start(thread, k);
#pragma unroll 16
    for (std::uint32_t it = 0; it < iterations; ++it) {
#pragma unroll
        for (int k = 0; k < pattern::fma_accumulators; ++k) acc[k] = fmaf(acc[k], multiplier, addend);
    }
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < pattern::fma_accumulators; ++k) sum += acc[k];
    out[thread] = sum;
}

// Blocks of block_threads that fit on one SM for a kernel.
cudaError_t resident_blocks(const void* kernel, int& blocks) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, block_threads, 0);
}

}  // namespace

cudaError_t kernel_shapes(int device, LaunchShape& stream_shape, LaunchShape& fma_shape) {
    int multiprocessors = 0;
    cudaError_t status = cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device);
    if (status != cudaSuccess) return status;
    int triad_blocks = 0, copy_blocks = 0, init_blocks = 0, fma_blocks = 0;
    if ((status = resident_blocks(reinterpret_cast<const void*>(triad_kernel), triad_blocks)) != cudaSuccess) return status;
    if ((status = resident_blocks(reinterpret_cast<const void*>(copy_kernel), copy_blocks)) != cudaSuccess) return status;
    if ((status = resident_blocks(reinterpret_cast<const void*>(init_kernel), init_blocks)) != cudaSuccess) return status;
    if ((status = resident_blocks(reinterpret_cast<const void*>(fma_kernel), fma_blocks)) != cudaSuccess) return status;
    const int stream_blocks = std::max(1, std::min(triad_blocks, copy_blocks));
    stream_shape = LaunchShape{multiprocessors * stream_blocks, block_threads};
    fma_shape = LaunchShape{multiprocessors * std::max(1, fma_blocks), block_threads};
    return cudaSuccess;
}

cudaError_t launch_init(float* a, float* b, std::size_t elements, LaunchShape shape, cudaStream_t stream) {
    init_kernel<<<shape.blocks, shape.threads, 0, stream>>>(reinterpret_cast<float4*>(a), reinterpret_cast<float4*>(b),
                                                           elements / 4);
    return cudaGetLastError();
}

cudaError_t launch_triad(const float* a, const float* b, float* c, std::size_t elements, LaunchShape shape,
                         cudaStream_t stream) {
    triad_kernel<<<shape.blocks, shape.threads, 0, stream>>>(reinterpret_cast<const float4*>(a),
                                                            reinterpret_cast<const float4*>(b),
                                                            reinterpret_cast<float4*>(c), pattern::triad_scalar,
                                                            elements / 4);
    return cudaGetLastError();
}

cudaError_t launch_copy(const float* src, float* dst, std::size_t elements, LaunchShape shape, cudaStream_t stream) {
    copy_kernel<<<shape.blocks, shape.threads, 0, stream>>>(reinterpret_cast<const float4*>(src),
                                                           reinterpret_cast<float4*>(dst), elements / 4);
    return cudaGetLastError();
}

cudaError_t launch_fma(float* out, std::uint32_t iterations, LaunchShape shape, cudaStream_t stream) {
    fma_kernel<<<shape.blocks, shape.threads, 0, stream>>>(out, iterations, pattern::fma_multiplier, pattern::fma_addend);
    return cudaGetLastError();
}

}  // namespace gm::gpu::cuda
