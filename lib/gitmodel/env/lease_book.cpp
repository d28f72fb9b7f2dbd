#include "gitmodel/env/lease_book.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/gpu/device.hpp"
#include "gitmodel/gpu/result_cache.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/machine_config.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <map>
#include <set>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

namespace {

constexpr const char* lock_name = ".lock";
constexpr const char* history_name = "history.log";
constexpr const char* config_name = "config";  // root's limits for this book (gpus init --max-...)
// A lease is a few hundred bytes (paths are at most 4 KiB each): a book flooded with huge
// files must not make every reader slow.
constexpr std::size_t max_lease_bytes = 16 * 1024;
constexpr std::size_t max_config_bytes = 16 * 1024;

std::string init_command(const fs::path& dir) {
    return dir == LeaseBook::default_directory() ? "sudo git model gpus init"
                                                 : fmt::format("sudo git model gpus init --dir {}", dir.string());
}

std::string group_name_of(gid_t gid) {
    char buffer[4096];
    group entry {};
    group* found = nullptr;
    if (::getgrgid_r(gid, &entry, buffer, sizeof buffer, &found) == 0 && found) return found->gr_name;
    return std::to_string(gid);
}

std::string gone_note(const Lease& lease, const Judgement& judgement) {
    const std::string who = lease.uid == ::geteuid() ? holder_words(lease)
                                                      : fmt::format("{} of {}", holder_words(lease), printable(lease.user, 64));
    if (judgement.why.find("restarted") != std::string::npos)
        return fmt::format("GPU {} was still leased to {}, taken before the machine restarted: released", lease.index, who);
    if (!lease.container.empty() && judgement.why.find("container") != std::string::npos)
        return fmt::format("GPU {} was still leased to {}, whose container is gone: released", lease.index, who);
    return fmt::format("GPU {} was still leased to {}, whose {}: released", lease.index, who,
                       judgement.why.rfind("its ", 0) == 0 ? judgement.why.substr(4) : judgement.why);
}

}  // namespace

fs::path LeaseBook::default_directory() { return "/var/lib/git-model/gpu-leases"; }

fs::path LeaseBook::directory(const std::optional<std::string>& configured) {
    if (const char* dir = std::getenv("GIT_MODEL_LEASE_DIR"); dir && *dir) return dir;
    if (configured && !configured->empty()) return *configured;
    return default_directory();
}

fs::path LeaseBook::directory(const git::Config& config) { return directory(config.get_string("model.leaseDir")); }

std::shared_ptr<LeaseBook> LeaseBook::open_existing(const fs::path& dir) {
    try {
        auto shared = SharedDir::open(dir);
        if (!shared) return nullptr;
        return std::shared_ptr<LeaseBook>(new LeaseBook(std::move(*shared)));
    } catch (const UnsafeFolderError& e) {
        throw Error(fmt::format("the GPU lease book is unsafe: {}", e.what()),
                    fmt::format("ask root to prepare it: {}", init_command(dir)));
    } catch (const Error& e) {
        const bool denied = ::access(dir.c_str(), X_OK) != 0 && errno == EACCES;
        throw Error(fmt::format("cannot use the GPU lease book: {}", e.what()),
                    denied ? "a book made with `gpus init --group <group>` is for that group's members: ask root to add "
                             "you (usermod -aG <group> <you>), then log in again"
                           : e.hint());
    }
}

std::shared_ptr<LeaseBook> LeaseBook::open(const fs::path& dir) {
    if (auto book = open_existing(dir)) return book;
    if (::geteuid() == 0) return init(dir, std::nullopt);
    try {
        return std::shared_ptr<LeaseBook>(new LeaseBook(SharedDir::create(dir, 0755, std::nullopt)));
    } catch (const Error& e) {
        throw Error(fmt::format("there is no GPU lease book at {}, and it cannot be made: {}", dir.string(), e.what()),
                    fmt::format("ask root to prepare it once: {}; or set GIT_MODEL_LEASE_DIR to a folder of your own",
                                init_command(dir)));
    }
}

