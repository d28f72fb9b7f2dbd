#pragma once
// The machine's GPU lease book: one folder shared by every repository and user
// (prepared once by root with `git model gpus init`), one file per holder and
// GPU, and one lock that every decision takes, briefly. A user can only ever
// add, replace or remove their own files (the folder is sticky and every file
// operation goes through core/shared_dir.hpp); a lease whose holder is provably
// gone stops counting for everyone at once, and its file is removed by its owner
// or root when they next pass.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/lease.hpp"
#include "gitmodel/git/config.hpp"

namespace gm::env {

// A lease as found in the book, with the file it came from.
struct BookEntry {
    Lease lease;
    std::string file;
};

// A name in the book that is not a valid lease (planted, copied, or half-made), skipped.
struct IgnoredFile {
    std::string file;
    std::string why;
};

// Everything the book holds, as read (without its lock: every file is replaced atomically).
struct BookContents {
    std::vector<BookEntry> leases;
    std::vector<IgnoredFile> ignored;
};

// The limits root gives a book with `git model gpus init --max-gpus-per-user N
// --max-lease-hours H` (kept in the book's root-owned file "config"): nullopt leaves a
// setting as it is, 0 removes it.
struct BookLimits {
    std::optional<int> max_gpus_per_user;
    std::optional<int> max_lease_hours;
};

// A lease given up by its holder did not come back: `env down` or root's `gpus release`
// gave it back while its environment was starting, so it must not start (exit 1).
class LeaseLostError : public Error {
public:
    using Error::Error;
};

// What a give-back did: the leases given back, and those kept (with why: their processes run).
struct GiveBack {
    std::vector<Lease> given;
    std::vector<std::pair<Lease, std::string>> kept;
};

// How a book was set up, for `git model gpus init` and `gpus`.
struct BookFacts {
    std::filesystem::path path;
    uid_t owner = 0;
    std::string group;  // the folder's group name
    mode_t mode = 0;
    bool shared = false;  // other users may take leases (root's book, sticky, writable by them)
};

// The lease book of this machine.
class LeaseBook {
public:
    // Where the book is: GIT_MODEL_LEASE_DIR, else model.leaseDir, else the default.
    static std::filesystem::path directory(const std::optional<std::string>& configured);
    // The same, with model.leaseDir read from a repository's config.
    static std::filesystem::path directory(const git::Config& config);
    // /var/lib/git-model/gpu-leases, prepared by `git model gpus init`.
    static std::filesystem::path default_directory();

    // Opens the book. A missing book is made: by root as `gpus init` would (shared by every
    // user), by anyone else as their own private book (mode 0755: only they can take from it).
    // Throws gm::Error with the fix when the folder is unsafe or cannot be made.
    static std::shared_ptr<LeaseBook> open(const std::filesystem::path& dir);
    // Opens an existing book (nullopt when there is none), for commands that only read.
    static std::shared_ptr<LeaseBook> open_existing(const std::filesystem::path& dir);
    // Prepares a shared book (root only): the folder root-owned and sticky, writable by every
    // user (mode 1777) or only by group's members (1770), a root-owned lock file readable by
    // them, and the book's limits (its "config", root's, mode 0644) where given. Idempotent;
    // an untrusted lock or config file is replaced.
    static std::shared_ptr<LeaseBook> init(const std::filesystem::path& dir, const std::optional<std::string>& group,
                                           const BookLimits& limits = {});

    // Every lease and every skipped name.
    BookContents read() const;
    // Takes the book's lock (exclusive); throws LockTimeoutError after timeout.
    FileLock lock(std::chrono::milliseconds timeout) const;
    // Writes one of the caller's leases: a new file (replace false) or over the caller's own.
    void write(const Lease& lease, bool replace);
    // Removes a lease's file: the caller's own, or anyone's when the caller is root.
    bool remove(const BookEntry& entry);
    // Appends a line (with time and user) to the book's history.log (root's releases).
    void log(const std::string& line);
    // Where it is, who owns it, who may use it.
    BookFacts facts() const;
    // The fair-share limits of takes from this book: the machine's (/etc/gitconfig), each
    // overridden by the book's own "config" when root wrote one into a root-owned book. Never
    // from a file a user can name or write. Throws gm::Error naming a bad value.
    Limits limits() const;
    // A warning when this is not the machine's prepared default book while that one exists:
    // leases here are not seen by those who use the default book, nor theirs here.
    std::optional<std::string> other_book_warning() const;
    // Whether the caller's lease is still in the book (not given back by `env down` or root).
    bool holds(const Lease& lease) const;
    // Its path, for messages.
    const std::filesystem::path& path() const { return dir_.path(); }

private:
    explicit LeaseBook(SharedDir dir) : dir_(std::move(dir)) {}
    SharedDir dir_;
};

// The lock timeout: git config model.leaseLockTimeout (a duration), else 30 s.
std::chrono::milliseconds lease_lock_timeout(const git::Config& config);

// GPUs leased to one holder; given back when this object dies, unless kept.
class Reservation {
public:
    Reservation() = default;
    // An empty reservation in a book (leases are added by take()).
    explicit Reservation(std::shared_ptr<LeaseBook> book) : book_(std::move(book)) {}
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation();

