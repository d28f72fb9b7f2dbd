// Tests of the bench's host logic end to end (planning, steps, checks, verdicts, JSON, the
// command line and the time limits), driven through a fake GPU backend.

#include "gitmodel/core/error.hpp"
#include "gitmodel/gpu/backend.hpp"
#include "gitmodel/gpu/bench.hpp"
#include "gitmodel/gpu/command.hpp"
#include "gitmodel/gpu/json.hpp"
#include "gitmodel/gpu/pattern.hpp"
#include "gitmodel/gpu/result_cache.hpp"
#include "gitmodel/gpu/text_report.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

// A fake GPU backend: GPUs that exist only in memory, with knobs for every way a real one can go
// wrong (no driver, busy, wrong results, slow memory, hangs). Its results are computed from
// gitmodel/gpu/pattern.hpp like a healthy GPU's, unless a knob says otherwise.
namespace gm::gpu::testing {

// The H100 80GB HBM3 per NVIDIA's specifications (peaks 3,352 GB/s and 66.9 TFLOP/s), not read from a GPU.
DeviceInfo fake_h100(int index) {
    DeviceInfo info;
    info.index = index;
    info.name = "NVIDIA H100 80GB HBM3";
    for (std::size_t i = 0; i < info.uuid.size(); ++i) info.uuid[i] = static_cast<std::uint8_t>(16 * index + i);
    info.pci_bus = 0x19 + index;
    info.capability = {9, 0};
    info.memory_total_bytes = 85045280768ull;
    info.multiprocessors = 132;
    info.max_threads_per_multiprocessor = 2048;
    info.clock_khz = 1980000;
    info.memory_clock_khz = 2619000;
    info.memory_bus_width_bits = 5120;
    info.l2_cache_bytes = 50ull << 20;
    return info;
}

// A configurable in-memory backend.
class FakeBackend : public Backend {
public:
    bool cuda = true;                                   // has_cuda()
    InitInfo init_info{CudaStatus{}, 1, 13000, 11080};  // what init() returns
    std::vector<DeviceInfo> devices{fake_h100(0)};      // what describe() returns, by index
    std::map<int, CudaStatus> open_failures;            // open() fails for these GPUs
    std::uint64_t free_bytes = 320ull << 20;            // what open() reports (small: fast tests)
    double triad_fraction = 0.90;                       // achieved / peak bandwidth, median repetition
    double lucky = 1.05;                                // the first repetition is this much faster (the best)
    std::map<int, double> triad_fraction_of;            // per GPU, instead of triad_fraction
    double fp32_fraction = 0.85;                        // achieved / peak FP32
    double transfer_gbps = 50.0;                        // pinned copy speed
    std::map<StreamOutput, std::uint64_t> corrupt;      // a wrong value at this index of that output
    bool blind_gpu_check = false;                       // check_stream() misses the corrupt value
    std::vector<std::size_t> read_stream_counts;        // what each read_stream() asked for
    bool corrupt_fma = false;                           // thread 7's FMA result wrong
    bool drop_transfer = false;                         // the round trip loses its last value
    std::string hang_in;                                // sleep in this method ("run_stream", ...)
    std::chrono::milliseconds hang_for{300};            // for so long
    CudaStatus run_stream_failure;                      // run_stream() returns this (code != 0)
    std::vector<std::uint64_t> bad_words;               // run_memtest() reports these offsets failing
    std::vector<std::string> calls;                     // the methods called, in order

    bool has_cuda() const override { return cuda; }
    CompiledTargets targets() const override { return CompiledTargets{{"75", "80", "86", "89", "90"}, {"90"}}; }
    int kernels_cuda_version() const override { return cuda ? 11080 : 0; }

    InitInfo init() override {
        record("init");
        return init_info;
    }

    CudaStatus describe(int device, DeviceInfo& info) override {
        record("describe");
        info = devices.at(static_cast<std::size_t>(device));
        return {};
    }

    CudaStatus open(int device, std::size_t host_bytes, std::uint64_t& free) override {
        record("open");
        current_ = device;
        host_bytes_ = host_bytes;
        const auto failure = open_failures.find(device);
        if (failure != open_failures.end()) return failure->second;
        free = free_bytes;
        return {};
    }

    CudaStatus run_stream(const StreamPlan& plan, StreamTimes& times) override {
        record("run_stream");
        if (run_stream_failure.code != 0) return run_stream_failure;
        stream_plan = plan;
        const auto own = triad_fraction_of.find(current_);
        const double peak = 3352.32e9 * (own != triad_fraction_of.end() ? own->second : triad_fraction);
        const double bytes = static_cast<double>(plan.elements) * 4.0;
        for (int i = 0; i < plan.repetitions; ++i) {
            const double speed_up = i == 0 ? lucky : 1.0;
            times.triad_ms.push_back(3.0 * bytes / peak * 1e3 / speed_up);
            times.copy_ms.push_back(2.0 * bytes / peak * 1e3 / speed_up);
        }
        return {};
    }

    CudaStatus check_stream(StreamOutput output, Verification& result) override {
        record("check_stream");
        result = Verification{};
        result.checked = stream_plan.elements;
        const auto bad = corrupt.find(output);
        if (bad != corrupt.end() && bad->second < stream_plan.elements && !blind_gpu_check) {
            result.wrong = 1;
            result.first = Mismatch{bad->second, pattern::triad_result(bad->second) + 1.0f, pattern::triad_result(bad->second)};
        }
        return {};
    }

    CudaStatus read_stream(StreamOutput output, std::size_t count, const FloatSink& sink) override {
        record("read_stream");
        read_stream_counts.push_back(count);
        const std::size_t chunk = std::max<std::size_t>(1, host_bytes_ / 8);
        const std::size_t total = std::min(count, stream_plan.elements);
        std::vector<float> values;
        for (std::size_t first = 0; first < total; first += chunk) {
            const std::size_t n = std::min(chunk, total - first);
            values.resize(n);
            for (std::size_t i = 0; i < n; ++i) values[i] = pattern::triad_result(first + i);
            const auto bad = corrupt.find(output);
            if (bad != corrupt.end() && bad->second >= first && bad->second < first + n) values[bad->second - first] += 1.0f;
            sink(first, values.data(), n);
        }
        return {};
    }

    CudaStatus run_fma(const FmaPlan& plan, FmaTimes& times) override {
        record("run_fma");
        fma_plan = plan;
        times.threads = static_cast<std::uint64_t>(devices.at(static_cast<std::size_t>(current_)).multiprocessors) * 2048;
        const double flop = static_cast<double>(times.threads) * plan.iterations * pattern::fma_accumulators * 2.0;
        for (int i = 0; i < plan.repetitions; ++i) times.ms.push_back(flop / (66.90816e12 * fp32_fraction) * 1e3);
        fma_threads_ = times.threads;
        return {};
    }

    CudaStatus read_fma(const FloatSink& sink) override {
        record("read_fma");
        std::vector<float> values(fma_threads_);
        for (std::uint32_t t = 0; t < values.size(); ++t) values[t] = pattern::fma_result(t, fma_plan.iterations);
        if (corrupt_fma) values.at(7) = 0.0f;
        sink(0, values.data(), values.size());
        return {};
    }

    CudaStatus run_transfer(const TransferPlan& plan, const FloatFill& fill, TransferTimes& times) override {
        record("run_transfer");
        transfer_.assign(plan.bytes / 4, 0.0f);
        fill(0, transfer_.data(), transfer_.size());
        if (drop_transfer) transfer_.back() = 0.0f;
        for (int i = 0; i < plan.repetitions; ++i) {
            times.h2d_ms.push_back(static_cast<double>(plan.bytes) / (transfer_gbps * 1e9) * 1e3);
            times.d2h_ms.push_back(static_cast<double>(plan.bytes) / (transfer_gbps * 1e9) * 1e3);
        }
        return {};
    }

