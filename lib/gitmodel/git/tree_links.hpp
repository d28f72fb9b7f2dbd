#pragma once
// Following symbolic links inside a commit's tree, as `git cat-file --follow-symlinks` does:
// a committed .modelenv.yaml may be a link to a file of the same tree (several models sharing
// envs/shared.yaml), and what the working tree reads through the link, a commit must read too.
// A link that leads out of the tree (absolute, or up past its root) is never followed: a
// commit can name any host file, and nothing of the host is read for it.

#include <functional>
#include <optional>
#include <string>

namespace gm::git {

// What a tree holds at a path, as far as following links needs.
struct TreeEntryKind {
    enum class Kind { blob, link, tree, other } kind = Kind::other;
    std::string link_target;  // a link's target text (Kind::link only)
};

// Looks a path of one commit's tree up ("a/b/c", no leading slash): nullopt when it has none.
using TreeLookup = std::function<std::optional<TreeEntryKind>(const std::string& path)>;

// Where following `path`'s links leads.
struct FollowedPath {
    std::optional<std::string> path;  // a file (blob) of the tree; nullopt: none (see problem)
    std::string problem;              // why a link was not followed; empty when the path is just missing
};

// Resolves `path` component by component, following links (relative to their folder) anywhere on
// it, at most 40 of them; the result names a blob. A link out of the tree, or a loop, is a problem.
FollowedPath follow_tree_links(const std::string& path, const TreeLookup& lookup);

}  // namespace gm::git
