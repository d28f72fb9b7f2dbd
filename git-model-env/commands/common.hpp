#pragma once
// Pieces every `git model env` command shares: the optional <model> argument.

#include <optional>
#include <string>

#include <boost/program_options.hpp>

namespace gm::env_commands {

// The <model> positional argument, when given.
std::optional<std::string> model_argument(const boost::program_options::variables_map& vm);

}  // namespace gm::env_commands
