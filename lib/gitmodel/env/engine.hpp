#pragma once
// The container engine (podman or docker) as the env commands use it: which
// one, and the few calls made to it. Every call is an argv vector.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/env/launch.hpp"
#include "gitmodel/git/config.hpp"

namespace gm::env {

// How the engine's containers relate to the caller (git-model-env(1), ENGINE MODES): it
// decides how `user: host` maps the caller into the container.
enum class EngineMode {
    rootless,        // the caller's own engine (rootless podman, or their own daemon): container root is the caller
    rootful_local,   // root's engine, run by root itself
    rootful_socket,  // root's (or someone else's) engine reached through a socket: docker, podman --remote
};

// A usable engine binary.
struct Engine {
    EngineKind kind = EngineKind::podman;
    std::string name;              // "podman" or "docker"
    std::filesystem::path program;
    EngineMode mode = EngineMode::rootless;
    // The socket the engine is reached through ("unix:///run/podman/podman.sock"), "" for local podman.
    std::string host;
    // From git config model.engineHost: passed on every call (podman --url, docker --host).
    bool host_from_config = false;
    // Every call the suite makes to it ends within this (git config model.engineTimeout) ...
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    // ... except `run -d`, which may pull the image first (model.env.startTimeout).
    std::chrono::milliseconds start_timeout{std::chrono::minutes(30)};

    // Which engine this is, comparable however its socket was spelled (a GPU lease records it):
    // "" for the caller's local podman, unix://<the socket's path, links resolved> (unix:/x,
    // unix:///x and a link to the socket are one engine), else the URL as given (ssh://, tcp://).
    std::string place() const;
    // The argv of one engine call: the program, the host when configured, then args.
    std::vector<std::string> command(std::vector<std::string> args) const;
    // "rootless", "rootful (local)" or "rootful through unix:///...", for messages and doctor.
    std::string describe_mode() const;
};

// What decides an engine's mode, gathered from the environment (see detect_mode).
struct ModeFacts {
    EngineKind kind = EngineKind::podman;
    unsigned euid = 0;                       // the caller
    std::string host;                        // model.engineHost, else CONTAINER_HOST / DOCKER_HOST, else
                                             // containers.conf's service (podman remote = true)
    bool remote = false;                     // podman: --remote is in effect (a host is set or configured)
    std::optional<unsigned> socket_owner;    // the uid owning a unix:// host's socket, when it can be seen
};

// The mode from the facts: a socket owned by the caller (not root) is their own engine; any other
// socket is rootful; local podman is rootful for root and rootless for everyone else.
EngineMode detect_mode(const ModeFacts& facts);

// Reads the facts for an engine (environment variables, containers.conf, the socket's owner).
ModeFacts mode_facts(EngineKind kind, const std::optional<std::string>& configured_host);

// Whether podman's containers.conf files (CONTAINERS_CONF, else the system's and the user's) set
// `remote = true` under [engine]; uri receives the active service destination's URI when named.
bool containers_conf_remote(std::string* uri);

// Picks the engine: git config model.engine (configured), else .modelenv.yaml's
// engine, else podman when installed, else docker. Throws gm::UnavailableError
// (exit 3) when none is.
Engine select_engine(const std::optional<std::string>& configured, const std::optional<std::string>& file_engine);
// The same from a repository's config: model.engine, model.engineHost (a socket such as
// unix:///run/podman/podman.sock), and the timeouts model.engineTimeout (default 60s) and
// model.env.startTimeout (default 30m); throws gm::Error on a bad duration.
Engine select_engine(const git::Config& config, const std::optional<std::string>& file_engine);

// What the engine says about one of our containers.
struct ContainerInfo {
    std::string id;
    std::string name;
    std::string state;                          // running, exited, created, ...
    std::string image;
    std::map<std::string, std::string> labels;
    std::int64_t started_at = 0;                // Unix seconds, 0 if unknown
    std::string image_id;                       // the image's id, when the engine lists it
};

// Every container carrying a label (key=value), running or not, in one engine call.
std::vector<ContainerInfo> list_containers(const Engine& engine, const std::string& label_filter);

// The container of that name, if it exists.
std::optional<ContainerInfo> find_container(const Engine& engine, const std::string& name);

// The grace a container gets between SIGTERM and SIGKILL: model.env.stopTimeout, else 10 s, read
// here for env down and for prune alike; a malformed value throws naming the key.
std::chrono::seconds stop_grace(const git::Config& config);

// Stops (SIGTERM, then SIGKILL after grace) and removes a container; absent is fine.
void remove_container(const Engine& engine, const std::string& name, std::chrono::seconds grace);

// The engine's message from a failed call, as it printed it (trailing newlines dropped).
std::string engine_message(const std::string& err);

// The last lines of a container's output, for error messages.
std::string last_log_lines(const Engine& engine, const std::string& name, int lines);

// Parses `podman ps --format json` (an array) or docker's one JSON object per line.
std::vector<ContainerInfo> parse_container_list(const std::string& output);

}  // namespace gm::env
