// The driver-API backend (gitmodel/gpu/driver_backend.cpp) against a fake libcuda.so.1
// (tests/support/fake_libcuda.cpp) that keeps "device memory" in host memory and runs the kernels'
// work on the CPU: the backend's own code (loading, launches and their arguments, copies, chunked
// read-back, the memory test's record, error paths) runs for real, through the real run_bench.

#include "gitmodel/gpu/bench.hpp"
#include "gitmodel/gpu/cuda_driver.hpp"
#include "gitmodel/gpu/driver_backend.hpp"
#include "gitmodel/gpu/json.hpp"
#include "gitmodel/gpu/pattern.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <string>

using namespace gm::gpu;

namespace {

// The fake's configuration functions, from the same loaded copy the backend uses.
struct FakeControl {
    void (*reset)() = nullptr;
    void (*set)(const char*, long long) = nullptr;

    FakeControl() {
        void* handle = ::dlopen(GM_FAKE_LIBCUDA, RTLD_NOW | RTLD_LOCAL);  // kept open: the fake's state lives on
        REQUIRE(handle != nullptr);
        reset = reinterpret_cast<void (*)()>(::dlsym(handle, "fake_cuda_reset"));
        set = reinterpret_cast<void (*)(const char*, long long)>(::dlsym(handle, "fake_cuda_set"));
        REQUIRE(reset != nullptr);
        REQUIRE(set != nullptr);
    }
};

FakeControl& fake() {
    static FakeControl control;
    return control;
}

// A stand-in fat binary: the fake checks only the magic number at its start.
alignas(8) const unsigned char fake_fatbin[16] = {0x50, 0xED, 0x55, 0xBA, 1, 0, 16, 0};

KernelImage fake_kernels() {
    KernelImage image;
    image.data = fake_fatbin;
    image.size = sizeof fake_fatbin;
    image.targets = CompiledTargets{{"70", "75", "80", "86", "89", "90"}, {"70"}};
    image.cuda_version = 11080;
    image.compiler = "NVRTC 11.8";
    return image;
}

// Runs the bench through the driver backend on the fake driver, with the fake's settings.
BenchReport run_on_fake(Mode mode, std::initializer_list<std::pair<const char*, long long>> settings = {},
                        KernelImage image = fake_kernels()) {
    fake().reset();
    for (const auto& [key, value] : settings) fake().set(key, value);
    auto backend = make_driver_backend(std::move(image), GM_FAKE_LIBCUDA);
    BenchOptions options;
    options.mode = mode;
    options.probe.facts = [] {
        SystemFacts facts;
        facts.kernel_module_loaded = facts.device_nodes_present = facts.driver_library_loadable = true;
        facts.gpus_seen_by_module = 1;
        facts.driver_release = "535.183.01";
        return facts;
    };
    options.probe.driver_release = [] { return std::string("535.183.01"); };
    options.step_timeout = std::chrono::minutes(2);  // the CPU emulates the kernels, maybe under a sanitizer
    Watchdog watchdog([](const Step&, std::chrono::milliseconds) {});
    Progress progress;
    return run_bench(*backend, options, watchdog, progress);
}

using gm::test::find_check;

using gm::test::contains;

}  // namespace

TEST_CASE("the driver library loads by name, or says why not", "[gpu][driver]") {
    const auto missing = cu::load_driver("/nonexistent/libcuda.so.1");
    CHECK_FALSE(missing.library);
    CHECK(missing.library_missing);
    CHECK(contains(missing.error, "/nonexistent/libcuda.so.1"));
    const auto old = cu::load_driver(GM_FAKE_LIBCUDA_OLD);
    CHECK_FALSE(old.library);
    CHECK_FALSE(old.library_missing);
    CHECK(contains(old.error, "lacks cuMemGetInfo_v2"));
    const auto current = cu::load_driver(GM_FAKE_LIBCUDA);
    REQUIRE(current.library);
    CHECK(current.api.cuDeviceGetUuid != nullptr);
    CHECK(current.api.cuDevicePrimaryCtxRelease != nullptr);
}

