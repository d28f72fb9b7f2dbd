// The driver-API backend: device queries, the primary context, the kernels' module, and the
// timed runs of git-model-bench's kernels. Every driver handle is owned by a small RAII class
// below; every failed call throws DriverFailure, which becomes a CudaStatus at each method's
// boundary (guarded), so a CUDA error is a check result, never a crash.

#include "gitmodel/gpu/driver_backend.hpp"

#include "gitmodel/gpu/cuda_driver.hpp"
#include "gitmodel/gpu/pattern.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>
#include <utility>
#include <vector>

namespace gm::gpu {

namespace {

using cu::Driver;
using cu::DevicePtr;

constexpr int block_threads = 256;

// A failed driver call, carried to the method's boundary.
class DriverFailure : public std::exception {
public:
    // Records `result` of the call named `call` (a string literal).
    DriverFailure(cu::Result result, const char* call) : result_(result), call_(call) {}
    // The CUresult.
    cu::Result result() const noexcept { return result_; }
    // The failed call, e.g. "cuMemAlloc".
    const char* call() const noexcept { return call_; }
    // For std::exception; the status carries the real text.
    const char* what() const noexcept override { return call_; }

private:
    cu::Result result_;  // see result()
    const char* call_;   // see call()
};

// Throws DriverFailure unless result is CUDA_SUCCESS: the one way the backend checks calls.
void check(cu::Result result, const char* call) {
    if (result != 0) throw DriverFailure(result, call);
}

// Device memory from cuMemAlloc, freed by its owner.
class DeviceBuffer {
public:
    // An empty owner.
    DeviceBuffer() = default;
    // Allocates bytes on the current context's device.
    DeviceBuffer(const Driver& api, std::size_t bytes) : api_(&api) {
        check(api.cuMemAlloc(&pointer_, bytes), "cuMemAlloc");
        bytes_ = bytes;
    }
    // Frees the memory (an error cannot be reported from here; a broken context shows elsewhere).
    ~DeviceBuffer() { reset(); }
    // Moves ownership.
    DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
    // Moves ownership, freeing what this held.
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
        if (this != &other) {
            reset();
            api_ = other.api_;
            pointer_ = std::exchange(other.pointer_, 0);
            bytes_ = std::exchange(other.bytes_, 0);
        }
        return *this;
    }
    // Not copyable: one owner frees the memory once.
    DeviceBuffer(const DeviceBuffer&) = delete;
    // See the copy constructor.
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    // The device address.
    DevicePtr get() const { return pointer_; }
    // Frees the memory now.
    void reset() {
        if (pointer_) api_->cuMemFree(pointer_);
        pointer_ = 0;
        bytes_ = 0;
    }

private:
    const Driver* api_ = nullptr;  // the driver that allocated it
    DevicePtr pointer_ = 0;        // the memory; 0 when empty
    std::size_t bytes_ = 0;        // its size
};

// Page-locked host memory from cuMemAllocHost: DMA reaches it directly, so copies run at full speed.
class PinnedBuffer {
public:
    // Allocates bytes of pinned memory.
    PinnedBuffer(const Driver& api, std::size_t bytes) : api_(api) {
        check(api.cuMemAllocHost(&pointer_, bytes), "cuMemAllocHost");
        bytes_ = bytes;
    }
    // Frees it.
    ~PinnedBuffer() { api_.cuMemFreeHost(pointer_); }
    // Not copyable: one owner frees the memory once.
    PinnedBuffer(const PinnedBuffer&) = delete;
    // See the copy constructor.
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;