    CudaStatus read_transfer(const FloatSink& sink) override {
        record("read_transfer");
        sink(0, transfer_.data(), transfer_.size());
        return {};
    }

    CudaStatus run_memtest(const MemtestPlan& plan, MemtestResult& result) override {
        record("run_memtest");
        memtest_plan = plan;
        result = MemtestResult{};
        result.bytes = plan.bytes;
        result.ms = 5.0;
        for (std::uint64_t offset : bad_words) {
            ++result.failures;
            if (result.errors.size() < static_cast<std::size_t>(pattern::memtest_max_reported))
                result.errors.push_back(MemtestError{0x7f0000000000ull + offset, offset, pattern::memtest_pattern ^ 4,
                                                     pattern::memtest_pattern, pattern::memtest_inversion_test});
        }
        return {};
    }

    CudaStatus close() override {
        record("close");
        return {};
    }

    StreamPlan stream_plan;    // the last plan run_stream got
    FmaPlan fma_plan;          // the last plan run_fma got
    MemtestPlan memtest_plan;  // the last plan run_memtest got

private:
    // Notes a call, and sleeps there when the test asks for a hang.
    void record(const std::string& call) {
        calls.push_back(call);
        if (call == hang_in) std::this_thread::sleep_for(hang_for);
    }

    int current_ = 0;
    std::size_t host_bytes_ = 8 << 20;
    std::uint64_t fma_threads_ = 0;
    std::vector<float> transfer_;
};

}  // namespace gm::gpu::testing

using namespace gm::gpu;
using gm::gpu::testing::FakeBackend;
using gm::gpu::testing::fake_h100;

namespace {

// Facts of a machine without any NVIDIA driver.
SystemProbe no_driver_probe() {
    SystemProbe probe;
    probe.facts = [] { return SystemFacts{}; };
    probe.driver_release = [] { return std::string(); };
    return probe;
}

// Facts of a machine with a healthy driver.
SystemProbe driver_probe() {
    SystemProbe probe;
    probe.facts = [] {
        SystemFacts facts;
        facts.kernel_module_loaded = facts.device_nodes_present = facts.driver_library_loadable = true;
        facts.gpus_seen_by_module = 1;
        facts.driver_release = "580.65.06";
        return facts;
    };
    probe.driver_release = [] { return std::string("580.65.06"); };
    return probe;
}

// Runs the bench on a fake with a watchdog that must not fire.
BenchReport run(FakeBackend& backend, Mode mode, Thresholds thresholds = {}, std::vector<int> devices = {}) {
    BenchOptions options;
    options.mode = mode;
    options.devices = std::move(devices);
    options.thresholds = resolve(thresholds);
    options.probe = driver_probe();
    // Far above any step here, even verifying 256 MiB under a sanitizer on a loaded machine.
    options.step_timeout = std::chrono::minutes(2);
    Watchdog watchdog([](const Step&, std::chrono::milliseconds) {});
    Progress progress;
    BenchReport report = run_bench(backend, options, watchdog, progress);
    CHECK(watchdog.timeouts() == 0);
    return report;
}

using gm::test::find_check;

std::set<std::string> keys(const nlohmann::ordered_json& object) {
    std::set<std::string> out;
    for (const auto& item : object.items()) out.insert(item.key());
    return out;
}

using gm::test::contains;

}  // namespace

TEST_CASE("a healthy GPU passes the full bench", "[gpu]") {
    FakeBackend backend;
    backend.free_bytes = 80ull << 30;
    const BenchReport report = run(backend, Mode::full);
    CHECK(report.verdict == Verdict::pass);
    CHECK(report.exit_code == 0);
    REQUIRE(report.devices.size() == 1);
    const DeviceReport& d = report.devices[0];
    CHECK(d.verdict == Verdict::pass);
    for (const char* name : {"triad-result", "copy-result", "triad-bandwidth", "fma-result", "fp32-throughput", "transfer-result"}) {
        const Check* check = find_check(d, name);
        INFO(name);
        REQUIRE(check != nullptr);
        CHECK(check->passed);
    }
    CHECK(*d.measurements.triad_fraction == Approx(0.90));  // of the median repetition
    CHECK(*d.measurements.fp32_fraction == Approx(0.85));
    CHECK(d.measurements.h2d_gbps->best == Approx(50.0));
    CHECK(d.measurements.triad_gbps->best == Approx(d.measurements.triad_gbps->median * 1.05));  // best also reported
    CHECK(d.measurements.stream_buffer_bytes == 1024ull << 20);
    CHECK(find_check(d, "memory-integrity")->passed);
    CHECK(d.measurements.memtest_bytes == backend.memtest_plan.bytes);
    CHECK(backend.memtest_plan.bytes > 0);
    // Every element checked on the GPU, a sample recomputed on the host.
    CHECK(backend.read_stream_counts == std::vector<std::size_t>{stream_host_sample, stream_host_sample});
    CHECK(find_check(d, "triad-result")->detail ==
          fmt::format("{} values correct (all on the GPU, the first {} on the host too)", (1024u << 20) / 4, stream_host_sample));
    CHECK(backend.calls == std::vector<std::string>{"init", "describe", "open", "run_stream", "check_stream",
                                                    "check_stream", "read_stream", "read_stream",
                                                    "run_fma", "read_fma", "run_transfer", "read_transfer",
                                                    "run_memtest", "close"});
}

TEST_CASE("quick mode proves correctness and a sane bandwidth with small runs", "[gpu]") {
    FakeBackend backend;
    backend.triad_fraction = 0.3;  // small buffers reach less of the peak: still sane
    backend.free_bytes = 80ull << 30;
    const BenchReport report = run(backend, Mode::quick);
    CHECK(report.verdict == Verdict::pass);
    const DeviceReport& d = report.devices.at(0);
    CHECK(find_check(d, "fp32-throughput") == nullptr);  // not assessed in quick mode
    CHECK(find_check(d, "memory-integrity") == nullptr);  // nor is memory integrity
    CHECK(std::count(backend.calls.begin(), backend.calls.end(), "run_memtest") == 0);
    CHECK(find_check(d, "fma-result")->passed);
    CHECK(backend.stream_plan.elements == (200u << 20) / 4);  // 4 x the H100's 50 MiB L2 per buffer
    CHECK(backend.stream_plan.repetitions == 3);
    CHECK(backend.fma_plan.iterations == 256);
    CHECK(backend.fma_plan.repetitions == 1);
    CHECK(d.measurements.transfer_bytes == 4u << 20);
}

TEST_CASE("a missed bandwidth or FP32 threshold fails the verdict", "[gpu]") {
    FakeBackend backend;
    backend.triad_fraction = 0.5;
    BenchReport report = run(backend, Mode::full);
    CHECK(report.verdict == Verdict::fail);
    CHECK(report.exit_code == 1);
    const Check* bandwidth = find_check(report.devices.at(0), "triad-bandwidth");
    CHECK_FALSE(bandwidth->passed);
    CHECK(contains(bandwidth->detail, "median 1676.2 GB/s = 50.0% of the 3352.3 GB/s peak (at least 60.0% required"));

    backend = FakeBackend{};
    backend.fp32_fraction = 0.79;
    Thresholds strict;
    strict.min_fp32_fraction = 0.8;
    report = run(backend, Mode::full, strict);
    CHECK(report.exit_code == 1);
    CHECK_FALSE(find_check(report.devices.at(0), "fp32-throughput")->passed);

    backend = FakeBackend{};
    backend.triad_fraction = 0.05;  // below even the quick sanity bound
    CHECK(run(backend, Mode::quick).exit_code == 1);
}

