#pragma once
// Review servers ("forges"): which kind a remote is, its web address, and the
// page where a branch becomes a merge or pull request. Pure: derived from the
// remote URL and configuration, so every URL form is unit-tested.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/model/settings.hpp"  // ForgeKind: the kinds model.forge names

namespace gm::finish {

// A remote URL taken apart: where the web pages of the project are.
struct RemoteLocation {
    std::string scheme;        // the web scheme: "http" for http:// remotes, else "https"
    std::string host;          // "gitlab.example.com" (with ":port" for http(s) URLs that name one)
    std::string path;          // "group/sub/project", without ".git" and slashes at either end
};

// Takes a remote URL apart: https://[user@]host[:port]/path, ssh://[user@]host[:port]/path,
// git://host/path and scp-like [user@]host:path. Local paths and file:// give nullopt:
// they have no web pages. Credentials in the URL are dropped.
std::optional<RemoteLocation> parse_remote_url(std::string_view url);

// The kind a host most likely is: "github" or "gitlab" in its name, bitbucket.org; else other.
model::ForgeKind guess_forge(std::string_view host);

// The project's web address ("https://host/path"), from model.forgeUrl when set, else the remote URL.
std::optional<std::string> project_web_url(std::string_view remote_url, const std::optional<std::string>& forge_url);

// The page that opens a review of branch into base, for the kind of forge.
std::string review_url(model::ForgeKind kind, std::string_view project_url, std::string_view branch, std::string_view base);

// GitLab's push options that open a merge request while pushing (values must be one line).
std::vector<std::string> gitlab_push_options(std::string_view base, std::string_view title);

// Percent-encodes text for a URL query or path, keeping '/' when asked.
std::string url_encode(std::string_view text, bool keep_slash);

}  // namespace gm::finish
