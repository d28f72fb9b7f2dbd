// Image references: the docker grammar plus our pinning rule (a tag other than latest, or a digest).
#include "gitmodel/config/image_ref.hpp"
#include "gitmodel/core/error.hpp"

#include <catch2/catch.hpp>

#include <string>

using gm::config::ImageRef;
using gm::config::parse_image_ref;

namespace {

const std::string hex64(64, 'a');

// The message of the gm::Error that parse_image_ref throws, or "" when it accepts the text.
std::string refusal(const std::string& text) {
    try {
        parse_image_ref(text);
    } catch (const gm::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("image references split into registry, path, tag and digest", "[config]") {
    const ImageRef a = parse_image_ref("registry.example.com:5000/team/model:1.0");
    CHECK(a.registry == "registry.example.com:5000");
    CHECK(a.path == "team/model");
    CHECK(a.tag == "1.0");
    CHECK(a.digest.empty());
    CHECK_FALSE(a.pinned_by_digest());
    CHECK(a.to_string() == "registry.example.com:5000/team/model:1.0");
    CHECK(a.original == "registry.example.com:5000/team/model:1.0");

    const ImageRef b = parse_image_ref("ubuntu:22.04");
    CHECK(b.registry.empty());
    CHECK(b.path == "ubuntu");
    CHECK(b.tag == "22.04");

    const ImageRef c = parse_image_ref("ghcr.io/org/model@sha256:" + hex64);
    CHECK(c.registry == "ghcr.io");
    CHECK(c.tag.empty());
    CHECK(c.digest == "sha256:" + hex64);
    CHECK(c.pinned_by_digest());
    CHECK(c.to_string() == "ghcr.io/org/model@sha256:" + hex64);

    const ImageRef d = parse_image_ref("localhost/model:dev@sha256:" + hex64);
    CHECK(d.registry == "localhost");
    CHECK(d.tag == "dev");
    CHECK(d.pinned_by_digest());

    // A first component without '.', ':' or "localhost" is part of the path, not a registry.
    const ImageRef e = parse_image_ref("team/model:1");
    CHECK(e.registry.empty());
    CHECK(e.path == "team/model");

    // "host:port" alone is a path with a tag, as docker reads it.
    const ImageRef f = parse_image_ref("localhost:5000");
    CHECK(f.path == "localhost");
    CHECK(f.tag == "5000");
}

TEST_CASE("image path components follow the docker grammar", "[config]") {
    CHECK(refusal("a_b/c__d--e/f.g-h:1").empty());
    // A first component with a '.' is a registry host, where '_' is not allowed.
    CHECK_THAT(refusal("a.b_c/d:1"), Catch::Contains("bad registry host 'a.b_c'"));
    CHECK(refusal("Example.COM:443/x:1").empty());  // registry hosts may use uppercase
    CHECK(refusal("x:_tag-1.2").empty());
    CHECK(refusal("x:" + std::string(128, 't')).empty());
    CHECK_THAT(refusal("x:" + std::string(129, 't')), Catch::Contains("bad tag"));
    CHECK_THAT(refusal("a___b:1"), Catch::Contains("bad path component 'a___b'"));
    CHECK_THAT(refusal("a..b:1"), Catch::Contains("bad path component"));
    CHECK_THAT(refusal("a-:1"), Catch::Contains("bad path component 'a-'"));
    CHECK_THAT(refusal("Upper/x:1"), Catch::Contains("must be lowercase"));
    CHECK_THAT(refusal("a//b:1"), Catch::Contains("empty path component"));
    CHECK_THAT(refusal("a/b/:1"), Catch::Contains("empty path component"));
    CHECK_THAT(refusal("-a.io/b:1"), Catch::Contains("starts with '-'"));
    CHECK_THAT(refusal("bad_host.io/b:1"), Catch::Contains("bad registry host"));
    CHECK_THAT(refusal("a.io:0/b:1"), Catch::Contains("bad registry port"));
    CHECK_THAT(refusal("a.io:http/b:1"), Catch::Contains("bad registry port"));
    CHECK_THAT(refusal(std::string(256, 'a') + ":1"), Catch::Contains("name of 256 characters"));
}

TEST_CASE("image references must be pinned", "[config]") {
    CHECK_THAT(refusal("ubuntu"), Catch::Contains("has no tag"));
    CHECK_THAT(refusal("a.io/team/model"), Catch::Contains("has no tag"));
    CHECK_THAT(refusal("ubuntu:latest"), Catch::Contains("uses the tag 'latest'"));
    CHECK_THAT(refusal("ubuntu:LATEST"), Catch::Contains("uses the tag 'latest'"));
    CHECK_THAT(refusal("ubuntu:"), Catch::Contains("empty tag"));
    // A digest fixes the content, so a 'latest' tag in front of it is harmless.
    CHECK(refusal("ubuntu:latest@sha256:" + hex64).empty());
    CHECK(refusal("ubuntu:latest-cuda").empty());
}

TEST_CASE("image digests are sha256 with 64 lowercase hex digits", "[config]") {
    CHECK_THAT(refusal("x@sha256:" + std::string(64, 'A')), Catch::Contains("uppercase hex"));
    CHECK_THAT(refusal("x@sha256:" + std::string(63, 'a')), Catch::Contains("digest of 63 hex digits"));
    CHECK_THAT(refusal("x@sha256:" + std::string(65, 'a')), Catch::Contains("digest of 65 hex digits"));
    CHECK_THAT(refusal("x@sha256:" + std::string(63, 'a') + "g"), Catch::Contains("non-hex character 'g'"));
    CHECK_THAT(refusal("x@sha512:" + std::string(128, 'a')), Catch::Contains("only sha256"));
    CHECK_THAT(refusal("x@" + hex64), Catch::Contains("without an algorithm"));
    CHECK_THAT(refusal("x@sha256:" + hex64 + "@sha256:" + hex64), Catch::Contains("more than one '@'"));
    CHECK_THAT(refusal("@sha256:" + hex64), Catch::Contains("no repository name"));
}

TEST_CASE("image references refuse white space, control bytes and emptiness", "[config]") {
    CHECK_THAT(refusal(""), Catch::Contains("empty"));
    CHECK_THAT(refusal("ubuntu :1"), Catch::Contains("white space"));
    CHECK_THAT(refusal("ubuntu:1\n"), Catch::Contains("white space"));
    CHECK_THAT(refusal("ubuntu:1\t"), Catch::Contains("white space"));
    CHECK_THAT(refusal(std::string("ubu\0ntu:1", 9)), Catch::Contains("control character"));
    CHECK_THAT(refusal("ubuntu:1\x7f"), Catch::Contains("control character"));
    CHECK_THAT(refusal("caf\xc3\xa9:1"), Catch::Contains("non-ASCII"));
    // Every message says what a valid reference looks like.
    CHECK_THAT(refusal("ubuntu :1"), Catch::Contains("expected"));
}