TEST_CASE("a wrong result fails the verdict whatever the speed", "[gpu]") {
    SECTION("triad") {
        FakeBackend backend;
        backend.corrupt[StreamOutput::triad] = 12345;
        const BenchReport report = run(backend, Mode::full);
        CHECK(report.exit_code == 1);
        const Check* check = find_check(report.devices.at(0), "triad-result");
        CHECK_FALSE(check->passed);
        CHECK(contains(check->detail, "first at element 12345"));
        CHECK(find_check(report.devices.at(0), "triad-bandwidth")->passed);  // fast, yet failed
    }
    SECTION("copy") {
        FakeBackend backend;
        backend.corrupt[StreamOutput::copy] = plan_stream(Mode::quick, fake_h100(0), backend.free_bytes)->elements - 1;  // the very last element
        const BenchReport report = run(backend, Mode::quick);
        CHECK(report.exit_code == 1);
        CHECK_FALSE(find_check(report.devices.at(0), "copy-result")->passed);
    }
    SECTION("the GPU's own check missing what the host sees") {
        FakeBackend backend;
        backend.blind_gpu_check = true;
        backend.corrupt[StreamOutput::triad] = 777;  // within the host's sample
        const BenchReport report = run(backend, Mode::full);
        CHECK(report.exit_code == 1);
        const Check* check = find_check(report.devices.at(0), "triad-result");
        CHECK_FALSE(check->passed);
        CHECK(contains(check->detail, "first at element 777"));
    }
    SECTION("FMA") {
        FakeBackend backend;
        backend.corrupt_fma = true;
        CHECK(run(backend, Mode::quick).exit_code == 1);
    }
    SECTION("transfer") {
        FakeBackend backend;
        backend.drop_transfer = true;
        const BenchReport report = run(backend, Mode::quick);
        CHECK(report.exit_code == 1);
        CHECK_FALSE(find_check(report.devices.at(0), "transfer-result")->passed);
    }
}

TEST_CASE("no CUDA support answers no-gpu without touching a driver", "[gpu]") {
    FakeBackend backend;
    backend.cuda = false;
    const BenchReport report = run(backend, Mode::quick);
    CHECK(report.verdict == Verdict::no_gpu);
    CHECK(report.exit_code == 3);
    CHECK(report.error->kind == FailureKind::no_cuda_support);
    CHECK(backend.calls.empty());
}

TEST_CASE("no driver answers no-gpu with the no-driver reason", "[gpu]") {
    FakeBackend backend;
    backend.init_info = InitInfo{CudaStatus{cuda_error::insufficient_driver, "cudaErrorInsufficientDriver",
                                            "CUDA driver version is insufficient for CUDA runtime version",
                                            "cudaGetDeviceCount"},
                                 0, 0, 13000};
    BenchOptions options;
    options.mode = Mode::quick;
    options.probe = no_driver_probe();
    Watchdog watchdog([](const Step&, std::chrono::milliseconds) {});
    Progress progress;
    const BenchReport report = run_bench(backend, options, watchdog, progress);
    CHECK(report.exit_code == 3);
    CHECK(report.verdict == Verdict::no_gpu);
    CHECK(report.error->kind == FailureKind::no_driver);
    CHECK(report.devices.empty());
    CHECK(backend.calls == std::vector<std::string>{"init"});
}

TEST_CASE("zero devices, or a --device beyond them, answer no usable GPU", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 0;
    BenchReport report = run(backend, Mode::quick);
    CHECK(report.exit_code == 3);
    // driver_probe()'s driver lists one GPU: CUDA seeing none means it is in a bad state.
    CHECK(report.error->kind == FailureKind::device_bad_state);

    backend = FakeBackend{};
    report = run(backend, Mode::quick, {}, {4});
    CHECK(report.exit_code == 3);
    CHECK(report.error->kind == FailureKind::no_device);
    CHECK(contains(report.error->message, "GPU 4 does not exist"));
}

TEST_CASE("the --device option picks GPUs and queries only those", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 3;
    backend.devices = {fake_h100(0), fake_h100(1), fake_h100(2)};
    const BenchReport report = run(backend, Mode::quick, {}, {2, 2});
    REQUIRE(report.devices.size() == 1);  // asked twice, tested once
    CHECK(report.devices[0].index == 2);
    CHECK(std::count(backend.calls.begin(), backend.calls.end(), "describe") == 1);
}

TEST_CASE("the bench's --skip-gpu leaves another user's GPU alone: described, never opened, not judged", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 3;
    backend.devices = {fake_h100(0), fake_h100(1), fake_h100(2)};
    BenchOptions options;
    options.mode = Mode::quick;
    options.probe = driver_probe();
    options.step_timeout = std::chrono::minutes(2);
    options.skip_uuids = {format_uuid(fake_h100(1).uuid)};
    Watchdog watchdog([](const Step&, std::chrono::milliseconds) {});
    Progress progress;
    BenchReport report = run_bench(backend, options, watchdog, progress);
    REQUIRE(report.devices.size() == 2);  // GPUs 0 and 2 tested and passed; 1 not in the verdict
    CHECK(report.devices[0].index == 0);
    CHECK(report.devices[1].index == 2);
    REQUIRE(report.skipped.size() == 1);
    CHECK(report.skipped[0].index == 1);
    CHECK(report.skipped[0].uuid == format_uuid(fake_h100(1).uuid));
    CHECK(report.verdict == Verdict::pass);
    CHECK(std::count(backend.calls.begin(), backend.calls.end(), "open") == 2);  // no context on GPU 1
    const auto json = to_json(report);
    REQUIRE(json["skipped"].size() == 1);
    CHECK(json["skipped"][0]["uuid"] == format_uuid(fake_h100(1).uuid));
    CHECK(contains(render_text(report), "GPU 1 (" + format_uuid(fake_h100(1).uuid) + "): skipped"));

    // Every GPU someone else's: nothing tested, and the bench cannot judge (exit 3), naming them.
    backend = FakeBackend{};
    backend.init_info.device_count = 2;
    backend.devices = {fake_h100(0), fake_h100(1)};
    options.skip_uuids = {format_uuid(fake_h100(0).uuid), format_uuid(fake_h100(1).uuid)};
    report = run_bench(backend, options, watchdog, progress);
    CHECK(report.devices.empty());
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.exit_code == 3);
    REQUIRE(report.error);
    CHECK(report.error->kind == FailureKind::held_by_others);
    CHECK(contains(report.error->message, "held by another user"));
    CHECK(contains(report.error->message, format_uuid(fake_h100(1).uuid)));
    CHECK(std::count(backend.calls.begin(), backend.calls.end(), "open") == 0);
    CHECK(to_json(report)["error"]["kind"] == "held-by-others");
}

TEST_CASE("a busy GPU among good ones cannot be judged, and never fails the run", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 2;
    backend.devices = {fake_h100(0), fake_h100(1)};
    backend.open_failures[1] = CudaStatus{cuda_error::devices_unavailable, "CUDA_ERROR_DEVICE_UNAVAILABLE", "busy",
                                          "cuDevicePrimaryCtxRetain"};
    BenchReport report = run(backend, Mode::quick);
    CHECK(report.exit_code == 3);
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.devices[0].verdict == Verdict::pass);
    CHECK(report.devices[1].verdict == Verdict::cannot_judge);
    CHECK(report.devices[1].error->kind == FailureKind::device_busy);
    CHECK(report.devices[1].error->step == "context creation");
    CHECK(report.error->kind == FailureKind::device_busy);

    backend.open_failures[0] = backend.open_failures[1];
    backend.calls.clear();
    report = run(backend, Mode::quick);
    CHECK(report.exit_code == 3);
    CHECK(report.verdict == Verdict::cannot_judge);

    // A GPU in a bad state among good ones still fails the run.
    backend.open_failures.clear();
    backend.open_failures[1] = CudaStatus{cuda_error::illegal_address, "CUDA_ERROR_ILLEGAL_ADDRESS", "bad", "cuDevicePrimaryCtxRetain"};
    report = run(backend, Mode::quick);
    CHECK(report.exit_code == 1);
    CHECK(report.devices[1].verdict == Verdict::unusable);
}

