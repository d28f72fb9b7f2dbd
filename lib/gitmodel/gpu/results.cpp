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
    case Verdict::cannot_judge: return "cannot-judge";
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
    const bool any_failed =
        std::any_of(device.checks.begin(), device.checks.end(), [](const Check& c) { return !c.passed; });
    if (any_failed) return Verdict::fail;
    if (device.error) {
        switch (failure_class(device.error->kind)) {
        case FailureClass::cannot_judge: return Verdict::cannot_judge;
        case FailureClass::no_gpu: return Verdict::unusable;
        case FailureClass::broken: return device.error->kind == FailureKind::timeout ? Verdict::fail : Verdict::unusable;
        }
    }
    return device.checks.empty() ? Verdict::fail : Verdict::pass;
}

void compare_peers(BenchReport& report) {
    // The median rate of a device, when measured (and the device is a whole GPU).
    const auto median = [](const DeviceReport& d, const std::optional<Rate> Measurements::*rate) -> std::optional<double> {
        if (!d.info || is_mig_slice(*d.info) || !(d.measurements.*rate)) return std::nullopt;
        return (d.measurements.*rate)->median;
    };
    for (auto& device : report.devices) {
        if (!device.info || is_mig_slice(*device.info)) continue;
        PeerComparison peer;
        std::optional<double> best_triad, best_fp32;
        for (const auto& other : report.devices) {
            if (&other == &device || !other.info || other.info->name != device.info->name || is_mig_slice(*other.info))
                continue;
            ++peer.peers;
            if (const auto v = median(other, &Measurements::triad_gbps)) best_triad = std::max(best_triad.value_or(0.0), *v);
            if (const auto v = median(other, &Measurements::fp32_tflops)) best_fp32 = std::max(best_fp32.value_or(0.0), *v);
        }
        if (peer.peers == 0) continue;
        const auto own_triad = median(device, &Measurements::triad_gbps);
        if (own_triad && best_triad && *best_triad > 0.0) peer.triad_vs_best_peer = *own_triad / *best_triad;
        // --quick's FMA launch is too small to time: FP32 is compared in full mode only.
        const auto own_fp32 = median(device, &Measurements::fp32_tflops);
        if (report.mode == Mode::full && own_fp32 && best_fp32 && *best_fp32 > 0.0)
            peer.fp32_vs_best_peer = *own_fp32 / *best_fp32;
        const double floor = 1.0 - peer_flag_margin;
        const auto flag = [&](const std::optional<double>& ratio, const char* what) {
            if (!ratio || *ratio >= floor) return;
            peer.flagged = true;
            device.warnings.push_back(fmt::format(
                "{} is {:.1f}% below the best other {} in this machine (more than {:.0f}%): a throttled or degraded "
                "card? (nvidia-smi -q -d PERFORMANCE,CLOCK,TEMPERATURE,POWER)",
                what, (1.0 - *ratio) * 100.0, device.info->name, peer_flag_margin * 100.0));
        };
        flag(peer.triad_vs_best_peer, "memory bandwidth");
        flag(peer.fp32_vs_best_peer, "FP32 throughput");
        device.peer = peer;
    }
}

void finalize(BenchReport& report) {
    bool any_fail = false, any_pass = false, any_unusable = false, any_cannot_judge = false;
    for (auto& device : report.devices) {
        device.verdict = device_verdict(device);
        any_fail |= device.verdict == Verdict::fail;
        any_pass |= device.verdict == Verdict::pass;
        any_unusable |= device.verdict == Verdict::unusable;
        any_cannot_judge |= device.verdict == Verdict::cannot_judge;
    }
    const bool timed_out = report.error && report.error->kind == FailureKind::timeout;
    if (timed_out || any_fail || (any_unusable && any_pass)) {
        report.verdict = Verdict::fail;
    } else if (report.error || report.devices.empty()) {
        const bool judge = report.error && failure_class(report.error->kind) == FailureClass::cannot_judge;
        report.verdict = judge ? Verdict::cannot_judge : Verdict::no_gpu;
    } else if (any_unusable || any_cannot_judge) {
        // The run-level error says why: the first such GPU's reason.
        const Verdict why = any_unusable ? Verdict::unusable : Verdict::cannot_judge;
        for (const auto& device : report.devices) {
            if (device.verdict == why && device.error) {
                report.error = device.error;
                break;
            }
        }
        report.verdict = any_unusable ? Verdict::no_gpu : Verdict::cannot_judge;
    } else {
        report.verdict = Verdict::pass;
    }
    report.exit_code = report.verdict == Verdict::pass ? 0 : report.verdict == Verdict::fail ? 1 : 3;
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
