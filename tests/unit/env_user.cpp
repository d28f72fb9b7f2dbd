// Who a container runs as (user:), the engine's mode, its images by content, host ports and the
// drift of a running container from its file: the pure parts of issues 19 and 13, without an engine.
#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/env/container.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/image.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/env/ports.hpp"
#include "gitmodel/env/state.hpp"
#include "gitmodel/env/user.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

using namespace gm::env;
using gm::config::UserSetting;

namespace {

const std::string image_passwd = "root:x:0:0:root:/root:/bin/bash\n"
                                 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                                 "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n"
                                 "jovyan:x:1001:100::/home/jovyan:/bin/bash\n";
const std::string image_group = "root:x:0:\nusers:x:100:\nubuntu:x:1000:\n";

Caller alice() { return Caller{1000, 1000, "alice", "alice"}; }

UserSetting ids(std::uint32_t uid, std::uint32_t gid) {
    UserSetting s;
    s.mode = UserSetting::Mode::ids;
    s.uid = uid;
    s.gid = gid;
    return s;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

bool has_pair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag && argv[i + 1] == value) return true;
    return false;
}

}  // namespace

TEST_CASE("user: host on a rootful engine runs as the caller, known to the image by name", "[env][user]") {
    const ImageAccounts accounts{image_passwd, image_group};
    const auto plan = plan_user(UserSetting{}, EngineMode::rootful_socket, EngineKind::docker, alice(), accounts);
    CHECK(plan.run_flags == std::vector<std::string>{"--user", "1000:1000"});
    CHECK(plan.needs_accounts);
    CHECK(plan.login == "alice");
    CHECK(plan.home == "/home/alice");
    CHECK_FALSE(plan.as_root);
    // The caller replaces the image's user of the same uid (ubuntu); the others stay.
    CHECK(has_line(plan.passwd, "alice:x:1000:1000:alice:/home/alice:/bin/sh"));
    CHECK_FALSE(has_line(plan.passwd, "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash"));
    CHECK(has_line(plan.passwd, "root:x:0:0:root:/root:/bin/bash"));
    CHECK(has_line(plan.passwd, "jovyan:x:1001:100::/home/jovyan:/bin/bash"));
    // gid 1000 is known to the image (ubuntu): kept as it is.
    CHECK(plan.group == image_group);
    const auto podman = plan_user(UserSetting{}, EngineMode::rootful_socket, EngineKind::podman, alice(), accounts);
    CHECK(podman.run_flags == std::vector<std::string>{"--user", "1000:1000"});
}

TEST_CASE("uids are compared as numbers: an image's 0<uid> account is the caller's uid", "[env][user]") {
    // libc reads "01000" as uid 1000 and "4294968296" wraps to 1000: such lines must not
    // stand before the account of ours (their name and HOME would win inside).
    const std::string passwd = "root:x:0:0:root:/root:/bin/sh\n"
                               "evil:x:01000:0:evil:/evil:/bin/sh\n"
                               "wrap:x:4294968296:0:wrap:/wrap:/bin/sh\n"
                               "plus:x:+1000:0:plus:/plus:/bin/sh\n"
                               "jovyan:x:1001:100::/home/jovyan:/bin/bash\n";
    const std::string group = "root:x:0:\nusers:x:0100:\n";
    const ImageAccounts accounts{passwd, group};
    const auto plan = plan_user(UserSetting{}, EngineMode::rootful_socket, EngineKind::docker, alice(), accounts);
    CHECK(has_line(plan.passwd, "alice:x:1000:1000:alice:/home/alice:/bin/sh"));
    CHECK(plan.passwd.find("evil") == std::string::npos);
    CHECK(plan.passwd.find("wrap") == std::string::npos);
    CHECK(plan.passwd.find("plus") == std::string::npos);
    CHECK(has_line(plan.passwd, "jovyan:x:1001:100::/home/jovyan:/bin/bash"));
    // The group of gid 100 is known to the image as 0100: kept, none added.
    const auto jovyan = plan_user(ids(1001, 100), EngineMode::rootful_socket, EngineKind::docker, alice(), accounts);
    CHECK(jovyan.group == group);
    // user: uid:gid finds the image's own account of that uid written with a leading zero.
    const auto evil = plan_user(ids(1000, 1000), EngineMode::rootful_socket, EngineKind::docker, alice(), accounts);
    CHECK(evil.login == "evil");
}

