#include "gitmodel/config/image_ref.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <vector>

namespace gm::config {

namespace {

constexpr std::string_view expected_form =
    "expected [registry[:port]/]path:tag or path@sha256:<64 lowercase hex digits>";
constexpr std::size_t max_name_length = 255;  // the docker reference grammar's NameTotalLengthMax
constexpr std::size_t max_tag_length = 128;

[[noreturn]] void fail(std::string_view text, std::string_view problem, std::string_view expected = expected_form) {
    throw Error(fmt::format("image {} {}; {}", quote_for_message(text), problem, expected));
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_hex_lower(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'f'); }

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return parts;
}

// path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool valid_path_component(std::string_view c) {
    std::size_t i = 0;
    const std::size_t n = c.size();
    auto alnum_run = [&] {
        const std::size_t start = i;
        while (i < n && is_lower_alnum(c[i])) ++i;
        return i > start;
    };
    if (!alnum_run()) return false;
    while (i < n) {
        if (c[i] == '.') {
            ++i;
        } else if (c[i] == '_') {
            ++i;
            if (i < n && c[i] == '_') ++i;
        } else if (c[i] == '-') {
            while (i < n && c[i] == '-') ++i;
        } else {
            return false;
        }
        if (!alnum_run()) return false;
    }
    return true;
}

// domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
bool valid_domain_component(std::string_view c) {
    if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
    for (char ch : c)
        if (!is_alnum(ch) && ch != '-') return false;
    return true;
}

void check_registry(std::string_view text, std::string_view registry) {
    std::string_view host = registry;
    const std::size_t colon = registry.find(':');
    if (colon != std::string_view::npos) {
        host = registry.substr(0, colon);
        const std::string_view port = registry.substr(colon + 1);
        bool digits = !port.empty() && port.size() <= 5;
        for (char c : port) digits = digits && is_ascii_digit(c);
        if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
            fail(text, fmt::format("has a bad registry port {}", quote_for_message(port)),
                 "expected a port number from 1 to 65535 after the registry host");
    }
    for (std::string_view component : split(host, '.'))
        if (!valid_domain_component(component))
            fail(text, fmt::format("has a bad registry host {}", quote_for_message(host)),
                 "expected a host name made of letters, digits, '-' and '.', with an optional :port");
}

void check_digest(std::string_view text, std::string_view digest) {
    const std::size_t colon = digest.find(':');
    if (colon == std::string_view::npos)
        fail(text, "has a digest without an algorithm", "expected @sha256:<64 lowercase hex digits>");
    const std::string_view algorithm = digest.substr(0, colon);
    const std::string_view hex = digest.substr(colon + 1);
    if (algorithm != "sha256")
        fail(text, fmt::format("uses the digest algorithm {}", quote_for_message(algorithm)),
             "expected @sha256:<64 lowercase hex digits> (only sha256 is supported)");
    for (char c : hex) {
        if (c >= 'A' && c <= 'F')
            fail(text, "has uppercase hex digits in its digest", "expected @sha256:<64 lowercase hex digits>");
        if (!is_hex_lower(c))
            fail(text, fmt::format("has a non-hex character {} in its digest", quote_for_message(std::string(1, c))),
                 "expected @sha256:<64 lowercase hex digits>");
    }
    if (hex.size() != 64)
        fail(text, fmt::format("has a digest of {} hex digits", hex.size()),
             "expected @sha256:<64 lowercase hex digits>");
}

void check_tag(std::string_view text, std::string_view tag) {
    if (tag.empty()) fail(text, "has an empty tag after ':'");
    bool ok = !tag.empty() && tag.size() <= max_tag_length && (is_alnum(tag[0]) || tag[0] == '_');
    for (char c : tag) ok = ok && (is_alnum(c) || c == '_' || c == '.' || c == '-');
    if (!ok)
        fail(text, fmt::format("has a bad tag {}", quote_for_message(tag)),
             "expected a tag of at most 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
}

bool is_latest(std::string_view tag) {
    if (tag.size() != 6) return false;
    for (std::size_t i = 0; i < 6; ++i) {
        char c = tag[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != "latest"[i]) return false;
    }
    return true;
}

}  // namespace

std::string ImageRef::to_string() const {
    std::string out;
    if (!registry.empty()) out += registry + "/";
    out += path;
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

ImageRef parse_image_ref(std::string_view text) {
    if (text.empty()) throw Error(fmt::format("image reference is empty; {}", expected_form));
    for (unsigned char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            fail(text, "contains white space");
        if (c < 0x20 || c == 0x7f) fail(text, "contains a control character");
        if (c >= 0x80) fail(text, "contains a non-ASCII character");
    }
    if (text.front() == '-') fail(text, "starts with '-', which a container engine would read as an option");

    ImageRef ref;
    ref.original = std::string(text);

    std::string_view name_and_tag = text;
    const std::size_t at = text.find('@');
    if (at != std::string_view::npos) {
        if (text.find('@', at + 1) != std::string_view::npos) fail(text, "contains more than one '@'");
        check_digest(text, text.substr(at + 1));
        ref.digest = std::string(text.substr(at + 1));
        name_and_tag = text.substr(0, at);
    }

    std::string_view name = name_and_tag;
    const std::size_t last_slash = name_and_tag.rfind('/');
    const std::size_t tag_colon =
        name_and_tag.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
    if (tag_colon != std::string_view::npos) {
        const std::string_view tag = name_and_tag.substr(tag_colon + 1);
        check_tag(text, tag);
        ref.tag = std::string(tag);
        name = name_and_tag.substr(0, tag_colon);
    }
    if (name.empty()) fail(text, "has no repository name");
    if (name.size() > max_name_length)
        fail(text, fmt::format("has a name of {} characters", name.size()),
             "expected a registry and path of at most 255 characters");

    std::vector<std::string_view> components = split(name, '/');
    if (components.size() > 1) {
        const std::string_view first = components.front();
        if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
            first == "localhost") {
            check_registry(text, first);
            ref.registry = std::string(first);
            components.erase(components.begin());
        }
    }
    for (std::string_view component : components) {
        if (component.empty()) fail(text, "has an empty path component (a leading, trailing or double '/')");
        if (!valid_path_component(component)) {
            bool upper = false;
            for (char c : component) upper = upper || (c >= 'A' && c <= 'Z');
            fail(text,
                 fmt::format("has a bad path component {}{}", quote_for_message(component),
                             upper ? " (repository paths must be lowercase)" : ""),
                 "expected lowercase letters and digits separated by '.', '_', '__' or '-'");
        }
    }
    const std::size_t path_start = ref.registry.empty() ? 0 : ref.registry.size() + 1;
    ref.path = std::string(name.substr(path_start));

    if (ref.tag.empty() && ref.digest.empty())
        fail(text, "has no tag", "expected a version tag (path:tag) or a digest (path@sha256:<64 hex digits>)");
    if (is_latest(ref.tag) && ref.digest.empty())
        fail(text, "uses the tag 'latest', which moves",
             "expected a version tag such as :1.2 or a digest @sha256:<64 hex digits>");
    return ref;
}

}  // namespace gm::config
