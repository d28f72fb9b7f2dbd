// git model env login <registry> --username <user>: the password comes on standard input.
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <iterator>
#include <termios.h>
#include <unistd.h>

namespace po = boost::program_options;

namespace gm::env_commands {

namespace {

// The terminal settings to put back when a signal ends the process at the password prompt
// (Ctrl-C): left with echo off, the user's shell, or a script's, would type blind. And the
// prompt's own, to take up again after a stop (Ctrl-Z, then fg), whose shell put echo back on.
termios settings_before_prompt{};
termios settings_at_prompt{};

void restore_terminal_and_die(int signal_number) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &settings_before_prompt);  // async-signal-safe
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

// Ctrl-Z at the prompt: the terminal as it was, the stop itself, and on `fg` echo off again.
void stop_with_terminal_restored(int signal_number) {
    const int saved_errno = errno;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &settings_before_prompt);
    struct sigaction stop_now {}, ours {};
    stop_now.sa_handler = SIG_DFL;
    sigemptyset(&stop_now.sa_mask);
    ::sigaction(signal_number, &stop_now, &ours);
    sigset_t just_this;
    sigemptyset(&just_this);
    sigaddset(&just_this, signal_number);
    ::sigprocmask(SIG_UNBLOCK, &just_this, nullptr);
    ::raise(signal_number);  // stops here until SIGCONT
    ::sigprocmask(SIG_BLOCK, &just_this, nullptr);
    ::sigaction(signal_number, &ours, nullptr);
    // The shell that continues us (fg) sets the terminal to what it saved, perhaps only after its
    // SIGCONT: echo off now, and again twice within the next 300 ms, before anyone types.
    for (const long pause_ns : {0L, 50'000'000L, 250'000'000L}) {
        const timespec pause{0, pause_ns};
        if (pause_ns) ::nanosleep(&pause, nullptr);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &settings_at_prompt);
    }
    errno = saved_errno;
}

// Echo off on the terminal for one scope, restored on every way out: return, exception, or a
// signal that ends the process (SIGINT, SIGTERM, SIGHUP, SIGQUIT), and while a Ctrl-Z stops it
// (SIGTSTP; off again on fg). Their handlers are put back after.
class EchoOff {
public:
    EchoOff() {
        ::tcgetattr(STDIN_FILENO, &settings_before_prompt);
        settings_at_prompt = settings_before_prompt;
        settings_at_prompt.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        for (std::size_t i = 0; i < signals_.size(); ++i) {
            struct sigaction ours {};
            ours.sa_handler = signals_[i] == SIGTSTP ? stop_with_terminal_restored : restore_terminal_and_die;
            sigemptyset(&ours.sa_mask);
            // The shell may take the terminal back before the handler sets it (it waits for git,
            // not for us): SIGTTOU blocked, the setting is made from the background instead of stopping us.
            sigaddset(&ours.sa_mask, SIGTTOU);
            ours.sa_flags = signals_[i] == SIGTSTP ? SA_RESTART : 0;  // the read goes on after fg
            ::sigaction(signals_[i], nullptr, &before_[i]);
            if (before_[i].sa_handler != SIG_IGN) ::sigaction(signals_[i], &ours, nullptr);
        }
        ::tcsetattr(STDIN_FILENO, TCSANOW, &settings_at_prompt);
    }
    ~EchoOff() {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &settings_before_prompt);
        for (std::size_t i = 0; i < signals_.size(); ++i) ::sigaction(signals_[i], &before_[i], nullptr);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    static constexpr std::array<int, 5> signals_{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
    std::array<struct sigaction, 5> before_{};
};

// Reads the password without echoing it on a terminal; never from argv or the environment.
std::string read_password() {
    std::string password;
    if (::isatty(STDIN_FILENO)) {
        {
            EchoOff quiet;  // first: once the prompt shows, Ctrl-C and Ctrl-Z find the terminal handled
            fmt::print(stderr, "Password: ");
            std::fflush(stderr);
            std::getline(std::cin, password);
        }
        fmt::print(stderr, "\n");
    } else {
        password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        password = trim_trailing_newlines(password);
    }
    return password;
}

}  // namespace

int login(const cli::Args& args) {
    const std::string usage = "git model env login <registry> --username <user>   (password on standard input)";
    po::options_description options("options");
    options.add_options()
        ("username,u", po::value<std::string>()->value_name("<user>"), "the registry user");
    const auto parsed = cli::parse_command(args, usage, options, "registry");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    if (!vm.count("registry") || !vm.count("username")) throw UsageError("name the registry and --username", "usage: " + usage);
    const std::string registry = vm["registry"].as<std::string>();
    if (registry.empty() || registry[0] == '-') throw UsageError(fmt::format("'{}' is not a registry", registry));
    git::Library library;
    std::optional<git::Repository> repo;
    try {
        repo.emplace(git::Repository::discover());
    } catch (const Error&) {
        // outside a repository: the default engine
    }
    const auto engine = repo ? env::select_engine(repo->config(), std::nullopt) : env::select_engine(std::nullopt, std::nullopt);
    const std::string password = read_password();
    if (password.empty()) throw Error("no password on standard input");
    proc::RunOptions run_options;
    run_options.input = password + "\n";
    run_options.inherit_output = true;
    run_options.timeout = engine.timeout;  // a registry that does not answer must not hang the login
    const auto result = proc::run(engine.command({"login", "--username", vm["username"].as<std::string>(),
                                                  "--password-stdin", registry}), run_options);
    if (result.timed_out)
        throw Error(fmt::format("{} login to {} did not finish within {} s", engine.name, registry,
                                engine.timeout.count() / 1000),
                    "check that the registry answers (network, proxy), then try again");
    return result.ok() ? 0 : 1;
}

}  // namespace gm::env_commands
