#pragma once
// The bench itself: plans the runs for each GPU, drives a Backend through them step by step under
// time limits, verifies every result and collects checks into a BenchReport. Pure host logic:
// tests drive it with a fake backend.

#include "gitmodel/gpu/backend.hpp"
#include "gitmodel/gpu/classify.hpp"
#include "gitmodel/gpu/results.hpp"
#include "gitmodel/gpu/watchdog.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gm::gpu {

// The default time limit of each step: far above any healthy step (CUDA initialisation on a
// machine with many GPUs and persistence mode off takes seconds), far below "forever".
constexpr std::chrono::milliseconds default_step_timeout{10000};

// Where the bench learns about the system outside CUDA; tests replace both.
struct SystemProbe {
    std::function<SystemFacts()> facts = [] { return gather_system_facts(); };          // after a failure only
    std::function<std::string()> driver_release = [] { return read_driver_release(); };  // always (cheap)
};

// What to run.
struct BenchOptions {
    Mode mode = Mode::full;                                    // quick or full
    std::vector<int> devices;                                  // CUDA ordinals; empty: every visible GPU
    std::vector<std::string> skip_uuids;                       // GPUs to leave alone (another user's), by UUID
    EffectiveThresholds thresholds;                            // pass/fail limits
    std::chrono::milliseconds step_timeout = default_step_timeout;  // limit of each step
    SystemProbe probe;                                         // system facts for error messages
};

// The report in progress, shared with the watchdog's handler so that a hang is reported with
// everything measured before it.
class Progress {
public:
    // Replaces the shared copy (called after each step).
    void publish(const BenchReport& report);
    // A copy of the latest published report.
    BenchReport snapshot() const;

private:
    mutable std::mutex mutex_;  // the main thread publishes while the watchdog thread may read
    BenchReport report_;        // the latest published report
};

// Elements of each bandwidth output that the host reads back and recomputes itself, besides the
// GPU's check of them all: 4 MiB, a few milliseconds over PCIe.
inline constexpr std::size_t stream_host_sample = std::size_t{1} << 20;

// Size of the pinned host buffer (copies, read-back staging): small in quick mode, where pinning
// memory is a noticeable part of the time budget.
std::size_t host_buffer_bytes(Mode mode);

// The bandwidth run for a GPU: three buffers of at least 4x its L2 cache each (and at least
// 1 GiB in full mode, 32 MiB in quick mode), shrunk to fit free memory; 20 timed launches in full
// mode, 3 in quick mode; nullopt when even the minimum does not fit.
std::optional<StreamPlan> plan_stream(Mode mode, const DeviceInfo& info, std::uint64_t free_bytes);

// The FMA iteration count for a wanted one: clamped to what the kernel's exact results allow
// (pattern::fma_max_iterations) and rounded down to a multiple of 16, the kernel's unroll factor,
// so no remainder loop runs inside the timing (any count would still be correct). The one place
// iterations are clamped: the backend runs exactly what the plan says.
std::uint32_t fma_iterations(double wanted);

// The FP32 run: in full mode about 10 ms per launch at the FP32 peak when the grid fills every
// SM (iterations from the peak, at least 4,096), 5 timed launches after a warm-up; in quick mode
// one launch of 256 iterations that only proves correctness.
FmaPlan plan_fma(Mode mode, const DeviceInfo& info, const Peaks& peaks);

// The memory integrity run (full mode): a quarter of the free memory, at most what eight passes
// move in 0.2 s at the measured bandwidth (1 GiB when none is known); bytes 0 (not run) below 16 MiB.
MemtestPlan plan_memtest(std::uint64_t free_bytes, std::optional<double> bandwidth_gbps);

// The host<->device copies: 32 MiB x 10 each way in full mode, 4 MiB x 2 in quick mode.
TransferPlan plan_transfer(Mode mode);

// Runs the bench on the selected GPUs, then compares GPUs of the same model. Each backend call
// runs under the watchdog with options.step_timeout; the progress is published after each step.
// Never throws for GPU problems: they become checks, errors and the verdict.
BenchReport run_bench(Backend& backend, const BenchOptions& options, Watchdog& watchdog, Progress& progress);

}  // namespace gm::gpu
