// `git model ci init`'s pipelines: what they contain, quoting, and never overwriting by accident.
// (tests/e2e/t-ci.sh parses the written YAML with a real YAML parser.)
#include "gitmodel/ci/pipeline.hpp"
#include "gitmodel/core/error.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace gm::ci;
namespace fs = std::filesystem;

TEST_CASE("ci: both pipelines run the tests on feature/* and the GPU job on model branches", "[ci]") {
    PipelineOptions options;
    options.image = "ghcr.io/team/torch:2.3@sha256:" + std::string(64, 'a');
    const auto gitlab = render_pipeline(Forge::gitlab, options);
    CHECK_THAT(gitlab, Catch::Contains("image: \"" + options.image + "\"") && Catch::Contains("tags: [gpu]") &&
                           Catch::Contains("=~ /^feature\\//'") && Catch::Contains("=~ /^feature\\/model-/'") &&
                           Catch::Contains("- git model bench --quick\n    - \"python train.py\""));
    const auto github = render_pipeline(Forge::github, options);
    CHECK_THAT(github, Catch::Contains("runs-on: [self-hosted, gpu]") && Catch::Contains("options: --gpus 1") &&
                           Catch::Contains("branches: ['feature/**']") &&
                           Catch::Contains("startsWith(github.ref_name, 'feature/model-')"));
    CHECK(pipeline_path(Forge::gitlab) == ".gitlab-ci.yml");
    CHECK(pipeline_path(Forge::github) == fs::path(".github/workflows/git-model.yml"));
}

TEST_CASE("ci: commands are quoted as YAML scalars", "[ci]") {
    CHECK(yaml_quote("python -m pytest -q") == "\"python -m pytest -q\"");
    CHECK(yaml_quote("echo \"a: b\" # c") == "\"echo \\\"a: b\\\" # c\"");
    CHECK(yaml_quote("a\\b") == "\"a\\\\b\"");
}

TEST_CASE("ci: the training command comes from .modelenv.yaml's command", "[ci]") {
    auto env = gm::config::load_modelenv_text("image: ghcr.io/team/torch:2.3\n", "t");
    CHECK(default_train_command(env) == "python train.py");
    env = gm::config::load_modelenv_text("image: ghcr.io/team/torch:2.3\ncommand: python fit.py --fast\n", "t");
    CHECK(default_train_command(env) == "python fit.py --fast");
    env = gm::config::load_modelenv_text(
        "image: ghcr.io/team/torch:2.3\ncommand: [python, fit.py, --name, \"it's here\"]\n", "t");
    CHECK(default_train_command(env) == "python fit.py --name 'it'\\''s here'");
}

