// `git model doctor`'s verdicts and fixes, from facts, without git, podman or a GPU.
#include "gitmodel/doctor/judge.hpp"
#include "gitmodel/doctor/report.hpp"

#include <catch2/catch.hpp>

using namespace gm::doctor;
using gm::subordinate_ranges;

TEST_CASE("doctor: git versions are read and compared", "[doctor]") {
    const auto v = parse_git_version("git version 2.39.5");
    REQUIRE(v);
    CHECK(v->major == 2);
    CHECK(v->minor == 39);
    CHECK(v->patch == 5);
    CHECK(parse_git_version("git version 2.45.2 (Apple Git-154)")->minor == 45);
    CHECK(parse_git_version("git version 2.40.1.windows.1")->patch == 1);
    CHECK(parse_git_version("git version 2.40")->patch == 0);
    CHECK_FALSE(parse_git_version("hub version 2.14"));
    CHECK_FALSE(parse_git_version("git version x"));

    CHECK(judge_git(std::string("git version 2.39.5\n")).status == Status::ok);
    CHECK(judge_git(std::string("git version 2.25.0\n")).status == Status::ok);
    const auto old = judge_git(std::string("git version 2.20.1\n"));
    CHECK(old.status == Status::fail);
    CHECK_THAT(old.detail, Catch::Contains("2.25"));
    CHECK_FALSE(old.fix.empty());
    const auto none = judge_git(std::nullopt);
    CHECK(none.status == Status::fail);
    CHECK_THAT(none.fix, Catch::Contains("apt-get install git"));
}

TEST_CASE("doctor: the suite's programs must be on PATH, from one installation", "[doctor]") {
    const std::filesystem::path own = "/opt/gm/bin";
    std::vector<ProgramFact> all{{"git-model", own / "git-model"}, {"git-model-env", own / "git-model-env"},
                                 {"git-model-bench", own / "git-model-bench"}};
    CHECK(judge_programs(all, own).status == Status::ok);

    auto missing = all;
    missing[2].on_path.reset();
    const auto m = judge_programs(missing, own);
    CHECK(m.status == Status::fail);
    CHECK_THAT(m.detail, Catch::Contains("git-model-bench"));
    CHECK_THAT(m.fix, Catch::Contains("export PATH=/opt/gm/bin:\"$PATH\""));

    auto mixed = all;
    mixed[1].on_path = std::filesystem::path("/usr/bin/git-model-env");
    const auto x = judge_programs(mixed, own);
    CHECK(x.status == Status::warn);
    CHECK_THAT(x.detail, Catch::Contains("/usr/bin"));
}

TEST_CASE("doctor: hooks, with the command that installs them", "[doctor]") {
    using gm::hooks::HookState;
    using gm::hooks::HookStatus;
    const std::filesystem::path dir = "/r/.git/hooks";
    CHECK(judge_hooks(std::nullopt, {}).status == Status::skip);

    HookStatus commit{"pre-commit", dir / "pre-commit", HookState::current, 1, false, true, std::nullopt, std::nullopt};
    HookStatus push{"pre-push", dir / "pre-push", HookState::current, 1, false, true, std::nullopt, std::nullopt};
    CHECK(judge_hooks(std::vector<HookStatus>{commit, push}, dir).status == Status::ok);

    push.state = HookState::missing;
    auto c = judge_hooks(std::vector<HookStatus>{commit, push}, dir);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.detail, Catch::Contains("pre-push missing"));
    CHECK(c.fix == "git model hooks install");

    push.state = HookState::outdated;
    CHECK(judge_hooks(std::vector<HookStatus>{commit, push}, dir).fix == "git model hooks install");

    push.state = HookState::foreign;
    c = judge_hooks(std::vector<HookStatus>{commit, push}, dir);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.fix, Catch::Contains("--chain"));

    // installed, but kept from running (a relative core.hooksPath, LFS's hooks missing): not ok
    push.state = HookState::current;
    c = judge_hooks(std::vector<HookStatus>{commit, push}, dir,
                    {"Git LFS's post-checkout hook is missing: .gitattributes stores files through Git LFS"});
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.detail, Catch::Contains("Git LFS's post-checkout hook is missing"));
    CHECK(c.fix == "git model hooks install");
}

