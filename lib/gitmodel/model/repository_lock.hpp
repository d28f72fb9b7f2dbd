#pragma once
// Locks in the common git dir that make concurrent git-model commands in one
// repository take turns instead of failing. git's own `worktree add` reads every
// other worktree's admin folder and fails on one that is being made, so worktree
// creation and removal (start, sweep creation and clean, prune) hold the
// "worktrees" lock; snapshot numbering and the finish notes hold theirs. An
// flock: the kernel drops it when its holder dies, so it is never stale.
// The wait is bounded by model.lockTimeout (default 5 minutes).

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// The wait a lock allows when model.lockTimeout is not set.
inline constexpr std::chrono::seconds default_lock_timeout{300};

// model.lockTimeout of a repository (a duration: "90s", "5m"; 0 means do not wait).
// Throws gm::Error naming the key when it is malformed.
std::chrono::milliseconds lock_timeout(const git::Repository& repo);

// Held for a scope: one of a repository's named locks. Re-entrant within a
// process (a rollback inside a locked step takes it again without waiting for
// itself); one thread per process takes these locks.
class RepositoryLock {
public:
    // Waits until the lock is ours (or model.lockTimeout passes, or a signal
    // deferred by DeferSignals arrives: then throws gm::Error naming the holder
    // and the setting). `doing` says who holds it, for other waiters' messages.
    RepositoryLock(const git::Repository& repo, std::string_view name, std::string_view doing);
    // The same with an explicit bound on the wait (for tests and callers that know better).
    RepositoryLock(const std::filesystem::path& common_dir, std::string_view name, std::string_view doing,
                   std::chrono::milliseconds timeout);
    ~RepositoryLock();
    RepositoryLock(const RepositoryLock&) = delete;
    RepositoryLock& operator=(const RepositoryLock&) = delete;

    // The lock file of a name: <common dir>/git-model/locks/<name>.lock.
    static std::filesystem::path path_for(const std::filesystem::path& common_dir, std::string_view name);

private:
    std::string key_;  // the lock file's path: its entry in that registry
};

// The lock's name for creating and removing worktrees.
inline constexpr std::string_view worktrees_lock = "worktrees";

}  // namespace gm::model