TEST_CASE("full mode through the driver backend: every kernel's result verified", "[gpu][driver]") {
    const BenchReport report = run_on_fake(Mode::full);
    INFO(render_json(report));
    CHECK(report.verdict == Verdict::pass);
    CHECK(report.cuda_driver_version == 12020);
    CHECK(report.kernels_version == 11080);
    REQUIRE(report.devices.size() == 1);
    const DeviceReport& d = report.devices[0];
    REQUIRE(d.info.has_value());
    CHECK(d.info->name == "Fake GPU");
    CHECK(format_uuid(d.info->uuid) == "GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
    CHECK(format_pci_bus_id(*d.info) == "00000000:19:00.0");
    CHECK(d.info->capability == ComputeCapability{9, 0});
    CHECK(*d.memory_free_bytes == 320ull << 20);
    for (const char* name : {"triad-result", "copy-result", "fma-result", "transfer-result", "memory-integrity"}) {
        INFO(name);
        REQUIRE(find_check(d, name) != nullptr);
        CHECK(find_check(d, name)->passed);
    }
    const auto& m = d.measurements;
    CHECK(m.stream_buffer_bytes == 32ull << 20);
    CHECK(contains(find_check(d, "triad-result")->detail, "8388608 values correct"));
    CHECK(m.fma_threads == 1 * 2 * 256);  // 1 SM x 2 resident blocks of 256
    CHECK(m.fma_iterations == 4096);
    CHECK(contains(find_check(d, "fma-result")->detail, "512 values correct"));
    CHECK(m.memtest_bytes >= 16ull << 20);
    CHECK(m.memtest_bytes <= 80ull << 20);
    CHECK(m.memtest_failures == 0);
    CHECK(m.triad_gbps.has_value());
    CHECK(m.h2d_gbps.has_value());
}

TEST_CASE("quick mode through the driver backend", "[gpu][driver]") {
    const BenchReport report = run_on_fake(Mode::quick);
    CHECK(report.devices.at(0).measurements.fma_iterations == 256);
    CHECK(find_check(report.devices[0], "fma-result")->passed);
    CHECK(find_check(report.devices[0], "memory-integrity") == nullptr);
    CHECK(find_check(report.devices[0], "triad-result")->passed);
}

TEST_CASE("a bad word of device memory is found with its offset", "[gpu][driver]") {
    const BenchReport report = run_on_fake(Mode::full, {{"bad_word", 1000}});
    CHECK(report.exit_code == 1);
    const DeviceReport& d = report.devices.at(0);
    const Check* check = find_check(d, "memory-integrity");
    REQUIRE(check != nullptr);
    CHECK_FALSE(check->passed);
    // Read wrong in all four checks: holding its address, then each step of the inversions.
    CHECK(d.measurements.memtest_failures == 4);
    REQUIRE(d.memtest_errors.size() == 4);
    CHECK(d.memtest_errors[0].offset == 8000);
    CHECK(d.memtest_errors[0].test == pattern::memtest_address_test);
    CHECK(d.memtest_errors[0].got == (d.memtest_errors[0].expected ^ 4));
    CHECK(d.memtest_errors[1].expected == pattern::memtest_pattern);
    CHECK(d.memtest_errors[2].expected == ~pattern::memtest_pattern);
    CHECK(d.memtest_errors[3].expected == pattern::memtest_pattern);
    CHECK(d.memtest_errors[3].test == pattern::memtest_inversion_test);
    CHECK(contains(check->detail, "(offset 8000)"));
}

TEST_CASE("the memory test halves its buffer when memory ran out meanwhile", "[gpu][driver]") {
    fake().reset();
    fake().set("alloc_limit_mib", 35);
    auto backend = make_driver_backend(fake_kernels(), GM_FAKE_LIBCUDA);
    REQUIRE(backend->init().status.ok());
    DeviceInfo info;
    REQUIRE(backend->describe(0, info).ok());
    std::uint64_t free_bytes = 0;
    REQUIRE(backend->open(0, 8u << 20, free_bytes).ok());
    MemtestResult result;
    REQUIRE(backend->run_memtest(MemtestPlan{80ull << 20}, result).ok());
    CHECK(result.bytes == 20ull << 20);  // 80 MiB planned, 40 refused, 20 taken
    CHECK(result.failures == 0);
    CHECK(result.ms > 0.0);
    // Below 16 MiB it gives up with the driver's error.
    fake().set("alloc_limit_mib", 10);
    const CudaStatus status = backend->run_memtest(MemtestPlan{80ull << 20}, result);
    CHECK(status.code == cuda_error::memory_allocation);
    CHECK(status.call == "cuMemAlloc");
    CHECK(backend->close().ok());
}

TEST_CASE("odd hardware through the driver backend", "[gpu][driver]") {
    BenchReport report = run_on_fake(Mode::quick, {{"compute_mode", 2}});
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.error->kind == FailureKind::compute_prohibited);

    report = run_on_fake(Mode::quick, {{"retain_result", 214}});
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.error->kind == FailureKind::ecc_pending);
    CHECK(contains(report.error->message, "CUDA_ERROR_ECC_UNCORRECTABLE"));

    report = run_on_fake(Mode::quick, {{"retain_result", 46}});
    CHECK(report.error->kind == FailureKind::device_busy);

    report = run_on_fake(Mode::quick, {{"mig", 1}});
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.error->kind == FailureKind::mig_slice);
    CHECK(find_check(report.devices.at(0), "triad-result")->passed);

    // An r470 driver (CUDA 11.4) on a GPU that needs the PTX JIT-compiled.
    report = run_on_fake(Mode::quick, {{"driver_version", 11040}, {"module_result", 222}, {"cc_major", 12}});
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.error->kind == FailureKind::driver_too_old);
    CHECK(contains(report.error->message, "supports CUDA up to 11.4"));
    CHECK(contains(report.error->hint, "520 or newer"));

    report = run_on_fake(Mode::quick, {{"cc_major", 6}});
    CHECK(report.error->kind == FailureKind::unsupported_device);

    report = run_on_fake(Mode::quick, {{"init_result", 100}, {"device_count", 0}});
    CHECK(report.verdict == Verdict::no_gpu);
}

