#pragma once
// A small, bounded YAML tree for configuration loaders, built from yaml-cpp's
// event parser (the only file that includes yaml-cpp). Owning the tree lets us
// keep every node's line:column (aliases included), see duplicate keys that
// yaml-cpp accepts, refuse recursive aliases, and cap what aliases expand to.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gm::config::detail {

// A place in the source as messages print it: 1-based line and byte column.
struct Position {
    // 1-based line number.
    int line = 1;
    // 1-based column, counted in bytes like yaml-cpp and most compilers.
    int column = 1;
};

// What a node is; aliases are kept as nodes so that errors point where the alias was written.
enum class NodeKind { null, scalar, sequence, mapping, alias };

// One node; children index into YamlDocument's node table (a mapping stores key, value, key, value, ...).
struct YamlNode {
    // The node's kind, decided by the parser.
    NodeKind kind = NodeKind::null;
    // Where the node (or its anchor or tag) starts.
    Position position;
    // "?" for a plain scalar or untagged collection, "!" for a quoted scalar, else an explicit tag.
    std::string tag;
    // A scalar's text as written (after YAML unquoting and folding).
    std::string value;
    // Sequence items, or mapping keys and values interleaved.
    std::vector<std::size_t> children;
    // For an alias: the index of the anchored node it names.
    std::size_t target = 0;
    // How many nodes this one stands for once aliases are expanded (saturates above the limit).
    std::uint64_t expanded = 1;
    // False while a collection's end has not been parsed, to catch aliases to an enclosing node.
    bool complete = false;
    // For a null: true when nothing was written (an empty value), whose position yaml-cpp puts at
    // the next token, so messages should point at the key or list instead.
    bool implicit = false;
    // For a collection: written in flow style ({...} or [...]) rather than as indented lines.
    bool flow = false;
};

// Bounds that keep a hostile file from costing time or memory (the loader is fuzzed).
struct YamlLimits {
    // Files above this are refused before parsing.
    std::size_t max_bytes = 1u << 20;
    // The document, with every alias counted as a copy of what it names, may have at most this many nodes.
    std::uint64_t max_expanded_nodes = 100000;
};

// One parsed YAML document, immutable; nodes refer to each other by index.
class YamlDocument {
public:
    // Takes the node table built by the parser; root is the top node's index.
    YamlDocument(std::vector<YamlNode> nodes, std::size_t root, Position start)
        : nodes_(std::move(nodes)), root_(root), start_(start) {}

    // The top node, so walkers have a place to start.
    std::size_t root() const noexcept { return root_; }
    // Where the document starts, for errors about an empty top level (which has no position).
    Position start() const noexcept { return start_; }
    // A node as written (possibly an alias), for its position.
    const YamlNode& node(std::size_t index) const { return nodes_.at(index); }
    // The node an alias names (or the node itself), for its content.
    const YamlNode& resolved(std::size_t index) const;

private:
    std::vector<YamlNode> nodes_;
    std::size_t root_;
    Position start_;
};

// Checks raw bytes before any parsing: size cap, valid UTF-8, YAML-printable
// characters only, no lone carriage returns, no tabs in indentation, '[' and '{'
// nested at most 100 deep (yaml-cpp would buffer them all first). Throws
// ConfigError naming display_name and the first offending line:column.
void check_yaml_text(std::string_view text, const std::string& display_name, const YamlLimits& limits = {});

// Parses text that must hold exactly one YAML document; every problem (syntax,
// second document, recursive or exploding aliases, empty input) becomes a
// ConfigError with a position, never a yaml-cpp exception.
YamlDocument parse_yaml_document(std::string_view text, const std::string& display_name,
                                 const YamlLimits& limits = {});

}  // namespace gm::config::detail
