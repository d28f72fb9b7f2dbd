// The team file's layering: policy keys from .gitmodel win, other keys are defaults.
#include <catch2/catch.hpp>

#include "temp_repo.hpp"

#include "gitmodel/git/config.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/git/team_file.hpp"
#include "gitmodel/hooks/pre_push.hpp"

#include <map>

namespace {

// A clone's git config in memory.
class MapConfig final : public gm::git::ConfigView {
public:
    std::map<std::string, std::vector<std::string>> values;
    std::optional<std::string> get_string(std::string_view key) const override {
        auto it = values.find(gm::git::Config::normalize_key(key));
        if (it == values.end() || it->second.empty()) return std::nullopt;
        return it->second.back();
    }
    std::vector<std::string> get_all(std::string_view key) const override {
        auto it = values.find(gm::git::Config::normalize_key(key));
        return it == values.end() ? std::vector<std::string>{} : it->second;
    }
};

}  // namespace

TEST_CASE("team file: git config -z --list output parses into normalised keys") {
    const std::string text = std::string("model.basebranch\nmaster") + '\0' + "model.bench.beforepush\nnever" + '\0' +
                             "model.flag" + '\0';
    const auto entries = gm::git::parse_config_list(text);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0] == std::make_pair(std::string("model.basebranch"), std::string("master")));
    CHECK(entries[1].second == "never");
    CHECK(entries[2].second == "true");
}

TEST_CASE("team file: policy keys win, other keys are defaults a clone overrides") {
    CHECK(gm::git::is_policy_key("model.maxFileSize"));
    CHECK(gm::git::is_policy_key("model.benchGate.onUnknown"));
    CHECK_FALSE(gm::git::is_policy_key("model.bench.beforePush"));
    MapConfig local;
    local.values["model.maxfilesize"] = {"1g"};
    local.values["model.bench.beforepush"] = {"always"};
    gm::git::TeamFile team;
    team.ref = "refs/remotes/origin/master";
    team.present = true;
    team.entries = {{"model.maxfilesize", "1m"}, {"model.bench.beforepush", "never"}, {"model.basebranch", "master"},
                    {"model.protectedbranch", "release/*"}};
    const gm::git::LayeredConfig config(local, team);
    CHECK(config.get_string("model.maxFileSize") == "1m");
    CHECK(config.get_string("model.bench.beforePush") == "always");
    REQUIRE(config.overridden().size() == 1);
    CHECK(config.overridden()[0].second == "1g");
    CHECK(config.source("model.maxFileSize")->find("team file") == 0);
    CHECK(config.source("model.bench.beforePush") == "git config");
    CHECK_FALSE(config.source("model.allowPath"));
    // protection follows the team's base branch, beside the protected globs
    CHECK(gm::hooks::read_push_policy(config).protected_branches == std::vector<std::string>{"master", "release/*"});
    CHECK(gm::hooks::read_push_policy(local).protected_branches == std::vector<std::string>{"main"});
    // the remote's default branch is protected beside a base this clone moved, never twice, never a model branch
    MapConfig moved;
    moved.values["model.basebranch"] = {"dev"};
    const auto policy = gm::hooks::read_push_policy(moved, "main");
    CHECK(policy.protected_branches == std::vector<std::string>{"dev", "main"});
    CHECK(policy.remote_default == "main");
    CHECK(gm::hooks::read_push_policy(config, "master").protected_branches ==
          std::vector<std::string>{"master", "release/*"});
    CHECK(gm::hooks::read_push_policy(moved, "feature/model-x").protected_branches == std::vector<std::string>{"dev"});
    // (s43b) a base or protected branch written as a ref or through a remote protects the branch it
    // names: pushes are judged by the branch they update
    MapConfig written;
    written.values["remote.origin.url"] = {"/srv/team.git"};
    written.values["model.basebranch"] = {"origin/main"};
    written.values["model.protectedbranch"] = {"refs/heads/release/*", "refs/remotes/up/stable", "other/x"};
    CHECK(gm::hooks::read_push_policy(written).protected_branches ==
          std::vector<std::string>{"main", "origin/main", "release/*", "refs/heads/release/*", "stable",
                                   "refs/remotes/up/stable", "other/x"});
    // (s43d) every spelling git resolves the same: heads/, remotes/ without refs/, and a remote
    // whose name has a slash (the longest configured name wins); a tag ref names no branch
    MapConfig spelled;
    spelled.values["remote.origin.url"] = {"/srv/team.git"};
    spelled.values["remote.team/origin.url"] = {"/srv/team.git"};
    spelled.values["model.basebranch"] = {"heads/develop"};
    spelled.values["model.protectedbranch"] = {"remotes/origin/a", "team/origin/b", "refs/remotes/team/origin/c",
                                               "refs/tags/v1", "remotes/gone/d"};
    CHECK(gm::hooks::read_push_policy(spelled).protected_branches ==
          std::vector<std::string>{"develop", "heads/develop", "a", "remotes/origin/a", "b", "team/origin/b", "c",
                                   "refs/remotes/team/origin/c", "refs/tags/v1", "d", "remotes/gone/d"});
}

