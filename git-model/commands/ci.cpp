// git model ci init (--gitlab | --github) [--force] [--test-command <cmd>] [--train-command <cmd>]
#include "../command_table.hpp"

#include "gitmodel/ci/pipeline.hpp"
#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

namespace {

// A runner pulls the image from a registry: a localhost/ image exists only on the machine that built it.
void warn_unpullable(const config::ImageRef& image) {
    if (image.registry != "localhost" && image.registry.rfind("localhost:", 0) != 0 && image.registry != "127.0.0.1")
        return;
    fmt::print(stderr,
               "git-model: warning: the pipeline's image {} is local to this machine: a CI runner cannot pull it.\n"
               "  push it to a registry the runners reach (podman push), pin that name in .modelenv.yaml\n"
               "  (with an Image-Change: reason), then: git model ci init --update\n",
               image.to_string());
}

}  // namespace

int ci(const cli::Args& args) {
    const std::string usage =
        "git model ci init (--gitlab | --github) [--force | --update] [--test-command <cmd>] [--train-command <cmd>]";
    po::options_description options("options");
    options.add_options()
        ("gitlab", "write .gitlab-ci.yml")
        ("github", "write .github/workflows/git-model.yml")
        ("force", "overwrite an existing pipeline file")
        ("update", "rewrite only the image lines of the existing pipeline file (from .modelenv.yaml), keeping your edits")
        ("test-command", po::value<std::string>()->value_name("<cmd>"), "the GPU-less tests (default: python -m pytest -q)")
        ("train-command", po::value<std::string>()->value_name("<cmd>"),
         "the short GPU training run (default: .modelenv.yaml's command, else python train.py)");
    const auto parsed = cli::parse_command(args, usage, options, "action");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    if (!vm.count("action")) throw UsageError("missing the action: init", "usage: " + usage);
    const std::string action = vm["action"].as<std::string>();
    if (action != "init") throw UsageError(fmt::format("unknown ci action '{}'", action), "usage: " + usage);
    if (vm.count("gitlab") == vm.count("github"))
        throw UsageError("say which CI service: --gitlab or --github", "usage: " + usage);
    const auto forge = vm.count("gitlab") ? ci::Forge::gitlab : ci::Forge::github;

    git::Library library;
    const auto repo = git::Repository::discover();
    const auto root = repo.workdir();
    if (!root) throw Error("a bare repository has no files for a pipeline", "run it in a worktree");
    const auto modelenv_path = *root / config::modelenv_file_name;
    std::error_code ec;
    if (!std::filesystem::exists(modelenv_path, ec)) {
        throw Error(fmt::format("no {} in {}: the pipeline runs in the image it pins", config::modelenv_file_name,
                                root->string()),
                    "write one (man gitmodelenv), check it with `git model env check`, then run this again");
    }
    const auto modelenv = config::load_modelenv_file(modelenv_path);

    if (vm.count("update")) {
        if (vm.count("force") || vm.count("test-command") || vm.count("train-command"))
            throw UsageError("--update rewrites only the image lines: it takes no --force, --test-command or --train-command",
                             "usage: " + usage);
        const auto written = ci::update_pipeline_file(*root, forge, modelenv.image.to_string());
        fmt::print("Updated {}: image {}; nothing else changed.\n", written.string(), modelenv.image.to_string());
        warn_unpullable(modelenv.image);
        return 0;
    }

    ci::PipelineOptions pipeline;
    pipeline.image = modelenv.image.to_string();
    pipeline.train_command = ci::default_train_command(modelenv);
    {
        // The team's commands (model.ci.test, model.ci.train), from .gitmodel or git config.
        const auto reader = git::open_reader();
        const git::LayeredConfig config(reader->config(), git::read_team_file(reader->config()));
        if (auto test = config.get_string("model.ci.test"); test && !test->empty()) pipeline.test_command = *test;
        if (auto train = config.get_string("model.ci.train"); train && !train->empty()) pipeline.train_command = *train;
    }
    if (vm.count("test-command")) pipeline.test_command = vm["test-command"].as<std::string>();
    if (vm.count("train-command")) pipeline.train_command = vm["train-command"].as<std::string>();
    if (pipeline.test_command.empty() || pipeline.train_command.empty())
        throw UsageError("--test-command and --train-command need a command");

    const auto written = ci::write_pipeline(*root, forge, pipeline, vm.count("force") > 0);
    fmt::print("Wrote {} (image {}).\n", written.string(), pipeline.image);
    warn_unpullable(modelenv.image);
    if (forge == ci::Forge::gitlab)
        fmt::print("Next: register a GitLab runner tagged 'gpu' that gives each job one GPU, put git-model in the image,\n"
                   "then commit the file: git add {} && git commit\n",
                   ci::pipeline_path(forge).string());
    else
        fmt::print("Next: add a self-hosted runner labelled 'gpu' (Docker with the NVIDIA container toolkit), put\n"
                   "git-model in the image, then commit the file: git add {} && git commit\n",
                   ci::pipeline_path(forge).string());
    return 0;
}

}  // namespace gm::commands