TEST_CASE("capability and free-memory thresholds", "[gpu]") {
    FakeBackend backend;
    backend.free_bytes = 80ull << 30;
    Thresholds thresholds;
    thresholds.min_compute_capability = ComputeCapability{9, 0};
    thresholds.min_free_memory = 64ull << 30;
    BenchReport report = run(backend, Mode::quick, thresholds);
    CHECK(report.exit_code == 0);
    CHECK(find_check(report.devices[0], "compute-capability")->passed);
    CHECK(find_check(report.devices[0], "free-memory")->passed);

    thresholds.min_compute_capability = ComputeCapability{10, 0};
    thresholds.min_free_memory = 100ull << 30;
    report = run(backend, Mode::quick, thresholds);
    CHECK(report.exit_code == 1);
    CHECK(find_check(report.devices[0], "compute-capability")->detail == "9.0 (at least 10.0 required)");
    CHECK_FALSE(find_check(report.devices[0], "free-memory")->passed);
}

TEST_CASE("a GPU without code in the binary cannot be judged", "[gpu]") {
    FakeBackend backend;
    backend.devices[0].capability = {6, 0};
    backend.devices[0].name = "Tesla P100-SXM2-16GB";
    const BenchReport report = run(backend, Mode::quick);
    CHECK(report.exit_code == 3);
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.error->kind == FailureKind::unsupported_device);
    CHECK(std::count(backend.calls.begin(), backend.calls.end(), "open") == 0);
}

TEST_CASE("a CUDA error in a kernel step fails the GPU and releases it", "[gpu]") {
    FakeBackend backend;
    backend.run_stream_failure = CudaStatus{cuda_error::illegal_address, "cudaErrorIllegalAddress",
                                            "an illegal memory access was encountered", "cudaStreamSynchronize"};
    const BenchReport report = run(backend, Mode::quick);
    CHECK(report.exit_code == 1);
    const Check* check = find_check(report.devices[0], "cuda-error");
    REQUIRE(check != nullptr);
    CHECK(contains(check->detail, "memory bandwidth kernels: cudaErrorIllegalAddress"));
    CHECK(backend.calls.back() == "close");
    CHECK(std::count(backend.calls.begin(), backend.calls.end(), "run_fma") == 0);
}

TEST_CASE("bandwidth buffers are sized beyond L2 and within free memory", "[gpu]") {
    DeviceInfo info = fake_h100(0);
    CHECK(plan_stream(Mode::full, info, 80ull << 30)->elements == (1024u << 20) / 4);
    CHECK(plan_stream(Mode::quick, info, 80ull << 30)->elements == (200u << 20) / 4);  // 4 x L2, not 32 MiB
    info.l2_cache_bytes = 6ull << 20;  // V100: 32 MiB is already beyond 4 x L2
    CHECK(plan_stream(Mode::quick, info, 16ull << 30)->elements == (32u << 20) / 4);
    info.l2_cache_bytes = 300ull << 20;  // a future L2: 4 x L2 beyond 1 GiB
    CHECK(plan_stream(Mode::full, info, 180ull << 30)->elements == (1200u << 20) / 4);
    info.l2_cache_bytes = 126ull << 20;  // B200
    CHECK(plan_stream(Mode::full, info, 180ull << 30)->elements == (1024u << 20) / 4);
    CHECK(plan_stream(Mode::quick, info, 180ull << 30)->elements == (504u << 20) / 4);
    const auto small = plan_stream(Mode::full, info, 1ull << 30);  // 1 GiB free: shrinks
    REQUIRE(small.has_value());
    CHECK(small->elements * 4 * 3 < (1ull << 30));
    CHECK(small->elements % 4 == 0);
    CHECK_FALSE(plan_stream(Mode::full, info, 200ull << 20).has_value());
}

TEST_CASE("the FMA run lasts about 10 ms per launch at peak", "[gpu]") {
    const DeviceInfo info = fake_h100(0);
    const FmaPlan plan = plan_fma(Mode::full, info, compute_peaks(info));
    CHECK(plan.iterations % 16 == 0);
    const double seconds = 132.0 * 2048 * plan.iterations * 16 / 66.90816e12;
    CHECK(seconds == Approx(0.010).epsilon(0.01));
    CHECK(plan.iterations <= pattern::fma_max_iterations);
    CHECK(plan_fma(Mode::full, info, Peaks{}).iterations == 65536);  // no peak: a fixed size
}

TEST_CASE("FMA iterations are clamped in one place and run as planned", "[gpu]") {
    CHECK(fma_iterations(1e12) == pattern::fma_max_iterations);
    CHECK(fma_iterations(100) == 96);
    CHECK(fma_iterations(0) == 16);
    CHECK(fma_iterations(256) == 256);
    DeviceInfo tiny = fake_h100(0);
    tiny.clock_khz = 1000;  // a tiny peak wants few iterations: the plan's floor applies
    CHECK(plan_fma(Mode::full, tiny, compute_peaks(tiny)).iterations == 4096);
    FakeBackend backend;
    const BenchReport report = run(backend, Mode::full);
    const DeviceInfo info = fake_h100(0);
    CHECK(backend.fma_plan.iterations == plan_fma(Mode::full, info, compute_peaks(info)).iterations);
    CHECK(report.devices[0].measurements.fma_iterations == backend.fma_plan.iterations);
}

TEST_CASE("rates are the best and the median of the repetitions", "[gpu]") {
    const auto rate = rate_from_times(1.0, {1.0, 4.0, 2.0});
    REQUIRE(rate.has_value());
    CHECK(rate->best == Approx(1000.0));
    CHECK(rate->median == Approx(500.0));
    CHECK(rate_from_times(1.0, {2.0, 4.0})->median == Approx(375.0));
    CHECK_FALSE(rate_from_times(1.0, {}).has_value());
    CHECK_FALSE(rate_from_times(1.0, {1.0, 0.0}).has_value());
}

