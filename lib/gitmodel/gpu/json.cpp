#include "gitmodel/gpu/json.hpp"

#include "gitmodel/gpu/pattern.hpp"

#include <fmt/core.h>

#include <cmath>

namespace gm::gpu {

namespace {

using nlohmann::ordered_json;

// A number rounded for reading (the extra digits of a timing are noise), or null.
ordered_json rounded(const std::optional<double>& value, int decimals) {
    if (!value || !std::isfinite(*value)) return nullptr;
    const double scale = std::pow(10.0, decimals);
    return std::round(*value * scale) / scale;
}

// A 64-bit value as "0x..." (JSON numbers lose precision past 2^53).
ordered_json hex(std::uint64_t value) { return fmt::format("0x{:016x}", value); }

// A string, or null when empty.
ordered_json text_or_null(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }

// A CUDA version ("13.0"), or null when unknown.
ordered_json version_or_null(int version) { return version > 0 ? ordered_json(format_cuda_version(version)) : ordered_json(nullptr); }

ordered_json failure_json(const std::optional<Failure>& failure) {
    if (!failure) return nullptr;
    return ordered_json{{"kind", std::string(to_string(failure->kind))},
                {"message", failure->message},
                {"hint", text_or_null(failure->hint)},
                {"step", text_or_null(failure->step)},
                {"device", failure->device >= 0 ? ordered_json(failure->device) : ordered_json(nullptr)}};
}

// Puts the best and median of a rate under `name` and `name_median`.
void put_rate(ordered_json& out, const std::string& name, const std::optional<Rate>& rate, int decimals) {
    out[name] = rate ? rounded(rate->best, decimals) : ordered_json(nullptr);
    out[name + "_median"] = rate ? rounded(rate->median, decimals) : ordered_json(nullptr);
}

ordered_json device_json(const DeviceReport& d) {
    ordered_json out;
    out["index"] = d.index;
    const auto& info = d.info;
    const auto field = [&](auto get) -> ordered_json { return info ? ordered_json(get(*info)) : ordered_json(nullptr); };
    out["uuid"] = field([](const DeviceInfo& i) { return format_uuid(i.uuid); });
    out["name"] = field([](const DeviceInfo& i) { return i.name; });
    out["pci_bus_id"] = field([](const DeviceInfo& i) { return format_pci_bus_id(i); });
    out["compute_capability"] = field([](const DeviceInfo& i) { return to_string(i.capability); });
    out["memory_total_bytes"] = field([](const DeviceInfo& i) { return i.memory_total_bytes; });
    out["memory_free_bytes"] = d.memory_free_bytes ? ordered_json(*d.memory_free_bytes) : ordered_json(nullptr);
    out["multiprocessors"] = field([](const DeviceInfo& i) { return i.multiprocessors; });
    out["clock_khz"] = field([](const DeviceInfo& i) { return i.clock_khz; });
    out["memory_clock_khz"] = field([](const DeviceInfo& i) { return i.memory_clock_khz; });
    out["memory_bus_width_bits"] = field([](const DeviceInfo& i) { return i.memory_bus_width_bits; });
    out["l2_cache_bytes"] = field([](const DeviceInfo& i) { return i.l2_cache_bytes; });
    out["compute_mode"] = field([](const DeviceInfo& i) { return i.compute_mode; });
    out["mig_slice"] = field([](const DeviceInfo& i) { return is_mig_slice(i); });

    const auto& p = d.peaks;
    out["peaks"] = ordered_json{{"memory_bandwidth_gbps", rounded(p.memory_bandwidth_gbps, 1)},
                        {"fp32_tflops", rounded(p.fp32_tflops, 3)},
                        {"fp32_lanes_per_multiprocessor",
                         p.fp32_lanes_per_multiprocessor > 0 ? ordered_json(p.fp32_lanes_per_multiprocessor) : ordered_json(nullptr)},
                        {"fp32_lanes_estimated", p.fp32_lanes_estimated}};

    const auto& m = d.measurements;
    ordered_json measured = ordered_json::object();
    put_rate(measured, "triad_gbps", m.triad_gbps, 1);
    measured["triad_fraction"] = rounded(m.triad_fraction, 4);
    put_rate(measured, "copy_gbps", m.copy_gbps, 1);
    measured["copy_fraction"] = rounded(m.copy_fraction, 4);
    put_rate(measured, "h2d_gbps", m.h2d_gbps, 2);
    put_rate(measured, "d2h_gbps", m.d2h_gbps, 2);
    put_rate(measured, "fp32_tflops", m.fp32_tflops, 3);
    measured["fp32_fraction"] = rounded(m.fp32_fraction, 4);
    measured["stream_buffer_bytes"] = m.stream_buffer_bytes;
    measured["stream_repetitions"] = m.stream_repetitions;
    measured["transfer_bytes"] = m.transfer_bytes;
    measured["transfer_repetitions"] = m.transfer_repetitions;
    measured["fma_threads"] = m.fma_threads;
    measured["fma_iterations"] = m.fma_iterations;
    measured["fma_repetitions"] = m.fma_repetitions;
    measured["memtest_bytes"] = m.memtest_bytes;
    measured["memtest_ms"] = m.memtest_bytes > 0 ? rounded(m.memtest_ms, 2) : ordered_json(nullptr);
    measured["memtest_failures"] = m.memtest_failures;
    out["measurements"] = measured;

    ordered_json memtest = ordered_json::array();
    for (const auto& e : d.memtest_errors)
        memtest.push_back(ordered_json{{"address", hex(e.address)}, {"offset", e.offset}, {"got", hex(e.got)},
                               {"expected", hex(e.expected)},
                               {"test", e.test == pattern::memtest_address_test ? "address-in-address" : "moving-inversions"}});
    out["memtest_errors"] = memtest;
    out["peer"] = d.peer ? ordered_json{{"peers", d.peer->peers},
                                {"triad_vs_best_peer", rounded(d.peer->triad_vs_best_peer, 4)},
                                {"fp32_vs_best_peer", rounded(d.peer->fp32_vs_best_peer, 4)},
                                {"flagged", d.peer->flagged}}
                         : ordered_json(nullptr);
    out["warnings"] = d.warnings;

    ordered_json checks = ordered_json::array();
    for (const auto& c : d.checks) checks.push_back(ordered_json{{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
    out["checks"] = checks;
    out["verdict"] = std::string(to_string(d.verdict));
    out["error"] = failure_json(d.error);
    out["elapsed_ms"] = rounded(d.elapsed_ms, 1);
    ordered_json steps = ordered_json::array();
    for (const auto& step : d.steps) steps.push_back(ordered_json{{"name", step.name}, {"ms", rounded(step.ms, 2)}});
    out["steps"] = steps;
    return out;
}

}  // namespace

nlohmann::ordered_json to_json(const BenchReport& report) {
    ordered_json out;
    out["version"] = report.version;
    out["mode"] = std::string(to_string(report.mode));
    out["verdict"] = std::string(to_string(report.verdict));
    out["exit_code"] = report.exit_code;
    out["cuda_support"] = report.cuda_support;
    out["targets"] = report.targets;
    out["driver_version"] = text_or_null(report.driver_release);
    out["cuda_driver_version"] = version_or_null(report.cuda_driver_version);
    out["kernels_cuda_version"] = version_or_null(report.kernels_version);
    out["device_count"] = report.device_count;
    out["elapsed_ms"] = rounded(report.elapsed_ms, 1);
    out["init_ms"] = rounded(report.init_ms, 1);
    out["step_timeout_ms"] = report.step_timeout_ms;
    const auto& t = report.thresholds;
    out["thresholds"] = ordered_json{
        {"min_bandwidth_fraction", t.min_bandwidth_fraction},
        {"min_quick_bandwidth_fraction", t.min_quick_bandwidth_fraction},
        {"min_fp32_fraction", t.min_fp32_fraction},
        {"min_compute_capability", t.min_compute_capability ? ordered_json(to_string(*t.min_compute_capability)) : ordered_json(nullptr)},
        {"min_free_memory_bytes", t.min_free_memory ? ordered_json(*t.min_free_memory) : ordered_json(nullptr)}};
    ordered_json devices = ordered_json::array();
    for (const auto& d : report.devices) devices.push_back(device_json(d));
    out["devices"] = devices;
    ordered_json skipped = ordered_json::array();
    for (const auto& gpu : report.skipped) skipped.push_back(ordered_json{{"index", gpu.index}, {"uuid", gpu.uuid}});
    out["skipped"] = skipped;
    out["error"] = failure_json(report.error);
    return out;
}

std::string render_json(const BenchReport& report) { return to_json(report).dump(2) + "\n"; }

}  // namespace gm::gpu
