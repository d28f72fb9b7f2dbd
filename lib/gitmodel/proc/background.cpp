#include "gitmodel/proc/background.hpp"

#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
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
    bool inherit_stdio = false;  // keep our 0, 1 and 2
    int conversation_fd = -1;    // when set: the child's 0 and 1 (its 2 is ours), see Conversation
    bool keep_ignored_signals = false;
    bool ignore_interrupts = false;
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
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) {
        struct sigaction current {};
        const bool interrupting = signal == SIGINT || signal == SIGTERM || signal == SIGHUP;
        if (plan.keep_ignored_signals && interrupting && ::sigaction(signal, nullptr, &current) == 0 &&
            current.sa_handler == SIG_IGN)
            continue;
        if (plan.ignore_interrupts && (signal == SIGINT || signal == SIGHUP)) {
            ::signal(signal, SIG_IGN);
            continue;
        }
        ::sigaction(signal, &action, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int err = 0;
    if (plan.conversation_fd >= 0) {
        if (::dup2(plan.conversation_fd, 0) < 0 || ::dup2(plan.conversation_fd, 1) < 0) err = errno;
    } else if (!plan.inherit_stdio) {
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(plan.output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) err = errno;
        if (in > 2) ::close(in);  // only 0, 1 and 2 go on to the program
        if (out > 2) ::close(out);
    }
    if (!err && !plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) err = errno;
    if (!err) {
        ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
        err = errno;
    }
    [[maybe_unused]] auto written = ::write(error_pipe, &err, sizeof err);
    ::_exit(127);
}

// The pipe on which a child reports a failed exec: both ends owned, so that no early return
// or exception (a failed fork) leaks them; close-on-exec, so that a successful exec closes the
// child's end and the parent reads end-of-file.
struct ExecErrorPipe {
    UniqueFd read_end;
    UniqueFd write_end;
    explicit ExecErrorPipe(const std::string& program) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw Error(fmt::format("cannot start {}: {}", program, std::strerror(errno)));
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
    }
};

// Waits for the exec report of a child: 0 when exec succeeded (the pipe closed on exec).
// Our copy of the write end must be closed first, or this never sees end-of-file.
int read_exec_error(const UniqueFd& fd) {
    int err = 0;
    ssize_t got;
    do got = ::read(fd.get(), &err, sizeof err);
    while (got < 0 && errno == EINTR);
    return got == static_cast<ssize_t>(sizeof err) ? err : 0;
}

// fork(), or gm::Error saying why not (errno read before anything can change it).
pid_t fork_or_throw(const std::string& program) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(fmt::format("cannot start {}: {}", program, std::strerror(errno)));
    return pid;
}

}  // namespace

std::string ExitStatus::describe() const {
    if (signal != 0) return fmt::format("was killed by signal {} ({})", signal, ::strsignal(signal));
    return fmt::format("exited with status {}", exit_code);
}

Child spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    trace(argv);
    ExecPlan plan = make_plan(argv, options.env, options.cwd, options.output);
    plan.inherit_stdio = options.inherit_stdio;
    plan.keep_ignored_signals = options.keep_ignored_signals;
    plan.ignore_interrupts = options.ignore_interrupts;
    ExecErrorPipe report(argv[0]);
    const pid_t pid = fork_or_throw(argv[0]);  // the pipe's ends close with `report` when it throws
    if (pid == 0) {
        report.read_end.reset();
        if (options.own_process_group) ::setpgid(0, 0);
        exec_in_child(plan, report.write_end.get());
    }
    if (options.own_process_group) ::setpgid(pid, pid);  // also here: no race with an early signal
    report.write_end.reset();
    if (const int err = read_exec_error(report.read_end)) {
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

namespace {

// Passes signals on for run_forwarding_signals: each new one at once, and one that found nothing
// to reach again, until it does or 5 s passed.
class SignalRelay {
public:
    explicit SignalRelay(const SignalForwarding& how) : how_(how) {}

    // Passes on what came since the last call.
    void relay() {
        if (const int signal = DeferSignals::pending()) {  // polled: no signal slips in before a blocking wait
            DeferSignals::clear();
            const auto now = std::chrono::steady_clock::now();
            // The same signal twice at once (the group's, and git passing its own on) is one.
            if (signal != last_ || now - last_at_ > std::chrono::milliseconds(300)) {
                waiting_ = last_ = signal;
                give_up_ = now + std::chrono::seconds(5);
                ++seen_;
            }
            last_at_ = now;
        }
        if (waiting_ && how_.forward(waiting_)) {
            waiting_ = 0;
        } else if (waiting_ && std::chrono::steady_clock::now() >= give_up_) {
            report_waiting();
        }
    }
    // Tells of a signal not passed on yet (the child ended first, or 5 s passed).
    void report_waiting() {
        if (waiting_) how_.lost(waiting_);
        waiting_ = 0;
    }
    int seen() const { return seen_; }
    int last() const { return last_; }

private:
    const SignalForwarding& how_;
    int waiting_ = 0;  // a signal not passed on yet
    int last_ = 0;
    int seen_ = 0;
    std::chrono::steady_clock::time_point give_up_;
    std::chrono::steady_clock::time_point last_at_;
};

}  // namespace

int run_forwarding_signals(const std::vector<std::string>& argv, const SignalForwarding& how) {
    DeferSignals defer;
    DeferSignals::clear();
    SpawnOptions options;
    options.inherit_stdio = true;
    options.own_process_group = !how.shares_group;
    options.keep_ignored_signals = true;
    options.ignore_interrupts = how.shares_group;
    const Child child = spawn(argv, options);
    SignalRelay relay(how);
    int status = 0;
    for (;;) {
        relay.relay();
        const pid_t got = ::waitpid(static_cast<pid_t>(child.pid), &status, WNOHANG);
        if (got == static_cast<pid_t>(child.pid)) break;
        if (got < 0 && errno != EINTR) throw Error(fmt::format("waiting for {}: {}", argv[0], std::strerror(errno)));
        ::usleep(20000);
    }
    relay.relay();
    int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    if (how.shares_group && relay.seen() > 0 && relay.last() == SIGTERM) {
        // The child may have ended of the same signal, before the command: the command's own
        // shutdown (a checkpoint saved) is waited for, until one more signal says stop.
        const int seen = relay.seen();
        const auto note_at = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        bool noted = false;
        for (relay.relay(); relay.seen() == seen && how.command_runs(); relay.relay()) {
            if (!noted && std::chrono::steady_clock::now() >= note_at) {
                how.waiting_note();
                noted = true;
            }
            ::usleep(50000);
        }
        code = 128 + relay.last();
    }
    relay.report_waiting();
    return code;
}

void spawn_detached(const std::vector<std::string>& argv, const fs::path& output, const std::optional<fs::path>& cwd) {
    trace(argv);
    const ExecPlan plan = make_plan(argv, {}, cwd, output);
    ExecErrorPipe report(argv[0]);
    const pid_t first = fork_or_throw(argv[0]);  // the pipe's ends close with `report` when it throws
    if (first == 0) {
        report.read_end.reset();
        ::setsid();  // no controlling terminal: closing it sends no hang-up
        const pid_t second = ::fork();
        if (second < 0) {
            int err = errno;
            [[maybe_unused]] auto written = ::write(report.write_end.get(), &err, sizeof err);
            ::_exit(127);
        }
        if (second > 0) ::_exit(0);  // the daemon is re-parented to init (or the subreaper)
        exec_in_child(plan, report.write_end.get());
    }
    report.write_end.reset();
    int status = 0;
    while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
    }
    if (const int err = read_exec_error(report.read_end))
        throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(err)));
}