    // The memory as an array of T.
    template <class T>
    T* as() const { return static_cast<T*>(pointer_); }
    // Its size in bytes.
    std::size_t bytes() const { return bytes_; }

private:
    const Driver& api_;      // the driver that allocated it
    void* pointer_ = nullptr;  // the memory
    std::size_t bytes_ = 0;    // its size
};

// The device's primary context, retained for the owner's lifetime and current on this thread.
class PrimaryContext {
public:
    // Retains the device's primary context and makes it current.
    PrimaryContext(const Driver& api, cu::Device device) : api_(api), device_(device) {
        check(api.cuDevicePrimaryCtxRetain(&context_, device), "cuDevicePrimaryCtxRetain");
        retained_ = true;
        make_current();
    }
    // Makes it the calling thread's context again (after another device's was).
    void make_current() const { check(api_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); }
    // Releases it (the last release destroys it and frees what it held).
    ~PrimaryContext() {
        if (retained_) {
            api_.cuCtxSetCurrent(nullptr);
            api_.cuDevicePrimaryCtxRelease(device_);
        }
    }
    // Not copyable: one retain, one release.
    PrimaryContext(const PrimaryContext&) = delete;
    // See the copy constructor.
    PrimaryContext& operator=(const PrimaryContext&) = delete;

private:
    const Driver& api_;              // the driver
    cu::Device device_;              // the device whose context it is
    cu::Context context_ = nullptr;  // the retained context
    bool retained_ = false;          // whether the retain succeeded
};

// A driver handle freed by `destroy` (modules, streams, events).
template <class Handle>
class Owned {
public:
    // Takes ownership of a handle made by `create` (called with a pointer to fill), freed by destroy.
    template <class Create>
    Owned(const char* what, Create&& create, cu::Result (*destroy)(Handle)) : destroy_(destroy) {
        check(create(&handle_), what);
    }
    // Frees the handle.
    ~Owned() {
        if (handle_) destroy_(handle_);
    }
    // Moves ownership, so events can live in vectors.
    Owned(Owned&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)), destroy_(other.destroy_) {}
    // Not assignable: owners are made once.
    Owned& operator=(Owned&&) = delete;
    // Not copyable: one owner frees the handle once.
    Owned(const Owned&) = delete;
    // See the copy constructor.
    Owned& operator=(const Owned&) = delete;

    // The handle.
    Handle get() const { return handle_; }

private:
    Handle handle_ = nullptr;             // the handle
    cu::Result (*destroy_)(Handle);       // what frees it
};

// A launch configuration.
struct LaunchShape {
    unsigned blocks = 1;   // grid size
    unsigned threads = block_threads;  // block size
};

// The kernels of the module, looked up by their extern "C" names in kernels.cu.
struct Kernels {
    cu::Function init = nullptr, triad = nullptr, copy = nullptr, fma = nullptr;
    cu::Function check_triad = nullptr;
    cu::Function write_addresses = nullptr, check_addresses = nullptr, fill = nullptr, check_words = nullptr;
};

// Everything held for the device being benchmarked, freed in reverse order by close().
struct DeviceState {
    // Retains the context, loads the module and makes the stream and pinned buffer.
    DeviceState(const Driver& api, cu::Device device, const KernelImage& image, std::size_t host_bytes)
        : context(api, device),
          module("cuModuleLoadData", [&](cu::Module* m) { return api.cuModuleLoadData(m, image.data); }, api.cuModuleUnload),
          stream("cuStreamCreate", [&](cu::Stream* s) { return api.cuStreamCreate(s, cu::stream_non_blocking); },
                 api.cuStreamDestroy),
          pinned(api, host_bytes) {}
    // Frees what it holds in its own context, whichever device's is current.
    ~DeviceState() {
        try {
            context.make_current();
        } catch (const DriverFailure&) {
            // The context is gone with its device's failure; the frees below fail harmlessly.
        }
    }
    // Not copyable: it owns driver handles.
    DeviceState(const DeviceState&) = delete;
    // See the copy constructor.
    DeviceState& operator=(const DeviceState&) = delete;