TEST_CASE("user: host on the caller's rootless podman uses keep-id", "[env][user]") {
    const ImageAccounts accounts{"root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n"};
    Caller bob{2001, 2002, "bob", "staff"};
    const auto plan = plan_user(UserSetting{}, EngineMode::rootless, EngineKind::podman, bob, accounts);
    CHECK(plan.run_flags == std::vector<std::string>{"--userns=keep-id"});
    CHECK(has_line(plan.passwd, "bob:x:2001:2002:bob:/home/bob:/bin/sh"));
    CHECK(has_line(plan.group, "staff:x:2002:"));
    CHECK(accounts_needed(UserSetting{}, EngineMode::rootless, EngineKind::podman, bob));
    // A rootless docker's root is the caller on the host already.
    const auto docker = plan_user(UserSetting{}, EngineMode::rootless, EngineKind::docker, bob, std::nullopt);
    CHECK(docker.run_flags == std::vector<std::string>{"--user", "0:0"});
    CHECK(docker.as_root);
    CHECK_FALSE(accounts_needed(UserSetting{}, EngineMode::rootless, EngineKind::docker, bob));
}

TEST_CASE("user: host for root, user: image, and an image whose files cannot be read", "[env][user]") {
    const Caller root{0, 0, "root", "root"};
    const auto as_root = plan_user(UserSetting{}, EngineMode::rootful_local, EngineKind::podman, root, std::nullopt);
    CHECK(as_root.run_flags == std::vector<std::string>{"--user", "0:0"});
    CHECK(as_root.login == "root");
    CHECK(as_root.home.empty());
    CHECK_FALSE(accounts_needed(UserSetting{}, EngineMode::rootful_local, EngineKind::podman, root));

    UserSetting image;
    image.mode = UserSetting::Mode::image;
    const auto plan = plan_user(image, EngineMode::rootful_socket, EngineKind::docker, alice(), std::nullopt);
    CHECK(plan.run_flags.empty());
    CHECK(plan.login.empty());
    CHECK_FALSE(plan.needs_accounts);
    CHECK_FALSE(accounts_needed(image, EngineMode::rootful_socket, EngineKind::docker, alice()));

    const auto unread = plan_user(UserSetting{}, EngineMode::rootful_socket, EngineKind::docker, alice(), std::nullopt);
    CHECK(unread.run_flags == std::vector<std::string>{"--user", "1000:1000"});
    CHECK_FALSE(unread.needs_accounts);
    CHECK(unread.home.empty());
}

TEST_CASE("user: uid:gid keeps the image's own account of that uid, else adds one", "[env][user]") {
    const ImageAccounts accounts{image_passwd, image_group};
    const auto jovyan = plan_user(ids(1001, 100), EngineMode::rootful_socket, EngineKind::docker, alice(), accounts);
    CHECK(jovyan.run_flags == std::vector<std::string>{"--user", "1001:100"});
    CHECK(jovyan.login == "jovyan");
    CHECK(jovyan.home.empty());  // the image's /home/jovyan
    CHECK(jovyan.passwd == image_passwd);

    const auto fresh = plan_user(ids(4242, 4343), EngineMode::rootful_socket, EngineKind::podman, alice(), accounts);
    CHECK(fresh.login == "alice");
    CHECK(has_line(fresh.passwd, "alice:x:4242:4343:alice:/home/alice:/bin/sh"));
    CHECK(has_line(fresh.passwd, "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash"));  // not replaced
    CHECK(has_line(fresh.group, "alice:x:4343:"));

    Caller ubuntu{3000, 3000, "ubuntu", "ubuntu"};  // the caller's name is taken by another uid
    const auto renamed = plan_user(ids(4242, 4343), EngineMode::rootful_socket, EngineKind::podman, ubuntu, accounts);
    CHECK(renamed.login == "u4242");
    CHECK(has_line(renamed.group, "u4242:x:4343:"));

    const auto keep_id = plan_user(ids(4242, 4343), EngineMode::rootless, EngineKind::podman, alice(), accounts);
    CHECK(keep_id.run_flags == std::vector<std::string>{"--userns=keep-id:uid=4242,gid=4343"});
}

