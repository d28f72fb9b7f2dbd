// Talking to a remote: git push --porcelain read ref by ref, what GitLab and GitHub say about a
// branch's review in a push's output, git ls-remote with peeled tags, git's own words for messages.
#include "gitmodel/git/push.hpp"

#include <catch2/catch.hpp>

using namespace gm::git;

TEST_CASE("push --porcelain: each ref's fate", "[git]") {
    const auto refs = parse_push_porcelain(
        "To /srv/team.git\n"
        "*\trefs/heads/feature/model-a:refs/heads/feature/model-a\t[new branch]\n"
        "=\trefs/tags/model/a/v1:refs/tags/model/a/v1\t[up to date]\n"
        " \trefs/notes/git-model:refs/notes/git-model\t7b4cbd7..a0ebf83\n"
        "!\trefs/tags/model/a/v2:refs/tags/model/a/v2\t[rejected] (already exists)\n"
        "!\t(delete):refs/heads/feature/model-b\t[rejected] (stale info)\n"
        "-\t:refs/heads/feature/model-c\t[deleted]\n"
        "+\trefs/heads/x:refs/heads/x\t1a2b3c...4d5e6f (forced update)\n"
        "Done\n");
    REQUIRE(refs.size() == 7);
    CHECK(refs[0].sent());
    CHECK(refs[0].summary == "[new branch]");
    CHECK(refs[1].up_to_date());
    CHECK_FALSE(refs[1].sent());
    CHECK(refs[2].sent());
    CHECK(refs[2].to == "refs/notes/git-model");
    CHECK(refs[3].flag == '!');
    CHECK(refs[3].reason == "already exists");
    CHECK(refs[3].summary == "[rejected]");
    CHECK(refs[4].from == "(delete)");
    CHECK(refs[4].to == "refs/heads/feature/model-b");
    CHECK(refs[4].reason == "stale info");
    CHECK(refs[5].flag == '-');
    CHECK(refs[5].from.empty());
    CHECK(refs[6].reason == "forced update");
    CHECK(parse_push_porcelain("").empty());
    CHECK(parse_push_porcelain("To x\nDone\n").empty());
}

TEST_CASE("push: why a ref (or the whole push) failed", "[git]") {
    PushResult result;
    result.run.exit_code = 1;
    result.run.out = "To x\n!\trefs/tags/t:refs/tags/t\t[remote rejected] (pre-receive hook declined)\nDone\n";
    result.run.err = "remote: tags are frozen this week        \nerror: failed to push some refs to 'x'\n";
    result.refs = parse_push_porcelain(result.run.out);
    CHECK(result.why("refs/tags/t") == "[remote rejected] (pre-receive hook declined): tags are frozen this week");
    // a hook that refused the whole push: no ref lines, its own words
    PushResult hooked;
    hooked.run.exit_code = 1;
    hooked.run.err = "git-model: push refused by the pre-push hook (1 problem); nothing was pushed.\n"
                     "hint: something\nerror: failed to push some refs to 'x'\n";
    CHECK(hooked.find("refs/tags/t") == nullptr);
    CHECK(hooked.why("refs/tags/t") == "git-model: push refused by the pre-push hook (1 problem); nothing was pushed.");
    CHECK(git_said("fatal: unable to access 'https://x/': Could not resolve host: x\n") ==
          "fatal: unable to access 'https://x/': Could not resolve host: x");
}

TEST_CASE("forge replies: GitLab's merge request lines, GitHub's pull request line", "[git]") {
    const auto gitlab = parse_forge_reply(
        "remote: \nremote: View merge request for feature/model-a:        \n"
        "remote:   https://gitlab.example.com/team/models/-/merge_requests/12        \nremote: \n"
        "To gitlab.example.com:team/models.git\n",
        "feature/model-a");
    REQUIRE(gitlab.review_url);
    CHECK(*gitlab.review_url == "https://gitlab.example.com/team/models/-/merge_requests/12");
    CHECK_FALSE(gitlab.create_url);
    // another branch's line is not ours
    CHECK_FALSE(parse_forge_reply("remote: View merge request for feature/model-b:\nremote:   https://x/1\n",
                                  "feature/model-a")
                    .review_url);
    const auto create = parse_forge_reply(
        "remote:\nremote: To create a merge request for feature/model-a, visit:\n"
        "remote:   https://gitlab.example.com/team/models/-/merge_requests/new?merge_request%5Bsource_branch%5D=feature%2Fmodel-a\n",
        "feature/model-a");
    CHECK_FALSE(create.review_url);
    REQUIRE(create.create_url);
    CHECK_THAT(*create.create_url, Catch::EndsWith("source_branch%5D=feature%2Fmodel-a"));
    const auto github = parse_forge_reply(
        "remote: \nremote: Create a pull request for 'feature/model-a' on GitHub by visiting:\n"
        "remote:      https://github.com/owner/models/pull/new/feature/model-a\nremote: \n",
        "feature/model-a");
    REQUIRE(github.create_url);
    CHECK(*github.create_url == "https://github.com/owner/models/pull/new/feature/model-a");
    // a line that is not a web address is not taken for one
    CHECK_FALSE(parse_forge_reply("remote: View merge request for b:\nremote:   see the web page\n", "b").review_url);
    CHECK_FALSE(parse_forge_reply("", "b").review_url);
}

TEST_CASE("ls-remote: refs, annotated tags and their commits", "[git]") {
    const auto refs = parse_ls_remote(
        "f18f76a3285d14849e4dbd28e2f9d833a058048b\tHEAD\n"
        "f18f76a3285d14849e4dbd28e2f9d833a058048b\trefs/heads/main\n"
        "7ad4c23bb68825cf95b0d827b42484a604b4f5d0\trefs/tags/model/a/v1\n"
        "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567\trefs/tags/model/a/v1^{}\n"
        "1111111111111111111111111111111111111111\trefs/tags/light\n");
    REQUIRE(refs.size() == 4);
    CHECK(refs.at("refs/heads/main").commit() == "f18f76a3285d14849e4dbd28e2f9d833a058048b");
    CHECK(refs.at("refs/tags/model/a/v1").object == "7ad4c23bb68825cf95b0d827b42484a604b4f5d0");
    CHECK(refs.at("refs/tags/model/a/v1").commit() == "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
    CHECK(refs.at("refs/tags/light").commit() == "1111111111111111111111111111111111111111");
    CHECK(parse_ls_remote("").empty());
}
