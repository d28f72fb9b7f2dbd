#include "gitmodel/gpu/classify.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace gm::gpu;

namespace {

CudaStatus cuda(int code, const char* name) { return CudaStatus{code, name, "CUDA's text", "cuInit"}; }

// What the driver backend reports when dlopen("libcuda.so.1") fails.
CudaStatus no_library() {
    return CudaStatus{cuda_error::driver_library_missing, "libcudaNotLoadable",
                      "libcuda.so.1: cannot open shared object file: No such file or directory", "dlopen"};
}

// A machine with a working driver (module, device nodes, libcuda) and one GPU.
SystemFacts healthy() {
    SystemFacts facts;
    facts.kernel_module_loaded = true;
    facts.device_nodes_present = true;
    facts.gpu_device_nodes = 1;
    facts.driver_library_loadable = true;
    facts.gpus_seen_by_module = 1;
    facts.driver_release = "580.65.06";
    return facts;
}

using gm::test::contains;

}  // namespace

TEST_CASE("no driver at all: libcuda.so.1 cannot be loaded and no module", "[gpu]") {
    const Failure f = classify_init_failure(no_library(), SystemFacts{}, 0, 11080);
    CHECK(f.kind == FailureKind::no_driver);
    CHECK(to_string(f.kind) == "no-driver");
    CHECK(failure_class(f.kind) == FailureClass::no_gpu);
    CHECK(contains(f.message, "no NVIDIA driver"));
    CHECK(contains(f.message, "cannot open shared object file"));  // the loader's own word is kept
    CHECK_FALSE(f.hint.empty());
    CHECK(f.step == "CUDA initialisation");
    // A report of the CUDA runtime's code for the same thing reads the same.
    CHECK(classify_init_failure(cuda(cuda_error::insufficient_driver, "cudaErrorInsufficientDriver"), SystemFacts{}, 0,
                                11080).kind == FailureKind::no_driver);
}

TEST_CASE("no driver: module loaded but libcuda missing (a container without GPU access)", "[gpu]") {
    SystemFacts facts = healthy();
    facts.driver_library_loadable = false;
    const Failure f = classify_init_failure(no_library(), facts, 0, 11080);
    CHECK(f.kind == FailureKind::no_driver);
    CHECK(contains(f.message, "libcuda.so.1"));
    CHECK(contains(f.hint, "container"));
}

TEST_CASE("no driver: library present but kernel module not loaded", "[gpu]") {
    SystemFacts facts = healthy();
    facts.kernel_module_loaded = false;
    const Failure f = classify_init_failure(cuda(cuda_error::no_device, "CUDA_ERROR_NO_DEVICE"), facts, 0, 11080);
    CHECK(f.kind == FailureKind::no_driver);
    CHECK(contains(f.message, "kernel module is not loaded"));
    CHECK(contains(f.hint, "modprobe"));
    CHECK(classify_init_failure(cuda(cuda_error::unknown, "CUDA_ERROR_UNKNOWN"), facts, 0, 11080).kind ==
          FailureKind::no_driver);
    facts.cuda_visible_devices = "";  // the more direct cause wins
    CHECK(classify_init_failure(cuda(cuda_error::no_device, "CUDA_ERROR_NO_DEVICE"), facts, 0, 11080).kind ==
          FailureKind::no_device);
}

TEST_CASE("no driver: the toolkit's stub libcuda", "[gpu]") {
    const Failure f = classify_init_failure(cuda(cuda_error::stub_library, "cudaErrorStubLibrary"), healthy(), 0, 13000);
    CHECK(f.kind == FailureKind::no_driver);
    CHECK(contains(f.message, "stub"));
}

TEST_CASE("driver too old: libcuda lacks an entry point the bench uses", "[gpu]") {
    const CudaStatus status{cuda_error::driver_entry_missing, "libcudaTooOld", "libcuda.so.1 lacks cuDeviceTotalMem_v2", "dlsym"};
    const Failure f = classify_init_failure(status, healthy(), 0, 11080);
    CHECK(f.kind == FailureKind::driver_too_old);
    CHECK(to_string(f.kind) == "driver-too-old");
    CHECK(failure_class(f.kind) == FailureClass::cannot_judge);
    CHECK(contains(f.message, "580.65.06 is too old"));
    CHECK(contains(f.message, "lacks cuDeviceTotalMem_v2"));
    CHECK(contains(f.hint, "520 or newer"));
}

