// The .modelenv.yaml loader: every rule of gitmodelenv(5), with exact positions.
#include "gitmodel/config/modelenv.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace gm::config;

namespace {

const std::string digest_hex(64, 'a');

ModelEnv load(const std::string& text) { return load_modelenv_text(text, ".modelenv.yaml"); }

// Loads text that must be refused; checks the position and that the message holds every word.
void check_refused(const std::string& text, int line, int column, const std::vector<std::string>& words) {
    INFO("input:\n" << text);
    std::optional<ConfigError> error;
    try {
        load(text);
    } catch (const ConfigError& e) {
        error = e;
    }
    REQUIRE(error.has_value());
    INFO("message: " << error->what());
    CHECK(error->file() == ".modelenv.yaml");
    CHECK(error->line() == line);
    CHECK(error->column() == column);
    CHECK_THAT(error->what(), Catch::StartsWith(".modelenv.yaml:" + std::to_string(line) + ":" +
                                                 std::to_string(column) + ": "));
    for (const auto& word : words) CHECK_THAT(error->detail(), Catch::Contains(word));
}

}  // namespace

TEST_CASE("a minimal file needs only an image and gets the defaults", "[config]") {
    const ModelEnv env = load("image: registry.example.com/team/model:1.0\n");
    CHECK(env.image.registry == "registry.example.com");
    CHECK(env.image.path == "team/model");
    CHECK(env.image.tag == "1.0");
    CHECK(env.gpus.kind == GpuRequest::Kind::count);
    CHECK(env.gpus.count == 0);
    CHECK_FALSE(env.gpus.wants_gpu());
    CHECK_FALSE(env.memory_bytes);
    CHECK_FALSE(env.cpus);
    CHECK_FALSE(env.shm_bytes);
    CHECK(env.ports.empty());
    CHECK(env.mounts.empty());
    CHECK_FALSE(env.persist.checkpoints);
    CHECK_FALSE(env.persist.logs);
    CHECK(env.env.empty());
    CHECK(env.workdir == "/workspace");
    CHECK(env.command.form == Command::Form::none);
    CHECK_FALSE(env.engine);
    CHECK_FALSE(env.bench.min_bandwidth_fraction);
    CHECK_FALSE(env.bench.min_fp32_fraction);
    CHECK_FALSE(env.bench.min_compute_capability);
    CHECK_FALSE(env.bench.min_free_memory);
}

TEST_CASE("every key is read into the structs", "[config]") {
    const ModelEnv env = load(R"(image: a.io/team/m:2@sha256:)" + digest_hex + R"(
gpus: [1, 3]
memory: 16g
cpus: 2.5
shm_size: 512m
ports:
  jupyter: 8888
  tensorboard: 6006
mounts:
  - source: /data/set/
    target: /data
    readonly: true
  - {source: /scratch, target: /scratch, readonly: False}
persist:
  checkpoints: ckpt
  logs: /var/log/m
env:
  A: text
  B: 42
  C: 1.50
workdir: /work
command: [python, train.py, 3]
engine: docker
bench:
  min_bandwidth_fraction: 0.8
  min_fp32_fraction: 1
  min_compute_capability: 8.6
  min_free_memory: 40g
)");
    CHECK(env.image.pinned_by_digest());
    CHECK(env.image.tag == "2");
    CHECK(env.gpus.kind == GpuRequest::Kind::indices);
    CHECK(env.gpus.indices == std::vector<int>{1, 3});
    CHECK(env.gpus.wants_gpu());
    CHECK(env.memory_bytes == 16ull << 30);
    CHECK(env.cpus == Approx(2.5));
    CHECK(env.shm_bytes == 512ull << 20);
    REQUIRE(env.ports.size() == 2);
    CHECK(env.ports[0].name == "jupyter");
    CHECK(env.ports[0].container_port == 8888);
    CHECK(env.find_port("tensorboard") == 6006);
    CHECK_FALSE(env.find_port("ssh"));
    REQUIRE(env.mounts.size() == 2);
    CHECK(env.mounts[0].source == "/data/set");
    CHECK(env.mounts[0].target == "/data");
    CHECK(env.mounts[0].readonly);
    CHECK_FALSE(env.mounts[1].readonly);
    REQUIRE(env.persist.checkpoints);
    CHECK(env.persist.checkpoints->path == "ckpt");
    CHECK(env.persist.checkpoints->relative);
    REQUIRE(env.persist.logs);
    CHECK_FALSE(env.persist.logs->relative);
    REQUIRE(env.env.size() == 3);
    CHECK(env.env[1] == std::make_pair(std::string("B"), std::string("42")));
    CHECK(env.env[2].second == "1.50");  // numbers keep their text
    CHECK(env.workdir == "/work");
    CHECK(env.command.form == Command::Form::exec);
    CHECK(env.command.argv == std::vector<std::string>{"python", "train.py", "3"});
    CHECK(env.engine == std::optional<std::string>("docker"));
    CHECK(env.bench.min_bandwidth_fraction == Approx(0.8));
    CHECK(env.bench.min_fp32_fraction == Approx(1.0));
    REQUIRE(env.bench.min_compute_capability);
    CHECK(env.bench.min_compute_capability->major == 8);
    CHECK(env.bench.min_compute_capability->minor == 6);
    CHECK(env.bench.min_free_memory == 40ull << 30);
}

