#pragma once
// Facts of this process's machine that many layers ask for: the time and who runs us.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gm {

// Now, in Unix seconds: what leases, runs and caches record and compare ages against.
std::int64_t now_seconds();

// The account name of a uid in the user database (getpwuid_r), nullopt when it has none.
std::optional<std::string> account_name(uid_t uid);

// The user name of a uid (its number when it has none), for messages.
std::string user_name_of(uid_t uid);

// A range of subordinate ids (/etc/subuid): first, first + 1, ..., first + count - 1.
struct IdRange {
    unsigned first = 0;
    unsigned count = 0;
};

// The caller's ranges in /etc/subuid's text ("name:first:count" lines naming the user by name
// or uid); malformed lines are skipped.
std::vector<IdRange> subordinate_ranges(const std::string& text, const std::string& name, unsigned uid);

// Whether uid lies in one of the ranges.
bool in_ranges(const std::vector<IdRange>& ranges, unsigned uid);

// The caller's subordinate uid ranges (/etc/subuid): the host uids their rootless containers'
// other users run as.
std::vector<IdRange> own_subordinate_uids();

// An environment variable's value, nullptr when it is unset or empty (git treats an empty
// GIT_DIR or GIT_CONFIG_NOSYSTEM as unset too).
const char* env_or_null(const char* name);

// A process's state and start as /proc/<pid>/stat gives them, read in this one place: whether
// a recorded pid is still its process, a zombie (ended, not yet reaped: under a PID 1 that never
// reaps, for good), or another process that got the pid since.
struct ProcessStat {
    char state = 0;                      // 'R', 'S', 'D', 'T', 'Z' (zombie), 'X' (dead), ...
    unsigned long long start_ticks = 0;  // field 22: clock ticks after boot
};

// The process's stat; nullopt when it is gone or /proc does not show it (hidepid).
std::optional<ProcessStat> read_process_stat(long pid);

// When the process started, in Unix seconds (the boot time plus its start ticks), to tell whether
// it can have written a file last changed at a given time; nullopt when /proc does not say.
std::optional<std::int64_t> process_start_seconds(const ProcessStat& stat);

// A process of this user whose arguments include every one of `arguments` (each as a whole
// argument), by /proc/<pid>/cmdline: the `git worktree add` a killed git-model started goes on
// alone, and what it is making must not be removed under it. nullopt when none (or /proc hides it).
std::optional<long> own_process_with_arguments(const std::vector<std::string>& arguments);

// The name of the user this process runs as (its effective uid), for messages and logs.
std::string user_name();

// The UUIDs of the GPUs the NVIDIA kernel module lists (/proc/driver/nvidia/gpus/*/information),
// without starting CUDA; empty without a driver.
std::set<std::string> driver_gpu_uuids();

}  // namespace gm
