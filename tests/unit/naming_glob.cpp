// Glob matching for branch, tag and data-file policies.
#include "gitmodel/naming/glob.hpp"

#include <catch2/catch.hpp>

using gm::naming::glob_match;
using gm::naming::path_matches;

TEST_CASE("glob_match: stars stay inside one path component", "[naming]") {
    CHECK(glob_match("main", "main"));
    CHECK_FALSE(glob_match("main", "mainline"));
    CHECK(glob_match("release/*", "release/1.0"));
    CHECK_FALSE(glob_match("release/*", "release/1.0/hotfix"));
    CHECK(glob_match("release/**", "release/1.0/hotfix"));
    CHECK(glob_match("hotfix/*", "hotfix/x"));
    CHECK_FALSE(glob_match("hotfix/*", "hotfix"));
    CHECK(glob_match("feature/model-*", "feature/model-resnet50"));
    CHECK(glob_match("v[0-9]*", "v1.2"));
    CHECK_FALSE(glob_match("v[0-9]*", "vx"));
    CHECK(glob_match("v[!0-9]*", "vx"));
    CHECK(glob_match("a?c", "abc"));
    CHECK_FALSE(glob_match("a?c", "a/c"));
    CHECK(glob_match("*", "anything"));
    CHECK_FALSE(glob_match("*", "a/b"));
    CHECK(glob_match("**", "a/b"));
    CHECK(glob_match("\\*", "*"));
    CHECK_FALSE(glob_match("\\*", "x"));
}

TEST_CASE("path_matches: gitignore-style data patterns", "[naming]") {
    CHECK(path_matches("*.pt", "model.pt"));
    CHECK(path_matches("*.pt", "checkpoints/epoch1/model.pt"));
    CHECK_FALSE(path_matches("*.pt", "model.pth"));
    CHECK(path_matches("*.pth", "a/b.pth"));
    CHECK(path_matches("data/**", "data/train/x.csv"));
    CHECK(path_matches("data/**", "data/x"));
    CHECK_FALSE(path_matches("data/**", "src/data/x"));
    CHECK_FALSE(path_matches("data/**", "database.py"));
    CHECK(path_matches("/data/**", "data/x"));
    CHECK(path_matches("**/data/*.csv", "a/b/data/x.csv"));
    CHECK(path_matches("**/data/*.csv", "data/x.csv"));
}
