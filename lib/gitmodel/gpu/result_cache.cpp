#include "gitmodel/gpu/result_cache.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/file_lock.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::gpu {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr int format_version = 1;

// A number for the file (4 decimals: fractions), or null.
json number_or_null(const std::optional<double>& value) {
    if (!value || !std::isfinite(*value)) return nullptr;
    return std::round(*value * 10000.0) / 10000.0;
}

// A number from the file, or nullopt.
std::optional<double> number_from(const json& entry, const char* key) {
    if (!entry.contains(key) || !entry[key].is_number()) return std::nullopt;
    return entry[key].get<double>();
}

// A string from the file, or empty.
std::string text_from(const json& entry, const char* key) {
    return entry.contains(key) && entry[key].is_string() ? entry[key].get<std::string>() : std::string();
}

// The whole file as JSON; a missing, unreadable or foreign file reads as an empty cache.
json read_document(const fs::path& file) {
    std::ifstream in(file);
    if (!in) return json::object();
    json document = json::parse(in, nullptr, false);
    if (document.is_discarded() || !document.is_object() || document.value("format", 0) != format_version ||
        !document.contains("gpus") || !document["gpus"].is_object())
        return json::object();
    return document;
}

// Writes text to a new file beside `file` and renames it over `file`.
void replace_file(const fs::path& file, const std::string& text) {
    std::string temp = (file.parent_path() / ("." + file.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(temp.data());
    if (fd < 0) throw Error(fmt::format("cannot write beside {}: {}", file.string(), std::strerror(errno)));
    ::fchmod(fd, 0644);  // results are not secret, and teammates' tools read them
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            ::unlink(temp.c_str());
            throw Error(fmt::format("cannot write {}: {}", temp, std::strerror(saved)));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int saved = errno;
        ::unlink(temp.c_str());
        throw Error(fmt::format("cannot write {}: {}", temp, std::strerror(saved)));
    }
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        const int saved = errno;
        ::unlink(temp.c_str());
        throw Error(fmt::format("cannot replace {}: {}", file.string(), std::strerror(saved)));
    }
}

}  // namespace

std::vector<CachedResult> cached_results(const BenchReport& report, std::int64_t now) {
    std::vector<CachedResult> out;
    for (const auto& d : report.devices) {
        if (!d.info) continue;  // no UUID to file it under
        CachedResult r;
        r.uuid = format_uuid(d.info->uuid);
        r.mode = report.mode;
        r.time = now;
        r.suite_version = report.version;
        r.name = d.info->name;
        r.compute_capability = to_string(d.info->capability);
        r.pci_bus_id = format_pci_bus_id(*d.info);
        r.memory_total_bytes = d.info->memory_total_bytes;
        r.driver_version = report.driver_release;
        r.cuda_driver_version = report.cuda_driver_version > 0 ? format_cuda_version(report.cuda_driver_version) : "";
        r.kernels_cuda_version = report.kernels_version > 0 ? format_cuda_version(report.kernels_version) : "";
        r.verdict = std::string(to_string(d.verdict));
        const auto& m = d.measurements;
        r.triad_fraction = m.triad_fraction;
        r.copy_fraction = m.copy_fraction;
        r.fp32_fraction = m.fp32_fraction;
        if (m.triad_gbps) r.triad_gbps = m.triad_gbps->median;
        if (m.fp32_tflops && report.mode == Mode::full) r.fp32_tflops = m.fp32_tflops->median;
        out.push_back(r);
    }
    return out;
}

json to_json(const CachedResult& r) {
    return json{{"time", r.time},
                {"suite_version", r.suite_version},
                {"name", r.name},
                {"compute_capability", r.compute_capability},
                {"pci_bus_id", r.pci_bus_id},
                {"memory_total_bytes", r.memory_total_bytes},
                {"driver_version", r.driver_version.empty() ? json(nullptr) : json(r.driver_version)},
                {"cuda_driver_version", r.cuda_driver_version.empty() ? json(nullptr) : json(r.cuda_driver_version)},
                {"kernels_cuda_version", r.kernels_cuda_version.empty() ? json(nullptr) : json(r.kernels_cuda_version)},
                {"verdict", r.verdict},
                {"triad_fraction", number_or_null(r.triad_fraction)},
                {"copy_fraction", number_or_null(r.copy_fraction)},
                {"fp32_fraction", number_or_null(r.fp32_fraction)},
                {"triad_gbps", number_or_null(r.triad_gbps)},
                {"fp32_tflops", number_or_null(r.fp32_tflops)}};
}

std::optional<CachedResult> cached_result_from_json(const std::string& uuid, const json& entry) {
    if (!entry.is_object() || !entry.contains("time") || !entry["time"].is_number_integer()) return std::nullopt;
    CachedResult r;
    r.uuid = uuid;
    r.time = entry["time"].get<std::int64_t>();
    r.suite_version = text_from(entry, "suite_version");
    r.name = text_from(entry, "name");
    r.compute_capability = text_from(entry, "compute_capability");
    r.pci_bus_id = text_from(entry, "pci_bus_id");
    if (entry.contains("memory_total_bytes") && entry["memory_total_bytes"].is_number_unsigned())
        r.memory_total_bytes = entry["memory_total_bytes"].get<std::uint64_t>();
    r.driver_version = text_from(entry, "driver_version");
    r.cuda_driver_version = text_from(entry, "cuda_driver_version");
    r.kernels_cuda_version = text_from(entry, "kernels_cuda_version");
    r.verdict = text_from(entry, "verdict");
    r.triad_fraction = number_from(entry, "triad_fraction");
    r.copy_fraction = number_from(entry, "copy_fraction");
    r.fp32_fraction = number_from(entry, "fp32_fraction");
    r.triad_gbps = number_from(entry, "triad_gbps");
    r.fp32_tflops = number_from(entry, "fp32_tflops");
    return r;
}

std::map<std::string, std::map<std::string, CachedResult>> read_result_cache(const fs::path& file) {
    std::map<std::string, std::map<std::string, CachedResult>> out;
    const json document = read_document(file);
    if (!document.contains("gpus")) return out;
    for (const auto& [uuid, modes] : document["gpus"].items()) {
        if (!modes.is_object()) continue;
        for (const char* mode : {"quick", "full"}) {
            if (!modes.contains(mode)) continue;
            if (auto r = cached_result_from_json(uuid, modes[mode])) {
                r->mode = std::string_view(mode) == "quick" ? Mode::quick : Mode::full;
                out[uuid][mode] = *r;
            }
        }
    }
    return out;
}

void update_result_cache(const fs::path& file, const std::vector<CachedResult>& results) {
    if (results.empty()) return;
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));
    const FileLock lock(file.string() + ".lock", std::chrono::seconds(5));
    json document = read_document(file);
    if (!document.contains("gpus")) document = json{{"format", format_version}, {"gpus", json::object()}};
    for (const auto& r : results) document["gpus"][r.uuid][std::string(to_string(r.mode))] = to_json(r);
    replace_file(file, document.dump(2) + "\n");
}

}  // namespace gm::gpu
