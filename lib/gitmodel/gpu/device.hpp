#pragma once
// What the bench knows about one GPU, as plain data: the CUDA backend fills it, the host logic
// (peaks, checks, output) reads it. No CUDA header, so the logic is testable without a toolkit.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm::gpu {

// A GPU's compute capability (major.minor), which decides code compatibility and cores per SM.
struct ComputeCapability {
    int major = 0;  // architecture generation, e.g. 9 for Hopper
    int minor = 0;  // variant within the generation
};

// Ordering, so thresholds can say "at least 8.0".
bool operator<(ComputeCapability a, ComputeCapability b);
// Equality, for tests and table look-ups.
bool operator==(ComputeCapability a, ComputeCapability b);
// The complement of ==, for symmetry.
bool operator!=(ComputeCapability a, ComputeCapability b);
// "At least", the comparison thresholds use.
bool operator>=(ComputeCapability a, ComputeCapability b);

// "9.0", the spelling nvidia-smi and CUDA's documentation use.
std::string to_string(ComputeCapability capability);

// Parses "8.0", "8" or "12.1" (a YAML float such as 8.0 may arrive as "8"); nullopt when malformed.
std::optional<ComputeCapability> parse_compute_capability(std::string_view text);

// The properties of one GPU the bench reports and derives its peaks from.
struct DeviceInfo {
    int index = -1;                          // CUDA's device ordinal (after CUDA_VISIBLE_DEVICES)
    std::string name;                        // marketing name, e.g. "NVIDIA H100 80GB HBM3"
    std::array<std::uint8_t, 16> uuid{};     // the UUID nvidia-smi prints, raw bytes
    int pci_domain = 0;                      // PCI location, to match nvidia-smi's output
    int pci_bus = 0;                         // see pci_domain
    int pci_device = 0;                      // see pci_domain
    ComputeCapability capability;            // architecture, for cores per SM and code compatibility
    std::uint64_t memory_total_bytes = 0;    // device memory size
    int multiprocessors = 0;                 // SM count, for the FP32 peak
    int max_threads_per_multiprocessor = 0;  // resident threads per SM, for sizing the FMA grid
    int clock_khz = 0;                       // peak SM clock (cudaDevAttrClockRate), for the FP32 peak
    int memory_clock_khz = 0;                // peak memory clock (cudaDevAttrMemoryClockRate), for the bandwidth peak
    int memory_bus_width_bits = 0;           // memory interface width, for the bandwidth peak
    std::uint64_t l2_cache_bytes = 0;        // L2 size: bandwidth buffers must be well beyond it
    bool integrated = false;                 // shares memory with the CPU (bandwidth peak means little)
    int compute_mode = 0;                    // 0 default, 2 prohibited, 3 exclusive-process (CU_COMPUTEMODE_*)
};

// CU_COMPUTEMODE_PROHIBITED: an administrator forbade contexts on the GPU (nvidia-smi -c PROHIBITED).
constexpr int compute_mode_prohibited = 2;

// Whether a device is a MIG slice (a GPU instance of a partitioned A100/H100): CUDA names it after
// its profile, e.g. "NVIDIA A100-SXM4-40GB MIG 1g.5gb". Its clocks and bus width are the whole
// GPU's, so the peaks computed from them do not apply to the slice.
bool is_mig_slice(const DeviceInfo& info);

// The UUID as nvidia-smi prints it, "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx": the key the
// pre-push hook caches a pass under.
std::string format_uuid(const std::array<std::uint8_t, 16>& uuid);

// Text in format_uuid's shape (hex digits of either case), as `--skip-gpu` takes it from a lease.
bool is_formatted_uuid(std::string_view text);

// The PCI address as nvidia-smi prints it, "00000000:19:00.0", so users can match the two outputs.
std::string format_pci_bus_id(const DeviceInfo& info);

// The code a binary carries for GPUs: SASS (machine code) and PTX (JIT-compiled by the driver),
// as CMake architecture numbers such as 75, 90 or "90a".
struct CompiledTargets {
    std::vector<std::string> sass;  // e.g. {"75", "80", "86", "89", "90"}
    std::vector<std::string> ptx;   // e.g. {"90"}
};

// Splits "75,80,90a" (the form CMake passes in) into its entries; empty text gives no entries.
std::vector<std::string> split_architectures(std::string_view text);

// Whether a binary with these targets can run kernels on a GPU of this capability: SASS for X.y
// runs on X.z with z >= y ("a"-suffixed SASS only on X.y itself), PTX for X.Y on anything >= X.Y.
// No targets at all (an unknown build) counts as supported, leaving the launch to decide.
bool targets_support(const CompiledTargets& targets, ComputeCapability capability);

// "sm_75 sm_80 ... compute_90", for --version and for the message on an unsupported GPU.
std::string describe_targets(const CompiledTargets& targets);

}  // namespace gm::gpu