TEST_CASE("doctor: .modelenv.yaml absent is a warning, broken a failure", "[doctor]") {
    ModelenvFact fact;
    CHECK(judge_modelenv(fact).status == Status::skip);
    fact.in_repo = true;
    fact.path = "/r/.modelenv.yaml";
    CHECK(judge_modelenv(fact).status == Status::warn);
    fact.exists = true;
    fact.error = "/r/.modelenv.yaml:3:7: expected a number";
    const auto broken = judge_modelenv(fact);
    CHECK(broken.status == Status::fail);
    CHECK_THAT(broken.detail, Catch::Contains(":3:7:"));
    CHECK_THAT(broken.fix, Catch::Contains("git model env check"));
    fact.error.reset();
    fact.env = gm::config::load_modelenv_text("image: ghcr.io/team/torch:2.3\ngpus: 2\n", "test");
    const auto ok = judge_modelenv(fact);
    CHECK(ok.status == Status::ok);
    CHECK_THAT(ok.detail, Catch::Contains("ghcr.io/team/torch:2.3") && Catch::Contains("2 GPUs"));
}

TEST_CASE("doctor: the container engine must be installed and answer", "[doctor]") {
    EngineFact fact;
    fact.unavailable = "no container engine: neither podman nor docker is installed";
    fact.hint = "install podman (apt-get install podman runc)";
    auto c = judge_engine(fact);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.fix, Catch::Contains("apt-get install podman"));

    fact = EngineFact{};
    fact.name = "podman";
    fact.error = "Error: cannot set up namespace";
    c = judge_engine(fact);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.detail, Catch::Contains("namespace"));

    fact.timed_out = true;
    fact.timeout = std::chrono::seconds(30);
    CHECK_THAT(judge_engine(fact).detail, Catch::Contains("30s"));

    fact = EngineFact{};
    fact.name = "docker";
    fact.answered = true;
    CHECK(judge_engine(fact).status == Status::ok);
    fact.mode = "rootful through a socket (unix:///var/run/docker.sock)";
    CHECK(judge_engine(fact).detail == "docker works; mode: rootful through a socket (unix:///var/run/docker.sock)");
}

TEST_CASE("doctor: files of another owner in worktrees and persist folders, with the fix", "[doctor]") {
    OwnershipFact fact;
    CHECK(judge_ownership(fact).status == Status::skip);
    fact.in_repo = true;
    fact.uid = 1000;
    fact.gid = 1000;
    fact.folders = 3;
    auto c = judge_ownership(fact);
    CHECK(c.status == Status::ok);
    CHECK(c.detail == "no file in the 3 worktree and persist folders was left by a container as root or one of your "
                      "subordinate ids");

    fact.engine_name = "docker";
    fact.image = "ghcr.io/t/torch:2";
    fact.found.push_back({"/w/model-a", 12, "/w/model-a/out/ckpt.pt", 0, "root", false, true, false});
    c = judge_ownership(fact);
    CHECK(c.status == Status::warn);
    CHECK_THAT(c.detail, Catch::Contains("/w/model-a: 12 entries owned by root (uid 0), e.g. /w/model-a/out/ckpt.pt"));
    // Only root's files change hands (the folder may be shared with a teammate): never chown -R.
    CHECK_THAT(c.fix, Catch::Contains("sudo find /w/model-a -uid 0 -exec chown 1000:1000 {} +"));
    CHECK_THAT(c.fix, Catch::Contains("docker run --rm --user 0:0 -v /w/model-a:/fix ghcr.io/t/torch:2 find /fix -uid 0 "
                                      "-exec chown 1000:1000 {} +"));
    CHECK_THAT(c.fix, !Catch::Contains("chown -R"));
    CHECK_THAT(c.fix, Catch::Contains("user: host"));
    // (s43b) a folder with a space is one word of the command pasted, not two folders to chown in
    fact.found.front().folder = "/home/u/team data/wt/model-a";
    c = judge_ownership(fact);
    CHECK_THAT(c.fix, Catch::Contains("sudo find '/home/u/team data/wt/model-a' -uid 0 -exec chown"));
    CHECK_THAT(c.fix, Catch::Contains("-v '/home/u/team data/wt/model-a:/fix' ghcr.io/t/torch:2 find /fix"));
    fact.found.front().folder = "/w/model-a";

    // A rootless engine's files belong to subordinate ids: podman unshare gives them back.
    fact.rootless = true;
    fact.engine_name = "podman";
    fact.found = {{"/w/model-b", 1, "/w/model-b/x", 100999, "100999", true, false, true}};
    c = judge_ownership(fact);
    CHECK_THAT(c.detail, Catch::Contains("1+ entry owned by 100999"));
    CHECK_THAT(c.fix, Catch::StartsWith("podman unshare find /w/model-b ! -uid 0 ! -uid 65534 -exec chown 0:0 {} +"));
    CHECK_THAT(c.fix, !Catch::Contains("chown -R"));
}

