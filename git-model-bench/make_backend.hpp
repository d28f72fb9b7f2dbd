#pragma once
// The GPU backend of this build: the driver-API backend (gitmodel/gpu/driver_backend.hpp) with the
// kernels embedded in this executable, or with none when the build found no CUDA compiler (it then
// answers "built without GPU kernels", exit 3). main() only calls this.

#include "gitmodel/gpu/backend.hpp"

#include <memory>

namespace gm::gpu {

// A new backend; cheap (loads no driver until Backend::init).
std::unique_ptr<Backend> make_backend();

}  // namespace gm::gpu
