// git model tag [<model>] [--metric <name>=<value>]... [-m <message>] [--commit <rev>] [--no-push]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/environment.hpp"
#include "gitmodel/snapshots/metrics.hpp"
#include "gitmodel/model/model_context.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/snapshots/share.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/lookup.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace po = boost::program_options;

namespace gm::commands {

int tag(const cli::Args& args) {
    const std::string usage =
        "git model tag [<model>] [--metric <name>=<value>]... [-m <message>] [--commit <rev>] [--no-push] [--json]";
    po::options_description options("options");
    options.add_options()
        ("metric", po::value<std::vector<std::string>>()->composing()->value_name("<name>=<value>"),
         "a measured value, e.g. acc=0.913 or val/loss=0.21 (repeatable)")
        ("message,m", po::value<std::string>()->value_name("<message>"), "what this snapshot is")
        ("commit", po::value<std::string>()->value_name("<rev>"), "tag this commit of the model's branch (default: its head)")
        ("no-push", "keep the tag here this time (default: push it to the branch's upstream, see model.tag.push)")
        ("json", "print the snapshot as JSON (shape in git-model(1))");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    // Metrics are checked before the repository is touched: a typo changes nothing.
    snapshots::TagRequest request;
    if (vm.count("metric")) request.metrics = snapshots::parse_metric_arguments(vm["metric"].as<std::vector<std::string>>());
    if (vm.count("message")) request.message = vm["message"].as<std::string>();
    if (vm.count("commit")) request.commit = vm["commit"].as<std::string>();

    git::Library library;
    auto repo = git::Repository::discover();
    request.model = model::resolve_model_name(
        repo, vm.count("model") ? std::optional<std::string>(vm["model"].as<std::string>()) : std::nullopt);
    request.image_run = snapshots::image_last_run(repo, request.model);
    std::vector<std::string> hardware_warnings;
    request.gpus = snapshots::hardware_last_run(repo, request.model, hardware_warnings);
    for (const auto& warning : hardware_warnings) warn("git-model", warning);
    const auto outcome = snapshots::tag_and_push(repo, request, vm.count("no-push") == 0);
    const auto& snapshot = outcome.snapshot;
    const auto& push = outcome.push;
    // A snapshot of a worktree with uncommitted changes is made (and marked), but said on stderr.
    if (snapshot.record.dirty) {
        const auto context = model::read_model(repo, request.model);
        const std::string where = context.checkout ? context.checkout->path.string() : "the model's worktree";
        warn("git-model", fmt::format("{} has uncommitted changes: {} records commit {}, which does not hold them, "
                                      "and is marked dirty (Model-Dirty: {})\n  commit them before tagging; "
                                      "`git config model.tag.requireClean true` refuses such tags",
                                      where, snapshot.tag, snapshot.commit.substr(0, 10),
                                      snapshot.record.dirty->substr(0, 12)));
    }
    for (const auto& moved : outcome.moved)
        warn("git-model", fmt::format("{}: a snapshot made here and never pushed, whose number a teammate's took on {} "
                                      "meanwhile, has the next free number now",
                                      moved, push ? push->remote : std::string("the remote")));
    for (const auto& problem : outcome.move_problems) warn("git-model", problem);
    for (const auto& taken : outcome.renumbered)
        warn("git-model", fmt::format("another clone pushed {} to {} first: this snapshot took the next free number",
                                      taken, push ? push->remote : std::string("the remote")));
    // A push that failed keeps the snapshot: said on stderr, with how to push it later; exit 0.
    if (push && !push->pushed)
        warn("git-model", fmt::format("{} was made here but not pushed to {}: {}\n  {}", snapshot.tag, push->remote,
                                      push->problem, push->fix));
    if (vm.count("json")) {
        auto json = snapshots::to_json(snapshot);
        json["push"] = {
            {"remote", push ? nlohmann::json(push->remote) : nlohmann::json(nullptr)},
            {"pushed", push && push->pushed},
            {"error", push && !push->pushed ? nlohmann::json(push->problem) : nlohmann::json(nullptr)},
            {"skipped", push ? nlohmann::json(nullptr) : nlohmann::json(outcome.not_pushed)},
            {"renumbered_from", outcome.renumbered},
            {"moved", outcome.moved},
            {"also_pushed", outcome.left_pushed},
        };
        fmt::print("{}\n", json_text(json));
        return 0;
    }
    fmt::print("Tagged {} at {}{}\n", snapshot.tag, snapshot.commit.substr(0, 10),
               snapshot.record.metrics.empty() ? "" : ": " + snapshots::inline_metrics(snapshot.record.metrics));
    if (snapshot.record.dirty) fmt::print("Dirty: uncommitted changes (hash {})\n", *snapshot.record.dirty);
    fmt::print("Image: {}{}\n", snapshot.record.image ? *snapshot.record.image : "(no .modelenv.yaml)",
               snapshot.record.image_id ? " (ran as " + *snapshot.record.image_id + ")" : "");
    for (const auto& gpu : snapshot.record.gpus) {
        std::string figures;
        if (gpu.triad_fraction) figures += fmt::format(", triad {:.0f}%", *gpu.triad_fraction * 100.0);
        if (gpu.fp32_fraction) figures += fmt::format(", FP32 {:.0f}%", *gpu.fp32_fraction * 100.0);
        if (!gpu.bench_mode.empty())
            figures += fmt::format(" of peak ({} bench{}, {})", gpu.bench_mode,
                                   gpu.bench_by.empty() ? "" : " by " + gpu.bench_by,
                                   snapshots::format_local_time(gpu.bench_time));
        fmt::print("GPU: {}{}\n", printable(snapshots::describe_gpu(gpu)), printable(figures));
    }
    if (push && push->pushed) fmt::print("Pushed {} to {}.\n", snapshot.tag, push->remote);
    if (!outcome.left_pushed.empty())
        fmt::print("Pushed {} too: made here before, never pushed (a tag interrupted while pushing, or the remote was "
                   "unreachable then).\n",
                   join(outcome.left_pushed, ", "));
    return 0;
}

}  // namespace gm::commands
