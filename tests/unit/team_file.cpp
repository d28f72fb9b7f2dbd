// The team file's layering: policy keys from .gitmodel win, other keys are defaults.
#include <catch2/catch.hpp>

#include "gitmodel/git/config.hpp"
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
}
