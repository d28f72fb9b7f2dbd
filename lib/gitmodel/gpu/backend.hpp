#pragma once
// The narrow interface between the host logic (planning, checks, verdicts, output: all in this
// library and unit-tested) and a backend that talks to GPUs. git-model-bench links either the
// CUDA backend (kernels/*.cu, built by nvcc) or the no-CUDA one; the tests link a fake.
//
// Everything here is plain C++ (no CUDA header, no fmt, no JSON) so that nvcc compiles it too.
// Every call returns a CudaStatus instead of throwing, so that a CUDA error becomes a check result.

#include "gitmodel/gpu/device.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gm::gpu {

// The outcome of a CUDA call: cudaError_t's number, name and text (code 0 is success).
struct CudaStatus {
    int code = 0;          // cudaError_t value; see cuda_error below
    std::string name;      // cudaGetErrorName, e.g. "cudaErrorNoDevice"
    std::string message;   // cudaGetErrorString, CUDA's own explanation
    std::string call;      // which call failed, e.g. "cudaMalloc", to locate the problem

    // Whether the call succeeded.
    bool ok() const { return code == 0; }
};

// cudaError_t values the classifier distinguishes, mirrored from CUDA's driver_types.h so that this
// library needs no CUDA header; the CUDA backend static_asserts that every one matches.
namespace cuda_error {
constexpr int success = 0;                          // cudaSuccess
constexpr int memory_allocation = 2;                // cudaErrorMemoryAllocation
constexpr int initialization_error = 3;             // cudaErrorInitializationError
constexpr int stub_library = 34;                    // cudaErrorStubLibrary
constexpr int insufficient_driver = 35;             // cudaErrorInsufficientDriver
constexpr int call_requires_newer_driver = 36;      // cudaErrorCallRequiresNewerDriver
constexpr int devices_unavailable = 46;             // cudaErrorDevicesUnavailable
constexpr int invalid_device_function = 98;         // cudaErrorInvalidDeviceFunction
constexpr int no_device = 100;                      // cudaErrorNoDevice
constexpr int invalid_device = 101;                 // cudaErrorInvalidDevice
constexpr int device_not_licensed = 102;            // cudaErrorDeviceNotLicensed
constexpr int device_uninitialized = 201;           // cudaErrorDeviceUninitialized
constexpr int no_kernel_image = 209;                // cudaErrorNoKernelImageForDevice
constexpr int ecc_uncorrectable = 214;              // cudaErrorECCUncorrectable
constexpr int unsupported_ptx_version = 222;        // cudaErrorUnsupportedPtxVersion
constexpr int illegal_address = 700;                // cudaErrorIllegalAddress
constexpr int launch_timeout = 702;                 // cudaErrorLaunchTimeout
constexpr int launch_failure = 719;                 // cudaErrorLaunchFailure
constexpr int not_permitted = 800;                  // cudaErrorNotPermitted
constexpr int system_not_ready = 802;               // cudaErrorSystemNotReady
constexpr int system_driver_mismatch = 803;         // cudaErrorSystemDriverMismatch
constexpr int compat_not_supported_on_device = 804; // cudaErrorCompatNotSupportedOnDevice
constexpr int unknown = 999;                        // cudaErrorUnknown
}  // namespace cuda_error

// What initialising CUDA tells: whether it worked, how many GPUs, which versions.
struct InitInfo {
    CudaStatus status;         // cudaGetDeviceCount's result: the key to "why no GPU"
    int device_count = 0;      // visible GPUs (after CUDA_VISIBLE_DEVICES)
    int driver_version = 0;    // cudaDriverGetVersion, e.g. 13000; 0 when no driver answers
    int runtime_version = 0;   // cudaRuntimeGetVersion (the statically linked runtime), e.g. 13000
};

// The memory-bandwidth run: three float buffers, a triad c = a + s*b and a copy b' = c.
struct StreamPlan {
    std::size_t elements = 0;  // floats per buffer, a multiple of 4 (the kernels move float4)
    int repetitions = 1;       // timed launches of each kernel; the best one is reported
    bool warm_up = true;       // an untimed launch of each first (clocks up, code loaded)
};

