// Review servers: remote URLs in every form, review pages, GitLab's push options, the finish plan and record.
#include "gitmodel/core/error.hpp"
#include "gitmodel/finish/finish.hpp"
#include "gitmodel/finish/finish_record.hpp"
#include "gitmodel/finish/forge.hpp"

#include <catch2/catch.hpp>

using namespace gm::finish;
using namespace gm::model;

namespace {

std::string web(const std::string& url) { return project_web_url(url, std::nullopt).value_or("(none)"); }

}  // namespace

TEST_CASE("remote URLs: https and http", "[finish]") {
    CHECK(web("https://gitlab.com/group/project.git") == "https://gitlab.com/group/project");
    CHECK(web("https://gitlab.com/group/sub/project") == "https://gitlab.com/group/sub/project");
    CHECK(web("https://github.com/owner/repo.git/") == "https://github.com/owner/repo");
    CHECK(web("https://oauth2:glpat-SECRET@gitlab.example.com/team/models.git") ==
          "https://gitlab.example.com/team/models");
    CHECK(web("https://user@GitHub.com/Owner/Repo") == "https://github.com/Owner/Repo");
    CHECK(web("https://gitlab.example.com:8443/team/models.git") == "https://gitlab.example.com:8443/team/models");
    CHECK(web("http://gitea.lan:3000/team/models.git") == "http://gitea.lan:3000/team/models");
}

TEST_CASE("remote URLs: ssh and scp-like forms", "[finish]") {
    CHECK(web("git@gitlab.com:group/project.git") == "https://gitlab.com/group/project");
    CHECK(web("git@github.com:owner/repo.git") == "https://github.com/owner/repo");
    CHECK(web("github.com:owner/repo") == "https://github.com/owner/repo");
    CHECK(web("ssh://git@gitlab.example.com:2222/team/sub/models.git") == "https://gitlab.example.com/team/sub/models");
    CHECK(web("ssh://git@github.com/owner/repo.git") == "https://github.com/owner/repo");
    CHECK(web("git+ssh://git@github.com/owner/repo.git") == "https://github.com/owner/repo");
    CHECK(web("git://github.com/owner/repo.git") == "https://github.com/owner/repo");
    CHECK(web("git@bitbucket.org:team/repo.git") == "https://bitbucket.org/team/repo");
}

TEST_CASE("remote URLs: local ones have no web pages", "[finish]") {
    CHECK(web("/srv/git/models.git") == "(none)");
    CHECK(web("../models.git") == "(none)");
    CHECK(web("./models") == "(none)");
    CHECK(web("models.git") == "(none)");
    CHECK(web("file:///srv/git/models.git") == "(none)");
    CHECK(web("C:/repos/models") == "(none)");
    CHECK(web("https://host.example.com") == "(none)");
    CHECK(web("/tmp/a:b/models.git") == "(none)");
}

TEST_CASE("model.forgeUrl overrides the derived address", "[finish]") {
    CHECK(project_web_url("/srv/git/models.git", std::string("https://gitlab.example.com/team/models/")) ==
          "https://gitlab.example.com/team/models");
    CHECK(project_web_url("git@alias:x.git", std::string("https://git.example.com/x")) == "https://git.example.com/x");
    // a token in model.forgeUrl never reaches the printed link
    CHECK(project_web_url("", std::string("https://oauth2:glpat-secret@gitlab.example.com/team/x/")) ==
          "https://gitlab.example.com/team/x");
    CHECK(project_web_url("", std::string("https://me:p@ss@github.example.com/g/p")) == "https://github.example.com/g/p");
    CHECK(project_web_url("", std::string("me:tok3n@github.example.com/g/p")) == "github.example.com/g/p");
}

TEST_CASE("forge kinds: guessed from the host, or set", "[finish]") {
    CHECK(guess_forge("gitlab.com") == ForgeKind::gitlab);
    CHECK(guess_forge("gitlab.example.com") == ForgeKind::gitlab);
    CHECK(guess_forge("github.com") == ForgeKind::github);
    CHECK(guess_forge("github.example.com:8443") == ForgeKind::github);
    CHECK(guess_forge("bitbucket.org") == ForgeKind::bitbucket);
    CHECK(guess_forge("git.example.com") == ForgeKind::other);
    CHECK_FALSE(parse_forge_setting("auto"));
    CHECK(parse_forge_setting("GitLab") == ForgeKind::gitlab);
    CHECK(parse_forge_setting("github") == ForgeKind::github);
    CHECK(parse_forge_setting("gitea") == ForgeKind::other);
    CHECK_THROWS_WITH(parse_forge_setting("gitlob"), Catch::Contains("model.forge"));
    CHECK(std::string(to_string(ForgeKind::bitbucket)) == "bitbucket");
}

