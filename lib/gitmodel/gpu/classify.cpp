#include "gitmodel/gpu/classify.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace gm::gpu {

std::string_view to_string(FailureKind kind) {
    switch (kind) {
    case FailureKind::no_cuda_support: return "no-cuda-support";
    case FailureKind::no_driver: return "no-driver";
    case FailureKind::driver_too_old: return "driver-too-old";
    case FailureKind::no_device: return "no-device";
    case FailureKind::device_busy: return "device-busy";
    case FailureKind::device_bad_state: return "device-bad-state";
    case FailureKind::unsupported_device: return "unsupported-device";
    case FailureKind::timeout: return "timeout";
    case FailureKind::compute_prohibited: return "compute-prohibited";
    case FailureKind::ecc_pending: return "ecc-pending";
    case FailureKind::mig_slice: return "mig-slice";
    case FailureKind::held_by_others: return "held-by-others";
    }
    return "unknown";
}

FailureClass failure_class(FailureKind kind) {
    switch (kind) {
    case FailureKind::no_cuda_support:
    case FailureKind::no_driver:
    case FailureKind::no_device: return FailureClass::no_gpu;
    case FailureKind::driver_too_old:
    case FailureKind::device_busy:
    case FailureKind::unsupported_device:
    case FailureKind::compute_prohibited:
    case FailureKind::ecc_pending:
    case FailureKind::mig_slice:
    case FailureKind::held_by_others: return FailureClass::cannot_judge;
    case FailureKind::device_bad_state:
    case FailureKind::timeout: return FailureClass::broken;
    }
    return FailureClass::broken;
}