    PrimaryContext context;          // first in, last out: everything below lives in it
    Owned<cu::Module> module;        // the kernels
    Owned<cu::Stream> stream;        // all work goes here
    PinnedBuffer pinned;             // copies and read-back staging
    Kernels kernels;                 // the module's functions
    LaunchShape stream_shape;        // one wave of fill and check blocks
    LaunchShape fma_shape;           // one wave of FMA blocks
    LaunchShape memtest_shape;       // one wave of memory-test blocks
    DeviceBuffer a, b, c;            // bandwidth buffers
    std::size_t stream_elements = 0; // floats in each
    DeviceBuffer fma_out;            // one float per FMA thread
    std::size_t fma_threads = 0;     // threads of the last FMA launch
    DeviceBuffer transfer;           // target of the host<->device copies
    std::size_t transfer_elements = 0;  // floats copied
};

class DriverBackend final : public Backend {
public:
    DriverBackend(KernelImage kernels, std::string library) : kernels_(std::move(kernels)), library_(std::move(library)) {}

    bool has_cuda() const override { return kernels_.data != nullptr && kernels_.size > 0; }
    CompiledTargets targets() const override { return kernels_.targets; }
    int kernels_cuda_version() const override { return kernels_.cuda_version; }

    InitInfo init() override {
        InitInfo info;
        info.kernels_version = kernels_.cuda_version;
        driver_ = cu::load_driver(library_);
        if (!driver_.library) {
            info.status = driver_.library_missing
                              ? CudaStatus{cuda_error::driver_library_missing, "libcudaNotLoadable", driver_.error, "dlopen"}
                              : CudaStatus{cuda_error::driver_entry_missing, "libcudaTooOld", driver_.error, "dlsym"};
            return info;
        }
        const Driver& api = driver_.api;
        int version = 0;
        if (api.cuDriverGetVersion(&version) == 0) info.driver_version = version;  // works before cuInit
        info.status = status_of(api.cuInit(0), "cuInit");
        if (!info.status.ok()) return info;
        int count = 0;
        info.status = status_of(api.cuDeviceGetCount(&count), "cuDeviceGetCount");
        info.device_count = info.status.ok() ? count : 0;
        return info;
    }

    CudaStatus describe(int ordinal, DeviceInfo& info) override {
        return guarded("describe", [&] { describe_device(ordinal, info); });
    }

    CudaStatus open(int ordinal, std::size_t host_buffer_bytes, std::uint64_t& free_bytes) override {
        state_.reset();
        return guarded("open", [&] {
            const Driver& api = driver_.api;
            cu::Device device = 0;
            check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet");
            auto state = std::make_unique<DeviceState>(api, device, kernels_, host_buffer_bytes);
            find_kernels(state->module.get(), state->kernels);
            int multiprocessors = 0;
            check(api.cuDeviceGetAttribute(&multiprocessors, cu::attribute::multiprocessor_count, device),
                  "cuDeviceGetAttribute");
            const Kernels& k = state->kernels;
            state->stream_shape = one_wave(multiprocessors, {k.init, k.check_triad});
            state->fma_shape = one_wave(multiprocessors, {k.fma});
            state->memtest_shape = one_wave(multiprocessors, {k.write_addresses, k.check_addresses, k.fill, k.check_words});
            std::size_t free = 0, total = 0;
            check(api.cuMemGetInfo(&free, &total), "cuMemGetInfo");
            free_bytes = free;
            state_ = std::move(state);
        });
    }

