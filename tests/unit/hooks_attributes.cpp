// The "filter" attribute read from .gitattributes texts, as git reads it (pre-push judges pushed commits with it).
#include "gitmodel/hooks/attributes.hpp"

#include <catch2/catch.hpp>

using namespace gm::hooks;

namespace {
std::optional<std::string> filter(const std::string& path, const std::vector<const AttributeFile*>& files) {
    return filter_for(path, files);
}
const std::optional<std::string> lfs("lfs");
}  // namespace

TEST_CASE("attributes: a name pattern matches at any depth, a path pattern from its folder", "[hooks]") {
    const auto root = parse_attribute_file("*.pt filter=lfs diff=lfs merge=lfs -text\n"
                                           "/top.bin filter=lfs\n"
                                           "weights/**/*.h5 filter=lfs\n",
                                           "", {});
    CHECK(filter("a/b/model.pt", {&root}) == lfs);
    CHECK(filter("top.bin", {&root}) == lfs);
    CHECK_FALSE(filter("sub/top.bin", {&root}));
    CHECK(filter("weights/x/y/w.h5", {&root}) == lfs);
    CHECK_FALSE(filter("model.PT", {&root}));  // git's attributes are case-sensitive (core.ignoreCase off)
    CHECK_FALSE(filter("train.py", {&root}));
}

TEST_CASE("attributes: the last line and the deepest file win; -filter and !filter clear", "[hooks]") {
    const auto root = parse_attribute_file("*.pt filter=lfs\nkeep.pt -filter\n", "", {});
    const auto sub = parse_attribute_file("*.pt !filter\nonly.pt filter=lfs\n", "sub", {});
    const std::vector<const AttributeFile*> files{&sub, &root};
    CHECK(filter("a.pt", files) == lfs);
    CHECK_FALSE(filter("keep.pt", files));
    CHECK_FALSE(filter("sub/a.pt", files));
    CHECK(filter("sub/only.pt", files) == lfs);
    CHECK(filter("other/a.pt", files) == lfs);  // sub's file does not apply outside sub
}

TEST_CASE("attributes: macros, quoted patterns, comments and folder patterns", "[hooks]") {
    const std::string text = "[attr]big filter=lfs -text\n# *.txt filter=lfs\n*.ckpt big\n\"with space.bin\" filter=lfs\n"
                             "models/ filter=lfs\n!*.x filter=lfs\n";
    const auto root = parse_attribute_file(text, "", parse_filter_macros(text));
    CHECK(filter("x/run.ckpt", {&root}) == lfs);
    CHECK(filter("with space.bin", {&root}) == lfs);
    CHECK_FALSE(filter("notes.txt", {&root}));
    CHECK_FALSE(filter("models/a", {&root}));  // a folder pattern never reaches the files inside
    CHECK_FALSE(filter("a.x", {&root}));       // negative patterns are not allowed in attributes
}

TEST_CASE("attributes: the folders whose files apply", "[hooks]") {
    CHECK(attribute_dirs("a.pt") == std::vector<std::string>{""});
    CHECK(attribute_dirs("a/b/c.pt") == std::vector<std::string>{"", "a", "a/b"});
}
