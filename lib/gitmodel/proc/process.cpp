#include "gitmodel/proc/process.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <fmt/core.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <sys/prctl.h>
#include <memory>
#include <mutex>
#include <sys/wait.h>
#include <unistd.h>

namespace bp = boost::process;

namespace gm::proc {

namespace {

// "300 ms", "10 s", "5 min": a limit as the user would write it.
std::string format_duration(std::chrono::milliseconds limit) {
    const auto ms = limit.count();
    if (ms % 60000 == 0 && ms >= 60000) return fmt::format("{} min", ms / 60000);
    if (ms % 1000 == 0) return fmt::format("{} s", ms / 1000);
    return fmt::format("{} ms", ms);
}

}  // namespace

std::string RunResult::describe() const {
    if (timed_out) return fmt::format("timed out after {} and was killed", format_duration(timeout));
    if (output_capped) return "printed more than we read and was killed";
    if (signal != 0) return fmt::format("was killed by signal {} ({})", signal, ::strsignal(signal));
    return fmt::format("exited with status {}", exit_code);
}

std::string RunResult::tail(std::size_t lines) const {
    std::string_view text = err.find_first_not_of(" \n") != std::string::npos ? err : out;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    std::size_t start = text.size();
    for (std::size_t seen = 0; start > 0; --start) {
        if (text[start - 1] == '\n' && ++seen == lines) break;
    }
    return std::string(text.substr(start));
}

std::optional<std::filesystem::path> find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
        return std::nullopt;
    }
    const auto found = bp::search_path(name);
    if (found.empty()) return std::nullopt;
    return std::filesystem::path(found.string());
}

std::filesystem::path current_executable() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error(fmt::format("cannot find the running executable: {}", ec.message()));
    return path;
}

namespace {

bp::environment child_environment(const RunOptions& options) {
    bp::environment env = boost::this_process::environment();
    // set() and reset(), not operator[] and erase(): Boost 1.74's find() behind those compares
    // the whole name with every entry, reading past the end of a shorter one.
    for (const auto& [name, value] : options.env) {
        if (value) env.set(name, *value);
        else env.reset(name);
    }
    return env;
}

// In the child, before exec: a signal when the parent dies (RunOptions::parent_death_signal).
struct ParentDeathSignal : bp::extend::handler {
    int signal = 0;
    pid_t parent = 0;
    template <class Executor>
    void on_exec_setup(Executor&) const {
        if (signal == 0) return;
        ::prctl(PR_SET_PDEATHSIG, signal);
        if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    }
};

void fill_status(RunResult& result, int native_status) {
    if (WIFSIGNALED(native_status)) {
        result.signal = WTERMSIG(native_status);
    } else if (WIFEXITED(native_status)) {
        result.exit_code = WEXITSTATUS(native_status);
    }
}

}  // namespace

void trace(const std::vector<std::string>& argv) {
    const char* wanted = std::getenv("GIT_MODEL_TRACE");
    if (!wanted || !*wanted || std::string(wanted) == "0") return;
    std::string line = "trace: run:";
    for (const auto& arg : argv) line += " " + shell_word(arg);
    fmt::print(stderr, "{}\n", line);
}

