#pragma once
// Metrics in JSON as they were written: a metric given as 11800 is 11800 in every document,
// not 11800.0, so that JSON readers see what the user recorded.

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "gitmodel/snapshots/metrics.hpp"

namespace gm::snapshots {

// The value as an integer when it was written as one ("11800", "-3"; not "1e3" nor "2.0") and fits 64 bits.
std::optional<std::int64_t> written_integer(const Metric& metric);

// The value for JSON as it was written: an integer stays an integer (11800, not 11800.0).
nlohmann::json metric_json(const Metric& metric);

// b - a for JSON: an integer when both were written as integers, else rounded_difference; null
// when that is beyond a double's range.
nlohmann::json difference_json(const Metric& a, const Metric& b);

}  // namespace gm::snapshots
