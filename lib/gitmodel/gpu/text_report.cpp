#include "gitmodel/config/values.hpp"
#include "gitmodel/gpu/text_report.hpp"

#include <fmt/core.h>

namespace gm::gpu {

namespace {

// One row of the measurement table: name, median and best rate, peak and fraction when known.
void rate_row(std::string& out, const char* name, const std::optional<Rate>& rate, const std::optional<double>& peak,
              const std::optional<double>& fraction, const char* unit, int decimals) {
    if (!rate) return;
    const std::string median = fmt::format("{:.{}f} {}", rate->median, decimals, unit);
    const std::string best = fmt::format("{:.{}f} {}", rate->best, decimals, unit);
    const std::string peak_text = peak ? fmt::format("{:.{}f} {}", *peak, decimals, unit) : std::string("-");
    const std::string fraction_text = fraction ? fmt::format("{:.1f}%", *fraction * 100.0) : std::string("-");
    out += fmt::format("  {:<16} {:>17} {:>17} {:>17} {:>8}\n", name, median, best, peak_text, fraction_text);
}

void device_block(std::string& out, const DeviceReport& d) {
    if (d.info) {
        const auto& i = *d.info;
        out += fmt::format("GPU {}  {}  {}  PCI {}\n", d.index, i.name, format_uuid(i.uuid), format_pci_bus_id(i));
        out += fmt::format("  compute capability {}, {} multiprocessors, {} memory", to_string(i.capability),
                           i.multiprocessors, config::format_byte_size(i.memory_total_bytes));
        if (d.memory_free_bytes) out += fmt::format(" ({} free)", config::format_byte_size(*d.memory_free_bytes));
        out += "\n";
    } else {
        out += fmt::format("GPU {}\n", d.index);
    }
    if (d.error && d.error->kind != FailureKind::timeout) {
        const bool judge = failure_class(d.error->kind) == FailureClass::cannot_judge;
        out += fmt::format("  {}: {}\n", judge ? "cannot judge" : "unusable", d.error->message);
        if (!d.error->hint.empty()) out += fmt::format("  hint: {}\n", d.error->hint);
        if (d.checks.empty()) {
            out += fmt::format("  verdict: {}\n", to_string(d.verdict));
            return;
        }
    }
    const auto& m = d.measurements;
    const auto& p = d.peaks;
    if (m.triad_gbps || m.copy_gbps || m.fp32_tflops || m.h2d_gbps || m.d2h_gbps) {
        out += fmt::format("  {:<16} {:>17} {:>17} {:>17} {:>8}\n", "measurement", "median", "best", "peak", "of peak");
        rate_row(out, "triad", m.triad_gbps, p.memory_bandwidth_gbps, m.triad_fraction, "GB/s", 1);
        rate_row(out, "copy", m.copy_gbps, p.memory_bandwidth_gbps, m.copy_fraction, "GB/s", 1);
        rate_row(out, "FP32 FMA", m.fp32_tflops, p.fp32_tflops, m.fp32_fraction, "TFLOP/s", 2);
        rate_row(out, "host to device", m.h2d_gbps, std::nullopt, std::nullopt, "GB/s", 1);
        rate_row(out, "device to host", m.d2h_gbps, std::nullopt, std::nullopt, "GB/s", 1);
    }
    for (const auto& c : d.checks) out += fmt::format("  {:<4}  {:<18} {}\n", c.passed ? "ok" : "FAIL", c.name, c.detail);
    for (std::size_t i = 1; i < d.memtest_errors.size(); ++i) {
        const auto& e = d.memtest_errors[i];
        out += fmt::format("        {:<18} also at 0x{:x} (offset {}): read 0x{:016x}, expected 0x{:016x}\n", "", e.address,
                           e.offset, e.got, e.expected);
    }
    for (const auto& w : d.warnings) out += fmt::format("  warning: {}\n", w);
    out += fmt::format("  verdict: {}\n", to_string(d.verdict));
}

}  // namespace

std::string render_text(const BenchReport& report) {
    std::string out;
    for (const auto& d : report.devices) {
        device_block(out, d);
        out += "\n";
    }
    for (const auto& gpu : report.skipped)
        out += fmt::format("GPU {} ({}): skipped, another user holds it\n\n", gpu.index, gpu.uuid);
    std::string versions;
    if (!report.driver_release.empty()) versions += fmt::format("driver {}", report.driver_release);
    if (report.cuda_driver_version > 0)
        versions += fmt::format("{}CUDA {}", versions.empty() ? "driver " : " (", format_cuda_version(report.cuda_driver_version)) +
                    (report.driver_release.empty() ? "" : ")");
    if (report.kernels_version > 0)
        versions += fmt::format("{}kernels CUDA {}", versions.empty() ? "" : ", ", format_cuda_version(report.kernels_version));
    if (!versions.empty()) versions += ", ";
    out += fmt::format("{}{} mode, {:.2f} s\n", versions, to_string(report.mode), report.elapsed_ms / 1000.0);
    out += fmt::format("verdict: {}\n", to_string(report.verdict));
    return out;
}

std::string render_error(const std::string& program, const Failure& failure) {
    std::string out = fmt::format("{}: error: {}\n", program, failure.message);
    if (!failure.hint.empty()) out += fmt::format("hint: {}\n", failure.hint);
    return out;
}

}  // namespace gm::gpu
