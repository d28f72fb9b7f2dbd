// The driver API as gitmodel/gpu/cuda_driver.hpp and backend.hpp mirror it, checked against the
// CUDA toolkit's own cuda.h where the build found one (GM_HAVE_CUDA_H): error codes, attribute
// numbers, flags, and the type of every entry point under the versioned name the backend loads.

#include "gitmodel/gpu/backend.hpp"
#include "gitmodel/gpu/cuda_driver.hpp"

#include <catch2/catch.hpp>

#ifdef GM_HAVE_CUDA_H
// Our entry points' types, named before cuda.h's macros (cuMemAlloc -> cuMemAlloc_v2 ...) exist.
namespace ours {
using t_cuInit = decltype(gm::gpu::cu::Driver::cuInit);
using t_cuDriverGetVersion = decltype(gm::gpu::cu::Driver::cuDriverGetVersion);
using t_cuDeviceGetCount = decltype(gm::gpu::cu::Driver::cuDeviceGetCount);
using t_cuDeviceGet = decltype(gm::gpu::cu::Driver::cuDeviceGet);
using t_cuDeviceGetName = decltype(gm::gpu::cu::Driver::cuDeviceGetName);
using t_cuDeviceTotalMem = decltype(gm::gpu::cu::Driver::cuDeviceTotalMem);
using t_cuDeviceGetAttribute = decltype(gm::gpu::cu::Driver::cuDeviceGetAttribute);
using t_cuDevicePrimaryCtxRetain = decltype(gm::gpu::cu::Driver::cuDevicePrimaryCtxRetain);
using t_cuDevicePrimaryCtxRelease = decltype(gm::gpu::cu::Driver::cuDevicePrimaryCtxRelease);
using t_cuCtxSetCurrent = decltype(gm::gpu::cu::Driver::cuCtxSetCurrent);
using t_cuModuleLoadData = decltype(gm::gpu::cu::Driver::cuModuleLoadData);
using t_cuModuleUnload = decltype(gm::gpu::cu::Driver::cuModuleUnload);
using t_cuModuleGetFunction = decltype(gm::gpu::cu::Driver::cuModuleGetFunction);
using t_cuOccupancyMaxActiveBlocksPerMultiprocessor = decltype(gm::gpu::cu::Driver::cuOccupancyMaxActiveBlocksPerMultiprocessor);
using t_cuLaunchKernel = decltype(gm::gpu::cu::Driver::cuLaunchKernel);
using t_cuMemAlloc = decltype(gm::gpu::cu::Driver::cuMemAlloc);
using t_cuMemFree = decltype(gm::gpu::cu::Driver::cuMemFree);
using t_cuMemAllocHost = decltype(gm::gpu::cu::Driver::cuMemAllocHost);
using t_cuMemFreeHost = decltype(gm::gpu::cu::Driver::cuMemFreeHost);
using t_cuMemcpyHtoDAsync = decltype(gm::gpu::cu::Driver::cuMemcpyHtoDAsync);
using t_cuMemcpyDtoHAsync = decltype(gm::gpu::cu::Driver::cuMemcpyDtoHAsync);
using t_cuMemsetD8Async = decltype(gm::gpu::cu::Driver::cuMemsetD8Async);
using t_cuMemGetInfo = decltype(gm::gpu::cu::Driver::cuMemGetInfo);
using t_cuStreamCreate = decltype(gm::gpu::cu::Driver::cuStreamCreate);
using t_cuStreamDestroy = decltype(gm::gpu::cu::Driver::cuStreamDestroy);
using t_cuStreamSynchronize = decltype(gm::gpu::cu::Driver::cuStreamSynchronize);
using t_cuEventCreate = decltype(gm::gpu::cu::Driver::cuEventCreate);
using t_cuEventDestroy = decltype(gm::gpu::cu::Driver::cuEventDestroy);
using t_cuEventRecord = decltype(gm::gpu::cu::Driver::cuEventRecord);
using t_cuEventElapsedTime = decltype(gm::gpu::cu::Driver::cuEventElapsedTime);
using t_cuGetErrorName = decltype(gm::gpu::cu::Driver::cuGetErrorName);
using t_cuGetErrorString = decltype(gm::gpu::cu::Driver::cuGetErrorString);
}  // namespace ours

#include <cuda.h>

#include <type_traits>

