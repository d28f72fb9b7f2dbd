// The engine command lines `git model env up` builds, for podman and docker, without an engine.
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/launch.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace gm::env;

namespace {

LaunchSpec sample_spec(EngineKind engine) {
    LaunchSpec spec;
    spec.engine = engine;
    spec.container_name = "gm-repo-resnet50-1234abcd";
    spec.image = "registry.example.com/team/pytorch:2.4.0";
    spec.hostname = "resnet50";
    spec.workdir = "/workspace";
    spec.mounts = {{"/src/worktrees/feature/model-resnet50", "/workspace", false}, {"/nas/imagenet", "/data", true}};
    spec.ports = {{"jupyter", 8888, 40001, "127.0.0.1"}};
    spec.gpus = {{2, std::string("GPU-aaaa")}, {3, std::string("GPU-bbbb")}};
    spec.memory_bytes = 16ull << 30;
    spec.cpus = 7.5;
    spec.shm_bytes = 8ull << 30;
    spec.env_file = "/repo/.git/git-model/env/resnet50/env";
    spec.labels = {{"io.git-model.model", "resnet50"}};
    spec.command = {"python3", "train.py"};
    return spec;
}

bool has_pair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag && argv[i + 1] == value) return true;
    return false;
}

}  // namespace

TEST_CASE("podman argv: CDI devices, limits, mounts, ports on 127.0.0.1, env file", "[env]") {
    const auto argv = run_argv("podman", sample_spec(EngineKind::podman));
    CHECK(argv[0] == "podman");
    CHECK(argv[1] == "run");
    CHECK(std::find(argv.begin(), argv.end(), "--detach") != argv.end());
    CHECK(std::find(argv.begin(), argv.end(), "--init") != argv.end());
    CHECK(has_pair(argv, "--name", "gm-repo-resnet50-1234abcd"));
    CHECK(has_pair(argv, "--security-opt", "no-new-privileges"));
    CHECK(has_pair(argv, "--device", "nvidia.com/gpu=2"));
    CHECK(has_pair(argv, "--device", "nvidia.com/gpu=3"));
    CHECK(has_pair(argv, "--memory", "17179869184"));
    CHECK(has_pair(argv, "--cpus", "7.5"));
    CHECK(has_pair(argv, "--shm-size", "8589934592"));
    CHECK(has_pair(argv, "--publish", "127.0.0.1:40001:8888"));
    CHECK(has_pair(argv, "--mount", "type=bind,source=/nas/imagenet,target=/data,readonly"));
    CHECK(has_pair(argv, "--mount", "type=bind,source=/src/worktrees/feature/model-resnet50,target=/workspace"));
    CHECK(has_pair(argv, "--env-file", "/repo/.git/git-model/env/resnet50/env"));
    CHECK(has_pair(argv, "--label", "io.git-model.model=resnet50"));
    CHECK(has_pair(argv, "--workdir", "/workspace"));
    // the image, then the command, last
    REQUIRE(argv.size() >= 3);
    CHECK(argv[argv.size() - 3] == "registry.example.com/team/pytorch:2.4.0");
    CHECK(argv[argv.size() - 2] == "python3");
    CHECK(argv.back() == "train.py");
    CHECK(std::find(argv.begin(), argv.end(), "--gpus") == argv.end());
}

TEST_CASE("a foreground spec's create argv is its run argv made, not run: no pull, --rm, found by its head", "[env]") {
    LaunchSpec spec = sample_spec(EngineKind::podman);
    spec.detach = false;
    const auto run = run_argv("podman", spec);
    const auto create = create_argv("podman", spec);
    const auto head = create_arguments(spec.container_name);
    REQUIRE(create.size() == run.size() + 1);
    CHECK(std::vector<std::string>(create.begin() + 1, create.begin() + 6) == head);
    CHECK(head == std::vector<std::string>{"create", "--pull=never", "--rm", "--name", spec.container_name});
    CHECK(std::vector<std::string>(create.begin() + 6, create.end()) == std::vector<std::string>(run.begin() + 5, run.end()));
    CHECK(start_attached_arguments("x") == std::vector<std::string>{"start", "--attach", "x"});
    spec.detach = true;
    CHECK_THROWS(create_argv("podman", spec));
}

TEST_CASE("docker argv: --gpus with a quoted device list", "[env]") {
    const auto argv = run_argv("docker", sample_spec(EngineKind::docker));
    CHECK(has_pair(argv, "--gpus", "\"device=GPU-aaaa,GPU-bbbb\""));
    CHECK(std::find(argv.begin(), argv.end(), "--device") == argv.end());
    CHECK(has_pair(argv, "--publish", "127.0.0.1:40001:8888"));
}

