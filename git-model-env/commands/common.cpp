#include "common.hpp"

namespace gm::env_commands {

std::optional<std::string> model_argument(const boost::program_options::variables_map& vm) {
    if (!vm.count("model")) return std::nullopt;
    return vm["model"].as<std::string>();
}

}  // namespace gm::env_commands