TEST_CASE("JSON has the documented shape", "[gpu]") {
    FakeBackend backend;
    const auto json = to_json(run(backend, Mode::full));
    CHECK(keys(json) == std::set<std::string>{"version", "mode", "verdict", "exit_code", "cuda_support", "targets",
                                              "driver_version", "cuda_driver_version", "kernels_cuda_version",
                                              "device_count", "elapsed_ms", "init_ms", "step_timeout_ms", "thresholds",
                                              "devices", "skipped", "error"});
    CHECK(json["skipped"].empty());
    CHECK(json["verdict"] == "pass");
    CHECK(json["mode"] == "full");
    CHECK(json["exit_code"] == 0);
    CHECK(json["driver_version"] == "580.65.06");
    CHECK(json["cuda_driver_version"] == "13.0");
    CHECK(json["kernels_cuda_version"] == "11.8");
    CHECK(json["error"].is_null());
    CHECK(keys(json["thresholds"]) == std::set<std::string>{"min_bandwidth_fraction", "min_quick_bandwidth_fraction",
                                                            "min_fp32_fraction", "min_compute_capability",
                                                            "min_free_memory_bytes"});
    REQUIRE(json["devices"].size() == 1);
    const auto& d = json["devices"][0];
    CHECK(keys(d) == std::set<std::string>{"index", "uuid", "name", "pci_bus_id", "compute_capability",
                                           "memory_total_bytes", "memory_free_bytes", "multiprocessors", "clock_khz",
                                           "memory_clock_khz", "memory_bus_width_bits", "l2_cache_bytes", "compute_mode",
                                           "mig_slice", "peaks", "measurements", "memtest_errors", "peer", "warnings",
                                           "checks", "verdict", "error", "elapsed_ms", "steps"});
    // Each step's time, in the order run, so that a slow run can be explained.
    std::vector<std::string> step_names;
    for (const auto& step : d["steps"]) {
        CHECK(keys(step) == std::set<std::string>{"name", "ms"});
        CHECK(step["ms"].get<double>() >= 0.0);
        step_names.push_back(step["name"]);
    }
    CHECK(step_names == std::vector<std::string>{"device query", "context creation", "memory bandwidth kernels",
                                                 "memory check", "memory read-back", "FP32 FMA kernel", "FMA read-back",
                                                 "host-device copies", "copy read-back", "memory integrity test",
                                                 "release"});
    CHECK(d["uuid"] == "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f");
    CHECK(d["compute_capability"] == "9.0");
    CHECK(d["multiprocessors"] == 132);
    CHECK(d["verdict"] == "pass");
    CHECK(keys(d["peaks"]) == std::set<std::string>{"memory_bandwidth_gbps", "fp32_tflops",
                                                    "fp32_lanes_per_multiprocessor", "fp32_lanes_estimated"});
    CHECK(d["peaks"]["memory_bandwidth_gbps"] == 3352.3);
    CHECK(keys(d["measurements"]) ==
          std::set<std::string>{"triad_gbps", "triad_gbps_median", "triad_fraction", "copy_gbps", "copy_gbps_median",
                                "copy_fraction", "h2d_gbps", "h2d_gbps_median", "d2h_gbps", "d2h_gbps_median",
                                "fp32_tflops", "fp32_tflops_median", "fp32_fraction", "stream_buffer_bytes",
                                "stream_repetitions", "transfer_bytes", "transfer_repetitions", "fma_threads",
                                "fma_iterations", "fma_repetitions", "memtest_bytes", "memtest_ms", "memtest_failures"});
    CHECK(d["measurements"]["triad_fraction"] == 0.9);
    CHECK(d["measurements"]["triad_gbps"].is_number());
    for (const auto& check : d["checks"]) {
        CHECK(keys(check) == std::set<std::string>{"name", "passed", "detail"});
        CHECK(check["passed"].is_boolean());
    }
    // Round-trips through text.
    CHECK(nlohmann::ordered_json::parse(render_json(run(backend, Mode::quick)))["mode"] == "quick");
}

TEST_CASE("JSON of a run without a GPU", "[gpu]") {
    FakeBackend backend;
    backend.cuda = false;
    const auto json = to_json(run(backend, Mode::quick));
    CHECK(json["verdict"] == "no-gpu");
    CHECK(json["exit_code"] == 3);
    CHECK(json["cuda_support"] == false);
    CHECK(json["devices"].is_array());
    CHECK(json["devices"].empty());
    CHECK(json["kernels_cuda_version"].is_null());
    REQUIRE(json["error"].is_object());
    CHECK(keys(json["error"]) == std::set<std::string>{"kind", "message", "hint", "step", "device"});
    CHECK(json["error"]["kind"] == "no-cuda-support");
    CHECK(json["error"]["device"].is_null());
}

TEST_CASE("JSON of an unusable GPU has nulls where nothing was measured", "[gpu]") {
    FakeBackend backend;
    backend.open_failures[0] = CudaStatus{cuda_error::launch_failure, "CUDA_ERROR_LAUNCH_FAILED", "bad", "cuDevicePrimaryCtxRetain"};
    const auto json = to_json(run(backend, Mode::quick));
    CHECK(json["verdict"] == "no-gpu");
    const auto& d = json["devices"][0];
    CHECK(d["verdict"] == "unusable");
    CHECK(d["error"]["kind"] == "device-bad-state");
    CHECK(d["error"]["step"] == "context creation");
    CHECK(d["measurements"]["triad_gbps"].is_null());
    CHECK(d["measurements"]["fp32_fraction"].is_null());
    CHECK(d["memory_free_bytes"].is_null());
    CHECK(d["name"] == "NVIDIA H100 80GB HBM3");
}

TEST_CASE("the command line parses", "[gpu]") {
    CommandLine line = parse_command_line({"--quick", "--json", "--device", "0,2", "--device=5",
                                           "--min-bandwidth-fraction=85%", "--min-fp32-fraction", "0.7",
                                           "--min-quick-bandwidth-fraction", "0.2", "--min-compute-capability", "8.0",
                                           "--min-free-memory", "8g", "--timeout-ms", "2500"});
    CHECK(line.mode == Mode::quick);
    CHECK(line.json);
    CHECK(line.devices == std::vector<int>{0, 2, 5});
    CHECK(*line.thresholds.min_bandwidth_fraction == Approx(0.85));
    CHECK(*line.thresholds.min_fp32_fraction == Approx(0.7));
    CHECK(*line.thresholds.min_quick_bandwidth_fraction == Approx(0.2));
    CHECK(line.thresholds.min_compute_capability == std::optional<ComputeCapability>(ComputeCapability{8, 0}));
    CHECK(line.thresholds.min_free_memory == std::optional<std::uint64_t>(8ull << 30));
    CHECK(line.step_timeout == std::optional<std::chrono::milliseconds>(2500));
    CHECK(parse_command_line({}).mode == Mode::full);
    // --skip-gpu: UUIDs as a lease names them, in nvidia-smi's lower case whatever was typed.
    CHECK(parse_command_line({"--skip-gpu", "GPU-A0A1A2A3-a4a5-a6a7-a8a9-aaabacadaeaf,GPU-00000000-0000-0000-0000-000000000001",
                              "--skip-gpu=GPU-11111111-0000-0000-0000-000000000000"})
              .skip_uuids == std::vector<std::string>{"GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf",
                                                      "GPU-00000000-0000-0000-0000-000000000001",
                                                      "GPU-11111111-0000-0000-0000-000000000000"});
    CHECK(parse_command_line({"-h"}).help);
    CHECK(parse_command_line({"--version"}).version);
}

TEST_CASE("command-line misuse is a usage error with a suggestion", "[gpu]") {
    const auto usage_message = [](std::vector<std::string> args) {
        try {
            parse_command_line(args);
        } catch (const gm::UsageError& e) {
            CHECK(e.code() == gm::ExitCode::usage);
            return std::string(e.what()) + " | " + e.hint();
        }
        return std::string("no error");
    };
    CHECK(contains(usage_message({"--quik"}), "did you mean --quick?"));
    CHECK(contains(usage_message({"--devices", "0"}), "did you mean --device?"));
    CHECK(contains(usage_message({"--device"}), "--device needs a value"));
    CHECK(contains(usage_message({"--device", "x"}), "invalid value 'x' for --device"));
    CHECK(contains(usage_message({"--device", "-1"}), "invalid value"));
    CHECK(contains(usage_message({"--min-bandwidth-fraction", "1.5"}), "a fraction between 0 and 1"));
    CHECK(contains(usage_message({"--min-free-memory", "lots"}), "a size such as 8g"));
    CHECK(contains(usage_message({"--min-compute-capability", "eight"}), "compute capability"));
    CHECK(contains(usage_message({"--timeout-ms", "0"}), "milliseconds"));
    CHECK(contains(usage_message({"extra"}), "unexpected argument 'extra'"));
    CHECK(contains(usage_message({"--skip-gpu", "1"}), "a GPU's UUID"));
    CHECK(contains(usage_message({"--skip-gpu", "GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf,"}), "a GPU's UUID"));
    CHECK(contains(usage_message({"--skip-gpu", "MIG-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf"}), "a GPU's UUID"));
}

