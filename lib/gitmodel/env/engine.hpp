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

// A usable engine binary.
struct Engine {
    EngineKind kind = EngineKind::podman;
    std::string name;              // "podman" or "docker"
    std::filesystem::path program;
    // Every call the suite makes to it ends within this (git config model.engineTimeout) ...
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    // ... except `run -d`, which may pull the image first (model.env.startTimeout).
    std::chrono::milliseconds start_timeout{std::chrono::minutes(30)};
};

// Picks the engine: git config model.engine (configured), else .modelenv.yaml's
// engine, else podman when installed, else docker. Throws gm::UnavailableError
// (exit 3) when none is.
Engine select_engine(const std::optional<std::string>& configured, const std::optional<std::string>& file_engine);
// The same from a repository's config: model.engine, and the timeouts model.engineTimeout
// (default 60s) and model.env.startTimeout (default 30m); throws gm::Error on a bad duration.
Engine select_engine(const git::Config& config, const std::optional<std::string>& file_engine);

// What the engine says about one of our containers.
struct ContainerInfo {
    std::string id;
    std::string name;
    std::string state;                          // running, exited, created, ...
    std::string image;
    std::map<std::string, std::string> labels;
    std::int64_t started_at = 0;                // Unix seconds, 0 if unknown
};

// Every container carrying a label (key=value), running or not, in one engine call.
std::vector<ContainerInfo> list_containers(const Engine& engine, const std::string& label_filter);

// The container of that name, if it exists.
std::optional<ContainerInfo> find_container(const Engine& engine, const std::string& name);

// Stops (SIGTERM, then SIGKILL after grace) and removes a container; absent is fine.
void remove_container(const Engine& engine, const std::string& name, std::chrono::seconds grace);

// The last lines of a container's output, for error messages.
std::string last_log_lines(const Engine& engine, const std::string& name, int lines);

// Parses `podman ps --format json` (an array) or docker's one JSON object per line.
std::vector<ContainerInfo> parse_container_list(const std::string& output);

}  // namespace gm::env
