#pragma once
// The Backend that runs git-model-bench's kernels on real GPUs through the CUDA driver API,
// loaded from libcuda.so.1 at run time (cuda_driver.hpp). The kernels come pre-built as a fat
// binary (SASS per architecture plus PTX, see git-model-bench/kernels/) that the driver loads with
// cuModuleLoadData, picking the SASS for the GPU or JIT-compiling the PTX for a newer one.
//
// Everything here is host code that compiles everywhere; tests load it against a fake libcuda.

#include "gitmodel/gpu/backend.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace gm::gpu {

// The kernels a binary carries.
struct KernelImage {
    const unsigned char* data = nullptr;  // the fat binary (8-byte aligned); null when built without kernels
    std::size_t size = 0;                 // its size in bytes
    CompiledTargets targets;              // the SASS and PTX it holds, as CMake architecture numbers
    int cuda_version = 0;                 // CUDA version of the compiler that built it, e.g. 11080
    std::string compiler;                 // e.g. "NVRTC 11.8", for --version
};

// A backend for these kernels; library names the driver library to load (tests pass a fake).
// Cheap: touches nothing until Backend::init.
std::unique_ptr<Backend> make_driver_backend(KernelImage kernels, std::string library = "libcuda.so.1");

}  // namespace gm::gpu