TEST_CASE("gpus takes a count, a list of indices or 'all'", "[config]") {
    CHECK(load("image: a.io/b:1\ngpus: 4\n").gpus.count == 4);
    CHECK(load("image: a.io/b:1\ngpus: all\n").gpus.kind == GpuRequest::Kind::all);
    CHECK(load("image: a.io/b:1\ngpus: \"all\"\n").gpus.kind == GpuRequest::Kind::all);
    CHECK(load("image: a.io/b:1\ngpus: 0\n").gpus.wants_gpu() == false);
    CHECK(load("image: a.io/b:1\ngpus:\n  - 2\n  - 0\n").gpus.indices == std::vector<int>{2, 0});

    check_refused("image: a.io/b:1\ngpus: {n: 1}\n", 2, 7,
                  {"'gpus' must be a count, a list of GPU indices, or 'all' (got a mapping)"});
    check_refused("image: a.io/b:1\ngpus: -1\n", 2, 7, {"'gpus' must be a count", "(got the number -1)"});
    check_refused("image: a.io/b:1\ngpus: 2.0\n", 2, 7, {"(got the number 2.0)"});
    check_refused("image: a.io/b:1\ngpus: true\n", 2, 7, {"(got the boolean true)"});
    check_refused("image: a.io/b:1\ngpus: ALL\n", 2, 7, {"(got the string 'ALL')"});
    check_refused("image: a.io/b:1\ngpus: \"2\"\n", 2, 7, {"(got the string '2')"});
    check_refused("image: a.io/b:1\ngpus: 0x2\n", 2, 7, {"(got the number 0x2)"});
    check_refused("image: a.io/b:1\ngpus: [0, 0]\n", 2, 11, {"GPU index 0 is listed twice (first at line 2)"});
    check_refused("image: a.io/b:1\ngpus:\n  - 1\n  - 1\n", 4, 5, {"GPU index 1 is listed twice (first at line 3)"});
    check_refused("image: a.io/b:1\ngpus: [0, -2]\n", 2, 11, {"GPU index must be an integer of 0 or more"});
    check_refused("image: a.io/b:1\ngpus: [[0]]\n", 2, 8, {"(got a list)"});
    check_refused("image: a.io/b:1\ngpus: []\n", 2, 7, {"empty list"});
    check_refused("image: a.io/b:1\ngpus: [0, ~]\n", 2, 11, {"item 2 of 'gpus' is empty"});
    check_refused("image: a.io/b:1\ngpus:\n  -\n  - 1\n", 3, 3, {"item 1 of 'gpus' is empty"});
    check_refused("image: a.io/b:1\ngpus: 1025\n", 2, 7, {"at most 1024"});
    check_refused("image: a.io/b:1\ngpus: [1024]\n", 2, 8, {"GPU index 1024 is too large"});
    check_refused("image: a.io/b:1\ngpus: 99999999999999999999\n", 2, 7, {"'gpus' must be a count"});
    check_refused("image: a.io/b:1\ngpus:\n", 2, 1, {"'gpus' has no value; expected a count"});
    check_refused("image: a.io/b:1\ngpus: ~\n", 2, 1, {"'gpus' has no value"});
}

TEST_CASE("memory, shm_size and cpus", "[config]") {
    CHECK(load("image: a.io/b:1\nmemory: 1073741824\n").memory_bytes == 1073741824u);
    CHECK(load("image: a.io/b:1\nmemory: '2gb'\n").memory_bytes == 2ull << 30);
    CHECK(load("image: a.io/b:1\nshm_size: 1024k\n").shm_bytes == 1024u * 1024u);
    CHECK(load("image: a.io/b:1\ncpus: 4\n").cpus == Approx(4));
    CHECK(load("image: a.io/b:1\ncpus: 0.25\n").cpus == Approx(0.25));
    CHECK(load("image: a.io/b:1\ncpus: 1e1\n").cpus == Approx(10));

    check_refused("image: a.io/b:1\nmemory: 12x\n", 2, 9,
                  {"'memory' must be a size such as 16g, 512m", "(got the string '12x')"});
    check_refused("image: a.io/b:1\nmemory: 0\n", 2, 9, {"greater than 0", "(got the number 0)"});
    check_refused("image: a.io/b:1\nmemory: 1.5\n", 2, 9, {"'memory' must be a size"});
    check_refused("image: a.io/b:1\nmemory: [1g]\n", 2, 9, {"(got a list)"});
    check_refused("image: a.io/b:1\nshm_size: 64q\n", 2, 11, {"'shm_size' must be a size"});
    check_refused("image: a.io/b:1\ncpus: 0\n", 2, 7, {"'cpus' must be a number of CPUs greater than 0"});
    check_refused("image: a.io/b:1\ncpus: -1.5\n", 2, 7, {"(got the number -1.5)"});
    check_refused("image: a.io/b:1\ncpus: .nan\n", 2, 7, {"'cpus' must be"});
    check_refused("image: a.io/b:1\ncpus: four\n", 2, 7, {"(got the string 'four')"});
    check_refused("image: a.io/b:1\ncpus: 1e999\n", 2, 7, {"'cpus' must be"});
}

TEST_CASE("ports map lowercase names to container ports", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\nports: {ssh: 22, my-app_2: 65535, a: 1}\n");
    REQUIRE(env.ports.size() == 3);
    CHECK(env.ports[1].name == "my-app_2");
    CHECK(load("image: a.io/b:1\nports: {}\n").ports.empty());

    check_refused("image: a.io/b:1\nports:\n  jupyter: 0\n", 3, 12,
                  {"port 'jupyter' must be a container port from 1 to 65535 (got the number 0)"});
    check_refused("image: a.io/b:1\nports:\n  jupyter: \"8888\"\n", 3, 12,
                  {"or '<host port>:<container port>' such as '8888:8888'"});
    check_refused("image: a.io/b:1\nports:\n  jupyter: 70000\n", 3, 12, {"(got the number 70000)"});
    check_refused("image: a.io/b:1\nports:\n  jupyter: \"8888\"\n", 3, 12, {"(got the string '8888')"});
    check_refused("image: a.io/b:1\nports:\n  a: 80\n  b: 80\n", 4, 6,
                  {"container port 80 is already used by 'a' at line 3"});
    check_refused("image: a.io/b:1\nports:\n  Web: 80\n", 3, 3, {"port name 'Web' is not valid"});
    check_refused("image: a.io/b:1\nports:\n  9web: 80\n", 3, 3, {"port name '9web' is not valid"});
    check_refused("image: a.io/b:1\nports:\n  80: 80\n", 3, 3, {"port name '80' is not valid"});
    check_refused("image: a.io/b:1\nports:\n  web:\n", 3, 3, {"port 'web' has no value"});
    check_refused("image: a.io/b:1\nports: 8888\n", 2, 8, {"'ports' must be a mapping", "(got the number 8888)"});
}

