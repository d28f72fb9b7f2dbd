// git model sweep status: every sweep one line each, or one sweep's runs.
#include "sweep.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/sweep/operations.hpp"
#include "gitmodel/sweep/report.hpp"

#include <fmt/core.h>

namespace gm::commands::sweep_commands {

namespace po = boost::program_options;

int status(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()("json", "print JSON (shape in git-model-sweep(1))");
    const auto parsed = cli::parse_command(args, "git model sweep status [<id>] [--json]", options, "id");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    git::Library library;
    auto repo = open_repository();
    const bool json = vm.count("json") > 0;
    if (!cli::positional(vm, "id")) {
        // Every sweep, one line each.
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        std::string lines;
        for (const auto& sweep : sweep::load_readable(repo.common_dir())) {
            const auto view = sweep::view_sweep(sweep);
            if (json) {
                all.push_back(sweep::status_json(view));
                continue;
            }
            lines += fmt::format("{:>4}  {:<24} {:<6} {}: {}\n", sweep.id, sweep.model, sweep::to_string(sweep.backend),
                                 count_of(sweep.runs.size(), "run"), view.summary());
        }
        if (json) fmt::print("{}\n", json_text(all));
        else fmt::print("{}", lines.empty() ? "no sweeps yet; start one with `git model sweep start`\n" : lines);
        return 0;
    }
    const auto view = sweep::view_sweep(sweep::find_sweep(repo, cli::positional(vm, "id")));
    if (json) fmt::print("{}\n", json_text(sweep::status_json(view)));
    else fmt::print("{}", sweep::render_status(view));
    return 0;
}

}  // namespace gm::commands::sweep_commands
