#include "gitmodel/core/text.hpp"

#include <catch2/catch.hpp>

using namespace gm;

TEST_CASE("edit distance counts single edits and swaps", "[core]") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("start", "start") == 0);
    CHECK(edit_distance("strat", "start") == 1);  // adjacent swap
    CHECK(edit_distance("lst", "list") == 1);
    CHECK(edit_distance("abc", "xyz") == 3);
}

TEST_CASE("closest_match suggests only plausible typos", "[core]") {
    const std::vector<std::string> commands{"start", "list", "env", "bench"};
    CHECK(closest_match("strat", commands) == std::optional<std::string>("start"));
    CHECK(closest_match("lsit", commands) == std::optional<std::string>("list"));
    CHECK_FALSE(closest_match("frobnicate", commands).has_value());
}

TEST_CASE("quote_for_message makes invisible bytes visible", "[core]") {
    CHECK(quote_for_message("a b") == "'a b'");
    CHECK(quote_for_message("x\n") == "'x\\n'");
    CHECK(quote_for_message("\x7f") == "'\\x7f'");
    CHECK(quote_for_message("\xc3\x9f") == "'\\xc3\\x9f'");
}

#include "gitmodel/core/duration.hpp"

TEST_CASE("durations in the units users write", "[core]") {
    CHECK(parse_duration_seconds("90") == 90);
    CHECK(parse_duration_seconds("90s") == 90);
    CHECK(parse_duration_seconds("30m") == 1800);
    CHECK(parse_duration_seconds("6h") == 21600);
    CHECK(parse_duration_seconds("14d") == 14 * 86400);
    CHECK(parse_duration_seconds("2w") == 14 * 86400);
    CHECK(parse_duration_seconds(" 1d ") == 86400);
    CHECK_FALSE(parse_duration_seconds("").has_value());
    CHECK_FALSE(parse_duration_seconds("-1d").has_value());
    CHECK_FALSE(parse_duration_seconds("1y").has_value());
    CHECK_FALSE(parse_duration_seconds("d").has_value());
    CHECK_FALSE(parse_duration_seconds("99999999999999999999").has_value());
    CHECK_FALSE(parse_duration_seconds("1.5h").has_value());
}

TEST_CASE("printable keeps UTF-8 and escapes what a terminal acts on", "[core]") {
    CHECK(printable("caf\xc3\xa9 /home/ana") == "caf\xc3\xa9 /home/ana");
    CHECK(printable("a\x1b]0;owned\x07z") == "a\\x1b]0;owned\\x07z");
    CHECK(printable("line\nforged\r\t") == "line\\nforged\\r\\t");
    CHECK(printable("\xc2\x9b" "31m") == "\\u009b31m");          // C1 control (CSI) in UTF-8
    CHECK(printable("\xe2\x80\xae" "txt") == "\\u202etxt");      // right-to-left override
    CHECK(printable("bad\xff\xc3") == "bad\\xff\\xc3");           // not UTF-8 (and cut short)
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                 // an overlong '/'
    CHECK(printable(std::string(300, 'x')) == std::string(256, 'x') + "...");
    CHECK(printable("abcdef", 3) == "abc...");
}

TEST_CASE("valid_utf8 replaces only what is not UTF-8", "[core]") {
    CHECK(valid_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(valid_utf8("junk-\xff") == "junk-\xef\xbf\xbd");
    CHECK(valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
    CHECK(valid_utf8("") == "");
}

TEST_CASE("non_utf8_problem names the first byte that is not UTF-8", "[core]") {
    CHECK_FALSE(non_utf8_problem("caf\xc3\xa9/model"));
    CHECK_FALSE(non_utf8_problem(""));
    CHECK(non_utf8_problem("/tmp/caf\xe9/r") == "byte 0xe9 at 8 is not UTF-8");  // Latin-1
    CHECK(non_utf8_problem("a\xed\xa0\x80") == "byte 0xed at 1 is not UTF-8");   // a surrogate, as JSON refuses it
}

TEST_CASE("split_records reads git's -z and line output alike", "[core]") {
    using V = std::vector<std::string>;
    using namespace std::string_literals;
    CHECK(split_records("", '\0') == V{});
    CHECK(split_records("a\0b\0"s, '\0') == V{"a", "b"});             // the last NUL ends "b"
    CHECK(split_records("a\0b"s, '\0') == V{"a", "b"});               // an unterminated last record
    CHECK(split_records("a\0\0b\0"s, '\0') == V{"a", "", "b"});       // an empty value stays a record
    CHECK(split_records("\0"s, '\0') == V{""});
    CHECK(split_records("one\ntwo\n", '\n') == V{"one", "two"});
    CHECK(split_records("file:x\0line\nfile:y\0"s, '\0') == V{"file:x", "line\nfile:y"});  // newlines are data
}

TEST_CASE("last_nonempty_line takes a program's last words, not its trailing blank lines", "[core]") {
    CHECK(last_nonempty_line("warning: a\nfatal: b  \r\n\n \t\n") == "fatal: b");
    CHECK(last_nonempty_line("one line") == "one line");
    CHECK(last_nonempty_line("\n\n") == "");
    CHECK(last_nonempty_line("") == "");
}