TEST_CASE("mounts are absolute, normalised, and do not collide", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\nmounts:\n  - {source: //a/./b/, target: /c//d/}\n");
    REQUIRE(env.mounts.size() == 1);
    CHECK(env.mounts[0].source == "/a/b");
    CHECK(env.mounts[0].target == "/c/d");
    CHECK(load("image: a.io/b:1\nmounts: []\n").mounts.empty());

    check_refused("image: a.io/b:1\nmounts:\n  - source: rel\n    target: /x\n", 3, 13,
                  {"'source' path 'rel' is not absolute"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a\n    target: x/y\n", 4, 13,
                  {"'target' path 'x/y' is not absolute"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a/../b\n    target: /x\n", 3, 13, {"'..'"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a\n    target: /x/..\n", 4, 13, {"'..'"});
    // env up quotes commas and double quotes for the engine's CSV parser: such paths are fine
    CHECK(load("image: a.io/b:1\nmounts:\n  - source: '/a,b\"c'\n    target: /x\n").mounts.at(0).source == "/a,b\"c");
    check_refused("image: a.io/b:1\nmounts:\n  - source: \"/a\\0\"\n    target: /x\n", 3, 13, {"control character"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a\n    target: //\n", 4, 13, {"mount target '/'"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a\n    target: /workspace\n", 4, 13,
                  {"mount target '/workspace' is the working directory"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a\n    target: /w\nworkdir: /w\n", 4, 13,
                  {"is the working directory"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /x}\n  - {source: /b, target: /x/.}\n", 4, 26,
                  {"mount target '/x' is already used at line 3"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /persist/checkpoints}\n", 3, 26,
                  {"mount target '/persist/checkpoints' is where env up mounts the persist folder 'checkpoints'"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /persist/logs/}\n", 3, 26,
                  {"the persist folder 'logs'"});
    check_refused("image: a.io/b:1\nports:\n  ssh: 22\nmounts:\n  - {source: /a, target: /root/.ssh/authorized_keys}\n",
                  5, 26, {"the SSH authorized keys"});
    CHECK(load("image: a.io/b:1\nmounts:\n  - {source: /a, target: /root/.ssh/authorized_keys}\n").mounts.size() == 1);
    check_refused("image: a.io/b:1\nworkdir: /persist/logs\n", 2, 10, {"workdir '/persist/logs' is where env up mounts"});
    check_refused("image: a.io/b:1\nmounts:\n  - {target: /x}\n", 3, 5, {"mount is missing 'source'"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /a\n", 3, 5, {"mount is missing 'target'"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /x, ro: true}\n", 3, 30,
                  {"unknown key 'ro' in a mount", "expected one of source, target, readonly"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /x, readonly: 1}\n", 3, 40,
                  {"'readonly' must be true or false (got the number 1)"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /x, readonly: }\n", 3, 30,
                  {"'readonly' has no value; expected true or false"});
    check_refused("image: a.io/b:1\nmounts:\n  - /a:/x\n", 3, 5, {"each mount must be a mapping"});
    check_refused("image: a.io/b:1\nmounts:\n  -\n  - {source: /a, target: /x}\n", 3, 3,
                  {"item 1 of 'mounts' is empty"});
    check_refused("image: a.io/b:1\nmounts: /a\n", 2, 9, {"'mounts' must be a list of mappings"});
}

TEST_CASE("persist keeps relative folders as given with a flag", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\npersist:\n  checkpoints: out/ckpt/\n");
    REQUIRE(env.persist.checkpoints);
    CHECK(env.persist.checkpoints->path == "out/ckpt");
    CHECK(env.persist.checkpoints->relative);
    CHECK_FALSE(env.persist.logs);
    CHECK_FALSE(load("image: a.io/b:1\npersist: {}\n").persist.checkpoints);

    check_refused("image: a.io/b:1\npersist:\n  logs: a/../../b\n", 3, 9, {"'persist.logs' path", "'..'"});
    check_refused("image: a.io/b:1\npersist:\n  logs: 7\n", 3, 9, {"'persist.logs' must be", "(got the number 7)"});
    check_refused("image: a.io/b:1\npersist:\n  logs:\n", 3, 3, {"'persist.logs' has no value"});
    check_refused("image: a.io/b:1\npersist:\n  log: x\n", 3, 3, {"unknown key 'log' in 'persist' (did you mean 'logs'?)"});
    check_refused("image: a.io/b:1\npersist: /x\n", 2, 10, {"'persist' must be a mapping"});
}

TEST_CASE("env takes strings and numbers, nothing else", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\nenv:\n  _X1: 'yes'\n  N: 0x1F\n  E: ''\n  Y: yes\n");
    REQUIRE(env.env.size() == 4);
    CHECK(env.env[0].second == "yes");
    CHECK(env.env[1].second == "0x1F");
    CHECK(env.env[2].second.empty());
    CHECK(env.env[3].second == "yes");  // YAML 1.2: a plain yes is a string

    check_refused("image: a.io/b:1\nenv:\n  A: {b: c}\n", 3, 6, {"'A' in 'env': expected a string or number (got a mapping)"});
    check_refused("image: a.io/b:1\nenv:\n  A: [1]\n", 3, 6, {"expected a string or number (got a list)"});
    check_refused("image: a.io/b:1\nenv:\n  A: false\n", 3, 6, {"expected a string or number (got the boolean false)"});
    check_refused("image: a.io/b:1\nenv:\n  A: null\n", 3, 3, {"expected a string or number (got nothing)"});
    check_refused("image: a.io/b:1\nenv:\n  A-B: x\n", 3, 3, {"environment variable name 'A-B' is not valid"});
    check_refused("image: a.io/b:1\nenv:\n  A: 1\n  A: 2\n", 4, 3, {"duplicate key 'A' (first at line 3)"});
    check_refused("image: a.io/b:1\nenv: A=1\n", 2, 6, {"'env' must be a mapping"});
    // what env up cannot pass is refused here too, so env check and env up agree
    check_refused("image: a.io/b:1\nenv:\n  A: \"one\\ntwo\"\n", 3, 6, {"'A' in 'env' holds a line break"});
    check_refused("image: a.io/b:1\nenv:\n  A: |\n    one\n    two\n", 3, 6, {"holds a line break"});
}

TEST_CASE("workdir, command and engine", "[config]") {
    CHECK(load("image: a.io/b:1\nworkdir: /src/\n").workdir == "/src");
    const ModelEnv shell = load("image: a.io/b:1\ncommand: python -m http.server 8000\n");
    CHECK(shell.command.form == Command::Form::shell);
    CHECK(shell.command.shell == "python -m http.server 8000");
    CHECK(load("image: a.io/b:1\ncommand: 42\n").command.shell == "42");
    CHECK(load("image: a.io/b:1\nengine: podman\n").engine == std::optional<std::string>("podman"));

    check_refused("image: a.io/b:1\nworkdir: src\n", 2, 10, {"'workdir' path 'src' is not absolute"});
    check_refused("image: a.io/b:1\nworkdir: [a]\n", 2, 10, {"'workdir' must be an absolute path such as /workspace"});
    check_refused("image: a.io/b:1\ncommand: {a: b}\n", 2, 10,
                  {"'command': expected a string or a list of strings (got a mapping)"});
    check_refused("image: a.io/b:1\ncommand: true\n", 2, 10, {"(got the boolean true)"});
    check_refused("image: a.io/b:1\ncommand: []\n", 2, 10, {"'command' is an empty list"});
    check_refused("image: a.io/b:1\ncommand: [a, [b]]\n", 2, 14, {"each item of 'command'", "(got a list)"});
    check_refused("image: a.io/b:1\ncommand: ['', x]\n", 2, 11, {"empty program name"});
    check_refused("image: a.io/b:1\ncommand: [a, null]\n", 2, 14, {"item 2 of 'command' is empty"});
    check_refused("image: a.io/b:1\ncommand: ' '\n", 2, 10, {"'command' is blank"});
    check_refused("image: a.io/b:1\nengine: Docker\n", 2, 9, {"'engine' must be 'podman' or 'docker'", "did you mean 'docker'?"});
    check_refused("image: a.io/b:1\nengine: containerd\n", 2, 9, {"'engine' must be 'podman' or 'docker' (got 'containerd')"});
}

TEST_CASE("bench thresholds", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\nbench: {min_compute_capability: '12.0'}\n");
    REQUIRE(env.bench.min_compute_capability);
    CHECK(env.bench.min_compute_capability->major == 12);
    CHECK(env.bench.min_compute_capability->minor == 0);
    CHECK(load("image: a.io/b:1\nbench: {min_compute_capability: 9}\n").bench.min_compute_capability->major == 9);

    check_refused("image: a.io/b:1\nbench:\n  min_bandwidth_fraction: 0\n", 3, 27,
                  {"'bench.min_bandwidth_fraction' must be a fraction greater than 0 and at most 1"});
    check_refused("image: a.io/b:1\nbench:\n  min_fp32_fraction: 1.01\n", 3, 22, {"(got the number 1.01)"});
    check_refused("image: a.io/b:1\nbench:\n  min_fp32_fraction: '0.5'\n", 3, 22, {"(got the string '0.5')"});
    check_refused("image: a.io/b:1\nbench:\n  min_compute_capability: 8.10\n", 3, 27,
                  {"must be a compute capability such as '8.0'"});
    check_refused("image: a.io/b:1\nbench:\n  min_compute_capability: sm_80\n", 3, 27, {"(got the string 'sm_80')"});
    check_refused("image: a.io/b:1\nbench:\n  min_free_memory: 0g\n", 3, 20, {"'bench.min_free_memory' must be a size"});
    check_refused("image: a.io/b:1\nbench:\n  min_free_memory:\n", 3, 3, {"'bench.min_free_memory' has no value"});
    check_refused("image: a.io/b:1\nbench:\n  min_fp32_fractoin: 0.5\n", 3, 3,
                  {"unknown key 'min_fp32_fractoin' in 'bench' (did you mean 'min_fp32_fraction'?)"});
}

TEST_CASE("image errors point at the value and say what was expected", "[config]") {
    check_refused("gpus: 1\n", 1, 1, {"missing required key 'image'", "expected an image reference"});
    check_refused("image:\n", 1, 1, {"'image' has no value; expected an image reference"});
    check_refused("gpus: 0\nimage: ubuntu\n", 2, 8, {"image 'ubuntu' has no tag"});
    check_refused("image: a.io/b:latest\n", 1, 8, {"uses the tag 'latest'"});
    check_refused("image:   'a.io/b:1 '\n", 1, 10, {"contains white space"});
    check_refused("image: -a:1\n", 1, 8, {"starts with '-'"});
    check_refused("image: 1.5\n", 1, 8, {"'image' must be an image reference", "(got the number 1.5)"});
    check_refused("image: [a.io/b:1]\n", 1, 8, {"(got a list)"});
    check_refused("image: a.io/b@sha256:" + std::string(64, 'F') + "\n", 1, 8, {"uppercase hex"});
    check_refused("image: a.io/b@sha256:" + std::string(63, 'f') + "\n", 1, 8, {"63 hex digits"});
}

TEST_CASE("unknown and duplicate keys are caught at every level", "[config]") {
    check_refused("image: a.io/b:1\nmemroy: 1g\n", 2, 1,
                  {"unknown key 'memroy' at the top level (did you mean 'memory'?)", "expected one of image, gpus"});
    check_refused("image: a.io/b:1\nshm-size: 1g\n", 2, 1, {"(did you mean 'shm_size'?)"});
    check_refused("image: a.io/b:1\nImage: c.io/d:1\n", 2, 1, {"unknown key 'Image'", "(did you mean 'image'?)"});
    check_refused("image: a.io/b:1\nzzzzzz: 1\n", 2, 1, {"unknown key 'zzzzzz'"});
    check_refused("image: a.io/b:1\nimage: a.io/b:2\n", 2, 1, {"duplicate key 'image' (first at line 1)"});
    check_refused("image: a.io/b:1\n\"image\": a.io/b:2\n", 2, 1, {"duplicate key 'image'"});
    check_refused("{image: a.io/b:1, gpus: 1, gpus: 2}\n", 1, 28, {"duplicate key 'gpus' (first at line 1)"});
    check_refused("image: a.io/b:1\nbench:\n  min_free_memory: 1g\n  min_free_memory: 2g\n", 4, 3,
                  {"duplicate key 'min_free_memory' (first at line 3)"});
    check_refused("image: a.io/b:1\nmounts:\n  - {source: /a, target: /b, source: /c}\n", 3, 30,
                  {"duplicate key 'source'"});
    check_refused("image: &i a.io/b:1\n<<: {gpus: 1}\n", 2, 1, {"unknown key '<<'"});
    check_refused("image: a.io/b:1\n? [x]\n: y\n", 2, 3, {"keys in the top level must be plain names (got a list)"});
    check_refused("image: a.io/b:1\n? {x: 1}\n: y\n", 2, 3, {"(got a mapping)"});
    check_refused("image: a.io/b:1\n: y\n", 2, 1, {"a key is missing"});
}

TEST_CASE("the top level must be one mapping", "[config]") {
    check_refused("", 1, 1, {"no YAML document", "expected a mapping of settings"});
    check_refused("\n\n   \n", 1, 1, {"no YAML document"});
    check_refused("# only a comment\n", 1, 1, {"no YAML document"});
    check_refused("---\n", 1, 1, {"the top level must be a mapping", "(got nothing (null))"});
    check_refused("~\n", 1, 1, {"(got nothing (null))"});
    check_refused("- image: a.io/b:1\n", 1, 1, {"the top level must be a mapping of settings", "(got a list)"});
    check_refused("image\n", 1, 1, {"(got the string 'image')"});
    check_refused("42\n", 1, 1, {"(got the number 42)"});
    check_refused("image: a.io/b:1\n---\nimage: a.io/b:2\n", 2, 1, {"a second YAML document starts here"});
    check_refused("image: a.io/b:1\n...\n---\n", 3, 1, {"a second YAML document"});
    check_refused("image: a.io/b:1\n...\nx\n", 3, 1, {"unexpected text after the end of the top-level value"});
    CHECK(load("---\nimage: a.io/b:1\n...\n# trailing comment\n").image.tag == "1");
}

TEST_CASE("text that is not clean UTF-8 is refused before parsing", "[config]") {
    check_refused("image: a.io/b:1\nenv: {A: caf\xe9}\n", 2, 13, {"invalid UTF-8 byte 0xe9", "expected a UTF-8 text file"});
    check_refused("image: a.io/b:1\nenv: {A: \xc0\xaf}\n", 2, 10, {"invalid UTF-8 byte 0xc0"});          // overlong '/'
    check_refused("image: a.io/b:1\nenv: {A: \xed\xa0\x80}\n", 2, 10, {"invalid UTF-8 byte 0xed"});      // surrogate
    check_refused("image: a.io/b:1\nenv: {A: \xf4\x90\x80\x80}\n", 2, 10, {"invalid UTF-8 byte 0xf4"});  // > U+10FFFF
    check_refused("image: a.io/b:1\nenv: {A: \xe2\x82}\n", 2, 10, {"invalid UTF-8 byte 0xe2"});          // truncated
    check_refused("image: a.io/b:1\n\xff", 2, 1, {"invalid UTF-8 byte 0xff"});
    check_refused(std::string("image: a.io/b:1\nenv: {A: x\0}\n", 28), 2, 11, {"control character 0x00"});
    check_refused("image: a.io/b:1\x1b\n", 1, 16, {"control character 0x1b", "expected printable text"});
    check_refused("image: a.io/b:1\nenv: {A: \xc2\x85\xc2\x80}\n", 2, 12, {"non-printable character U+0080"});
    check_refused("image: a.io/b:1\nenv: {A: \xef\xbf\xbe}\n", 2, 10, {"U+FFFE"});
    check_refused("image: a.io/b:1\rgpus: 1\n", 1, 16, {"carriage return without a line feed"});
    // A UTF-8 BOM is allowed and not counted in columns, as yaml-cpp counts them.
    CHECK(load("\xef\xbb\xbfimage: a.io/b:1\r\n").image.tag == "1");
    check_refused("\xef\xbb\xbfimage: a.io/b\r\n", 1, 8, {"has no tag"});
    check_refused("\xef\xbb\xbfimage: a.io/b:1\x01\n", 1, 16, {"control character 0x01"});
}

TEST_CASE("escapes yield valid UTF-8 (found by the fuzzer)", "[config]") {
    // yaml-cpp 0.7 decodes \N and \_ to lone bytes 0x85 and 0xa0; the loader re-encodes them,
    // or to_json().dump() would throw on invalid UTF-8.
    const ModelEnv env = load("image: a.io/b:1\nenv: {A: \"x\\N\\_y\\u00e9\\x41\"}\n");
    CHECK(env.env[0].second == "x\xc2\x85\xc2\xa0y\xc3\xa9" "A");
    CHECK_NOTHROW(to_json(env).dump());
}

TEST_CASE("tabs may not indent", "[config]") {
    check_refused("image: a.io/b:1\nports:\n\tssh: 22\n", 3, 1, {"tab character in indentation", "expected spaces"});
    check_refused("image: a.io/b:1\nports:\n  \tssh: 22\n", 3, 3, {"tab character in indentation"});
    // Tabs elsewhere are fine: after a value, in comments, on blank lines.
    CHECK(load("image:\ta.io/b:1\t# tab\n\t# an indented comment\n\t\n").image.tag == "1");
}

TEST_CASE("YAML syntax errors keep yaml-cpp's position, 1-based", "[config]") {
    check_refused("image: a.io/b:1\ngpus: [0, 1\n", 3, 1, {"YAML syntax error", "expected ',' or ']'"});
    check_refused("image: a.io/b:1\nenv: {A: 1\n", 3, 1, {"expected ',' or '}'"});
    check_refused("image: a.io/b:1\ncommand: a: b\n", 2, 11, {"illegal map value", "quote values"});
    check_refused("image: \"a.io/b:1\n", 2, 1, {"ends inside the double-quoted string that starts at line 1, column 8"});
    check_refused("image: a.io/b:1\nenv:\n  A: 'x\n", 4, 1, {"single-quoted string that starts at line 3, column 6"});
    check_refused("image: a.io/b:1\nenv:\n  A: \"\\q\"\n", 3, 9, {"unknown escape character", "expected an escape"});
    check_refused("image: a.io/b:1\ngpus\n", 2, 1, {"'gpus' is not followed by ':'"});
    check_refused("image: a.io/b:1\ngpus: *none\n", 2, 7, {"the referenced anchor is not defined"});
    check_refused("image: a.io/b:1\ngpus: !!int 2\n", 2, 7, {"tag '!!int' is not supported"});
    check_refused("image: a.io/b:1\ngpus: !custom 2\n", 2, 7, {"tag '!custom' is not supported"});
    check_refused("%YAML 2.0\n---\nimage: a.io/b:1\n", 1, 1, {"YAML syntax error"});
}

TEST_CASE("nesting is bounded before yaml-cpp buffers it", "[config]") {
    check_refused("image: a.io/b:1\ngpus: " + std::string(101, '[') + "\n", 2, 107,
                  {"'[' and '{' nest more than 100 levels deep"});
    check_refused("{a: [{b: " + std::string(200, '{') + "\n", 1, 107, {"nest more than 100 levels"});
    // Brackets inside comments, quotes, plain text and block scalars are not flow collections.
    std::string text = "image: a.io/b:1\n# " + std::string(200, '[') + "\n";
    text += "env:\n  A: '" + std::string(200, '[') + "'\n  B: \"" + std::string(200, '{') + "\"\n";
    text += "  C: x" + std::string(200, '[') + "\n";
    text += "command: |\n";
    for (int i = 0; i < 60; ++i) text += "  [[ -f x ]] && [[ -d y ]]\n";
    const ModelEnv env = load(text);
    CHECK(env.env[0].second == std::string(200, '['));
    CHECK(env.env[2].second == "x" + std::string(200, '['));
    // Block nesting is yaml-cpp's to bound (500 levels).
    std::string block;
    for (int i = 0; i < 600; ++i) block += "- ";
    check_refused(block + "\n", 1, 1000, {"nests collections too deeply"});
}

TEST_CASE("aliases are followed but cannot recurse or explode", "[config]") {
    const ModelEnv env = load("image: &i a.io/b:1\nenv: {IMG: *i}\nports: &p {ssh: 22}\n");
    CHECK(env.env[0].second == "a.io/b:1");

    check_refused("image: a.io/b:1\ncommand: &c [a, *c]\n", 2, 17, {"alias refers to a collection that contains it"});
    check_refused("image: a.io/b:1\nenv: &e {A: *e}\n", 2, 13, {"contains it"});
    // An alias's errors point at the alias, where it is used.
    check_refused("x: &x {a: 1}\n", 1, 1, {"unknown key 'x'"});
    check_refused("image: a.io/b:1\nbench: &b {min_free_memory: 1g}\ngpus: *b\n", 3, 7, {"(got a mapping)"});

    // Nine levels of nine aliases would be 9^9 nodes; refused while parsing, quickly.
    std::string bomb = "image: a.io/b:1\na0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (int level = 1; level < 10; ++level) {
        bomb += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
        for (int i = 0; i < 9; ++i) bomb += (i ? ", *a" : "*a") + std::to_string(level - 1);
        bomb += "]\n";
    }
    const auto start = std::chrono::steady_clock::now();
    check_refused(bomb, 7, 10, {"the document grows past 100000 nodes when this alias is expanded"});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < std::chrono::milliseconds(250));
}

TEST_CASE("files over 1 MiB are refused without being parsed", "[config]") {
    // Invalid YAML and invalid UTF-8 everywhere: only the size check may answer.
    const std::string big(modelenv_max_bytes + 1, '\xff');
    check_refused(big, 1, 1, {"expected at most 1048576 bytes"});
    // Exactly 1 MiB is allowed through to the parser (here: a long comment).
    std::string fits = "image: a.io/b:1\n#";
    fits.resize(modelenv_max_bytes, 'x');
    CHECK(load(fits).image.tag == "1");
}

TEST_CASE("describe and to_json show the resolved settings", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\ngpus: [0]\nmemory: 16g\nports: {jupyter: 8888}\n"
                              "mounts: [{source: /d, target: /data, readonly: true}]\n"
                              "persist: {logs: logs}\nenv: {A: '1'}\ncommand: [run, x]\n");
    const std::string text = describe(env);
    CHECK_THAT(text, Catch::Contains("image: a.io/b:1 (pinned by tag)\n"));
    CHECK_THAT(text, Catch::Contains("gpus: [0]\n"));
    CHECK_THAT(text, Catch::Contains("memory: 16 GiB (17179869184 bytes)\n"));
    CHECK_THAT(text, Catch::Contains("cpus: (engine default)\n"));
    CHECK_THAT(text, Catch::Contains("port: jupyter -> 8888\n"));
    CHECK_THAT(text, Catch::Contains("mount: /d -> /data (read-only)\n"));
    CHECK_THAT(text, Catch::Contains("persist.logs: logs (relative to the repository)\n"));
    CHECK_THAT(text, Catch::Contains("persist.checkpoints: (default"));
    CHECK_THAT(text, Catch::Contains("workdir: /workspace\n"));
    CHECK_THAT(text, Catch::Contains("command: ['run', 'x']\n"));
    CHECK_THAT(text, Catch::Contains("engine: (auto"));

    const nlohmann::json j = to_json(env);
    CHECK(j["image"]["reference"] == "a.io/b:1");
    CHECK(j["gpus"] == nlohmann::json::array({0}));
    CHECK(j["memory_bytes"] == 17179869184ull);
    CHECK(j["cpus"].is_null());
    CHECK(j["ports"][0]["name"] == "jupyter");
    CHECK(j["ports"][0]["container_port"] == 8888);
    CHECK(j["mounts"][0]["readonly"] == true);
    CHECK(j["persist"]["logs"]["relative"] == true);
    CHECK(j["persist"]["checkpoints"].is_null());
    CHECK(j["env"][0]["value"] == "1");
    CHECK(j["workdir"] == "/workspace");
    CHECK(j["command"] == nlohmann::json::array({"run", "x"}));
    CHECK(j["engine"].is_null());
    CHECK(to_json(load("image: a.io/b:1\ngpus: all\ncommand: go\n"))["command"] == "go");
    CHECK(to_json(load("image: a.io/b:1\ngpus: all\n"))["gpus"] == "all");
}

TEST_CASE("load_modelenv_file names the path in errors", "[config]") {
    CHECK_THROWS_AS(load_modelenv_file(GM_TEST_DATA_DIR "/modelenv/does-not-exist.yaml"), gm::Error);
    CHECK_THROWS_AS(load_modelenv_file(GM_TEST_DATA_DIR "/modelenv"), gm::Error);
    const std::string bad = GM_TEST_DATA_DIR "/modelenv/bad/duplicate-key.yaml";
    try {
        load_modelenv_file(bad);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(e.file() == bad);
        CHECK_THAT(e.what(), Catch::StartsWith(bad + ":4:1: duplicate key"));
    }
    CHECK(load_modelenv_file(GM_TEST_DATA_DIR "/modelenv/good/minimal.yaml").image.tag == "1.0");
}

TEST_CASE("user: host (the default), image, or uid:gid", "[config]") {
    CHECK(load("image: a.io/b:1\n").user.mode == UserSetting::Mode::host);
    CHECK(load("image: a.io/b:1\nuser: host\n").user.mode == UserSetting::Mode::host);
    CHECK(load("image: a.io/b:1\nuser: image\n").user.mode == UserSetting::Mode::image);
    const ModelEnv ids = load("image: a.io/b:1\nuser: 1000:100\n");
    CHECK(ids.user.mode == UserSetting::Mode::ids);
    CHECK(ids.user.uid == 1000);
    CHECK(ids.user.gid == 100);
    CHECK(load("image: a.io/b:1\nuser: '0:0'\n").user.uid == 0);
    CHECK(describe_user(ids.user) == "1000:100");
    CHECK_THAT(describe(ids), Catch::Contains("user: 1000:100\n"));
    CHECK_THAT(describe(load("image: a.io/b:1\n")), Catch::Contains("user: host (the caller's uid:gid)\n"));
    CHECK(to_json(ids)["user"] == "1000:100");

    check_refused("image: a.io/b:1\nuser: hots\n", 2, 7,
                  {"'user' must be 'host', 'image' or '<uid>:<gid>'", "(got the string 'hots')", "did you mean 'host'?"});
    check_refused("image: a.io/b:1\nuser: 1000\n", 2, 7, {"(got the number 1000)"});
    check_refused("image: a.io/b:1\nuser: root\n", 2, 7, {"'<uid>:<gid>' such as '1000:1000'"});
    check_refused("image: a.io/b:1\nuser: '1000:'\n", 2, 7, {"(got the string '1000:')"});
    check_refused("image: a.io/b:1\nuser: '-1:5'\n", 2, 7, {"'user' must be"});
    check_refused("image: a.io/b:1\nuser: 4294967296:1\n", 2, 7, {"'user' must be"});
    check_refused("image: a.io/b:1\nuser:\n", 2, 1, {"'user' has no value"});
    check_refused("image: a.io/b:1\nuser: [1000, 1000]\n", 2, 7, {"(got a list)"});
}

TEST_CASE("ports: a fixed host port as '<host>:<container>'", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\nports:\n  jupyter: '8888:8888'\n  ssh: 2222:22\n  web: 80\n");
    REQUIRE(env.ports.size() == 3);
    CHECK(env.ports[0].host_port == 8888);
    CHECK(env.ports[0].container_port == 8888);
    CHECK(env.ports[1].host_port == 2222);
    CHECK(env.ports[1].container_port == 22);
    CHECK_FALSE(env.ports[2].host_port);
    CHECK_THAT(describe(env), Catch::Contains("port: ssh -> 22 (fixed host port 2222)\n"));
    CHECK(to_json(env)["ports"][1]["host_port"] == 2222);
    CHECK(to_json(env)["ports"][2]["host_port"].is_null());

    check_refused("image: a.io/b:1\nports:\n  a: '0:80'\n", 3, 6, {"'<host port>:<container port>'", "(got the string '0:80')"});
    check_refused("image: a.io/b:1\nports:\n  a: '80:70000'\n", 3, 6, {"(got the string '80:70000')"});
    check_refused("image: a.io/b:1\nports:\n  a: '127.0.0.1:80:80'\n", 3, 6, {"'<host port>:<container port>'"});
    check_refused("image: a.io/b:1\nports:\n  a: ':80'\n", 3, 6, {"'<host port>:<container port>'"});
    check_refused("image: a.io/b:1\nports:\n  a: '8888:80'\n  b: '8888:81'\n", 4, 6,
                  {"host port 8888 is already used by 'a' at line 3"});
    check_refused("image: a.io/b:1\nports:\n  a: '8888:80'\n  b: '9999:80'\n", 4, 6,
                  {"container port 80 is already used by 'a' at line 3"});
}

TEST_CASE("placeholders in persist folders and mount sources", "[config]") {
    const ModelEnv env = load("image: a.io/b:1\npersist:\n  checkpoints: /ckpt/{user}/{model}\n  logs: logs/{branch}\n"
                              "mounts:\n  - source: /data/{model}\n    target: /data\n");
    CHECK(env.persist.checkpoints->path == "/ckpt/{user}/{model}");
    const Placeholders values{"resnet", "feature/model-resnet", "ana"};
    CHECK(expand_placeholders(env.persist.checkpoints->path, values) == "/ckpt/ana/resnet");
    CHECK(expand_placeholders(env.persist.logs->path, values) == "logs/feature/model-resnet");
    CHECK(expand_placeholders(env.mounts[0].source, values) == "/data/resnet");
    CHECK(expand_placeholders("/x/{model}{model}/{}", values) == "/x/resnetresnet/{}");

    check_refused("image: a.io/b:1\npersist:\n  logs: /l/{modle}\n", 3, 9,
                  {"'persist.logs' uses the unknown placeholder '{modle}'", "did you mean '{model}'?",
                   "expected {model}, {branch} or {user}"});
    check_refused("image: a.io/b:1\npersist:\n  logs: /l/{model\n", 3, 9, {"has a '{' without its '}'"});
    check_refused("image: a.io/b:1\npersist:\n  logs: /l/model}\n", 3, 9, {"has a '}' without its '{'"});
    check_refused("image: a.io/b:1\nmounts:\n  - source: /d/{home}\n    target: /d\n", 3, 13,
                  {"'source' uses the unknown placeholder '{home}'"});
    // Only sources expand: a target is a path in the image.
    check_refused("image: a.io/b:1\nmounts:\n  - source: /d\n    target: /d/{model}\n", 4, 13,
                  {"'target' uses {model}, which expands only in sources and persist folders"});
}

TEST_CASE("env pin rewrites only the image's tag pin", "[config]") {
    const std::string digest = "sha256:" + digest_hex;
    const std::string text = "# team image\nimage: a.io/b:1   # pinned\ngpus: 1\n";
    CHECK(pin_image_digest(text, "f", digest) == "# team image\nimage: a.io/b:1@" + digest + "   # pinned\ngpus: 1\n");
    CHECK(pin_image_digest("gpus: 1\nimage: 'a.io/b:1'\n", "f", digest) == "gpus: 1\nimage: 'a.io/b:1@" + digest + "'\n");
    CHECK(pin_image_digest("image: \"a.io/b:1\"\r\n", "f", digest) == "image: \"a.io/b:1@" + digest + "\"\r\n");
    // a byte order mark before the first line: kept, and the value found after it
    CHECK(pin_image_digest("\xEF\xBB\xBFimage: a.io/b:1\n", "f", digest) == "\xEF\xBB\xBFimage: a.io/b:1@" + digest + "\n");
    CHECK(pin_image_digest("\xEF\xBB\xBF# c\nimage: a.io/b:1\n", "f", digest) == "\xEF\xBB\xBF# c\nimage: a.io/b:1@" + digest + "\n");
    CHECK(pin_image_digest("{image: a.io/b:1, gpus: 1}\n", "f", digest) == "{image: a.io/b:1@" + digest + ", gpus: 1}\n");
    CHECK_THROWS_WITH(pin_image_digest("image: a.io/b@" + digest + "\n", "f", digest),
                      Catch::Contains("already pins the image by digest"));
    CHECK_THROWS_WITH(pin_image_digest("image: >-\n  a.io/b:1\n", "f", digest), Catch::Contains("cannot rewrite it safely"));
    CHECK_THROWS_WITH(pin_image_digest(text, "f", "sha256:12"), Catch::Contains("not a sha256 digest"));
    CHECK_THROWS_AS(pin_image_digest("image: a.io/b:latest\n", "f", digest), ConfigError);
}