TEST_CASE("a driver without an entry point is too old; no driver is no driver", "[gpu][driver]") {
    for (const auto& [library, kind] : {std::pair<const char*, FailureKind>{GM_FAKE_LIBCUDA_OLD, FailureKind::driver_too_old},
                                        {"/nonexistent/libcuda.so.1", FailureKind::no_driver}}) {
        auto backend = make_driver_backend(fake_kernels(), library);
        const InitInfo init = backend->init();
        CHECK_FALSE(init.status.ok());
        const Failure f = classify_init_failure(init.status, SystemFacts{}, init.driver_version, init.kernels_version);
        CHECK(f.kind == kind);
    }
}

TEST_CASE("the kernels' image reaches the driver intact; none means no kernels", "[gpu][driver]") {
    KernelImage wrong = fake_kernels();
    wrong.data = fake_fatbin + 8;  // not the start of a fat binary
    BenchReport report = run_on_fake(Mode::quick, {}, wrong);
    CHECK(report.verdict == Verdict::cannot_judge);
    CHECK(report.error->kind == FailureKind::unsupported_device);
    CHECK(contains(report.error->message, "CUDA_ERROR_INVALID_IMAGE"));

    report = run_on_fake(Mode::quick, {}, KernelImage{});
    CHECK(report.verdict == Verdict::no_gpu);
    CHECK(report.error->kind == FailureKind::no_cuda_support);
}

TEST_CASE("two GPUs of one model are compared through the driver backend", "[gpu][driver]") {
    const BenchReport report = run_on_fake(Mode::quick, {{"device_count", 2}});
    REQUIRE(report.devices.size() == 2);
    CHECK(report.verdict == Verdict::pass);  // a flag (CPU timings vary) would be a warning only
    REQUIRE(report.devices[0].peer.has_value());
    CHECK(report.devices[0].peer->peers == 1);
    CHECK(report.devices[1].peer->triad_vs_best_peer.has_value());
    CHECK_FALSE(report.devices[1].peer->fp32_vs_best_peer.has_value());  // --quick: FP32 not compared
    CHECK(format_uuid(report.devices[1].info->uuid) == "GPU-a1a2a3a4-a5a6-a7a8-a9aa-abacadaeafb0");
}