namespace {

// Whether a path exists; errors (permission) count as absent.
bool exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

// The whole content of a small file, or nullopt when unreadable.
std::optional<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Whether a token looks like a driver release: digits and dots, at least one dot ("580.65.06").
bool is_release(std::string_view token) {
    if (token.empty() || !std::isdigit(static_cast<unsigned char>(token.front()))) return false;
    bool dot = false;
    for (char c : token) {
        if (c == '.') dot = true;
        else if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return dot && token.back() != '.';
}

// "CUDA says: cudaErrorX (text)", so the raw error is never lost behind our explanation.
std::string cuda_says(const CudaStatus& status) {
    std::string out = status.name.empty() ? fmt::format("error {}", status.code) : status.name;
    if (!status.message.empty()) out += fmt::format(" ({})", status.message);
    if (!status.call.empty()) out = status.call + ": " + out;
    return out;
}

// "GPU 3: " for a device failure, nothing for the machine as a whole.
std::string prefix(int device) { return device >= 0 ? fmt::format("GPU {}: ", device) : std::string(); }

// The hint for a GPU that needs attention from its administrator.
constexpr const char* bad_state_hint =
    "check `nvidia-smi` and `dmesg` (Xid errors); resetting the GPU (`nvidia-smi -r`) or rebooting may be needed";

// The failure for "no usable driver", told apart by which half of the driver is missing.
Failure no_driver(const SystemFacts& facts, const CudaStatus& status) {
    Failure f;
    f.kind = FailureKind::no_driver;
    if (status.code == cuda_error::stub_library) {
        f.message = "no NVIDIA driver: the libcuda.so found is the CUDA toolkit's stub, not a driver";
        f.hint = "remove the toolkit's stubs directory from LD_LIBRARY_PATH, or install the NVIDIA driver";
    } else if (!facts.kernel_module_loaded && !facts.driver_library_loadable) {
        f.message = "no NVIDIA driver: the kernel module is not loaded (/proc/driver/nvidia/version is missing) "
                    "and libcuda.so.1 is not installed";
        f.hint = "run on a machine with an NVIDIA GPU and driver, or install the driver";
    } else if (!facts.driver_library_loadable) {
        f.message = "no NVIDIA driver library: the kernel module is loaded but libcuda.so.1 cannot be loaded";
        f.hint = "in a container, start it with GPU access (podman --device nvidia.com/gpu=all, docker --gpus all) "
                 "so the driver's libraries are mounted; otherwise check the driver install and `ldconfig -p`";
    } else {
        f.message = "no NVIDIA driver: libcuda.so.1 is installed but the NVIDIA kernel module is not loaded";
        f.hint = "load it (`modprobe nvidia`), or reboot after a driver install";
    }
    f.message += fmt::format("; CUDA says {}", cuda_says(status));
    return f;
}

// The failure for a driver too old for the kernels: one that lacks an entry point the bench uses
// (older than r450), or one that must JIT-compile the kernels' PTX but predates its ISA.
Failure driver_too_old(const SystemFacts& facts, const CudaStatus& status, int device, int driver_version,
                       int kernels_version) {
    Failure f;
    f.kind = FailureKind::driver_too_old;
    f.device = device;
    const std::string release = facts.driver_release.empty() ? "" : " " + facts.driver_release;
    if (status.code == cuda_error::driver_entry_missing) {
        f.message = fmt::format("the NVIDIA driver{} is too old: {}", release, status.message);
    } else if (status.code == cuda_error::compat_not_supported_on_device) {
        f.message = prefix(device) + "the CUDA forward-compatibility driver package is not supported on this GPU";
    } else if (driver_version > 0) {
        f.message = fmt::format("{}the NVIDIA driver{} supports CUDA up to {}, but this GPU needs git-model-bench's "
                                "kernels JIT-compiled from PTX built with CUDA {}",
                                prefix(device), release, format_cuda_version(driver_version),
                                format_cuda_version(kernels_version));
    } else {
        f.message = fmt::format("{}the NVIDIA driver{} is too old for git-model-bench's kernels (built with CUDA {})",
                                prefix(device), release, format_cuda_version(kernels_version));
    }
    f.message += fmt::format("; CUDA says {}", cuda_says(status));
    const int minimum = std::max(520, minimum_driver_release(kernels_version));
    f.hint = fmt::format("install NVIDIA driver release {} or newer (`nvidia-smi` shows the one installed)", minimum);
    return f;
}

// Whether a status is a failure to load the kernels' module for this GPU.
bool kernel_load_failure(const CudaStatus& status) {
    switch (status.code) {
    case cuda_error::no_kernel_image:
    case cuda_error::unsupported_ptx_version:
    case cuda_error::invalid_ptx:
    case cuda_error::invalid_image:
    case cuda_error::jit_compiler_not_found: return true;
    default: return false;
    }
}

// The failure for "the driver works but shows no GPU", told apart by CUDA_VISIBLE_DEVICES.
Failure no_device(const SystemFacts& facts, const CudaStatus& status, int device) {
    Failure f;
    f.kind = FailureKind::no_device;
    f.device = device;
    const auto& visible = facts.cuda_visible_devices;
    const bool visible_empty =
        visible && visible->find_first_not_of(" \t") == std::string::npos;
    if (visible_empty) {
        f.message = "no GPU visible: CUDA_VISIBLE_DEVICES is set to an empty value, which hides every GPU";
        f.hint = "unset CUDA_VISIBLE_DEVICES, or list the GPUs to use (CUDA_VISIBLE_DEVICES=0)";
    } else if (visible) {
        f.message = fmt::format("no GPU visible: CUDA_VISIBLE_DEVICES={} matches none of the GPUs", quote_for_message(*visible));
        if (facts.gpus_seen_by_module >= 0) f.message += fmt::format(" ({} seen by the driver)", facts.gpus_seen_by_module);
        f.hint = "list GPUs by index or UUID as `nvidia-smi -L` shows them, or unset CUDA_VISIBLE_DEVICES";
    } else if (facts.kernel_module_loaded && (!facts.device_nodes_present || facts.gpu_device_nodes == 0)) {
        f.message = fmt::format("no GPU visible: the NVIDIA driver is loaded but {} missing, so this process has no "
                                "access to the GPUs",
                                facts.device_nodes_present ? "the /dev/nvidiaN device files are" : "/dev/nvidiactl is");
        f.hint = "in a container, start it with GPU access (podman --device nvidia.com/gpu=all, docker --gpus all)";
    } else if (facts.gpus_seen_by_module == 0) {
        f.message = "no GPU visible: the NVIDIA driver is loaded but sees no GPU";
        f.hint = "check `nvidia-smi -L` and `dmesg` (a GPU that fell off the bus is reported there)";
    } else if (facts.gpus_seen_by_module > 0 && device < 0) {
        // The driver lists GPUs, nothing hides them, yet CUDA finds none: they are unusable.
        f.kind = FailureKind::device_bad_state;
        f.message = fmt::format("the NVIDIA driver lists {} GPU(s) but CUDA can use none: a GPU in a bad state "
                                "(fallen off the bus, Xid errors)?",
                                facts.gpus_seen_by_module);
        f.hint = bad_state_hint;
    } else {
        f.message = "no GPU visible to CUDA";
        f.hint = "check `nvidia-smi -L`; in a container, check that it was started with GPU access";
    }
    f.message = prefix(device) + f.message + fmt::format("; CUDA says {}", cuda_says(status));
    return f;
}

// The common classifier of init and device failures.
Failure classify(const CudaStatus& status, int device, const SystemFacts& facts, int driver_version, int kernels_version) {
    Failure f;
    f.device = device;
    if (kernel_load_failure(status)) {
        // The driver found no SASS for the GPU and could not use the PTX: with a driver older than
        // the kernels' CUDA version that is the driver's fault, else the build's or the install's.
        const bool driver_older = driver_version > 0 && driver_version < kernels_version;
        if (status.code == cuda_error::unsupported_ptx_version ||
            (driver_older && status.code != cuda_error::jit_compiler_not_found))
            return driver_too_old(facts, status, device, driver_version, kernels_version);
        f.kind = FailureKind::unsupported_device;
        if (status.code == cuda_error::jit_compiler_not_found) {
            f.message = fmt::format("{}this GPU needs git-model-bench's PTX JIT-compiled, but the driver's JIT compiler "
                                    "(libnvidia-ptxjitcompiler.so.1) is missing; CUDA says {}",
                                    prefix(device), cuda_says(status));
            f.hint = "install the driver's full user-space libraries; in a container, start it with GPU access "
                     "(podman --device nvidia.com/gpu=all, docker --gpus all) so they are mounted";
        } else {
            f.message = fmt::format("{}the driver cannot use git-model-bench's kernels for this GPU's architecture; "
                                    "CUDA says {}",
                                    prefix(device), cuda_says(status));
            f.hint = "rebuild git-model-bench with GM_BENCH_CUDA_ARCHITECTURES including this GPU's compute capability";
        }
        return f;
    }
    // libcuda.so.1 loads but the kernel module is not there: cuInit fails with one code or another
    // (unless CUDA_VISIBLE_DEVICES hides every GPU, the more direct cause).
    const bool hidden = facts.cuda_visible_devices &&
                        facts.cuda_visible_devices->find_first_not_of(" \t") == std::string::npos;
    if (device < 0 && facts.driver_library_loadable && !facts.kernel_module_loaded && !hidden &&
        (status.code == cuda_error::no_device || status.code == cuda_error::unknown ||
         status.code == cuda_error::initialization_error))
        return no_driver(facts, status);
    switch (status.code) {
    case cuda_error::driver_library_missing:
    case cuda_error::stub_library:
        return no_driver(facts, status);
    case cuda_error::insufficient_driver:
        // (The CUDA runtime's code for a missing or old libcuda.so.1; kept for reports made by one.)
        if (!facts.driver_library_loadable || !facts.kernel_module_loaded) return no_driver(facts, status);
        return driver_too_old(facts, status, device, driver_version, kernels_version);
    case cuda_error::driver_entry_missing:
    case cuda_error::call_requires_newer_driver:
    case cuda_error::compat_not_supported_on_device:
        return driver_too_old(facts, status, device, driver_version, kernels_version);
    case cuda_error::no_device:
    case cuda_error::invalid_device:
        return no_device(facts, status, device);
    case cuda_error::devices_unavailable:
        f.kind = FailureKind::device_busy;
        f.message = fmt::format("{}{} busy: its compute mode is exclusive-process and another process holds it; "
                                "CUDA says {}",
                                prefix(device), device >= 0 ? "the GPU is" : "every GPU is", cuda_says(status));
        f.hint = "see `nvidia-smi` for the processes using it and `nvidia-smi -q -d COMPUTE` for its compute mode; "
                 "try again when it is free, or pick another GPU (--device)";
        return f;
    case cuda_error::memory_allocation:
        f.kind = FailureKind::device_busy;
        f.message = fmt::format("{}out of GPU memory while creating a CUDA context: other processes fill the GPU; CUDA says {}",
                                prefix(device), cuda_says(status));
        f.hint = "see `nvidia-smi` for the processes using the GPU";
        return f;
    case cuda_error::ecc_uncorrectable:
        f.kind = FailureKind::ecc_pending;
        f.message = fmt::format("{}an uncorrectable ECC error is pending on this GPU: it must be reset before it can be "
                                "used (the reset retires the bad memory pages or remaps their rows); CUDA says {}",
                                prefix(device), cuda_says(status));
        f.hint = fmt::format("see `nvidia-smi -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER`; with nothing running on it, "
                             "reset the GPU (`sudo nvidia-smi -r{}`) or reboot; if errors come back, the GPU needs service",
                             device >= 0 ? fmt::format(" -i {}", device) : std::string());
        return f;
    case cuda_error::system_driver_mismatch:
        f.kind = FailureKind::device_bad_state;
        f.message = fmt::format("{}the NVIDIA kernel module and libcuda.so.1 are different versions "
                                "(a driver upgrade without a reboot?); CUDA says {}",
                                prefix(device), cuda_says(status));
        f.hint = "reboot, or unload and reload the NVIDIA kernel modules";
        return f;
    case cuda_error::system_not_ready:
        f.kind = FailureKind::device_bad_state;
        f.message = fmt::format("{}the GPU system is not ready: on NVSwitch systems the nvidia-fabricmanager service "
                                "must be running; CUDA says {}",
                                prefix(device), cuda_says(status));
        f.hint = "check `systemctl status nvidia-fabricmanager` and `nvidia-smi -q` (Fabric State)";
        return f;
    case cuda_error::device_not_licensed:
        f.kind = FailureKind::device_bad_state;
        f.message = fmt::format("{}the (virtual) GPU has no valid licence; CUDA says {}", prefix(device), cuda_says(status));
        f.hint = "check the vGPU licence with `nvidia-smi -q | grep -i licen`";
        return f;
    default:
        f.kind = FailureKind::device_bad_state;
        f.message = fmt::format("{}the GPU or its driver is in a bad state; CUDA says {}", prefix(device), cuda_says(status));
        f.hint = bad_state_hint;
        return f;
    }
}

}  // namespace

SystemFacts gather_system_facts(const std::string& root) {
    SystemFacts facts;
    facts.kernel_module_loaded = exists(root + "/proc/driver/nvidia/version");
    facts.device_nodes_present = exists(root + "/dev/nvidiactl");
    std::error_code ec;
    std::filesystem::directory_iterator nodes(root + "/dev", ec);
    if (!ec) {
        facts.gpu_device_nodes = 0;
        for (const auto& entry : nodes) {
            const std::string name = entry.path().filename().string();
            if (name.size() > 6 && starts_with(name, "nvidia") &&
                name.find_first_not_of("0123456789", 6) == std::string::npos)
                ++facts.gpu_device_nodes;
        }
    }
    ec.clear();
    std::filesystem::directory_iterator gpus(root + "/proc/driver/nvidia/gpus", ec);
    if (!ec) {
        facts.gpus_seen_by_module = 0;
        for (const auto& entry : gpus) {
            (void)entry;
            ++facts.gpus_seen_by_module;
        }
    }
    if (void* handle = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
        facts.driver_library_loadable = true;
        ::dlclose(handle);
    }
    if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) facts.cuda_visible_devices = visible;
    facts.driver_release = read_driver_release(root);
    return facts;
}

