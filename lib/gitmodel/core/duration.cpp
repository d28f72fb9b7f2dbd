#include "gitmodel/core/duration.hpp"

#include <cctype>
#include <limits>

namespace gm {

std::optional<std::int64_t> parse_duration_seconds(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    std::size_t digits = 0;
    std::int64_t value = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return std::nullopt;
        value = value * 10 + (text[digits] - '0');
        ++digits;
    }
    if (digits == 0) return std::nullopt;
    const std::string_view unit = text.substr(digits);
    std::int64_t scale = 0;
    if (unit.empty() || unit == "s") scale = 1;
    else if (unit == "m" || unit == "min") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit == "d") scale = 86400;
    else if (unit == "w") scale = 7 * 86400;
    else return std::nullopt;
    if (value > std::numeric_limits<std::int64_t>::max() / scale) return std::nullopt;
    return value * scale;
}

}  // namespace gm
