#pragma once
// Container image references ("registry:5000/team/model:1.2@sha256:..."),
// checked against the docker reference grammar plus our reproducibility rule:
// an image must be pinned by a tag other than "latest" or by a digest.
// Used by the .modelenv.yaml loader and on its own by the pre-push hook.

#include <string>
#include <string_view>

namespace gm::config {

// A parsed image reference, kept in parts so that callers can tell a pinned
// digest from a movable tag and print the registry separately.
struct ImageRef {
    // Registry host with optional port ("ghcr.io", "localhost:5000"); empty means the engine's default.
    std::string registry;
    // Repository path below the registry ("team/model"), lowercase components.
    std::string path;
    // Tag ("1.2"), empty when the reference has only a digest.
    std::string tag;
    // "sha256:" followed by 64 lowercase hex digits, empty when the reference has only a tag.
    std::string digest;
    // The text as written, for messages that quote the user.
    std::string original;

    // Whether the image content is fixed by a digest, not just by a (movable) tag.
    bool pinned_by_digest() const { return !digest.empty(); }
    // The canonical text "[registry/]path[:tag][@digest]", to hand to a container engine.
    std::string to_string() const;
};

// Parses and checks an image reference; throws gm::Error whose message quotes
// the reference and says what was expected, so hooks can print it as is.
ImageRef parse_image_ref(std::string_view text);

}  // namespace gm::config
