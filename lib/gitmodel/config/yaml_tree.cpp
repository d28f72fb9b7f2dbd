#include "gitmodel/config/yaml_tree.hpp"

#include "gitmodel/config/config_error.hpp"

#include <fmt/core.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <unordered_map>

namespace gm::config::detail {

namespace {

constexpr std::string_view utf8_bom = "\xef\xbb\xbf";

// Bytes of a leading byte order mark, which yaml-cpp skips without counting it in columns or offsets.
std::size_t bom_length(std::string_view text) { return text.substr(0, 3) == utf8_bom ? 3 : 0; }

// Line and column (1-based, bytes, a leading BOM not counted, as yaml-cpp counts) of a byte offset.
Position position_of(std::string_view text, std::size_t offset) {
    Position p;
    for (std::size_t i = bom_length(text); i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++p.line;
            p.column = 1;
        } else {
            ++p.column;
        }
    }
    return p;
}

[[noreturn]] void fail_at(const std::string& file, Position p, std::string message, std::string hint = {}) {
    throw ConfigError(file, p.line, p.column, std::move(message), std::move(hint));
}

[[noreturn]] void fail_at_offset(std::string_view text, std::size_t offset, const std::string& file,
                                 std::string message, std::string hint = {}) {
    fail_at(file, position_of(text, offset), std::move(message), std::move(hint));
}

// Length of the UTF-8 sequence at text[i] and its code point, or 0 when invalid
// (bad lead byte, bad continuation, overlong form, surrogate, or beyond U+10FFFF).
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& code_point) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length;
    char32_t min;
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        min = 0x80;
        code_point = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        min = 0x800;
        code_point = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        min = 0x10000;
        code_point = lead & 0x07;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        code_point = (code_point << 6) | (byte(i + k) & 0x3f);
    }
    if (code_point < min || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) return 0;
    return length;
}

// How deep '[' and '{' may nest. yaml-cpp queues every token of an unfinished flow collection
// before it parses (about 250 bytes each), so a megabyte of '[' would take 250 MB before its own
// depth limit of 500 answers; a configuration needs a depth of 3.
constexpr int max_flow_depth = 100;

// Counts flow nesting with a light scan that skips comments and quoted strings, and counts a
// bracket only where a flow collection can start (line start or after ':', ',', '-', '?', '[', '{').
// It over-counts a little (block scalars, odd plain text), which the generous limit absorbs.
void check_flow_depth(std::string_view text, const std::string& file) {
    int depth = 0;
    char previous = '\n';  // the last non-blank character on the line; '\n' at a line start
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            previous = '\n';
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') continue;
        const bool token_start = previous == '\n' || previous == ':' || previous == ',' || previous == '-' ||
                                 previous == '?' || previous == '[' || previous == '{';
        if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
            while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
            continue;
        }
        if (token_start && (c == '"' || c == '\'')) {
            for (++i; i < text.size(); ++i) {
                if (c == '"' && text[i] == '\\') {
                    ++i;
                } else if (text[i] == c) {
                    if (c == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
                        ++i;
                    } else {
                        break;
                    }
                }
            }
        } else if (token_start && (c == '[' || c == '{')) {
            if (++depth > max_flow_depth)
                fail_at_offset(text, i, file,
                               fmt::format("'[' and '{{' nest more than {} levels deep here; expected a shallow "
                                           "mapping of settings",
                                           max_flow_depth));
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if (c == '[' || c == '{') {
            previous = 'x';  // part of plain text, so the next bracket is too
            continue;
        }
        previous = c;
    }
}