TEST_CASE("doctor: only files a container made count, never a teammate's", "[doctor]") {
    const auto ranges = subordinate_ranges("bob:100000:65536\nalice:165536:65536\n# x\n1000:300000:10\nbad:x:1\n"
                                           "alice:1:\n",
                                           "alice", 1000);
    REQUIRE(ranges.size() == 2);
    CHECK(ranges[0].first == 165536);
    CHECK(ranges[0].count == 65536);
    CHECK(ranges[1].first == 300000);
    CHECK(gm::in_ranges(ranges, 165536));
    CHECK(gm::in_ranges(ranges, 300009));
    CHECK_FALSE(gm::in_ranges(ranges, 300010));
    CHECK_FALSE(gm::in_ranges(ranges, 1000));
    CHECK(container_made(0, 1000, ranges));           // root's (a rootful engine)
    CHECK(container_made(165536, 1000, ranges));      // alice's subordinate ids (her rootless engine)
    CHECK(container_made(231071, 1000, ranges));
    CHECK(container_made(300009, 1000, ranges));
    CHECK_FALSE(container_made(231072, 1000, ranges));  // past the range
    CHECK_FALSE(container_made(100001, 1000, ranges));  // bob's subordinate ids
    CHECK_FALSE(container_made(1001, 1000, ranges));    // bob himself, a teammate
    CHECK_FALSE(container_made(1000, 1000, ranges));    // her own
    CHECK_FALSE(container_made(0, 0, {}));              // root's own files, for root
}

TEST_CASE("doctor: GPUs through git-model-bench's exit code and JSON", "[doctor]") {
    BenchFact fact;
    fact.out = R"({"verdict": "pass", "devices": [{"index": 0, "name": "NVIDIA H100 80GB HBM3"}], "error": null})";
    auto c = judge_gpus(fact);
    CHECK(c.status == Status::ok);
    CHECK_THAT(c.detail, Catch::Contains("0: NVIDIA H100 80GB HBM3"));

    fact.exit_code = 3;  // no usable GPU: a laptop or a CI runner, not a fault
    fact.out = R"({"verdict": "no_gpu", "devices": [], "error": {"message": "no NVIDIA driver"}})";
    c = judge_gpus(fact);
    CHECK(c.status == Status::warn);
    CHECK_THAT(c.detail, Catch::Contains("no NVIDIA driver"));

    fact.exit_code = 1;
    fact.out = R"({"verdict": "fail", "devices": [], "error": {"message": "GPU 1: triad result wrong"}})";
    c = judge_gpus(fact);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.detail, Catch::Contains("triad result wrong"));
    CHECK_THAT(c.fix, Catch::Contains("git model bench"));

    fact = BenchFact{};
    fact.timed_out = true;
    fact.timeout = std::chrono::seconds(60);
    CHECK(judge_gpus(fact).status == Status::fail);

    fact = BenchFact{};
    fact.signal = 11;
    fact.err = "Segmentation fault";
    CHECK(judge_gpus(fact).status == Status::fail);

    fact = BenchFact{};
    fact.skipped = true;
    CHECK(judge_gpus(fact).status == Status::skip);
    fact = BenchFact{};
    fact.missing = true;
    CHECK(judge_gpus(fact).status == Status::fail);
}

TEST_CASE("doctor: free GPUs in the pool, and who holds the others", "[doctor]") {
    PoolFact fact;
    CHECK(judge_pool(fact).status == Status::skip);
    fact.wants_gpu = true;
    CHECK(judge_pool(fact).status == Status::warn);

    fact.pool.gpus = {{0, std::string("GPU-aaa")}, {1, std::string("GPU-bbb")}};
    gm::env::Lease lease;
    lease.gpu = "GPU-aaa";
    lease.index = 0;
    lease.model = "resnet50";
    lease.user = "ana";
    fact.leases = {lease};
    auto c = judge_pool(fact);
    CHECK(c.status == Status::ok);
    CHECK_THAT(c.detail, Catch::StartsWith("1 of 2 GPUs free (1)") && Catch::Contains("resnet50 (ana)"));

    lease.gpu = "GPU-bbb";
    lease.index = 1;
    lease.model = "bert";
    fact.leases.push_back(lease);
    c = judge_pool(fact);
    CHECK(c.status == Status::warn);
    CHECK_THAT(c.detail, Catch::Contains("0 of 2"));
    CHECK_THAT(c.fix, Catch::Contains("git model env down"));

    fact.error = "model.gpus: 'x' is not a GPU index";
    CHECK(judge_pool(fact).status == Status::fail);
}