TEST_CASE("driver too old to JIT-compile the kernels' PTX for a GPU without SASS", "[gpu]") {
    SystemFacts facts = healthy();
    facts.driver_release = "470.256.02";
    // An r470 driver (CUDA 11.4) and a GPU that needs the PTX (ISA 7.8, CUDA 11.8).
    for (int code : {cuda_error::unsupported_ptx_version, cuda_error::no_kernel_image, cuda_error::invalid_image}) {
        const Failure f = classify_device_failure(cuda(code, "CUDA_ERROR_X"), 1, facts, 11040, 11080);
        INFO(code);
        CHECK(f.kind == FailureKind::driver_too_old);
        CHECK(f.device == 1);
        CHECK(contains(f.message, "GPU 1: the NVIDIA driver 470.256.02 supports CUDA up to 11.4"));
        CHECK(contains(f.message, "PTX built with CUDA 11.8"));
        CHECK(contains(f.hint, "520 or newer"));
    }
    // A new driver that rejects the PTX version still is too old for it.
    CHECK(classify_device_failure(cuda(cuda_error::unsupported_ptx_version, "x"), 0, healthy(), 13000, 11080).kind ==
          FailureKind::driver_too_old);
    CHECK(classify_init_failure(cuda(cuda_error::call_requires_newer_driver, "x"), healthy(), 12020, 11080).kind ==
          FailureKind::driver_too_old);
    CHECK(classify_init_failure(cuda(cuda_error::compat_not_supported_on_device, "x"), healthy(), 13000, 11080).kind ==
          FailureKind::driver_too_old);
}

TEST_CASE("no device visible: CUDA_VISIBLE_DEVICES empty", "[gpu]") {
    SystemFacts facts = healthy();
    facts.cuda_visible_devices = "";
    const Failure f = classify_init_failure(cuda(cuda_error::no_device, "cudaErrorNoDevice"), facts, 13000, 13000);
    CHECK(f.kind == FailureKind::no_device);
    CHECK(to_string(f.kind) == "no-device");
    CHECK(contains(f.message, "CUDA_VISIBLE_DEVICES is set to an empty value"));
    CHECK(contains(f.hint, "unset CUDA_VISIBLE_DEVICES"));
}

TEST_CASE("no device visible: CUDA_VISIBLE_DEVICES names no GPU", "[gpu]") {
    SystemFacts facts = healthy();
    facts.cuda_visible_devices = "GPU-nonexistent";
    facts.gpus_seen_by_module = 2;
    const Failure f = classify_init_failure(cuda(cuda_error::no_device, "cudaErrorNoDevice"), facts, 13000, 13000);
    CHECK(f.kind == FailureKind::no_device);
    CHECK(contains(f.message, "'GPU-nonexistent'"));
    CHECK(contains(f.message, "2 seen by the driver"));
}

TEST_CASE("no device visible: device nodes missing, or the driver sees none", "[gpu]") {
    SystemFacts facts = healthy();
    facts.device_nodes_present = false;
    Failure f = classify_init_failure(cuda(cuda_error::no_device, "cudaErrorNoDevice"), facts, 13000, 13000);
    CHECK(f.kind == FailureKind::no_device);
    CHECK(contains(f.message, "/dev/nvidiactl"));
    facts = healthy();
    facts.gpu_device_nodes = 0;  // nvidiactl mounted, no GPU's node
    f = classify_init_failure(cuda(cuda_error::no_device, "cudaErrorNoDevice"), facts, 13000, 13000);
    CHECK(f.kind == FailureKind::no_device);
    CHECK(contains(f.message, "/dev/nvidiaN"));
    CHECK(contains(f.hint, "container"));
    facts = healthy();
    facts.gpus_seen_by_module = 0;
    f = classify_init_failure(cuda(cuda_error::no_device, "cudaErrorNoDevice"), facts, 13000, 13000);
    CHECK(contains(f.message, "sees no GPU"));
}

