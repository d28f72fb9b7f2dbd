// git model sweep promote <id> [--run <k>] [--metric <name>] [--minimize|--maximize] [--no-push]:
// the chosen run's params.json (and --carry files) committed onto the model's branch and snapshotted.
#include "sweep.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/sweep/create.hpp"
#include "gitmodel/sweep/promote.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands::sweep_commands {

int promote(const cli::Args& args) {
    const std::string usage = "git model sweep promote <id> [--run <k>] [--metric <name>] [--minimize|--maximize] [--no-push]";
    po::options_description options("options");
    options.add_options()
        ("run", po::value<int>()->value_name("<k>"), "promote this run (default: the best finished run)")
        ("metric", po::value<std::string>()->value_name("<name>"), "the best run by this metric (default: the first one written)")
        ("minimize", "lower is better; default: as the metric's name implies (loss, error, ... lowest first)")
        ("maximize", "higher is better; default: as the metric's name implies")
        ("no-push", "keep the snapshot tag here this time (default: push it as `git model tag` does, see model.tag.push)");
    const auto parsed = cli::parse_command(args, usage, options, "id");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    sweep::PromoteRequest request;
    const auto id = cli::positional(vm, "id");
    if (!id) throw UsageError("git model sweep promote needs the sweep's id", "`git model sweep status` lists the sweeps");
    request.sweep_id = *id;
    if (vm.count("minimize") && vm.count("maximize")) throw UsageError("--minimize and --maximize exclude each other", "usage: " + usage);
    if (vm.count("run")) {
        request.run = vm["run"].as<int>();
        if (*request.run < 1) throw UsageError(fmt::format("--run must be at least 1 (got {})", *request.run));
    }
    if (vm.count("metric")) request.metric = vm["metric"].as<std::string>();
    request.minimize = vm.count("minimize") > 0;
    request.maximize = vm.count("maximize") > 0;
    request.push = vm.count("no-push") == 0;

    git::Library library;
    auto repo = open_repository();
    const auto outcome = sweep::promote(repo, request);
    if (outcome.already) {
        fmt::print("Run {} of sweep {} is already promoted: {} holds its files ({}) and {} records it\n", outcome.run,
                   outcome.sweep_id, outcome.model_branch, join(outcome.paths, ", "), *outcome.already);
        if (const auto& push = outcome.already_pushed; push && !push->pushed)
            gm::warn("git-model", fmt::format("{} is not on {}: {}\n  {}", *outcome.already, push->remote, push->problem, push->fix));
        else if (push)
            fmt::print("{} is on {}.\n", *outcome.already, push->remote);
        return 0;
    }
    const auto& snapshot = outcome.tagged->snapshot;
    if (outcome.commit)
        fmt::print("Promoted run {} of sweep {} onto {}: commit {} ({})\n", outcome.run, outcome.sweep_id, outcome.model_branch,
                   outcome.commit->substr(0, 10), join(outcome.paths, ", "));
    else
        fmt::print("{} already holds run {}'s files ({}): snapshotting its head\n", outcome.model_branch, outcome.run,
                   join(outcome.paths, ", "));
    if (outcome.metrics_left_out)
        gm::warn("git-model", fmt::format("run {} reported {} metrics; {} records the first {} (the one ranked by "
                                          "first) and leaves {} out, which the run's metrics.json still holds",
                                          outcome.run, outcome.metrics.size() + outcome.metrics_left_out, snapshot.tag,
                                          outcome.metrics.size(), outcome.metrics_left_out));
    fmt::print("Tagged {} at {}{}\n", snapshot.tag, snapshot.commit.substr(0, 10),
               snapshot.record.metrics.empty() ? "" : ": " + snapshots::inline_metrics(snapshot.record.metrics));
    if (snapshot.record.dirty)
        gm::warn("git-model", fmt::format("{} has other uncommitted changes: {} is marked dirty (Model-Dirty: {})",
                                      outcome.model_worktree.string(), snapshot.tag, snapshot.record.dirty->substr(0, 12)));
    const auto& push = outcome.tagged->push;
    if (push && !push->pushed)
        gm::warn("git-model", fmt::format("{} was made here but not pushed to {}: {}\n  {}", snapshot.tag, push->remote,
                                      push->problem, push->fix));
    if (push && push->pushed) fmt::print("Pushed {} to {}.\n", snapshot.tag, push->remote);
    return 0;
}

}  // namespace gm::commands::sweep_commands
