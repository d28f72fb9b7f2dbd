#include "gitmodel/gpu/result_cache.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
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

// The most a results file may hold (a few hundred GPUs).
constexpr std::size_t max_results_bytes = 4 * 1024 * 1024;

// How far ahead of this clock another user's result may be stamped (their clock may run fast).
constexpr std::int64_t max_clock_skew_seconds = 600;

// Whether a parsed document is a results cache of this format.
bool is_cache_document(const json& document) {
    return !document.is_discarded() && document.is_object() && document.value("format", 0) == format_version &&
           document.contains("gpus") && document["gpus"].is_object();
}

// The whole file as JSON; a missing, unreadable or foreign file reads as an empty cache.
json read_document(const fs::path& file) {
    std::ifstream in(file);
    if (!in) return json::object();
    json document = json::parse(in, nullptr, false);
    return is_cache_document(document) ? document : json::object();
}

// The results a cache document holds.
ResultsByGpu results_of(const json& document) {
    ResultsByGpu out;
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

// A document with results merged in (each replaces the same GPU's result of the same mode).
json merged_document(json document, const std::vector<CachedResult>& results) {
    if (!document.contains("gpus")) document = json{{"format", format_version}, {"gpus", json::object()}};
    for (const auto& r : results) document["gpus"][r.uuid][std::string(to_string(r.mode))] = to_json(r);
    return document;
}

// "1000.json" -> 1000; nullopt for any other name.
std::optional<uid_t> uid_of_name(const std::string& name) {
    constexpr std::string_view suffix = ".json";
    if (name.size() <= suffix.size() || name.size() > 15 || !ends_with(name, suffix)) return std::nullopt;
    unsigned long value = 0;
    for (std::size_t i = 0; i + suffix.size() < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned long>(name[i] - '0');
    }
    if (name[0] == '0' && name.size() > suffix.size() + 1) return std::nullopt;
    return static_cast<uid_t>(value);
}

// The book's results folder, opened when it is safe; made first when the caller owns the book
// (with the book's mode and group). nullopt when there is none to use.
std::optional<SharedDir> open_results_folder(const fs::path& book) {
    try {
        const auto book_dir = SharedDir::open(book);
        if (!book_dir) return std::nullopt;
        auto folder = SharedDir::open(book / shared_results_folder);
        if (!folder && book_dir->info().st_uid == ::geteuid() && ::faccessat(book_dir->fd(), ".", W_OK, AT_EACCESS) == 0)
            folder = SharedDir::create(book / shared_results_folder, book_dir->info().st_mode & 07777,
                                       book_dir->info().st_gid);
        return folder;
    } catch (const Error&) {
        return std::nullopt;  // unsafe or unusable: the caller's own file instead
    }
}

// Writes text to a new file beside `file` and renames it over `file`.
void replace_file(const fs::path& file, const std::string& text) {
    write_file_atomically(file, text, FileMode{0644, false, false});  // results are not secret, and teammates' tools read them
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
    return results_of(read_document(file));
}

void update_result_cache(const fs::path& file, const std::vector<CachedResult>& results) {
    if (results.empty()) return;
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));
    const FileLock lock(file.string() + ".lock", std::chrono::seconds(5));
    replace_file(file, merged_document(read_document(file), results).dump(2) + "\n");
}

std::string shared_results_name(uid_t uid) { return fmt::format("{}.json", uid); }

std::optional<fs::path> user_results_file() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg && xdg[0] == '/')
        return fs::path(xdg) / "git-model" / "bench-results.json";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".cache" / "git-model" / "bench-results.json";
    return std::nullopt;
}

std::optional<fs::path> update_shared_results(const fs::path& book, const std::vector<CachedResult>& results,
                                              const fs::path& lock) {
    auto folder = open_results_folder(book);
    if (!folder || ::faccessat(folder->fd(), ".", W_OK | X_OK, AT_EACCESS) != 0) return std::nullopt;
    const std::string name = shared_results_name(::geteuid());
    if (results.empty()) return folder->path() / name;
    std::error_code ec;
    fs::create_directories(lock.parent_path(), ec);
    const FileLock held(lock, std::chrono::seconds(5));  // the caller's own runs take turns
    json document = json::object();
    if (const auto file = folder->read(name, max_results_bytes); file && file->owner == ::geteuid()) {
        json parsed = json::parse(file->content, nullptr, false);
        if (is_cache_document(parsed)) document = std::move(parsed);
    }
    // Never through a link nor into another user's file: a new file renamed over the caller's own.
    folder->write(name, merged_document(std::move(document), results).dump(2) + "\n", 0644, true);
    return folder->path() / name;
}