TEST_CASE("an image's passwd and group come apart by their field counts", "[env][user]") {
    const auto accounts = split_accounts(image_passwd + image_group + "# a comment\nnot a line\n");
    CHECK(accounts.passwd == image_passwd);
    CHECK(accounts.group == image_group);
    CHECK(split_accounts("").passwd.empty());
}

TEST_CASE("engine modes: rootless, rootful local, rootful through a socket", "[env][engine]") {
    ModeFacts facts;
    facts.kind = EngineKind::podman;
    facts.euid = 1000;
    CHECK(detect_mode(facts) == EngineMode::rootless);
    facts.euid = 0;
    CHECK(detect_mode(facts) == EngineMode::rootful_local);
    facts.euid = 1000;
    facts.remote = true;
    facts.host = "unix:///srv/podman/podman.sock";
    facts.socket_owner = 0;
    CHECK(detect_mode(facts) == EngineMode::rootful_socket);
    facts.socket_owner = 1000;  // the user's own podman service
    CHECK(detect_mode(facts) == EngineMode::rootless);
    facts.socket_owner.reset();  // ssh:// or tcp://: cannot be seen, taken as rootful
    CHECK(detect_mode(facts) == EngineMode::rootful_socket);
    ModeFacts docker;
    docker.kind = EngineKind::docker;
    docker.euid = 1000;
    docker.socket_owner = 0;
    CHECK(detect_mode(docker) == EngineMode::rootful_socket);
    docker.socket_owner = 1000;
    CHECK(detect_mode(docker) == EngineMode::rootless);
}

TEST_CASE("engine calls carry model.engineHost; containers.conf's remote service is found", "[env][engine]") {
    Engine engine;
    engine.kind = EngineKind::podman;
    engine.program = "/usr/bin/podman";
    engine.host = "unix:///srv/podman.sock";
    CHECK(engine.command({"ps"}) == std::vector<std::string>{"/usr/bin/podman", "ps"});  // from CONTAINER_HOST: inherited
    engine.host_from_config = true;
    CHECK(engine.command({"ps"}) == std::vector<std::string>{"/usr/bin/podman", "--url", "unix:///srv/podman.sock", "ps"});
    engine.kind = EngineKind::docker;
    CHECK(engine.command({"ps"}) == std::vector<std::string>{"/usr/bin/podman", "--host", "unix:///srv/podman.sock", "ps"});
    engine.mode = EngineMode::rootful_socket;
    CHECK(engine.describe_mode() == "rootful through a socket (unix:///srv/podman.sock)");

    const gm::test::ScratchDir scratch;
    const auto conf = scratch.path / "containers.conf";
    std::ofstream(conf) << "[containers]\nnetns = \"host\"\n[engine]\nremote = true   # the team's service\n"
                           "active_service = \"team\"\n[engine.service_destinations.other]\nuri = \"unix:///x.sock\"\n"
                           "[engine.service_destinations.team]\nuri = \"unix:///srv/team/podman.sock\"\n";
    const char* saved = std::getenv("CONTAINERS_CONF");
    const std::string old = saved ? saved : "";
    ::setenv("CONTAINERS_CONF", conf.c_str(), 1);
    std::string uri;
    CHECK(containers_conf_remote(&uri));
    CHECK(uri == "unix:///srv/team/podman.sock");
    std::ofstream(conf) << "[engine]\nremote = false\n";
    CHECK_FALSE(containers_conf_remote(nullptr));
    if (saved) ::setenv("CONTAINERS_CONF", old.c_str(), 1);
    else ::unsetenv("CONTAINERS_CONF");
}

