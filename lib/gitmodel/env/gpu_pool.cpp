#include "gitmodel/env/gpu_pool.hpp"

#include "gitmodel/core/text.hpp"
#include "gitmodel/git/machine_config.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

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

Pool parse_gpu_listing(const std::string& listing) {
    Pool pool;
    std::istringstream lines(listing);
    std::string line;
    while (std::getline(lines, line)) {
        // "GPU 0: NVIDIA H200 (UUID: GPU-5c1a...)"; MIG devices are indented lines of their own.
        if (line.rfind("GPU ", 0) != 0) continue;
        const auto colon = line.find(':');
        const auto uuid_at = line.rfind("(UUID: ");
        if (colon == std::string::npos) continue;
        GpuSlot slot;
        slot.index = std::atoi(line.substr(4, colon - 4).c_str());
        std::string name = line.substr(colon + 1, uuid_at == std::string::npos ? std::string::npos : uuid_at - colon - 1);
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        if (uuid_at != std::string::npos) {
            std::string uuid = line.substr(uuid_at + 7);
            uuid.erase(uuid.find_last_not_of(") \r") + 1);
            if (!uuid.empty()) slot.uuid = uuid;
        }
        pool.gpus.push_back(slot);
        pool.names.push_back(name);
    }
    return pool;
}

Pool discover_pool(const std::optional<std::string>& configured_gpus) {
    std::optional<std::vector<int>> wanted;
    if (configured_gpus && !configured_gpus->empty()) wanted = parse_gpu_list(*configured_gpus);
    Pool pool;
    if (nvidia_driver_present()) {
        proc::RunOptions options;
        options.timeout = std::chrono::seconds(15);
        proc::RunResult result;
        try {
            result = proc::run({"nvidia-smi", "-L"}, options);
        } catch (const Error& e) {
            pool.driver_error = e.what();  // not installed, or not on PATH
        }
        if (pool.driver_error.empty() && !result.ok()) {
            const std::string why = trim_end(!result.out.empty() ? result.out : result.err, "\n ");
            pool.driver_error = fmt::format("nvidia-smi -L {}{}", result.describe(), why.empty() ? "" : ": " + why);
        }
        if (pool.driver_error.empty()) {
            const Pool all = parse_gpu_listing(result.out);
            pool.from_driver = true;
            for (std::size_t i = 0; i < all.gpus.size(); ++i) {
                if (wanted && std::find(wanted->begin(), wanted->end(), all.gpus[i].index) == wanted->end()) continue;
                pool.gpus.push_back(all.gpus[i]);
                pool.names.push_back(all.names[i]);
            }
            return pool;
        }
    }
    if (wanted)
        for (int index : *wanted) {
            pool.gpus.push_back(GpuSlot{index, std::nullopt});
            pool.names.emplace_back();
        }
    return pool;
}

Pool discover_pool(const git::Config& config) { return discover_pool(config.get_string("model.gpus")); }

std::string gpu_identity(const GpuSlot& gpu) { return gpu.uuid ? *gpu.uuid : fmt::format("index-{}", gpu.index); }

void apply_limit_values(Limits& limits, const std::map<std::string, std::string>& values, const std::string& source) {
    const auto positive = [&](const char* key, const char* shown, std::optional<int>& into) {
        const auto it = values.find(key);
        if (it == values.end()) return;
        char* end = nullptr;
        const long value = std::strtol(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end != '\0' || value < 1 || value > 100000)
            throw Error(fmt::format("{} in {} is {}: expected a positive whole number", shown, source,
                                    quote_for_message(it->second)),
                        fmt::format("fix it as root: git config -f {} {} <n>", source, shown));
        into = static_cast<int>(value);
        if (limits.source.empty() || std::string(key) == "model.maxgpusperuser") limits.source = source;
    };
    positive("model.maxgpusperuser", "model.maxGpusPerUser", limits.max_gpus_per_user);
    positive("model.maxleasehours", "model.maxLeaseHours", limits.max_lease_hours);
}

Limits machine_limits() {
    const auto machine = git::read_machine_config("model.");
    Limits limits;
    apply_limit_values(limits, machine.values, machine.file.string());
    return limits;
}

}  // namespace gm::env
