// git model compare <snapshot-a> <snapshot-b> [--json]
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/render.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/model/lookup.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int compare(const cli::Args& args) {
    const std::string usage = "git model compare <tag-a> <tag-b> [--json]";
    po::options_description options("options");
    options.add_options()
        ("json", "print a JSON document (shape in git-model(1))")
        ("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("tags", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("tags", 2);
    const auto vm = cli::parse(args, usage, options, positional, hidden);
    if (vm.count("help")) {
        cli::print_usage(usage, options);
        return 0;
    }
    const auto tags = vm.count("tags") ? vm["tags"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (tags.size() != 2)
        throw UsageError("compare needs two snapshots", "usage: " + usage + "  (e.g. model/resnet50/v1 model/resnet50/v3)");

    git::Library library;
    auto repo = git::Repository::discover();
    const auto current = model::current_model(repo);
    const auto a = snapshots::resolve_snapshot(repo, tags[0], current);
    const auto b = snapshots::resolve_snapshot(repo, tags[1], current);
    const auto comparison = snapshots::compare_snapshots(repo, a, b);
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(snapshots::to_json(comparison)));
        return 0;
    }
    fmt::print("{}", snapshots::render_compare(comparison));
    return 0;
}

}  // namespace gm::commands