TEST_CASE("the command prints a table, JSON, help and version", "[gpu]") {
    FakeBackend backend;
    std::ostringstream out, err;
    int exited = -1;
    const CommandIo io{out, err, [&](int code) { exited = code; }};
    CHECK(run_bench_command({"--quick"}, backend, {}, io) == 0);
    CHECK(contains(out.str(), "GPU 0  NVIDIA H100 80GB HBM3  GPU-00010203-0405-0607-0809-0a0b0c0d0e0f"));
    CHECK(contains(out.str(), "triad"));
    CHECK(contains(out.str(), "verdict: pass"));
    CHECK(err.str().empty());

    out.str("");
    CHECK(run_bench_command({"--json"}, backend, {}, io) == 0);
    CHECK(nlohmann::json::parse(out.str())["verdict"] == "pass");

    out.str("");
    CHECK(run_bench_command({"-h"}, backend, {}, io) == 0);
    CHECK(contains(out.str(), "usage: git model bench"));
    out.str("");
    CHECK(run_bench_command({"--version"}, backend, {}, io) == 0);
    CHECK(contains(out.str(), "kernels built with CUDA 11.8, code for sm_75 sm_80 sm_86 sm_89 sm_90 compute_90"));
    CHECK(exited == -1);
}

TEST_CASE("file thresholds apply unless a flag overrides them", "[gpu]") {
    FakeBackend backend;
    backend.triad_fraction = 0.7;
    std::ostringstream out, err;
    const CommandIo io{out, err, [](int) {}};
    Thresholds file;
    file.min_bandwidth_fraction = 0.8;
    CHECK(run_bench_command({}, backend, file, io) == 1);
    CHECK(run_bench_command({"--min-bandwidth-fraction", "0.65"}, backend, file, io) == 0);
}

TEST_CASE("without a GPU the command explains why on stderr and exits 3", "[gpu]") {
    FakeBackend backend;
    backend.cuda = false;
    std::ostringstream out, err;
    const CommandIo io{out, err, [](int) {}};
    CHECK(run_bench_command({"--quick"}, backend, {}, io) == 3);
    CHECK(out.str().empty());
    CHECK(contains(err.str(), "git-model-bench: error: this git-model-bench was built without GPU kernels"));
    CHECK(contains(err.str(), "hint: "));
    out.str("");
    CHECK(run_bench_command({"--quick", "--json"}, backend, {}, io) == 3);
    CHECK(nlohmann::json::parse(out.str())["verdict"] == "no-gpu");
}

TEST_CASE("a hung step ends the run with a failure naming the step", "[gpu]") {
    FakeBackend backend;
    backend.hang_in = "run_stream";
    backend.hang_for = std::chrono::milliseconds(400);
    std::ostringstream out, err;
    int exited = -1;
    const CommandIo io{out, err, [&](int code) { exited = code; }};
    // The fake returns after its "hang", so the command goes on and prints again after the
    // handler: only the handler's output (the first JSON document) matters here.
    run_bench_command({"--quick", "--json", "--timeout-ms", "50"}, backend, {}, io);
    CHECK(exited == 1);
    std::istringstream first_document(out.str());
    nlohmann::json json;
    first_document >> json;
    CHECK(json["verdict"] == "fail");
    CHECK(json["exit_code"] == 1);
    CHECK(json["error"]["kind"] == "timeout");
    CHECK(json["error"]["step"] == "memory bandwidth kernels");
    CHECK(json["error"]["device"] == 0);
    REQUIRE(json["devices"].size() == 1);
    CHECK(json["devices"][0]["name"] == "NVIDIA H100 80GB HBM3");  // what was known before the hang
    CHECK(json["devices"][0]["verdict"] == "fail");
    CHECK(contains(err.str(), "GPU 0: step 'memory bandwidth kernels' did not finish within 50 ms"));
}

TEST_CASE("a hang in CUDA initialisation is reported too", "[gpu]") {
    FakeBackend backend;
    backend.hang_in = "init";
    backend.hang_for = std::chrono::milliseconds(300);
    std::ostringstream out, err;
    int exited = -1;
    const CommandIo io{out, err, [&](int code) { exited = code; }};
    run_bench_command({"--quick", "--timeout-ms", "40"}, backend, {}, io);
    CHECK(exited == 1);
    CHECK(contains(err.str(), "step 'CUDA initialisation' did not finish within 40 ms"));
}

TEST_CASE("the table shows unusable GPUs with their reason", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 2;
    backend.devices = {fake_h100(0), fake_h100(1)};
    backend.open_failures[1] = CudaStatus{cuda_error::devices_unavailable, "CUDA_ERROR_DEVICE_UNAVAILABLE", "busy", "x"};
    std::string text = render_text(run(backend, Mode::quick));
    CHECK(contains(text, "GPU 1  NVIDIA H100 80GB HBM3"));
    CHECK(contains(text, "  cannot judge: GPU 1: the GPU is busy"));
    CHECK(contains(text, "verdict: cannot-judge"));
    backend.open_failures[1] = CudaStatus{cuda_error::launch_failure, "CUDA_ERROR_LAUNCH_FAILED", "bad", "x"};
    text = render_text(run(backend, Mode::quick));
    CHECK(contains(text, "  unusable: GPU 1: the GPU or its driver is in a bad state"));
    CHECK(contains(text, "verdict: fail"));
}

TEST_CASE("every JSON key is documented in the README and the writer's header", "[gpu]") {
    FakeBackend backend;
    backend.open_failures[0] = CudaStatus{cuda_error::ecc_uncorrectable, "CUDA_ERROR_ECC_UNCORRECTABLE", "ecc", "x"};
    std::set<std::string> all;
    const std::function<void(const nlohmann::ordered_json&)> collect = [&](const nlohmann::ordered_json& j) {
        if (j.is_object()) {
            for (const auto& item : j.items()) {
                all.insert(item.key());
                collect(item.value());
            }
        } else if (j.is_array()) {
            for (const auto& item : j) collect(item);
        }
    };
    collect(to_json(run(backend, Mode::quick)));  // with a device error object
    backend = FakeBackend{};
    backend.init_info.device_count = 2;
    backend.devices = {fake_h100(0), fake_h100(1)};
    backend.bad_words = {8};
    collect(to_json(run(backend, Mode::full)));   // with every measurement, peers and a memory error
    REQUIRE(all.size() > 50);
    for (const char* path : {"/git-model-bench/README.md", "/lib/gitmodel/gpu/json.hpp"}) {
        std::ifstream in(std::string(GM_SOURCE_DIR) + path);
        REQUIRE(in.good());
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& key : all) {
            INFO(path << " lacks \"" << key << "\"");
            CHECK(contains(text, "\"" + key + "\""));
        }
    }
}

TEST_CASE("pass or fail is judged on the median repetition, not the best", "[gpu]") {
    // Regression: one lucky launch at 82.5% of the peak used to pass a GPU slow the rest of the time.
    FakeBackend backend;
    backend.triad_fraction = 0.55;
    backend.lucky = 1.5;
    const BenchReport report = run(backend, Mode::full);
    CHECK(report.exit_code == 1);
    const DeviceReport& d = report.devices.at(0);
    CHECK_FALSE(find_check(d, "triad-bandwidth")->passed);
    CHECK(d.measurements.triad_gbps->best / 3352.32 == Approx(0.825).epsilon(0.001));
    CHECK(*d.measurements.triad_fraction == Approx(0.55).epsilon(0.001));
}

