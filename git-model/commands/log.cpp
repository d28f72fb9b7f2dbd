// git model log [<model>] [--json]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/lookup.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int log(const cli::Args& args) {
    const std::string usage = "git model log [<model>] [--json]";
    po::options_description options("options");
    options.add_options()
        ("json", "print a JSON document (shape in git-model(1))");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    git::Library library;
    auto repo = git::Repository::discover();
    const std::string model = model::resolve_model_name(
        repo, vm.count("model") ? std::optional<std::string>(vm["model"].as<std::string>()) : std::nullopt);
    const auto list = snapshots::list_snapshots(repo, model);
    for (const auto& skipped : list.skipped) warn("git-model", skipped);
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(snapshots::log_json(model, list.snapshots)));
        return 0;
    }
    if (list.snapshots.empty()) {
        fmt::print("No snapshots of model '{}' yet. Tag one with: git model tag {} --metric <name>=<value>\n", model,
                   model);
        return 0;
    }
    fmt::print("{}", snapshots::render_log(list.snapshots));
    return 0;
}

}  // namespace gm::commands