TEST_CASE("images by content: ids, registry digests", "[env][image]") {
    const std::string hex(64, 'a');
    const std::string other(64, 'b');
    const auto podman = parse_image_identity(hex + " [\"localhost/team/torch@sha256:" + other + "\"]\n");
    REQUIRE(podman);
    CHECK(podman->id == "sha256:" + hex);
    const auto docker = parse_image_identity("sha256:" + hex + " []");
    REQUIRE(docker);
    CHECK(docker->id == "sha256:" + hex);
    CHECK_FALSE(parse_image_identity("garbage"));
    CHECK_FALSE(parse_image_identity("sha256:123 []"));
    CHECK(short_image_id(hex) == "sha256:aaaaaaaaaaaa");

    CHECK(repo_digest_for(*podman, gm::config::parse_image_ref("localhost/team/torch:2.3")) == "sha256:" + other);
    CHECK(repo_digest_for(*docker, gm::config::parse_image_ref("localhost/team/torch:2.3")).empty());
    ImageIdentity hub{"sha256:" + hex, {"docker.io/library/python@sha256:" + other, "ghcr.io/x/python@sha256:" + hex}};
    CHECK(repo_digest_for(hub, gm::config::parse_image_ref("python:3.12")) == "sha256:" + other);
    CHECK(repo_digest_for(hub, gm::config::parse_image_ref("ghcr.io/x/python:3.12")) == "sha256:" + hex);
    CHECK(repo_digest_for(hub, gm::config::parse_image_ref("quay.io/y/python:3.12")).empty());  // ambiguous
}

TEST_CASE("host ports: listening sockets and port labels", "[env][ports]") {
    const std::string table =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0\n"
        "   1: 0100007F:0016 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 99 1 0\n";
    const auto sockets = parse_proc_net_tcp(table);
    REQUIRE(sockets.size() == 1);  // only LISTEN (0A)
    CHECK(sockets[0].port == 8080);
    CHECK(sockets[0].uid == 1000);
    CHECK(sockets[0].inode == 4242);
    CHECK(label_host_ports("jupyter=127.0.0.1:40001:8888,ssh=0.0.0.0:40002:22") == std::vector<int>{40001, 40002});
    CHECK(label_host_ports("").empty());

    ContainerInfo other;
    other.name = "gm-repo-b-12345678";
    other.labels = {{label::ports, "web=127.0.0.1:41000:80"}, {label::model, "b"}, {label::repo, "/r/.git"}};
    CHECK(describe_port_holder(41000, {other}) == "the environment of model 'b' (container gm-repo-b-12345678, repository /r/.git)");
}

TEST_CASE("host ports: fixed as written, the last one while free, else a new one", "[env][ports]") {
    const std::vector<gm::config::Port> wanted{{"jupyter", 8888, std::nullopt}, {"ssh", 22, 2222}, {"web", 80, std::nullopt}};
    std::set<int> busy;
    const auto is_free = [&](const std::string&, int port) { return !busy.count(port); };
    const auto holder = [](int port) { return "process " + std::to_string(port); };
    const auto first = assign_ports(wanted, "127.0.0.1", {{"jupyter", 45001}, {"web", 45002}}, is_free, holder);
    REQUIRE(first.ports.size() == 3);
    CHECK(first.ports[0].host_port == 45001);
    CHECK(first.ports[1].host_port == 2222);
    CHECK(first.ports[2].host_port == 45002);
    CHECK(first.notes.empty());
    CHECK(first.record == std::map<std::string, int>{{"jupyter", 45001}, {"ssh", 2222}, {"web", 45002}});

    busy = {45001};
    const auto moved = assign_ports(wanted, "127.0.0.1", first.record, is_free, holder);
    CHECK(moved.ports[0].host_port != 45001);
    REQUIRE(moved.notes.size() == 1);
    CHECK(moved.notes[0].find("port jupyter moved from 45001 to") == 0);
    CHECK(moved.notes[0].find("process 45001 holds 45001") != std::string::npos);

    busy = {2222};
    try {
        assign_ports(wanted, "127.0.0.1", {}, is_free, holder);
        FAIL("a taken fixed port must be refused");
    } catch (const PortConflictError& e) {
        CHECK(std::string(e.what()) == "host port 2222 (ports.ssh: '2222:22') is taken by process 2222");
    }
}

