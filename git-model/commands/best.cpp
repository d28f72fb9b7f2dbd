// git model best [<model>] --metric <name> [--min|--max] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/metrics.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/lookup.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int best(const cli::Args& args) {
    const std::string usage = "git model best [<model>] --metric <name> [--min|--max] [--json]";
    po::options_description options("options");
    options.add_options()
        ("metric", po::value<std::string>()->value_name("<name>"), "the metric to rank snapshots by")
        ("min", "the smallest value is best; default: as the metric's name implies (loss, error, ... smallest)")
        ("max", "the largest value is best; default: as the metric's name implies")
        ("json", "print the snapshot as JSON (shape in git-model(1))");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    if (!vm.count("metric")) throw UsageError("missing --metric <name>", "usage: " + usage);
    const std::string metric = vm["metric"].as<std::string>();
    if (auto problem = snapshots::metric_name_problem(metric))
        throw UsageError(fmt::format("invalid metric name {}: it {}", quote_for_message(metric), *problem));
    if (vm.count("min") && vm.count("max")) throw UsageError("--min and --max exclude each other", "usage: " + usage);
    const auto choice = snapshots::choose_rank_order(metric, vm.count("min") > 0, vm.count("max") > 0);
    const bool minimize = choice.order == snapshots::RankOrder::lowest_first;

    git::Library library;
    auto repo = git::Repository::discover();
    const std::string model = model::resolve_model_name(
        repo, vm.count("model") ? std::optional<std::string>(vm["model"].as<std::string>()) : std::nullopt);
    const auto list = snapshots::list_snapshots(repo, model);
    for (const auto& skipped : list.skipped) warn("git-model", skipped);
    const auto* found = snapshots::best_snapshot(list.snapshots, metric, minimize);
    if (!found) {
        const auto columns = snapshots::metric_columns(list.snapshots);
        throw Error(list.snapshots.empty()
                        ? fmt::format("model '{}' has no snapshots", model)
                        : fmt::format("no snapshot of model '{}' records '{}'", model, metric),
                    columns.empty() ? fmt::format("tag one: git model tag {} --metric {}=<value>", model, metric)
                                    : fmt::format("recorded metrics: {}", join(columns, ", ")));
    }
    if (vm.count("json")) {
        auto json = snapshots::to_json(*found);
        json["ranked_by"] = {{"metric", metric}, {"order", minimize ? "min" : "max"}, {"order_from", choice.from_name ? "name" : "option"}};
        fmt::print("{}\n", json_text(json));
        return 0;
    }
    const auto* value = snapshots::find_metric(found->record.metrics, metric);
    fmt::print("{}  {}={}  {}  {}  {}\n", found->tag, metric, value->text, found->commit.substr(0, 10),
               snapshots::format_local_time(found->time),
               printable(found->record.message.substr(0, found->record.message.find('\n'))));
    return 0;
}

}  // namespace gm::commands