    CudaStatus run_stream(const StreamPlan& plan, StreamTimes& times) override {
        return guarded("run_stream", [&] {
            DeviceState& s = state();
            const Driver& api = driver_.api;
            unsigned long long n4 = plan.elements / 4;
            const std::size_t bytes = n4 * 4 * sizeof(float);
            s.stream_elements = 0;
            s.a = DeviceBuffer(api, bytes);
            s.b = DeviceBuffer(api, bytes);
            s.c = DeviceBuffer(api, bytes);
            DevicePtr a = s.a.get(), b = s.b.get(), c = s.c.get();
            // NaN in the output: a kernel that writes nothing cannot pass on stale memory.
            check(api.cuMemsetD8Async(c, 0xFF, bytes, s.stream.get()), "cuMemsetD8Async");
            launch(s.kernels.init, s.stream_shape, {&a, &b, &n4}, "gm_init");
            float scalar = pattern::triad_scalar;
            const int warm_up = plan.warm_up ? 1 : 0;
            const LaunchShape every_element = covering(n4);
            times.triad_ms = time_runs(warm_up, plan.repetitions, [&] {
                launch(s.kernels.triad, every_element, {&a, &b, &c, &scalar, &n4}, "gm_triad");
            });
            // The copy overwrites b with c, after the last triad has read b.
            times.copy_ms = time_runs(warm_up, plan.repetitions,
                                      [&] { launch(s.kernels.copy, every_element, {&c, &b, &n4}, "gm_copy"); });
            s.stream_elements = n4 * 4;
        });
    }

    CudaStatus check_stream(StreamOutput output, Verification& result) override {
        return guarded("check_stream", [&] {
            DeviceState& s = state();
            DevicePtr values = output == StreamOutput::triad ? s.c.get() : s.b.get();
            unsigned long long n4 = s.stream_elements / 4;
            const auto found = run_check([&](DevicePtr record) {
                launch(s.kernels.check_triad, s.stream_shape, {&values, &n4, &record}, "gm_check_triad");
            });
            result = Verification{};
            result.checked = s.stream_elements;
            result.wrong = found.count;
            for (const auto& slot : found.slots) {
                const Mismatch m{slot.where, float_from_bits(slot.got), float_from_bits(slot.expected)};
                if (!result.first || m.index < result.first->index) result.first = m;
            }
        });
    }

    CudaStatus read_stream(StreamOutput output, std::size_t count, const FloatSink& sink) override {
        return guarded("read_stream", [&] {
            DeviceState& s = state();
            read_back(output == StreamOutput::triad ? s.c.get() : s.b.get(), std::min(count, s.stream_elements), sink);
        });
    }

    CudaStatus run_fma(const FmaPlan& plan, FmaTimes& times) override {
        return guarded("run_fma", [&] {
            DeviceState& s = state();
            const Driver& api = driver_.api;
            const std::size_t threads = static_cast<std::size_t>(s.fma_shape.blocks) * s.fma_shape.threads;
            s.fma_threads = 0;
            s.fma_out = DeviceBuffer(api, threads * sizeof(float));
            DevicePtr out = s.fma_out.get();
            check(api.cuMemsetD8Async(out, 0xFF, threads * sizeof(float), s.stream.get()), "cuMemsetD8Async");
            unsigned iterations = plan.iterations;  // exactly as planned: plan_fma is the one place that clamps
            float multiplier = pattern::fma_multiplier, addend = pattern::fma_addend;
            times.ms = time_runs(plan.warm_up ? 1 : 0, plan.repetitions, [&] {
                launch(s.kernels.fma, s.fma_shape, {&out, &iterations, &multiplier, &addend}, "gm_fma");
            });
            times.threads = threads;
            s.fma_threads = threads;
        });
    }

    CudaStatus read_fma(const FloatSink& sink) override {
        return guarded("read_fma", [&] {
            DeviceState& s = state();
            read_back(s.fma_out.get(), s.fma_threads, sink);
        });
    }

