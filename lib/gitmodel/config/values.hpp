#pragma once
// Value syntaxes shared by configuration keys and command-line options:
// byte sizes ("16g") and host/container paths. Pure functions, no YAML.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gm::config {

// Parses a size such as "16g", "512m", "1024k", "2gb", "1.5GiB" or "1073741824"
// (binary multiples, case-insensitive, as docker and podman read them) into a
// positive byte count; nullopt when malformed, zero, or above 2^63-1, so that
// every caller gives one "expected a size" message.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// Formats a byte count for people ("16 GiB", "1.5 MiB", "512 B") in describe().
std::string format_byte_size(std::uint64_t bytes);

// How a path given in a configuration file may be written.
enum class PathKind {
    absolute,           // must start with '/'
    absolute_or_relative,  // relative ones are resolved later by the caller
};

// The outcome of check_path: either a normalised path or the reason it was refused.
struct PathCheck {
    // The path with duplicate '/', '.' components and a trailing '/' removed; empty on failure.
    std::string normalised;
    // Why the path is refused (e.g. "contains a '..' component"); empty on success.
    std::string problem;
};

// Checks a path for mounts, workdir and persist folders: no '..', no control
// characters, commas or double quotes (they break engine --mount syntax), and
// absolute where kind asks; normalises the rest so duplicates can be compared.
PathCheck check_path(std::string_view path, PathKind kind);

}  // namespace gm::config