std::optional<std::string> parse_driver_release(std::string_view text) {
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 ..." or
    // "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build ...":
    // the first dotted number on the NVRM line.
    const auto line_end = text.find('\n');
    std::string_view line = text.substr(0, line_end);
    while (!line.empty()) {
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        const auto end = line.find_first_of(" \t");
        const auto token = line.substr(0, end);
        if (is_release(token)) return std::string(token);
        if (end == std::string_view::npos) break;
        line.remove_prefix(end);
    }
    return std::nullopt;
}

std::string read_driver_release(const std::string& root) {
    const auto text = read_small_file(root + "/proc/driver/nvidia/version");
    if (!text) return {};
    return parse_driver_release(*text).value_or("");
}

std::string format_cuda_version(int version) {
    if (version <= 0) return "unknown";
    return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

int minimum_driver_release(int cuda_version) {
    if (cuda_version >= 11080 && cuda_version < 12000) return 520;
    switch (cuda_version / 1000) {
    case 11: return 450;
    case 12: return 525;
    case 13: return 580;
    default: return 0;
    }
}

Failure classify_init_failure(const CudaStatus& status, const SystemFacts& facts, int driver_version, int kernels_version) {
    Failure f = classify(status, -1, facts, driver_version, kernels_version);
    f.step = "CUDA initialisation";
    return f;
}

Failure classify_device_failure(const CudaStatus& status, int device, const SystemFacts& facts, int driver_version,
                                int kernels_version) {
    return classify(status, device, facts, driver_version, kernels_version);
}

Failure compute_prohibited_failure(const DeviceInfo& info) {
    Failure f;
    f.kind = FailureKind::compute_prohibited;
    f.device = info.index;
    f.message = fmt::format("GPU {} ({}): its compute mode is Prohibited, so no process may use it", info.index, info.name);
    f.hint = fmt::format("an administrator allows it again with `sudo nvidia-smi -i {} -c DEFAULT`; or pick another GPU "
                         "(--device, CUDA_VISIBLE_DEVICES)", info.index);
    f.step = "device query";
    return f;
}

Failure mig_slice_failure(const DeviceInfo& info) {
    Failure f;
    f.kind = FailureKind::mig_slice;
    f.device = info.index;
    f.message = fmt::format("GPU {} ({}) is a MIG slice: its results were checked, but its speed cannot be judged "
                            "against the peaks of the whole GPU",
                            info.index, info.name);
    f.hint = fmt::format("to judge the GPU's speed, bench it whole: an administrator disables MIG on the parent GPU "
                         "(`nvidia-smi -mig 0`) when no one uses it");
    f.step = "device query";
    return f;
}

Failure no_cuda_support_failure() {
    Failure f;
    f.kind = FailureKind::no_cuda_support;
    f.message = "this git-model-bench was built without GPU kernels (no CUDA compiler was found), so it cannot test GPUs";
    f.hint = "rebuild after scripts/install-deps (NVIDIA's CUDA 11.8 compiler wheels) or with the CUDA toolkit "
             "(nvcc on PATH), and -DGM_WITH_CUDA=ON";
    return f;
}

Failure held_by_others_failure(const std::vector<SkippedGpu>& skipped) {
    Failure f;
    f.kind = FailureKind::held_by_others;
    std::string which;
    for (const auto& gpu : skipped) which += fmt::format("{}GPU {} ({})", which.empty() ? "" : ", ", gpu.index, gpu.uuid);
    f.message = fmt::format("every GPU asked for is held by another user, so none was tested: {}", which);
    f.hint = "`git model gpus` shows who holds them; the check runs on a GPU once one is free or yours";
    return f;
}

Failure missing_device_failure(int device, int device_count) {
    Failure f;
    f.kind = FailureKind::no_device;
    f.device = device;
    f.message = device_count == 1 ? fmt::format("GPU {} does not exist: 1 GPU is visible (0)", device)
                                  : fmt::format("GPU {} does not exist: {} GPUs are visible (0-{})", device, device_count,
                                                device_count - 1);
    f.hint = "pick an index that `nvidia-smi -L` lists (CUDA_VISIBLE_DEVICES renumbers them from 0)";
    f.step = "device query";
    return f;
}

Failure unsupported_device_failure(const DeviceInfo& info, const CompiledTargets& targets, int kernels_version) {
    Failure f;
    f.kind = FailureKind::unsupported_device;
    f.device = info.index;
    f.message = fmt::format("GPU {} ({}, compute capability {}) is not supported by this build: it carries code for {} only",
                            info.index, info.name, to_string(info.capability), describe_targets(targets));
    if (info.capability.major == 7 && info.capability.minor < 5 && kernels_version >= 13000)
        f.message += " (CUDA 13 dropped Volta: this build lacked NVIDIA's CUDA 11.8 compiler wheels)";
    f.hint = "rebuild git-model-bench after scripts/install-deps, with GM_BENCH_CUDA_ARCHITECTURES including this GPU";
    f.step = "device query";
    return f;
}

}  // namespace gm::gpu
