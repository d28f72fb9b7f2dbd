#include "gitmodel/env/enter.hpp"

#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/proc/identity.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <csignal>
#include <cstring>
#include <optional>
#include <unistd.h>

namespace gm::env {

namespace {

// The command's processes in the container, found by the value only they carry: those inside the
// container's pid namespace (another user on the host can read the value from the engine client's
// arguments and start a process carrying it: never signalled, never waited for).
class CommandProcesses {
public:
    CommandProcesses(const Engine& engine, std::string container, std::string mark)
        : engine_(engine), container_(std::move(container)), mark_(std::move(mark)) {}

    // The processes now, the command's first one remembered from the first call that finds any.
    std::vector<long> find() {
        std::vector<long> found;
        const std::string& inside = namespace_of_container();
        for (const long pid : proc::processes_with_environment(mark_))
            if (inside.empty() || proc::pid_namespace(pid) == inside) found.push_back(pid);
        if (!first_) {
            for (const long pid : found) {
                const auto identity = proc::identity_of(pid);
                if (identity && (!first_ || identity->start_ticks < first_->start_ticks)) first_ = identity;
            }
        }
        return found;
    }
    // Whether the command itself (not a helper it left in the background) still runs.
    bool command_runs() const { return first_ && proc::is_running(*first_); }

private:
    const std::string& namespace_of_container() {
        if (asked_) return namespace_;
        asked_ = true;
        proc::RunOptions options;
        options.timeout = engine_.timeout;
        const auto inspected = proc::run(engine_.command({"inspect", "--format", "{{.State.Pid}}", container_}), options);
        if (inspected.ok()) namespace_ = proc::pid_namespace(std::strtol(trim_end(inspected.out, " \n").c_str(), nullptr, 10));
        return namespace_;
    }

    const Engine& engine_;
    std::string container_;
    std::string mark_;
    bool asked_ = false;
    std::string namespace_;  // "" when the engine could not say (then the value alone decides)
    std::optional<proc::ProcessIdentity> first_;
};

}  // namespace

int run_in_container(const Engine& engine, const std::string& container, const std::vector<std::string>& flags,
                     const std::vector<std::string>& command) {
    const std::string mark = "GIT_MODEL_EXEC=" + random_hex(16);
    std::vector<std::string> args{"exec"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--env", mark, container});
    args.insert(args.end(), command.begin(), command.end());
    CommandProcesses processes(engine, container, mark);
    proc::SignalForwarding how;
    how.forward = [&](int signal) {
        const auto found = processes.find();
        for (const long pid : found) ::kill(static_cast<pid_t>(pid), signal);
        return !found.empty();
    };
    how.lost = [&](int signal) {
        fmt::print(stderr,
                   "git-model-env: signal {} ({}) could not be passed on to the command in {}: it may still run "
                   "there (`git model env exec -- ps` shows it; `git model env down` stops everything)\n",
                   signal, ::strsignal(signal), container);
    };
    how.command_runs = [&] { return processes.command_runs(); };
    how.waiting_note = [&] {
        fmt::print(stderr, "git-model-env: waiting for the command to end in {} (send the signal again to stop waiting)\n",
                   container);
    };
    // The engine's client reads or writes a terminal only from our (the foreground) process group.
    how.shares_group = ::isatty(STDIN_FILENO) || ::isatty(STDOUT_FILENO) || ::isatty(STDERR_FILENO);
    return proc::run_forwarding_signals(engine.command(args), how);
}

}  // namespace gm::env
