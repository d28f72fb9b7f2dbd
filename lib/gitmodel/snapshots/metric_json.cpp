#include "gitmodel/snapshots/metric_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace gm::snapshots {

std::optional<std::int64_t> written_integer(const Metric& metric) {
    std::string_view text = metric.text;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return std::nullopt;
    std::string_view signed_text = metric.text;
    if (!signed_text.empty() && signed_text.front() == '+') signed_text.remove_prefix(1);
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(signed_text.data(), signed_text.data() + signed_text.size(), value);
    if (error != std::errc() || end != signed_text.data() + signed_text.size()) return std::nullopt;
    return value;
}

nlohmann::json metric_json(const Metric& metric) {
    if (const auto integer = written_integer(metric)) return *integer;
    return metric.value;
}

nlohmann::json difference_json(const Metric& a, const Metric& b) {
    const auto x = written_integer(a), y = written_integer(b);
    std::int64_t difference = 0;
    if (x && y && !__builtin_sub_overflow(*y, *x, &difference)) return difference;
    if (const auto rounded = rounded_difference(a.value, b.value)) return *rounded;
    return nullptr;
}

}  // namespace gm::snapshots