TEST_CASE("the memory integrity test runs in full mode and reports failing addresses", "[gpu]") {
    FakeBackend backend;
    backend.free_bytes = 80ull << 30;
    BenchReport report = run(backend, Mode::full);
    const DeviceReport* d = &report.devices.at(0);
    const Check* check = find_check(*d, "memory-integrity");
    REQUIRE(check != nullptr);
    CHECK(check->passed);
    CHECK(contains(check->detail, "address-in-address, moving inversions"));
    CHECK(contains(check->detail, "no errors"));
    // Bounded: a quarter of free memory at most, and what 8 passes move in 0.2 s at the measured bandwidth.
    const double median_gbps = d->measurements.triad_gbps->median;
    CHECK(backend.memtest_plan.bytes <= (80ull << 30) / 4);
    CHECK(static_cast<double>(backend.memtest_plan.bytes) * 8 / (median_gbps * 1e9) <= 0.2);
    CHECK(backend.memtest_plan.bytes > (8ull << 30));

    backend.bad_words = {4096, 8, 1ull << 30};
    report = run(backend, Mode::full);
    d = &report.devices.at(0);
    CHECK(report.exit_code == 1);
    check = find_check(*d, "memory-integrity");
    CHECK_FALSE(check->passed);
    CHECK(contains(check->detail, "3 wrong read(s); first at address 0x7f0000001000 (offset 4096): read 0x5555555555555551, "
                                  "expected 0x5555555555555555 (moving inversions)"));
    CHECK(d->measurements.memtest_failures == 3);
    const auto json = to_json(report);
    REQUIRE(json["devices"][0]["memtest_errors"].size() == 3);
    CHECK(json["devices"][0]["memtest_errors"][2]["offset"] == (1ull << 30));
    CHECK(json["devices"][0]["memtest_errors"][0]["address"] == "0x00007f0000001000");
    CHECK(json["devices"][0]["memtest_errors"][0]["test"] == "moving-inversions");
    CHECK(contains(render_text(report), "also at 0x7f0000000008 (offset 8)"));
}

TEST_CASE("memory test plans stay within free memory and time", "[gpu]") {
    CHECK(plan_memtest(80ull << 30, 3000.0).bytes == 20ull << 30);  // a quarter of free memory: 8 passes in 57 ms
    CHECK(plan_memtest(400ull << 30, 3000.0).bytes == std::uint64_t(3000e9 * 0.2 / 8) >> 20 << 20);  // the 0.2 s bound
    CHECK(plan_memtest(1ull << 30, 3000.0).bytes == 256ull << 20);  // a quarter of free memory
    CHECK(plan_memtest(80ull << 30, std::nullopt).bytes == 1024ull << 20);
    CHECK(plan_memtest(40ull << 20, 3000.0).bytes == 0);  // under 16 MiB: not run
    CHECK(plan_memtest(320ull << 20, 0.5).bytes == 16ull << 20);  // a slow GPU is still tested (16 MiB), not skipped
}

TEST_CASE("a GPU more than 10% below its best peer of the same model is flagged", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 4;
    backend.devices = {fake_h100(0), fake_h100(1), fake_h100(2), fake_h100(3)};
    backend.triad_fraction_of[2] = 0.75;  // 0.75 / 0.90: 16.7% below its peers, yet above the 60% threshold
    backend.triad_fraction_of[3] = 0.83;  // 7.8% below: within the margin
    const BenchReport report = run(backend, Mode::full);
    CHECK(report.exit_code == 0);  // a flag is a warning, not a failure
    REQUIRE(report.devices.size() == 4);
    const auto& slow = report.devices[2];
    REQUIRE(slow.peer.has_value());
    CHECK(slow.peer->peers == 3);
    CHECK(slow.peer->flagged);
    CHECK(*slow.peer->triad_vs_best_peer == Approx(0.75 / 0.90));
    CHECK(*slow.peer->fp32_vs_best_peer == Approx(1.0));
    REQUIRE(slow.warnings.size() == 1);
    CHECK(contains(slow.warnings[0], "memory bandwidth is 16.7% below the best other NVIDIA H100 80GB HBM3"));
    CHECK_FALSE(report.devices[3].peer->flagged);
    CHECK(report.devices[3].warnings.empty());
    CHECK_FALSE(report.devices[0].peer->flagged);
    const auto json = to_json(report);
    CHECK(json["devices"][2]["peer"]["flagged"] == true);
    CHECK(json["devices"][2]["warnings"].size() == 1);
    CHECK(json["devices"][1]["peer"]["flagged"] == false);
    CHECK(contains(render_text(report), "  warning: memory bandwidth is 16.7% below"));
}

TEST_CASE("GPUs of different models, or alone, are not compared", "[gpu]") {
    FakeBackend backend;
    backend.init_info.device_count = 2;
    DeviceInfo other = fake_h100(1);
    other.name = "NVIDIA A100-SXM4-80GB";
    backend.devices = {fake_h100(0), other};
    backend.triad_fraction_of[1] = 0.65;
    BenchReport report = run(backend, Mode::full);
    CHECK_FALSE(report.devices[0].peer.has_value());
    CHECK_FALSE(report.devices[1].peer.has_value());
    backend = FakeBackend{};
    report = run(backend, Mode::quick);
    CHECK_FALSE(report.devices[0].peer.has_value());
    CHECK(to_json(report)["devices"][0]["peer"].is_null());
}

TEST_CASE("odd hardware gets its own verdict: prohibited, ECC pending, MIG slice", "[gpu]") {
    SECTION("compute mode prohibited: no context is even tried") {
        FakeBackend backend;
        backend.devices[0].compute_mode = compute_mode_prohibited;
        const BenchReport report = run(backend, Mode::quick);
        CHECK(report.exit_code == 3);
        CHECK(report.verdict == Verdict::cannot_judge);
        CHECK(report.error->kind == FailureKind::compute_prohibited);
        CHECK(std::count(backend.calls.begin(), backend.calls.end(), "open") == 0);
        CHECK(to_json(report)["verdict"] == "cannot-judge");
    }
    SECTION("an uncorrectable ECC error pending at context creation") {
        FakeBackend backend;
        backend.open_failures[0] = CudaStatus{cuda_error::ecc_uncorrectable, "CUDA_ERROR_ECC_UNCORRECTABLE", "ecc",
                                              "cuDevicePrimaryCtxRetain"};
        const BenchReport report = run(backend, Mode::quick);
        CHECK(report.exit_code == 3);
        CHECK(report.verdict == Verdict::cannot_judge);
        CHECK(report.devices[0].verdict == Verdict::cannot_judge);
        CHECK(report.error->kind == FailureKind::ecc_pending);
    }
    SECTION("a MIG slice: correctness checked, speed not judged") {
        FakeBackend backend;
        backend.devices[0].name = "NVIDIA H100 80GB HBM3 MIG 1g.10gb";
        backend.triad_fraction = 0.12;  // a slice's share of the whole GPU's bandwidth
        BenchReport report = run(backend, Mode::full);
        CHECK(report.exit_code == 3);
        CHECK(report.verdict == Verdict::cannot_judge);
        const DeviceReport& d = report.devices[0];
        CHECK(d.error->kind == FailureKind::mig_slice);
        CHECK(find_check(d, "triad-result")->passed);
        CHECK(find_check(d, "triad-bandwidth")->passed);
        CHECK(contains(find_check(d, "triad-bandwidth")->detail, "MIG slice"));
        CHECK_FALSE(d.measurements.triad_fraction.has_value());
        CHECK(find_check(d, "memory-integrity")->passed);
        CHECK(contains(render_text(report), "cannot judge: GPU 0 (NVIDIA H100 80GB HBM3 MIG 1g.10gb) is a MIG slice"));
        // A wrong result on a slice is still a failure.
        backend.corrupt[StreamOutput::triad] = 5;
        report = run(backend, Mode::quick);
        CHECK(report.exit_code == 1);
        CHECK(report.devices[0].verdict == Verdict::fail);
    }
}

