#pragma once
// The kernels this build of git-model-bench carries: the fat binary that CMake made from
// kernels.cu (see CMakeLists.txt), embedded in the executable's .nv_fatbin section so that the one
// file is all `env up --check` mounts into a container and all cuobjdump needs to inspect.

#include "gitmodel/gpu/driver_backend.hpp"

namespace gm::gpu {

// The embedded kernels; an empty image (data null) in a build without a CUDA compiler.
KernelImage embedded_kernels();

}  // namespace gm::gpu
