// Following links inside a commit's tree (a committed .modelenv.yaml linked to a shared file).
#include "gitmodel/git/tree_links.hpp"

#include <catch2/catch.hpp>

#include <map>

using gm::git::follow_tree_links;
using gm::git::TreeEntryKind;

namespace {

// A tree as a map: "dir" -> "tree", "file" -> "blob", "submodule" -> "other", "link" -> "@target".
gm::git::TreeLookup tree_of(std::map<std::string, std::string> entries) {
    return [entries = std::move(entries)](const std::string& path) -> std::optional<TreeEntryKind> {
        const auto found = entries.find(path);
        if (found == entries.end()) return std::nullopt;
        TreeEntryKind kind;
        if (found->second == "tree") kind.kind = TreeEntryKind::Kind::tree;
        else if (found->second == "blob") kind.kind = TreeEntryKind::Kind::blob;
        else if (found->second == "other") kind.kind = TreeEntryKind::Kind::other;  // a submodule
        else {
            kind.kind = TreeEntryKind::Kind::link;
            kind.link_target = found->second.substr(1);
        }
        return kind;
    };
}

}  // namespace

TEST_CASE("follow_tree_links: a file, a link to a file, links on the way", "[git]") {
    const auto tree = tree_of({{".modelenv.yaml", "@envs/shared.yaml"},
                               {"envs", "tree"},
                               {"envs/shared.yaml", "blob"},
                               {"envs/alias.yaml", "@shared.yaml"},
                               {"models", "tree"},
                               {"models/a", "tree"},
                               {"models/a/env.yaml", "@../../envs/alias.yaml"},
                               {"cfg", "@envs"},
                               {"plain.yaml", "blob"}});
    CHECK(*follow_tree_links("plain.yaml", tree).path == "plain.yaml");
    CHECK(*follow_tree_links(".modelenv.yaml", tree).path == "envs/shared.yaml");
    CHECK(*follow_tree_links("models/a/env.yaml", tree).path == "envs/shared.yaml");  // a link to a link
    CHECK(*follow_tree_links("cfg/shared.yaml", tree).path == "envs/shared.yaml");    // a linked folder
    // Missing: no path, no problem.
    CHECK_FALSE(follow_tree_links("nothing.yaml", tree).path);
    CHECK(follow_tree_links("nothing.yaml", tree).problem.empty());
    CHECK_FALSE(follow_tree_links("envs", tree).path);  // a folder is not a file
    CHECK_FALSE(follow_tree_links("plain.yaml/x", tree).path);
}

TEST_CASE("follow_tree_links: out of the tree or round in a loop is a problem, never followed", "[git]") {
    const auto tree = tree_of({{".modelenv.yaml", "@/etc/passwd"},
                               {"up.yaml", "@../outside.yaml"},
                               {"deep", "tree"},
                               {"deep/up.yaml", "@../../x.yaml"},
                               {"loop-a", "@loop-b"},
                               {"loop-b", "@loop-a"},
                               {"empty", "@"}});
    const auto absolute = follow_tree_links(".modelenv.yaml", tree);
    CHECK_FALSE(absolute.path);
    CHECK(absolute.problem == ".modelenv.yaml is a link to /etc/passwd, outside the commit's tree");
    CHECK(follow_tree_links("up.yaml", tree).problem == "up.yaml is a link to ../outside.yaml, outside the commit's tree");
    CHECK(follow_tree_links("deep/up.yaml", tree).problem ==
          "deep/up.yaml is a link to ../../x.yaml, outside the commit's tree");
    CHECK(follow_tree_links("loop-a", tree).problem == "loop-a is a loop of links");
    CHECK_FALSE(follow_tree_links("empty", tree).path);
    CHECK_FALSE(follow_tree_links("empty", tree).problem.empty());
    CHECK(follow_tree_links("../x", tree).problem == "../x leads out of the commit's tree");
}

TEST_CASE("follow_tree_links: a link to nothing, a folder or a submodule is a problem naming it", "[git]") {
    auto tree = tree_of({{".modelenv.yaml", "@envs/gone.yaml"}, {"envs", "tree"}, {"to-folder", "@envs"},
                         {"sub", "other"}, {"into-sub", "@sub/env.yaml"}, {"file", "blob"}, {"through-file", "@file/x"},
                         {"odd", "@\x1b]0;pwned\x07x"}});
    CHECK(follow_tree_links(".modelenv.yaml", tree).problem ==
          ".modelenv.yaml is a link to envs/gone.yaml, which names nothing in the commit's tree");
    CHECK(follow_tree_links("to-folder", tree).problem == "to-folder is a link to envs, which is not a file");
    CHECK(follow_tree_links("into-sub", tree).problem == "into-sub is a link to sub/env.yaml, which leads into a submodule");
    CHECK(follow_tree_links("through-file", tree).problem == "through-file is a link to file/x, which leads through a file");
    // Not links: a folder or a submodule where the file would be is just no file.
    CHECK(follow_tree_links("envs", tree).problem.empty());
    CHECK(follow_tree_links("sub", tree).problem.empty());
    // A target is another user's text: made printable, and bounded.
    const auto odd = follow_tree_links("odd", tree).problem;
    CHECK(odd.find('\x1b') == std::string::npos);
    CHECK(odd.find('\x07') == std::string::npos);
    tree = tree_of({{"long", "@" + std::string(5000, 'a')}});
    const auto long_target = follow_tree_links("long", tree).problem;
    CHECK(long_target.find("longer than any link") != std::string::npos);
    CHECK(long_target.size() < 600);
}
