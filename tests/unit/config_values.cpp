// Value syntaxes shared by .modelenv.yaml keys: byte sizes and paths.
#include "gitmodel/config/values.hpp"

#include <catch2/catch.hpp>

using namespace gm::config;

TEST_CASE("byte sizes use binary multiples, any case, optional b/ib", "[config]") {
    CHECK(parse_byte_size("1") == 1u);
    CHECK(parse_byte_size("1024") == 1024u);
    CHECK(parse_byte_size("1b") == 1u);
    CHECK(parse_byte_size("1024k") == 1024u * 1024u);
    CHECK(parse_byte_size("512m") == 512ull << 20);
    CHECK(parse_byte_size("16g") == 16ull << 30);
    CHECK(parse_byte_size("2gb") == 2ull << 30);
    CHECK(parse_byte_size("2GB") == 2ull << 30);
    CHECK(parse_byte_size("2GiB") == 2ull << 30);
    CHECK(parse_byte_size("1t") == 1ull << 40);
    CHECK(parse_byte_size("1.5g") == 3ull << 29);
    CHECK(parse_byte_size("0.5k") == 512u);
    CHECK(parse_byte_size("9223372036854775807") == 9223372036854775807ull);
}

TEST_CASE("byte sizes refuse zero, junk, fractions of a byte and overflow", "[config]") {
    CHECK_FALSE(parse_byte_size(""));
    CHECK_FALSE(parse_byte_size("0"));
    CHECK_FALSE(parse_byte_size("0g"));
    CHECK_FALSE(parse_byte_size("0.0000001k"));  // rounds down to 0 bytes
    CHECK_FALSE(parse_byte_size("12x"));
    CHECK_FALSE(parse_byte_size("g"));
    CHECK_FALSE(parse_byte_size("-1g"));
    CHECK_FALSE(parse_byte_size("+1g"));
    CHECK_FALSE(parse_byte_size("1.5"));
    CHECK_FALSE(parse_byte_size("1."));
    CHECK_FALSE(parse_byte_size(".5g"));
    CHECK_FALSE(parse_byte_size("16 g"));
    CHECK_FALSE(parse_byte_size("1e3"));
    CHECK_FALSE(parse_byte_size("9223372036854775808"));
    CHECK_FALSE(parse_byte_size("99999999999t"));
    CHECK_FALSE(parse_byte_size("8388608t"));  // 2^63 bytes
    CHECK_FALSE(parse_byte_size(std::string(400, '9')));
}

TEST_CASE("byte sizes format for people", "[config]") {
    CHECK(format_byte_size(512) == "512 B");
    CHECK(format_byte_size(1024) == "1 KiB");
    CHECK(format_byte_size(16ull << 30) == "16 GiB");
    CHECK(format_byte_size(3ull << 29) == "1.5 GiB");
}

TEST_CASE("paths are checked and normalised", "[config]") {
    CHECK(check_path("/data", PathKind::absolute).normalised == "/data");
    CHECK(check_path("/data/", PathKind::absolute).normalised == "/data");
    CHECK(check_path("//a/./b//", PathKind::absolute).normalised == "/a/b");
    CHECK(check_path("/", PathKind::absolute).normalised == "/");
    CHECK(check_path("/a/.../b", PathKind::absolute).normalised == "/a/.../b");
    CHECK(check_path("ckpt/run1", PathKind::absolute_or_relative).normalised == "ckpt/run1");
    CHECK(check_path("./ckpt/", PathKind::absolute_or_relative).normalised == "ckpt");

    CHECK(check_path("data", PathKind::absolute).problem == "is not absolute");
    CHECK_THAT(check_path("~/data", PathKind::absolute).problem, Catch::Contains("'~' is not expanded"));
    CHECK_THAT(check_path("/a/../b", PathKind::absolute).problem, Catch::Contains("'..'"));
    CHECK_THAT(check_path("..", PathKind::absolute_or_relative).problem, Catch::Contains("'..'"));
    CHECK_THAT(check_path("/a/..", PathKind::absolute).problem, Catch::Contains("'..'"));
    CHECK(check_path("/a,b", PathKind::absolute).normalised == "/a,b");    // env up quotes it for the engine
    CHECK(check_path("/a\"b", PathKind::absolute).normalised == "/a\"b");
    CHECK_THAT(check_path("/a\nb", PathKind::absolute).problem, Catch::Contains("newline"));
    CHECK_THAT(check_path(std::string("/a\0b", 4), PathKind::absolute).problem, Catch::Contains("control"));
    CHECK_THAT(check_path("/a\x7f", PathKind::absolute).problem, Catch::Contains("control"));
    CHECK(check_path("", PathKind::absolute_or_relative).problem == "is empty");
    CHECK(check_path(".", PathKind::absolute_or_relative).problem == "names no folder");
    CHECK(check_path("./", PathKind::absolute_or_relative).normalised.empty());
}
