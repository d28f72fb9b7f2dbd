#pragma once
// Running other programs: the only layer that includes Boost.Process.
//
// Everything goes through argument vectors; nothing is ever passed through a
// shell, so user input (model names, paths, images) cannot be interpreted.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gm::proc {

// How long a child may run when the caller names no other limit: far more than any local git
// or engine query takes, so that only a hung child (a stuck lock, an engine that never answers)
// reaches it, and then the command fails instead of hanging for ever.
inline constexpr std::chrono::milliseconds default_timeout = std::chrono::minutes(5);

// How a child runs: where, with which environment changes, what it reads, how long it may take.
struct RunOptions {
    // Working directory of the child; the caller's when empty.
    std::optional<std::filesystem::path> cwd;
    // Variables to set (value) or remove (nullopt) on top of the inherited environment.
    std::vector<std::pair<std::string, std::optional<std::string>>> env;
    // Bytes written to the child's standard input (then closed); none: stdin is /dev/null.
    std::optional<std::string> input;
    // After this long the child's whole process group is killed (SIGKILL): the result says
    // timed_out and keeps what was printed until then. default_timeout unless the caller sets
    // another; nullopt means no limit, for the few children that may rightly run for hours
    // (a push of large files, a checkout that downloads them), each with a comment saying why.
    // With a timeout (or max_output) and !terminal, the child leads a process group of its
    // own, so that the kill reaches everything it started (a shell's children, git's helpers);
    // that group is not the terminal's foreground one: it does not get the terminal's Ctrl-C
    // and cannot read the terminal.
    std::optional<std::chrono::milliseconds> timeout = default_timeout;
    // When true, the child stays in our process group, the terminal's foreground one: it may
    // ask for a password on /dev/tty (git push, fetch, ssh) and Ctrl-C reaches it with us. A
    // timeout then kills the child alone, not what it started, so such children run without.
    // Under nohup (SIGHUP ignored) it leads a group of its own instead, out of reach of the
    // hang-up sent to ours (Ctrl-C is passed on to it when it ends us).
    bool terminal = false;
    // When true, the child shares our stdout/stderr (progress, hook output reach the user)
    // instead of having them captured.
    bool inherit_output = false;
    // When true (and inherit_output is false), stderr is captured into RunResult::err;
    // otherwise it goes to our own stderr.
    bool capture_stderr = true;
    // When set (and output is captured), standard output is handed over in chunks as it
    // arrives instead of being collected in RunResult::out, so that a caller can work on a
    // long output while the child still writes it.
    std::function<void(std::string_view)> on_stdout;
    // When not 0, the signal the child gets should this process die first (even by SIGKILL,
    // which passes nothing on): SIGTERM lets an image pull stop and clean up after itself
    // rather than run on, orphaned, for minutes.
    int parent_death_signal = 0;
    // Called with the child's pid once it runs, before waiting for it (to record it); when it
    // throws, the child is killed and waited for, and the exception goes on.
    std::function<void(long pid)> on_start;
    // When true (and inherit_output is false), stderr is both captured and copied to our own
    // stderr as it arrives: a hook's or a server's messages are seen live and can still be read.
    bool tee_stderr = false;
    // When set, captured stdout and stderr may each hold at most this many bytes: a child that
    // prints more (a hostile image's endless file) has its process group killed (SIGKILL), and
    // the result says output_capped and keeps the first max_output bytes. Not with on_stdout.
    std::optional<std::size_t> max_output;
};

// What became of a child: its exit status, or the signal that ended it, and its output.
struct RunResult {
    int exit_code = -1;        // valid when signal == 0 and !timed_out
    int signal = 0;            // the signal that killed it, 0 if it exited
    bool timed_out = false;    // killed by us because RunOptions::timeout passed
    bool output_capped = false;  // killed by us because it printed more than RunOptions::max_output
    std::chrono::milliseconds timeout{0};  // the limit that struck, when timed_out (for messages)
    std::string out;           // captured standard output (up to the timeout, if one struck)
    std::string err;           // captured standard error (when captured)

    // True for a normal exit with status 0.
    bool ok() const { return signal == 0 && !timed_out && !output_capped && exit_code == 0; }
    // One line for error messages: "exited with status 1", "was killed by signal 9 (Killed)",
    // "timed out after 5 s and was killed".
    std::string describe() const;
    // The last `lines` lines of what it printed (stderr, else stdout), for an error message
    // about a child that timed out: what it was doing when it was stopped.
    std::string tail(std::size_t lines = 20) const;
};

// Runs argv[0] (looked up on PATH unless it contains a '/') and waits for it.
// Throws gm::Error only when the program cannot be started at all.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Like run(), but throws gm::Error carrying the child's stderr when it does not succeed
// (after a timeout: how long, and the tail of what it printed), for the many calls where any
// failure is fatal.
RunResult run_checked(const std::vector<std::string>& argv, const RunOptions& options = {});

// Runs several programs at the same time (their output captured, stdin /dev/null, each
// under options.timeout, each in a process group of its own that the timeout kills whole),
// for independent questions whose answers are all needed: the time of the slowest, not of
// all. Results in argv order; throws like run().
std::vector<RunResult> run_concurrently(const std::vector<std::vector<std::string>>& commands,
                                        const RunOptions& options = {});

// The full path of a program on PATH, the way a shell would find it; nullopt when absent.
std::optional<std::filesystem::path> find_program(const std::string& name);

// The absolute path of the running executable, so that sibling programs
// (git-model-env beside git-model) are found before anything on PATH.
std::filesystem::path current_executable();

// Replaces this process with another program (argv vector, no shell), the way
// `git model env` hands over to git-model-env: signals, stdin and the exit code
// then belong to that program. Returns only by throwing.
[[noreturn]] void exec_replace(const std::filesystem::path& program, const std::vector<std::string>& argv);

// GIT_MODEL_TRACE=1 prints every program the suite runs, like git's GIT_TRACE: one line,
// each argument quoted, on stderr. run, spawn and spawn_detached all call it, so a trace
// shows the background children too (a sweep's engine commands in its scheduler.log).
void trace(const std::vector<std::string>& argv);

}  // namespace gm::proc
