#include "gitmodel/env/gpu_pool.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

bool nvidia_driver_present() { return fs::exists("/proc/driver/nvidia/version"); }

std::vector<int> parse_gpu_list(const std::string& text) {
    std::vector<int> out;
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        char* end = nullptr;
        const long value = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || value < 0 || value > 1023)
            throw Error(fmt::format("model.gpus: {} is not a GPU index", quote_for_message(item)),
                        "list host GPU indices, e.g. git config model.gpus 0,1");
        if (std::find(out.begin(), out.end(), static_cast<int>(value)) != out.end())
            throw Error(fmt::format("model.gpus lists GPU {} twice", value));
        out.push_back(static_cast<int>(value));
    }
    return out;
}

Pool discover_pool(const git::Config& config) {
    Pool pool;
    std::optional<std::vector<int>> wanted;
    if (auto text = config.get_string("model.gpus"); text && !text->empty()) wanted = parse_gpu_list(*text);
    if (nvidia_driver_present()) {
        proc::RunOptions options;
        options.timeout = std::chrono::seconds(15);
        const auto result = proc::run({"nvidia-smi", "--query-gpu=index,uuid", "--format=csv,noheader"}, options);
        if (result.ok()) {
            pool.from_driver = true;
            std::istringstream lines(result.out);
            std::string line;
            while (std::getline(lines, line)) {
                const auto comma = line.find(',');
                if (comma == std::string::npos) continue;
                GpuSlot slot;
                slot.index = std::atoi(line.substr(0, comma).c_str());
                std::string uuid = line.substr(comma + 1);
                uuid.erase(0, uuid.find_first_not_of(' '));
                if (!uuid.empty()) slot.uuid = uuid;
                if (!wanted || std::find(wanted->begin(), wanted->end(), slot.index) != wanted->end())
                    pool.gpus.push_back(slot);
            }
            return pool;
        }
    }
    if (wanted)
        for (int index : *wanted) pool.gpus.push_back(GpuSlot{index, std::nullopt});
    return pool;
}

std::string gpu_identity(const GpuSlot& gpu) { return gpu.uuid ? *gpu.uuid : fmt::format("index-{}", gpu.index); }

namespace {

nlohmann::json to_json(const Lease& lease) {
    return {{"gpu", lease.gpu},         {"index", lease.index}, {"container", lease.container},
            {"engine", lease.engine},   {"repo", lease.repo},   {"model", lease.model},
            {"worktree", lease.worktree}, {"user", lease.user}, {"since", lease.since},
            {"pid", lease.pid},         {"pid_start_ticks", lease.pid_start_ticks}};
}

std::optional<Lease> read_lease(const fs::path& path) {
    std::ifstream in(path);
    const auto json = nlohmann::json::parse(in, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return std::nullopt;
    Lease lease;
    lease.gpu = json.value("gpu", "");
    lease.index = json.value("index", 0);
    lease.container = json.value("container", "");
    lease.engine = json.value("engine", "");
    lease.repo = json.value("repo", "");
    lease.model = json.value("model", "");
    lease.worktree = json.value("worktree", "");
    lease.user = json.value("user", "");
    lease.since = json.value("since", std::int64_t{0});
    lease.pid = json.value("pid", 0L);
    lease.pid_start_ticks = json.value("pid_start_ticks", 0ULL);
    if (lease.gpu.empty()) return std::nullopt;
    return lease;
}

fs::path lease_path(const fs::path& dir, const std::string& gpu) { return dir / (gpu + ".lease"); }

std::string describe_holder(const Lease& lease) {
    std::time_t since = static_cast<std::time_t>(lease.since);
    char when[32] = "?";
    std::tm local{};
    if (::localtime_r(&since, &local)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &local);
    return fmt::format("GPU {} ({}) is held by model '{}' of {} (container {}, worktree {}, user {}, since {})",
                       lease.index, lease.gpu, lease.model, lease.repo, lease.container, lease.worktree, lease.user, when);
}

fs::path make_directory(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return dir;
    fs::create_directories(dir, ec);
    if (ec) throw Error(fmt::format("cannot create the GPU lease folder {}: {}", dir.string(), ec.message()),
                        "set GIT_MODEL_LEASE_DIR or git config model.leaseDir to a writable folder");
    // Shared by every user of the machine, like /tmp: anyone may add a lease, only its owner remove it.
    fs::permissions(dir, fs::perms::all | fs::perms::sticky_bit, ec);
    return dir;
}

}  // namespace

fs::path LeaseBook::directory(const git::Config& config) {
    if (const char* dir = std::getenv("GIT_MODEL_LEASE_DIR"); dir && *dir) return dir;
    if (auto dir = config.get_string("model.leaseDir"); dir && !dir->empty()) return *dir;
    return "/var/tmp/git-model/gpu-leases";
}

LeaseBook::LeaseBook(const fs::path& dir) : dir_(make_directory(dir)), lock_(dir_ / ".lock") {}

std::vector<Lease> LeaseBook::leases() const {
    std::vector<Lease> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        if (entry.path().extension() != ".lease") continue;
        if (auto lease = read_lease(entry.path())) out.push_back(*lease);
    }
    std::sort(out.begin(), out.end(), [](const Lease& a, const Lease& b) { return a.index < b.index; });
    return out;
}

