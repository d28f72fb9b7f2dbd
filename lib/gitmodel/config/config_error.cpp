#include "gitmodel/config/config_error.hpp"

#include <fmt/core.h>

namespace gm::config {

ConfigError::ConfigError(std::string file, int line, int column, std::string message, std::string hint)
    : gm::Error(fmt::format("{}:{}:{}: {}", file, line, column, message), std::move(hint)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      detail_(std::move(message)) {}

}  // namespace gm::config