// Turns yaml-cpp's terse syntax messages into ones that say what was expected.
std::string explain_syntax_error(const std::string& msg) {
    const auto starts = [&](const char* prefix) { return msg.compare(0, std::strlen(prefix), prefix) == 0; };
    std::string expected;
    if (starts(YAML::ErrorMsg::END_OF_MAP_FLOW)) expected = "expected ',' or '}' to continue or close the {...} mapping";
    else if (starts(YAML::ErrorMsg::END_OF_SEQ_FLOW)) expected = "expected ',' or ']' to continue or close the [...] list";
    else if (starts(YAML::ErrorMsg::END_OF_MAP)) expected = "expected another 'key: value' line at the mapping's indentation";
    else if (starts(YAML::ErrorMsg::END_OF_SEQ)) expected = "expected another '- item' line at the list's indentation";
    else if (starts(YAML::ErrorMsg::MAP_VALUE))
        expected = "expected one 'key: value' per line; quote values that contain ': '";
    else if (starts(YAML::ErrorMsg::MAP_KEY) || starts(YAML::ErrorMsg::BLOCK_ENTRY))
        expected = "expected consistent indentation with spaces";
    else if (starts(YAML::ErrorMsg::EOF_IN_SCALAR)) expected = "expected the closing quote of the string";
    else if (starts(YAML::ErrorMsg::INVALID_ESCAPE) || starts(YAML::ErrorMsg::INVALID_HEX) ||
             starts(YAML::ErrorMsg::INVALID_UNICODE))
        expected = "expected an escape such as \\n, \\t, \\\\ or \\\" in a double-quoted string";
    else if (starts(YAML::ErrorMsg::UNKNOWN_ANCHOR))
        expected = "expected an alias '*name' to follow an anchor '&name' defined above it";
    else if (starts(YAML::ErrorMsg::BAD_FILE))
        return "the file nests collections too deeply (yaml-cpp stops at 500 levels); expected a shallow mapping of settings";
    else if (starts(YAML::ErrorMsg::DOC_IN_SCALAR))
        expected = "expected the string to end before a '---' or '...' line";
    else if (starts(YAML::ErrorMsg::INVALID_TAG) || starts(YAML::ErrorMsg::CHAR_IN_TAG_HANDLE) ||
             starts(YAML::ErrorMsg::TAG_WITH_NO_SUFFIX) || starts(YAML::ErrorMsg::END_OF_VERBATIM_TAG))
        expected = "expected no tags ('!...'); write values plainly";
    else expected = "expected well-formed YAML (see gitmodelenv(5))";
    return fmt::format("YAML syntax error: {}; {}", msg, expected);
}

// Builds the node table from parser events, enforcing the limits as it goes
// so that a hostile document is refused while it is being read.
class TreeBuilder : public YAML::EventHandler {
public:
    TreeBuilder(std::string_view text, const std::string& file, const YamlLimits& limits)
        : text_(text), bom_(bom_length(text)), file_(file), limits_(limits) {}

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (documents_++ == 0) {
            document_position_ = to_position(mark);
            return;
        }
        const std::string_view rest = text_.substr(offset_of(mark));
        if (rest.substr(0, 3) == "---" || rest.substr(0, 1) == "%")
            fail_at(file_, to_position(mark), "a second YAML document starts here; expected exactly one document",
                    "remove the '---' line and what follows it, or merge the documents");
        fail_at(file_, to_position(mark),
                "unexpected text after the end of the top-level value; expected one mapping of settings",
                "check the indentation and quoting of the lines above");
    }
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        YamlNode node;
        node.kind = NodeKind::null;
        node.position = to_position(mark);
        node.complete = true;
        node.implicit = !written_null_at(mark);
        add(std::move(node), anchor, mark);
    }

    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        const auto found = anchors_.find(anchor);
        if (found == anchors_.end())
            fail_at(file_, to_position(mark), "alias names no anchor; expected an anchor '&name' defined above it");
        const YamlNode& target = nodes_[found->second];
        if (!target.complete)
            fail_at(file_, to_position(mark),
                    "alias refers to a collection that contains it; expected an alias to a finished node",
                    "a recursive alias would expand forever");
        YamlNode node;
        node.kind = NodeKind::alias;
        node.position = to_position(mark);
        node.target = found->second;
        node.expanded = target.expanded;
        node.complete = true;
        add(std::move(node), YAML::NullAnchor, mark);
    }

    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override {
        YamlNode node;
        node.kind = NodeKind::scalar;
        node.position = to_position(mark);
        node.tag = tag;
        node.value = repair_escapes(value, mark);
        node.complete = true;
        add(std::move(node), anchor, mark);
        last_scalar_offset_ = offset_of(mark);
        has_scalar_ = true;
    }

    void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value style) override {
        open(NodeKind::sequence, mark, tag, anchor, style == YAML::EmitterStyle::Flow);
    }
    void OnSequenceEnd() override { close(); }

    void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value style) override {
        open(NodeKind::mapping, mark, tag, anchor, style == YAML::EmitterStyle::Flow);
    }
    void OnMapEnd() override {
        const std::size_t index = close();
        const YamlNode& map = nodes_[index];
        if (map.flow) return;
        // yaml-cpp reads a block-mapping line without ':' as a key with a null value placed at the
        // key itself (a written "key:" puts the null after the ':'); libyaml rightly refuses it.
        for (std::size_t i = 0; i + 1 < map.children.size(); i += 2) {
            const YamlNode& key = nodes_[map.children[i]];
            const YamlNode& value = nodes_[map.children[i + 1]];
            if (value.kind == NodeKind::null && value.position.line == key.position.line &&
                value.position.column == key.position.column && key.kind == NodeKind::scalar)
                fail_at(file_, key.position,
                        fmt::format("'{}' is not followed by ':'; expected 'key: value'", key.value));
        }
    }

    // yaml-cpp accepts a quoted string that runs to the end of the file; only the last scalar
    // can do that, so look for its closing quote.
    void check_last_scalar_closed() const {
        if (!has_scalar_) return;
        std::size_t i = last_scalar_offset_;
        // Skip anchors and tags written before the scalar.
        while (i < text_.size() && (text_[i] == '&' || text_[i] == '!')) {
            while (i < text_.size() && !is_blank_or_break(text_[i])) ++i;
            while (i < text_.size() && is_blank_or_break(text_[i])) ++i;
        }
        if (i >= text_.size() || (text_[i] != '"' && text_[i] != '\'')) return;
        const char quote = text_[i];
        const Position start = position_of(text_, i);
        for (std::size_t k = i + 1; k < text_.size(); ++k) {
            if (quote == '"' && text_[k] == '\\') {
                ++k;
            } else if (text_[k] == quote) {
                if (quote == '\'' && k + 1 < text_.size() && text_[k + 1] == '\'') {
                    ++k;
                } else {
                    return;
                }
            }
        }
        fail_at(file_, position_of(text_, text_.size()),
                fmt::format("the file ends inside the {}-quoted string that starts at line {}, column {}; "
                            "expected a closing {}",
                            quote == '"' ? "double" : "single", start.line, start.column, quote));
    }

    // Whether the stream held a document at all.
    bool has_document() const { return documents_ > 0 && has_root_; }
    // Hands over the finished table.
    YamlDocument finish() { return YamlDocument(std::move(nodes_), root_, document_position_); }

