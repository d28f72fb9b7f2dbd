// git model doctor [--json] [--no-bench]
#include "../command_table.hpp"

#include "gitmodel/core/json_text.hpp"
#include "gitmodel/doctor/doctor.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

int doctor(const cli::Args& args) {
    const std::string usage = "git model doctor [--json] [--no-bench]";
    po::options_description options("options");
    options.add_options()
        ("json", "print the checks as JSON (shape in git-model(1))")
        ("no-bench", "skip the GPU check (git-model-bench --quick)");
    const auto parsed = cli::parse_command(args, usage, options);
    if (!parsed) return 0;
    const auto& vm = *parsed;
    doctor::Options doctor_options;
    doctor_options.run_bench = vm.count("no-bench") == 0;
    const auto checks = doctor::run_checks(doctor_options);
    if (vm.count("json")) fmt::print("{}\n", json_text(doctor::to_json(checks)));
    else fmt::print("{}", doctor::render_text(checks));
    return doctor::exit_code(checks);
}

}  // namespace gm::commands
