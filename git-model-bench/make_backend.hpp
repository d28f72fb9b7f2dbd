#pragma once
// The GPU backend of this build: the CUDA one (kernels/cuda_backend.cu) when the toolkit was found,
// else the one that answers "built without CUDA support" (no_cuda.cpp). main() only calls this.

#include "gitmodel/gpu/backend.hpp"

#include <memory>

namespace gm::gpu {

// A new backend; cheap (touches no driver until Backend::init).
std::unique_ptr<Backend> make_backend();

}  // namespace gm::gpu