namespace {

// Boost.Process watches its children with an Asio SIGCHLD handler and leaves SIGCHLD at SIG_DFL
// when it is done, which silently took the sweep scheduler's own handler (its wake-up when a run
// ends) after its first engine call. This puts back whatever was there, and, when that was a
// handler of the caller's, calls it once: a child of the caller's that ended meanwhile was seen
// only by Asio's handler.
class KeepSigchldHandler {
public:
    KeepSigchldHandler() { saved_ok_ = ::sigaction(SIGCHLD, nullptr, &saved_) == 0; }
    ~KeepSigchldHandler() {
        if (!saved_ok_) return;
        ::sigaction(SIGCHLD, &saved_, nullptr);
        if (!(saved_.sa_flags & SA_SIGINFO) && saved_.sa_handler != SIG_DFL && saved_.sa_handler != SIG_IGN)
            ::raise(SIGCHLD);
    }
    KeepSigchldHandler(const KeepSigchldHandler&) = delete;
    KeepSigchldHandler& operator=(const KeepSigchldHandler&) = delete;

private:
    struct sigaction saved_ {};
    bool saved_ok_ = false;
};

// Puts the child at the head of a process group of its own (when asked), so that a timeout
// reaches everything it started: a shell's children, a container engine's helpers.
struct ProcessGroup : bp::extend::handler {
    bool own = false;
    template <typename Executor>
    void on_exec_setup(Executor&) const {
        if (own) ::setpgid(0, 0);
    }
};

// Whether this process ignores SIGHUP (started under nohup).
bool hangup_ignored() {
    struct sigaction current {};
    return ::sigaction(SIGHUP, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

// The process groups of the children that run now in a group of their own: an interrupting
// signal that ends us (Ctrl-C, a hang-up, kill) is passed on to them first, as it reached them
// when they shared our group; otherwise they would run on as orphans (a bench on the GPU, an
// engine client), since the terminal's Ctrl-C reaches only its foreground group.
std::array<std::atomic<pid_t>, 64> own_groups{};
constexpr std::array<int, 3> passed_on_signals{SIGINT, SIGTERM, SIGHUP};

extern "C" void gm_pass_signal_on(int signal) {
    const int saved_errno = errno;
    for (auto& slot : own_groups)
        if (const pid_t group = slot.load(); group > 0) ::kill(-group, signal);
    // Then end as the signal would have ended us: it is delivered when this handler returns.
    ::signal(signal, SIG_DFL);
    ::raise(signal);
    errno = saved_errno;
}

// Installs the handler above once, for each signal whose action is still the default (one the
// program ignores or handles itself, as DeferSignals does while a start rolls back, stays so).
void pass_signals_on() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int signal : passed_on_signals) {
            struct sigaction current {};
            if (::sigaction(signal, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;
            struct sigaction action {};
            action.sa_handler = gm_pass_signal_on;
            sigemptyset(&action.sa_mask);
            ::sigaction(signal, &action, nullptr);
        }
    });
}

// Names a child's own process group for gm_pass_signal_on while it lives (none: no slot free).
class OwnGroupRecord {
public:
    explicit OwnGroupRecord(pid_t group) {
        if (group <= 0) return;
        pass_signals_on();
        for (auto& entry : own_groups) {
            pid_t empty = 0;
            if (entry.compare_exchange_strong(empty, group)) {
                slot_ = &entry;
                return;
            }
        }
    }
    ~OwnGroupRecord() {
        if (slot_) slot_->store(0);
    }
    OwnGroupRecord(const OwnGroupRecord&) = delete;
    OwnGroupRecord& operator=(const OwnGroupRecord&) = delete;

private:
    std::atomic<pid_t>* slot_ = nullptr;
};

// Writes all of `text` to `fd`, giving up on an error (a closed terminal loses nothing we keep).
void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const auto wrote = ::write(fd, text.data(), text.size());
        if (wrote <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(wrote));
    }
}

// Reads a pipe to its end into `into`, calling done once at the end (or on an error).
class PipeReader {
public:
    PipeReader(bp::async_pipe& pipe, std::string& into, std::function<void()> done,
               std::function<void(std::string_view)> consume = {}, bool tee = false)
        : pipe_(pipe), into_(into), done_(std::move(done)), consume_(std::move(consume)), tee_(tee) {}
    // At most `limit` bytes are kept; past it, over() is called once and reading stops.
    void cap(std::size_t limit, std::function<void()> over) {
        limit_ = limit;
        over_ = std::move(over);
    }
    void start() {
        pipe_.async_read_some(boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
            if (consume_) {
                if (n) consume_(std::string_view(buffer_.data(), n));
            } else {
                into_.append(buffer_.data(), n);
                if (limit_ && into_.size() > *limit_) {
                    into_.resize(*limit_);
                    over_();
                    done_();
                    return;
                }
            }
            if (tee_) write_all(STDERR_FILENO, std::string_view(buffer_.data(), n));
            if (ec) {
                done_();
                return;
            }
            start();
        });
    }

private:
    bp::async_pipe& pipe_;
    std::string& into_;
    std::function<void()> done_;
    std::function<void(std::string_view)> consume_;
    bool tee_ = false;  // also copied to our stderr as it comes
    std::optional<std::size_t> limit_;
    std::function<void()> over_;
    std::array<char, 65536> buffer_{};
};

