#include "gitmodel/finish/forge.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <cctype>

namespace gm::finish {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "[user[:password]@]host[:port]" -> host (with the port when keep_port).
std::string host_of(std::string_view authority, bool keep_port) {
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return {};
        return std::string(keep_port ? authority : authority.substr(0, close + 1));
    }
    if (!keep_port) authority = authority.substr(0, authority.find(':'));
    return lower(authority);
}

std::string clean_path(std::string_view path) {
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (ends_with(path, ".git")) path.remove_suffix(4);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return std::string(path);
}

}  // namespace

std::optional<RemoteLocation> parse_remote_url(std::string_view url) {
    RemoteLocation location;
    location.scheme = "https";
    if (const auto sep = url.find("://"); sep != std::string_view::npos) {
        const std::string scheme = lower(url.substr(0, sep));
        if (scheme == "file") return std::nullopt;
        const std::string_view rest = url.substr(sep + 3);
        const auto slash = rest.find('/');
        const std::string_view authority = rest.substr(0, slash);
        const bool web = scheme == "http" || scheme == "https";
        if (scheme == "http") location.scheme = "http";
        location.host = host_of(authority, web);
        location.path = slash == std::string_view::npos ? std::string() : clean_path(rest.substr(slash));
    } else {
        // scp-like [user@]host:path: a ':' before any '/' (git's own rule), and not a lone drive letter.
        const auto colon = url.find(':');
        const auto slash = url.find('/');
        if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon) || colon < 2)
            return std::nullopt;
        location.host = host_of(url.substr(0, colon), false);
        std::string_view path = url.substr(colon + 1);
        location.path = clean_path(path);
    }
    if (location.host.empty() || location.path.empty()) return std::nullopt;
    return location;
}

model::ForgeKind guess_forge(std::string_view host) {
    const std::string name = lower(host);
    if (name.find("gitlab") != std::string::npos) return model::ForgeKind::gitlab;
    if (name.find("github") != std::string::npos) return model::ForgeKind::github;
    if (name == "bitbucket.org" || starts_with(name, "bitbucket.")) return model::ForgeKind::bitbucket;
    return model::ForgeKind::other;
}

std::optional<std::string> project_web_url(std::string_view remote_url, const std::optional<std::string>& forge_url) {
    if (forge_url && !forge_url->empty()) {
        std::string_view url = *forge_url;
        while (!url.empty() && url.back() == '/') url.remove_suffix(1);
        // A link for people and logs: never the credentials a URL may carry (user:token@, the
        // token may hold an '@' itself: git splits at the last one before the path).
        const auto scheme_end = url.find("://");
        const std::size_t host_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
        const std::string_view authority = url.substr(host_start, url.find('/', host_start) - host_start);
        if (const auto at = authority.rfind('@'); at != std::string_view::npos)
            return fmt::format("{}{}", url.substr(0, host_start), url.substr(host_start + at + 1));
        return std::string(url);
    }
    const auto location = parse_remote_url(remote_url);
    if (!location) return std::nullopt;
    return fmt::format("{}://{}/{}", location->scheme, location->host, location->path);
}

std::string url_encode(std::string_view text, bool keep_slash) {
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned>(byte));
        }
    }
    return out;
}

std::string review_url(model::ForgeKind kind, std::string_view project_url, std::string_view branch, std::string_view base) {
    switch (kind) {
        case model::ForgeKind::gitlab:
            return fmt::format("{}/-/merge_requests/new?merge_request%5Bsource_branch%5D={}"
                               "&merge_request%5Btarget_branch%5D={}",
                               project_url, url_encode(branch, true), url_encode(base, true));
        case model::ForgeKind::github:
            return fmt::format("{}/compare/{}...{}?expand=1", project_url, url_encode(base, true),
                               url_encode(branch, true));
        case model::ForgeKind::bitbucket:
            return fmt::format("{}/pull-requests/new?source={}&dest={}", project_url, url_encode(branch, true),
                               url_encode(base, true));
        case model::ForgeKind::other:
            break;
    }
    return fmt::format("{}/compare/{}...{}", project_url, url_encode(base, true), url_encode(branch, true));
}

std::vector<std::string> gitlab_push_options(std::string_view base, std::string_view title) {
    std::string one_line(title);
    for (auto& c : one_line)
        if (c == '\n' || c == '\r') c = ' ';
    return {"merge_request.create", fmt::format("merge_request.target={}", base),
            fmt::format("merge_request.title={}", one_line)};
}

}  // namespace gm::finish
