// The CUDA backend of git-model-bench: device queries, context creation, and the timed runs of the
// kernels in kernels.cu, all through the CUDA runtime (linked statically). Results go back to the
// host logic through gm::gpu::Backend's plain structs; every handle is owned by cuda_raii.hpp's
// classes, and every failed call becomes a CudaStatus at the boundary of each method.

#include "kernels/cuda_raii.hpp"
#include "kernels/kernels.hpp"
#include "make_backend.hpp"

#include "gitmodel/gpu/pattern.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <vector>

#ifndef GM_CUDA_SASS
#define GM_CUDA_SASS ""
#endif
#ifndef GM_CUDA_PTX
#define GM_CUDA_PTX ""
#endif

namespace gm::gpu {

// The library mirrors these cudaError_t values to classify failures without CUDA headers.
static_assert(cuda_error::success == cudaSuccess);
static_assert(cuda_error::memory_allocation == cudaErrorMemoryAllocation);
static_assert(cuda_error::initialization_error == cudaErrorInitializationError);
static_assert(cuda_error::stub_library == cudaErrorStubLibrary);
static_assert(cuda_error::insufficient_driver == cudaErrorInsufficientDriver);
static_assert(cuda_error::call_requires_newer_driver == cudaErrorCallRequiresNewerDriver);
static_assert(cuda_error::devices_unavailable == cudaErrorDevicesUnavailable);
static_assert(cuda_error::invalid_device_function == cudaErrorInvalidDeviceFunction);
static_assert(cuda_error::no_device == cudaErrorNoDevice);
static_assert(cuda_error::invalid_device == cudaErrorInvalidDevice);
static_assert(cuda_error::device_not_licensed == cudaErrorDeviceNotLicensed);
static_assert(cuda_error::device_uninitialized == cudaErrorDeviceUninitialized);
static_assert(cuda_error::no_kernel_image == cudaErrorNoKernelImageForDevice);
static_assert(cuda_error::ecc_uncorrectable == cudaErrorECCUncorrectable);
static_assert(cuda_error::unsupported_ptx_version == cudaErrorUnsupportedPtxVersion);
static_assert(cuda_error::illegal_address == cudaErrorIllegalAddress);
static_assert(cuda_error::launch_timeout == cudaErrorLaunchTimeout);
static_assert(cuda_error::launch_failure == cudaErrorLaunchFailure);
static_assert(cuda_error::not_permitted == cudaErrorNotPermitted);
static_assert(cuda_error::system_not_ready == cudaErrorSystemNotReady);
static_assert(cuda_error::system_driver_mismatch == cudaErrorSystemDriverMismatch);
static_assert(cuda_error::compat_not_supported_on_device == cudaErrorCompatNotSupportedOnDevice);
static_assert(cuda_error::unknown == cudaErrorUnknown);

namespace {

using cuda::check;
using cuda::CudaFailure;
using cuda::DeviceBuffer;
using cuda::Event;
using cuda::LaunchShape;
using cuda::PinnedBuffer;
using cuda::Stream;

// A CudaStatus from a cudaError_t.
CudaStatus status_of(cudaError_t error, const char* call) {
    if (error == cudaSuccess) return {};
    return CudaStatus{static_cast<int>(error), cudaGetErrorName(error), cudaGetErrorString(error), call};
}

// Runs a backend method body, turning what it throws into a CudaStatus.
template <class Body>
CudaStatus guarded(const char* what, Body&& body) {
    try {
        body();
        return {};
    } catch (const CudaFailure& failure) {
        return status_of(failure.error(), failure.call());
    } catch (const std::bad_alloc&) {
        return CudaStatus{cuda_error::memory_allocation, "hostOutOfMemory", "out of host memory", what};
    } catch (const std::exception& e) {
        return CudaStatus{cuda_error::unknown, "hostError", e.what(), what};
    }
}

// Times `repetitions` runs of `op` on a stream with events, after `warm_up` untimed ones: each run
// between its own pair of events, so one slow run (a clock change) shows as such.
template <class Op>
std::vector<double> time_runs(cudaStream_t stream, int warm_up, int repetitions, Op&& op, const char* what) {
    for (int i = 0; i < warm_up; ++i) check(op(), what);
    std::vector<Event> starts, stops;
    starts.reserve(repetitions);
    stops.reserve(repetitions);
    for (int i = 0; i < repetitions; ++i) {
        starts.emplace_back();
        stops.emplace_back();
        check(cudaEventRecord(starts.back().get(), stream), "cudaEventRecord");
        check(op(), what);
        check(cudaEventRecord(stops.back().get(), stream), "cudaEventRecord");
    }
    check(cudaStreamSynchronize(stream), what);
    std::vector<double> ms;
    for (int i = 0; i < repetitions; ++i) {
        float elapsed = 0.0f;
        check(cudaEventElapsedTime(&elapsed, starts[i].get(), stops[i].get()), "cudaEventElapsedTime");
        ms.push_back(elapsed);
    }
    return ms;
}

// Everything held for the device being benchmarked; destroyed (freeing all) by close().
struct DeviceState {
    // Makes the stream and the pinned host buffer on the current device.
    explicit DeviceState(std::size_t host_bytes) : pinned(host_bytes) {}

