#pragma once
// Who a process is, so that a record of it (a GPU lease, a sweep's scheduler, a
// sweep being created) is judged by the process itself and never by a recycled
// pid: the pid plus its start time from /proc, and the boot it ran in. The one
// helper every liveness question goes through; a zombie counts as gone.

#include <optional>
#include <sys/types.h>
#include <string>
#include <vector>

namespace gm::proc {

// A process as recorded in a file: its pid and start time, so that a recycled pid
// is never mistaken for it.
struct ProcessIdentity {
    long pid = 0;
    unsigned long long start_ticks = 0;  // field 22 of /proc/<pid>/stat; 0: not recorded
};

// What can be said about a recorded process.
enum class Liveness {
    alive,    // it runs (and started when recorded)
    gone,     // it ended, is a zombie, or its pid now belongs to another process
    unknown,  // it exists but cannot be inspected (another user's, /proc mounted with hidepid)
};

// This process's identity.
ProcessIdentity self_identity();

// The identity of the process that runs as pid now, if one does and can be inspected.
std::optional<ProcessIdentity> identity_of(long pid);

// Judges a recorded process (start_ticks 0: any process with that pid counts).
Liveness liveness(const ProcessIdentity& process);

// The user a running process belongs to: its real uid, the user who started it (a setuid program
// a user runs stays theirs, though its /proc folder is its effective user's), nullopt when it is
// gone or hidden. A lease names processes of its own user, never one of root's or a stranger's.
std::optional<uid_t> process_owner(long pid);

// Whether that process still runs (a zombie, or a pid that cannot be inspected, counts as not).
bool is_running(const ProcessIdentity& process);

// A running process of this user (real uid) whose arguments (after argv[0], whatever program it
// is: an engine may be a wrapper script or a shim) hold `arguments` in a row: an engine client
// left by a killed command that still creates a container ("run", "--detach", "--name", <name>)
// is found by what it was asked to do, since nothing recorded its pid. nullopt when none runs
// (or /proc cannot say).
std::optional<long> find_own_process(const std::vector<std::string>& arguments);

// The running processes whose environment holds `entry` ("NAME=value") and that this process
// may inspect (its own user's, those in a user namespace it owns, any for root): the processes a
// command started in a container through the engine, which are not this process's children, found
// by a random value given to that command alone. Empty when /proc cannot say.
std::vector<long> processes_with_environment(const std::string& entry);

// The pid namespace a process runs in ("pid:[4026531836]"), "" when it cannot be read: whether a
// process is inside a container (the namespace of the container's first process) or on the host.
std::string pid_namespace(long pid);

// This boot's id (/proc/sys/kernel/random/boot_id): a record from another boot names
// processes that are all gone. Empty when the kernel does not say.
const std::string& boot_id();

}  // namespace gm::proc
