#pragma once
// `git model gpus`: the machine's GPUs and who holds each one (user,
// repository, model, container or sweep run, since when, state), root's
// release of a lease, and the description of a book `gpus init` prepared.
// Reading never takes the book's lock, so it answers at once on a busy machine.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/lease_book.hpp"

namespace gm::env {

// One lease with its judgement.
struct LeaseView {
    Lease lease;
    Judgement judgement;
    bool overdue = false;     // older than model.maxLeaseHours, or stamped with no real time
    bool over_limit = false;  // one of its user's GPUs past model.maxGpusPerUser (the newest)
};

// One GPU of the pool and its holders (one, normally; none when free).
struct GpuView {
    GpuSlot slot;
    std::string name;  // the driver's model name, "" in a configured pool
    std::string id;    // its lease identity
    std::vector<LeaseView> holders;
};

// Everything `git model gpus` shows.
struct GpusReport {
    std::filesystem::path book_path;
    std::optional<BookFacts> book;   // nullopt: no book there yet
    bool from_driver = false;
    std::string driver_error;        // a driver is loaded but nvidia-smi failed (see Pool)
    Limits limits;                   // the machine's, and the book's own where it has them
    std::vector<GpuView> gpus;
    std::vector<LeaseView> elsewhere;  // leases of GPUs outside this pool (another pool setting)
    std::vector<LeaseView> stale;      // provably gone: free for all, the file stays until its owner or root passes
    std::vector<IgnoredFile> ignored;  // names in the book that are not valid leases
};

// Reads the book at dir against the pool. The engine (when given) judges the caller's own
// containers whose process has ended (one engine call at most).
GpusReport gpus_report(const Pool& pool, const std::filesystem::path& dir, const Limits& limits, const Engine* engine);

// The documented --json shape (write it with gm::json_text: names from the book may not be UTF-8).
nlohmann::json to_json(const GpusReport& report);

// The table for people; every field from a lease or a file name is made printable.
std::string render_gpus(const GpusReport& report);

// Gives back every lease of one GPU (its index, UUID or "index-<n>"): root may release
// anyone's, others only their own. Root's releases are logged in the book's history.log.
// Returns one line per lease released, naming its holder. Throws gm::Error when the GPU is
// another user's and the caller is not root.
std::vector<std::string> release_gpu(const std::filesystem::path& dir, const Pool& pool, const std::string& which,
                                     std::chrono::milliseconds lock_timeout);

// What `git model gpus init` says about a book it prepared, with the limits it holds.
std::string describe_book(const BookFacts& facts, const Limits& limits);

}  // namespace gm::env
