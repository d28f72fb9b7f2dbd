#include "gitmodel/env/state.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

namespace {

std::optional<nlohmann::json> read_json(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_discarded() || !json.is_object()) return std::nullopt;
    return json;
}

// A value as drift messages show it: short scalars as themselves, anything longer by its key alone.
std::optional<std::string> short_value(const nlohmann::json& value) {
    std::string text = value.is_string() ? value.get<std::string>() : value.is_null() ? "(none)" : value.dump();
    if (text.size() > 60) return std::nullopt;
    return text;
}

}  // namespace

std::string place_id(const fs::path& folder) {
    struct stat info {};
    if (::stat(folder.c_str(), &info) != 0) return "";
    return fmt::format("{}:{}", static_cast<unsigned long long>(info.st_dev), static_cast<unsigned long long>(info.st_ino));
}

fs::path state_dir(const fs::path& common_dir, const std::string& model) {
    return common_dir / "git-model" / "env" / model;
}

void write_state_file(const fs::path& path, const std::string& content) {
    write_file_atomically(path, content, FileMode{0600, false, false});
}

std::optional<LaunchRecord> read_launch(const fs::path& common_dir, const std::string& model) {
    const auto json = read_json(state_dir(common_dir, model) / "launch.json");
    if (!json) return std::nullopt;
    try {
        LaunchRecord record;
        record.image = json->value("image", "");
        record.image_id = json->value("image_id", "");
        record.settings = json->value("settings", nlohmann::json::object());
        record.user = json->value("user", "");
        record.engine_mode = json->value("engine_mode", "");
        record.at = json->value("at", std::int64_t{0});
        record.container = json->value("container", "");
        record.start = json->value("start", "");
        record.place_id = json->value("place_id", "");
        if (json->contains("gpus") && (*json)["gpus"].is_array())
            for (const auto& gpu : (*json)["gpus"])
                if (gpu.is_string() && gpu.get<std::string>().rfind("GPU-", 0) == 0) record.gpus.push_back(gpu.get<std::string>());
        return record;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

void write_launch(const fs::path& common_dir, const std::string& model, const LaunchRecord& record) {
    const nlohmann::json json{{"version", 1},          {"image", record.image},
                              {"image_id", record.image_id}, {"settings", record.settings},
                              {"user", record.user},     {"engine_mode", record.engine_mode},
                              {"at", record.at},         {"gpus", record.gpus},
                              {"container", record.container}, {"start", record.start},
                              {"place_id", record.place_id}};
    write_state_file(state_dir(common_dir, model) / "launch.json", json.dump(2) + "\n");
}

std::map<std::string, int> read_port_record(const fs::path& common_dir, const std::string& model) {
    std::map<std::string, int> ports;
    const auto json = read_json(state_dir(common_dir, model) / "ports.json");
    if (!json) return ports;
    for (const auto& [name, value] : json->items())
        if (value.is_number_integer() && value.get<int>() > 0 && value.get<int>() < 65536) ports[name] = value.get<int>();
    return ports;
}

void write_port_record(const fs::path& common_dir, const std::string& model, const std::map<std::string, int>& ports) {
    write_state_file(state_dir(common_dir, model) / "ports.json", nlohmann::json(ports).dump(2) + "\n");
}

std::string settings_fingerprint(const nlohmann::json& settings) {
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : settings.dump()) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return fmt::format("{:016x}", hash);
}

std::vector<std::string> settings_drift(const nlohmann::json& ran, const nlohmann::json& now) {
    std::vector<std::string> out;
    std::set<std::string> keys;
    for (const auto& [key, value] : ran.items()) keys.insert(key);
    for (const auto& [key, value] : now.items()) keys.insert(key);
    for (const auto& key : keys) {
        const nlohmann::json before = ran.contains(key) ? ran[key] : nlohmann::json(nullptr);
        const nlohmann::json after = now.contains(key) ? now[key] : nlohmann::json(nullptr);
        if (before == after) continue;
        const auto a = short_value(before);
        const auto b = short_value(after);
        out.push_back(a && b ? fmt::format("{}: {} -> {}", key, *a, *b) : key);
    }
    return out;
}

}  // namespace gm::env
