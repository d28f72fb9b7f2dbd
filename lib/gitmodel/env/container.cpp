#include "gitmodel/env/container.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

namespace gm::env {

namespace fs = std::filesystem;

ContainerPlan plan_container(const config::ModelEnv& file, const ContainerRequest& request) {
    ContainerPlan plan;
    LaunchSpec& spec = plan.spec;
    spec.engine = request.engine;
    spec.container_name = request.name;
    spec.image = file.image.to_string();
    spec.hostname = request.hostname;
    spec.workdir = file.workdir;
    spec.memory_bytes = file.memory_bytes;
    spec.cpus = file.cpus;
    spec.shm_bytes = file.shm_bytes;
    spec.gpus = request.gpus;
    spec.pass_gpu_devices = request.pass_gpu_devices;
    spec.ports = request.ports;
    spec.command = request.command;
    spec.detach = request.detach;
    spec.env_file = request.env_file;
    spec.pidfile = request.pidfile;

    spec.mounts.push_back({request.worktree, file.workdir, false});
    if (request.mount_common_dir) spec.mounts.push_back({request.common_dir, request.common_dir.string(), false});
    for (const auto& mount : file.mounts) {
        std::error_code ec;
        if (!fs::exists(mount.source, ec))
            throw Error(fmt::format("{}: the mount source {} does not exist", config::modelenv_file_name, mount.source),
                        "create it or fix mounts: in .modelenv.yaml");
        spec.mounts.push_back({mount.source, mount.target, mount.readonly});
    }
    spec.mounts.push_back({request.checkpoints, "/persist/checkpoints", false});
    spec.mounts.push_back({request.logs, "/persist/logs", false});
    spec.mounts.insert(spec.mounts.end(), request.extra_mounts.begin(), request.extra_mounts.end());

    // The file's variables first, ours after them (the later line wins).
    const auto add = [&](const std::string& name, const std::string& value) {
        if (value.find_first_of("\r\n") != std::string::npos)
            throw Error(fmt::format("{}: env {} holds a line break, which containers cannot receive",
                                    config::modelenv_file_name, name));
        plan.env_file_content += name + "=" + value + "\n";
    };
    for (const auto& [name, value] : file.env) add(name, value);
    for (const auto& [name, value] : request.variables) add(name, value);
    const std::string visible = visible_devices(request.gpus);
    add("CUDA_VISIBLE_DEVICES", visible);
    add("NVIDIA_VISIBLE_DEVICES", visible.empty() ? "void" : visible);

    spec.labels = {{label::managed, "1"},
                   {label::repo, request.common_dir.string()},
                   {label::model, request.model},
                   {label::branch, request.branch},
                   {label::worktree, request.worktree.string()},
                   {label::gpus, visible}};
    spec.labels.insert(spec.labels.end(), request.extra_labels.begin(), request.extra_labels.end());
    return plan;
}

}  // namespace gm::env
