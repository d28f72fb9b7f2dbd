#include "gitmodel/cli/command.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace po = boost::program_options;

namespace gm::cli {

namespace {

void print_suite_usage(const Suite& suite, std::FILE* out) {
    fmt::print(out, "usage: {} <command> [<args>]\n\ncommands:\n", suite.program);
    for (const auto& command : suite.commands)
        if (!command.hidden) fmt::print(out, "  {:<10} {}\n", command.name, command.summary);
    for (const auto& external : suite.externals) fmt::print(out, "  {:<10} {}\n", external.name, external.summary);
    fmt::print(out, "\nRun '{0} <command> -h' for a command's options, '{0} <command> --help' for its page;\n"
                    "'git help model' for the manual.\n",
               suite.program);
}

[[noreturn]] void hand_over(const External& external, int argc, char** argv) {
    // Beside us first (an installed suite stays consistent), then PATH, like git's own lookup.
    std::filesystem::path program = proc::current_executable().parent_path() / external.program;
    if (::access(program.c_str(), X_OK) != 0) {
        auto found = proc::find_program(external.program);
        if (!found) {
            throw UnavailableError(fmt::format("'{}' is not installed (looked beside {} and on PATH)", external.program,
                                               proc::current_executable().string()),
                                   "reinstall git-model, or put its bin folder on PATH");
        }
        program = *found;
    }
    std::vector<std::string> args{external.program};
    for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
    proc::exec_replace(program, args);
}

void note_manual_missing(const std::string& page, const std::string& program) {
    fmt::print(stderr, "{}: no manual page '{}' here (is man-db installed, and the suite's share/man on MANPATH?); "
                       "the short usage follows\n",
               program, page);
}

const Command* find_command(const std::vector<Command>& commands, const std::string& name) {
    for (const auto& command : commands) {
        if (command.name == name ||
            std::find(command.aliases.begin(), command.aliases.end(), name) != command.aliases.end())
            return &command;
    }
    return nullptr;
}

// The names a user may be offered: every command but the hidden ones.
std::vector<std::string> visible_names(const std::vector<Command>& commands) {
    std::vector<std::string> names;
    for (const auto& command : commands)
        if (!command.hidden) names.push_back(command.name);
    return names;
}

// --list-commands: each visible command with its aliases, one per line.
void print_command_list(const std::vector<Command>& commands) {
    for (const auto& command : commands) {
        if (command.hidden) continue;
        std::vector<std::string> names{command.name};
        names.insert(names.end(), command.aliases.begin(), command.aliases.end());
        fmt::print("{}\n", join(names, " "));
    }
}

// An unknown name typed where a command of `program` goes: did-you-mean among `names`.
[[noreturn]] void reject_unknown(const std::string& program, const std::string& name,
                                 const std::vector<std::string>& names) {
    if (starts_with(name, "-")) {
        throw UsageError(fmt::format("unknown option '{}'", name),
                         fmt::format("options go after the command; see '{} -h'", program));
    }
    const auto suggestion = closest_match(name, names);
    throw UsageError(fmt::format("'{}' is not a {} command", name, program),
                     suggestion ? fmt::format("did you mean '{} {}'?", program, *suggestion)
                                : fmt::format("see '{} -h' for the list of commands", program));
}

int run_command(const Suite& suite, const Command& command, const Args& args) {
    // --help opens the command's own page; -h, and --help without man or that page,
    // reach the command, which prints its short usage (after the note saying why).
    if (asks_for_manual(args)) {
        const auto page = manual_page(suite, command);
        if (!open_manual(page)) note_manual_missing(page, suite.error_prefix);
    }
    return command.run(args);
}

}  // namespace

std::string manual_page(const Suite& suite, const Command& command) {
    return command.manual.empty() ? suite.error_prefix + "-" + command.name : command.manual;
}

bool asks_for_manual(const Args& args) {
    for (const auto& arg : args) {
        if (arg == "--") return false;
        if (arg == "--help") return true;
    }
    return false;
}

bool open_manual(const std::string& page) {
    const auto man = proc::find_program("man");
    if (!man) return false;
    try {
        proc::RunOptions options;
        options.timeout = std::chrono::seconds(10);
        if (!proc::run({man->string(), "-w", page}, options).ok()) return false;
        std::fflush(nullptr);
        std::cout.flush();
        proc::exec_replace(*man, {"man", page});
    } catch (const Error&) {
        return false;
    }
}

void offer_manual(const Args& args, const std::string& page, const std::string& program) {
    if (asks_for_manual(args) && !open_manual(page)) note_manual_missing(page, program);
}

int dispatch(const Suite& suite, int argc, char** argv) {
    return run_reporting_errors(suite.error_prefix, [&]() -> int {
        if (argc < 2) {
            print_suite_usage(suite, stderr);
            return static_cast<int>(ExitCode::usage);
        }
        const std::string name = argv[1];
        if (name == "--help" || name == "help") {
            // `help <command>` opens that command's page, as `git help <command>` does.
            const Command* command = argc > 2 && name == "help" ? find_command(suite.commands, argv[2]) : nullptr;
            if (command) return run_command(suite, *command, {"--help"});
            for (const auto& external : suite.externals) {
                if (argc > 2 && name == "help" && external.name == argv[2] && !open_manual(external.program))
                    note_manual_missing(external.program, suite.error_prefix);
            }
            if (!open_manual(suite.error_prefix)) note_manual_missing(suite.error_prefix, suite.error_prefix);
            print_suite_usage(suite, stdout);
            return 0;
        }
        if (name == "-h") {
            print_suite_usage(suite, stdout);
            return 0;
        }
        if (name == "--list-commands") {  // hidden: for completion scripts and the documentation test
            print_command_list(suite.commands);
            for (const auto& external : suite.externals) fmt::print("{}\n", external.name);
            return 0;
        }
        if (name == "--version" || name == "version") {
            fmt::print("{} version {}\n", suite.program, GM_VERSION);
            return 0;
        }
        const Args args(argv + 2, argv + argc);
        if (const Command* command = find_command(suite.commands, name)) return run_command(suite, *command, args);
        for (const auto& external : suite.externals)
            if (external.name == name) hand_over(external, argc, argv);

        std::vector<std::string> names = visible_names(suite.commands);
        for (const auto& external : suite.externals) names.push_back(external.name);
        reject_unknown(suite.program, name, names);
    });
}

int dispatch(const Group& group, const Args& args) {
    if (args.empty()) {
        fmt::print(stderr, "usage: {}\n", group.usage);
        return static_cast<int>(ExitCode::usage);
    }
    const std::string& name = args[0];
    // --help reaches here only when the group's page could not be opened (the suite tried).
    if (name == "-h" || name == "--help") {
        fmt::print("usage: {}\n", group.usage);
        return 0;
    }
    if (name == "--list-commands") {  // hidden: for completion scripts
        print_command_list(group.commands);
        return 0;
    }
    if (const Command* command = find_command(group.commands, name)) return command->run(Args(args.begin() + 1, args.end()));
    reject_unknown(group.program, name, visible_names(group.commands));
}

po::variables_map parse(const Args& args, const std::string& usage, const po::options_description& visible,
                        const po::positional_options_description& positional, const po::options_description& hidden) {
    po::options_description all;
    all.add(visible).add(hidden);
    po::variables_map vm;
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).style(style).run(), vm);
        po::notify(vm);
    } catch (const po::too_many_positional_options_error&) {
        throw UsageError("too many arguments", fmt::format("usage: {}", usage));
    } catch (const po::error& e) {
        throw UsageError(e.what(), fmt::format("usage: {}", usage));
    }
    return vm;
}

std::optional<po::variables_map> parse_command(const Args& args, const std::string& usage,
                                               po::options_description& options, const std::string& positional_name) {
    options.add_options()("help,h", "show this help");
    po::options_description hidden;
    po::positional_options_description positions;
    if (!positional_name.empty()) {
        hidden.add_options()(positional_name.c_str(), po::value<std::string>());
        positions.add(positional_name.c_str(), 1);
    }
    auto vm = parse(args, usage, options, positions, hidden);
    if (vm.count("help")) {
        print_usage(usage, options);
        return std::nullopt;
    }
    return vm;
}

std::optional<std::string> positional(const po::variables_map& vm, const std::string& name) {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
}

void print_usage(const std::string& usage, const po::options_description& visible) {
    std::cout << "usage: " << usage << "\n\n" << visible << std::flush;
}

}  // namespace gm::cli
