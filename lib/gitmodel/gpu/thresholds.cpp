#include "gitmodel/gpu/thresholds.hpp"

#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <string>

namespace gm::gpu {

Thresholds merge(const Thresholds& file, const Thresholds& flags) {
    Thresholds out = file;
    if (flags.min_bandwidth_fraction) out.min_bandwidth_fraction = flags.min_bandwidth_fraction;
    if (flags.min_quick_bandwidth_fraction) out.min_quick_bandwidth_fraction = flags.min_quick_bandwidth_fraction;
    if (flags.min_fp32_fraction) out.min_fp32_fraction = flags.min_fp32_fraction;
    if (flags.min_compute_capability) out.min_compute_capability = flags.min_compute_capability;
    if (flags.min_free_memory) out.min_free_memory = flags.min_free_memory;
    return out;
}

EffectiveThresholds resolve(const Thresholds& thresholds) {
    EffectiveThresholds out;
    out.min_bandwidth_fraction = thresholds.min_bandwidth_fraction.value_or(defaults::min_bandwidth_fraction);
    out.min_quick_bandwidth_fraction =
        thresholds.min_quick_bandwidth_fraction.value_or(defaults::min_quick_bandwidth_fraction);
    out.min_fp32_fraction = thresholds.min_fp32_fraction.value_or(defaults::min_fp32_fraction);
    out.min_compute_capability = thresholds.min_compute_capability;
    out.min_free_memory = thresholds.min_free_memory;
    return out;
}

namespace {

// Parses a whole string as a finite non-negative decimal number (no sign, no exponent, no space).
std::optional<double> parse_decimal(std::string_view text) {
    if (text.empty()) return std::nullopt;
    bool seen_digit = false, seen_dot = false;
    for (char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c))) seen_digit = true;
        else if (c == '.' && !seen_dot) seen_dot = true;
        else return std::nullopt;
    }
    if (!seen_digit) return std::nullopt;
    // strtod needs a terminated string; the text is short and validated above.
    return std::strtod(std::string(text).c_str(), nullptr);
}

}  // namespace

std::optional<double> parse_fraction(std::string_view text) {
    double scale = 1.0;
    if (!text.empty() && text.back() == '%') {
        text.remove_suffix(1);
        scale = 100.0;
    }
    const auto value = parse_decimal(text);
    if (!value) return std::nullopt;
    const double fraction = *value / scale;
    if (fraction < 0.0 || fraction > 1.0) return std::nullopt;
    return fraction;
}

}  // namespace gm::gpu
