#include "gitmodel/gpu/cuda_driver.hpp"

#include <dlfcn.h>

#include <initializer_list>

namespace gm::gpu::cu {

namespace {

// Looks up the first of `names` the library exports into `slot`; false when it has none of them.
template <class Pointer>
bool find(void* library, Pointer& slot, std::initializer_list<const char*> names, std::string& missing) {
    for (const char* name : names) {
        if (void* symbol = ::dlsym(library, name)) {
            slot = reinterpret_cast<Pointer>(symbol);
            return true;
        }
    }
    missing = *names.begin();
    return false;
}

}  // namespace

LoadedDriver load_driver(const std::string& path) {
    LoadedDriver out;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        out.error = why ? why : "cannot load " + path;
        out.library_missing = true;
        return out;
    }
    std::shared_ptr<void> library(handle, [](void* h) { ::dlclose(h); });
    Driver& d = out.api;
    std::string missing;
    // The versioned names cuda.h maps the plain ones to; cuDeviceGetUuid_v2 and
    // cuDevicePrimaryCtxRelease_v2 came with CUDA 11.4 and 11.0, so the older names stand in.
    const bool all =
        find(handle, d.cuInit, {"cuInit"}, missing) &&
        find(handle, d.cuDriverGetVersion, {"cuDriverGetVersion"}, missing) &&
        find(handle, d.cuDeviceGetCount, {"cuDeviceGetCount"}, missing) &&
        find(handle, d.cuDeviceGet, {"cuDeviceGet"}, missing) &&
        find(handle, d.cuDeviceGetName, {"cuDeviceGetName"}, missing) &&
        find(handle, d.cuDeviceGetUuid, {"cuDeviceGetUuid_v2", "cuDeviceGetUuid"}, missing) &&
        find(handle, d.cuDeviceTotalMem, {"cuDeviceTotalMem_v2"}, missing) &&
        find(handle, d.cuDeviceGetAttribute, {"cuDeviceGetAttribute"}, missing) &&
        find(handle, d.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"}, missing) &&
        find(handle, d.cuDevicePrimaryCtxRelease, {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}, missing) &&
        find(handle, d.cuCtxSetCurrent, {"cuCtxSetCurrent"}, missing) &&
        find(handle, d.cuModuleLoadData, {"cuModuleLoadData"}, missing) &&
        find(handle, d.cuModuleUnload, {"cuModuleUnload"}, missing) &&
        find(handle, d.cuModuleGetFunction, {"cuModuleGetFunction"}, missing) &&
        find(handle, d.cuOccupancyMaxActiveBlocksPerMultiprocessor, {"cuOccupancyMaxActiveBlocksPerMultiprocessor"},
             missing) &&
        find(handle, d.cuLaunchKernel, {"cuLaunchKernel"}, missing) &&
        find(handle, d.cuMemAlloc, {"cuMemAlloc_v2"}, missing) &&
        find(handle, d.cuMemFree, {"cuMemFree_v2"}, missing) &&
        find(handle, d.cuMemAllocHost, {"cuMemAllocHost_v2"}, missing) &&
        find(handle, d.cuMemFreeHost, {"cuMemFreeHost"}, missing) &&
        find(handle, d.cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"}, missing) &&
        find(handle, d.cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"}, missing) &&
        find(handle, d.cuMemsetD8Async, {"cuMemsetD8Async"}, missing) &&
        find(handle, d.cuMemGetInfo, {"cuMemGetInfo_v2"}, missing) &&
        find(handle, d.cuStreamCreate, {"cuStreamCreate"}, missing) &&
        find(handle, d.cuStreamDestroy, {"cuStreamDestroy_v2"}, missing) &&
        find(handle, d.cuStreamSynchronize, {"cuStreamSynchronize"}, missing) &&
        find(handle, d.cuEventCreate, {"cuEventCreate"}, missing) &&
        find(handle, d.cuEventDestroy, {"cuEventDestroy_v2"}, missing) &&
        find(handle, d.cuEventRecord, {"cuEventRecord"}, missing) &&
        find(handle, d.cuEventElapsedTime, {"cuEventElapsedTime"}, missing) &&
        find(handle, d.cuGetErrorName, {"cuGetErrorName"}, missing) &&
        find(handle, d.cuGetErrorString, {"cuGetErrorString"}, missing);
    if (!all) {
        out.api = Driver{};
        out.error = path + " lacks " + missing;
        return out;
    }
    out.library = std::move(library);
    return out;
}

}  // namespace gm::gpu::cu