// The folder a child starts in: the one asked for, else ours. Ours may be gone (a worktree
// removed while a command ran in it: getcwd fails): then /proc/self/cwd, which the child
// resolves to the folder it inherited, as it would have started there without a chdir.
boost::filesystem::path start_folder(const std::optional<std::filesystem::path>& asked) {
    if (asked) return boost::filesystem::path(asked->string());
    std::error_code ec;
    const auto here = std::filesystem::current_path(ec);
    return boost::filesystem::path(ec ? std::string("/proc/self/cwd") : here.string());
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    if (argv.empty()) throw Error("internal error: empty command");
    trace(argv);
    const auto program = find_program(argv[0]);
    if (!program) {
        throw Error(fmt::format("cannot run '{}': not found on PATH", argv[0]),
                    fmt::format("install {} or add it to PATH", argv[0]));
    }
    const std::vector<std::string> args(argv.begin() + 1, argv.end());
    const boost::filesystem::path exe(program->string());
    const boost::filesystem::path cwd = start_folder(options.cwd);
    RunResult result;
    const KeepSigchldHandler keep_sigchld;  // destroyed after io, which resets SIGCHLD
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io);
    boost::asio::steady_timer grace(io);
    const std::string input = options.input.value_or(std::string());
    bp::async_pipe input_pipe(io);
    bp::async_pipe out_pipe(io);
    bp::async_pipe err_pipe(io);
    int open_reads = 0;
    const auto read_done = [&] {
        if (--open_reads == 0) grace.cancel();  // every pipe closed: nothing left to wait for
    };
    PipeReader out_reader(out_pipe, result.out, read_done, options.on_stdout);
    PipeReader err_reader(err_pipe, result.err, read_done, {}, options.tee_stderr);
    auto on_exit = bp::on_exit([&](int, const std::error_code&) { timer.cancel(); });
    const auto env = child_environment(options);
    ProcessGroup group;
    // A terminal child stays in our (foreground) group: it may prompt, and Ctrl-C reaches it;
    // unless we ignore hang-ups (nohup): a hang-up sent to our group would reach it, and git
    // gives its hooks and filters the default action back, so they would die of it.
    group.own = options.terminal ? hangup_ignored() : (options.timeout.has_value() || options.max_output.has_value());
    ParentDeathSignal death;
    death.signal = options.parent_death_signal;
    death.parent = ::getpid();

    bp::child child;
    try {
        // Boost.Process wants its properties at compile time, so each I/O shape is one call.
        if (options.inherit_output) {
            if (options.input) {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < input_pipe, on_exit, group, death, io);
            } else {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < bp::null, on_exit, group, death, io);
            }
        } else if (options.capture_stderr || options.tee_stderr) {
            if (options.input) {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < input_pipe,
                                  bp::std_out > out_pipe, bp::std_err > err_pipe, on_exit, group, death, io);
            } else {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < bp::null,
                                  bp::std_out > out_pipe, bp::std_err > err_pipe, on_exit, group, death, io);
            }
        } else {
            if (options.input) {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < input_pipe,
                                  bp::std_out > out_pipe, on_exit, group, death, io);
            } else {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < bp::null,
                                  bp::std_out > out_pipe, on_exit, group, death, io);
            }
        }
    } catch (const bp::process_error& e) {
        throw Error(fmt::format("cannot run '{}': {}", argv[0], e.what()));
    }
    const OwnGroupRecord recorded(group.own ? static_cast<pid_t>(child.id()) : 0);
    if (options.on_start) {
        try {
            options.on_start(static_cast<long>(child.id()));
        } catch (...) {
            std::error_code ignored;
            child.terminate(ignored);
            child.wait(ignored);
            throw;
        }
    }
    // Kills the whole group (a terminal child: the child alone, it shares ours), then keeps
    // reading what is left until the pipes close, but not for ever (a process that left the
    // group may still hold them).
    const auto kill_group = [&] {
        const pid_t pid = child.id();
        if (!group.own || ::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);
        if (open_reads == 0) return;
        grace.expires_after(std::chrono::milliseconds(500));
        grace.async_wait([&](const boost::system::error_code& grace_ec) {
            if (!grace_ec) io.stop();
        });
    };
    if (options.max_output && !options.on_stdout) {
        const auto over = [&] {
            if (result.output_capped) return;
            result.output_capped = true;
            kill_group();
        };
        out_reader.cap(*options.max_output, over);
        err_reader.cap(*options.max_output, over);
    }
    if (!options.inherit_output) {
        ++open_reads;
        out_reader.start();
        if (options.capture_stderr || options.tee_stderr) {
            ++open_reads;
            err_reader.start();
        }
    }
    if (options.input) {
        boost::asio::async_write(input_pipe, boost::asio::buffer(input),
                                 [&](const boost::system::error_code&, std::size_t) { input_pipe.close(); });
    }
    if (options.timeout) {
        timer.expires_after(*options.timeout);
        timer.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled: the child finished in time
            if (result.output_capped) return;
            result.timed_out = true;
            result.timeout = *options.timeout;
            kill_group();  // keeps what it printed
        });
    }
    // Returns once the child has exited and its pipes are drained (or after a timeout's grace).
    io.run();
    std::error_code ignored;
    if (child.running(ignored)) child.wait(ignored);
    if (result.timed_out) return result;
    fill_status(result, child.native_exit_code());
    return result;
}

