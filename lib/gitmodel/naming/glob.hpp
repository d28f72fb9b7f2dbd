#pragma once
// Glob patterns for the policies users write in git config: protected and
// allowed branches ("release/*"), tags, and data files ("*.pt", "data/**").

#include <string_view>

namespace gm::naming {

// Whether text matches pattern. '*' and '?' never cross a '/', "**" does
// (and "dir/**" matches everything under dir), [...] is a character class.
bool glob_match(std::string_view pattern, std::string_view text);

// Gitignore-style path matching: a pattern without '/' is matched against the
// file name at any depth ("*.pt"); one with '/' against the whole path ("data/**").
bool path_matches(std::string_view pattern, std::string_view path);

}  // namespace gm::naming
