#include "gitmodel/naming/refname.hpp"

#include <fmt/core.h>

namespace gm::naming {

namespace {

// What git's refname_disposition table says about one byte.
enum class Disposition { ok, slash, dot, brace, bad, star, at };

Disposition disposition(unsigned char c) {
    if (c < 0x20 || c == 0x7f) return Disposition::bad;
    switch (c) {
        case ' ': case '~': case '^': case ':': case '?': case '[': case '\\': return Disposition::bad;
        case '/': return Disposition::slash;
        case '.': return Disposition::dot;
        case '{': return Disposition::brace;
        case '*': return Disposition::star;
        case '@': return Disposition::at;
        default: return Disposition::ok;
    }
}

std::string describe_bad_byte(unsigned char c) {
    if (c == ' ') return "contains a space";
    if (c < 0x20 || c == 0x7f) return fmt::format("contains the control character 0x{:02x}", c);
    return fmt::format("contains '{}', which git does not allow in ref names", static_cast<char>(c));
}

}  // namespace

RefnameVerdict check_refname(std::string_view refname, RefnameFlags flags) {
    const auto invalid = [](std::string reason) { return RefnameVerdict{false, std::move(reason)}; };
    if (refname == "@") return invalid("is the single character '@'");
    if (refname.empty()) return invalid("is empty");

    bool pattern_allowed = flags.refspec_pattern;
    int component_count = 0;
    std::size_t start = 0;
    while (true) {
        // One component: up to the next '/' or the end.
        std::size_t i = start;
        unsigned char last = 0;
        for (; i < refname.size(); ++i) {
            const unsigned char c = static_cast<unsigned char>(refname[i]);
            const Disposition d = disposition(c);
            if (d == Disposition::slash) break;
            if (d == Disposition::dot && last == '.') return invalid("contains '..'");
            if (d == Disposition::brace && last == '@') return invalid("contains '@{'");
            if (d == Disposition::bad) return invalid(describe_bad_byte(c));
            if (d == Disposition::star) {
                if (!pattern_allowed) return invalid("contains '*'");
                pattern_allowed = false;  // at most one '*' in a pattern
            }
            last = c;
        }
        const std::string_view component = refname.substr(start, i - start);
        if (component.empty()) return invalid("has an empty path component (a leading, trailing or double '/')");
        if (component.front() == '.') return invalid("has a path component that begins with '.'");
        if (component.size() >= 5 && component.substr(component.size() - 5) == ".lock")
            return invalid("has a path component that ends with '.lock'");
        ++component_count;
        if (i == refname.size()) break;
        start = i + 1;
    }
    if (refname.back() == '.') return invalid("ends with '.'");
    if (!flags.allow_onelevel && component_count < 2) return invalid("has only one level (needs a '/')");
    return {};
}

}  // namespace gm::naming
