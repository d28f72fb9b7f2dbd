// git model start <name> [--base <ref>] [--no-worktree]
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/start.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int start(const cli::Args& args) {
    const std::string usage = "git model start [--base <ref>] [--no-worktree] <name>";
    po::options_description options("options");
    options.add_options()
        ("base", po::value<std::string>()->value_name("<ref>"), "branch, tag or commit to start from (default: model.baseBranch, else main)")
        ("no-worktree", "create the branch and switch to it here instead of a new worktree")
        ("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("name", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("name", 1);
    const auto vm = cli::parse(args, usage, options, positional, hidden);
    if (vm.count("help")) {
        cli::print_usage(usage, options);
        return 0;
    }
    if (!vm.count("name")) throw UsageError("missing the model name", "usage: " + usage);

    model::StartRequest request;
    request.model = vm["name"].as<std::string>();
    const auto verdict = naming::check_model_name(request.model);
    if (!verdict.valid) {
        throw UsageError(fmt::format("invalid model name {}: it {}", quote_for_message(request.model), verdict.rule),
                         "model names use a-z, 0-9, '.', '_' and '-', begin and end with a letter or digit, "
                         "and are at most 64 characters");
    }
    if (vm.count("base")) request.base = vm["base"].as<std::string>();
    request.in_place = vm.count("no-worktree") > 0;

    git::Library library;
    auto repo = git::Repository::discover();
    const auto result = model::start_model(repo, request);
    for (const auto& line : result.recovered) warn("git-model", line);
    if (result.worktree) {
        fmt::print("Started model '{}' on branch {} (from {}).\nWorktree: {}\n", request.model, result.branch,
                   result.base, result.worktree->string());
        fmt::print("  cd {}\n", result.worktree->string());
    } else {
        fmt::print("Started model '{}' on branch {} (from {}), switched to it here.\n", request.model, result.branch,
                   result.base);
    }
    return 0;
}

}  // namespace gm::commands
