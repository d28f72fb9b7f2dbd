#include "gitmodel/env/engine.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace gm::env {

Engine select_engine(const std::optional<std::string>& configured, const std::optional<std::string>& file_engine) {
    std::optional<std::string> wanted = configured;
    std::string source = "git config model.engine";
    if (!wanted && file_engine) {
        wanted = file_engine;
        source = ".modelenv.yaml's engine";
    }
    const auto make = [](const std::string& name, const std::filesystem::path& program) {
        return Engine{name == "docker" ? EngineKind::docker : EngineKind::podman, name, program};
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
    const auto duration = [&](const char* key, std::chrono::milliseconds fallback) -> std::chrono::milliseconds {
        const auto text = config.get_string(key);
        if (!text) return fallback;
        const auto seconds = parse_duration_seconds(*text);
        if (!seconds || *seconds <= 0)
            throw Error(fmt::format("{} '{}' is not a duration", key, *text), "use e.g. 30s, 2m or 1h");
        return std::chrono::seconds(*seconds);
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
    std::vector<std::string> argv{engine.program.string(), "ps", "--all", "--no-trunc", "--filter", "label=" + label_filter,
                                  "--format", engine.kind == EngineKind::podman ? "json" : "{{json .}}"};
    const auto result = proc::run_checked(argv, within(engine.timeout));
    return parse_container_list(result.out);
}

std::optional<ContainerInfo> find_container(const Engine& engine, const std::string& name) {
    std::vector<std::string> argv{engine.program.string(), "ps", "--all", "--no-trunc", "--filter", "name=^" + name + "$",
                                  "--format", engine.kind == EngineKind::podman ? "json" : "{{json .}}"};
    for (auto& info : parse_container_list(proc::run_checked(argv, within(engine.timeout)).out))
        if (info.name == name) return info;
    return std::nullopt;
}

void remove_container(const Engine& engine, const std::string& name, std::chrono::seconds grace) {
    // stop first so the workload gets its SIGTERM and the grace period to save a checkpoint
    proc::run({engine.program.string(), "stop", "--time", std::to_string(grace.count()), name}, within(grace + engine.timeout));
    const auto result = proc::run({engine.program.string(), "rm", "--force", name}, within(engine.timeout));
    if (!result.ok() && find_container(engine, name)) {
        throw Error(fmt::format("cannot remove container {}: {} {}", name, engine.name,
                                result.timed_out ? fmt::format("did not answer within {} s", engine.timeout.count() / 1000)
                                                 : result.err));
    }
}

std::string last_log_lines(const Engine& engine, const std::string& name, int lines) {
    const auto result = proc::run({engine.program.string(), "logs", "--tail", std::to_string(lines), name},
                                  within(std::min<std::chrono::milliseconds>(engine.timeout, std::chrono::seconds(10))));
    return result.out + result.err;
}

}  // namespace gm::env
