#include "gitmodel/proc/background.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gm::proc {

namespace fs = std::filesystem;

namespace {

// Everything exec needs, prepared before fork: after fork only async-signal-safe calls are made.
struct ExecPlan {
    std::string program;
    std::vector<std::string> argv_storage;
    std::vector<char*> argv;
    std::vector<std::string> env_storage;
    std::vector<char*> envp;
    std::string cwd;
    std::string output;
};

ExecPlan make_plan(const std::vector<std::string>& argv,
                   const std::vector<std::pair<std::string, std::optional<std::string>>>& env_changes,
                   const std::optional<fs::path>& cwd, const fs::path& output) {
    if (argv.empty()) throw Error("internal error: an empty command line");
    ExecPlan plan;
    if (argv[0].find('/') != std::string::npos) {
        plan.program = argv[0];
    } else if (auto found = find_program(argv[0])) {
        plan.program = found->string();
    } else {
        throw Error(fmt::format("cannot run {}: not found on PATH", argv[0]));
    }
    plan.argv_storage = argv;
    for (auto& arg : plan.argv_storage) plan.argv.push_back(arg.data());
    plan.argv.push_back(nullptr);
    for (char** entry = environ; entry && *entry; ++entry) {
        const std::string item(*entry);
        const std::string name = item.substr(0, item.find('='));
        bool replaced = false;
        for (const auto& change : env_changes) replaced = replaced || change.first == name;
        if (!replaced) plan.env_storage.push_back(item);
    }
    for (const auto& [name, value] : env_changes)
        if (value) plan.env_storage.push_back(name + "=" + *value);
    for (auto& item : plan.env_storage) plan.envp.push_back(item.data());
    plan.envp.push_back(nullptr);
    if (cwd) plan.cwd = cwd->string();
    plan.output = output.empty() ? "/dev/null" : output.string();
    return plan;
}

// In the child: wire stdio, reset signals, exec; reports errno on the pipe and exits 127 on failure.
[[noreturn]] void exec_in_child(const ExecPlan& plan, int error_pipe) {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) ::sigaction(signal, &action, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int err = 0;
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(plan.output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) err = errno;
    if (!err && !plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) err = errno;
    if (!err) {
        ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
        err = errno;
    }
    [[maybe_unused]] auto written = ::write(error_pipe, &err, sizeof err);
    ::_exit(127);
}

// Waits for the exec report of a child: 0 when exec succeeded (the pipe closed on exec).
int read_exec_error(int fd) {
    int err = 0;
    ssize_t got;
    do got = ::read(fd, &err, sizeof err);
    while (got < 0 && errno == EINTR);
    ::close(fd);
    return got == static_cast<ssize_t>(sizeof err) ? err : 0;
}

}  // namespace

std::string ExitStatus::describe() const {
    if (signal != 0) return fmt::format("was killed by signal {} ({})", signal, ::strsignal(signal));
    return fmt::format("exited with status {}", exit_code);
}

Child spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    const ExecPlan plan = make_plan(argv, options.env, options.cwd, options.output);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(errno)));
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;  // close() may change errno
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(err)));
    }
    if (pid == 0) {
        ::close(fds[0]);
        if (options.own_process_group) ::setpgid(0, 0);
        exec_in_child(plan, fds[1]);
    }
    if (options.own_process_group) ::setpgid(pid, pid);  // also here: no race with an early signal
    ::close(fds[1]);
    if (const int err = read_exec_error(fds[0])) {
        ::waitpid(pid, nullptr, 0);
        throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(err)));
    }
    return Child{static_cast<long>(pid)};
}

std::optional<ExitStatus> reap_any() {
    int status = 0;
    pid_t pid;
    do pid = ::waitpid(-1, &status, WNOHANG);
    while (pid < 0 && errno == EINTR);
    if (pid <= 0) return std::nullopt;
    ExitStatus result;
    result.pid = pid;
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    else if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    return result;
}

void signal_child(const Child& child, int signal) {
    if (child.pid <= 0) return;
    if (::kill(static_cast<pid_t>(-child.pid), signal) != 0) ::kill(static_cast<pid_t>(child.pid), signal);
}

void spawn_detached(const std::vector<std::string>& argv, const fs::path& output, const std::optional<fs::path>& cwd) {
    const ExecPlan plan = make_plan(argv, {}, cwd, output);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(errno)));
    const pid_t first = ::fork();
    if (first < 0) {
        const int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(err)));
    }
    if (first == 0) {
        ::close(fds[0]);
        ::setsid();  // no controlling terminal: closing it sends no hang-up
        const pid_t second = ::fork();
        if (second < 0) {
            int err = errno;
            [[maybe_unused]] auto written = ::write(fds[1], &err, sizeof err);
            ::_exit(127);
        }
        if (second > 0) ::_exit(0);  // the daemon is re-parented to init (or the subreaper)
        exec_in_child(plan, fds[1]);
    }
    ::close(fds[1]);
    int status = 0;
    while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
    }
    if (const int err = read_exec_error(fds[0]))
        throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(err)));
}

}  // namespace gm::proc
