#pragma once
// The text output of `git model status`, kept here so that the command stays thin.

#include <string>

#include "gitmodel/status/status.hpp"

namespace gm::status {

// `git model status`: one key column, one value each.
std::string render_status(const StatusReport& report);

}  // namespace gm::status
