#pragma once
// The command-line shape shared by git-model and git-model-env: one explicit
// table of subcommands, did-you-mean for typos, and hand-over of `git model env`
// and `git model bench` to their own executables (the way git finds git-<cmd>).

#include <optional>
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
    std::string manual = {};  // the page --help opens when not <error_prefix>-<name> (commands sharing one page)
    bool hidden = false;      // internal (run by the suite itself): never listed, never suggested
};

// A command with subcommands of its own (`git model sweep start|status|...`), dispatched from
// the same kind of table; --help already opened the group's page before it is reached.
struct Group {
    std::string program;  // as users type it: "git model sweep"
    std::string usage;    // the usage lines -h prints after "usage: "
    std::vector<Command> commands;
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
// -h (short usage), --help (the manual page named like error_prefix, e.g. git-model;
// after a command, that command's own page, e.g. git-model-tag, see manual_page),
// did-you-mean for unknown names. The hidden --list-commands prints every command,
// one per line with its aliases after it, for shell completion and the documentation test.
// Returns the exit code.
int dispatch(const Suite& suite, int argc, char** argv);

// Runs args[0] as a subcommand of the group: the usage for -h and --help (exit 0) and when
// none is given (exit 2, on stderr), did-you-mean for unknown names (hidden ones never offered),
// and the hidden --list-commands, one visible subcommand per line. Returns the exit code.
int dispatch(const Group& group, const Args& args);

// Parses a subcommand's arguments with Boost.Program_options; every parse
// error becomes a gm::UsageError (exit 2) naming the option and the usage line.
// Options are never guessed from prefixes, and after "--" everything is positional.
boost::program_options::variables_map parse(const Args& args, const std::string& usage,
                                            const boost::program_options::options_description& visible,
                                            const boost::program_options::positional_options_description& positional,
                                            const boost::program_options::options_description& hidden);

// The common shape of a subcommand's command line: its options plus -h/--help,
// and at most one positional argument (named positional_name; none when empty).
// Returns nullopt after printing the usage when help was asked for.
std::optional<boost::program_options::variables_map> parse_command(
    const Args& args, const std::string& usage, boost::program_options::options_description& options,
    const std::string& positional_name = {});

// The positional argument parse_command collected, if given.
std::optional<std::string> positional(const boost::program_options::variables_map& vm, const std::string& name);

// Prints "usage: ..." and the options, for -h.
void print_usage(const std::string& usage, const boost::program_options::options_description& visible);

// --help opens the manual, -h prints the short usage (as in git): replaces this process
// with `man <page>` (argv, no shell) when man finds the page. Returns false, having
// changed nothing, when man or the page is missing, so the caller prints the usage.
bool open_manual(const std::string& page);

// The page `<program> <command> --help` opens: the command's manual, else <error_prefix>-<name>
// (git-model-tag, git-model-env-up), as `git help model-tag` finds it.
std::string manual_page(const Suite& suite, const Command& command);

// Whether the arguments ask for the manual: a literal "--help" before any "--".
bool asks_for_manual(const Args& args);

// For executables with their own parser (git-model-bench): when args ask for the manual,
// opens it, or prints a note on stderr (the short usage then follows from the caller).
void offer_manual(const Args& args, const std::string& page, const std::string& program);

}  // namespace gm::cli
