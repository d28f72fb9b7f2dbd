#pragma once
// The image a container actually runs, by content: its id and registry digests as the
// engine reports them (so that env up, tag and pin record what ran, not a movable tag),
// and its own account files (read once per image id and cached) for `user: host`.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/config/image_ref.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/user.hpp"

namespace gm::env {

// What the engine says an image reference resolves to here.
struct ImageIdentity {
    std::string id;                         // "sha256:<64 hex>", whatever the engine's own spelling
    std::vector<std::string> repo_digests;  // "registry/path@sha256:<64 hex>"
};

// The engine's view of a reference (one `image inspect`); nullopt when the image is not
// here (it would be pulled) or the engine cannot say.
std::optional<ImageIdentity> inspect_image(const Engine& engine, const std::string& reference);

// Pulls an image that is not here, before a start takes any GPU (a pull can take minutes, and
// nobody else could have them meanwhile), and returns what it resolved to. Unlike a `run` that
// pulls, a pull may be stopped at once: Ctrl-C, SIGTERM or a hang-up of this process reaches
// the engine's client, which stops and cleans up, and so does this process's death (SIGTERM).
// With show_progress the engine's own progress goes to our stderr as it comes. Throws
// gm::Error with the engine's message (or the timeout, model.env.startTimeout) when it fails.
// on_start gets the pull's pid, which leads its process group (a scheduler that must stop it on
// its own signal records it; when on_start throws, the pull is stopped and the error goes on).
ImageIdentity pull_image(const Engine& engine, const std::string& reference, bool show_progress,
                         const std::function<void(long pid)>& on_start = {});

// Reads `image inspect --format '{{.Id}} {{json .RepoDigests}}'` output; nullopt when malformed.
std::optional<ImageIdentity> parse_image_identity(const std::string& output);

// "sha256:<hex>" for podman's bare hex ids and docker's prefixed ones alike.
std::string normalise_image_id(const std::string& id);

// "sha256:1e9573c46897" (12 hex digits), for messages.
std::string short_image_id(const std::string& id);

// A container (by name) and an image reference, asked of the engine at the same time: the
// container's listing (throws gm::Error with the engine's message when it fails) and the
// image's identity (nullopt when it is not here).
std::pair<std::optional<ContainerInfo>, std::optional<ImageIdentity>> find_container_and_image(
    const Engine& engine, const std::string& name, const std::string& reference);

// The registry digest ("sha256:...") of the image for the reference's repository, the one
// `name:tag@<digest>` pins; "" when the image has none (built here and never pushed).
std::string repo_digest_for(const ImageIdentity& image, const config::ImageRef& reference);

// The most bytes of /etc/passwd plus /etc/group read from an image (a hostile image's endless
// file is cut there, and env up fails).
inline constexpr std::size_t max_account_files_bytes = std::size_t{8} << 20;

// The image's /etc/passwd and /etc/group, read by running `cat` in it once per image id and
// kept under cache_dir (only a complete read; a file per user, and only the caller's own is
// read back); nullopt (why says so) when the image cannot show
// them (no cat); throws gm::Error naming the image when the read timed out, was cut at
// max_account_files_bytes or was killed.
std::optional<ImageAccounts> image_accounts(const Engine& engine, const std::string& image_id,
                                            const std::filesystem::path& cache_dir, std::string* why);

}  // namespace gm::env