    Stream stream;
    PinnedBuffer pinned;               // copies and read-back staging
    LaunchShape stream_shape;          // one wave of triad/copy blocks
    LaunchShape fma_shape;             // one wave of FMA blocks
    DeviceBuffer a, b, c;              // bandwidth buffers
    std::size_t stream_elements = 0;   // floats in each
    DeviceBuffer fma_out;              // one float per FMA thread
    std::size_t fma_threads = 0;       // threads of the last FMA launch
    DeviceBuffer transfer;             // target of the host<->device copies
    std::size_t transfer_elements = 0; // floats copied
};

class CudaBackend final : public Backend {
public:
    bool has_cuda() const override { return true; }

    CompiledTargets targets() const override {
        return CompiledTargets{split_architectures(GM_CUDA_SASS), split_architectures(GM_CUDA_PTX)};
    }

    int linked_runtime_version() const override { return CUDART_VERSION; }

    InitInfo init() override {
        InitInfo info;
        info.runtime_version = CUDART_VERSION;
        int count = 0;
        // The first runtime call loads libcuda.so.1 and initialises the driver: where "no
        // driver", "driver too old" and "no device" show up.
        const cudaError_t error = cudaGetDeviceCount(&count);
        info.status = status_of(error, "cudaGetDeviceCount");
        info.device_count = error == cudaSuccess ? count : 0;
        int driver = 0;
        if (cudaDriverGetVersion(&driver) == cudaSuccess) info.driver_version = driver;
        cudaGetLastError();  // a failed init must not linger as the "last error"
        return info;
    }

    CudaStatus describe(int device, DeviceInfo& info) override {
        return guarded("describe", [&] {
            cudaDeviceProp prop{};
            check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
            info.index = device;
            info.name = prop.name;
            std::memcpy(info.uuid.data(), prop.uuid.bytes, info.uuid.size());
            info.pci_domain = prop.pciDomainID;
            info.pci_bus = prop.pciBusID;
            info.pci_device = prop.pciDeviceID;
            info.capability = ComputeCapability{prop.major, prop.minor};
            info.memory_total_bytes = prop.totalGlobalMem;
            info.multiprocessors = prop.multiProcessorCount;
            info.max_threads_per_multiprocessor = prop.maxThreadsPerMultiProcessor;
            info.l2_cache_bytes = static_cast<std::uint64_t>(std::max(0, prop.l2CacheSize));
            info.integrated = prop.integrated != 0;
            // CUDA 13 removed the clock fields from cudaDeviceProp; the attributes remain.
            check(cudaDeviceGetAttribute(&info.clock_khz, cudaDevAttrClockRate, device), "cudaDeviceGetAttribute");
            check(cudaDeviceGetAttribute(&info.memory_clock_khz, cudaDevAttrMemoryClockRate, device),
                  "cudaDeviceGetAttribute");
            check(cudaDeviceGetAttribute(&info.memory_bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, device),
                  "cudaDeviceGetAttribute");
        });
    }