TEST_CASE("doctor: config keys set and well-formed", "[doctor]") {
    ConfigFact fact;
    CHECK(judge_config(fact).status == Status::skip);
    fact.in_repo = true;
    fact.user_name = "Ana";
    fact.user_email = "ana@example.com";
    fact.base_branch = "main";
    fact.base_exists = true;
    fact.model_keys = {{"model.installhooks", "always"}, {"model.bench.timeout", "20s"}};
    CHECK(judge_config(fact).status == Status::ok);

    fact.user_email.reset();
    auto c = judge_config(fact);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.fix, Catch::Contains("git config --global user.email"));

    fact.user_email = "ana@example.com";
    fact.model_keys = {{"model.engine", "lxc"}, {"model.bench.timeout", "soon"}, {"model.gpus", "0,x"}};
    c = judge_config(fact);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.detail, Catch::Contains("model.engine") && Catch::Contains("model.bench.timeout") &&
                             Catch::Contains("model.gpus"));
    CHECK_THAT(c.fix, Catch::Contains("git config model.engine podman"));
    fact.model_keys = {{"model.imageDrift", "refuse"}};
    CHECK(judge_config(fact).status == Status::ok);
    fact.model_keys = {{"model.imageDrift", "sometimes"}};
    CHECK_THAT(judge_config(fact).detail, Catch::Contains("model.imageDrift is 'sometimes' (expected warn, refuse)"));

    fact.model_keys.clear();
    fact.base_exists = false;
    c = judge_config(fact);
    CHECK(c.status == Status::warn);
    CHECK_THAT(c.fix, Catch::Contains("model.baseBranch"));
}

TEST_CASE("doctor: git fetch brings the team's tags and finish notes", "[doctor]") {
    FetchFact fact;
    CHECK(judge_fetch(fact).status == Status::skip);
    fact.in_repo = true;
    fact.remote = "origin";
    auto c = judge_fetch(fact);
    CHECK(c.status == Status::skip);
    CHECK_THAT(c.detail, Catch::Contains("no remote 'origin'"));
    fact.remote_exists = true;
    fact.tags = true;
    fact.commands = {"git config --add remote.origin.fetch '+refs/notes/git-model:refs/notes/remotes/origin/git-model'"};
    c = judge_fetch(fact);
    CHECK(c.status == Status::warn);
    CHECK_THAT(c.detail, Catch::Contains("finish notes") && !Catch::Contains("every tag"));
    CHECK_THAT(c.fix, Catch::StartsWith("git model hooks install") && Catch::Contains("refs/notes/remotes/origin"));
    fact.notes = true;
    fact.commands.clear();
    c = judge_fetch(fact);
    CHECK(c.status == Status::ok);
    CHECK(c.fix.empty());
}

TEST_CASE("doctor: boolean keys", "[doctor]") {
    ConfigFact fact;
    fact.in_repo = true;
    fact.user_name = "Ana";
    fact.user_email = "ana@example.com";
    fact.base_branch = "main";
    fact.base_exists = true;
    fact.model_keys = {{"model.tag.push", "off"}, {"model.prune.remote", "TRUE"}};
    CHECK(judge_config(fact).status == Status::ok);
    fact.model_keys = {{"model.prune.remote", "sometimes"}};
    const auto c = judge_config(fact);
    CHECK(c.status == Status::fail);
    CHECK_THAT(c.detail, Catch::Contains("model.prune.remote is 'sometimes' (expected true or false)"));
    CHECK(c.fix == "git config model.prune.remote true");
}

TEST_CASE("doctor: the report, its JSON and its exit code", "[doctor]") {
    std::vector<Check> checks{{"git", Status::ok, "git version 2.39.5", ""},
                              {"gpus", Status::warn, "no usable GPU", "nvidia-smi"},
                              {"hooks", Status::fail, "pre-push missing", "git model hooks install"}};
    CHECK(exit_code(checks) == 1);
    const auto text = render_text(checks);
    CHECK_THAT(text, Catch::Contains("FAIL  hooks") && Catch::Contains("fix: git model hooks install") &&
                         Catch::Contains("1 problem, 1 warning."));
    const auto json = to_json(checks);
    CHECK(json["version"] == 1);
    CHECK(json["ok"] == false);
    CHECK(json["checks"][0]["fix"].is_null());
    CHECK(json["checks"][2]["status"] == "fail");

    checks.pop_back();
    CHECK(exit_code(checks) == 0);
    CHECK(to_json(checks)["ok"] == true);
}
