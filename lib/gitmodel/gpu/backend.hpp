#pragma once
// The narrow interface between the host logic (planning, checks, verdicts, output: all in this
// library and unit-tested) and a backend that talks to GPUs. git-model-bench links either the
// CUDA backend (kernels/*.cu, built by nvcc) or the no-CUDA one; the tests link a fake.
//
// Everything here is plain C++ (no CUDA header, no fmt, no JSON) so that nvcc compiles it too.
// Every call returns a CudaStatus instead of throwing, so that a CUDA error becomes a check result.

#include "gitmodel/gpu/device.hpp"
#include "gitmodel/gpu/verify.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gm::gpu {

// The outcome of a CUDA call: the driver API's CUresult number, name and text (code 0 is success).
struct CudaStatus {
    int code = 0;          // CUresult value; see cuda_error below
    std::string name;      // cuGetErrorName, e.g. "CUDA_ERROR_NO_DEVICE"
    std::string message;   // cuGetErrorString, CUDA's own explanation
    std::string call;      // which call failed, e.g. "cuMemAlloc", to locate the problem

    // Whether the call succeeded.
    bool ok() const { return code == 0; }
};

// CUresult values the classifier distinguishes, mirrored from the driver API's cuda.h so that
// this library needs no CUDA header (the unit test gpu_cuda_abi compares them with cuda.h where
// the toolkit is installed), and two of our own for a driver library that cannot be used at all.
namespace cuda_error {
constexpr int driver_library_missing = -1;          // dlopen("libcuda.so.1") failed: no driver
constexpr int driver_entry_missing = -2;            // libcuda.so.1 lacks an entry point: driver too old
constexpr int success = 0;                          // CUDA_SUCCESS
constexpr int invalid_value = 1;                    // CUDA_ERROR_INVALID_VALUE
constexpr int memory_allocation = 2;                // CUDA_ERROR_OUT_OF_MEMORY
constexpr int initialization_error = 3;             // CUDA_ERROR_NOT_INITIALIZED
constexpr int stub_library = 34;                    // CUDA_ERROR_STUB_LIBRARY
constexpr int insufficient_driver = 35;             // cudaErrorInsufficientDriver (runtime API only)
constexpr int call_requires_newer_driver = 36;      // CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER
constexpr int devices_unavailable = 46;             // CUDA_ERROR_DEVICE_UNAVAILABLE
constexpr int no_device = 100;                      // CUDA_ERROR_NO_DEVICE
constexpr int invalid_device = 101;                 // CUDA_ERROR_INVALID_DEVICE
constexpr int device_not_licensed = 102;            // CUDA_ERROR_DEVICE_NOT_LICENSED
constexpr int invalid_image = 200;                  // CUDA_ERROR_INVALID_IMAGE
constexpr int no_kernel_image = 209;                // CUDA_ERROR_NO_BINARY_FOR_GPU
constexpr int ecc_uncorrectable = 214;              // CUDA_ERROR_ECC_UNCORRECTABLE
constexpr int invalid_ptx = 218;                    // CUDA_ERROR_INVALID_PTX
constexpr int jit_compiler_not_found = 221;         // CUDA_ERROR_JIT_COMPILER_NOT_FOUND
constexpr int unsupported_ptx_version = 222;        // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
constexpr int illegal_address = 700;                // CUDA_ERROR_ILLEGAL_ADDRESS
constexpr int launch_timeout = 702;                 // CUDA_ERROR_LAUNCH_TIMEOUT
constexpr int launch_failure = 719;                 // CUDA_ERROR_LAUNCH_FAILED
constexpr int not_permitted = 800;                  // CUDA_ERROR_NOT_PERMITTED
constexpr int system_not_ready = 802;               // CUDA_ERROR_SYSTEM_NOT_READY
constexpr int system_driver_mismatch = 803;         // CUDA_ERROR_SYSTEM_DRIVER_MISMATCH
constexpr int compat_not_supported_on_device = 804; // CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE
constexpr int unknown = 999;                        // CUDA_ERROR_UNKNOWN
}  // namespace cuda_error

// What initialising CUDA tells: whether it worked, how many GPUs, which versions.
struct InitInfo {
    CudaStatus status;         // loading libcuda.so.1, cuInit and cuDeviceGetCount: the key to "why no GPU"
    int device_count = 0;      // visible GPUs (after CUDA_VISIBLE_DEVICES)
    int driver_version = 0;    // cuDriverGetVersion, e.g. 12020; 0 when no driver answers
    int kernels_version = 0;   // CUDA version the kernels were built with, e.g. 11080 (Backend::kernels_cuda_version)
};

// The memory-bandwidth run: three float buffers, a triad c = a + s*b and a copy b' = c.
struct StreamPlan {
    std::size_t elements = 0;  // floats per buffer, a multiple of 4 (the kernels move float4)
    int repetitions = 1;       // timed launches of each kernel (best and median reported, median judged)
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
    std::uint32_t iterations = 0;  // FMA steps per chain, as plan_fma clamped it; the backend runs exactly this
    int repetitions = 1;           // timed launches (best and median reported, median judged)
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
    int repetitions = 1;    // timed copies each way (best and median reported)
};