TEST_CASE("GPUs the driver lists but CUDA cannot use are in a bad state", "[gpu]") {
    SystemFacts facts = healthy();
    facts.gpus_seen_by_module = 2;
    const Failure f = classify_init_failure(cuda(cuda_error::no_device, "cudaErrorNoDevice"), facts, 13000, 13000);
    CHECK(f.kind == FailureKind::device_bad_state);
    CHECK(contains(f.message, "lists 2 GPU(s) but CUDA can use none"));
    CHECK(contains(f.hint, "Xid"));
}

TEST_CASE("device busy: exclusive compute mode or memory full", "[gpu]") {
    Failure f = classify_init_failure(cuda(cuda_error::devices_unavailable, "cudaErrorDevicesUnavailable"), healthy(), 13000, 13000);
    CHECK(f.kind == FailureKind::device_busy);
    CHECK(to_string(f.kind) == "device-busy");
    CHECK(contains(f.message, "busy"));
    f = classify_device_failure(cuda(cuda_error::memory_allocation, "cudaErrorMemoryAllocation"), 2, healthy(), 13000, 13000);
    CHECK(f.kind == FailureKind::device_busy);
    CHECK(f.device == 2);
    CHECK(contains(f.message, "GPU 2: "));
}

TEST_CASE("device in a bad state", "[gpu]") {
    for (int code : {cuda_error::initialization_error, cuda_error::launch_failure, cuda_error::illegal_address,
                     cuda_error::unknown, 201 /* CUDA_ERROR_INVALID_CONTEXT */}) {
        const Failure f = classify_device_failure(cuda(code, "cudaErrorSomething"), 0, healthy(), 13000, 13000);
        CHECK(f.kind == FailureKind::device_bad_state);
        CHECK(to_string(f.kind) == "device-bad-state");
        CHECK(failure_class(f.kind) == FailureClass::broken);
        CHECK(contains(f.hint, "Xid"));
    }
    CHECK(contains(classify_init_failure(cuda(cuda_error::system_driver_mismatch, "x"), healthy(), 13000, 13000).message,
                   "different versions"));
    CHECK(contains(classify_init_failure(cuda(cuda_error::system_not_ready, "x"), healthy(), 13000, 13000).message,
                   "fabricmanager"));
}

TEST_CASE("an uncorrectable ECC error pending a reset", "[gpu]") {
    const Failure f = classify_device_failure(cuda(cuda_error::ecc_uncorrectable, "CUDA_ERROR_ECC_UNCORRECTABLE"), 3,
                                              healthy(), 12020, 11080);
    CHECK(f.kind == FailureKind::ecc_pending);
    CHECK(to_string(f.kind) == "ecc-pending");
    CHECK(failure_class(f.kind) == FailureClass::cannot_judge);
    CHECK(contains(f.message, "GPU 3: an uncorrectable ECC error is pending"));
    CHECK(contains(f.hint, "nvidia-smi -r -i 3"));
    CHECK(contains(f.hint, "PAGE_RETIREMENT"));
}

TEST_CASE("compute mode prohibited and MIG slices", "[gpu]") {
    DeviceInfo info;
    info.index = 2;
    info.name = "NVIDIA A100-SXM4-40GB";
    Failure f = compute_prohibited_failure(info);
    CHECK(to_string(f.kind) == "compute-prohibited");
    CHECK(failure_class(f.kind) == FailureClass::cannot_judge);
    CHECK(contains(f.message, "GPU 2 (NVIDIA A100-SXM4-40GB): its compute mode is Prohibited"));
    CHECK(contains(f.hint, "nvidia-smi -i 2 -c DEFAULT"));
    CHECK_FALSE(is_mig_slice(info));
    info.name = "NVIDIA A100-SXM4-40GB MIG 1g.5gb";
    CHECK(is_mig_slice(info));
    f = mig_slice_failure(info);
    CHECK(to_string(f.kind) == "mig-slice");
    CHECK(failure_class(f.kind) == FailureClass::cannot_judge);
    CHECK(contains(f.message, "is a MIG slice"));
    info.name = "NVIDIA H100 MIG";  // no profile: not a slice name
    CHECK_FALSE(is_mig_slice(info));
}

