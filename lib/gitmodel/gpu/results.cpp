#include "gitmodel/gpu/results.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <iterator>

namespace gm::gpu {

std::string_view to_string(Mode mode) { return mode == Mode::quick ? "quick" : "full"; }

std::string_view to_string(Verdict verdict) {
    switch (verdict) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::unusable: return "unusable";
    case Verdict::no_gpu: return "no-gpu";
    }
    return "fail";
}

std::optional<Rate> rate_from_times(double units_per_repetition, const std::vector<double>& times_ms) {
    if (times_ms.empty()) return std::nullopt;
    std::vector<double> rates;
    for (double ms : times_ms) {
        if (!(ms > 0.0)) return std::nullopt;
        rates.push_back(units_per_repetition / (ms * 1e-3));
    }
    std::sort(rates.begin(), rates.end());
    const std::size_t n = rates.size();
    Rate rate;
    rate.best = rates.back();
    rate.median = n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2.0;
    return rate;
}

Verdict device_verdict(const DeviceReport& device) {
    if (device.error && device.error->kind != FailureKind::timeout) return Verdict::unusable;
    if (device.error || device.checks.empty()) return Verdict::fail;
    const bool all = std::all_of(device.checks.begin(), device.checks.end(), [](const Check& c) { return c.passed; });
    return all ? Verdict::pass : Verdict::fail;
}

void finalize(BenchReport& report) {
    for (auto& device : report.devices) device.verdict = device_verdict(device);
    const bool timed_out = report.error && report.error->kind == FailureKind::timeout;
    const bool any_usable = std::any_of(report.devices.begin(), report.devices.end(),
                                        [](const DeviceReport& d) { return d.verdict != Verdict::unusable; });
    if (timed_out) {
        report.verdict = Verdict::fail;
    } else if (report.error || report.devices.empty() || !any_usable) {
        report.verdict = Verdict::no_gpu;
        // The run-level error says why: the first GPU's reason when each GPU had its own.
        if (!report.error) {
            for (const auto& device : report.devices) {
                if (device.error) {
                    report.error = device.error;
                    break;
                }
            }
        }
    } else {
        const bool all = std::all_of(report.devices.begin(), report.devices.end(),
                                     [](const DeviceReport& d) { return d.verdict == Verdict::pass; });
        report.verdict = all ? Verdict::pass : Verdict::fail;
    }
    report.exit_code = report.verdict == Verdict::pass ? 0 : report.verdict == Verdict::no_gpu ? 3 : 1;
}

void mark_timed_out(BenchReport& report, const std::string& step, int device, int limit_ms) {
    Failure f;
    f.kind = FailureKind::timeout;
    f.step = step;
    f.device = device;
    f.message = device >= 0 ? fmt::format("GPU {}: step '{}' did not finish within {} ms: the GPU or its driver hangs",
                                          device, step, limit_ms)
                            : fmt::format("step '{}' did not finish within {} ms: the GPU driver hangs", step, limit_ms);
    f.hint = "check `dmesg` for Xid errors and `nvidia-smi` for the GPU's state; a GPU reset (`nvidia-smi -r`) or "
             "a reboot may be needed; --timeout-ms sets the limit";
    if (device >= 0) {
        auto it = std::find_if(report.devices.begin(), report.devices.end(),
                               [device](const DeviceReport& d) { return d.index == device; });
        if (it == report.devices.end()) {
            report.devices.emplace_back();
            it = std::prev(report.devices.end());
            it->index = device;
        }
        it->error = f;
        it->checks.push_back(Check{"time-limit", false, f.message});
    }
    report.error = f;
    finalize(report);
}

}  // namespace gm::gpu
