#include "gitmodel/naming/glob.hpp"

namespace gm::naming {

namespace {

// Matches one bracket expression at pattern[p] against c; returns the index after ']' or npos if malformed.
std::size_t match_class(std::string_view pattern, std::size_t p, char c, bool& matched) {
    std::size_t i = p + 1;
    bool negate = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        negate = true;
        ++i;
    }
    bool found = false;
    bool first = true;
    for (; i < pattern.size() && (first || pattern[i] != ']'); ++i, first = false) {
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            if (c >= pattern[i] && c <= pattern[i + 2]) found = true;
            i += 2;
        } else if (pattern[i] == c) {
            found = true;
        }
    }
    if (i >= pattern.size()) return std::string_view::npos;
    matched = found != negate;
    return i + 1;
}

bool match_from(std::string_view pattern, std::size_t p, std::string_view text, std::size_t t) {
    while (p < pattern.size()) {
        const char pc = pattern[p];
        if (pc == '*') {
            const bool double_star = p + 1 < pattern.size() && pattern[p + 1] == '*';
            std::size_t next = p + (double_star ? 2 : 1);
            // "dir/**" and "**/x": the star pair may also swallow the slash next to it.
            if (double_star && next < pattern.size() && pattern[next] == '/' && match_from(pattern, next + 1, text, t))
                return true;
            for (std::size_t k = t; k <= text.size(); ++k) {
                if (match_from(pattern, next, text, k)) return true;
                if (k < text.size() && text[k] == '/' && !double_star) return false;
            }
            return false;
        }
        if (t >= text.size()) return false;
        if (pc == '?') {
            if (text[t] == '/') return false;
        } else if (pc == '[') {
            bool matched = false;
            const std::size_t after = match_class(pattern, p, text[t], matched);
            if (after == std::string_view::npos) {
                if (text[t] != '[') return false;  // a lone '[' is literal
            } else {
                if (!matched || text[t] == '/') return false;
                p = after;
                ++t;
                continue;
            }
        } else if (pc == '\\' && p + 1 < pattern.size()) {
            ++p;
            if (pattern[p] != text[t]) return false;
        } else if (pc != text[t]) {
            return false;
        }
        ++p;
        ++t;
    }
    return t == text.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) { return match_from(pattern, 0, text, 0); }

bool path_matches(std::string_view pattern, std::string_view path) {
    if (pattern.find('/') == std::string_view::npos) {
        const auto slash = path.rfind('/');
        return glob_match(pattern, slash == std::string_view::npos ? path : path.substr(slash + 1));
    }
    if (!pattern.empty() && pattern.front() == '/') pattern.remove_prefix(1);
    return glob_match(pattern, path);
}

}  // namespace gm::naming
