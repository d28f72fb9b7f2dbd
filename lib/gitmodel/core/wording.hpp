#pragma once
// Counted nouns and column layout for what the suite prints, so that every message says
// "1 run" (never "1 runs") and every table's columns fit what is in them.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gm {

// A count with its noun in the right number ("1 run", "2 runs", "0 runs"); the plural is the
// singular plus "s" unless given, so that no message says "1 runs".
std::string count_of(std::size_t count, std::string_view singular, std::string_view plural = {});

// The first `shown` items, comma-separated, and how many more there are ("a, b, c and 4 more"):
// a message names a few of many paths without growing with them.
std::string first_few(const std::vector<std::string>& items, std::size_t shown = 3);

// Columns padded to the widest cell of each (computed from the content, so a long name never
// breaks the alignment), two spaces apart; the last column is not padded, trailing blanks go.
// Every cell is made printable (gm::printable): tables show metric names, parameters and
// paths that others wrote, whose control characters must not drive the terminal.
std::string layout_columns(std::vector<std::vector<std::string>> rows);

}  // namespace gm