namespace {

// The values of a book's config file when root made it (a plain file of root's with one name,
// only root may write it) in a root-owned book; nullopt when there is none to believe.
std::optional<std::map<std::string, std::string>> read_book_config(const SharedDir& dir) {
    if (dir.info().st_uid != 0) return std::nullopt;  // a user's own book: its owner chose any limits anyway
    const auto file = dir.read(config_name, max_config_bytes);
    if (!file || file->owner != 0 || (file->mode & (S_IWGRP | S_IWOTH)) || file->links != 1) return std::nullopt;
    return git::parse_config_text(file->content, dir.path() / config_name, "model.");
}

std::string book_config_text(const std::map<std::string, std::string>& values) {
    std::string text =
        "# The fair-share limits of this GPU lease book, set by root with `git model gpus init\n"
        "# --max-gpus-per-user N --max-lease-hours H` (they override /etc/gitconfig's for this book).\n[model]\n";
    if (auto it = values.find("model.maxgpusperuser"); it != values.end()) text += "\tmaxGpusPerUser = " + it->second + "\n";
    if (auto it = values.find("model.maxleasehours"); it != values.end()) text += "\tmaxLeaseHours = " + it->second + "\n";
    return text;
}

// Writes root's limits into the book's config (keeping those not given; 0 removes one).
void write_book_limits(LeaseBook& book, SharedDir& dir, const BookLimits& limits) {
    if (!limits.max_gpus_per_user && !limits.max_lease_hours) return;
    struct stat info {};
    if (::fstatat(dir.fd(), config_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        (!S_ISREG(info.st_mode) || info.st_uid != 0 || info.st_nlink != 1))
        ::unlinkat(dir.fd(), config_name, 0);  // planted: a link, a user's file, a hard link
    std::map<std::string, std::string> values = read_book_config(dir).value_or(std::map<std::string, std::string>{});
    const auto set = [&](const char* key, const std::optional<int>& value) {
        if (!value) return;
        if (*value <= 0) values.erase(key);
        else values[key] = std::to_string(*value);
    };
    set("model.maxgpusperuser", limits.max_gpus_per_user);
    set("model.maxleasehours", limits.max_lease_hours);
    dir.write(config_name, book_config_text(values), 0644, true);
    const auto shown = [&](const char* key) {
        const auto it = values.find(key);
        return it == values.end() ? std::string("none") : it->second;
    };
    book.log(fmt::format("set the limits: model.maxGpusPerUser {}, model.maxLeaseHours {}", shown("model.maxgpusperuser"),
                         shown("model.maxleasehours")));
}

}  // namespace

std::shared_ptr<LeaseBook> LeaseBook::init(const fs::path& dir, const std::optional<std::string>& group,
                                           const BookLimits& limits) {
    if (::geteuid() != 0)
        throw Error("only root can prepare a shared GPU lease book",
                    fmt::format("run it as root: {}{}", init_command(dir), group ? " --group " + *group : ""));
    std::optional<gid_t> gid;
    if (group) {
        char buffer[16384];
        struct group entry {};
        struct group* found = nullptr;
        if (::getgrnam_r(group->c_str(), &entry, buffer, sizeof buffer, &found) != 0 || !found)
            throw Error(fmt::format("there is no group {}", quote_for_message(*group)),
                        "create it (groupadd <name>) and add the users who may take GPUs (usermod -aG <name> <user>)");
        gid = found->gr_gid;
    }
    SharedDir folder = SharedDir::create(dir, gid ? 01770 : 01777, gid ? gid : std::optional<gid_t>(0));
    // The lock file: root's, readable by those who may take GPUs (flock needs only that).
    struct stat info {};
    if (::fstatat(folder.fd(), lock_name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (!S_ISREG(info.st_mode) || info.st_uid != 0))
        ::unlinkat(folder.fd(), lock_name, 0);  // planted: a link, or another user's file
    const mode_t lock_mode = gid ? 0640 : 0644;
    UniqueFd lock = folder.open_lock_file(lock_name, lock_mode, true, "");
    if (::fchown(lock.get(), 0, gid ? *gid : 0) != 0 || ::fchmod(lock.get(), lock_mode) != 0)
        throw Error(fmt::format("cannot set up the lock file of {}: {}", dir.string(), std::strerror(errno)));
    // The bench's results folder: each user's own file in it, sticky like the book.
    SharedDir::create(dir / gpu::shared_results_folder, gid ? 01770 : 01777, gid ? gid : std::optional<gid_t>(0));
    auto book = std::shared_ptr<LeaseBook>(new LeaseBook(std::move(folder)));
    book->log(fmt::format("prepared the book (mode {:04o}{})", gid ? 01770 : 01777, group ? ", group " + *group : ""));
    write_book_limits(*book, book->dir_, limits);
    return book;
}

Limits LeaseBook::limits() const {
    Limits limits = machine_limits();
    if (const auto values = read_book_config(dir_)) apply_limit_values(limits, *values, (dir_.path() / config_name).string());
    return limits;
}

std::optional<std::string> LeaseBook::other_book_warning() const {
    const fs::path machine_book = default_directory();
    try {
        const auto other = SharedDir::open(machine_book);
        if (!other) return std::nullopt;
        const auto& mine = dir_.info();
        const auto& theirs = other->info();
        if (mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino) return std::nullopt;
        const bool prepared = theirs.st_uid == 0 && (theirs.st_mode & S_ISVTX) && (theirs.st_mode & (S_IWGRP | S_IWOTH));
        if (!prepared) return std::nullopt;
    } catch (const Error&) {
        return std::nullopt;  // no usable machine book: nothing to miss
    }
    return fmt::format("warning: the GPU leases go to {} (GIT_MODEL_LEASE_DIR or model.leaseDir), not to this machine's "
                       "shared book {}: the users of that book do not see these GPUs as taken, nor you theirs",
                       printable(dir_.path().string()), machine_book.string());
}

bool LeaseBook::holds(const Lease& lease) const {
    struct stat info {};
    return ::fstatat(dir_.fd(), lease_file_name(lease).c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(info.st_mode) &&
           info.st_uid == lease.uid;
}

BookContents LeaseBook::read() const {
    BookContents out;
    for (const auto& name : dir_.names()) {
        if (name == lock_name || name == history_name || name == config_name || starts_with(name, ".tmp-") ||
            name == gpu::shared_results_folder)  // git-model-bench's results (gpu/result_cache.hpp)
            continue;
        std::string why;
        const auto claimed = lease_file_uid(name);
        if (!claimed) {
            out.ignored.push_back({name, "not a lease file"});
            continue;
        }
        // A file whose owner is not the user its name claims is refused unread.
        const auto file = dir_.read(name, max_lease_bytes, &why, [&](const SharedFile& opened) {
            return opened.owner == *claimed ? std::string()
                                            : fmt::format("it names user {} but belongs to {}", *claimed, opened.owner);
        });
        if (!file) {
            if (why != "absent") out.ignored.push_back({name, why});  // absent: given back while we listed
            continue;
        }
        auto lease = parse_lease(name, file->content, file->owner, &why);
        if (!lease) {
            out.ignored.push_back({name, why});
            continue;
        }
        out.leases.push_back({std::move(*lease), name});
    }
    std::sort(out.leases.begin(), out.leases.end(), [](const BookEntry& a, const BookEntry& b) {
        return std::tie(a.lease.index, a.lease.since, a.file) < std::tie(b.lease.index, b.lease.since, b.file);
    });
    std::sort(out.ignored.begin(), out.ignored.end(), [](const IgnoredFile& a, const IgnoredFile& b) { return a.file < b.file; });
    return out;
}

FileLock LeaseBook::lock(std::chrono::milliseconds timeout) const {
    const uid_t me = ::geteuid();
    const bool may_create = me == 0 || me == dir_.info().st_uid;
    const std::string fix = fmt::format("ask root to repair the book: {}", init_command(dir_.path()));
    for (int attempt = 0; attempt < 5; ++attempt) {
        FileLock lock(dir_.open_lock_file(lock_name, 0644, may_create, fix), (dir_.path() / lock_name).string(), timeout);
        if (dir_.same_file(lock_name, lock.fd())) return lock;  // not replaced (by `gpus init`) while we waited
    }
    throw Error(fmt::format("the lock file of the GPU lease book {} keeps being replaced", dir_.path().string()), fix);
}

void LeaseBook::write(const Lease& lease, bool replace) {
    dir_.write(lease_file_name(lease), to_json(lease).dump(2) + "\n", 0644, replace);
}

bool LeaseBook::remove(const BookEntry& entry) {
    const uid_t me = ::geteuid();
    if (me != 0 && entry.lease.uid != me) return false;
    return dir_.remove_if_owned(entry.file, entry.lease.uid);
}

void LeaseBook::log(const std::string& line) {
    // The name is root's in root's book: anything else planted there (a link, a user's file) goes first.
    struct stat info {};
    if (::geteuid() == 0 && ::fstatat(dir_.fd(), history_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        (!S_ISREG(info.st_mode) || info.st_uid != 0))
        ::unlinkat(dir_.fd(), history_name, 0);
    // One line per entry, whatever the line holds (a lease's fields are another user's text).
    dir_.append(history_name,
                fmt::format("{} {}: {}", format_time(now_seconds()), user_name_of(::geteuid()), printable(line, 4096)), 0644);
}

BookFacts LeaseBook::facts() const {
    BookFacts facts;
    const auto& info = dir_.info();
    facts.path = dir_.path();
    facts.owner = info.st_uid;
    facts.group = group_name_of(info.st_gid);
    facts.mode = info.st_mode & 07777;
    facts.shared = info.st_uid == 0 && (info.st_mode & S_ISVTX) && (info.st_mode & (S_IWGRP | S_IWOTH));
    return facts;
}

std::chrono::milliseconds lease_lock_timeout(const git::Config& config) {
    return std::chrono::seconds(
        git::duration_setting(config, "model.leaseLockTimeout", "use e.g. 10s or 2m").value_or(30));
}

// --- Reservation ---------------------------------------------------------------------------------

Reservation::Reservation(Reservation&& other) noexcept
    : book_(std::move(other.book_)), leases_(std::move(other.leases_)), kept_(other.kept_),
      lock_timeout_(other.lock_timeout_) {
    other.leases_.clear();
}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
    if (this != &other) {
        if (!kept_) give_back();
        book_ = std::move(other.book_);
        leases_ = std::move(other.leases_);
        kept_ = other.kept_;
        lock_timeout_ = other.lock_timeout_;
        other.leases_.clear();
    }
    return *this;
}

Reservation::~Reservation() {
    if (!kept_) give_back();
}

void Reservation::add(Lease lease) {
    book_->write(lease, false);
    leases_.push_back(std::move(lease));
}

std::vector<GpuSlot> Reservation::gpus() const {
    std::vector<GpuSlot> out;
    for (const auto& lease : leases_) {
        GpuSlot slot;
        slot.index = lease.index;
        if (!starts_with(lease.gpu, "index-")) slot.uuid = lease.gpu;
        out.push_back(slot);
    }
    return out;
}

void Reservation::check_held() const {
    if (!book_) return;
    for (const auto& lease : leases_)
        if (!book_->holds(lease))
            throw LeaseLostError(
                fmt::format("GPU {} was given back while model '{}' was starting (by `git model env down`, or by root's "
                            "`git model gpus release`), so it was not started",
                            lease.index, printable(lease.model, 96)),
                "run `git model env up` again to take a GPU afresh");
}

void Reservation::rewrite(const std::function<void(Lease&)>& update) {
    if (!book_ || leases_.empty()) return;
    // Under the lock, so that no give-back slips in between the look and the write.
    const FileLock lock = book_->lock(lock_timeout_);
    check_held();
    for (auto& lease : leases_) {
        update(lease);
        book_->write(lease, true);
    }
}

void Reservation::record_starter(const proc::ProcessIdentity& starter) {
    rewrite([&](Lease& lease) { lease.starter = starter; });
}

void Reservation::confirm(const std::string& container_id, const proc::ProcessIdentity& workload, bool drop_holder) {
    rewrite([&](Lease& lease) {
        lease.phase = LeasePhase::held;
        lease.container_id = container_id;
        lease.workload = workload;
        lease.starter = {};
        if (drop_holder) lease.holder = {};
    });
}

void Reservation::give_back() noexcept {
    if (book_) {
        for (const auto& lease : leases_) {
            try {
                book_->remove(BookEntry{lease, lease_file_name(lease)});
            } catch (...) {
                // the file stays; its holder is gone, so the next take judges it free
            }
        }
    }
    leases_.clear();
}

// --- taking and giving back ---------------------------------------------------------------------

namespace {

// The GPUs a request names, checked against the pool; empty for a count.
std::vector<GpuSlot> named_gpus(const Pool& pool, const config::GpuRequest& request) {
    using Kind = config::GpuRequest::Kind;
    if (request.kind == Kind::all) return pool.gpus;
    std::vector<GpuSlot> wanted;
    if (request.kind == Kind::indices) {
        for (int index : request.indices) {
            auto it = std::find_if(pool.gpus.begin(), pool.gpus.end(), [&](const GpuSlot& g) { return g.index == index; });
            if (it == pool.gpus.end())
                throw Error(fmt::format(".modelenv.yaml asks for GPU {}, which is not in this machine's pool ({})", index,
                                        pool.gpus.size()),
                            "list only GPUs of the pool, or ask for a count instead");
            wanted.push_back(*it);
        }
    } else if (static_cast<std::size_t>(request.count) > pool.gpus.size()) {
        throw Error(fmt::format(".modelenv.yaml asks for {}; this machine's pool has {}",
                                count_of(static_cast<std::size_t>(request.count), "GPU"), pool.gpus.size()));
    }
    return wanted;
}

struct Holding {
    Lease lease;
    Judgement judgement;
};

std::string describe_holding(const Holding& holding) {
    std::string line = describe_holder(holding.lease);
    if (holding.judgement.verdict == Verdict::unknown) line += fmt::format("; {}, so it keeps the GPU", holding.judgement.why);
    return line;
}

// "\n  bob holds 3 GPUs, over this machine's limit of 1 per user: ..." for each user whose
// leases hold more GPUs than model.maxGpusPerUser (a lease file written by hand, or a limit
// lowered since); "" when none does. Their leases stay honoured: a GPU in use is not handed out.
std::string over_limit_note(const std::vector<Holding>& held, const Limits& limits) {
    if (!limits.max_gpus_per_user) return "";
    std::map<uid_t, std::pair<std::string, std::set<int>>> by_user;
    for (const auto& holding : held) {
        auto& [user, gpus] = by_user[holding.lease.uid];
        user = holding.lease.user;
        gpus.insert(holding.lease.index);
    }
    std::string note;
    for (const auto& [uid, user_gpus] : by_user) {
        const auto& [user, gpus] = user_gpus;
        if (gpus.size() <= static_cast<std::size_t>(std::max(0, *limits.max_gpus_per_user))) continue;
        note += fmt::format("\n  {} (uid {}) holds {} GPUs, over this machine's limit of {} per user ({}): root can "
                            "free them with `git model gpus release <gpu>`",
                            printable(user, 64), uid, gpus.size(), *limits.max_gpus_per_user, limits.source);
    }
    return note;
}

}  // namespace

Reservation take(const std::shared_ptr<LeaseBook>& book, const TakeRequest& take, std::vector<std::string>& notes) {
    const auto& request = take.request;
    const auto& pool = take.pool;
    Reservation reservation(book);
    reservation.set_lock_timeout(take.lock_timeout);
    if (!request.wants_gpu()) return reservation;
    if (!pool.driver_error.empty()) {
        // Leases here name GPUs by UUID; one taken by index could be a GPU someone holds.
        throw UnavailableError(
            fmt::format("an NVIDIA driver is loaded, but its GPUs cannot be listed ({}), so no GPU can be taken safely",
                        printable(pool.driver_error, 512)),
            "fix nvidia-smi (a driver upgraded without a reboot says \"Driver/library version mismatch\"; "
            "is nvidia-smi on PATH?), then try again");
    }
    if (pool.gpus.empty()) {
        throw UnavailableError(
            "the environment asks for a GPU, but this machine has no GPU pool: no NVIDIA driver, and git config "
            "model.gpus is not set",
            "run on a GPU machine, set the pool (git config model.gpus 0,1), or set gpus: 0 in .modelenv.yaml");
    }
    const std::vector<GpuSlot> wanted = named_gpus(pool, request);
    const bool by_count = request.kind == config::GpuRequest::Kind::count;
    const std::size_t needed = by_count ? static_cast<std::size_t>(request.count) : wanted.size();
    const uid_t me = ::geteuid();

    const FileLock lock = book->lock(take.lock_timeout);
    std::vector<Holding> held;
    std::vector<Holding> mine;
    for (const auto& entry : book->read().leases) {
        if (!take.replaces_container.empty() && entry.lease.uid == me &&
            entry.lease.container == take.replaces_container && entry.lease.repo == take.holder.repo)
            continue;
        Judgement judgement = judge(entry.lease, take.context);
        if (judgement.verdict == Verdict::gone) {
            // Free for everyone now; its file goes when its owner (or root) passes.
            if ((entry.lease.uid == me || me == 0) && book->remove(entry)) notes.push_back(gone_note(entry.lease, judgement));
            continue;
        }
        if (entry.lease.uid == me) mine.push_back({entry.lease, judgement});
        held.push_back({entry.lease, std::move(judgement)});
    }

    // GPUs, not leases: during a --recreate the old container and the new one's start both lease
    // the GPU that passes between them.
    std::set<int> my_gpus;
    for (const auto& holding : mine) my_gpus.insert(holding.lease.index);
    if (take.limits.max_gpus_per_user && my_gpus.size() + needed > static_cast<std::size_t>(*take.limits.max_gpus_per_user)) {
        std::vector<std::string> lines;
        for (const auto& holding : mine) lines.push_back(describe_holding(holding));
        throw GpusBusyError(
            GpusBusyError::Reason::over_limit,
            fmt::format("this machine allows {} GPU{} per user (model.maxGpusPerUser, set by root in {}); you hold {}{} "
                        "and model '{}' asks for {} more{}{}",
                        *take.limits.max_gpus_per_user, *take.limits.max_gpus_per_user == 1 ? "" : "s", take.limits.source,
                        my_gpus.size(), take.replaces_container.empty() ? "" : " besides the container --recreate replaces",
                        printable(take.holder.model, 96), needed, lines.empty() ? "" : ":\n  ", join(lines, "\n  ")),
            "give one back first (`git model env down <model>` in its repository), or wait for your runs to end");
    }

    // A GPU is held when a lease names it by its identity, or by its index where one side knows
    // no UUID: the same device is "GPU-<uuid>" to a user whose nvidia-smi works and "index-<n>" in
    // a configured pool. Two UUIDs are compared alone, so that a lease whose index disagrees with
    // its UUID (written by hand) holds one GPU, the one `gpus` shows it on, not two.
    const auto holds_gpu = [](const Lease& lease, const GpuSlot& gpu) {
        const std::string identity = gpu_identity(gpu);
        if (lease.gpu == identity) return true;
        const bool both_uuids = !starts_with(lease.gpu, "index-") && !starts_with(identity, "index-");
        return !both_uuids && lease.index == gpu.index;
    };
    const auto is_free = [&](const GpuSlot& gpu) {
        return std::none_of(held.begin(), held.end(), [&](const Holding& h) { return holds_gpu(h.lease, gpu); });
    };
    std::vector<GpuSlot> chosen;
    std::vector<std::string> holders;
    const auto name_holders = [&](const std::vector<GpuSlot>& gpus) {
        for (const auto& gpu : gpus)
            for (const auto& holding : held)
                if (holds_gpu(holding.lease, gpu)) holders.push_back(describe_holding(holding));
    };
    if (by_count) {
        for (const auto& gpu : pool.gpus)
            if (is_free(gpu) && chosen.size() < needed) chosen.push_back(gpu);
        if (chosen.size() < needed) {
            chosen.clear();
            name_holders(pool.gpus);
        }
    } else {
        for (const auto& gpu : wanted)
            if (is_free(gpu)) chosen.push_back(gpu);
        if (chosen.size() < wanted.size()) {
            chosen.clear();
            name_holders(wanted);
        }
    }
    if (chosen.empty()) {
        throw GpusBusyError(GpusBusyError::Reason::busy,
                            fmt::format("no GPU free for model '{}':\n  {}{}", printable(take.holder.model, 96),
                                        join(holders, "\n  "), over_limit_note(held, take.limits)),
                            "`git model env down <model>` in that repository frees one; `git model env up --wait` waits "
                            "for one; `git model gpus` shows every lease");
    }
    for (const auto& gpu : chosen) {
        Lease lease = take.holder;
        lease.id = new_lease_id();
        lease.gpu = gpu_identity(gpu);
        lease.index = gpu.index;
        lease.uid = me;
        lease.user = user_name_of(me);
        lease.phase = LeasePhase::starting;
        lease.since = now_seconds();
        lease.boot_id = proc::boot_id();
        reservation.add(std::move(lease));
    }
    return reservation;
}

std::vector<Lease> heal(LeaseBook& book, const JudgeContext& context, std::chrono::milliseconds lock_timeout) {
    const uid_t me = ::geteuid();
    std::vector<Lease> freed;
    const FileLock lock = book.lock(lock_timeout);
    for (const auto& entry : book.read().leases) {
        if (entry.lease.uid != me && me != 0) continue;  // others' are judged at take time; their files are theirs
        if (judge(entry.lease, context).verdict == Verdict::gone && book.remove(entry)) freed.push_back(entry.lease);
    }
    return freed;
}

GiveBack give_back_matching(LeaseBook& book, const std::function<bool(const Lease&)>& matches,
                            std::chrono::milliseconds lock_timeout) {
    const uid_t me = ::geteuid();
    const long self = static_cast<long>(::getpid());
    const auto process = [](const proc::ProcessIdentity& identity) { return proc::liveness(identity); };
    GiveBack result;
    const FileLock lock = book.lock(lock_timeout);
    for (const auto& entry : book.read().leases) {
        if (entry.lease.uid != me || !matches(entry.lease)) continue;
        // A lease whose processes run is in use (an `env up` still starting it, a run that lives on).
        if (auto running = running_processes(entry.lease, process, self); !running.empty()) {
            result.kept.emplace_back(entry.lease, std::move(running));
            continue;
        }
        if (book.remove(entry)) result.given.push_back(entry.lease);
    }
    return result;
}

std::vector<std::string> gpus_others_hold(const fs::path& book_dir) {
    const auto book = LeaseBook::open_existing(book_dir);  // throws when it is there but cannot be read
    if (!book) return {};
    const JudgeContext context = local_judge_context(nullptr);
    const uid_t me = ::geteuid();
    // Only UUIDs, in nvidia-smi's spelling, of GPUs this machine has (when its driver lists them),
    // each once: a lease names what its writer chose, and none may break or bloat the bench's argv.
    const std::set<std::string> machine = driver_gpu_uuids();
    std::set<std::string> held;
    for (const auto& entry : book->read().leases) {
        const Lease& lease = entry.lease;
        if (lease.uid == me || !gpu::is_formatted_uuid(lease.gpu)) continue;
        std::string uuid = lease.gpu;
        std::transform(uuid.begin() + 4, uuid.end(), uuid.begin() + 4, [](unsigned char c) { return std::tolower(c); });
        if (!machine.empty() && !machine.count(uuid)) continue;
        if (judge(lease, context).verdict != Verdict::gone) held.insert(uuid);
    }
    constexpr std::size_t most = 64;  // no driver list to check against: more is no machine's
    std::vector<std::string> uuids(held.begin(), held.end());
    if (uuids.size() > most) uuids.resize(most);
    return uuids;
}

JudgeContext local_judge_context(const Engine* engine, std::optional<std::vector<ContainerInfo>> known) {
    JudgeContext context;
    context.boot_id = proc::boot_id();
    context.process = [](const proc::ProcessIdentity& process) { return proc::liveness(process); };
    context.process_owner = [](long pid) { return proc::process_owner(pid); };
    if (!engine) return context;
    // One engine call, only when a lease of the caller's needs it; a second, once, when a killed
    // start's container may have appeared since (below).
    struct View {
        bool asked = false;
        std::optional<std::vector<ContainerInfo>> containers;
        bool asked_again = false;
    };
    auto view = std::make_shared<View>();
    if (known) {
        view->asked = true;
        view->containers = std::move(known);
    }
    const Engine copy = *engine;
    context.engine_name = copy.name;
    context.engine_place = copy.place();
    context.container_state = [view, copy, place = context.engine_place](const Lease& lease) -> std::optional<std::string> {
        // Another engine's container (root's service through a socket, or the user's own podman)
        // is not in this one's listing, gone or not: the lease keeps its GPU.
        if (lease.uid != ::geteuid() || lease.engine != copy.name || lease.engine_host != place) return std::nullopt;
        if (!view->asked) {
            view->asked = true;
            try {
                view->containers = list_containers(copy, std::string(label::managed) + "=1");
            } catch (const Error&) {
                view->containers.reset();  // the engine cannot say: nothing is judged gone
            }
        }
        if (!view->containers) return std::nullopt;
        // Its container's state in a listing; "" when another container holds its name; nullopt
        // when none does.
        const auto state_in = [&](const std::vector<ContainerInfo>& containers) -> std::optional<std::string> {
            for (const auto& info : containers) {
                if (info.name != lease.container) continue;
                // A start's lease names its container by the start's token until it has its id: one
                // of that name without it (the container a --recreate replaces) is not its container.
                if (lease.container_id.empty() && !lease.start.empty()) {
                    const auto token = info.labels.find(label::start);
                    if (token == info.labels.end() || token->second != lease.start) return std::string();
                }
                // Another container under the same name now: the recorded one is gone.
                if (!lease.container_id.empty() && !info.id.empty() && !starts_with(info.id, lease.container_id) &&
                    !starts_with(lease.container_id, info.id))
                    return std::string();
                return info.state.empty() ? std::string("unknown") : info.state;
            }
            return std::nullopt;
        };
        const auto seen = state_in(*view->containers);
        if (lease.container_id.empty() && !lease.start.empty() && (!seen || seen->empty())) {
            // Its container is not there (yet): the engine client a killed start left before its
            // lease named it may still be creating it, and while one runs the lease holds (see
            // Lease::starter). One that ended since the listing may have made it: asked again.
            if (proc::find_own_process(detached_run_arguments(lease.container))) return std::string(creating_state);
            if (!view->asked_again) {
                view->asked_again = true;
                try {
                    view->containers = list_containers(copy, std::string(label::managed) + "=1");
                } catch (const Error&) {
                    view->containers.reset();  // the engine cannot say now: nothing more is judged gone
                    return std::nullopt;
                }
            }
            if (!view->containers) return std::nullopt;
            return state_in(*view->containers).value_or(std::string());
        }
        return seen.value_or(std::string());
    };
    return context;
}

}  // namespace gm::env
