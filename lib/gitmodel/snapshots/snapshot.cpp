#include "gitmodel/snapshots/snapshot.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/snapshots/metric_json.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace gm::snapshots {

namespace {

constexpr std::string_view key_snapshot = "Model-Snapshot";
constexpr std::string_view key_model = "Model";
constexpr std::string_view key_version = "Model-Version";
constexpr std::string_view key_image = "Model-Image";
constexpr std::string_view key_image_id = "Model-Image-Id";
constexpr std::string_view key_dirty = "Model-Dirty";
constexpr std::string_view key_metric = "Metric";
constexpr std::string_view key_gpu = "Model-GPU";
constexpr std::string_view no_image = "none";

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

// A positive decimal without sign or leading zeros, as version numbers are written.
std::optional<unsigned> parse_positive(std::string_view text) {
    if (text.empty() || text.size() > 9 || text.front() == '0') return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

bool is_signature_start(std::string_view line) {
    return starts_with(line, "-----BEGIN ") && ends_with(trim(line), "SIGNATURE-----");
}

// A signed tag carries its signature after the message (git appends it last); it is not part of it.
std::string_view without_signature(std::string_view message) {
    std::optional<std::size_t> last;
    for (std::size_t pos = 0; pos < message.size();) {
        const auto end = message.find('\n', pos);
        if (is_signature_start(message.substr(pos, end == std::string_view::npos ? end : end - pos))) last = pos;
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return last ? message.substr(0, *last) : message;
}

// A value as one word of a Model-GPU line: printable, without spaces ('_' for each).
std::string one_word(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u == 0x7f) out += '_';
        else out += c;
    }
    return out;
}

// A GPU name for the end of a Model-GPU line: control characters become spaces, trimmed.
std::string one_line(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    return std::string(trim(out));
}

// "2026-01-02T03:04:05Z"; and back (nullopt for anything else).
std::string utc_time(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

// See utc_time.
std::optional<std::int64_t> parse_utc_time(std::string_view text) {
    std::tm tm{};
    const std::string copy(text);
    const char* end = ::strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) return std::nullopt;
    return static_cast<std::int64_t>(::timegm(&tm));
}

// A fraction as the line writes it (4 decimals at most).
std::string fraction_text(double value) {
    std::string text = fmt::format("{:.4f}", value);
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
}

// A fraction read back: a finite number, or nullopt.
std::optional<double> parse_fraction_text(std::string_view text) {
    const std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (copy.empty() || !end || *end || !std::isfinite(value)) return std::nullopt;
    return value;
}

// The Model-GPU value of a GPU.
std::string format_gpu(const SnapshotGpu& gpu) {
    std::string out = one_word(gpu.uuid);
    if (!gpu.driver_version.empty()) out += " driver=" + one_word(gpu.driver_version);
    if (!gpu.cuda_driver_version.empty()) out += " cuda=" + one_word(gpu.cuda_driver_version);
    if (gpu.triad_fraction && std::isfinite(*gpu.triad_fraction)) out += " triad=" + fraction_text(*gpu.triad_fraction);
    if (gpu.fp32_fraction && std::isfinite(*gpu.fp32_fraction)) out += " fp32=" + fraction_text(*gpu.fp32_fraction);
    if (!gpu.bench_mode.empty())
        out += " bench=" + one_word(gpu.bench_mode) + (gpu.bench_time > 0 ? "@" + utc_time(gpu.bench_time) : "");
    if (!gpu.bench_by.empty()) out += " by=" + one_word(gpu.bench_by);
    if (const std::string name = one_line(gpu.name); !name.empty()) out += " name=" + name;
    return out;
}

// A Model-GPU value read back: "<uuid> key=value... name=<the rest>"; unknown keys are skipped.
SnapshotGpu parse_gpu(std::string_view value) {
    SnapshotGpu gpu;
    const auto space = value.find(' ');
    gpu.uuid = std::string(value.substr(0, space));
    if (!starts_with(gpu.uuid, "GPU-"))
        throw Error(fmt::format("'{}: {}' does not start with a GPU UUID", key_gpu, value));
    std::string_view rest = space == std::string_view::npos ? std::string_view() : trim(value.substr(space + 1));
    while (!rest.empty()) {
        if (starts_with(rest, "name=")) {
            gpu.name = std::string(trim(rest.substr(5)));
            break;
        }
        const auto end = rest.find(' ');
        const std::string_view word = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : trim(rest.substr(end + 1));
        const auto equals = word.find('=');
        if (equals == std::string_view::npos) continue;
        const std::string_view key = word.substr(0, equals), text = word.substr(equals + 1);
        if (key == "driver") gpu.driver_version = std::string(text);
        else if (key == "cuda") gpu.cuda_driver_version = std::string(text);
        else if (key == "triad") gpu.triad_fraction = parse_fraction_text(text);
        else if (key == "fp32") gpu.fp32_fraction = parse_fraction_text(text);
        else if (key == "by") gpu.bench_by = std::string(text);
        else if (key == "bench") {
            const auto at = text.find('@');
            gpu.bench_mode = std::string(text.substr(0, at));
            if (at != std::string_view::npos) gpu.bench_time = parse_utc_time(text.substr(at + 1)).value_or(0);
        }
    }
    return gpu;
}

// The sorted, non-empty values of one field of a snapshot's GPUs.
std::vector<std::string> field_values(const SnapshotRecord& record, std::string SnapshotGpu::*field) {
    std::vector<std::string> out;
    for (const auto& gpu : record.gpus)
        if (!(gpu.*field).empty()) out.push_back(gpu.*field);
    std::sort(out.begin(), out.end());
    return out;
}

// The same, each value once: two GPUs of one model (or one driver) say the same as one.
std::vector<std::string> distinct_field_values(const SnapshotRecord& record, std::string SnapshotGpu::*field) {
    auto out = field_values(record, field);
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Whether two snapshots ran on different GPU models, judging only what is known: a name is known
// only where a bench result was kept. The same GPU (UUID) named differently; or a name on one side
// that the other, knowing every one of its GPUs' names, does not have.
bool models_differ(const SnapshotRecord& a, const SnapshotRecord& b) {
    for (const auto& ga : a.gpus)
        for (const auto& gb : b.gpus)
            if (ga.uuid == gb.uuid && !ga.name.empty() && !gb.name.empty() && ga.name != gb.name) return true;
    const auto all_named = [](const SnapshotRecord& r) {
        return std::all_of(r.gpus.begin(), r.gpus.end(), [](const SnapshotGpu& g) { return !g.name.empty(); });
    };
    const auto has_one_missing_from = [](const SnapshotRecord& from, const SnapshotRecord& complete) {
        const auto names = distinct_field_values(complete, &SnapshotGpu::name);
        for (const auto& name : distinct_field_values(from, &SnapshotGpu::name))
            if (!std::binary_search(names.begin(), names.end(), name)) return true;
        return false;
    };
    return (all_named(a) && has_one_missing_from(b, a)) || (all_named(b) && has_one_missing_from(a, b));
}

}  // namespace

std::string snapshot_tag_name(std::string_view model, unsigned version) {
    return fmt::format("model/{}/v{}", model, version);
}

std::string snapshot_tag_glob(std::string_view model) { return fmt::format("model/{}/v*", model); }

std::optional<unsigned> snapshot_version_from_tag(std::string_view model, std::string_view tag) {
    const std::string prefix = fmt::format("model/{}/v", model);
    if (!starts_with(tag, prefix)) return std::nullopt;
    return parse_positive(tag.substr(prefix.size()));
}

unsigned next_snapshot_version(std::string_view model, const std::vector<std::string>& tag_names) {
    unsigned largest = 0;
    for (const auto& name : tag_names)
        if (auto version = snapshot_version_from_tag(model, name)) largest = std::max(largest, *version);
    if (largest >= 999999999u) {
        const std::string tag = snapshot_tag_name(model, largest);
        throw Error(fmt::format("model '{}' has run out of snapshot numbers: {} holds the largest one", model, tag),
                    fmt::format("if that tag is a mistake, delete it here and on the remote: git tag -d {0}; "
                                "git push <remote> --delete refs/tags/{0}",
                                tag));
    }
    return largest + 1;
}

std::string default_snapshot_message(std::string_view model, unsigned version) {
    return fmt::format("Snapshot v{} of model {}", version, model);
}

std::string format_snapshot_message(const SnapshotRecord& record) {
    if (record.metrics.size() > max_snapshot_metrics)  // readers skip such a tag
        throw Error(fmt::format("{} metrics; a snapshot records {} at most", record.metrics.size(), max_snapshot_metrics),
                    "record the main ones; keep the rest in a file of the commit");
    std::string human(trim(record.message));
    for (const auto line : split_lines(human)) {
        if (is_signature_start(line))
            throw UsageError("the message contains a signature line (-----BEGIN ... SIGNATURE-----)",
                             "git would take it for the tag's signature; reword the message");
    }
    if (human.empty()) human = default_snapshot_message(record.model, record.version);
    std::string out = human + "\n\n";
    out += fmt::format("{}: {}\n", key_snapshot, snapshot_format_version);
    out += fmt::format("{}: {}\n", key_model, record.model);
    out += fmt::format("{}: {}\n", key_version, record.version);
    out += fmt::format("{}: {}\n", key_image, record.image ? *record.image : std::string(no_image));
    if (record.image_id) out += fmt::format("{}: {}\n", key_image_id, *record.image_id);
    if (record.dirty) out += fmt::format("{}: {}\n", key_dirty, *record.dirty);
    for (const auto& gpu : record.gpus) out += fmt::format("{}: {}\n", key_gpu, format_gpu(gpu));
    std::unordered_set<std::string> names;
    for (const auto& metric : record.metrics) {
        if (!names.insert(metric.name).second)  // readers refuse such a tag: it is never made
            throw Error(fmt::format("the metric '{}' is given twice", printable(metric.name, 200)),
                        "record each metric once");
        out += fmt::format("{}: {}={}\n", key_metric, metric.name, metric.text);
    }
    return out;
}

SnapshotRecord parse_snapshot_message(std::string_view message) {
    const auto lines = split_lines(without_signature(message));
    // The last paragraph: after trailing blank lines, back to the previous blank line.
    std::size_t end = lines.size();
    while (end > 0 && is_blank(lines[end - 1])) --end;
    std::size_t begin = end;
    while (begin > 0 && !is_blank(lines[begin - 1])) --begin;
    if (begin == end) throw Error("the tag message is empty");

    const auto split = [](std::string_view line) -> std::optional<std::pair<std::string_view, std::string_view>> {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        return std::make_pair(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    };
    const auto first = split(lines[begin]);
    if (!first || !equals_ignoring_case(first->first, key_snapshot))
        throw Error(fmt::format("the message has no '{}:' block", key_snapshot));
    const auto format = parse_positive(first->second);
    if (!format) throw Error(fmt::format("'{}: {}' is not a format number", key_snapshot, first->second));
    if (*format > static_cast<unsigned>(snapshot_format_version)) {
        throw Error(fmt::format("the block has format {}; this git-model reads format {}", *format,
                                snapshot_format_version),
                    "upgrade git-model");
    }

    SnapshotRecord record;
    std::unordered_set<std::string> metric_names;
    bool have_model = false, have_version = false;
    for (std::size_t i = begin + 1; i < end; ++i) {
        const auto field = split(lines[i]);
        if (!field) throw Error(fmt::format("line {} of the block is not 'Key: value'", i - begin + 1));
        const auto [key, value] = *field;
        if (equals_ignoring_case(key, key_model)) {
            record.model = std::string(value);
            have_model = !value.empty();
        } else if (equals_ignoring_case(key, key_version)) {
            const auto version = parse_positive(value);
            if (!version) throw Error(fmt::format("'{}: {}' is not a version number", key_version, value));
            record.version = *version;
            have_version = true;
        } else if (equals_ignoring_case(key, key_image)) {
            if (value.empty()) throw Error(fmt::format("'{}:' is empty", key_image));
            if (value == no_image) record.image.reset();
            else record.image = std::string(value);
        } else if (equals_ignoring_case(key, key_image_id)) {
            if (!value.empty()) record.image_id = std::string(value);
        } else if (equals_ignoring_case(key, key_dirty)) {
            record.dirty = std::string(value.empty() ? std::string_view("unknown") : value);
        } else if (equals_ignoring_case(key, key_gpu)) {
            record.gpus.push_back(parse_gpu(value));
        } else if (equals_ignoring_case(key, key_metric)) {
            const auto equals = value.find('=');
            if (equals == std::string_view::npos)
                throw Error(fmt::format("'{}: {}' is not <name>=<value>", key_metric, value));
            const std::string_view name = value.substr(0, equals);
            if (auto problem = metric_name_problem(name))
                throw Error(fmt::format("metric name {} {}", quote_for_message(name), *problem));
            Metric metric;
            try {
                metric = parse_metric_value(name, value.substr(equals + 1));
            } catch (const Error& e) {
                throw Error(e.what());  // a bad tag is a failure to read, not a usage error
            }
            if (record.metrics.size() == max_snapshot_metrics)
                throw Error(fmt::format("it records more than {} metrics", max_snapshot_metrics));
            if (!metric_names.insert(metric.name).second)
                throw Error(fmt::format("metric '{}' appears twice", metric.name));
            record.metrics.push_back(std::move(metric));
        }
        // Other keys are from a later minor revision of the format: ignored.
    }
    if (!have_model) throw Error(fmt::format("the block has no '{}:' line", key_model));
    if (!have_version) throw Error(fmt::format("the block has no '{}:' line", key_version));

    std::size_t human_end = begin;
    while (human_end > 0 && is_blank(lines[human_end - 1])) --human_end;
    std::string human;
    for (std::size_t i = 0; i < human_end; ++i) {
        if (i) human += '\n';
        human += lines[i];
    }
    record.message = human;
    return record;
}

const Snapshot* best_snapshot(const std::vector<Snapshot>& snapshots, std::string_view metric, bool minimize) {
    const Snapshot* best = nullptr;
    double best_value = 0;
    for (const auto& snapshot : snapshots) {
        const Metric* found = find_metric(snapshot.record.metrics, metric);
        if (!found) continue;
        const bool better = !best || (minimize ? found->value < best_value : found->value > best_value) ||
                            (found->value == best_value && snapshot.record.version > best->record.version);
        if (better) {
            best = &snapshot;
            best_value = found->value;
        }
    }
    return best;
}

std::vector<std::string> metric_columns(const std::vector<Snapshot>& newest_first) {
    std::vector<std::string> columns;
    std::unordered_set<std::string> seen;
    for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it)
        for (const auto& metric : it->record.metrics)
            if (seen.insert(metric.name).second) columns.push_back(metric.name);
    return columns;
}

std::unordered_map<std::string_view, const Metric*> metrics_by_name(const std::vector<Metric>& metrics) {
    std::unordered_map<std::string_view, const Metric*> out;
    for (const auto& metric : metrics) out.emplace(metric.name, &metric);
    return out;
}

std::vector<MetricComparison> compare_metrics(const SnapshotRecord& a, const SnapshotRecord& b) {
    std::vector<MetricComparison> rows;
    const auto in_a = metrics_by_name(a.metrics);
    const auto in_b = metrics_by_name(b.metrics);
    for (const auto& metric : a.metrics) {
        MetricComparison row;
        row.name = metric.name;
        row.a = metric;
        if (const auto other = in_b.find(metric.name); other != in_b.end()) {
            row.b = *other->second;
            row.difference = other->second->value - metric.value;
        }
        rows.push_back(std::move(row));
    }
    for (const auto& metric : b.metrics) {
        if (in_a.count(metric.name)) continue;
        MetricComparison row;
        row.name = metric.name;
        row.b = metric;
        rows.push_back(std::move(row));
    }
    return rows;
}

std::optional<std::vector<std::string>> compare_hardware(const SnapshotRecord& a, const SnapshotRecord& b) {
    if (a.gpus.empty() || b.gpus.empty()) return std::nullopt;
    std::vector<std::string> differences;
    if (models_differ(a, b)) differences.push_back("gpu_model");
    if (field_values(a, &SnapshotGpu::uuid) != field_values(b, &SnapshotGpu::uuid)) differences.push_back("gpu");
    auto drivers_a = distinct_field_values(a, &SnapshotGpu::driver_version);
    auto drivers_b = distinct_field_values(b, &SnapshotGpu::driver_version);
    if (drivers_a.empty() || drivers_b.empty()) {  // no release known on a side: the CUDA version the driver gives
        drivers_a = distinct_field_values(a, &SnapshotGpu::cuda_driver_version);
        drivers_b = distinct_field_values(b, &SnapshotGpu::cuda_driver_version);
    }
    if (!drivers_a.empty() && !drivers_b.empty() && drivers_a != drivers_b) differences.push_back("driver");
    return differences;
}

std::string describe_gpu(const SnapshotGpu& gpu) {
    std::string out = gpu.name.empty() ? gpu.uuid : fmt::format("{} ({})", gpu.name, gpu.uuid.substr(0, 12));
    if (!gpu.driver_version.empty()) out += ", driver " + gpu.driver_version;
    if (!gpu.cuda_driver_version.empty()) out += ", CUDA " + gpu.cuda_driver_version;
    return out;
}

nlohmann::json to_json(const SnapshotGpu& gpu) {
    const auto text = [](const std::string& value) { return value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value); };
    const auto number = [](const std::optional<double>& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); };
    return {{"uuid", gpu.uuid},
            {"name", text(gpu.name)},
            {"driver_version", text(gpu.driver_version)},
            {"cuda_driver_version", text(gpu.cuda_driver_version)},
            {"triad_fraction", number(gpu.triad_fraction)},
            {"fp32_fraction", number(gpu.fp32_fraction)},
            {"bench_mode", text(gpu.bench_mode)},
            {"bench_time", gpu.bench_time > 0 ? nlohmann::json(gpu.bench_time) : nlohmann::json(nullptr)},
            {"bench_by", text(gpu.bench_by)}};
}

nlohmann::json to_json(const Snapshot& snapshot) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& metric : snapshot.record.metrics) metrics[metric.name] = metric_json(metric);
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& gpu : snapshot.record.gpus) gpus.push_back(to_json(gpu));
    return {
        {"tag", snapshot.tag},
        {"model", snapshot.record.model},
        {"version", snapshot.record.version},
        {"commit", snapshot.commit},
        {"time", snapshot.time},
        {"tagger", snapshot.tagger},
        {"message", snapshot.record.message},
        {"image", snapshot.record.image ? nlohmann::json(*snapshot.record.image) : nlohmann::json(nullptr)},
        {"image_id", snapshot.record.image_id ? nlohmann::json(*snapshot.record.image_id) : nlohmann::json(nullptr)},
        {"dirty", snapshot.record.dirty.has_value()},
        {"dirty_hash", snapshot.record.dirty ? nlohmann::json(*snapshot.record.dirty) : nlohmann::json(nullptr)},
        {"metrics", metrics},
        {"gpus", gpus},
    };
}

}  // namespace gm::snapshots