    CudaStatus run_transfer(const TransferPlan& plan, const FloatFill& fill, TransferTimes& times) override {
        return guarded("run_transfer", [&] {
            DeviceState& s = state();
            const Driver& api = driver_.api;
            const std::size_t n = std::min(plan.bytes, s.pinned.bytes()) / sizeof(float);
            const std::size_t bytes = n * sizeof(float);
            s.transfer_elements = 0;
            s.transfer = DeviceBuffer(api, bytes);
            float* host = s.pinned.as<float>();
            const DevicePtr device = s.transfer.get();
            const cu::Stream stream = s.stream.get();
            fill(0, host, n);
            // NaN on the device first: only a copy that really arrives can bring the values back.
            check(api.cuMemsetD8Async(device, 0xFF, bytes, stream), "cuMemsetD8Async");
            times.h2d_ms = time_runs(0, plan.repetitions, [&] {
                check(api.cuMemcpyHtoDAsync(device, host, bytes, stream), "cuMemcpyHtoDAsync");
            });
            std::memset(host, 0, bytes);
            times.d2h_ms = time_runs(0, plan.repetitions, [&] {
                check(api.cuMemcpyDtoHAsync(host, device, bytes, stream), "cuMemcpyDtoHAsync");
            });
            s.transfer_elements = n;
        });
    }

    CudaStatus read_transfer(const FloatSink& sink) override {
        return guarded("read_transfer", [&] {
            DeviceState& s = state();
            sink(0, s.pinned.as<float>(), s.transfer_elements);
        });
    }

    CudaStatus run_memtest(const MemtestPlan& plan, MemtestResult& result) override {
        return guarded("run_memtest", [&] { memtest(plan, result); });
    }

    CudaStatus close() override {
        if (!state_) return {};
        // Surface any error still pending on the device before freeing, so it is not lost.
        const CudaStatus status = status_of(driver_.api.cuStreamSynchronize(state_->stream.get()), "cuStreamSynchronize");
        DeviceState& s = *state_;
        s.a.reset();
        s.b.reset();
        s.c.reset();
        s.fma_out.reset();
        s.transfer.reset();
        // The context, module, stream and pinned buffer stay until this backend is destroyed:
        // destroying a context took 60-100 ms on an H200, which git-model-bench leaves to the
        // process's exit (it never destroys the backend).
        finished_.push_back(std::move(state_));
        return status;
    }

private:
    // A CudaStatus from a CUresult, with the driver's name and text for it.
    CudaStatus status_of(cu::Result result, const char* call) const {
        if (result == 0) return {};
        const char* name = nullptr;
        const char* text = nullptr;
        if (driver_.api.cuGetErrorName == nullptr || driver_.api.cuGetErrorName(result, &name) != 0) name = nullptr;
        if (driver_.api.cuGetErrorString == nullptr || driver_.api.cuGetErrorString(result, &text) != 0) text = nullptr;
        return CudaStatus{result, name ? name : "CUDA_ERROR_" + std::to_string(result), text ? text : "", call};
    }

    // Runs a method body, turning what it throws into a CudaStatus.
    template <class Body>
    CudaStatus guarded(const char* what, Body&& body) {
        try {
            if (!driver_.library) return CudaStatus{cuda_error::initialization_error, "notInitialised",
                                                    "the driver was not loaded (init failed or was not called)", what};
            body();
            return {};
        } catch (const DriverFailure& failure) {
            return status_of(failure.result(), failure.call());
        } catch (const std::bad_alloc&) {
            return CudaStatus{cuda_error::memory_allocation, "hostOutOfMemory", "out of host memory", what};
        } catch (const std::exception& e) {
            return CudaStatus{cuda_error::unknown, "hostError", e.what(), what};
        }
    }

    // The open device's state; a call out of order is a bug in the caller.
    DeviceState& state() {
        if (!state_) throw DriverFailure(cuda_error::initialization_error, "no device open");
        return *state_;
    }

