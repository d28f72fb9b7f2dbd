#pragma once
// A snapshot is an annotated tag model/<name>/v<N> whose message ends in a
// machine-readable block (git-model(1), "SNAPSHOT TAGS"):
//
//   <the user's message, or "Snapshot v3 of model resnet50">
//
//   Model-Snapshot: 1
//   Model: resnet50
//   Model-Version: 3
//   Model-Image: registry.example.com/team/pytorch:2.3   (or "none")
//   Model-Image-Id: sha256:...   (when the model's environment ran that image)
//   Model-Dirty: <hash>          (when the worktree had uncommitted changes)
//   Model-GPU: GPU-<uuid> driver=550.54.15 cuda=12.4 triad=0.91 fp32=0.78 bench=full@2026-01-02T03:04:05Z name=NVIDIA H100 80GB HBM3
//                                (one per GPU the model's environment ran on; fields unknown are left out)
//   Metric: acc=0.913
//   Metric: val/loss=0.21
//
// The block is the message's last paragraph and reads as git trailers, so git
// itself can print it (`%(contents:trailers:key=Metric)`). Everything here is
// pure: formatting, parsing, tag names and numbering, best and comparison.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/snapshots/metrics.hpp"

namespace gm::snapshots {

// The block format written; a parser meeting a larger number says the tag is from a newer suite.
inline constexpr int snapshot_format_version = 1;

// A GPU a snapshot's environment ran on, with its last bench figures (Model-GPU).
struct SnapshotGpu {
    std::string uuid;                      // "GPU-..."
    std::string name;                      // "NVIDIA H100 80GB HBM3"; empty when no result was kept
    std::string driver_version;            // NVIDIA driver release, e.g. "550.54.15"
    std::string cuda_driver_version;       // the CUDA version the driver supports, e.g. "12.4"
    std::optional<double> triad_fraction;  // bench: triad bandwidth / peak
    std::optional<double> fp32_fraction;   // bench: FP32 FMA throughput / peak (full runs)
    std::string bench_mode;                // "full" or "quick": which run measured them
    std::int64_t bench_time = 0;           // when, Unix seconds (0: unknown)
    std::string bench_by;                  // the teammate whose run measured them; empty: the author's own
};

// What a snapshot tag's message records.
struct SnapshotRecord {
    std::string model;
    unsigned version = 0;
    std::optional<std::string> image;  // the pinned image at the commit; nullopt: no .modelenv.yaml there
    std::optional<std::string> image_id;  // the image id its environment actually ran (sha256:...), when known
    std::optional<std::string> dirty;  // a hash of the worktree's uncommitted changes; nullopt: it was clean
    std::vector<Metric> metrics;       // in the order they were given
    std::vector<SnapshotGpu> gpus;     // the hardware it ran on; empty when not known
    std::string message;               // the human part above the block
};

// A snapshot as found in the repository: its tag, commit and date, and what it records.
struct Snapshot {
    std::string tag;                 // "model/resnet50/v3"
    std::string commit;              // the commit the tag points at
    std::int64_t time = 0;           // tagger date, seconds since the epoch
    std::string tagger;              // "Name <email>"
    SnapshotRecord record;
};

// The tag of a model's snapshot: "model/<model>/v<version>".
std::string snapshot_tag_name(std::string_view model, unsigned version);

// The glob that finds a model's snapshot tags (short names).
std::string snapshot_tag_glob(std::string_view model);

// The version a tag name carries when it is one of this model's snapshot names
// (v<N>, N a positive decimal without leading zeros); nullopt otherwise.
std::optional<unsigned> snapshot_version_from_tag(std::string_view model, std::string_view tag);

// The number the next snapshot gets: one more than the largest taken, so that
// numbers never repeat even when a tag in the middle was deleted.
unsigned next_snapshot_version(std::string_view model, const std::vector<std::string>& tag_names);

// The message used when the user gives none.
std::string default_snapshot_message(std::string_view model, unsigned version);

// The full tag message: the user's text, a blank line, the block. Throws
// gm::UsageError for a message with a line git would take for a signature.
std::string format_snapshot_message(const SnapshotRecord& record);

// Reads a tag message back; throws gm::Error saying why when it holds no
// valid block (not a snapshot, a newer format, a bad line or metric).
SnapshotRecord parse_snapshot_message(std::string_view message);

// The snapshot with the largest (or, minimize, smallest) value of a metric;
// ties go to the newest. nullptr when no snapshot records the metric.
const Snapshot* best_snapshot(const std::vector<Snapshot>& snapshots, std::string_view metric, bool minimize);

// The metric names of a set of snapshots in the order they first appear, oldest snapshot first,
// so that table columns keep the order users wrote them in.
std::vector<std::string> metric_columns(const std::vector<Snapshot>& newest_first);

// A snapshot's metrics by name, for lookups over many metrics (find_metric is a scan).
std::unordered_map<std::string_view, const Metric*> metrics_by_name(const std::vector<Metric>& metrics);

// One row of a side-by-side comparison.
struct MetricComparison {
    std::string name;
    std::optional<Metric> a;
    std::optional<Metric> b;
    std::optional<double> difference;  // b - a, when both have it
};

// Metrics of two snapshots side by side: a's metrics in order, then those only b has.
std::vector<MetricComparison> compare_metrics(const SnapshotRecord& a, const SnapshotRecord& b);

// How the hardware of two snapshots differs: each of "gpu_model", "gpu" (another UUID) and
// "driver" that differ (none: the same). nullopt when either records no GPU (nothing to say).
std::optional<std::vector<std::string>> compare_hardware(const SnapshotRecord& a, const SnapshotRecord& b);

// One GPU in a few words: "NVIDIA H100 80GB HBM3 (GPU-1a2b3c4d), driver 550.54.15, CUDA 12.4".
std::string describe_gpu(const SnapshotGpu& gpu);

// A GPU as JSON (in a snapshot's "gpus").
nlohmann::json to_json(const SnapshotGpu& gpu);

// A snapshot as a JSON object (documented in git-model(1), JSON OUTPUT).
nlohmann::json to_json(const Snapshot& snapshot);

}  // namespace gm::snapshots