// Kernel times of the memory-bandwidth run, one per timed launch, in milliseconds.
struct StreamTimes {
    std::vector<double> triad_ms;  // per triad launch
    std::vector<double> copy_ms;   // per copy launch
};

// Which output of the memory-bandwidth run to read back for verification.
enum class StreamOutput {
    triad,  // c = a + s*b
    copy,   // the copy of c (written over b)
};

// The FP32 throughput run: every thread runs pattern::fma_accumulators independent FMA chains.
struct FmaPlan {
    std::uint32_t iterations = 0;  // FMA steps per chain; at most pattern::fma_max_iterations
    int repetitions = 1;           // timed launches; the best one is reported
    bool warm_up = true;           // an untimed launch first
};

// Result of the FP32 run: the grid the backend chose (full occupancy) and the kernel times.
struct FmaTimes {
    std::uint64_t threads = 0;  // total threads launched, one output value each
    std::vector<double> ms;     // per timed launch
};

// The host<->device copy run, from and to one pinned host buffer.
struct TransferPlan {
    std::size_t bytes = 0;  // bytes per copy, at most the pinned buffer given to open()
    int repetitions = 1;    // timed copies each way; the best one is reported
};

// Copy times of the host<->device run, in milliseconds.
struct TransferTimes {
    std::vector<double> h2d_ms;  // host to device, per copy
    std::vector<double> d2h_ms;  // device to host, per copy
};

// Receives read-back results chunk by chunk (first = index of values[0]), so that verifying a
// large buffer needs no host copy of it all.
using FloatSink = std::function<void(std::uint64_t first, const float* values, std::size_t count)>;

// Fills a host buffer chunk (first = index of values[0]) with the values to send to the device.
using FloatFill = std::function<void(std::uint64_t first, float* values, std::size_t count)>;

// A GPU backend. Calls come in this order, one device at a time: init; then per device describe,
// open, the run_*/read_* pairs, close. Any call may block for as long as the GPU does: the caller
// guards each one with a time limit.
class Backend {
public:
    // Virtual: backends are owned and destroyed through this interface.
    virtual ~Backend() = default;

    // Whether the binary was built with CUDA at all (without it, every GPU question is moot).
    virtual bool has_cuda() const = 0;
    // The SASS and PTX the binary carries, to refuse GPUs it has no code for with a clear message.
    virtual CompiledTargets targets() const = 0;
    // The CUDA runtime version linked in (e.g. 13000; 0 without CUDA), known without touching the driver.
    virtual int linked_runtime_version() const = 0;
    // Initialises CUDA (driver load, device enumeration) and reports versions.
    virtual InitInfo init() = 0;
    // Reads a device's properties without creating a context on it (cheap).
    virtual CudaStatus describe(int device, DeviceInfo& info) = 0;
    // Creates the device's context, loads the kernels, allocates a pinned host buffer of
    // host_buffer_bytes (used for copies and read-back) and reports free device memory.
    virtual CudaStatus open(int device, std::size_t host_buffer_bytes, std::uint64_t& free_bytes) = 0;
    // Allocates and fills the bandwidth buffers and times the triad and copy kernels.
    virtual CudaStatus run_stream(const StreamPlan& plan, StreamTimes& times) = 0;
    // Reads one output of run_stream back to the host, in chunks.
    virtual CudaStatus read_stream(StreamOutput output, const FloatSink& sink) = 0;
    // Times the FMA kernel.
    virtual CudaStatus run_fma(const FmaPlan& plan, FmaTimes& times) = 0;
    // Reads the FMA kernel's per-thread results back.
    virtual CudaStatus read_fma(const FloatSink& sink) = 0;
    // Fills the pinned buffer, times copies to the device, clears it, times copies back.
    virtual CudaStatus run_transfer(const TransferPlan& plan, const FloatFill& fill, TransferTimes& times) = 0;
    // Hands over the pinned buffer's contents after the copies back.
    virtual CudaStatus read_transfer(const FloatSink& sink) = 0;
    // Frees everything held for the current device (its context stays, as CUDA keeps it).
    virtual CudaStatus close() = 0;
};

}  // namespace gm::gpu