    // Fills info from the device's name, UUID, memory size and attributes.
    void describe_device(int ordinal, DeviceInfo& info) {
        const Driver& api = driver_.api;
        cu::Device device = 0;
        check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        char name[256] = {};
        check(api.cuDeviceGetName(name, sizeof name - 1, device), "cuDeviceGetName");
        cu::Uuid uuid{};
        check(api.cuDeviceGetUuid(&uuid, device), "cuDeviceGetUuid");
        std::size_t total = 0;
        check(api.cuDeviceTotalMem(&total, device), "cuDeviceTotalMem");
        const auto attribute = [&](int which) {
            int value = 0;
            check(api.cuDeviceGetAttribute(&value, which, device), "cuDeviceGetAttribute");
            return value;
        };
        namespace at = cu::attribute;
        info.index = ordinal;
        info.name = name;
        std::memcpy(info.uuid.data(), uuid.bytes, info.uuid.size());
        info.pci_domain = attribute(at::pci_domain_id);
        info.pci_bus = attribute(at::pci_bus_id);
        info.pci_device = attribute(at::pci_device_id);
        info.capability = ComputeCapability{attribute(at::compute_capability_major), attribute(at::compute_capability_minor)};
        info.memory_total_bytes = total;
        info.multiprocessors = attribute(at::multiprocessor_count);
        info.max_threads_per_multiprocessor = attribute(at::max_threads_per_multiprocessor);
        info.l2_cache_bytes = static_cast<std::uint64_t>(std::max(0, attribute(at::l2_cache_size)));
        info.integrated = attribute(at::integrated) != 0;
        info.clock_khz = attribute(at::clock_rate);
        info.memory_clock_khz = attribute(at::memory_clock_rate);
        info.memory_bus_width_bits = attribute(at::global_memory_bus_width);
        info.compute_mode = attribute(at::compute_mode);
    }

    // Looks the kernels up in the module.
    void find_kernels(cu::Module module, Kernels& k) {
        const auto get = [&](cu::Function& f, const char* name) {
            check(driver_.api.cuModuleGetFunction(&f, module, name), "cuModuleGetFunction");
        };
        get(k.init, "gm_init");
        get(k.triad, "gm_triad");
        get(k.copy, "gm_copy");
        get(k.fma, "gm_fma");
        get(k.check_triad, "gm_check_triad");
        get(k.write_addresses, "gm_mem_write_addresses");
        get(k.check_addresses, "gm_mem_check_addresses");
        get(k.fill, "gm_mem_fill");
        get(k.check_words, "gm_mem_check");
    }

