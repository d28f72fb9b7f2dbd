#pragma once
// The CUDA driver API, loaded from libcuda.so.1 at run time with dlopen: git-model-bench needs
// nothing but glibc and the NVIDIA driver, no CUDA runtime and no toolkit header, so one binary
// runs on every driver from r450 up and says "no driver" where there is none.
//
// Declares the few types, constants and entry points the bench uses, with cuda.h's ABI (stable
// since CUDA 4), and looks each entry point up by the versioned name that cuda.h maps it to
// (cuMemAlloc -> cuMemAlloc_v2 ...), names that every driver since r450 (CUDA 11.0) exports. The
// unit test gpu_cuda_abi checks every declaration against the toolkit's cuda.h where one exists.

#include <cstddef>
#include <memory>
#include <string>

// The driver's opaque handle types, as cuda.h names them (so the ABI test can compare).
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;

namespace gm::gpu::cu {

using Result = int;                     // CUresult
using Device = int;                     // CUdevice
using DevicePtr = unsigned long long;   // CUdeviceptr (64-bit)
using Context = CUctx_st*;              // CUcontext
using Module = CUmod_st*;               // CUmodule
using Function = CUfunc_st*;            // CUfunction
using Stream = CUstream_st*;            // CUstream
using Event = CUevent_st*;              // CUevent

// CUuuid: 16 raw bytes.
struct Uuid {
    char bytes[16];  // as nvidia-smi prints them, in order
};

// CUdevice_attribute values the bench reads.
namespace attribute {
constexpr int clock_rate = 13;                       // CU_DEVICE_ATTRIBUTE_CLOCK_RATE, kHz
constexpr int multiprocessor_count = 16;             // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
constexpr int integrated = 18;                       // CU_DEVICE_ATTRIBUTE_INTEGRATED
constexpr int compute_mode = 20;                     // CU_DEVICE_ATTRIBUTE_COMPUTE_MODE
constexpr int pci_bus_id = 33;                       // CU_DEVICE_ATTRIBUTE_PCI_BUS_ID
constexpr int pci_device_id = 34;                    // CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID
constexpr int memory_clock_rate = 36;                // CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, kHz
constexpr int global_memory_bus_width = 37;          // CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, bits
constexpr int l2_cache_size = 38;                    // CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, bytes
constexpr int max_threads_per_multiprocessor = 39;   // CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR
constexpr int pci_domain_id = 50;                    // CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID
constexpr int compute_capability_major = 75;         // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int compute_capability_minor = 76;         // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
}  // namespace attribute

constexpr unsigned stream_non_blocking = 1;  // CU_STREAM_NON_BLOCKING: never waits for the legacy stream
constexpr unsigned event_default = 0;        // CU_EVENT_DEFAULT: an event that records time

// The entry points, as function pointers filled by load_driver().
struct Driver {
    Result (*cuInit)(unsigned flags) = nullptr;                                      // starts the driver
    Result (*cuDriverGetVersion)(int* version) = nullptr;                            // e.g. 12020
    Result (*cuDeviceGetCount)(int* count) = nullptr;                                // visible GPUs
    Result (*cuDeviceGet)(Device* device, int ordinal) = nullptr;                    // handle of a GPU
    Result (*cuDeviceGetName)(char* name, int length, Device device) = nullptr;      // marketing name
    Result (*cuDeviceGetUuid)(Uuid* uuid, Device device) = nullptr;                  // the _v2 (MIG-aware) one where present
    Result (*cuDeviceTotalMem)(std::size_t* bytes, Device device) = nullptr;         // cuDeviceTotalMem_v2
    Result (*cuDeviceGetAttribute)(int* value, int attribute, Device device) = nullptr;  // one property
    Result (*cuDevicePrimaryCtxRetain)(Context* context, Device device) = nullptr;   // the context CUDA apps share
    Result (*cuDevicePrimaryCtxRelease)(Device device) = nullptr;                    // cuDevicePrimaryCtxRelease_v2
    Result (*cuCtxSetCurrent)(Context context) = nullptr;                            // binds it to this thread
    Result (*cuModuleLoadData)(Module* module, const void* image) = nullptr;         // fat binary in, kernels out
    Result (*cuModuleUnload)(Module module) = nullptr;                               // frees them
    Result (*cuModuleGetFunction)(Function* function, Module module, const char* name) = nullptr;  // a kernel
    Result (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int* blocks, Function function, int block_size,
                                                          std::size_t dynamic_shared) = nullptr;  // launch sizing
    Result (*cuLaunchKernel)(Function function, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,
                             unsigned block_y, unsigned block_z, unsigned shared_bytes, Stream stream,
                             void** parameters, void** extra) = nullptr;             // one launch
    Result (*cuMemAlloc)(DevicePtr* pointer, std::size_t bytes) = nullptr;           // cuMemAlloc_v2
    Result (*cuMemFree)(DevicePtr pointer) = nullptr;                                // cuMemFree_v2
    Result (*cuMemAllocHost)(void** pointer, std::size_t bytes) = nullptr;           // pinned, cuMemAllocHost_v2
    Result (*cuMemFreeHost)(void* pointer) = nullptr;                                // frees pinned memory
    Result (*cuMemcpyHtoDAsync)(DevicePtr to, const void* from, std::size_t bytes, Stream stream) = nullptr;  // _v2
    Result (*cuMemcpyDtoHAsync)(void* to, DevicePtr from, std::size_t bytes, Stream stream) = nullptr;        // _v2
    Result (*cuMemsetD8Async)(DevicePtr to, unsigned char value, std::size_t count, Stream stream) = nullptr;  // fills
    Result (*cuMemGetInfo)(std::size_t* free, std::size_t* total) = nullptr;         // cuMemGetInfo_v2
    Result (*cuStreamCreate)(Stream* stream, unsigned flags) = nullptr;              // a queue of work
    Result (*cuStreamDestroy)(Stream stream) = nullptr;                              // cuStreamDestroy_v2
    Result (*cuStreamSynchronize)(Stream stream) = nullptr;                          // waits for the queue
    Result (*cuEventCreate)(Event* event, unsigned flags) = nullptr;                 // a time stamp
    Result (*cuEventDestroy)(Event event) = nullptr;                                 // cuEventDestroy_v2
    Result (*cuEventRecord)(Event event, Stream stream) = nullptr;                   // stamps it in the queue
    Result (*cuEventElapsedTime)(float* ms, Event start, Event end) = nullptr;       // between two stamps
    Result (*cuGetErrorName)(Result error, const char** name) = nullptr;             // "CUDA_ERROR_NO_DEVICE"
    Result (*cuGetErrorString)(Result error, const char** text) = nullptr;           // CUDA's explanation
};

// The outcome of loading the driver library.
struct LoadedDriver {
    std::shared_ptr<void> library;  // the dlopen handle (dlclose on release); null when loading failed
    Driver api;                     // every entry point, when library is set
    std::string error;              // why loading failed: dlerror()'s text, or "lacks cuXxx"
    bool library_missing = false;   // libcuda.so.1 itself could not be loaded (no driver)
};

// Loads libcuda.so.1 (or `path`, for tests) and looks every entry point up. A library that lacks
// one (a driver older than r450) comes back without library and with the missing name in error.
LoadedDriver load_driver(const std::string& path = "libcuda.so.1");

}  // namespace gm::gpu::cu
