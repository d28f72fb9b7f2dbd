#pragma once
// What the suite remembers about a model's environment between commands, in the
// model's folder under the common git dir (git-model/env/<model>/, mode 0700): the last
// launch (image id actually run, the settings it ran with, for drift and `git model
// tag`) and the host port each published port got (kept across down/up while free).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gm::env {

// The folder of a model's environment state: <common dir>/git-model/env/<model>.
std::filesystem::path state_dir(const std::filesystem::path& common_dir, const std::string& model);

// Writes a file only its owner can read, through a temporary file renamed over it.
void write_state_file(const std::filesystem::path& path, const std::string& content);

// What the last `env up` of a model started.
struct LaunchRecord {
    std::string image;           // the reference the file pinned
    std::string image_id;        // "sha256:..." actually run ("" when the engine could not say)
    nlohmann::json settings;     // config::container_settings of the file it ran with
    std::string user;            // the `user:` setting, as written
    std::string engine_mode;     // Engine::describe_mode() at launch
    std::int64_t at = 0;         // Unix seconds
    std::vector<std::string> gpus;  // the UUIDs of the GPUs it was given (for `git model tag` once it is down)
    // The container it made and its start token (label io.git-model.start): after the repository
    // is moved, its new place finds the environment still running under the old name.
    std::string container;
    std::string start;
    // The common git dir's device and inode then ("<dev>:<ino>"): a move (mv) keeps them, a copy
    // (cp -a) does not, so only the moved repository itself, never a copy, finds that container.
    std::string place_id;
};

// The "<dev>:<ino>" of a folder, "" when it cannot be read.
std::string place_id(const std::filesystem::path& folder);

// The last launch of a model, if one was recorded (and the record reads).
std::optional<LaunchRecord> read_launch(const std::filesystem::path& common_dir, const std::string& model);

// Records a launch (overwriting the previous one).
void write_launch(const std::filesystem::path& common_dir, const std::string& model, const LaunchRecord& record);

// The host port each published port of a model last had, by port name.
std::map<std::string, int> read_port_record(const std::filesystem::path& common_dir, const std::string& model);

// Records the host ports (kept across down and up, so bookmarks and SSH configs keep working).
void write_port_record(const std::filesystem::path& common_dir, const std::string& model,
                       const std::map<std::string, int>& ports);

// A short fingerprint of container settings, carried as a label by the container.
std::string settings_fingerprint(const nlohmann::json& settings);

// What differs between the settings a container ran with and the file's now, one item per
// top-level key ("memory: 96m -> 128m" style where short, else the key); empty: no drift.
std::vector<std::string> settings_drift(const nlohmann::json& ran, const nlohmann::json& now);

}  // namespace gm::env
