#pragma once
// Children that outlive one call: the sweep scheduler's runs (started, then
// waited for while others run) and the scheduler itself, detached from the
// terminal so that closing it does not stop a sweep. argv vectors only.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/proc/identity.hpp"  // ProcessIdentity, is_running: the one process-identity helper

namespace gm::proc {

// How a background child is started.
struct SpawnOptions {
    // Working directory of the child; the caller's when empty.
    std::optional<std::filesystem::path> cwd;
    // Variables to set (value) or remove (nullopt) on top of the inherited environment.
    std::vector<std::pair<std::string, std::optional<std::string>>> env;
    // stdout and stderr are appended to this file (created 0644); /dev/null when empty.
    std::filesystem::path output;
    // The child leads a process group of its own, so that stopping it reaches its children too.
    bool own_process_group = true;
    // The child has our stdin, stdout and stderr (a terminal a user works in), `output` unused.
    bool inherit_stdio = false;
    // SIGINT, SIGTERM and SIGHUP that this process ignores stay ignored in the child (nohup's
    // hang-up), instead of set back to their default action.
    bool keep_ignored_signals = false;
    // SIGINT and SIGHUP are ignored in the child: it shares a terminal's process group with us and
    // must outlive the Ctrl-C or hang-up that we pass on ourselves (programs in Go, as the
    // container engines are, keep an inherited ignore for those two).
    bool ignore_interrupts = false;
};

// A started child: its pid (and process group when it leads one).
struct Child {
    long pid = 0;
};

// Starts argv[0] (looked up on PATH unless it contains a '/') without waiting.
// Throws gm::Error when the program cannot be started.
Child spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// How a waited-for child ended.
struct ExitStatus {
    long pid = 0;
    int exit_code = -1;  // valid when signal == 0
    int signal = 0;      // the signal that killed it, 0 if it exited
    // "exited with 2", "killed by signal 15 (Terminated)".
    std::string describe() const;
};

// Reaps one child that has ended, if any has, without blocking.
std::optional<ExitStatus> reap_any();

// Sends a signal to a child's whole process group (or the child alone when it leads none).
void signal_child(const Child& child, int signal);

// What run_forwarding_signals asks of its caller about the command its child runs elsewhere
// (an engine's `exec`, whose client passes no signal on).
struct SignalForwarding {
    // Passes a signal on to the command; false while it found nothing to pass it to (the command
    // not started yet): it is asked again until it returns true or 5 s passed.
    std::function<bool(int)> forward;
    // Told of a signal that could not be passed on (5 s passed, or the child ended first).
    std::function<void(int)> lost;
    // Whether the command (the process forward found first) still runs.
    std::function<bool()> command_runs;
    // Called once a wait for the command passed 2 s, to say so.
    std::function<void()> waiting_note;
    // The child stays in our process group, as it must when it reads or writes a terminal (in a
    // group of its own it would be stopped): it then ignores SIGINT and SIGHUP, which we pass on,
    // but a SIGTERM sent to the whole group may end it before the command. Otherwise it leads a
    // group of its own, out of any such signal's reach, and its exit status is the command's.
    bool shares_group = false;
};

// Runs argv with our stdin, stdout and stderr and returns its exit status as a shell gives it
// (128 + the signal when one killed it). SIGINT, SIGTERM and SIGHUP meanwhile do not end this
// process (those it was started with ignored stay ignored, here and in the child): each goes to
// how.forward, once (the same signal again within 300 ms is the same one, sent twice: to our group
// and by a parent passing it on). When the child shares our group and a SIGTERM came, the child's
// status says nothing of the command's: the command is waited for (until it ends or one more
// signal comes) and the status is 143.
int run_forwarding_signals(const std::vector<std::string>& argv, const SignalForwarding& how);

// Starts argv as a daemon: its own session, no terminal, stdin from /dev/null,
// output appended to `output`, surviving the end of this process and a hang-up.
// Returns once the daemon has been exec'd (or throws gm::Error saying why not).
void spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& output,
                    const std::optional<std::filesystem::path>& cwd = {});

// A child that answers question after question: what is sent reaches its stdin, and its stdout
// is read back (its stderr is ours), as `git cat-file --batch` works. One process for thousands
// of small lookups, where a process each costs a millisecond or more apiece. The caller reads
// each answer before it sends much more (neither side's buffer is unbounded). Each wait for
// output ends after default_timeout with an error, so a hung child fails the command instead of
// hanging it. The destructor closes the child's input and reaps it (killing it when it has not
// ended within a second).
class Conversation {
public:
    // Starts argv[0] (looked up on PATH unless it contains a '/'); throws gm::Error when it
    // cannot start.
    explicit Conversation(const std::vector<std::string>& argv);
    ~Conversation();
    Conversation(const Conversation&) = delete;
    Conversation& operator=(const Conversation&) = delete;

    // Writes bytes to the child's input; throws gm::Error when it can no longer read (it ended).
    void send(std::string_view bytes);
    // The next line of its output, without the line break; throws gm::Error when its output
    // ends first or nothing comes in time.
    std::string receive_line();
    // The next `size` bytes of its output; throws like receive_line.
    std::string receive(std::size_t size);

private:
    // Reads what the child wrote next onto buffer_, or throws.
    void fill();

    std::string program_;
    long pid_ = 0;
    UniqueFd socket_;     // our end of the socket pair that is the child's stdin and stdout
    std::string buffer_;  // output read and not handed out yet, from consumed_ on
    std::size_t consumed_ = 0;
};

}  // namespace gm::proc
