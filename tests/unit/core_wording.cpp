// Counted nouns and column layout: "1 run", widths from the content.
#include "gitmodel/core/wording.hpp"

#include <catch2/catch.hpp>

using namespace gm;

TEST_CASE("count_of: one run, two runs", "[core]") {
    CHECK(count_of(1, "run") == "1 run");
    CHECK(count_of(0, "run") == "0 runs");
    CHECK(count_of(37, "run") == "37 runs");
    CHECK(count_of(1, "GPU") == "1 GPU");
    CHECK(count_of(2, "GPU") == "2 GPUs");
    CHECK(count_of(1, "branch", "branches") == "1 branch");
    CHECK(count_of(3, "branch", "branches") == "3 branches");
}

TEST_CASE("layout_columns: widths from the content", "[core]") {
    const std::string table = layout_columns({{"MODEL", "STATE", "IMAGE"},
                                              {"a-model-name-longer-than-sixteen", "running", "img:1"},
                                              {"b", "exited", "img:2"}});
    CHECK(table ==
          "MODEL                             STATE    IMAGE\n"
          "a-model-name-longer-than-sixteen  running  img:1\n"
          "b                                 exited   img:2\n");
    // the last column is never padded; empty leading cells keep the columns
    CHECK(layout_columns({{"x", "long cell", ""}, {"", "", "z"}}) == "x  long cell\n              z\n");
}

TEST_CASE("first_few names a few of many and counts the rest", "[core]") {
    CHECK(first_few({}) == "");
    CHECK(first_few({"a"}) == "a");
    CHECK(first_few({"a", "b", "c"}) == "a, b, c");
    CHECK(first_few({"a", "b", "c", "d", "e"}) == "a, b, c and 2 more");
    CHECK(first_few({"a", "b"}, 1) == "a and 1 more");
}
