#pragma once
// Durations as users write them in options and config ("90s", "30m", "6h", "14d", "2w").

#include <cstdint>
#include <optional>
#include <string_view>

namespace gm {

// Seconds in a duration with an optional unit (s, m, h, d, w; plain numbers
// are seconds); nullopt when malformed or negative, so callers give one message.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text);

}  // namespace gm
