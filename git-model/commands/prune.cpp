// git model prune [--dry-run] [--retention <duration>] [--force] [--remote | --no-remote] [--quiet] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/progress.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/prune/prune.hpp"
#include "gitmodel/prune/render.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/sweep/tidy.hpp"

#include <fmt/core.h>

#include <optional>

namespace po = boost::program_options;

namespace gm::commands {

int prune(const cli::Args& args) {
    const std::string usage =
        "git model prune [--dry-run] [--retention <duration>] [--force] [--remote | --no-remote] [--quiet] [--json]";
    po::options_description options("options");
    options.add_options()
        ("dry-run,n", "say exactly what would happen; change nothing")
        ("retention", po::value<std::string>()->value_name("<duration>"),
         "how long merged branches stay (default: model.prune.retention, else 14d)")
        ("force", "also prune stale unmerged branches, dirty or locked worktrees and unpushed commits (here only)")
        ("remote", "also archive and delete merged model branches on model.remote (default: model.prune.remote)")
        ("no-remote", "prune only here, whatever model.prune.remote says")
        ("quiet,q", "no progress while it works (shown only on a terminal anyway)")
        ("json", "print a JSON document (shape in git-model(1))");
    const auto parsed = cli::parse_command(args, usage, options);
    if (!parsed) return 0;
    const auto& vm = *parsed;
    prune::PruneRequest request;
    request.dry_run = vm.count("dry-run") > 0;
    request.force = vm.count("force") > 0;
    if (vm.count("retention"))
        request.retention_seconds = model::parse_retention(vm["retention"].as<std::string>(), "--retention", true);
    if (vm.count("remote") && vm.count("no-remote"))
        throw UsageError("--remote and --no-remote exclude each other", "usage: " + usage);
    if (vm.count("remote")) request.remote = true;
    if (vm.count("no-remote")) request.remote = false;
    const bool json = vm.count("json") > 0;

    git::Library library;
    auto repo = git::Repository::discover();
    // Progress as it happens goes to a terminal only; the summary below says it all again.
    const bool live = progress_wanted(json || vm.count("quiet") > 0);
    std::optional<Progress> progress;
    // Sweeps are wired in here, above prune's layer: their runs go with their model (sweep/tidy.cpp).
    const auto swept = sweep::prune_with_sweeps(
        repo, request,
        [&](const std::string& line) {
            if (!live) return;
            if (progress) progress->note(line);
            else fmt::print(stderr, "{}\n", line);
        },
        [&](std::size_t done, std::size_t total, const std::string& model) {
            if (!progress) progress.emplace("Pruning", "model", total, live);
            progress->update(done, model);
        });
    if (progress) progress->finish();
    const auto& result = swept.prune;
    if (json) {
        auto document = prune::prune_json(result.plan, result.outcomes, result.options, request.dry_run);
        document["remote"] = result.remote ? prune::remote_prune_json(*result.remote) : nlohmann::json(nullptr);
        document["restored"] = result.restored;
        document["sweeps"] = nlohmann::json::array();
        for (const auto& plan : swept.sweeps) document["sweeps"].push_back(sweep::tidy_json(plan));
        fmt::print("{}\n", json_text(document));
    } else {
        for (const auto& line : result.restored) fmt::print("{}\n", line);
        fmt::print("{}", prune::render_prune(result.plan, result.outcomes, request.dry_run));
        if (result.remote) fmt::print("{}", prune::render_remote_prune(*result.remote, request.dry_run));
        for (const auto& plan : swept.sweeps) fmt::print("{}", sweep::render_tidy(plan, request.dry_run));
    }
    return swept.failed ? 1 : 0;
}

}  // namespace gm::commands