private:
    static Position to_position(const YAML::Mark& mark) {
        if (mark.is_null() || mark.line < 0 || mark.column < 0) return Position{};
        return Position{mark.line + 1, mark.column + 1};
    }

    // yaml-cpp 0.7 decodes the escapes \\N (U+0085) and \\_ (U+00A0) to single raw bytes, which
    // is not UTF-8; the input was checked to be UTF-8, so those are the only bytes that can fail
    // to decode. Re-encode them so every string we hand out is valid UTF-8 (JSON needs it).
    std::string repair_escapes(const std::string& value, const YAML::Mark& mark) const {
        std::string out;
        out.reserve(value.size());
        for (std::size_t i = 0; i < value.size();) {
            char32_t code_point = 0;
            const std::size_t length = decode_utf8(value, i, code_point);
            if (length > 0) {
                out.append(value, i, length);
                i += length;
                continue;
            }
            const unsigned char c = static_cast<unsigned char>(value[i]);
            if (c != 0x85 && c != 0xa0)
                fail_at(file_, to_position(mark),
                        "this string decodes to bytes that are not UTF-8; expected escapes of valid characters");
            out += '\xc2';
            out += static_cast<char>(c);
            ++i;
        }
        return out;
    }

    static bool is_blank_or_break(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

    // Byte offset of a mark in text (yaml-cpp does not count a leading BOM).
    std::size_t offset_of(const YAML::Mark& mark) const {
        if (mark.is_null() || mark.pos < 0) return text_.size();
        return std::min(text_.size(), static_cast<std::size_t>(mark.pos) + bom_);
    }

    // Whether a null event stands for written text ("~", "null", an anchor or tag) rather than nothing.
    bool written_null_at(const YAML::Mark& mark) const {
        const std::string_view rest = text_.substr(offset_of(mark));
        if (rest.empty()) return false;
        if (rest[0] == '~' || rest[0] == '&' || rest[0] == '!') return true;
        const std::string_view word = rest.substr(0, 4);
        return word == "null" || word == "Null" || word == "NULL";
    }

    void open(NodeKind kind, const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, bool flow) {
        YamlNode node;
        node.kind = kind;
        node.position = to_position(mark);
        node.tag = tag;
        node.flow = flow;
        const std::size_t index = add(std::move(node), anchor, mark);
        open_.push_back(index);
    }

    std::size_t close() {
        if (open_.empty()) return 0;  // unbalanced events cannot happen; stay safe if they do
        const std::size_t index = open_.back();
        open_.pop_back();
        std::uint64_t total = 1;
        for (std::size_t child : nodes_[index].children) total = saturating_add(total, nodes_[child].expanded);
        nodes_[index].expanded = total;
        nodes_[index].complete = true;
        return index;
    }

    std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) const {
        const std::uint64_t cap = limits_.max_expanded_nodes + 1;
        return (a >= cap || b >= cap || a + b >= cap) ? cap : a + b;
    }

    std::size_t add(YamlNode node, YAML::anchor_t anchor, const YAML::Mark& mark) {
        // Every event adds what it stands for: 1 node, or an alias's whole expansion. The
        // running total is the expanded size of the document, which is what a naive walk costs.
        expanded_total_ = saturating_add(expanded_total_, node.expanded);
        if (expanded_total_ > limits_.max_expanded_nodes)
            fail_at(file_, to_position(mark),
                    fmt::format("the document grows past {} nodes{}; expected a small mapping of settings",
                                limits_.max_expanded_nodes,
                                node.kind == NodeKind::alias ? " when this alias is expanded" : ""),
                    node.kind == NodeKind::alias ? "aliases that name aliases multiply (a 'billion laughs' document)"
                                                 : "");
        const std::size_t index = nodes_.size();
        nodes_.push_back(std::move(node));
        if (!open_.empty()) {
            nodes_[open_.back()].children.push_back(index);
        } else if (!has_root_) {
            root_ = index;
            has_root_ = true;
        }
        if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
        return index;
    }

    std::string_view text_;
    std::size_t bom_;
    const std::string& file_;
    const YamlLimits& limits_;
    std::vector<YamlNode> nodes_;
    std::vector<std::size_t> open_;
    std::unordered_map<YAML::anchor_t, std::size_t> anchors_;
    std::size_t root_ = 0;
    bool has_root_ = false;
    int documents_ = 0;
    std::uint64_t expanded_total_ = 0;
    std::size_t last_scalar_offset_ = 0;
    bool has_scalar_ = false;
    Position document_position_;
};

}  // namespace