TEST_CASE("without a driver no device flags are passed, only the visible-devices variables", "[env]") {
    auto spec = sample_spec(EngineKind::podman);
    spec.pass_gpu_devices = false;
    const auto argv = run_argv("podman", spec);
    CHECK(std::find(argv.begin(), argv.end(), "--device") == argv.end());
    CHECK(std::find(argv.begin(), argv.end(), "--gpus") == argv.end());
}

TEST_CASE("visible devices prefer UUIDs, fall back to indices", "[env]") {
    CHECK(visible_devices({{0, std::nullopt}, {1, std::nullopt}}) == "0,1");
    CHECK(visible_devices({{3, std::string("GPU-x")}}) == "GPU-x");
    CHECK(visible_devices({}).empty());
}

TEST_CASE("the default command serves Jupyter or waits", "[env]") {
    gm::config::ModelEnv env;
    auto waiting = default_command(env);
    REQUIRE(waiting.size() == 3);
    CHECK(waiting[0] == "/bin/sh");
    CHECK_THAT(waiting[2], Catch::Contains("trap"));
    env.ports.push_back({"jupyter", 8888, std::nullopt});
    auto jupyter = default_command(env);
    CHECK_THAT(jupyter[2], Catch::Contains("jupyter lab --ip=0.0.0.0 --port=8888"));
    CHECK_THAT(jupyter[2], !Catch::Contains("TOKEN"));  // the token travels in the env file, not argv
}

TEST_CASE("container listings of podman and docker parse alike", "[env]") {
    const auto podman = parse_container_list(R"([{"Id":"abc","Names":["gm-x"],"State":"running","Image":"img:1",
        "Labels":{"io.git-model.model":"x"},"StartedAt":1700000000}])");
    REQUIRE(podman.size() == 1);
    CHECK(podman[0].name == "gm-x");
    CHECK(podman[0].state == "running");
    CHECK(podman[0].labels.at("io.git-model.model") == "x");
    CHECK(podman[0].started_at == 1700000000);
    const auto docker = parse_container_list(
        "{\"ID\":\"abc\",\"Names\":\"gm-y\",\"State\":\"exited\",\"Image\":\"img:2\",\"Labels\":\"io.git-model.model=y,a=b\"}\n");
    REQUIRE(docker.size() == 1);
    CHECK(docker[0].name == "gm-y");
    CHECK(docker[0].labels.at("io.git-model.model") == "y");
    CHECK(docker[0].labels.at("a") == "b");
    CHECK(parse_container_list("").empty());
    CHECK_THROWS(parse_container_list("not json"));
}

TEST_CASE("model.gpus lists host indices", "[env]") {
    CHECK(parse_gpu_list("0,1") == std::vector<int>{0, 1});
    CHECK(parse_gpu_list(" 2 , 5 ") == std::vector<int>{2, 5});
    CHECK_THROWS_WITH(parse_gpu_list("0,x"), Catch::Contains("'x' is not a GPU index"));
    CHECK_THROWS_WITH(parse_gpu_list("1,1"), Catch::Contains("twice"));
    CHECK_THROWS(parse_gpu_list("-1"));
}

TEST_CASE("paths with commas, quotes and line breaks stay one field for the engine's CSV parser", "[env]") {
    auto spec = sample_spec(EngineKind::podman);
    spec.mounts = {{"/home/a,b/worktrees/x", "/workspace", false}, {"/nas/q\"x", "/data,1", true}};
    spec.env_file = "/home/a,b/.git/git-model/env/x/env";
    const auto argv = run_argv("podman", spec);
    CHECK(has_pair(argv, "--mount", "type=bind,\"source=/home/a,b/worktrees/x\",target=/workspace"));
    CHECK(has_pair(argv, "--mount", "type=bind,\"source=/nas/q\"\"x\",\"target=/data,1\",readonly"));
    CHECK(has_pair(argv, "--env-file", "\"/home/a,b/.git/git-model/env/x/env\""));
    // docker reads --mount as CSV too, but takes --env-file as it is
    spec.engine = EngineKind::docker;
    const auto docker = run_argv("docker", spec);
    CHECK(has_pair(docker, "--mount", "type=bind,\"source=/home/a,b/worktrees/x\",target=/workspace"));
    CHECK(has_pair(docker, "--env-file", "/home/a,b/.git/git-model/env/x/env"));
}
