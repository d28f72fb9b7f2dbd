// git model sweep clean: remove the worktrees of a sweep's finished runs; with --branches, the
// runs' branches too, after archiving the promoted (else best) run's commit.
#include "sweep.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/progress.hpp"
#include "gitmodel/sweep/operations.hpp"
#include "gitmodel/sweep/tidy.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

namespace {

namespace po = boost::program_options;

const char* const clean_usage =
    "git model sweep clean <id> [--branches [--metric <name>] [--minimize|--maximize] [--force] [--dry-run]]";

// sweep clean <id> --branches: the logic is sweep::tidy_sweep (lib/gitmodel/sweep/tidy.cpp).
int clean_branches(const po::variables_map& vm, git::Repository& repo, const std::string& id) {
    if (vm.count("minimize") && vm.count("maximize")) throw UsageError("--minimize and --maximize exclude each other");
    sweep::TidyRequest request;
    if (vm.count("metric")) request.metric = vm["metric"].as<std::string>();
    request.minimize = vm.count("minimize") > 0;
    request.maximize = vm.count("maximize") > 0;
    request.force = vm.count("force") > 0;
    request.dry_run = vm.count("dry-run") > 0;
    // Each step as it happens on a terminal's stderr; the summary below says it all again.
    const bool live = progress_wanted(false);
    const auto plan = sweep::tidy_sweep(repo, sweep::load_for_tidy(repo, id), request, [live](const std::string& line) {
        if (live) fmt::print(stderr, "{}\n", line);
    });
    fmt::print("{}", sweep::render_tidy(plan, request.dry_run));
    if (!plan.refusal.empty()) return 1;
    if (request.dry_run) return 0;
    return plan.kept() > 0 || !plan.push_error.empty() ? 1 : 0;
}

}  // namespace

int clean(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()
        ("branches", "also delete the runs' branches, after archiving the promoted (else best) run's commit")
        ("metric", po::value<std::string>()->value_name("<name>"), "--branches: the best run by this metric (as report)")
        ("minimize", "--branches: lower is better")
        ("maximize", "--branches: higher is better")
        ("force", "--branches: also runs with changes, untracked files or commits nothing else holds")
        ("dry-run,n", "--branches: say what would happen; change nothing");
    const auto parsed = cli::parse_command(args, clean_usage, options, "id");
    if (!parsed) return 0;
    git::Library library;
    auto repo = open_repository();
    if (parsed->count("branches")) return clean_branches(*parsed, repo, required_id(*parsed, "clean"));
    for (const char* option : {"metric", "minimize", "maximize", "force", "dry-run"})
        if (parsed->count(option)) throw UsageError(fmt::format("--{} goes with --branches", option));
    const auto sweep = sweep::load(repo.common_dir(), required_id(*parsed, "clean"));
    const auto cleaned = sweep::clean_sweep(repo, sweep);
    for (const auto& line : cleaned.lines) fmt::print("{}\n", line);
    fmt::print("Cleaned sweep {}: {} worktree{} removed, {} kept; branches and snapshots are kept\n", sweep.id,
               cleaned.removed, cleaned.removed == 1 ? "" : "s", cleaned.kept);
    return 0;
}

}  // namespace gm::commands::sweep_commands