TEST_CASE("team file: where it is read from, over any access (the remote's default branch first)") {
    std::map<std::string, gm::git::TeamFile> refs;
    std::map<std::string, std::string> symbolic;  // a symbolic ref -> the ref it names
    std::vector<std::string> remotes;             // the remotes set up
    int remotes_asked = 0;
    const auto access = gm::git::TeamFileAccess{
        [&](const std::string& ref) -> std::optional<std::string> {
            if (!refs.count(ref)) return std::nullopt;
            return symbolic.count(ref) ? symbolic.at(ref) : ref;
        },
        [&](const std::string& ref) { return refs.at(ref); },
        [&] {
            ++remotes_asked;
            return remotes;
        }};
    MapConfig local;
    CHECK(gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access).ref.empty());
    gm::git::TeamFile master;
    master.ref = "refs/heads/master";
    master.present = true;
    master.entries = {{"model.basebranch", "master"}};
    refs["refs/heads/master"] = master;
    // the local main is absent: the file names master, but the default read is of main, which has none
    CHECK(gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access).ref.empty());
    gm::git::TeamFile head = master;
    head.ref = "refs/remotes/up/HEAD";
    head.entries = {{"model.basebranch", "trunk"}};
    refs["refs/remotes/up/HEAD"] = head;
    gm::git::TeamFile trunk = master;
    trunk.ref = "refs/remotes/up/trunk";
    trunk.entries = {{"model.basebranch", "trunk"}, {"model.enginehost", "tcp://elsewhere:2375"}, {"model.maxfilesize", "5m"}};
    refs["refs/remotes/up/trunk"] = trunk;
    local.values["model.remote"] = {"up"};
    local.values["model.basebranch"] = {"master"};  // a clone's own base cannot point the read elsewhere
    const auto found = gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access);
    CHECK(found.ref == "refs/remotes/up/trunk");  // the remote's default branch, then the base it names
    CHECK(found.entries.size() == 2);
    // this machine's settings are not the team's: ignored, and said so
    CHECK(found.ignored == std::vector<std::string>{"model.enginehost"});
    CHECK(found.remote_default.empty());  // up/HEAD is no symbolic ref here: its branch is not known
    symbolic["refs/remotes/up/HEAD"] = "refs/remotes/up/trunk";
    CHECK(gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access).remote_default ==
          "trunk");
    // a clone of one model branch has no base at all: HEAD's file (its base's, as the branch took it)
    refs.clear();
    symbolic.clear();
    gm::git::TeamFile branch = master;
    branch.ref = "HEAD";
    branch.entries = {{"model.protectedbranch", "release"}};
    refs["HEAD"] = branch;
    const auto from_head = gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access);
    CHECK(from_head.ref == "HEAD");
    CHECK(from_head.entries.size() == 1);
    refs["refs/heads/master"] = master;  // once the base is here, it wins over HEAD
    CHECK(gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access).ref ==
          "refs/heads/master");
    CHECK(gm::git::is_machine_key("model.sshAuthorizedKeys"));
    CHECK(gm::git::is_machine_key("model.remote"));  // a name in this clone: not the team's to change
    CHECK_FALSE(gm::git::is_machine_key("model.forge"));

    // `git clone -o upstream`: no model.remote, no origin, one remote: the policy is upstream's,
    // not the stale local base's
    refs.clear();
    symbolic.clear();
    local.values.erase("model.remote");
    local.values.erase("model.basebranch");
    gm::git::TeamFile stale = master;
    stale.ref = "refs/heads/main";
    stale.entries = {};
    refs["refs/heads/main"] = stale;
    gm::git::TeamFile upstream = master;
    upstream.ref = "refs/remotes/upstream/main";
    upstream.entries = {{"model.protectedbranch", "release/*"}};
    refs["refs/remotes/upstream/main"] = upstream;
    remotes = {"upstream"};
    local.values["remote.upstream.url"] = {"/srv/team.git"};
    const auto find = [&] { return gm::git::find_team_file([&](std::string_view k) { return local.get_string(k); }, access); };
    CHECK(find().ref == "refs/remotes/upstream/main");
    // a push-only mirror (pushurl, no url) is no candidate: git fetches nothing from it
    remotes = {"mirror", "upstream"};
    local.values["remote.mirror.pushurl"] = {"/srv/mirror.git"};
    CHECK(find().ref == "refs/remotes/upstream/main");
    // with several remotes and none of them origin, none is guessed (doctor asks for model.remote)
    remotes = {"upstream", "fork"};
    local.values["remote.fork.url"] = {"/srv/fork.git"};
    CHECK(find().ref == "refs/heads/main");
    // origin, once set up, is the team's and the remotes are not even listed
    local.values["remote.origin.url"] = {"/srv/team.git"};
    remotes_asked = 0;
    gm::git::TeamFile origin = upstream;
    origin.ref = "refs/remotes/origin/main";
    refs["refs/remotes/origin/main"] = origin;
    CHECK(find().ref == "refs/remotes/origin/main");
    CHECK(remotes_asked == 0);
    // model.remote wins over everything
    local.values["model.remote"] = {"upstream"};
    CHECK(find().ref == "refs/remotes/upstream/main");
}

