#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace gm {

std::string short_id(std::string_view id) { return std::string(id.substr(0, 10)); }

bool is_below(const std::filesystem::path& path, const std::filesystem::path& base) {
    const std::filesystem::path relative = path.lexically_normal().lexically_relative(base.lexically_normal());
    return !relative.empty() && *relative.begin() != "..";
}

bool same_folder(const std::filesystem::path& a, const std::filesystem::path& b) {
    namespace fs = std::filesystem;
    const fs::path na(trim_end(a.lexically_normal().string(), "/"));
    const fs::path nb(trim_end(b.lexically_normal().string(), "/"));
    if (na == nb) return true;
    if (na.filename() != nb.filename() || na.filename().empty()) return false;
    std::error_code ec;
    const auto pa = fs::weakly_canonical(na.parent_path(), ec);
    if (ec) return false;
    const auto pb = fs::weakly_canonical(nb.parent_path(), ec);
    return !ec && pa == pb;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const auto& candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (!best || distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    // A suggestion is useful only when it is a small fraction of the word away.
    const std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3 + 1));
    if (best && best_distance <= limit) return best;
    return std::nullopt;
}

std::vector<std::string> split_records(std::string_view text, char separator) {
    std::vector<std::string> records;
    for (std::size_t at = 0; at < text.size();) {
        const auto end = std::min(text.find(separator, at), text.size());
        records.emplace_back(text.substr(at, end - at));
        at = end + 1;
    }
    return records;
}

std::vector<std::string> split_fields(std::string_view text, char separator) {
    std::vector<std::string> fields(1);
    for (char c : text) {
        if (c == separator) fields.emplace_back();
        else fields.back() += c;
    }
    return fields;
}

std::string last_nonempty_line(std::string_view text) {
    std::size_t end = text.size();
    while (end > 0) {
        const auto start = text.rfind('\n', end - 1);
        const std::size_t from = start == std::string_view::npos ? 0 : start + 1;
        const auto line = text.substr(from, end - from);
        if (const auto last = line.find_last_not_of(" \t\r"); last != std::string_view::npos)
            return std::string(line.substr(0, last + 1));
        if (start == std::string_view::npos) break;
        end = start;
    }
    return {};
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += separator;
        out += items[i];
    }
    return out;
}

std::string quote_for_message(std::string_view value) {
    std::string out = "'";
    for (unsigned char c : value) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\\') out += "\\\\";
        else if (c == '\'') out += "\\'";
        else if (c < 0x20 || c == 0x7f || c >= 0x80) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    return out + "'";
}

namespace {

// The length of the UTF-8 sequence at text[at] and its code point; 0 when it is not valid
// UTF-8 (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, cut short).
std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t& code) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    std::size_t length;
    char32_t minimum;
    if (lead < 0x80) {
        code = lead;
        return 1;
    } else if ((lead & 0xe0) == 0xc0) {
        length = 2, code = lead & 0x1f, minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
        length = 3, code = lead & 0x0f, minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
        length = 4, code = lead & 0x07, minimum = 0x10000;
    } else {
        return 0;
    }
    if (at + length > text.size()) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(at + i) & 0xc0) != 0x80) return 0;
        code = (code << 6) | (byte(at + i) & 0x3f);
    }
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
    return length;
}

// Characters a terminal acts on, or that reorder what a reader sees.
bool is_control(char32_t code) {
    return code < 0x20 || code == 0x7f || (code >= 0x80 && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) ||
           (code >= 0x2066 && code <= 0x2069) || code == 0x2028 || code == 0x2029;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_chars) {
    std::string out;
    std::size_t shown = 0;
    for (std::size_t at = 0; at < text.size();) {
        if (shown == max_chars) return out + "...";
        ++shown;
        char32_t code = 0;
        const std::size_t length = utf8_sequence(text, at, code);
        if (length == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[at]));
            ++at;
            continue;
        }
        if (code == '\n') out += "\\n";
        else if (code == '\t') out += "\\t";
        else if (code == '\r') out += "\\r";
        else if (code < 0x80 && is_control(code)) out += fmt::format("\\x{:02x}", static_cast<unsigned>(code));
        else if (is_control(code)) out += fmt::format("\\u{:04x}", static_cast<unsigned>(code));
        else out.append(text.substr(at, length));
        at += length;
    }
    return out;
}

std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        char32_t code = 0;
        const std::size_t length = utf8_sequence(text, at, code);
        if (length == 0) {
            out += "\xef\xbf\xbd";  // U+FFFD
            ++at;
        } else {
            out.append(text.substr(at, length));
            at += length;
        }
    }
    return out;
}

std::optional<std::string> non_utf8_problem(std::string_view text) {
    for (std::size_t at = 0; at < text.size();) {
        char32_t code = 0;
        const std::size_t length = utf8_sequence(text, at, code);
        if (length == 0)
            return fmt::format("byte 0x{:02x} at {} is not UTF-8", static_cast<unsigned char>(text[at]), at);
        at += length;
    }
    return std::nullopt;
}

bool is_object_id(std::string_view text) {
    return (text.size() == 40 || text.size() == 64) && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string trim_end(std::string_view text, std::string_view chars) {
    const auto last = text.find_last_not_of(chars);
    return std::string(last == std::string_view::npos ? std::string_view() : text.substr(0, last + 1));
}

std::string trim_trailing_newlines(std::string_view text) { return trim_end(text, "\r\n"); }

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace gm