TEST_CASE("a GPU the binary has no code for", "[gpu]") {
    CHECK(classify_device_failure(cuda(cuda_error::no_kernel_image, "x"), 0, healthy(), 13000, 11080).kind ==
          FailureKind::unsupported_device);
    const Failure jit = classify_device_failure(cuda(cuda_error::jit_compiler_not_found, "x"), 0, healthy(), 13000, 11080);
    CHECK(jit.kind == FailureKind::unsupported_device);
    CHECK(contains(jit.message, "libnvidia-ptxjitcompiler.so.1"));
    DeviceInfo v100;
    v100.index = 1;
    v100.name = "Tesla V100-SXM2-32GB";
    v100.capability = {7, 0};
    const Failure f = unsupported_device_failure(v100, CompiledTargets{{"75", "90"}, {"90"}}, 13000);
    CHECK(f.kind == FailureKind::unsupported_device);
    CHECK(contains(f.message, "7.0"));
    CHECK(contains(f.message, "sm_75 sm_90 compute_90"));
    CHECK(contains(f.message, "Volta"));
}

TEST_CASE("missing device index and no CUDA support", "[gpu]") {
    Failure f = missing_device_failure(3, 2);
    CHECK(f.kind == FailureKind::no_device);
    CHECK(contains(f.message, "GPU 3 does not exist: 2 GPUs are visible (0-1)"));
    f = no_cuda_support_failure();
    CHECK(f.kind == FailureKind::no_cuda_support);
    CHECK(to_string(f.kind) == "no-cuda-support");
    CHECK(contains(f.message, "without GPU kernels"));
    CHECK(contains(f.hint, "scripts/install-deps"));
}

TEST_CASE("driver release parses from /proc/driver/nvidia/version", "[gpu]") {
    CHECK(parse_driver_release("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 07:09:57 UTC 2025\n"
                               "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n") ==
          std::optional<std::string>("580.65.06"));
    CHECK(parse_driver_release("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build\n") ==
          std::optional<std::string>("570.133.20"));
    CHECK_FALSE(parse_driver_release("garbage\n").has_value());
    CHECK_FALSE(parse_driver_release("").has_value());
}

TEST_CASE("CUDA versions and minimum drivers", "[gpu]") {
    CHECK(format_cuda_version(13000) == "13.0");
    CHECK(format_cuda_version(12020) == "12.2");
    CHECK(format_cuda_version(0) == "unknown");
    CHECK(minimum_driver_release(13000) == 580);
    CHECK(minimum_driver_release(12080) == 525);
    CHECK(minimum_driver_release(11080) == 520);
    CHECK(minimum_driver_release(11040) == 450);
    CHECK(minimum_driver_release(99000) == 0);
}

TEST_CASE("system facts come from /proc and /dev under a root", "[gpu]") {
    const auto root = std::filesystem::temp_directory_path() / "gm-gpu-facts";
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "proc/driver/nvidia/gpus/0000:19:00.0");
    std::filesystem::create_directories(root / "proc/driver/nvidia/gpus/0000:3b:00.0");
    std::filesystem::create_directories(root / "dev");
    std::ofstream(root / "proc/driver/nvidia/version") << "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  x\n";
    std::ofstream(root / "dev/nvidiactl") << "";
    std::ofstream(root / "dev/nvidia0") << "";
    std::ofstream(root / "dev/nvidia1") << "";
    std::ofstream(root / "dev/nvidia-uvm") << "";  // not a GPU
    const SystemFacts facts = gather_system_facts(root.string());
    CHECK(facts.kernel_module_loaded);
    CHECK(facts.device_nodes_present);
    CHECK(facts.gpus_seen_by_module == 2);
    CHECK(facts.gpu_device_nodes == 2);
    CHECK(facts.driver_release == "580.65.06");
    const SystemFacts empty = gather_system_facts((root / "nothing").string());
    CHECK_FALSE(empty.kernel_module_loaded);
    CHECK(empty.gpus_seen_by_module == -1);
    CHECK(empty.driver_release.empty());
    std::filesystem::remove_all(root);
}