std::vector<CachedResult> cached_results_from_report(const json& report, std::int64_t now) {
    std::vector<CachedResult> out;
    if (!report.is_object() || !report.contains("devices") || !report["devices"].is_array()) return out;
    const Mode mode = text_from(report, "mode") == "quick" ? Mode::quick : Mode::full;
    for (const auto& d : report["devices"]) {
        const std::string uuid = d.is_object() ? text_from(d, "uuid") : "";
        if (uuid.rfind("GPU-", 0) != 0) continue;
        CachedResult r;
        r.uuid = uuid;
        r.mode = mode;
        r.time = now;
        r.suite_version = text_from(report, "version");
        r.name = text_from(d, "name");
        r.compute_capability = text_from(d, "compute_capability");
        r.pci_bus_id = text_from(d, "pci_bus_id");
        if (d.contains("memory_total_bytes") && d["memory_total_bytes"].is_number_unsigned())
            r.memory_total_bytes = d["memory_total_bytes"].get<std::uint64_t>();
        r.driver_version = text_from(report, "driver_version");
        r.cuda_driver_version = text_from(report, "cuda_driver_version");
        r.kernels_cuda_version = text_from(report, "kernels_cuda_version");
        r.verdict = text_from(d, "verdict");
        if (d.contains("measurements") && d["measurements"].is_object()) {
            const json& m = d["measurements"];
            r.triad_fraction = number_from(m, "triad_fraction");
            r.copy_fraction = number_from(m, "copy_fraction");
            r.fp32_fraction = number_from(m, "fp32_fraction");
            r.triad_gbps = number_from(m, "triad_gbps_median");
            if (mode == Mode::full) r.fp32_tflops = number_from(m, "fp32_tflops_median");
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<fs::path> keep_results_at_home(const ResultsHome& home, const std::vector<CachedResult>& results) {
    if (results.empty() || !home.own_file) return std::nullopt;
    std::optional<std::string> shared_failure;
    if (home.book) {
        try {
            if (auto written = update_shared_results(*home.book, results, home.own_file->parent_path() / "bench-results.lock"))
                return written;
        } catch (const Error& e) {
            // Another user's file planted under the caller's name must not lose the caller's results.
            shared_failure = fmt::format("{}: {}", (*home.book / shared_results_folder / shared_results_name(::geteuid())).string(),
                                         e.what());
        }
    }
    try {
        update_result_cache(*home.own_file, results);
    } catch (const Error& e) {
        throw Error(fmt::format("{}{}: {}", shared_failure ? *shared_failure + "; " : "", home.own_file->string(), e.what()));
    }
    if (shared_failure) throw Error(fmt::format("{} (kept in {} instead)", *shared_failure, home.own_file->string()));
    return home.own_file;
}

SharedResults read_shared_results(const fs::path& book) {
    SharedResults out;
    std::optional<SharedDir> folder;
    try {
        if (!SharedDir::open(book)) return out;
        folder = SharedDir::open(book / shared_results_folder);
    } catch (const Error& e) {
        out.warnings.push_back(fmt::format("GPU results in {} are not read: {}", book.string(), e.what()));
        return out;
    }
    if (!folder) return out;
    for (const auto& name : folder->names()) {
        const auto uid = uid_of_name(name);
        if (!uid) continue;  // temporary files and the like
        const std::string where = (folder->path() / name).string();
        std::string why;
        // Judged by its owner before it is read: another user's file under this name is not opened further.
        const auto file = folder->read(name, max_results_bytes, &why, [&](const SharedFile& opened) {
            if (opened.owner == *uid) return std::string();
            return fmt::format("it belongs to {}, not to {} whose results its name says", user_name_of(opened.owner),
                               user_name_of(*uid));
        });
        if (!file) {
            if (why != "absent") out.warnings.push_back(fmt::format("{} is ignored: {}", where, why));
            continue;
        }
        const json document = json::parse(file->content, nullptr, false);
        if (!is_cache_document(document)) {
            out.warnings.push_back(fmt::format("{} is ignored: not a GPU results file", where));
            continue;
        }
        // A result stamped in the future would stay "the newest" for ever, over every later run.
        const auto latest = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count() + max_clock_skew_seconds;
        ResultsByGpu believed = results_of(document);
        for (auto& [uuid, modes] : believed)
            for (auto it = modes.begin(); it != modes.end();) {
                if (it->second.time <= latest) {
                    ++it;
                    continue;
                }
                out.warnings.push_back(fmt::format("{} is ignored for {} ({}): its time is in the future", where, uuid,
                                                   it->first));
                it = modes.erase(it);
            }
        for (auto& [uuid, modes] : believed)
            for (auto& [mode, result] : modes) result.measured_by = *uid;
        if (*uid == ::geteuid()) merge_newest(out.own, believed);
        merge_newest(out.results, believed);
    }
    // Anyone may fill the folder: a few warnings say so, not one line per planted file.
    constexpr std::size_t max_warnings = 5;
    if (out.warnings.size() > max_warnings) {
        const auto more = out.warnings.size() - max_warnings;
        out.warnings.resize(max_warnings);
        out.warnings.push_back(fmt::format("{} more files in {} are ignored", more, folder->path().string()));
    }
    return out;
}

void merge_newest(ResultsByGpu& into, const ResultsByGpu& from) {
    for (const auto& [uuid, modes] : from)
        for (const auto& [mode, result] : modes) {
            auto& slot = into[uuid];
            const auto found = slot.find(mode);
            if (found == slot.end() || result.time > found->second.time) slot[mode] = result;
        }
}

std::optional<CachedResult> representative_result(const ModeResults& modes) {
    const auto full = modes.find("full"), quick = modes.find("quick");
    if (full == modes.end()) return quick == modes.end() ? std::nullopt : std::optional(quick->second);
    if (quick == modes.end()) return full->second;
    const auto& f = full->second;
    const auto& q = quick->second;
    // A newer quick run under another driver: the full one measured software no longer there.
    // A field one run could not read (inside a container, no /proc) says nothing of a change.
    const auto differs = [](const std::string& a, const std::string& b) { return !a.empty() && !b.empty() && a != b; };
    const bool driver_changed = q.time > f.time && (differs(q.driver_version, f.driver_version) ||
                                                    differs(q.cuda_driver_version, f.cuda_driver_version));
    return driver_changed ? q : f;
}

}  // namespace gm::gpu
