// git model status [--json]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/status/render.hpp"
#include "gitmodel/status/status.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int status(const cli::Args& args) {
    const std::string usage = "git model status [--json]";
    po::options_description options("options");
    options.add_options()
        ("json", "print a JSON document (shape in git-model(1))");
    const auto parsed = cli::parse_command(args, usage, options);
    if (!parsed) return 0;
    const auto& vm = *parsed;
    git::Library library;
    auto repo = git::Repository::discover();
    const auto report = status::read_status(repo);
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(status::to_json(report)));
        return 0;
    }
    fmt::print("{}", status::render_status(report));
    return 0;
}

}  // namespace gm::commands