Conversation::Conversation(const std::vector<std::string>& argv) {
    trace(argv);
    ExecPlan plan = make_plan(argv, {}, std::nullopt, {});
    program_ = argv[0];
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
        throw Error(fmt::format("cannot start {}: {}", program_, std::strerror(errno)));
    socket_.reset(ends[0]);
    UniqueFd childs_end(ends[1]);
    plan.conversation_fd = childs_end.get();
    ExecErrorPipe report(program_);
    const pid_t pid = fork_or_throw(program_);
    if (pid == 0) {
        report.read_end.reset();
        exec_in_child(plan, report.write_end.get());
    }
    childs_end.reset();
    report.write_end.reset();
    if (const int err = read_exec_error(report.read_end)) {
        ::waitpid(pid, nullptr, 0);
        throw Error(fmt::format("cannot start {}: {}", program_, std::strerror(err)));
    }
    pid_ = pid;
}

Conversation::~Conversation() {
    ::shutdown(socket_.get(), SHUT_WR);  // its input ends: a batch program finishes and exits
    const pid_t pid = static_cast<pid_t>(pid_);
    for (int waited_ms = 0;; ++waited_ms) {
        const pid_t got = ::waitpid(pid, nullptr, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR)) break;  // reaped (ECHILD: by someone else)
        if (waited_ms >= 1000) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        ::usleep(1000);
    }
}

void Conversation::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0) throw Error(fmt::format("{} stopped reading: {}", program_, std::strerror(errno)));
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

void Conversation::fill() {
    if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
        buffer_.erase(0, consumed_);
        consumed_ = 0;
    }
    pollfd wanted{socket_.get(), POLLIN, 0};
    const auto limit = std::chrono::steady_clock::now() + default_timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limit - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw Error(fmt::format("{} did not answer within {} s", program_,
                                    std::chrono::duration_cast<std::chrono::seconds>(default_timeout).count()));
        const int ready = ::poll(&wanted, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw Error(fmt::format("reading from {}: {}", program_, std::strerror(errno)));
        if (ready > 0) break;
    }
    char chunk[65536];
    ssize_t got;
    do got = ::recv(socket_.get(), chunk, sizeof chunk, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0) throw Error(fmt::format("reading from {}: {}", program_, std::strerror(errno)));
    if (got == 0) throw Error(fmt::format("{} ended before it answered", program_));
    buffer_.append(chunk, static_cast<std::size_t>(got));
}

std::string Conversation::receive_line() {
    std::size_t searched = consumed_;
    for (;;) {
        const auto end = buffer_.find('\n', searched);
        if (end != std::string::npos) {
            std::string line = buffer_.substr(consumed_, end - consumed_);
            consumed_ = end + 1;
            return line;
        }
        searched = buffer_.size() - consumed_;  // offsets move when fill() compacts the buffer
        fill();
        searched += consumed_;
    }
}

std::string Conversation::receive(std::size_t size) {
    while (buffer_.size() - consumed_ < size) fill();
    std::string bytes = buffer_.substr(consumed_, size);
    consumed_ += size;
    return bytes;
}

}  // namespace gm::proc
