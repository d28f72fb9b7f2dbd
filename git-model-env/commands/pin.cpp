// git model env pin [<model>]: rewrite a tag pin in .modelenv.yaml as tag@sha256:<digest>.
#include "../command_table.hpp"

#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/image.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::env_commands {

int pin(const cli::Args& args) {
    const std::string usage = "git model env pin [<model>]";
    po::options_description options("options");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    git::Library library;
    auto repo = git::Repository::discover();
    const auto file = env::worktree_environment_file(repo, cli::positional(*parsed, "model"));
    const auto result = env::pin_image(repo, file);
    fmt::print("Pinned {} by digest in {}:\n  {}\n  (image {}; commit the file to share the pin)\n", result.before,
               result.file.string(), result.after, env::short_image_id(result.image_id));
    return 0;
}

}  // namespace gm::env_commands
