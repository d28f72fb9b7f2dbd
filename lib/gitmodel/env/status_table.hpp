#pragma once
// The text table of `git model env status`, laid out from its content (a long model or
// container name widens its column instead of pushing the rest out of line).

#include <cstdint>
#include <string>
#include <vector>

#include "gitmodel/env/environment.hpp"

namespace gm::env {

// How long a running environment has been up, short ("45s", "12m", "3h", "2d"); "-" otherwise.
std::string format_uptime(const EnvStatus& environment, std::int64_t now);

// The table: one row per environment, its ports below it in the last column, drift notes after it.
std::string render_status_table(const std::vector<EnvStatus>& environments, std::int64_t now);

}  // namespace gm::env