TEST_CASE("team file: the fix for a policy key is the committed file, with the exact lines") {
    const auto fix = gm::git::team_setting_fix("model.allowPath", "data/it's.csv", true);
    CHECK_THAT(fix, Catch::Contains("git config --file .gitmodel --add model.allowPath 'data/it'\\''s.csv'"));
    CHECK_THAT(fix, Catch::Contains("git add .gitmodel && git commit"));
    CHECK_THAT(fix, Catch::Contains("`[model] allowPath = data/it's.csv`"));
    const auto sub = gm::git::team_setting_fix("model.benchGate.onUnknown", "allow", false);
    CHECK_THAT(sub, Catch::Contains("git config --file .gitmodel model.benchGate.onUnknown 'allow'"));
    CHECK_THAT(sub, Catch::Contains("`[model \"benchGate\"] onUnknown = allow`"));
}

TEST_CASE("team file: a repository's configuration layers .gitmodel from the base, and says where each value comes from",
          "[git]") {
    gm::test::TempRepo scratch;
    gm::git::Library library;
    {
        // no .gitmodel on main: the view is git config alone
        const auto repo = gm::git::Repository::open(scratch.repo);
        const auto config = repo.config();
        REQUIRE(config.team());
        CHECK_FALSE(config.team()->present);
        CHECK(config.team()->ref == "refs/heads/main");
        CHECK_FALSE(config.get_string("model.forge"));
    }
    scratch.write(".gitmodel", "[model]\n\tforge = gitlab\n\tmaxFileSize = 1m\n\tallowPath = a\n\tallowPath = b\n"
                               "[model \"prune\"]\n\tretention = 30d\n");
    scratch.git({"add", ".gitmodel"});
    scratch.git({"commit", "-q", "-m", "team file"});
    scratch.git({"config", "model.maxFileSize", "1g"});
    scratch.git({"config", "model.prune.retention", "7d"});
    scratch.git({"config", "--add", "model.allowPath", "c"});
    scratch.git({"config", "model.installHooks", "never"});
    const auto repo = gm::git::Repository::open(scratch.repo);
    const auto config = repo.config();
    CHECK(config.get_string("model.forge") == "gitlab");           // not set here: the file's default
    CHECK(config.get_string("model.maxFileSize") == "1m");         // policy: the file wins
    CHECK(config.get_string("model.prune.retention") == "7d");     // not policy: this clone's wins
    CHECK(config.get_all("model.allowPath") == std::vector<std::string>{"a", "b"});
    CHECK(config.get_matching("model.", "") ==
          std::map<std::string, std::string>{{"model.allowpath", "b"},       {"model.forge", "gitlab"},
                                             {"model.installhooks", "never"}, {"model.maxfilesize", "1m"},
                                             {"model.prune.retention", "7d"}});
    CHECK(config.get_string_git("model.maxFileSize") == "1g");
    CHECK(config.origin("model.maxFileSize") == "team file .gitmodel at refs/heads/main");
    CHECK(config.origin("model.forge") == "team file .gitmodel at refs/heads/main");
    const std::string local_file = (scratch.repo / ".git" / "config").string();
    CHECK(config.origin("model.prune.retention") == "local " + local_file);
    CHECK_FALSE(config.origin("model.remote"));
    const auto plain = repo.plain_config();
    CHECK_FALSE(plain.team());
    CHECK(plain.get_string("model.maxFileSize") == "1g");
    CHECK_FALSE(plain.get_string("model.forge"));
    // a file that does not parse: the error names .gitmodel:<line>, at the first read, not at a write
    scratch.write(".gitmodel", "[model]\n\tforge = gitlab\n[broken\n");
    scratch.git({"commit", "-q", "-am", "broken"});
    auto broken = repo.config();
    broken.set_local("model.written", "yes");  // writers never read the team file
    CHECK_THROWS_WITH(broken.get_string("model.forge"), Catch::Contains(".gitmodel:3: bad config syntax"));
}