TEST_CASE("drift: the settings a container ran with against the file's", "[env][state]") {
    const auto a = gm::config::container_settings(gm::config::load_modelenv_text("image: a.io/b:1\nmemory: 1g\n", "t"));
    auto b = gm::config::container_settings(gm::config::load_modelenv_text(
        "image: a.io/b:2\nmemory: 1g\nbench:\n  min_fp32_fraction: 0.5\n", "t"));
    CHECK_FALSE(a.contains("bench"));
    CHECK(settings_drift(a, a).empty());
    CHECK(settings_drift(a, b) == std::vector<std::string>{"image: a.io/b:1 -> a.io/b:2"});
    CHECK(settings_fingerprint(a) != settings_fingerprint(b));
    CHECK(settings_fingerprint(a) == settings_fingerprint(a));
    // The bench thresholds and the engine do not shape the container: no drift.
    const auto c = gm::config::container_settings(
        gm::config::load_modelenv_text("image: a.io/b:1\nmemory: 1g\nengine: docker\nbench: {min_fp32_fraction: 0.1}\n", "t"));
    CHECK(settings_fingerprint(a) == settings_fingerprint(c));
}

TEST_CASE("launch records and port records survive a round trip", "[env][state]") {
    const gm::test::ScratchDir scratch;
    std::filesystem::create_directories(state_dir(scratch.path, "m"));
    CHECK_FALSE(read_launch(scratch.path, "m"));
    LaunchRecord record;
    record.image = "a.io/b:1";
    record.image_id = "sha256:" + std::string(64, 'c');
    record.settings = {{"memory_bytes", 5}};
    record.user = "host";
    record.at = 42;
    write_launch(scratch.path, "m", record);
    const auto back = read_launch(scratch.path, "m");
    REQUIRE(back);
    CHECK(back->image_id == record.image_id);
    CHECK(back->settings == record.settings);
    CHECK((std::filesystem::status(state_dir(scratch.path, "m") / "launch.json").permissions() &
           std::filesystem::perms::group_read) == std::filesystem::perms::none);
    write_port_record(scratch.path, "m", {{"jupyter", 40000}});
    CHECK(read_port_record(scratch.path, "m") == std::map<std::string, int>{{"jupyter", 40000}});
    std::ofstream(state_dir(scratch.path, "m") / "ports.json") << "{\"jupyter\": 70000, \"ssh\": \"x\"}";
    CHECK(read_port_record(scratch.path, "m").empty());
}

