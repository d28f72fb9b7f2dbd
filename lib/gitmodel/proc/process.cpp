#include "gitmodel/proc/process.hpp"

#include "gitmodel/core/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <sys/wait.h>
#include <unistd.h>

namespace bp = boost::process;

namespace gm::proc {

std::string RunResult::describe() const {
    if (timed_out) return "timed out and was killed";
    if (signal != 0) return fmt::format("was killed by signal {} ({})", signal, ::strsignal(signal));
    return fmt::format("exited with status {}", exit_code);
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
    for (const auto& [name, value] : options.env) {
        if (value) env[name] = *value;
        else env.erase(name);
    }
    return env;
}

void fill_status(RunResult& result, int native_status) {
    if (WIFSIGNALED(native_status)) {
        result.signal = WTERMSIG(native_status);
    } else if (WIFEXITED(native_status)) {
        result.exit_code = WEXITSTATUS(native_status);
    }
}

}  // namespace

namespace {

// GIT_MODEL_TRACE=1 prints every program the suite runs, like git's GIT_TRACE:
// one line, each argument quoted, on stderr.
void trace(const std::vector<std::string>& argv) {
    const char* wanted = std::getenv("GIT_MODEL_TRACE");
    if (!wanted || !*wanted || std::string(wanted) == "0") return;
    std::string line = "trace: run:";
    for (const auto& arg : argv) {
        std::string quoted = "'";
        for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        line += " " + quoted + "'";
    }
    fmt::print(stderr, "{}\n", line);
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
    const boost::filesystem::path cwd(options.cwd ? options.cwd->string()
                                                  : std::filesystem::current_path().string());
    RunResult result;
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io);
    std::future<std::string> out_future;
    std::future<std::string> err_future;
    const std::string input = options.input.value_or(std::string());
    bp::async_pipe input_pipe(io);
    auto on_exit = bp::on_exit([&](int, const std::error_code&) { timer.cancel(); });
    const auto env = child_environment(options);

    bp::child child;
    try {
        // Boost.Process wants its properties at compile time, so each I/O shape is one call.
        if (options.inherit_output) {
            if (options.input) {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < input_pipe, on_exit, io);
            } else {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < bp::null, on_exit, io);
            }
        } else if (options.capture_stderr) {
            if (options.input) {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < input_pipe,
                                  bp::std_out > out_future, bp::std_err > err_future, on_exit, io);
            } else {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < bp::null,
                                  bp::std_out > out_future, bp::std_err > err_future, on_exit, io);
            }
        } else {
            if (options.input) {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < input_pipe,
                                  bp::std_out > out_future, on_exit, io);
            } else {
                child = bp::child(exe, bp::args(args), bp::start_dir(cwd), env, bp::std_in < bp::null,
                                  bp::std_out > out_future, on_exit, io);
            }
        }
    } catch (const bp::process_error& e) {
        throw Error(fmt::format("cannot run '{}': {}", argv[0], e.what()));
    }
    if (options.input) {
        boost::asio::async_write(input_pipe, boost::asio::buffer(input),
                                 [&](const boost::system::error_code&, std::size_t) { input_pipe.close(); });
    }
    if (options.timeout) {
        timer.expires_after(*options.timeout);
        timer.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled: the child finished in time
            result.timed_out = true;
            std::error_code ignored;
            child.terminate(ignored);
            io.stop();  // a grandchild may still hold the pipes open: stop waiting for them
        });
    }
    // Returns once the child has exited and its pipes are drained (or on timeout).
    io.run();
    if (result.timed_out) return result;
    if (child.running()) child.wait();
    if (out_future.valid()) result.out = out_future.get();
    if (err_future.valid()) result.err = err_future.get();
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
    boost::asio::io_context io;
    const auto env = child_environment(options);
    const boost::filesystem::path cwd(options.cwd ? options.cwd->string() : std::filesystem::current_path().string());
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
                                       bp::on_exit([self](int, const std::error_code&) { self->timer->cancel(); }), io);
        } catch (const bp::process_error& e) {
            throw Error(fmt::format("cannot run '{}': {}", argv[0], e.what()));
        }
        if (options.timeout) {
            running->timer->expires_after(*options.timeout);
            running->timer->async_wait([self](const boost::system::error_code& ec) {
                if (ec) return;
                self->timed_out = true;
                std::error_code ignored;
                self->child.terminate(ignored);
            });
        }
        children.push_back(std::move(running));
    }
    io.run();
    std::vector<RunResult> results;
    for (auto& running : children) {
        RunResult result;
        result.timed_out = running->timed_out;
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
        std::string detail = result.err;
        while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
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
