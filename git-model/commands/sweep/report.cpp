// git model sweep report: the runs ranked by a metric; --tag-best snapshots the best.
#include "sweep.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/sweep/operations.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/report.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

namespace po = boost::program_options;

int report(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()
        ("metric", po::value<std::string>()->value_name("<name>"), "rank by this metric (default: the first one written)")
        ("minimize", "lower is better; default: as the metric's name implies (loss, error, ... lowest first)")
        ("maximize", "higher is better; default: as the metric's name implies")
        ("json", "print JSON (shape in git-model-sweep(1))")
        ("tag-best", "snapshot the best run with `git model tag` and its metrics");
    const auto parsed = cli::parse_command(args, "git model sweep report [<id>] [--metric <name>] [--minimize|--maximize] [--json] [--tag-best]",
                                           options, "id");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    if (vm.count("minimize") && vm.count("maximize"))
        throw UsageError("--minimize and --maximize exclude each other",
                         "usage: git model sweep report [<id>] [--metric <name>] [--minimize|--maximize] [--json] [--tag-best]");
    git::Library library;
    auto repo = open_repository();
    const auto sweep = sweep::find_sweep(repo, cli::positional(vm, "id"));
    const auto report = sweep::build_report(
        sweep::view_sweep(sweep), vm.count("metric") ? std::optional<std::string>(vm["metric"].as<std::string>()) : std::nullopt,
        vm.count("minimize") > 0, vm.count("maximize") > 0);
    std::optional<snapshots::Snapshot> tagged;
    if (vm.count("tag-best")) {
        auto best = sweep::tag_best_run(repo, sweep, report);
        tagged = std::move(best.snapshot);
        if (best.metrics_left_out)
            gm::warn("git-model", fmt::format("the best run reported {} metrics; {} records the first {} (the one ranked "
                                              "by first) and leaves {} out, which the run's metrics.json still holds",
                                              tagged->record.metrics.size() + best.metrics_left_out, tagged->tag,
                                              tagged->record.metrics.size(), best.metrics_left_out));
    }
    if (vm.count("json")) {
        auto document = sweep::report_json(report);
        document["tagged"] = tagged ? nlohmann::ordered_json(tagged->tag) : nlohmann::ordered_json(nullptr);
        fmt::print("{}\n", json_text(document));
        return 0;
    }
    fmt::print("{}", sweep::render_report(report));
    if (tagged) fmt::print("\nTagged {} at {} (run {})\n", tagged->tag, tagged->commit.substr(0, 10), report.results.front().run.spec.number);
    return 0;
}

}  // namespace gm::commands::sweep_commands
