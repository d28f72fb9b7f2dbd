#pragma once
// JSON documents as text, for --json outputs and files that carry names from the
// file system: JSON holds only UTF-8, and one file name in another encoding (any
// user can plant one in a shared folder) must not make the whole document fail.

#include <string>

#include <nlohmann/json.hpp>

namespace gm {

// The document as text (indent as nlohmann's dump); a string that is not UTF-8 is written
// with U+FFFD in place of its bad bytes instead of throwing.
inline std::string json_text(const nlohmann::json& value, int indent = 2) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gm
