#include "gitmodel/config/values.hpp"

#include <fmt/core.h>

#include <iterator>
#include <vector>

namespace gm::config {

namespace {

constexpr std::uint64_t max_bytes = static_cast<std::uint64_t>(INT64_MAX);

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    std::uint64_t whole = 0;
    const std::size_t whole_start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') {
        const std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
        if (whole > (max_bytes - digit) / 10) return std::nullopt;
        whole = whole * 10 + digit;
        ++i;
    }
    if (i == whole_start) return std::nullopt;

    // Six fraction digits are kept (1.123456t); fraction * multiplier then fits in 64 bits.
    std::uint64_t fraction = 0, fraction_scale = 1;
    bool has_fraction = false;
    if (i < n && text[i] == '.') {
        ++i;
        const std::size_t fraction_start = i;
        while (i < n && text[i] >= '0' && text[i] <= '9') {
            if (fraction_scale < 1000000) {
                fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
                fraction_scale *= 10;
            }
            ++i;
        }
        if (i == fraction_start) return std::nullopt;
        has_fraction = true;
    }

    std::string unit;
    for (; i < n; ++i) unit += lower(text[i]);
    std::uint64_t multiplier = 0;
    if (unit.empty() || unit == "b") multiplier = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib") multiplier = 1ULL << 10;
    else if (unit == "m" || unit == "mb" || unit == "mib") multiplier = 1ULL << 20;
    else if (unit == "g" || unit == "gb" || unit == "gib") multiplier = 1ULL << 30;
    else if (unit == "t" || unit == "tb" || unit == "tib") multiplier = 1ULL << 40;
    else return std::nullopt;
    if (has_fraction && multiplier == 1) return std::nullopt;  // no fractions of a byte

    if (whole > max_bytes / multiplier) return std::nullopt;
    std::uint64_t bytes = whole * multiplier;
    if (has_fraction) {
        const std::uint64_t part = fraction * multiplier / fraction_scale;  // < 10^6 * 2^40: no overflow
        if (part > max_bytes - bytes) return std::nullopt;
        bytes += part;
    }
    if (bytes == 0) return std::nullopt;
    return bytes;
}

std::string format_byte_size(std::uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    std::size_t unit = 0;
    std::uint64_t scale = 1;
    while (unit + 1 < std::size(units) && bytes / scale >= 1024) {
        scale *= 1024;
        ++unit;
    }
    if (bytes % scale == 0) return fmt::format("{} {}", bytes / scale, units[unit]);
    return fmt::format("{:.1f} {}", static_cast<double>(bytes) / static_cast<double>(scale), units[unit]);
}

PathCheck check_path(std::string_view path, PathKind kind) {
    PathCheck result;
    if (path.empty()) {
        result.problem = "is empty";
        return result;
    }
    for (unsigned char c : path) {
        if (c == '\n') {
            result.problem = "contains a newline";
            return result;
        }
        if (c < 0x20 || c == 0x7f) {
            result.problem = "contains a control character";
            return result;
        }
    }
    const bool absolute = path.front() == '/';
    if (kind == PathKind::absolute && !absolute) {
        result.problem = path.front() == '~' ? "is not absolute ('~' is not expanded)" : "is not absolute";
        return result;
    }
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(start, end - start);
        if (part == "..") {
            result.problem = "contains a '..' component";
            return result;
        }
        if (!part.empty() && part != ".") parts.push_back(part);
        start = end + 1;
    }
    std::string out = absolute ? "/" : "";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) out += '/';
        out += parts[i];
    }
    if (out.empty()) {
        result.problem = "names no folder";
        return result;
    }
    result.normalised = std::move(out);
    return result;
}

}  // namespace gm::config
