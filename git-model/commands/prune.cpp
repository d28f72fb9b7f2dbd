// git model prune [--dry-run] [--retention <duration>] [--force] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/lifecycle/prune.hpp"
#include "gitmodel/lifecycle/render.hpp"
#include "gitmodel/lifecycle/settings.hpp"

#include <fmt/core.h>

#include <unistd.h>

namespace po = boost::program_options;

namespace gm::commands {

int prune(const cli::Args& args) {
    const std::string usage = "git model prune [--dry-run] [--retention <duration>] [--force] [--json]";
    po::options_description options("options");
    options.add_options()
        ("dry-run,n", "say exactly what would happen; change nothing")
        ("retention", po::value<std::string>()->value_name("<duration>"),
         "how long merged branches stay (default: model.prune.retention, else 14d)")
        ("force", "also prune stale unmerged branches, dirty or locked worktrees and unpushed commits")
        ("json", "print a JSON document (shape in git-model(1))");
    const auto parsed = cli::parse_command(args, usage, options);
    if (!parsed) return 0;
    const auto& vm = *parsed;
    lifecycle::PruneRequest request;
    request.dry_run = vm.count("dry-run") > 0;
    request.force = vm.count("force") > 0;
    if (vm.count("retention"))
        request.retention_seconds = lifecycle::parse_retention(vm["retention"].as<std::string>(), "--retention", true);
    const bool json = vm.count("json") > 0;

    git::Library library;
    auto repo = git::Repository::discover();
    // Progress as it happens goes to a terminal only; the summary below says it all again.
    const bool live = !json && ::isatty(STDERR_FILENO);
    const auto result = lifecycle::run_prune(repo, request, [&](const std::string& line) {
        if (live) fmt::print(stderr, "{}\n", line);
    });
    if (json) fmt::print("{}\n", json_text(lifecycle::prune_json(result.plan, result.outcomes, result.options, request.dry_run)));
    else fmt::print("{}", lifecycle::render_prune(result.plan, result.outcomes, request.dry_run));
    return result.failed ? 1 : 0;
}

}  // namespace gm::commands
