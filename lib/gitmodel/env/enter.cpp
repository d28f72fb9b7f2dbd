#include "gitmodel/env/enter.hpp"

#include "gitmodel/core/random_id.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/proc/identity.hpp"

#include <fmt/core.h>

#include <csignal>
#include <cstring>

namespace gm::env {

int run_in_container(const Engine& engine, const std::string& container, const std::vector<std::string>& flags,
                     const std::vector<std::string>& command) {
    const std::string mark = "GIT_MODEL_EXEC=" + random_hex(16);
    std::vector<std::string> args{"exec"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--env", mark, container});
    args.insert(args.end(), command.begin(), command.end());
    const auto forward = [&](int signal) {
        const auto processes = proc::processes_with_environment(mark);
        for (const long pid : processes) ::kill(static_cast<pid_t>(pid), signal);
        return !processes.empty();
    };
    const auto lost = [&](int signal) {
        fmt::print(stderr,
                   "git-model-env: signal {} ({}) could not be passed on to the command in {}: it may still run "
                   "there (`git model env exec -- ps` shows it; `git model env down` stops everything)\n",
                   signal, ::strsignal(signal), container);
    };
    const auto runs = [&] { return !proc::processes_with_environment(mark).empty(); };
    const auto note = [&] {
        fmt::print(stderr, "git-model-env: waiting for the command to end in {} (send the signal again to stop waiting)\n",
                   container);
    };
    return proc::run_forwarding_signals(engine.command(args), forward, lost, runs, note);
}

}  // namespace gm::env