TEST_CASE("review pages per forge", "[finish]") {
    const std::string b = "feature/model-resnet50";
    CHECK(review_url(ForgeKind::gitlab, "https://gitlab.com/g/p", b, "main") ==
          "https://gitlab.com/g/p/-/merge_requests/new?merge_request%5Bsource_branch%5D=feature/model-resnet50"
          "&merge_request%5Btarget_branch%5D=main");
    CHECK(review_url(ForgeKind::github, "https://github.com/o/r", b, "main") ==
          "https://github.com/o/r/compare/main...feature/model-resnet50?expand=1");
    CHECK(review_url(ForgeKind::bitbucket, "https://bitbucket.org/t/r", b, "main") ==
          "https://bitbucket.org/t/r/pull-requests/new?source=feature/model-resnet50&dest=main");
    CHECK(review_url(ForgeKind::other, "https://git.example.com/t/r", b, "release/2") ==
          "https://git.example.com/t/r/compare/release/2...feature/model-resnet50");
    CHECK(review_url(ForgeKind::github, "https://github.com/o/r", "feature/model-a.b_c", "rel+1") ==
          "https://github.com/o/r/compare/rel%2B1...feature/model-a.b_c?expand=1");
    CHECK(url_encode("a b/c#d", false) == "a%20b%2Fc%23d");
    CHECK(url_encode("a b/c", true) == "a%20b/c");
}

TEST_CASE("GitLab push options open a merge request into the base", "[finish]") {
    CHECK(gitlab_push_options("main", "Model x v2 (acc=0.9)") ==
          std::vector<std::string>{"merge_request.create", "merge_request.target=main",
                                   "merge_request.title=Model x v2 (acc=0.9)"});
    CHECK(gitlab_push_options("main", "two\nlines")[2] == "merge_request.title=two lines");
}

TEST_CASE("review plan: from settings and the remote URL", "[finish]") {
    Settings settings;
    const std::string b = "feature/model-x";
    auto plan = plan_review(settings, std::string("git@gitlab.example.com:team/models.git"), b, "main", "Model x");
    CHECK(plan.mode == "merge-request");
    CHECK(plan.forge == ForgeKind::gitlab);
    CHECK(plan.push_options.size() == 3);
    CHECK_THAT(*plan.review_url, Catch::StartsWith("https://gitlab.example.com/team/models/-/merge_requests/new"));

    plan = plan_review(settings, std::string("https://github.com/o/r.git"), b, "main", "Model x");
    CHECK(plan.mode == "pull-request");
    CHECK(plan.push_options.empty());
    CHECK(*plan.review_url == "https://github.com/o/r/compare/main...feature/model-x?expand=1");

    plan = plan_review(settings, std::string("/srv/git/models.git"), b, "main", "Model x");
    CHECK(plan.mode == "push");
    CHECK_FALSE(plan.forge);
    CHECK_FALSE(plan.review_url);
    CHECK(plan.push_options.empty());

    settings.forge = ForgeKind::gitlab;  // a local bare remote told to act as GitLab (the tests' server)
    plan = plan_review(settings, std::string("/srv/git/models.git"), b, "main", "Model x");
    CHECK(plan.mode == "merge-request");
    CHECK(plan.push_options.size() == 3);
    CHECK_FALSE(plan.review_url);

    settings.forge = std::nullopt;
    settings.forge_url = "https://git.example.com/team/models";
    plan = plan_review(settings, std::string("/srv/git/models.git"), b, "main", "Model x");
    CHECK(plan.mode == "pull-request");
    CHECK(*plan.review_url == "https://git.example.com/team/models/compare/main...feature/model-x");

    settings.forge = ForgeKind::github;  // a GitHub Enterprise host without "github" in its name
    plan = plan_review(settings, std::string("git@code.example.com:o/r.git"), b, "dev", "Model x");
    CHECK(*plan.review_url == "https://git.example.com/team/models/compare/dev...feature/model-x?expand=1");
}

TEST_CASE("finish record: round trip and foreign notes", "[finish]") {
    FinishRecord record;
    record.model = "resnet50";
    record.branch = "feature/model-resnet50";
    record.base = "main";
    record.mode = "merge-request";
    record.remote = "origin";
    record.finished_at = 1767323045;
    const std::string text = format_finish_record(record);
    CHECK(text ==
          "Model-Finish: 1\nModel: resnet50\nBranch: feature/model-resnet50\nBase: main\nMode: merge-request\n"
          "Remote: origin\nFinished: 1767323045\n");
    const auto back = parse_finish_record(text);
    REQUIRE(back);
    CHECK(back->finished_at == 1767323045);
    CHECK(back->remote == "origin");
    CHECK(back->mode == "merge-request");
    record.remote.clear();
    record.mode = "merge";
    CHECK(parse_finish_record(format_finish_record(record))->remote.empty());
    record.review_url = "https://gitlab.example.com/team/models/-/merge_requests/12";
    const std::string reviewed = format_finish_record(record);
    CHECK_THAT(reviewed, Catch::EndsWith("Review: https://gitlab.example.com/team/models/-/merge_requests/12\n"));
    CHECK(parse_finish_record(reviewed)->review_url == record.review_url);
    CHECK(parse_finish_record(text)->review_url.empty());
    CHECK_FALSE(parse_finish_record("reviewed by Ana\n"));
    CHECK_FALSE(parse_finish_record("Model-Finish: 1\nModel: x\nFinished: soon\n"));
    CHECK_FALSE(parse_finish_record("Model-Finish: 2\nModel: x\nFinished: 1\n"));
}