TEST_CASE("ci: write_pipeline refuses to overwrite without force", "[ci]") {
    const fs::path root = fs::temp_directory_path() / ("gm-ci-unit-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    PipelineOptions options;
    options.image = "ghcr.io/team/torch:2.3";
    const auto path = write_pipeline(root, Forge::github, options, false);
    CHECK(path == root / ".github/workflows/git-model.yml");
    REQUIRE(fs::exists(path));
    {
        std::ofstream(path) << "mine\n";
    }
    CHECK_THROWS_AS(write_pipeline(root, Forge::github, options, false), gm::Error);
    std::stringstream kept;
    kept << std::ifstream(path).rdbuf();
    CHECK(kept.str() == "mine\n");
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);  // a private file stays private
    write_pipeline(root, Forge::github, options, true);
    std::stringstream replaced;
    replaced << std::ifstream(path).rdbuf();
    CHECK_THAT(replaced.str(), Catch::Contains("name: git-model"));
    CHECK((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    fs::remove_all(root);
}

TEST_CASE("ci: --update rewrites only the marked image lines and finds them again") {
    const std::string text = "# mine\r\ntest:\r\n  image: \"old:1\"  # follows .modelenv.yaml\r\n  script:\r\n"
                             "    - \"pytest\"\r\n# image: in a comment\r\nlint:\r\n  image: \"python:3.12\"\r\n"
                             "gpu:\r\n  image: 'old:1' # follows .modelenv.yaml\r\n";
    CHECK(gm::ci::pipeline_images(text) == std::vector<std::string>{"old:1", "old:1"});
    const auto updated = gm::ci::update_pipeline_images(text, "new:2");
    CHECK(updated == "# mine\r\ntest:\r\n  image: \"new:2\"  # follows .modelenv.yaml\r\n  script:\r\n"
                     "    - \"pytest\"\r\n# image: in a comment\r\nlint:\r\n  image: \"python:3.12\"\r\n"
                     "gpu:\r\n  image: \"new:2\" # follows .modelenv.yaml\r\n");
    CHECK(gm::ci::pipeline_images(updated) == std::vector<std::string>{"new:2", "new:2"});
    CHECK_FALSE(gm::ci::is_generated_pipeline(text));
}

TEST_CASE("ci: the mark is found whatever its case and spacing, a note after it kept; a comment is no part of the image") {
    const std::string text = "a:\n  image: x:1 #follows .modelenv.yaml\nb:\n  image: \"x:1\"  #  Follows  .ModelEnv.yaml (gpu job)\n"
                             "c:\n  image: python:3.12-slim   # our lint image\n";
    CHECK(gm::ci::pipeline_images(text) == std::vector<std::string>{"x:1", "x:1"});
    CHECK(gm::ci::update_pipeline_images(text, "x:2") ==
          "a:\n  image: \"x:2\" #follows .modelenv.yaml\nb:\n  image: \"x:2\"  #  Follows  .ModelEnv.yaml (gpu job)\n"
          "c:\n  image: python:3.12-slim   # our lint image\n");
}

TEST_CASE("ci: a file without the mark (an older git-model's) follows the pin in the generated jobs' image lines only") {
    const std::string text = "test:\n  stage: test\n  image: \"old:1\"\nlint:\n  image: \"python:3.12-slim\"\n"
                             "svc:\n  image:\n    name: \"redis:7\"\n    entrypoint: [\"\"]\n"
                             "job:\n  script: |\n    image: nginx:1.25\ngpu-train:\n  script:\n    - x\n  image: old:1\n";
    CHECK(gm::ci::pipeline_images(text) == std::vector<std::string>{"old:1", "old:1"});
    CHECK(gm::ci::update_pipeline_images(text, "new:2") ==
          "test:\n  stage: test\n  image: \"new:2\"  # follows .modelenv.yaml\nlint:\n  image: \"python:3.12-slim\"\n"
          "svc:\n  image:\n    name: \"redis:7\"\n    entrypoint: [\"\"]\n"
          "job:\n  script: |\n    image: nginx:1.25\ngpu-train:\n  script:\n    - x\n  image: \"new:2\"  # follows .modelenv.yaml\n");
    // GitHub's: jobs.<job>.container.image
    const std::string github = "jobs:\n  test:\n    container:\n      image: \"old:1\"\n  docs:\n    container:\n"
                               "      image: \"sphinx:7\"\n";
    CHECK(gm::ci::pipeline_images(github) == std::vector<std::string>{"old:1"});
}

TEST_CASE("ci: the generated pipelines mark every image line, so they follow the pin") {
    gm::ci::PipelineOptions options;
    options.image = "reg/x:1";
    for (const auto forge : {Forge::gitlab, Forge::github}) {
        const std::string text = gm::ci::render_pipeline(forge, options);
        CHECK(gm::ci::pipeline_images(text) == std::vector<std::string>{"reg/x:1", "reg/x:1"});
        CHECK(gm::ci::pipeline_images(gm::ci::update_pipeline_images(text, "reg/x:2")) ==
              std::vector<std::string>{"reg/x:2", "reg/x:2"});
    }
}

TEST_CASE("ci: an anchor before the pinned value stays, and the aliases that name it follow it", "[ci]") {
    const std::string text = "test:\n  image: &pinned \"reg/pt:1\"  # follows .modelenv.yaml\n"
                             "gpu-train:\n  image: *pinned\nlint:\n  image: &lint python:3.12\n";
    CHECK(pipeline_images(text) == std::vector<std::string>{"reg/pt:1"});
    CHECK(pipeline_image_problems(text).empty());
    CHECK(update_pipeline_images(text, "reg/pt:2") ==
          "test:\n  image: &pinned \"reg/pt:2\"  # follows .modelenv.yaml\n"
          "gpu-train:\n  image: *pinned\nlint:\n  image: &lint python:3.12\n");
}

TEST_CASE("ci: GitLab's mapping form of a marked image has its name: rewritten", "[ci]") {
    const std::string text = "test:\n  image:  # follows .modelenv.yaml\n    # the tool's own entrypoint\n"
                             "    entrypoint: [\"\"]\n    name: 'reg/pt:1'\n  script: [x]\n";
    CHECK(pipeline_images(text) == std::vector<std::string>{"reg/pt:1"});
    CHECK(pipeline_image_problems(text).empty());
    CHECK(update_pipeline_images(text, "reg/pt:2") ==
          "test:\n  image:  # follows .modelenv.yaml\n    # the tool's own entrypoint\n"
          "    entrypoint: [\"\"]\n    name: \"reg/pt:2\"\n  script: [x]\n");
    // an older file's generated job in that form, too
    const std::string older = "test:\n  image:\n    name: old:1\n";
    CHECK(update_pipeline_images(older, "new:2") == "test:\n  image:\n    name: \"new:2\"\n");
}

TEST_CASE("ci: a marked image that cannot be rewritten in place is named, line by line, and left alone", "[ci]") {
    const std::string text = "a:\n  image: *pinned  # follows .modelenv.yaml\n"
                             "b:\n  image:  # follows .modelenv.yaml\n    entrypoint: [\"\"]\n"
                             "c:\n  image: {name: x}  # follows .modelenv.yaml\n"
                             "d:\n  image: !reference [.base, image]  # follows .modelenv.yaml\n"
                             "e:\n  image:  # follows .modelenv.yaml\n";
    const auto problems = pipeline_image_problems(text);
    REQUIRE(problems.size() == 5);
    CHECK_THAT(problems[0], Catch::StartsWith("line 2: its value is an alias"));
    CHECK_THAT(problems[1], Catch::StartsWith("line 4: the image is a mapping without a name:"));
    CHECK_THAT(problems[2], Catch::StartsWith("line 7: its value is written in flow syntax"));
    CHECK_THAT(problems[3], Catch::StartsWith("line 9: its value carries a YAML tag"));
    CHECK_THAT(problems[4], Catch::StartsWith("line 11: the image is a mapping without a name:"));
    CHECK(update_pipeline_images(text, "x:2") == text);
}

TEST_CASE("ci: only the mapping's own name: is the image, and a script's text is never YAML", "[ci]") {
    const std::string text = "test:\n  image:  # follows .modelenv.yaml\n    docker:\n      name: keepme\n"
                             "    name: reg.example/old:1\n  script:\n    - |\n      cat > child.yml <<EOF\n"
                             "      image: other:1  # follows .modelenv.yaml\n      EOF\n    - echo done\n";
    CHECK(pipeline_images(text) == std::vector<std::string>{"reg.example/old:1"});
    CHECK(pipeline_image_problems(text).empty());
    CHECK(update_pipeline_images(text, "reg.example/new:2") ==
          "test:\n  image:  # follows .modelenv.yaml\n    docker:\n      name: keepme\n"
          "    name: \"reg.example/new:2\"\n  script:\n    - |\n      cat > child.yml <<EOF\n"
          "      image: other:1  # follows .modelenv.yaml\n      EOF\n    - echo done\n");
    // a file whose only mark is in a script's text has no marked line: the generated jobs' own follow
    const std::string scripted = "test:\n  image: old:1\n  script: >-\n    image: x  # follows .modelenv.yaml\n";
    CHECK(pipeline_images(scripted) == std::vector<std::string>{"old:1"});
}
