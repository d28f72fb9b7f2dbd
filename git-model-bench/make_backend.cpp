#include "make_backend.hpp"

#include "kernels/embedded.hpp"

namespace gm::gpu {

std::unique_ptr<Backend> make_backend() { return make_driver_backend(embedded_kernels()); }

}  // namespace gm::gpu