    // Writes a new lease (phase starting) and adds it to this reservation.
    void add(Lease lease);
    // The leases held.
    const std::vector<Lease>& leases() const { return leases_; }
    // The GPUs held, in take order.
    std::vector<GpuSlot> gpus() const;
    // Records the engine's client that creates the container (see Lease::starter). Under the
    // book's lock; throws LeaseLostError when a lease was given back meanwhile.
    void record_starter(const proc::ProcessIdentity& starter);
    // Records that the workload started: phase held, its container id and process, and
    // (when the holder process will not outlive it, as for `env up`) no holder process.
    // Under the book's lock; throws LeaseLostError (and writes nothing) when a lease was given
    // back meanwhile: a lease is never made again by its holder once it is gone.
    void confirm(const std::string& container_id, const proc::ProcessIdentity& workload, bool drop_holder);
    // Throws LeaseLostError when a lease was given back (checked before the engine is asked).
    void check_held() const;
    // How long the book's lock is waited for (set by take()).
    void set_lock_timeout(std::chrono::milliseconds timeout) { lock_timeout_ = timeout; }
    // The leases outlive this object (a container holds them until `env down`).
    void keep() noexcept { kept_ = true; }
    // Gives every lease back now (own files removed); never throws.
    void give_back() noexcept;

private:
    // Rewrites every lease (changed by update) under the book's lock, when all are still there.
    void rewrite(const std::function<void(Lease&)>& update);

    std::shared_ptr<LeaseBook> book_;
    std::vector<Lease> leases_;
    bool kept_ = false;
    std::chrono::milliseconds lock_timeout_{30000};
};

// What a take asks for.
struct TakeRequest {
    Pool pool;
    config::GpuRequest request;
    Lease holder;        // the holder's fields (container, engine, repo, model, worktree, sweep, holder process)
    Limits limits;
    JudgeContext context;
    std::chrono::milliseconds lock_timeout{30000};
    // A container that this take's start replaces (`env up --recreate`, or a stopped one): the
    // caller's own leases of it do not count, so its GPUs pass to the new container while the
    // old one still runs. Taken before the old one goes, they are never free for a teammate in
    // between. Its leases stay in the book until the caller gives them back.
    std::string replaces_container;
};

// Under the book's lock (released on return, before any engine runs): judges every lease,
// removes the caller's own (root: any) that are provably gone, refuses a take over the
// machine's per-user limit (naming the caller's leases) or when the GPUs are held (naming
// each holder), both as GpusBusyError, and writes "starting" leases for the chosen GPUs.
// A GPU counts as held when a lease names its identity or its index (a lease by UUID and
// one by "index-<n>" are the same device). Refused (UnavailableError) when the pool could
// not be listed although a driver is loaded. notes get one line per lease it gave back.
// An empty request takes nothing.
Reservation take(const std::shared_ptr<LeaseBook>& book, const TakeRequest& request, std::vector<std::string>& notes);

// Under the lock: removes the caller's leases (root: any) that are provably gone; returns them.
std::vector<Lease> heal(LeaseBook& book, const JudgeContext& context, std::chrono::milliseconds lock_timeout);

// Under the book's lock: removes the caller's own leases that match (a container's, on
// `env down`; a sweep run's, on `sweep cancel`), except those whose holder, starter or
// workload process still runs (other than this process): those are kept, with why.
GiveBack give_back_matching(LeaseBook& book, const std::function<bool(const Lease&)>& matches,
                            std::chrono::milliseconds lock_timeout);

// The UUIDs of the GPUs that other users' leases in the book at book_dir hold (judged without
// asking an engine: a lease not provably gone holds), for the GPU checks (pre-push, doctor) to
// leave alone: each once, lower-case, only GPUs the driver lists (at most 64 without a driver).
// Leases that name no UUID (by index in a configured pool, or planted) are not among them. A
// missing book holds none; one that is there but cannot be read throws gm::Error (then which
// GPUs others hold is unknown, and no GPU may be touched).
std::vector<std::string> gpus_others_hold(const std::filesystem::path& book_dir);

// The judge context of a caller: /proc for processes and, with an engine, that engine's
// view of the caller's own containers (asked at most once, lazily; a failing engine can
// then say nothing).
// `known`: that engine's listing already made by the caller (then it is not asked again).
JudgeContext local_judge_context(const Engine* engine, std::optional<std::vector<ContainerInfo>> known = std::nullopt);

}  // namespace gm::env
