#pragma once
// Launchers of the bench's kernels (defined in kernels.cu), so the backend never spells a launch
// configuration itself. Each returns the launch's cudaError_t; execution errors surface at the
// next synchronisation.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace gm::gpu::cuda {

// A launch configuration.
struct LaunchShape {
    int blocks = 0;   // grid size
    int threads = 0;  // block size
};

// Launch shapes that fill the GPU exactly once (SMs x resident blocks per SM): grid-stride loops
// then need no tail wave. Computing the occupancy also loads the kernels, so a GPU the binary has
// no code for is found here, before any timing.
cudaError_t kernel_shapes(int device, LaunchShape& stream_shape, LaunchShape& fma_shape);

// Fills a and b (elements floats each, a multiple of 4) with pattern::triad_a and triad_b.
cudaError_t launch_init(float* a, float* b, std::size_t elements, LaunchShape shape, cudaStream_t stream);

// c = a + pattern::triad_scalar * b, with float4 streaming loads and stores.
cudaError_t launch_triad(const float* a, const float* b, float* c, std::size_t elements, LaunchShape shape,
                         cudaStream_t stream);

// dst = src, with float4 streaming loads and stores.
cudaError_t launch_copy(const float* src, float* dst, std::size_t elements, LaunchShape shape, cudaStream_t stream);

// Each of shape.blocks x shape.threads threads runs pattern::fma_accumulators FMA chains of
// `iterations` steps and writes their sum to out[thread]. iterations must be a multiple of 16.
cudaError_t launch_fma(float* out, std::uint32_t iterations, LaunchShape shape, cudaStream_t stream);

}  // namespace gm::gpu::cuda
