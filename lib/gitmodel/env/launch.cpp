#include "gitmodel/env/launch.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

namespace gm::env {

std::string visible_devices(const std::vector<GpuSlot>& gpus) {
    std::vector<std::string> ids;
    for (const auto& gpu : gpus) ids.push_back(gpu.uuid ? *gpu.uuid : std::to_string(gpu.index));
    return join(ids, ",");
}

std::vector<std::string> in_container_shell(const std::string& script) {
    return {"/bin/sh", "-c", script};  // layering: inside the container
}

std::vector<std::string> default_command(const config::ModelEnv& env, const std::string& sshd_config,
                                         const std::string& host_key) {
    // Runs inside the container, with the image's /bin/sh; nothing from the user is interpolated
    // (the two paths are the suite's own, without quotes or spaces).
    std::string start_sshd;
    if (env.find_port("ssh") && sshd_config.empty()) {
        start_sshd = "if command -v sshd >/dev/null 2>&1; then mkdir -p /run/sshd; "
                     "$(command -v sshd) -p " + std::to_string(*env.find_port("ssh")) + " -e; fi; ";
    } else if (env.find_port("ssh")) {
        const std::string key_dir = host_key.substr(0, host_key.rfind('/'));
        start_sshd = "if command -v sshd >/dev/null 2>&1; then mkdir -p " + key_dir + " && { [ -f " + host_key +
                     " ] || ssh-keygen -q -t ed25519 -N '' -f " + host_key + "; } && $(command -v sshd) -f " +
                     sshd_config + " -e; fi; ";
    }
    if (auto jupyter = env.find_port("jupyter")) {
        return in_container_shell(start_sshd + "exec jupyter lab --ip=0.0.0.0 --port=" + std::to_string(*jupyter) +
                                  " --no-browser --allow-root");
    }
    return in_container_shell(start_sshd + "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done");
}

namespace {

// podman (and docker) read a --mount value, and podman an --env-file value, as one CSV record:
// a field with a comma, a double quote or a line break in it is quoted, its quotes doubled.
std::string csv_field(const std::string& field) {
    if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
    std::string quoted = "\"";
    for (char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string format_decimal(double value) {
    std::string text = fmt::format("{:.3f}", value);
    while (!text.empty() && text.back() == '0') text.pop_back();
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
}

}  // namespace

std::vector<std::string> detached_run_arguments(const std::string& name) { return {"run", "--detach", "--name", name}; }

std::vector<std::string> version_probe_arguments(const std::string& image_id, const BindMount& binary,
                                                 const std::string& repository) {
    return {"run",
            "--rm",
            "--label",
            std::string(label::probe) + "=" + repository,
            "--network",
            "none",
            "--user",
            "0:0",
            "--mount",
            fmt::format("type=bind,{},{},readonly", csv_field("source=" + binary.source.string()),
                        csv_field("target=" + binary.target)),
            "--entrypoint",
            binary.target,
            image_id,
            "--version"};
}

std::vector<std::string> start_attached_arguments(const std::string& name) { return {"start", "--attach", name}; }

namespace {

// The argv of `engine run` or `engine create`: the verb and its first arguments (`head`), then
// everything the spec says, which is the same for both.
std::vector<std::string> container_argv(const std::string& engine_program, const std::vector<std::string>& head,
                                        const LaunchSpec& spec) {
    std::vector<std::string> argv{engine_program};
    argv.insert(argv.end(), head.begin(), head.end());
    if (!spec.hostname.empty()) argv.insert(argv.end(), {"--hostname", spec.hostname});
    // A real init as PID 1 forwards SIGTERM: a Python trainer as PID 1 would ignore it and
    // every `env down` would wait out the stop timeout.
    argv.push_back("--init");
    argv.insert(argv.end(), {"--security-opt", "no-new-privileges"});
    for (const auto& [key, value] : spec.labels) argv.insert(argv.end(), {"--label", key + "=" + value});
    if (!spec.workdir.empty()) argv.insert(argv.end(), {"--workdir", spec.workdir});
    for (const auto& mount : spec.mounts) {
        argv.insert(argv.end(), {"--mount", fmt::format("type=bind,{},{}{}", csv_field("source=" + mount.source.string()),
                                                        csv_field("target=" + mount.target),
                                                        mount.readonly ? ",readonly" : "")});
    }
    for (const auto& port : spec.ports) {
        argv.insert(argv.end(), {"--publish", fmt::format("{}:{}:{}", port.host_address, port.host_port,
                                                          port.container_port)});
    }
    if (spec.memory_bytes) argv.insert(argv.end(), {"--memory", std::to_string(*spec.memory_bytes)});
    if (spec.cpus) argv.insert(argv.end(), {"--cpus", format_decimal(*spec.cpus)});
    if (spec.shm_bytes) argv.insert(argv.end(), {"--shm-size", std::to_string(*spec.shm_bytes)});
    if (!spec.gpus.empty() && spec.pass_gpu_devices) {
        if (spec.engine == EngineKind::docker) {
            // docker reads --gpus as CSV: a list of devices must itself be quoted.
            argv.insert(argv.end(), {"--gpus", fmt::format("\"device={}\"", visible_devices(spec.gpus))});
        } else {
            // CDI names devices by index by default (nvidia-ctk cdi generate); the index is the
            // driver's current one for the leased UUID, resolved just before launch.
            for (const auto& gpu : spec.gpus)
                argv.insert(argv.end(), {"--device", "nvidia.com/gpu=" + std::to_string(gpu.index)});
        }
    }
    if (!spec.env_file.empty()) {
        // docker takes the path as it is; podman splits it on commas unless quoted
        const std::string path = spec.env_file.string();
        argv.insert(argv.end(), {"--env-file", spec.engine == EngineKind::podman ? csv_field(path) : path});
    }
    if (!spec.pidfile.empty() && spec.engine == EngineKind::podman) argv.insert(argv.end(), {"--pidfile", spec.pidfile.string()});
    for (const auto& tmpfs : spec.tmpfs) argv.insert(argv.end(), {"--tmpfs", tmpfs});
    argv.insert(argv.end(), spec.user_flags.begin(), spec.user_flags.end());
    argv.push_back(spec.image);
    argv.insert(argv.end(), spec.command.begin(), spec.command.end());
    return argv;
}

}  // namespace

std::vector<std::string> run_argv(const std::string& engine_program, const LaunchSpec& spec) {
    return container_argv(engine_program, {"run", spec.detach ? "--detach" : "--rm", "--name", spec.container_name}, spec);
}

std::vector<std::string> create_arguments(const std::string& name) {
    // The image is here already (the caller pulled it, and a pull may be stopped): a create
    // that pulled could not be, and its container would appear after a cancel looked.
    return {"create", "--pull=never", "--rm", "--name", name};
}

std::vector<std::string> create_argv(const std::string& engine_program, const LaunchSpec& spec) {
    if (spec.detach) throw Error("internal: a detached container is made with run_argv, not created");
    return container_argv(engine_program, create_arguments(spec.container_name), spec);
}

}  // namespace gm::env