TEST_CASE("the container plan: user flags, account files, HOME and its mount points, placeholders", "[env][user]") {
    const gm::test::ScratchDir scratch;
    const auto data = scratch.path / "data" / "alice" / "m";
    std::filesystem::create_directories(data);
    const auto file = gm::config::load_modelenv_text(
        "image: a.io/b:1\nmounts:\n  - {source: '" + (scratch.path / "data" / "{user}" / "{model}").string() +
            "', target: /data}\nenv:\n  HOME: /elsewhere\n",
        "t");
    ContainerRequest request;
    request.name = "gm-x";
    request.worktree = "/home/alice/wt";
    request.common_dir = "/home/alice/repo/.git";
    request.checkpoints = "/c";
    request.logs = "/l";
    request.placeholders = {"m", "feature/model-m", "alice"};
    request.user = plan_user(UserSetting{}, EngineMode::rootful_socket, EngineKind::docker, alice(),
                             ImageAccounts{image_passwd, image_group});
    request.accounts_dir = "/state";
    request.home = "/state/home";
    const auto plan = plan_container(file, request);
    CHECK(plan.spec.user_flags == std::vector<std::string>{"--user", "1000:1000"});
    const auto has_mount = [&](const std::string& source, const std::string& target) {
        return std::any_of(plan.spec.mounts.begin(), plan.spec.mounts.end(),
                           [&](const BindMount& m) { return m.source == source && m.target == target; });
    };
    CHECK(has_mount(data.string(), "/data"));
    CHECK(has_mount("/state/passwd", "/etc/passwd"));
    CHECK(has_mount("/state/group", "/etc/group"));
    CHECK(has_mount("/state/home", "/home/alice"));
    REQUIRE(plan.account_files.size() == 2);
    CHECK(plan.account_files[0].first == "/state/passwd");
    // The common dir lives under the user's home inside too: its mount point is made by us, not by the engine.
    REQUIRE(plan.home_mount_points.size() == 1);
    CHECK(plan.home_mount_points[0].first == "/state/home/repo/.git");
    // HOME first, so that the file's env can still set it.
    CHECK(plan.env_file_content.find("HOME=/home/alice\nUSER=alice\nLOGNAME=alice\nHOME=/elsewhere\n") == 0);
    CHECK(has_pair(run_argv("docker", plan.spec), "--user", "1000:1000"));
    CHECK(has_pair(run_argv("docker", plan.spec), "--label", "io.git-model.login=alice"));
}

TEST_CASE("the container plan: git-model's folders read-only over the common dir; HOME of another uid", "[env][user]") {
    const gm::test::ScratchDir scratch;
    const auto common = scratch.path / "repo" / ".git";
    std::filesystem::create_directories(common / "git-model" / "env");
    const auto file = gm::config::load_modelenv_text("image: a.io/b:1\n", "t");
    ContainerRequest request;
    request.engine = EngineKind::podman;
    request.name = "gm-x";
    request.worktree = scratch.path / "wt";
    request.common_dir = common;
    request.checkpoints = common / "git-model" / "persist" / "m" / "checkpoints";
    request.logs = "/l";
    request.placeholders = {"m", "feature/model-m", "alice"};
    request.user = plan_user(ids(4242, 4343), EngineMode::rootful_socket, EngineKind::podman, alice(),
                             ImageAccounts{image_passwd, image_group});
    request.accounts_dir = "/state";
    request.home = "/state/home";
    const auto plan = plan_container(file, request);
    const auto mount_of = [&](const std::string& target) -> const BindMount* {
        for (const auto& m : plan.spec.mounts)
            if (m.target == target) return &m;
        return nullptr;
    };
    // The common dir read-write (git), git-model's own folder read-only on top, persist read-write.
    REQUIRE(mount_of(common.string()));
    CHECK_FALSE(mount_of(common.string())->readonly);
    REQUIRE(mount_of((common / "git-model").string()));
    CHECK(mount_of((common / "git-model").string())->readonly);
    REQUIRE(mount_of("/persist/checkpoints"));
    CHECK_FALSE(mount_of("/persist/checkpoints")->readonly);
    // uid 4242 through a rootful engine cannot write the caller's HOME folder: a tmpfs it owns.
    CHECK(request.user.home_in_tmpfs);
    CHECK(mount_of("/home/alice") == nullptr);
    CHECK(plan.home_mount_points.empty());
    CHECK(has_pair(run_argv("podman", plan.spec), "--tmpfs", "/home/alice:mode=0700,U"));
    CHECK(plan.env_file_content.find("HOME=/home/alice\n") == 0);
    // The caller's own uid, or keep-id, keeps the folder of its own.
    CHECK_FALSE(plan_user(ids(1000, 1000), EngineMode::rootful_socket, EngineKind::podman, alice(),
                          ImageAccounts{"root:x:0:0:root:/root:/bin/sh\n", image_group})
                    .home_in_tmpfs);
    CHECK_FALSE(plan_user(ids(4242, 4343), EngineMode::rootless, EngineKind::podman, alice(),
                          ImageAccounts{image_passwd, image_group})
                    .home_in_tmpfs);
}