    CudaStatus open(int device, std::size_t host_buffer_bytes, std::uint64_t& free_bytes) override {
        state_.reset();
        return guarded("open", [&] {
            check(cudaSetDevice(device), "cudaSetDevice");
            check(cudaFree(nullptr), "cudaFree");  // creates the primary context now, under this step's limit
            LaunchShape stream_shape, fma_shape;
            check(cuda::kernel_shapes(device, stream_shape, fma_shape), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
            std::size_t free = 0, total = 0;
            check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
            free_bytes = free;
            state_.emplace(host_buffer_bytes);
            state_->stream_shape = stream_shape;
            state_->fma_shape = fma_shape;
        });
    }

    CudaStatus run_stream(const StreamPlan& plan, StreamTimes& times) override {
        return guarded("run_stream", [&] {
            DeviceState& s = state();
            const std::size_t n = plan.elements / 4 * 4;
            const std::size_t bytes = n * sizeof(float);
            s.stream_elements = 0;
            s.a = DeviceBuffer(bytes);
            s.b = DeviceBuffer(bytes);
            s.c = DeviceBuffer(bytes);
            const cudaStream_t stream = s.stream.get();
            // NaN in the output: a kernel that writes nothing cannot pass on stale memory.
            check(cudaMemsetAsync(s.c.as<float>(), 0xFF, bytes, stream), "cudaMemsetAsync");
            check(cuda::launch_init(s.a.as<float>(), s.b.as<float>(), n, s.stream_shape, stream), "init kernel launch");
            const int warm_up = plan.warm_up ? 1 : 0;
            times.triad_ms = time_runs(
                stream, warm_up, plan.repetitions,
                [&] { return cuda::launch_triad(s.a.as<float>(), s.b.as<float>(), s.c.as<float>(), n, s.stream_shape, stream); },
                "triad kernel");
            // The copy overwrites b with c, after the last triad has read b.
            times.copy_ms = time_runs(
                stream, warm_up, plan.repetitions,
                [&] { return cuda::launch_copy(s.c.as<float>(), s.b.as<float>(), n, s.stream_shape, stream); },
                "copy kernel");
            s.stream_elements = n;
        });
    }

    CudaStatus read_stream(StreamOutput output, const FloatSink& sink) override {
        return guarded("read_stream", [&] {
            DeviceState& s = state();
            const DeviceBuffer& buffer = output == StreamOutput::triad ? s.c : s.b;
            read_back(buffer.as<float>(), s.stream_elements, sink);
        });
    }

    CudaStatus run_fma(const FmaPlan& plan, FmaTimes& times) override {
        return guarded("run_fma", [&] {
            DeviceState& s = state();
            const std::size_t threads = static_cast<std::size_t>(s.fma_shape.blocks) * s.fma_shape.threads;
            s.fma_threads = 0;
            s.fma_out = DeviceBuffer(threads * sizeof(float));
            const cudaStream_t stream = s.stream.get();
            check(cudaMemsetAsync(s.fma_out.as<float>(), 0xFF, threads * sizeof(float), stream), "cudaMemsetAsync");
            const std::uint32_t iterations = std::min(plan.iterations / 16 * 16, pattern::fma_max_iterations);
            times.ms = time_runs(
                stream, plan.warm_up ? 1 : 0, plan.repetitions,
                [&] { return cuda::launch_fma(s.fma_out.as<float>(), iterations, s.fma_shape, stream); }, "FMA kernel");
            times.threads = threads;
            s.fma_threads = threads;
        });
    }

    CudaStatus read_fma(const FloatSink& sink) override {
        return guarded("read_fma", [&] {
            DeviceState& s = state();
            read_back(s.fma_out.as<float>(), s.fma_threads, sink);
        });
    }

    CudaStatus run_transfer(const TransferPlan& plan, const FloatFill& fill, TransferTimes& times) override {
        return guarded("run_transfer", [&] {
            DeviceState& s = state();
            const std::size_t n = std::min(plan.bytes, s.pinned.bytes()) / sizeof(float);
            const std::size_t bytes = n * sizeof(float);
            s.transfer_elements = 0;
            s.transfer = DeviceBuffer(bytes);
            float* host = s.pinned.as<float>();
            float* device = s.transfer.as<float>();
            const cudaStream_t stream = s.stream.get();
            fill(0, host, n);
            // NaN on the device first: only a copy that really arrives can bring the values back.
            check(cudaMemsetAsync(device, 0xFF, bytes, stream), "cudaMemsetAsync");
            times.h2d_ms = time_runs(
                stream, 0, plan.repetitions,
                [&] { return cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream); }, "cudaMemcpyAsync");
            std::memset(host, 0, bytes);
            times.d2h_ms = time_runs(
                stream, 0, plan.repetitions,
                [&] { return cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream); }, "cudaMemcpyAsync");
            s.transfer_elements = n;
        });
    }

    CudaStatus read_transfer(const FloatSink& sink) override {
        return guarded("read_transfer", [&] {
            DeviceState& s = state();
            sink(0, s.pinned.as<float>(), s.transfer_elements);
        });
    }

    CudaStatus close() override {
        if (!state_) return {};
        // Surface any error still pending on the device before freeing, so it is not lost.
        const CudaStatus status = status_of(cudaStreamSynchronize(state_->stream.get()), "cudaStreamSynchronize");
        state_.reset();
        return status;
    }

private:
    // The open device's state; a call out of order is a bug in the caller.
    DeviceState& state() {
        if (!state_) throw CudaFailure(cudaErrorInvalidValue, "no device open");
        return *state_;
    }

    // Copies `count` floats from the device to the host in chunks through the two halves of the
    // pinned buffer, handing each chunk to the sink while the next one is in flight.
    void read_back(const float* device, std::size_t count, const FloatSink& sink) {
        DeviceState& s = state();
        const std::size_t half = std::max<std::size_t>(1, s.pinned.bytes() / sizeof(float) / 2);
        float* const halves[2] = {s.pinned.as<float>(), s.pinned.as<float>() + half};
        const cudaStream_t stream = s.stream.get();
        const auto issue = [&](std::size_t chunk) {
            const std::size_t first = chunk * half;
            const std::size_t n = std::min(half, count - first);
            check(cudaMemcpyAsync(halves[chunk % 2], device + first, n * sizeof(float), cudaMemcpyDeviceToHost, stream),
                  "cudaMemcpyAsync");
        };
        const std::size_t chunks = (count + half - 1) / half;
        if (chunks == 0) return;
        issue(0);
        for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
            check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
            if (chunk + 1 < chunks) issue(chunk + 1);
            const std::size_t first = chunk * half;
            sink(first, halves[chunk % 2], std::min(half, count - first));
        }
        // The sink of the last chunk ran with nothing in flight; nothing is left to wait for.
    }

    std::optional<DeviceState> state_;
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace gm::gpu