std::vector<Lease> LeaseBook::heal(const std::function<bool(const Lease&)>& still_held) {
    std::vector<Lease> freed;
    for (const auto& lease : leases()) {
        if (lease.pid > 0 && proc::is_running({lease.pid, lease.pid_start_ticks})) continue;
        if (still_held(lease)) continue;
        std::error_code ec;
        fs::remove(lease_path(dir_, lease.gpu), ec);
        if (!ec) freed.push_back(lease);
    }
    return freed;
}

std::vector<GpuSlot> LeaseBook::take(const Pool& pool, const config::GpuRequest& request, const Lease& holder) {
    if (!request.wants_gpu()) return {};
    if (pool.gpus.empty()) {
        throw UnavailableError(
            "the environment asks for a GPU, but this machine has no GPU pool: no NVIDIA driver, and git config "
            "model.gpus is not set",
            "run on a GPU machine, set the pool (git config model.gpus 0,1), or set gpus: 0 in .modelenv.yaml");
    }
    std::map<std::string, Lease> held;
    for (auto& lease : leases()) held.emplace(lease.gpu, lease);
    const auto is_free = [&](const GpuSlot& gpu) { return !held.count(gpu_identity(gpu)); };

    std::vector<GpuSlot> wanted;
    using Kind = config::GpuRequest::Kind;
    if (request.kind == Kind::all) {
        wanted = pool.gpus;
    } else if (request.kind == Kind::indices) {
        for (int index : request.indices) {
            auto it = std::find_if(pool.gpus.begin(), pool.gpus.end(), [&](const GpuSlot& g) { return g.index == index; });
            if (it == pool.gpus.end())
                throw Error(fmt::format(".modelenv.yaml asks for GPU {}, which is not in this machine's pool ({})", index,
                                        pool.gpus.size()),
                            "list only GPUs of the pool, or ask for a count instead");
            wanted.push_back(*it);
        }
    } else if (static_cast<std::size_t>(request.count) > pool.gpus.size()) {
        throw Error(fmt::format(".modelenv.yaml asks for {} GPUs; this machine's pool has {}", request.count,
                                pool.gpus.size()));
    }

    std::vector<GpuSlot> chosen;
    std::vector<std::string> holders;
    if (request.kind == Kind::count) {
        for (const auto& gpu : pool.gpus)
            if (is_free(gpu) && chosen.size() < static_cast<std::size_t>(request.count)) chosen.push_back(gpu);
        if (chosen.size() < static_cast<std::size_t>(request.count)) {
            chosen.clear();
            for (const auto& gpu : pool.gpus)
                if (!is_free(gpu)) holders.push_back(describe_holder(held.at(gpu_identity(gpu))));
        }
    } else {
        for (const auto& gpu : wanted) {
            if (is_free(gpu)) chosen.push_back(gpu);
            else holders.push_back(describe_holder(held.at(gpu_identity(gpu))));
        }
        if (!holders.empty()) chosen.clear();
    }
    if (chosen.empty()) {
        throw Error(fmt::format("no GPU free for model '{}':\n  {}", holder.model, join(holders, "\n  ")),
                    "`git model env down <model>` in that repository frees one; `git model env up --wait` waits for one");
    }
    for (const auto& gpu : chosen) {
        Lease lease = holder;
        lease.gpu = gpu_identity(gpu);
        lease.index = gpu.index;
        const fs::path path = lease_path(dir_, lease.gpu);
        const fs::path temp = path.string() + ".tmp";
        {
            std::ofstream out(temp);
            out << to_json(lease).dump(2) << "\n";
            if (!out) throw Error(fmt::format("cannot write the GPU lease {}", temp.string()));
        }
        std::error_code ec;
        fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read, ec);
        fs::rename(temp, path, ec);
        if (ec) throw Error(fmt::format("cannot write the GPU lease {}: {}", path.string(), ec.message()));
    }
    return chosen;
}

void LeaseBook::release(const std::string& container) {
    for (const auto& lease : leases()) {
        if (lease.container != container) continue;
        std::error_code ec;
        fs::remove(lease_path(dir_, lease.gpu), ec);
    }
}

}  // namespace gm::env
