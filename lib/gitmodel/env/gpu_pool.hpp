#pragma once
// The machine's GPUs and the rules for sharing them: the pool (from the
// driver, or configured), the machine-wide fair-share limits, and the typed
// error a take that cannot be served throws. Who holds what lives in the lease
// book (env/lease_book.hpp).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/core/error.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/config.hpp"

namespace gm::env {

// The GPUs environments may use, and where that list came from.
struct Pool {
    std::vector<GpuSlot> gpus;
    std::vector<std::string> names;  // the driver's model name of each GPU ("" in a configured pool)
    bool from_driver = false;        // the NVIDIA driver listed them (devices can be passed to containers)
    // A driver is loaded but `nvidia-smi -L` failed (why): leases here name GPUs by UUID, so
    // no GPU may be taken by index from model.gpus until it answers again.
    std::string driver_error;
};

// Whether an NVIDIA driver is loaded on this machine.
bool nvidia_driver_present();

// The pool: the driver's GPUs (by UUID, from `nvidia-smi -L`), narrowed to model.gpus
// ("0,1") when set; where there is no driver, model.gpus alone defines it. A driver whose
// nvidia-smi fails gives model.gpus's pool with driver_error set (shown, never taken from).
Pool discover_pool(const std::optional<std::string>& configured_gpus);
// The same with model.gpus read from a repository's config.
Pool discover_pool(const git::Config& config);

// Parses `nvidia-smi -L` ("GPU 0: NVIDIA H200 (UUID: GPU-...)"); MIG lines are skipped.
Pool parse_gpu_listing(const std::string& listing);

// Parses model.gpus ("0,1,3"); throws gm::Error naming the bad entry.
std::vector<int> parse_gpu_list(const std::string& text);

// The identity a lease records for a GPU: its UUID, or "index-<n>" in a configured pool.
std::string gpu_identity(const GpuSlot& gpu);

// The machine's fair-share limits, set by root: in /etc/gitconfig, or in a book's own config
// (`git model gpus init --max-gpus-per-user`), never where a user could choose the file.
struct Limits {
    std::optional<int> max_gpus_per_user;  // model.maxGpusPerUser
    std::optional<int> max_lease_hours;    // model.maxLeaseHours: older leases are shown as overdue
    std::string source;                    // the file they came from, for messages
};

// Reads the limits from /etc/gitconfig (only when root owns it and only root can write it;
// never from a file named by GIT_CONFIG_SYSTEM); throws gm::Error naming a value that is
// not a positive whole number.
Limits machine_limits();

// Sets the limits a config file's values hold (normalised keys "model.maxgpusperuser",
// "model.maxleasehours") over those already in limits; throws gm::Error naming a bad value.
void apply_limit_values(Limits& limits, const std::map<std::string, std::string>& values, const std::string& source);

// A take that cannot be served now: every wanted GPU is held, or the caller holds as many
// as the machine allows. Exit 1; `env up --wait` and the sweep scheduler wait on it.
class GpusBusyError : public Error {
public:
    // Why the take was refused.
    enum class Reason { busy, over_limit };
    GpusBusyError(Reason reason, std::string message, std::string hint)
        : Error(std::move(message), std::move(hint)), reason_(reason) {}
    // Busy GPUs, or the caller's own limit.
    Reason reason() const noexcept { return reason_; }

private:
    Reason reason_;
};

}  // namespace gm::env
