#pragma once
// The error every configuration problem becomes: a gm::Error whose message
// starts with "<file>:<line>:<column>: ", the form compilers use, so that
// editors and terminals can jump to the spot.

#include "gitmodel/core/error.hpp"

#include <string>

namespace gm::config {

// A problem in a configuration file, with the place it was found, so that
// callers (and tests) can read the position without parsing the message.
class ConfigError : public gm::Error {
public:
    // Builds "<file>:<line>:<column>: <message>"; line and column are 1-based.
    ConfigError(std::string file, int line, int column, std::string message, std::string hint = {});

    // The file name as the user should see it (the name the loader was given).
    const std::string& file() const noexcept { return file_; }
    // 1-based line of the offending text, for tests and editor integration.
    int line() const noexcept { return line_; }
    // 1-based column (in bytes) of the offending text.
    int column() const noexcept { return column_; }
    // The message without the position prefix, for callers that print the place themselves.
    const std::string& detail() const noexcept { return detail_; }

private:
    std::string file_;
    int line_;
    int column_;
    std::string detail_;
};

}  // namespace gm::config