// Copy times of the host<->device run, in milliseconds.
struct TransferTimes {
    std::vector<double> h2d_ms;  // host to device, per copy
    std::vector<double> d2h_ms;  // device to host, per copy
};

// The memory integrity run (full mode): address-in-address, then moving inversions, over one
// buffer of 64-bit words (see pattern::memtest_pattern).
struct MemtestPlan {
    std::uint64_t bytes = 0;  // size of the buffer tested, a multiple of 8; 0: no test
};

// One failing word, as the check kernels recorded it.
struct MemtestError {
    std::uint64_t address = 0;   // the word's device (virtual) address
    std::uint64_t offset = 0;    // its byte offset in the tested buffer
    std::uint64_t got = 0;       // the value read
    std::uint64_t expected = 0;  // the value written
    std::uint64_t test = 0;      // pattern::memtest_address_test or memtest_inversion_test
};

// What the memory integrity run found.
struct MemtestResult {
    std::uint64_t bytes = 0;            // bytes tested
    std::uint64_t failures = 0;         // wrong reads counted on the GPU (a bad word may count in several checks)
    std::vector<MemtestError> errors;   // the first pattern::memtest_max_reported of them
    double ms = 0.0;                    // GPU time of the whole test
};

// Receives read-back results chunk by chunk (first = index of values[0]), so that verifying a
// large buffer needs no host copy of it all.
using FloatSink = std::function<void(std::uint64_t first, const float* values, std::size_t count)>;

// Fills a host buffer chunk (first = index of values[0]) with the values to send to the device.
using FloatFill = std::function<void(std::uint64_t first, float* values, std::size_t count)>;

// A GPU backend. Calls come in this order, one device at a time: init; then per device describe,
// open, the run_*/read_* pairs (run_memtest last: it frees the bandwidth buffers), close. Any call may block for as long as the GPU does: the caller
// guards each one with a time limit.
class Backend {
public:
    // Virtual: backends are owned and destroyed through this interface.
    virtual ~Backend() = default;

    // Whether the binary was built with CUDA at all (without it, every GPU question is moot).
    virtual bool has_cuda() const = 0;
    // The SASS and PTX the binary carries, to refuse GPUs it has no code for with a clear message.
    virtual CompiledTargets targets() const = 0;
    // The CUDA version the kernels were built with (11080 for NVRTC 11.8; 0 without kernels): a
    // driver must support at least this version to JIT-compile their PTX.
    virtual int kernels_cuda_version() const = 0;
    // Initialises CUDA (loads the driver library, cuInit, device count) and reports versions.
    virtual InitInfo init() = 0;
    // Reads a device's properties (compute mode included) without creating a context on it (cheap).
    virtual CudaStatus describe(int device, DeviceInfo& info) = 0;
    // Retains the device's primary context, loads the kernels, allocates a pinned host buffer of
    // host_buffer_bytes (used for copies and read-back) and reports free device memory.
    virtual CudaStatus open(int device, std::size_t host_buffer_bytes, std::uint64_t& free_bytes) = 0;
    // Allocates and fills the bandwidth buffers and times the triad and copy kernels.
    virtual CudaStatus run_stream(const StreamPlan& plan, StreamTimes& times) = 0;
    // Checks every element of one output of run_stream on the GPU (gm_check_triad) and reports
    // the tally: the outputs are gigabytes, and copying them to the host costs more than the run.
    virtual CudaStatus check_stream(StreamOutput output, Verification& result) = 0;
    // Reads the first `count` elements (at most all) of one output back to the host, in chunks,
    // so that the host can recompute a sample itself and not rely on the GPU's check alone.
    virtual CudaStatus read_stream(StreamOutput output, std::size_t count, const FloatSink& sink) = 0;
    // Times the FMA kernel.
    virtual CudaStatus run_fma(const FmaPlan& plan, FmaTimes& times) = 0;
    // Reads the FMA kernel's per-thread results back.
    virtual CudaStatus read_fma(const FloatSink& sink) = 0;
    // Fills the pinned buffer, times copies to the device, clears it, times copies back.
    virtual CudaStatus run_transfer(const TransferPlan& plan, const FloatFill& fill, TransferTimes& times) = 0;
    // Hands over the pinned buffer's contents after the copies back.
    virtual CudaStatus read_transfer(const FloatSink& sink) = 0;
    // Frees the bandwidth buffers, allocates plan.bytes (less, down to 16 MiB, when memory ran out
    // meanwhile) and runs the memory integrity test on it.
    virtual CudaStatus run_memtest(const MemtestPlan& plan, MemtestResult& result) = 0;
    // Ends the work on the current device: waits for it (a pending error shows here) and frees
    // its buffers. The driver backend keeps the context and module until it is destroyed:
    // git-model-bench leaves that to the process's exit, which frees them faster.
    virtual CudaStatus close() = 0;
};

}  // namespace gm::gpu
