#include "gitmodel/config/values.hpp"
#include "gitmodel/gpu/bench.hpp"

#include "gitmodel/gpu/pattern.hpp"
#include "gitmodel/gpu/verify.hpp"

#include <fmt/core.h>

#include <algorithm>

#ifndef GM_VERSION
#define GM_VERSION "unknown"
#endif

namespace gm::gpu {

namespace {

constexpr std::uint64_t mib = std::uint64_t{1} << 20;

// The memory test's outcome for the check's detail.
std::string describe_memtest(const MemtestResult& result, const MemtestPlan& plan) {
    std::string out = fmt::format("{} tested (address-in-address, moving inversions) in {:.1f} ms",
                                  config::format_byte_size(result.bytes), result.ms);
    if (result.bytes != plan.bytes) out += fmt::format(", {} planned", config::format_byte_size(plan.bytes));
    if (result.failures == 0) return out + ": no errors";
    out += fmt::format(": {} wrong read(s)", result.failures);
    if (!result.errors.empty()) {
        const MemtestError& e = result.errors.front();
        out += fmt::format("; first at address 0x{:x} (offset {}): read 0x{:016x}, expected 0x{:016x} ({})", e.address,
                           e.offset, e.got, e.expected,
                           e.test == pattern::memtest_address_test ? "address-in-address" : "moving inversions");
    }
    return out;
}

// Milliseconds since `start`, for the elapsed figures.
double elapsed_ms(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// "88.0%".
std::string percent(double fraction) { return fmt::format("{:.1f}%", fraction * 100.0); }

// Runs the benchmark on one GPU, filling `device`; `publish` shares the progress after each step.
class DeviceRun {
public:
    DeviceRun(Backend& backend, const BenchOptions& options, Watchdog& watchdog, const BenchReport& report,
              DeviceReport& device, std::function<void()> publish)
        : backend_(backend), options_(options), watchdog_(watchdog), report_(report), device_(device),
          publish_(std::move(publish)) {}

    // Runs every step; returns early (after releasing the GPU) when one fails for CUDA reasons.
    void run() {
        const int d = device_.index;
        if (d < 0 || d >= report_.device_count) {
            device_.error = missing_device_failure(d, report_.device_count);
            return;
        }
        DeviceInfo info;
        CudaStatus status = step("device query", [&] { return backend_.describe(d, info); });
        if (!status.ok()) return unusable("device query", status);
        const std::string uuid = format_uuid(info.uuid);
        if (std::find(options_.skip_uuids.begin(), options_.skip_uuids.end(), uuid) != options_.skip_uuids.end()) {
            skipped_uuid_ = uuid;  // described only: no context, no memory, no kernel on another user's GPU
            return;
        }
        device_.info = info;
        device_.peaks = compute_peaks(info);
        if (!targets_support(backend_.targets(), info.capability)) {
            device_.error = unsupported_device_failure(info, backend_.targets(), report_.kernels_version);
            return;
        }
        if (info.compute_mode == compute_mode_prohibited) {
            device_.error = compute_prohibited_failure(info);
            return;
        }
        // A MIG slice runs every check of correctness; its speed is not judged (see add_fraction_check).
        if (is_mig_slice(info)) device_.error = mig_slice_failure(info);
        if (const auto& minimum = options_.thresholds.min_compute_capability) {
            add_check("compute-capability", info.capability >= *minimum,
                      fmt::format("{} (at least {} required)", to_string(info.capability), to_string(*minimum)));
        }
        std::uint64_t free_bytes = 0;
        status = step("context creation",
                      [&] { return backend_.open(d, host_buffer_bytes(options_.mode), free_bytes); });
        if (!status.ok()) return unusable("context creation", status);
        device_.memory_free_bytes = free_bytes;
        if (const auto& minimum = options_.thresholds.min_free_memory) {
            add_check("free-memory", free_bytes >= *minimum,
                      fmt::format("{} free (at least {} required)", config::format_byte_size(free_bytes), config::format_byte_size(*minimum)));
        }
        publish_();

        if (memory_bandwidth(info, free_bytes) && fp32_throughput(info) && transfers() && memory_integrity(free_bytes)) {
            release();
        }
    }

    // The UUID of the GPU run() left alone (it was in options.skip_uuids); nullopt when tested.
    const std::optional<std::string>& skipped_uuid() const { return skipped_uuid_; }

private:
    // Runs one backend call under the watchdog.
    template <class Call>
    CudaStatus step(const char* name, Call&& call) {
        const auto start = std::chrono::steady_clock::now();
        CudaStatus status;
        {
            StepGuard guard(watchdog_, Step{name, device_.index}, options_.step_timeout);
            status = call();
        }
        device_.steps.push_back(StepTime{name, elapsed_ms(start)});
        return status;
    }

    // Appends a check.
    void add_check(std::string name, bool passed, std::string detail) {
        device_.checks.push_back(Check{std::move(name), passed, std::move(detail)});
    }

    // Records that the GPU could not be used at all (query, context creation or kernel load failed).
    void unusable(const char* step_name, const CudaStatus& status) {
        device_.error = classify_device_failure(status, device_.index, options_.probe.facts(),
                                                report_.cuda_driver_version, report_.kernels_version);
        device_.error->step = step_name;
    }

    // Records a CUDA error in a benchmark step as a failed check and releases the GPU; returns false
    // so the caller stops (after a kernel fault CUDA's context is unusable anyway).
    bool cuda_failed(const char* step_name, const CudaStatus& status) {
        std::string detail = fmt::format("{}: {} ({})", step_name, status.name, status.message);
        if (!status.call.empty()) detail += fmt::format(" in {}", status.call);
        add_check("cuda-error", false, detail);
        release();
        return false;
    }

    // Frees the GPU's buffers; a failure there is a failure of the GPU too.
    void release() {
        const CudaStatus status = step("release", [&] { return backend_.close(); });
        if (!status.ok()) add_check("cuda-error", false, fmt::format("release: {} ({})", status.name, status.message));
    }

    // Adds a check that a rate's median reaches a fraction of its peak (the median, so that one
    // lucky repetition cannot pass a GPU that is slow most of the time).
    void add_fraction_check(const char* name, const std::optional<Rate>& rate, const std::optional<double>& peak,
                            double minimum, const char* unit, std::optional<double>& fraction_out) {
        if (!rate) {
            add_check(name, false, "no valid timing was measured");
            return;
        }
        if (device_.info && is_mig_slice(*device_.info)) {
            add_check(name, true, fmt::format("median {:.1f} {}; a MIG slice: the whole GPU's peak does not apply, so "
                                              "not assessed", rate->median, unit));
            return;
        }
        if (!peak || !(*peak > 0.0)) {
            add_check(name, true, fmt::format("median {:.1f} {}; the GPU reports no peak to compare with, so not assessed",
                                              rate->median, unit));
            return;
        }
        const double fraction = rate->median / *peak;
        fraction_out = fraction;
        add_check(name, fraction >= minimum,
                  fmt::format("median {:.1f} {} = {} of the {:.1f} {} peak (at least {} required; best {:.1f})",
                              rate->median, unit, percent(fraction), *peak, unit, percent(minimum), rate->best));
    }

    // Triad and copy: bandwidth and correctness.
    bool memory_bandwidth(const DeviceInfo& info, std::uint64_t free_bytes) {
        const auto plan = plan_stream(options_.mode, info, free_bytes);
        if (!plan) {
            add_check("memory-bandwidth", false,
                      fmt::format("only {} of device memory is free: too little to measure bandwidth",
                                  config::format_byte_size(free_bytes)));
            return true;
        }
        auto& m = device_.measurements;
        const std::uint64_t buffer_bytes = plan->elements * sizeof(float);
        m.stream_buffer_bytes = buffer_bytes;
        m.stream_repetitions = plan->repetitions;
        StreamTimes times;
        CudaStatus status = step("memory bandwidth kernels", [&] { return backend_.run_stream(*plan, times); });
        if (!status.ok()) return cuda_failed("memory bandwidth kernels", status);

        // Every element is checked on the GPU; the host recomputes the first stream_host_sample
        // elements itself, so a GPU whose check kernel went wrong cannot vouch for itself.
        Verification triad_gpu, copy_gpu, triad_host, copy_host;
        status = step("memory check", [&] {
            CudaStatus s = backend_.check_stream(StreamOutput::triad, triad_gpu);
            return s.ok() ? backend_.check_stream(StreamOutput::copy, copy_gpu) : s;
        });
        if (!status.ok()) return cuda_failed("memory check", status);
        const std::size_t sample = std::min<std::size_t>(plan->elements, stream_host_sample);
        status = step("memory read-back", [&] {
            CudaStatus s = backend_.read_stream(StreamOutput::triad, sample, [&](std::uint64_t first, const float* v, std::size_t n) {
                triad_host.merge(verify_triad(first, v, n));
            });
            if (!s.ok()) return s;
            return backend_.read_stream(StreamOutput::copy, sample, [&](std::uint64_t first, const float* v, std::size_t n) {
                copy_host.merge(verify_triad(first, v, n));
            });
        });
        if (!status.ok()) return cuda_failed("memory read-back", status);
        const Verification triad = confirm_on_host(triad_gpu, triad_host);
        const Verification copy = confirm_on_host(copy_gpu, copy_host);
        add_result_check("triad-result", triad, plan->elements);
        add_result_check("copy-result", copy, plan->elements);

        m.triad_gbps = rate_from_times(3.0 * static_cast<double>(buffer_bytes) / 1e9, times.triad_ms);
        m.copy_gbps = rate_from_times(2.0 * static_cast<double>(buffer_bytes) / 1e9, times.copy_ms);
        if (m.copy_gbps && device_.peaks.memory_bandwidth_gbps && !is_mig_slice(info))
            m.copy_fraction = m.copy_gbps->median / *device_.peaks.memory_bandwidth_gbps;
        const double minimum = options_.mode == Mode::quick ? options_.thresholds.min_quick_bandwidth_fraction
                                                            : options_.thresholds.min_bandwidth_fraction;
        add_fraction_check("triad-bandwidth", m.triad_gbps, device_.peaks.memory_bandwidth_gbps, minimum, "GB/s",
                           m.triad_fraction);
        publish_();
        return true;
    }

    // Adds a correctness check, which also requires that every element was seen.
    void add_result_check(const char* name, const Verification& v, std::uint64_t expected_count) {
        const bool complete = v.checked == expected_count;
        std::string detail = v.describe();
        if (!complete) detail += fmt::format(" (expected {} values)", expected_count);
        add_check(name, v.passed() && complete, detail);
    }

    // FP32 FMA: throughput and correctness.
    bool fp32_throughput(const DeviceInfo& info) {
        const FmaPlan plan = plan_fma(options_.mode, info, device_.peaks);
        auto& m = device_.measurements;
        m.fma_iterations = plan.iterations;
        m.fma_repetitions = plan.repetitions;
        FmaTimes times;
        CudaStatus status = step("FP32 FMA kernel", [&] { return backend_.run_fma(plan, times); });
        if (!status.ok()) return cuda_failed("FP32 FMA kernel", status);
        m.fma_threads = times.threads;

        Verification v;
        status = step("FMA read-back", [&] {
            return backend_.read_fma([&](std::uint64_t first, const float* values, std::size_t n) {
                v.merge(verify_fma(first, values, n, plan.iterations));
            });
        });
        if (!status.ok()) return cuda_failed("FMA read-back", status);
        add_result_check("fma-result", v, times.threads);

        const double tflop = static_cast<double>(times.threads) * plan.iterations * pattern::fma_accumulators * 2.0 / 1e12;
        m.fp32_tflops = rate_from_times(tflop, times.ms);
        // --quick's launch is too small to say anything about throughput: no fraction, no check.
        if (options_.mode == Mode::full) {
            add_fraction_check("fp32-throughput", m.fp32_tflops, device_.peaks.fp32_tflops,
                               options_.thresholds.min_fp32_fraction, "TFLOP/s", m.fp32_fraction);
        }
        publish_();
        return true;
    }

    // Pinned host<->device copies: bandwidth and a correct round trip.
    bool transfers() {
        const TransferPlan plan = plan_transfer(options_.mode);
        auto& m = device_.measurements;
        m.transfer_bytes = plan.bytes;
        m.transfer_repetitions = plan.repetitions;
        TransferTimes times;
        CudaStatus status = step("host-device copies", [&] {
            return backend_.run_transfer(
                plan,
                [](std::uint64_t first, float* values, std::size_t n) {
                    for (std::size_t i = 0; i < n; ++i) values[i] = pattern::transfer_value(first + i);
                },
                times);
        });
        if (!status.ok()) return cuda_failed("host-device copies", status);

        Verification v;
        status = step("copy read-back", [&] {
            return backend_.read_transfer([&](std::uint64_t first, const float* values, std::size_t n) {
                v.merge(verify_transfer(first, values, n));
            });
        });
        if (!status.ok()) return cuda_failed("copy read-back", status);
        add_result_check("transfer-result", v, plan.bytes / sizeof(float));
        m.h2d_gbps = rate_from_times(static_cast<double>(plan.bytes) / 1e9, times.h2d_ms);
        m.d2h_gbps = rate_from_times(static_cast<double>(plan.bytes) / 1e9, times.d2h_ms);
        if (!m.h2d_gbps || !m.d2h_gbps) add_check("transfer-timing", false, "no valid timing was measured");
        publish_();
        return true;
    }

    // The memory integrity test (full mode only): address-in-address and moving inversions over
    // part of the free memory, in bounded time; a failing word fails the GPU, with its address.
    bool memory_integrity(std::uint64_t free_bytes) {
        if (options_.mode != Mode::full) return true;
        const auto& triad = device_.measurements.triad_gbps;
        const MemtestPlan plan =
            plan_memtest(free_bytes, triad ? std::optional<double>(triad->median) : device_.peaks.memory_bandwidth_gbps);
        if (plan.bytes == 0) {
            add_check("memory-integrity", true, fmt::format("not run: only {} of device memory is free",
                                                            config::format_byte_size(free_bytes)));
            return true;
        }
        MemtestResult result;
        const CudaStatus status = step("memory integrity test", [&] { return backend_.run_memtest(plan, result); });
        if (!status.ok()) return cuda_failed("memory integrity test", status);
        auto& m = device_.measurements;
        m.memtest_bytes = result.bytes;
        m.memtest_ms = result.ms;
        m.memtest_failures = result.failures;
        device_.memtest_errors = result.errors;
        add_check("memory-integrity", result.bytes > 0 && result.failures == 0, describe_memtest(result, plan));
        publish_();
        return true;
    }

    Backend& backend_;
    const BenchOptions& options_;
    Watchdog& watchdog_;
    const BenchReport& report_;
    DeviceReport& device_;
    std::function<void()> publish_;
    std::optional<std::string> skipped_uuid_;
};

}  // namespace

void Progress::publish(const BenchReport& report) {
    std::lock_guard<std::mutex> lock(mutex_);
    report_ = report;
}

BenchReport Progress::snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return report_;
}

std::size_t host_buffer_bytes(Mode mode) { return mode == Mode::quick ? 8 * mib : 32 * mib; }

std::optional<StreamPlan> plan_stream(Mode mode, const DeviceInfo& info, std::uint64_t free_bytes) {
    const bool quick = mode == Mode::quick;
    // At least 4x L2 per buffer (12x for the three) in both modes, so the cache cannot flatter the
    // figure: on an H100 (50 MiB L2) --quick moves 3 x 200 MiB, not 3 x 32 MiB that partly fit.
    const std::uint64_t l2_multiple = (info.l2_cache_bytes * 4 + mib - 1) / mib * mib;
    // Full mode: 1 GiB, where one launch lasts long enough (0.7 ms on an H200) for its start and
    // end to cost little of the figure (90% of peak there, 88% at 240 MiB).
    const std::uint64_t wanted = std::max<std::uint64_t>(quick ? 32 * mib : 1024 * mib, l2_multiple);
    const std::uint64_t minimum = quick ? 4 * mib : 16 * mib;
    // Keep room for the FMA output, the copy buffer and whatever CUDA allocates on the side.
    const std::uint64_t reserve = 192 * mib + plan_transfer(mode).bytes;
    if (free_bytes <= reserve) return std::nullopt;
    const std::uint64_t fitting = (free_bytes - reserve) / 3 / mib * mib;
    const std::uint64_t bytes = std::min(wanted, fitting);
    if (bytes < minimum) return std::nullopt;
    StreamPlan plan;
    plan.elements = static_cast<std::size_t>(bytes / sizeof(float));
    plan.repetitions = quick ? 3 : 20;  // three: a median that one odd launch cannot move
    plan.warm_up = true;
    return plan;
}

std::uint32_t fma_iterations(double wanted) {
    const double clamped = std::clamp(wanted, 16.0, static_cast<double>(pattern::fma_max_iterations));
    return static_cast<std::uint32_t>(clamped) / 16 * 16;
}

FmaPlan plan_fma(Mode mode, const DeviceInfo& info, const Peaks& peaks) {
    FmaPlan plan;
    if (mode == Mode::quick) {
        plan.iterations = fma_iterations(256);
        plan.repetitions = 1;
        plan.warm_up = false;
        return plan;
    }
    plan.repetitions = 5;
    plan.warm_up = true;
    // The backend launches one thread per resident slot (SMs x threads per SM at full occupancy,
    // which the FMA kernel reaches): iterations for ~10 ms per launch at the FP32 peak.
    const double threads = std::max(1, info.multiprocessors) * static_cast<double>(std::max(256, info.max_threads_per_multiprocessor));
    double iterations = 65536;
    if (peaks.fp32_tflops) {
        constexpr double target_seconds = 0.010;
        iterations = *peaks.fp32_tflops * 1e12 * target_seconds / (2.0 * pattern::fma_accumulators * threads);
    }
    plan.iterations = fma_iterations(std::max(iterations, 4096.0));
    return plan;
}

MemtestPlan plan_memtest(std::uint64_t free_bytes, std::optional<double> bandwidth_gbps) {
    // A quarter of the free memory, and no more than the test moves in its time budget: it makes
    // eight passes over the buffer (two for address-in-address, six for the inversions). The
    // budget never cuts it below 16 MiB: a slow (or busy) GPU is tested a little longer, not skipped.
    constexpr double budget_seconds = 0.2;
    constexpr double passes = 8.0;
    std::uint64_t bytes = free_bytes / 4;
    if (bandwidth_gbps && *bandwidth_gbps > 0.0)
        bytes = std::min<std::uint64_t>(
            bytes, std::max<std::uint64_t>(16 * mib, static_cast<std::uint64_t>(*bandwidth_gbps * 1e9 * budget_seconds / passes)));
    else
        bytes = std::min<std::uint64_t>(bytes, 1024 * mib);
    bytes = bytes / mib * mib;
    return MemtestPlan{bytes < 16 * mib ? 0 : bytes};
}

TransferPlan plan_transfer(Mode mode) {
    TransferPlan plan;
    plan.bytes = mode == Mode::quick ? 4 * mib : 32 * mib;
    plan.repetitions = mode == Mode::quick ? 2 : 10;
    return plan;
}

BenchReport run_bench(Backend& backend, const BenchOptions& options, Watchdog& watchdog, Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    BenchReport report;
    report.version = GM_VERSION;
    report.mode = options.mode;
    report.cuda_support = backend.has_cuda();
    report.thresholds = options.thresholds;
    report.step_timeout_ms = static_cast<int>(options.step_timeout.count());
    const auto publish = [&] {
        report.elapsed_ms = elapsed_ms(start);
        progress.publish(report);
    };
    const auto done = [&] {
        finalize(report);
        report.elapsed_ms = elapsed_ms(start);
        progress.publish(report);
        return report;
    };
    if (!report.cuda_support) {
        report.error = no_cuda_support_failure();
        return done();
    }
    report.targets = describe_targets(backend.targets());
    report.driver_release = options.probe.driver_release();
    publish();

    InitInfo init;
    {
        const auto init_start = std::chrono::steady_clock::now();
        StepGuard guard(watchdog, Step{"CUDA initialisation", -1}, options.step_timeout);
        init = backend.init();
        report.init_ms = elapsed_ms(init_start);
    }
    report.cuda_driver_version = init.driver_version;
    report.kernels_version = init.kernels_version;
    report.device_count = init.status.ok() ? init.device_count : 0;
    if (!init.status.ok() || init.device_count <= 0) {
        CudaStatus status = init.status;
        if (status.ok()) status = CudaStatus{cuda_error::no_device, "cudaErrorNoDevice", "no CUDA-capable device is detected", "cudaGetDeviceCount"};
        report.error = classify_init_failure(status, options.probe.facts(), init.driver_version, init.kernels_version);
        return done();
    }
    publish();

    std::vector<int> selected = options.devices;
    if (selected.empty()) {
        for (int d = 0; d < init.device_count; ++d) selected.push_back(d);
    }
    for (int d : selected) {
        if (std::any_of(report.devices.begin(), report.devices.end(), [d](const DeviceReport& r) { return r.index == d; }))
            continue;  // asked twice
        const auto device_start = std::chrono::steady_clock::now();
        report.devices.emplace_back();
        DeviceReport& device = report.devices.back();
        device.index = d;
        DeviceRun run(backend, options, watchdog, report, device, publish);
        run.run();
        if (run.skipped_uuid()) {
            report.skipped.push_back(SkippedGpu{d, *run.skipped_uuid()});
            report.devices.pop_back();
            continue;
        }
        device.verdict = device_verdict(device);
        device.elapsed_ms = elapsed_ms(device_start);
        publish();
    }
    if (report.devices.empty() && !report.skipped.empty()) report.error = held_by_others_failure(report.skipped);
    compare_peers(report);
    return done();
}

}  // namespace gm::gpu