namespace {

using namespace gm::gpu;
static_assert(cuda_error::memory_allocation == CUDA_ERROR_OUT_OF_MEMORY);
static_assert(cuda_error::initialization_error == CUDA_ERROR_NOT_INITIALIZED);
static_assert(cuda_error::stub_library == CUDA_ERROR_STUB_LIBRARY);
static_assert(cuda_error::call_requires_newer_driver == CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER);
static_assert(cuda_error::devices_unavailable == CUDA_ERROR_DEVICE_UNAVAILABLE);
static_assert(cuda_error::no_device == CUDA_ERROR_NO_DEVICE);
static_assert(cuda_error::invalid_device == CUDA_ERROR_INVALID_DEVICE);
static_assert(cuda_error::device_not_licensed == CUDA_ERROR_DEVICE_NOT_LICENSED);
static_assert(cuda_error::invalid_image == CUDA_ERROR_INVALID_IMAGE);
static_assert(cuda_error::no_kernel_image == CUDA_ERROR_NO_BINARY_FOR_GPU);
static_assert(cuda_error::ecc_uncorrectable == CUDA_ERROR_ECC_UNCORRECTABLE);
static_assert(cuda_error::invalid_ptx == CUDA_ERROR_INVALID_PTX);
static_assert(cuda_error::jit_compiler_not_found == CUDA_ERROR_JIT_COMPILER_NOT_FOUND);
static_assert(cuda_error::unsupported_ptx_version == CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
static_assert(cuda_error::illegal_address == CUDA_ERROR_ILLEGAL_ADDRESS);
static_assert(cuda_error::launch_timeout == CUDA_ERROR_LAUNCH_TIMEOUT);
static_assert(cuda_error::launch_failure == CUDA_ERROR_LAUNCH_FAILED);
static_assert(cuda_error::not_permitted == CUDA_ERROR_NOT_PERMITTED);
static_assert(cuda_error::system_not_ready == CUDA_ERROR_SYSTEM_NOT_READY);
static_assert(cuda_error::system_driver_mismatch == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
static_assert(cuda_error::compat_not_supported_on_device == CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE);
static_assert(cuda_error::unknown == CUDA_ERROR_UNKNOWN);

namespace at = cu::attribute;
static_assert(at::clock_rate == CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
static_assert(at::multiprocessor_count == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
static_assert(at::integrated == CU_DEVICE_ATTRIBUTE_INTEGRATED);
static_assert(at::compute_mode == CU_DEVICE_ATTRIBUTE_COMPUTE_MODE);
static_assert(at::pci_bus_id == CU_DEVICE_ATTRIBUTE_PCI_BUS_ID);
static_assert(at::pci_device_id == CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID);
static_assert(at::memory_clock_rate == CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
static_assert(at::global_memory_bus_width == CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
static_assert(at::l2_cache_size == CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
static_assert(at::max_threads_per_multiprocessor == CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
static_assert(at::pci_domain_id == CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID);
static_assert(at::compute_capability_major == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
static_assert(at::compute_capability_minor == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
static_assert(compute_mode_prohibited == CU_COMPUTEMODE_PROHIBITED);
static_assert(cu::stream_non_blocking == CU_STREAM_NON_BLOCKING);
static_assert(cu::event_default == CU_EVENT_DEFAULT);
static_assert(sizeof(cu::DevicePtr) == sizeof(CUdeviceptr));

// A type as the ABI sees it: an enum as a signed integer of its size (CUresult, CUdevice_attribute
// are enums in cuda.h and int here).
template <class T, bool = std::is_enum_v<T>>
struct AbiOf {
    using type = T;
};
template <class T>
struct AbiOf<T, true> {
    using type = std::make_signed_t<std::underlying_type_t<T>>;
};
template <class T>
using Abi = typename AbiOf<T>::type;

// A function pointer type with each type replaced by its ABI type.
template <class F>
struct Signature;
template <class R, class... A>
struct Signature<R (*)(A...)> {
    using type = Abi<R> (*)(Abi<A>...);
};

// Each entry point's type against the real declaration of the symbol load_driver looks up first.
#define GM_SAME(ours_name, real) \
    static_assert(std::is_same_v<Signature<ours::t_##ours_name>::type, Signature<decltype(&::real)>::type>, #real)
GM_SAME(cuInit, cuInit);
GM_SAME(cuDriverGetVersion, cuDriverGetVersion);
GM_SAME(cuDeviceGetCount, cuDeviceGetCount);
GM_SAME(cuDeviceGet, cuDeviceGet);
GM_SAME(cuDeviceGetName, cuDeviceGetName);
GM_SAME(cuDeviceTotalMem, cuDeviceTotalMem_v2);
GM_SAME(cuDeviceGetAttribute, cuDeviceGetAttribute);
GM_SAME(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain);
GM_SAME(cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease_v2);
GM_SAME(cuCtxSetCurrent, cuCtxSetCurrent);
GM_SAME(cuModuleLoadData, cuModuleLoadData);
GM_SAME(cuModuleUnload, cuModuleUnload);
GM_SAME(cuModuleGetFunction, cuModuleGetFunction);
GM_SAME(cuOccupancyMaxActiveBlocksPerMultiprocessor, cuOccupancyMaxActiveBlocksPerMultiprocessor);
GM_SAME(cuLaunchKernel, cuLaunchKernel);
GM_SAME(cuMemAlloc, cuMemAlloc_v2);
GM_SAME(cuMemFree, cuMemFree_v2);
GM_SAME(cuMemAllocHost, cuMemAllocHost_v2);
GM_SAME(cuMemFreeHost, cuMemFreeHost);
GM_SAME(cuMemcpyHtoDAsync, cuMemcpyHtoDAsync_v2);
GM_SAME(cuMemcpyDtoHAsync, cuMemcpyDtoHAsync_v2);
GM_SAME(cuMemsetD8Async, cuMemsetD8Async);
GM_SAME(cuMemGetInfo, cuMemGetInfo_v2);
GM_SAME(cuStreamCreate, cuStreamCreate);
GM_SAME(cuStreamDestroy, cuStreamDestroy_v2);
GM_SAME(cuStreamSynchronize, cuStreamSynchronize);
GM_SAME(cuEventCreate, cuEventCreate);
GM_SAME(cuEventDestroy, cuEventDestroy_v2);
GM_SAME(cuEventRecord, cuEventRecord);
GM_SAME(cuEventElapsedTime, cuEventElapsedTime);
GM_SAME(cuGetErrorName, cuGetErrorName);
GM_SAME(cuGetErrorString, cuGetErrorString);
#undef GM_SAME
static_assert(sizeof(cu::Uuid) == sizeof(CUuuid));  // cuDeviceGetUuid(_v2) takes a CUuuid*, ours a cu::Uuid*

}  // namespace
#endif

TEST_CASE("the driver API mirror matches cuda.h", "[gpu]") {
#ifdef GM_HAVE_CUDA_H
    SUCCEED("checked at compile time against cuda.h");
#else
    WARN("SKIP: no cuda.h found at build time; the mirror was not checked against it");
#endif
}
