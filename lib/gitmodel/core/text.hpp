#pragma once
// Small text helpers used across layers: suggestions for typos, joining, quoting.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm {

// Edit distance (with transpositions), the basis of every "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word when it is close enough to be a likely typo,
// so that unknown subcommands and config keys get a useful suggestion.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

// Joins items with a separator, for messages and tables.
std::string join(const std::vector<std::string>& items, std::string_view separator);

// Quotes a value for an error message so that white space and control bytes are visible.
std::string quote_for_message(std::string_view value);

// Whether text starts with prefix (C++17 has no std::string::starts_with).
bool starts_with(std::string_view text, std::string_view prefix);

// Whether text ends with suffix.
bool ends_with(std::string_view text, std::string_view suffix);

}  // namespace gm
