// git model finish [<model>] [--merge]
#include "../command_table.hpp"

#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/finish/finish.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/model/lookup.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

namespace {

// What the push did about review, in words that claim only what happened.
void print_review(const finish::FinishResult& result) {
    const auto& review = result.review;
    const bool gitlab = result.mode == "merge-request";
    if (!result.answer_lost.empty()) {
        fmt::print("The push's answer was lost ({}), but {} now has {} at {}: this push most likely landed{}.\n",
                   result.answer_lost, result.remote, result.branch, result.head.substr(0, 10),
                   gitlab ? ", and with it the merge request's push options" : "");
        if (result.server.review_url) fmt::print("Merge request: {}\n", *result.server.review_url);
        else if (review.review_url)
            fmt::print("{}: {}\n", gitlab ? "Check that the merge request is open" : "Open the pull request (unless it is open already)",
                       *review.review_url);
        return;
    }
    if (!result.branch_sent) {
        fmt::print("Nothing to push: {} already has {} at {}.\n", result.remote, result.branch,
                   result.head.substr(0, 10));
        if (gitlab)
            fmt::print("No merge request was requested: push options only travel with a push that changes the "
                       "branch.\n");
        if (result.earlier && !result.earlier->review_url.empty())
            fmt::print("Merge request (named by {} at the earlier finish): {}\n", result.remote,
                       result.earlier->review_url);
        else if (result.server.review_url)
            fmt::print("Merge request: {}\n", *result.server.review_url);
        else if (review.review_url)
            fmt::print("{}: {}\n", gitlab ? "Open one, or find the open one" : "Open the pull request (unless it is open already)",
                       *review.review_url);
        return;
    }
    fmt::print("Pushed {} to {}.\n", result.branch, result.remote);
    if (result.review_requested) {
        fmt::print("Merge request into {} requested with push options.\n", result.base);
        if (result.server.review_url) fmt::print("Merge request: {}\n", *result.server.review_url);
        else if (review.review_url)
            fmt::print("{} did not name the merge request; find it (or open one) at: {}\n", result.remote,
                       *review.review_url);
    } else if (review.review_url) {
        fmt::print("Open the pull request: {}\n", result.server.create_url ? *result.server.create_url : *review.review_url);
    } else if (result.mode == "push") {
        fmt::print("The remote has no web address to open a review at; set model.forgeUrl to get a link.\n");
    }
}

}  // namespace

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
    finish::FinishRequest request;
    request.model = model::resolve_model_name(
        repo, vm.count("model") ? std::optional<std::string>(vm["model"].as<std::string>()) : std::nullopt);
    request.merge = vm.count("merge") > 0;
    const auto result = finish::finish_model(repo, request);
    for (const auto& line : result.recovered) fmt::print("{}\n", line);
    if (result.mode == "merge") {
        fmt::print("Merged {} into {} ({}).\n", result.branch, result.base, result.merge_commit->substr(0, 10));
    } else {
        print_review(result);
    }
    if (result.shared) {
        const auto& shared = *result.shared;
        for (const auto& moved : shared.moved)
            warn("git-model", fmt::format("{}: a snapshot made here and never pushed, whose number a teammate's took "
                                          "on {} meanwhile, has the next free number now",
                                          moved, shared.remote));
        std::vector<std::string> sent = shared.tags_sent;
        if (shared.notes_sent) sent.push_back("the finish notes");
        if (!sent.empty()) fmt::print("Pushed to {}: {}.\n", shared.remote, join(sent, ", "));
        for (const auto& problem : shared.problems) warn("git-model", problem);
    }
    if (result.earlier)
        fmt::print("Model '{}' was finished at {} already ({}); that record stays.\n", result.model,
                   result.head.substr(0, 10), snapshots::format_local_time(result.finished_at));
    else
        fmt::print("Finished model '{}' at {} ({}).\n", result.model, result.head.substr(0, 10),
                   snapshots::format_local_time(result.finished_at));
    return 0;
}

}  // namespace gm::commands