    // A grid that fills the GPU exactly once for all of `functions` (SMs x the fewest resident
    // blocks per SM among them), so grid-stride loops need no tail wave.
    LaunchShape one_wave(int multiprocessors, std::initializer_list<cu::Function> functions) {
        int fewest = 0;
        for (cu::Function f : functions) {
            int blocks = 0;
            check(driver_.api.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, block_threads, 0),
                  "cuOccupancyMaxActiveBlocksPerMultiprocessor");
            fewest = fewest == 0 ? blocks : std::min(fewest, blocks);
        }
        return LaunchShape{static_cast<unsigned>(std::max(1, multiprocessors) * std::max(1, fewest)), block_threads};
    }

    // Launches a kernel on the device's stream with the given argument addresses.
    void launch(cu::Function function, LaunchShape shape, std::initializer_list<void*> arguments, const char* name) {
        std::vector<void*> parameters(arguments);
        check(driver_.api.cuLaunchKernel(function, shape.blocks, 1, 1, shape.threads, 1, 1, 0, state().stream.get(),
                                         parameters.data(), nullptr),
              name);
    }

    // Times `repetitions` runs of `op` on the stream with events, after `warm_up` untimed ones:
    // each run between its own pair of events, so one slow run (a clock change) shows as such.
    template <class Op>
    std::vector<double> time_runs(int warm_up, int repetitions, Op&& op) {
        const Driver& api = driver_.api;
        const cu::Stream stream = state().stream.get();
        for (int i = 0; i < warm_up; ++i) op();
        std::vector<Owned<cu::Event>> starts, stops;
        starts.reserve(repetitions);
        stops.reserve(repetitions);
        const auto make_event = [&](cu::Event* e) { return api.cuEventCreate(e, cu::event_default); };
        for (int i = 0; i < repetitions; ++i) {
            starts.emplace_back("cuEventCreate", make_event, api.cuEventDestroy);
            stops.emplace_back("cuEventCreate", make_event, api.cuEventDestroy);
            check(api.cuEventRecord(starts.back().get(), stream), "cuEventRecord");
            op();
            check(api.cuEventRecord(stops.back().get(), stream), "cuEventRecord");
        }
        check(api.cuStreamSynchronize(stream), "cuStreamSynchronize");
        std::vector<double> ms;
        for (int i = 0; i < repetitions; ++i) {
            float elapsed = 0.0f;
            check(api.cuEventElapsedTime(&elapsed, starts[i].get(), stops[i].get()), "cuEventElapsedTime");
            ms.push_back(elapsed);
        }
        return ms;
    }

    // Copies `count` floats from the device to the host in chunks through the two halves of the
    // pinned buffer, handing each chunk to the sink while the next one is in flight.
    void read_back(DevicePtr device, std::size_t count, const FloatSink& sink) {
        DeviceState& s = state();
        const Driver& api = driver_.api;
        const std::size_t half = std::max<std::size_t>(1, s.pinned.bytes() / sizeof(float) / 2);
        float* const halves[2] = {s.pinned.as<float>(), s.pinned.as<float>() + half};
        const cu::Stream stream = s.stream.get();
        const auto issue = [&](std::size_t chunk) {
            const std::size_t first = chunk * half;
            const std::size_t n = std::min(half, count - first);
            check(api.cuMemcpyDtoHAsync(halves[chunk % 2], device + first * sizeof(float), n * sizeof(float), stream),
                  "cuMemcpyDtoHAsync");
        };
        const std::size_t chunks = (count + half - 1) / half;
        if (chunks == 0) return;
        issue(0);
        for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
            check(api.cuStreamSynchronize(stream), "cuStreamSynchronize");
            if (chunk + 1 < chunks) issue(chunk + 1);
            const std::size_t first = chunk * half;
            sink(first, halves[chunk % 2], std::min(half, count - first));
        }
    }

    // The memory integrity test: address-in-address, then moving inversions, then the record of
    // failing words back to the host.
    void memtest(const MemtestPlan& plan, MemtestResult& result) {
        DeviceState& s = state();
        const Driver& api = driver_.api;
        // The bandwidth and copy buffers are done with: their memory is part of what is tested.
        s.a.reset();
        s.b.reset();
        s.c.reset();
        s.transfer.reset();
        result = MemtestResult{};
        std::uint64_t bytes = plan.bytes / sizeof(std::uint64_t) * sizeof(std::uint64_t);
        if (bytes == 0) return;
        // Another process may have taken memory since it was counted: halve, down to 16 MiB.
        DeviceBuffer words;
        for (;;) {
            try {
                words = DeviceBuffer(api, bytes);
                break;
            } catch (const DriverFailure& failure) {
                if (failure.result() != cuda_error::memory_allocation || bytes / 2 < (std::uint64_t{16} << 20)) throw;
                bytes = bytes / 2 / sizeof(std::uint64_t) * sizeof(std::uint64_t);
            }
        }
        unsigned long long n = bytes / sizeof(std::uint64_t);
        DevicePtr w = words.get();
        unsigned long long value = pattern::memtest_pattern, inverse = ~pattern::memtest_pattern;
        int invert = 1, keep = 0;
        const LaunchShape shape = s.memtest_shape;
        const auto& k = s.kernels;
        const auto found = run_check([&](DevicePtr r) {
            launch(k.write_addresses, shape, {&w, &n}, "gm_mem_write_addresses");
            launch(k.check_addresses, shape, {&w, &n, &r}, "gm_mem_check_addresses");
            launch(k.fill, shape, {&w, &n, &value}, "gm_mem_fill");
            launch(k.check_words, shape, {&w, &n, &value, &invert, &r}, "gm_mem_check");
            launch(k.check_words, shape, {&w, &n, &inverse, &invert, &r}, "gm_mem_check");
            launch(k.check_words, shape, {&w, &n, &value, &keep, &r}, "gm_mem_check");
        });
        result.ms = found.ms;
        result.bytes = n * sizeof(std::uint64_t);
        result.failures = found.count;
        for (const auto& slot : found.slots) {
            MemtestError e;
            e.address = slot.where;
            e.offset = e.address - w;
            e.got = slot.got;
            e.expected = slot.expected;
            e.test = slot.test;
            result.errors.push_back(e);
        }
    }

    // One recorded failure of a check kernel (pattern::memtest_record_words' layout).
    struct RecordedFailure {
        std::uint64_t where = 0, got = 0, expected = 0, test = 0;
    };
    // What a check kernel's error record held after the run, and how long the run took.
    struct CheckRecord {
        std::uint64_t count = 0;              // failures counted (past the recorded ones too)
        std::vector<RecordedFailure> slots;   // the first pattern::memtest_max_reported
        double ms = 0.0;                      // GPU time of the launches
    };

    // Runs `launches` (given the device address of a zeroed error record) on the stream, timed as
    // one, and reads the record back through the pinned buffer.
    template <class Launches>
    CheckRecord run_check(Launches&& launches) {
        DeviceState& s = state();
        const Driver& api = driver_.api;
        constexpr std::size_t record_bytes = pattern::memtest_record_words * sizeof(std::uint64_t);
        if (s.pinned.bytes() < record_bytes) throw DriverFailure(cuda_error::memory_allocation, "pinned buffer too small");
        DeviceBuffer record(api, record_bytes);
        DevicePtr r = record.get();
        const cu::Stream stream = s.stream.get();
        check(api.cuMemsetD8Async(r, 0, record_bytes, stream), "cuMemsetD8Async");
        CheckRecord out;
        out.ms = time_runs(0, 1, [&] { launches(r); }).at(0);
        auto* host = s.pinned.as<std::uint64_t>();
        check(api.cuMemcpyDtoHAsync(host, r, record_bytes, stream), "cuMemcpyDtoHAsync");
        check(api.cuStreamSynchronize(stream), "cuStreamSynchronize");
        out.count = host[0];
        const auto reported = static_cast<int>(std::min<std::uint64_t>(host[0], pattern::memtest_max_reported));
        for (int i = 0; i < reported; ++i)
            out.slots.push_back(RecordedFailure{host[pattern::memtest_address_at(i)], host[pattern::memtest_got_at(i)],
                                                host[pattern::memtest_expected_at(i)], host[pattern::memtest_test_at(i)]});
        return out;
    }

    // A grid of block_threads-thread blocks with one thread per element (the bandwidth kernels).
    static LaunchShape covering(unsigned long long elements) {
        const unsigned long long blocks = (elements + block_threads - 1) / block_threads;
        if (blocks == 0 || blocks > 0x7FFFFFFFull) throw DriverFailure(cuda_error::invalid_value, "grid size");
        return LaunchShape{static_cast<unsigned>(blocks), block_threads};
    }

    // A float from the bits a check kernel recorded.
    static float float_from_bits(std::uint64_t bits) {
        const auto narrow = static_cast<std::uint32_t>(bits);
        float value = 0.0f;
        std::memcpy(&value, &narrow, sizeof value);
        return value;
    }

    KernelImage kernels_;                   // the fat binary
    std::string library_;                   // the driver library to load
    cu::LoadedDriver driver_;               // loaded by init()
    std::vector<std::unique_ptr<DeviceState>> finished_;  // closed devices' contexts (see close())
    std::unique_ptr<DeviceState> state_;    // the open device, if any
};

}  // namespace

std::unique_ptr<Backend> make_driver_backend(KernelImage kernels, std::string library) {
    return std::make_unique<DriverBackend>(std::move(kernels), std::move(library));
}

}  // namespace gm::gpu
