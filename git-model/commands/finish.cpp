// git model finish [<model>] [--merge]
#include "../command_table.hpp"

#include "gitmodel/git/repository.hpp"
#include "gitmodel/lifecycle/finish.hpp"
#include "gitmodel/lifecycle/model_context.hpp"
#include "gitmodel/lifecycle/render.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int finish(const cli::Args& args) {
    const std::string usage = "git model finish [<model>] [--merge]";
    po::options_description options("options");
    options.add_options()
        ("merge", "merge into the base here with --no-ff instead of pushing for review (needs model.finish.merge allow)");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    git::Library library;
    auto repo = git::Repository::discover();
    lifecycle::FinishRequest request;
    request.model = lifecycle::resolve_model_name(
        repo, vm.count("model") ? std::optional<std::string>(vm["model"].as<std::string>()) : std::nullopt);
    request.merge = vm.count("merge") > 0;
    const auto result = lifecycle::finish_model(repo, request);
    if (result.mode == "merge") {
        fmt::print("Merged {} into {} ({}).\n", result.branch, result.base, result.merge_commit->substr(0, 10));
    } else {
        fmt::print("Pushed {} to {}.\n", result.branch, result.remote);
        if (result.mode == "merge-request")
            fmt::print("Merge request into {} requested with push options.\n", result.base);
        if (result.review.review_url)
            fmt::print("{}: {}\n", result.mode == "merge-request" ? "Merge request" : "Open the pull request",
                       *result.review.review_url);
        else if (result.mode == "push")
            fmt::print("The remote has no web address to open a review at; set model.forgeUrl to get a link.\n");
    }
    fmt::print("Finished model '{}' at {} ({}).\n", result.model, result.head.substr(0, 10),
               lifecycle::format_local_time(result.finished_at));
    return 0;
}

}  // namespace gm::commands
