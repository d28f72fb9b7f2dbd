#pragma once
// The command-line shape shared by git-model and git-model-env: one explicit
// table of subcommands, did-you-mean for typos, and hand-over of `git model env`
// and `git model bench` to their own executables (the way git finds git-<cmd>).

#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

namespace gm::cli {

// The arguments after the subcommand name.
using Args = std::vector<std::string>;

// One subcommand: its name, aliases, one-line summary and the function that runs it.
struct Command {
    std::string name;
    std::vector<std::string> aliases;
    std::string summary;
    int (*run)(const Args& args);
};

// A subcommand served by another executable of the suite (found beside us, else on PATH).
struct External {
    std::string name;     // "env"
    std::string program;  // "git-model-env"
    std::string summary;
};

// Everything a front end needs to dispatch.
struct Suite {
    std::string program;       // as users type it: "git model"
    std::string error_prefix;  // as errors are prefixed: "git-model"
    std::vector<Command> commands;
    std::vector<External> externals;
};

// Runs argv[1] as a subcommand of the suite: usage without one, --version,
// -h/--help, did-you-mean for unknown names. Returns the exit code.
int dispatch(const Suite& suite, int argc, char** argv);

// Parses a subcommand's arguments with Boost.Program_options; every parse
// error becomes a gm::UsageError (exit 2) naming the option and the usage line.
// Options are never guessed from prefixes, and after "--" everything is positional.
boost::program_options::variables_map parse(const Args& args, const std::string& usage,
                                            const boost::program_options::options_description& visible,
                                            const boost::program_options::positional_options_description& positional,
                                            const boost::program_options::options_description& hidden);

// Prints "usage: ..." and the options, for -h.
void print_usage(const std::string& usage, const boost::program_options::options_description& visible);

}  // namespace gm::cli