const YamlNode& YamlDocument::resolved(std::size_t index) const {
    const YamlNode& n = nodes_.at(index);
    // Aliases are created only for complete, non-alias nodes' indices or other aliases' targets;
    // follow a bounded chain anyway.
    if (n.kind != NodeKind::alias) return n;
    const YamlNode* current = &n;
    for (int hops = 0; current->kind == NodeKind::alias && hops < 64; ++hops) current = &nodes_.at(current->target);
    return *current;
}

void check_yaml_text(std::string_view text, const std::string& display_name, const YamlLimits& limits) {
    if (text.size() > limits.max_bytes)
        fail_at(display_name, Position{},
                fmt::format("the file is {} bytes; expected at most {} bytes (1 MiB)", text.size(), limits.max_bytes));

    bool line_start = true;
    bool in_indent = false;
    std::size_t first_tab = std::string_view::npos;
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (line_start) {
            in_indent = true;
            first_tab = std::string_view::npos;
            line_start = false;
        }
        if (in_indent && c != ' ' && c != '\t') {
            in_indent = false;
            if (first_tab != std::string_view::npos && c != '\n' && c != '\r' && c != '#')
                fail_at_offset(text, first_tab, display_name,
                               "tab character in indentation; expected spaces (YAML forbids tabs for indentation)");
        }
        if (in_indent && c == '\t' && first_tab == std::string_view::npos) first_tab = i;

        if (c == '\n') {
            line_start = true;
            ++i;
            continue;
        }
        if (c == '\r') {
            if (i + 1 >= text.size() || text[i + 1] != '\n')
                fail_at_offset(text, i, display_name,
                               "carriage return without a line feed; expected Unix (LF) or Windows (CRLF) line ends");
            ++i;
            continue;
        }
        if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
            ++i;
            continue;
        }
        if (c < 0x80)
            fail_at_offset(text, i, display_name,
                           fmt::format("control character 0x{:02x}; expected printable text", c));
        char32_t code_point = 0;
        const std::size_t length = decode_utf8(text, i, code_point);
        if (length == 0)
            fail_at_offset(text, i, display_name,
                           fmt::format("invalid UTF-8 byte 0x{:02x}; expected a UTF-8 text file", c),
                           "convert the file to UTF-8, e.g. with iconv");
        if ((code_point >= 0x80 && code_point <= 0x9f && code_point != 0x85) || code_point == 0xfffe ||
            code_point == 0xffff)
            fail_at_offset(text, i, display_name,
                           fmt::format("non-printable character U+{:04X}; expected printable text",
                                       static_cast<std::uint32_t>(code_point)));
        i += length;
    }
    check_flow_depth(text, display_name);
}

YamlDocument parse_yaml_document(std::string_view text, const std::string& display_name, const YamlLimits& limits) {
    check_yaml_text(text, display_name, limits);

    std::istringstream stream{std::string(text)};
    TreeBuilder builder(text, display_name, limits);
    try {
        YAML::Parser parser(stream);
        if (parser.HandleNextDocument(builder)) {
            // A second call sees a second document, which the builder refuses; the first
            // call has already consumed any '...' end markers and trailing comments.
            parser.HandleNextDocument(builder);
        }
    } catch (const ConfigError&) {
        throw;
    } catch (const YAML::Exception& e) {
        Position p = position_of(text, text.size());
        if (!e.mark.is_null() && e.mark.line >= 0 && e.mark.column >= 0) p = Position{e.mark.line + 1, e.mark.column + 1};
        fail_at(display_name, p, explain_syntax_error(e.msg));
    }
    if (!builder.has_document())
        fail_at(display_name, Position{}, "the file holds no YAML document; expected a mapping of settings");
    builder.check_last_scalar_closed();
    return builder.finish();
}

}  // namespace gm::config::detail
