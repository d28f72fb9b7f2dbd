#include "gitmodel/env/engine.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::env {

namespace {

std::string trim_copy(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return {};
    const auto end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

// A TOML string or boolean value as containers.conf writes it: "x", 'x' or true.
std::string toml_value(std::string value) {
    value = trim_copy(value.substr(0, value.find(" #")));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
        value = value.substr(1, value.size() - 2);
    return value;
}

// The socket file behind unix:///path or unix:/path; "" for other schemes.
std::string socket_path(const std::string& host) {
    if (host.rfind("unix://", 0) == 0) return host.substr(7);
    if (host.rfind("unix:", 0) == 0) return host.substr(5);
    return {};
}

void engine_env(const char* name, std::string& out) {
    if (const char* value = std::getenv(name); value && *value) out = value;
}

}  // namespace

std::string Engine::place() const {
    const std::string path = socket_path(host);
    if (path.empty()) return host;
    std::error_code ec;
    const auto resolved = std::filesystem::weakly_canonical(path, ec);
    return "unix://" + (ec ? std::filesystem::path(path).lexically_normal() : resolved).string();
}

std::vector<std::string> Engine::command(std::vector<std::string> args) const {
    std::vector<std::string> argv{program.string()};
    if (host_from_config && !host.empty()) {
        argv.push_back(kind == EngineKind::podman ? "--url" : "--host");
        argv.push_back(host);
    }
    argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    return argv;
}

std::string Engine::describe_mode() const {
    switch (mode) {
        case EngineMode::rootless:
            return host.empty() ? "rootless" : fmt::format("rootless (your own engine through {})", host);
        case EngineMode::rootful_local: return "rootful (local, run as root)";
        case EngineMode::rootful_socket: return fmt::format("rootful through a socket ({})", host.empty() ? "default" : host);
    }
    return "unknown";
}

bool containers_conf_remote(std::string* uri) {
    std::vector<std::string> files;
    if (const char* conf = std::getenv("CONTAINERS_CONF"); conf && *conf) {
        files.push_back(conf);
    } else {
        files = {"/usr/share/containers/containers.conf", "/etc/containers/containers.conf"};
        const char* xdg = std::getenv("XDG_CONFIG_HOME");
        const char* home = std::getenv("HOME");
        if (xdg && *xdg) files.push_back(std::string(xdg) + "/containers/containers.conf");
        else if (home && *home) files.push_back(std::string(home) + "/.config/containers/containers.conf");
    }
    bool remote = false;
    std::string active;
    std::map<std::string, std::string> destinations;
    for (const auto& file : files) {
        std::ifstream in(file);
        std::string line, section;
        while (std::getline(in, line)) {
            line = trim_copy(line);
            if (line.empty() || line[0] == '#') continue;
            if (line[0] == '[') {
                section = trim_copy(line.substr(1, line.find(']') - 1));
                continue;
            }
            const auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            const std::string key = trim_copy(line.substr(0, eq));
            const std::string value = toml_value(line.substr(eq + 1));
            const std::string prefix = "engine.service_destinations.";
            if (section == "engine" && key == "remote") remote = value == "true";
            else if (section == "engine" && key == "active_service") active = value;
            else if (section.rfind(prefix, 0) == 0 && key == "uri") destinations[toml_value(section.substr(prefix.size()))] = value;
        }
    }
    if (uri) {
        if (destinations.count(active)) *uri = destinations[active];
        else if (destinations.size() == 1) *uri = destinations.begin()->second;
    }
    return remote;
}

ModeFacts mode_facts(EngineKind kind, const std::optional<std::string>& configured_host) {
    ModeFacts facts;
    facts.kind = kind;
    facts.euid = ::geteuid();
    if (configured_host) facts.host = *configured_host;
    if (kind == EngineKind::podman) {
        if (facts.host.empty()) engine_env("CONTAINER_HOST", facts.host);
        facts.remote = !facts.host.empty();
        if (!facts.remote && containers_conf_remote(&facts.host)) {
            facts.remote = true;
            if (facts.host.empty())
                facts.host = facts.euid == 0 ? "unix:///run/podman/podman.sock"
                                             : fmt::format("unix:///run/user/{}/podman/podman.sock", facts.euid);
        }
    } else {
        if (facts.host.empty()) engine_env("DOCKER_HOST", facts.host);
        if (facts.host.empty()) facts.host = "unix:///var/run/docker.sock";
        facts.remote = true;
    }
    const std::string path = socket_path(facts.host);
    struct stat st {};
    if (!path.empty() && ::stat(path.c_str(), &st) == 0) facts.socket_owner = st.st_uid;
    return facts;
}

EngineMode detect_mode(const ModeFacts& facts) {
    if (facts.remote || facts.kind == EngineKind::docker) {
        if (facts.socket_owner && *facts.socket_owner == facts.euid && facts.euid != 0) return EngineMode::rootless;
        return EngineMode::rootful_socket;
    }
    return facts.euid == 0 ? EngineMode::rootful_local : EngineMode::rootless;
}

std::string engine_message(const std::string& err) {
    return trim_trailing_newlines(err);
}

Engine select_engine(const std::optional<std::string>& configured, const std::optional<std::string>& file_engine) {
    std::optional<std::string> wanted = configured;
    std::string source = "git config model.engine";
    if (!wanted && file_engine) {
        wanted = file_engine;
        source = ".modelenv.yaml's engine";
    }
    const auto make = [](const std::string& name, const std::filesystem::path& program) {
        Engine engine;
        engine.kind = name == "docker" ? EngineKind::docker : EngineKind::podman;
        engine.name = name;
        engine.program = program;
        const ModeFacts facts = mode_facts(engine.kind, std::nullopt);
        engine.mode = detect_mode(facts);
        engine.host = facts.host;
        return engine;
    };
    if (wanted) {
        if (*wanted != "podman" && *wanted != "docker")
            throw Error(fmt::format("{} is '{}': expected podman or docker", source, *wanted));
        if (auto program = proc::find_program(*wanted)) return make(*wanted, *program);
        throw UnavailableError(fmt::format("{} asks for {}, which is not installed", source, *wanted),
                               fmt::format("install {} (apt-get install {}), or choose the other engine", *wanted, *wanted));
    }
    for (const char* name : {"podman", "docker"})
        if (auto program = proc::find_program(name)) return make(name, *program);
    throw UnavailableError("no container engine: neither podman nor docker is installed",
                           "install podman (apt-get install podman runc)");
}

Engine select_engine(const git::Config& config, const std::optional<std::string>& file_engine) {
    Engine engine = select_engine(config.get_string("model.engine"), file_engine);
    if (const auto host = config.get_string("model.engineHost"); host && !host->empty()) {
        if (host->find("://") == std::string::npos && host->rfind("unix:", 0) != 0)
            throw Error(fmt::format("model.engineHost '{}' is not a URL", *host),
                        "name the engine's socket, e.g. unix:///run/podman/podman.sock (or ssh://, tcp://)");
        const ModeFacts facts = mode_facts(engine.kind, *host);
        engine.mode = detect_mode(facts);
        engine.host = facts.host;
        engine.host_from_config = true;
    }
    const auto duration = [&](const char* key, std::chrono::milliseconds fallback) -> std::chrono::milliseconds {
        const auto seconds = git::duration_setting(config, key, "use e.g. 30s, 2m or 1h", true);
        return seconds ? std::chrono::milliseconds(std::chrono::seconds(*seconds)) : fallback;
    };
    engine.timeout = duration("model.engineTimeout", engine.timeout);
    engine.start_timeout = duration("model.env.startTimeout", engine.start_timeout);
    return engine;
}

namespace {

proc::RunOptions within(std::chrono::milliseconds timeout) {
    proc::RunOptions options;
    options.timeout = timeout;
    return options;
}

std::int64_t to_seconds(const nlohmann::json& value) {
    if (value.is_number_integer()) return value.get<std::int64_t>();
    return 0;
}

ContainerInfo from_podman(const nlohmann::json& row) {
    ContainerInfo info;
    info.id = row.value("Id", "");
    if (row.contains("Names") && row["Names"].is_array() && !row["Names"].empty()) info.name = row["Names"][0];
    info.state = row.value("State", "");
    info.image = row.value("Image", "");
    if (row.contains("Labels") && row["Labels"].is_object())
        for (auto& [key, value] : row["Labels"].items()) info.labels[key] = value.is_string() ? value.get<std::string>() : "";
    if (row.contains("StartedAt")) info.started_at = to_seconds(row["StartedAt"]);
    info.image_id = row.value("ImageID", "");
    return info;
}

ContainerInfo from_docker(const nlohmann::json& row) {
    ContainerInfo info;
    info.id = row.value("ID", "");
    info.name = row.value("Names", "");
    info.state = row.value("State", "");
    info.image = row.value("Image", "");
    std::istringstream labels(row.value("Labels", ""));
    std::string pair;
    while (std::getline(labels, pair, ',')) {
        const auto eq = pair.find('=');
        if (eq != std::string::npos) info.labels[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    return info;
}

}  // namespace

std::vector<ContainerInfo> parse_container_list(const std::string& output) {
    std::vector<ContainerInfo> out;
    const auto first = output.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return out;
    if (output[first] == '[') {
        const auto rows = nlohmann::json::parse(output, nullptr, false);
        if (!rows.is_array()) throw Error("the container engine's listing is not valid JSON");
        for (const auto& row : rows) out.push_back(from_podman(row));
        return out;
    }
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto row = nlohmann::json::parse(line, nullptr, false);
        if (!row.is_object()) throw Error("the container engine's listing is not valid JSON");
        out.push_back(row.contains("Names") && row["Names"].is_array() ? from_podman(row) : from_docker(row));
    }
    return out;
}

std::vector<ContainerInfo> list_containers(const Engine& engine, const std::string& label_filter) {
    const auto argv = engine.command({"ps", "--all", "--no-trunc", "--filter", "label=" + label_filter, "--format",
                                      engine.kind == EngineKind::podman ? "json" : "{{json .}}"});
    const auto result = proc::run_checked(argv, within(engine.timeout));
    return parse_container_list(result.out);
}

std::optional<ContainerInfo> find_container(const Engine& engine, const std::string& name) {
    const auto argv = engine.command({"ps", "--all", "--no-trunc", "--filter", "name=^" + name + "$", "--format",
                                      engine.kind == EngineKind::podman ? "json" : "{{json .}}"});
    for (auto& info : parse_container_list(proc::run_checked(argv, within(engine.timeout)).out))
        if (info.name == name) return info;
    return std::nullopt;
}

void remove_container(const Engine& engine, const std::string& name, std::chrono::seconds grace) {
    // stop first so the workload gets its SIGTERM and the grace period to save a checkpoint
    proc::run(engine.command({"stop", "--time", std::to_string(grace.count()), name}), within(grace + engine.timeout));
    const auto result = proc::run(engine.command({"rm", "--force", name}), within(engine.timeout));
    if (!result.ok() && find_container(engine, name)) {
        throw Error(fmt::format("cannot remove container {}: {} {}", name, engine.name,
                                result.timed_out ? fmt::format("did not answer within {} s", engine.timeout.count() / 1000)
                                                 : engine_message(result.err)));
    }
}

std::string last_log_lines(const Engine& engine, const std::string& name, int lines) {
    const auto result = proc::run(engine.command({"logs", "--tail", std::to_string(lines), name}),
                                  within(std::min<std::chrono::milliseconds>(engine.timeout, std::chrono::seconds(10))));
    return result.out + result.err;
}

std::chrono::seconds stop_grace(const git::Config& config) {
    return std::chrono::seconds(
        git::duration_setting(config, "model.env.stopTimeout", "use e.g. 10s, 2m or 1h").value_or(10));
}

}  // namespace gm::env