std::vector<RunResult> run_concurrently(const std::vector<std::vector<std::string>>& commands,
                                        const RunOptions& options) {
    struct Running {
        bp::child child;
        std::future<std::string> out;
        std::future<std::string> err;
        std::unique_ptr<boost::asio::steady_timer> timer;
        bool timed_out = false;
    };
    const KeepSigchldHandler keep_sigchld;  // destroyed after io, which resets SIGCHLD
    boost::asio::io_context io;
    const auto env = child_environment(options);
    const boost::filesystem::path cwd = start_folder(options.cwd);
    ProcessGroup group;  // each child leads its own, so that a timeout reaches what it started
    group.own = options.timeout.has_value();
    std::vector<std::unique_ptr<Running>> children;
    for (const auto& argv : commands) {
        if (argv.empty()) throw Error("internal error: empty command");
        trace(argv);
        const auto program = find_program(argv[0]);
        if (!program)
            throw Error(fmt::format("cannot run '{}': not found on PATH", argv[0]),
                        fmt::format("install {} or add it to PATH", argv[0]));
        auto running = std::make_unique<Running>();
        running->timer = std::make_unique<boost::asio::steady_timer>(io);
        Running* self = running.get();
        try {
            running->child = bp::child(boost::filesystem::path(program->string()),
                                       bp::args(std::vector<std::string>(argv.begin() + 1, argv.end())),
                                       bp::start_dir(cwd), env, bp::std_in < bp::null, bp::std_out > running->out,
                                       bp::std_err > running->err,
                                       bp::on_exit([self](int, const std::error_code&) { self->timer->cancel(); }),
                                       group, io);
        } catch (const bp::process_error& e) {
            throw Error(fmt::format("cannot run '{}': {}", argv[0], e.what()));
        }
        if (options.timeout) {
            running->timer->expires_after(*options.timeout);
            running->timer->async_wait([self](const boost::system::error_code& ec) {
                if (ec) return;
                self->timed_out = true;
                const pid_t pid = self->child.id();
                if (::kill(-pid, SIGKILL) != 0) ::kill(pid, SIGKILL);  // the whole group, else the child
            });
        }
        children.push_back(std::move(running));
    }
    std::vector<std::unique_ptr<OwnGroupRecord>> recorded;
    if (group.own)
        for (const auto& running : children)
            recorded.push_back(std::make_unique<OwnGroupRecord>(static_cast<pid_t>(running->child.id())));
    io.run();
    std::vector<RunResult> results;
    for (auto& running : children) {
        RunResult result;
        result.timed_out = running->timed_out;
        if (result.timed_out) result.timeout = *options.timeout;
        if (running->child.running()) running->child.wait();
        if (running->out.valid()) result.out = running->out.get();
        if (running->err.valid()) result.err = running->err.get();
        if (!result.timed_out) fill_status(result, running->child.native_exit_code());
        results.push_back(std::move(result));
    }
    return results;
}

RunResult run_checked(const std::vector<std::string>& argv, const RunOptions& options) {
    RunResult result = run(argv, options);
    if (!result.ok()) {
        const std::string detail = trim_end(result.timed_out ? result.tail() : result.err, "\n ");  // what it was doing when stopped
        std::string command;
        for (std::size_t i = 0; i < argv.size() && i < 3; ++i) command += (i ? " " : "") + argv[i];
        throw Error(fmt::format("'{}' {}{}{}", command, result.describe(), detail.empty() ? "" : ":\n",
                                detail));
    }
    return result;
}

void exec_replace(const std::filesystem::path& program, const std::vector<std::string>& argv) {
    std::vector<char*> raw;
    raw.reserve(argv.size() + 1);
    for (const auto& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
    raw.push_back(nullptr);
    ::execv(program.c_str(), raw.data());
    throw Error(fmt::format("cannot run '{}': {}", program.string(), std::strerror(errno)));
}

}  // namespace gm::proc
