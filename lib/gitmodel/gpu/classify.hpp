#pragma once
// Why no GPU can be used, told apart so the message says what to do: no driver, a driver too old
// for the kernels, no device visible, a device busy or in a bad state. The classifier is a pure
// function of CUDA's error and a few facts about the system, so every case is unit-tested.

#include "gitmodel/gpu/backend.hpp"
#include "gitmodel/gpu/device.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm::gpu {

// The kinds of "cannot use the GPU", as the JSON "error.kind" spells them.
enum class FailureKind {
    no_cuda_support,     // "no-cuda-support": this binary was built without CUDA
    no_driver,           // "no-driver": no NVIDIA kernel module or no libcuda.so.1
    driver_too_old,      // "driver-too-old": the driver predates the kernels (or lacks an entry point)
    no_device,           // "no-device": the driver sees no GPU, or CUDA_VISIBLE_DEVICES hides them
    device_busy,         // "device-busy": exclusive compute mode taken, or memory full
    device_bad_state,    // "device-bad-state": Xid/ECC aftermath, driver mismatch, fabric manager down
    unsupported_device,  // "unsupported-device": the binary has no code for this GPU's architecture
    timeout,             // "timeout": a step did not finish in time (a hung GPU or driver)
    compute_prohibited,  // "compute-prohibited": the GPU's compute mode forbids every context
    ecc_pending,         // "ecc-pending": an uncorrectable ECC error waits for a GPU reset
    mig_slice,           // "mig-slice": a MIG slice, whose speed the whole GPU's peaks cannot judge
    held_by_others,      // "held-by-others": every GPU asked for is another user's (--skip-gpu), so none was touched
};

// The JSON spelling of a kind, e.g. "no-driver".
std::string_view to_string(FailureKind kind);

// What a kind says about the GPU, which decides the verdict and what the pre-push gate does.
enum class FailureClass {
    no_gpu,        // no GPU to test here: no driver, none visible, built without kernels
    cannot_judge,  // a GPU is there but the bench cannot judge it: driver too old, busy, prohibited,
                   // ECC reset pending, MIG slice, no code for it; not evidence of a broken GPU
    broken,        // the GPU or its driver is in a bad state, or hung
};

// The class of a kind.
FailureClass failure_class(FailureKind kind);

// A reason the bench could not use a GPU (or any GPU), for the verdict, the message and JSON.
struct Failure {
    FailureKind kind = FailureKind::device_bad_state;  // what went wrong, machine-readable
    std::string message;  // what went wrong, for people
    std::string hint;     // what to do about it; may be empty
    std::string step;     // the step that failed or hung, e.g. "context creation"; may be empty
    int device = -1;      // the GPU concerned; -1 when not about one GPU
};

// What the system says about the NVIDIA driver, gathered only after CUDA fails (it costs a dlopen).
struct SystemFacts {
    bool kernel_module_loaded = false;     // /proc/driver/nvidia/version exists
    bool device_nodes_present = false;     // /dev/nvidiactl exists (absent in a container without GPUs)
    int gpu_device_nodes = -1;             // /dev/nvidia0, /dev/nvidia1...: GPUs this process may open
    bool driver_library_loadable = false;  // dlopen("libcuda.so.1") works
    int gpus_seen_by_module = -1;          // entries in /proc/driver/nvidia/gpus; -1 when unknown
    std::optional<std::string> cuda_visible_devices;  // the variable's value; nullopt when unset
    std::string driver_release;            // "580.65.06", from /proc; empty when unknown
};

// Gathers the facts. root prefixes /proc and /dev (tests point it at a fake tree); the library
// probe and the environment variable are always the real ones.
SystemFacts gather_system_facts(const std::string& root = {});

// The driver release ("580.65.06") from the text of /proc/driver/nvidia/version.
std::optional<std::string> parse_driver_release(std::string_view proc_version_text);

// The driver release of this machine, read from /proc (cheap: no CUDA call); empty when unknown.
std::string read_driver_release(const std::string& root = {});

// "13.0" for CUDA's encoded version 13000; "unknown" for 0.
std::string format_cuda_version(int version);

// The oldest NVIDIA driver release that supports a CUDA version: 520 for 11.8 (PTX ISA 7.8), 450
// for the rest of 11.x, 525 for 12.x, 580 for 13.x; 0 when unknown.
int minimum_driver_release(int cuda_version);

// Classifies a failure of CUDA's initialisation (loading libcuda.so.1, cuInit, cuDeviceGetCount)
// for the whole machine. kernels_version: the CUDA version the kernels were built with (11080).
Failure classify_init_failure(const CudaStatus& status, const SystemFacts& facts, int driver_version,
                              int kernels_version);

// Classifies a failure to use one GPU (its query, context creation or kernel loading).
Failure classify_device_failure(const CudaStatus& status, int device, const SystemFacts& facts,
                                int driver_version, int kernels_version);

// The failure for a GPU whose compute mode is Prohibited.
Failure compute_prohibited_failure(const DeviceInfo& info);

// The note for a MIG slice: correctness is checked, speed is not judged.
Failure mig_slice_failure(const DeviceInfo& info);

// The failure of a binary built without CUDA.
Failure no_cuda_support_failure();

// A GPU the bench was told to leave alone (--skip-gpu: another user's lease holds it): only
// described, never given a context, so that a teammate's job keeps its memory and time.
struct SkippedGpu {
    int index = -1;    // CUDA device ordinal
    std::string uuid;  // "GPU-..."
};

// The cannot-judge failure of a run whose every GPU was skipped, naming them.
Failure held_by_others_failure(const std::vector<SkippedGpu>& skipped);

// The failure for a --device index beyond the visible GPUs.
Failure missing_device_failure(int device, int device_count);

// The failure for a GPU whose architecture the binary has no code for.
Failure unsupported_device_failure(const DeviceInfo& info, const CompiledTargets& targets, int kernels_version);

}  // namespace gm::gpu
