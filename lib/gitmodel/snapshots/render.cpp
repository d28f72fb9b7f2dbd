#include "gitmodel/snapshots/render.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <algorithm>
#include <ctime>

namespace gm::snapshots {

namespace {

// Pads cells to column widths; the last column is not padded. Every cell is made printable: a
// snapshot's message, image and metrics are whoever tagged it's text (a teammate's escape
// sequences must not reach the terminal).
std::string render_table(std::vector<std::vector<std::string>> rows, const std::vector<bool>& right_aligned) {
    for (auto& row : rows)
        for (auto& cell : row) cell = printable(cell);
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i) line += "  ";
            const bool right = i < right_aligned.size() && right_aligned[i];
            if (i + 1 == row.size() && !right) line += row[i];
            else if (right) line += fmt::format("{:>{}}", row[i], widths[i]);
            else line += fmt::format("{:<{}}", row[i], widths[i]);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}


}  // namespace

std::string format_local_time(std::int64_t seconds) {
    if (seconds <= 0) return "-";
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm local{};
    ::localtime_r(&t, &local);
    return fmt::format("{:%Y-%m-%d %H:%M}", local);
}

std::string inline_metrics(const std::vector<Metric>& metrics) {
    std::vector<std::string> parts;
    for (const auto& metric : metrics) parts.push_back(metric.name + "=" + metric.text);
    return join(parts, ", ");
}

namespace {

// The GPUs of a snapshot in a log cell: "NVIDIA H100 (GPU-1a2b3c4d) triad 91% fp32 78%", joined by " + ".
std::string gpu_summary(const std::vector<SnapshotGpu>& gpus) {
    if (gpus.empty()) return "-";
    std::vector<std::string> parts;
    for (const auto& gpu : gpus) {
        std::string part = gpu.name.empty() ? gpu.uuid.substr(0, 12) : fmt::format("{} ({})", gpu.name, gpu.uuid.substr(0, 12));
        if (gpu.triad_fraction) part += fmt::format(" triad {:.0f}%", *gpu.triad_fraction * 100.0);
        if (gpu.fp32_fraction) part += fmt::format(" fp32 {:.0f}%", *gpu.fp32_fraction * 100.0);
        if (!gpu.bench_by.empty() && (gpu.triad_fraction || gpu.fp32_fraction)) part += " (bench by " + gpu.bench_by + ")";
        parts.push_back(printable(part));
    }
    return join(parts, " + ");
}

// The hardware line of a comparison: nothing when a snapshot records none.
std::string hardware_line(const Comparison& comparison) {
    if (!comparison.hardware) return "";
    const auto gpus = [](const Snapshot& s) {
        std::vector<std::string> parts;
        for (const auto& gpu : s.record.gpus) parts.push_back(printable(describe_gpu(gpu)));
        return join(parts, " + ");
    };
    if (comparison.hardware->empty()) return fmt::format("Hardware: same: {}\n", gpus(comparison.a));
    std::vector<std::string> what;
    for (const auto& d : *comparison.hardware)
        what.push_back(d == "gpu_model" ? "GPU model" : d == "gpu" ? "GPU" : d == "driver" ? "driver" : d);
    return fmt::format("Hardware: DIFFERENT ({}): {} ran on {}; {} ran on {}\n", join(what, ", "), comparison.a.tag,
                       gpus(comparison.a), comparison.b.tag, gpus(comparison.b));
}

}  // namespace

std::string render_log(const std::vector<Snapshot>& newest_first) {
    const auto columns = metric_columns(newest_first);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"VERSION", "DATE", "COMMIT"};
    header.insert(header.end(), columns.begin(), columns.end());
    const bool any_gpu = std::any_of(newest_first.begin(), newest_first.end(),
                                     [](const Snapshot& s) { return !s.record.gpus.empty(); });
    header.push_back("IMAGE");
    if (any_gpu) header.push_back("GPU");  // no column (no noise) where no snapshot knows its hardware
    header.push_back("MESSAGE");
    rows.push_back(header);
    for (const auto& snapshot : newest_first) {
        std::vector<std::string> row{fmt::format("v{}{}", snapshot.record.version, snapshot.record.dirty ? " (dirty)" : ""),
                                     format_local_time(snapshot.time),
                                     short_id(snapshot.commit)};
        const auto by_name = metrics_by_name(snapshot.record.metrics);
        for (const auto& column : columns) {
            const auto metric = by_name.find(column);
            row.push_back(metric != by_name.end() ? metric->second->text : "-");
        }
        row.push_back(snapshot.record.image ? *snapshot.record.image : "-");
        if (any_gpu) row.push_back(gpu_summary(snapshot.record.gpus));
        row.push_back(first_line(snapshot.record.message));
        rows.push_back(std::move(row));
    }
    std::vector<bool> right(3 + columns.size(), false);
    for (std::size_t i = 0; i < columns.size(); ++i) right[3 + i] = true;
    return render_table(rows, right);
}

std::string render_compare(const Comparison& comparison) {
    const auto& a = comparison.a;
    const auto& b = comparison.b;
    const auto dirty = [](const Snapshot& s) { return s.record.dirty ? std::string(", dirty") : std::string(); };
    std::string out = fmt::format("{} ({}{})  ->  {} ({}{})\n", a.tag, short_id(a.commit), dirty(a), b.tag,
                                  short_id(b.commit), dirty(b));
    for (const Snapshot* s : {&a, &b})
        if (s->record.dirty)
            out += fmt::format("Dirty: {} was tagged with uncommitted changes (hash {}): its commit does not hold "
                               "all the code that made its metrics\n",
                               s->tag, printable(s->record.dirty->substr(0, 12)));
    out += "\n";
    if (comparison.metrics.empty()) {
        out += "No metrics recorded in either snapshot.\n";
    } else {
        std::vector<std::vector<std::string>> rows{{"METRIC", a.tag, b.tag, "CHANGE"}};
        for (const auto& row : comparison.metrics) {
            std::string change = "-";
            if (row.a && row.b) change = format_difference(row.a->value, row.b->value);
            else if (row.b) change = "(new)";
            else change = "(gone)";
            rows.push_back({row.name, row.a ? row.a->text : "-", row.b ? row.b->text : "-", change});
        }
        out += render_table(rows, {false, true, true, true});
    }
    out += "\n";
    const auto image = [](const std::optional<std::string>& value) { return value ? printable(*value) : std::string("(none)"); };
    if (comparison.image_changed)
        out += fmt::format("Image: changed: {} -> {}\n", image(a.record.image), image(b.record.image));
    else
        out += fmt::format("Image: unchanged: {}\n", image(a.record.image));
    out += hardware_line(comparison);
    out += fmt::format("Commits: {} in {} that are not in {}", comparison.commit_count, b.tag, a.tag);
    if (comparison.only_in_a) out += fmt::format(" ({} in {} are not in {})", comparison.only_in_a, a.tag, b.tag);
    out += "\n";
    for (const auto& commit : comparison.commits)
        out += fmt::format("  {} {}  {}\n", short_id(commit.id), format_local_time(commit.commit_time), printable(commit.subject));
    if (comparison.commits.size() < comparison.commit_count)
        out += fmt::format("  ... and {} more\n", comparison.commit_count - comparison.commits.size());
    return out;
}

}  // namespace gm::snapshots
