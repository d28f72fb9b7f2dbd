#include "gitmodel/env/container.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

#include <fstream>
#include <unistd.h>

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

    spec.user_flags = request.user.run_flags;

    spec.mounts.push_back({request.worktree, file.workdir, false});
    if (request.mount_common_dir) {
        spec.mounts.push_back({request.common_dir, request.common_dir.string(), false});
        // git-model's own folders (state, persist, HOME, accounts) read-only on top: code in the
        // container may commit, but may not rename or re-point what the next start mounts.
        // The persist and HOME folders are mounted read-write again at their own targets.
        const fs::path own = request.common_dir / "git-model";
        std::error_code ec;
        if (fs::is_directory(own, ec)) spec.mounts.push_back({own, own.string(), true});
    }
    for (const auto& mount : file.mounts) {
        const std::string source = config::expand_placeholders(mount.source, request.placeholders);
        std::error_code ec;
        if (!fs::exists(source, ec))
            throw Error(fmt::format("{}: the mount source {} does not exist", config::modelenv_file_name, source),
                        "create it or fix mounts: in .modelenv.yaml");
        spec.mounts.push_back({source, mount.target, mount.readonly});
    }
    spec.mounts.push_back({request.checkpoints, "/persist/checkpoints", false});
    spec.mounts.push_back({request.logs, "/persist/logs", false});
    if (request.user.needs_accounts) {
        // The image's own accounts plus the user's, so that shells, Jupyter and sshd know who they are.
        plan.account_files = {{request.accounts_dir / "passwd", request.user.passwd},
                              {request.accounts_dir / "group", request.user.group}};
        spec.mounts.push_back({request.accounts_dir / "passwd", "/etc/passwd", true});
        spec.mounts.push_back({request.accounts_dir / "group", "/etc/group", true});
    }
    spec.mounts.insert(spec.mounts.end(), request.extra_mounts.begin(), request.extra_mounts.end());
    if (!request.user.home.empty() && request.user.home_in_tmpfs) {
        // The container's uid owns it (podman's U option; docker's has no such option: 1777).
        spec.tmpfs.push_back(request.user.home + (request.engine == EngineKind::podman ? ":mode=0700,U" : ":mode=1777"));
    } else if (!request.user.home.empty()) {
        const std::string prefix = request.user.home + "/";
        for (const auto& mount : spec.mounts) {
            if (mount.target.compare(0, prefix.size(), prefix) != 0) continue;
            std::error_code ec;
            plan.home_mount_points.emplace_back(request.home / mount.target.substr(prefix.size()),
                                                fs::is_directory(mount.source, ec));
        }
        spec.mounts.push_back({request.home, request.user.home, false});
    }

    // The user's HOME first, the file's variables next, ours after them (the later line wins).
    const auto add = [&](const std::string& name, const std::string& value) {
        if (value.find_first_of("\r\n") != std::string::npos)
            throw Error(fmt::format("{}: env {} holds a line break, which containers cannot receive",
                                    config::modelenv_file_name, name));
        plan.env_file_content += name + "=" + value + "\n";
    };
    if (!request.user.home.empty()) add("HOME", request.user.home);
    if (!request.user.login.empty() && !request.user.as_root) {
        add("USER", request.user.login);
        add("LOGNAME", request.user.login);
    }
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
                   {label::gpus, visible},
                   {label::owner, std::to_string(::geteuid())}};
    if (!request.user.login.empty()) spec.labels.emplace_back(label::login, request.user.login);
    spec.labels.insert(spec.labels.end(), request.extra_labels.begin(), request.extra_labels.end());
    return plan;
}

void create_home_mount_points(const ContainerPlan& plan) {
    for (const auto& [path, folder] : plan.home_mount_points) {
        std::error_code ec;
        if (folder) {
            fs::create_directories(path, ec);
        } else if (!fs::exists(path, ec)) {
            fs::create_directories(path.parent_path(), ec);
            std::ofstream touch(path);
        }
    }
}

std::vector<std::string> engine_run_argv(const Engine& engine, const LaunchSpec& spec) {
    std::vector<std::string> argv = run_argv(engine.program.string(), spec);
    argv.erase(argv.begin());
    return engine.command(std::move(argv));
}

std::vector<std::string> engine_create_argv(const Engine& engine, const LaunchSpec& spec) {
    std::vector<std::string> argv = create_argv(engine.program.string(), spec);
    argv.erase(argv.begin());
    return engine.command(std::move(argv));
}

std::vector<std::string> engine_start_attached_argv(const Engine& engine, const std::string& name) {
    return engine.command(start_attached_arguments(name));
}

config::Placeholders placeholders_for(const std::string& model, const std::string& branch) {
    return {model, branch, current_caller().name};
}

}  // namespace gm::env