TEST_CASE("the results cache keeps each GPU's last result by UUID and mode (--results-cache)", "[gpu]") {
    const auto dir = std::filesystem::temp_directory_path() / ("gm-results-cache-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const auto file = dir / "lease-book" / "bench-results.json";
    std::ostringstream out, err;
    const CommandIo io{out, err, [](int) {}};

    FakeBackend backend;
    backend.init_info.device_count = 2;
    backend.devices = {fake_h100(0), fake_h100(1)};
    CHECK(run_bench_command({"--json", "--results-cache", file.string()}, backend, {}, io) == 0);
    auto cache = read_result_cache(file);
    REQUIRE(cache.size() == 2);
    const std::string uuid0 = format_uuid(fake_h100(0).uuid);
    REQUIRE(cache[uuid0].count("full") == 1);
    const CachedResult& full = cache[uuid0]["full"];
    CHECK(full.name == "NVIDIA H100 80GB HBM3");
    CHECK(full.compute_capability == "9.0");
    CHECK(full.pci_bus_id == "00000000:19:00.0");
    CHECK(full.driver_version == read_driver_release());  // the command reads the real machine's
    CHECK(full.cuda_driver_version == "13.0");
    CHECK(full.kernels_cuda_version == "11.8");
    CHECK(full.verdict == "pass");
    CHECK(*full.triad_fraction == Approx(0.90).epsilon(0.001));
    CHECK(*full.fp32_fraction == Approx(0.85).epsilon(0.001));
    CHECK(full.time > 1700000000);

    // A quick run of GPU 1 alone adds its quick result and keeps everything else.
    backend.triad_fraction = 0.3;
    CHECK(run_bench_command({"--quick", "--device", "1", "--results-cache", file.string()}, backend, {}, io) == 0);
    cache = read_result_cache(file);
    CHECK(cache[uuid0].count("full") == 1);
    CHECK(cache[uuid0].count("quick") == 0);
    const std::string uuid1 = format_uuid(fake_h100(1).uuid);
    REQUIRE(cache[uuid1].count("quick") == 1);
    CHECK(*cache[uuid1]["quick"].triad_fraction == Approx(0.3).epsilon(0.001));
    CHECK_FALSE(cache[uuid1]["quick"].fp32_fraction.has_value());
    CHECK(cache[uuid1].count("full") == 1);
    CHECK(err.str().empty());
    // Only the cache and its lock are left in the folder: no temporary file.
    int entries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(file.parent_path())) {
        INFO(entry.path());
        CHECK((entry.path() == file || entry.path().string() == file.string() + ".lock"));
        ++entries;
    }
    CHECK(entries == 2);

    // A file that is not a cache is replaced; one that cannot be written is a warning, not a failure.
    std::ofstream(file) << "not json";
    CHECK(read_result_cache(file).empty());
    CHECK(run_bench_command({"--quick", "--results-cache", file.string()}, backend, {}, io) == 0);
    CHECK(read_result_cache(file).size() == 2);
    const auto blocked = dir / "a-file";
    std::ofstream(blocked) << "x";
    CHECK(run_bench_command({"--quick", "--results-cache", (blocked / "cache.json").string()}, backend, {}, io) == 0);
    CHECK(contains(err.str(), "git-model-bench: warning: could not update the results cache"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("by default results go to the user's file of the lease book, else the user's cache", "[gpu]") {
    const auto dir = std::filesystem::temp_directory_path() / ("gm-results-home-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "book");
    std::ostringstream out, err;
    const CommandIo io{out, err, [](int) {}};
    FakeBackend backend;
    ResultsHome home{dir / "book", dir / "cache" / "bench-results.json"};
    const std::string uuid0 = format_uuid(fake_h100(0).uuid);

    CHECK(run_bench_command({"--quick"}, backend, {}, io, home) == 0);
    const auto shared = read_shared_results(dir / "book");
    CHECK(shared.warnings.empty());
    REQUIRE(shared.results.count(uuid0));
    CHECK(shared.results.at(uuid0).count("quick") == 1);
    CHECK(std::filesystem::exists(dir / "book" / "bench-results" / shared_results_name(::geteuid())));
    CHECK_FALSE(std::filesystem::exists(home.own_file.value()));

    // --no-results-cache keeps nothing; --results-cache FILE wins over the default.
    std::filesystem::remove_all(dir / "book" / "bench-results");
    CHECK(run_bench_command({"--quick", "--no-results-cache"}, backend, {}, io, home) == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "book" / "bench-results"));
    CHECK(run_bench_command({"--quick", "--results-cache", (dir / "mine.json").string()}, backend, {}, io, home) == 0);
    CHECK(read_result_cache(dir / "mine.json").count(uuid0));
    CHECK_FALSE(std::filesystem::exists(dir / "book" / "bench-results"));
    CHECK_THROWS_AS(parse_command_line({"--no-results-cache", "--results-cache", "x"}), gm::UsageError);

    // No book: the user's own cache file.
    home.book = dir / "no-book";
    CHECK(run_bench_command({"--quick"}, backend, {}, io, home) == 0);
    CHECK(read_result_cache(home.own_file.value()).count(uuid0));
    CHECK(err.str().empty());

    // A report of a bench run elsewhere (env up --check, inside the container) gives the same results.
    out.str("");
    CHECK(run_bench_command({"--json", "--no-results-cache"}, backend, {}, io, home) == 0);
    const auto from_report = cached_results_from_report(nlohmann::json::parse(out.str()), 1234);
    REQUIRE(from_report.size() == 1);
    CHECK(from_report[0].uuid == uuid0);
    CHECK(from_report[0].mode == Mode::full);
    CHECK(from_report[0].time == 1234);
    CHECK(from_report[0].name == "NVIDIA H100 80GB HBM3");
    CHECK(from_report[0].cuda_driver_version == "13.0");
    CHECK(*from_report[0].triad_fraction == Approx(0.90).epsilon(0.001));
    CHECK(*from_report[0].fp32_fraction == Approx(0.85).epsilon(0.001));
    CHECK(from_report[0].triad_gbps.has_value());
    CHECK(cached_results_from_report(nlohmann::json::parse("{\"devices\": [{\"uuid\": null}]}"), 1).empty());
    CHECK(keep_results_at_home(home, from_report) == home.own_file);  // still no book: the user's file
    CHECK(read_result_cache(home.own_file.value()).at(uuid0).at("full").time == 1234);

    // A link planted at the user's results file is not followed: a warning, the same verdict.
    home.book = dir / "book";
    std::filesystem::create_directories(dir / "book" / "bench-results");
    std::ofstream(dir / "target") << "precious";
    std::filesystem::create_symlink(dir / "target", dir / "book" / "bench-results" / shared_results_name(::geteuid()));
    CHECK(run_bench_command({"--quick"}, backend, {}, io, home) == 0);
    CHECK(contains(err.str(), "warning: could not update the results cache"));
    CHECK(contains(err.str(), "symbolic link"));
    std::ifstream in(dir / "target");
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "precious");
    std::filesystem::remove_all(dir);
}
