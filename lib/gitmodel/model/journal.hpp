#pragma once
// The intent journal that makes `git model start` all-or-nothing.
//
// Creating a model takes several steps (branch, worktree registration,
// checkout, config). While holding the repository's worktrees lock, start
// writes what it is about to do into <common dir>/git-model/pending/<model>,
// takes the steps, and removes the record after the last one. A record whose
// process is gone marks an interrupted start (killed, power loss, full disk):
// the next `git model start` rolls back what it left, but only what it can
// prove nobody has touched since; anything else is kept and described, with
// how to finish or remove it. Read-only commands (`list`) only report records.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>
#include <ctime>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/background.hpp"

namespace gm::model {

// What a start intends to create, so that a later run can undo exactly that.
struct Intent {
    std::string model;
    std::string branch;
    std::string base;                         // the base as the user named it (branch.<b>.modelBase)
    std::string base_commit;                  // the branch is deleted only while it still points here
    std::optional<std::filesystem::path> worktree;  // empty for --no-worktree
    // --no-worktree: the worktree switched in place, the commit it left and the moment its switch
    // began (in_place_switch.hpp), so that a switch killed half way is undone by the next start.
    // The worktree by its git dir, relative to the common dir ("" the main worktree, else
    // "worktrees/<id>"): found again wherever the repository is now (moved, or copied with its
    // record), never a path the record names; `switched` is where it was, for messages.
    std::optional<std::filesystem::path> switched;
    std::optional<std::string> switched_git_dir;
    std::string head_before;
    struct timespec switch_began {};
    proc::ProcessIdentity process;            // the process doing the work (pid and start time)
};

// A claimed journal entry; removes its record when the start commits or is rolled back.
class PendingStart {
public:
    // Claims the model: writes the record, failing if another live process holds it.
    static PendingStart claim(const git::Repository& repo, const Intent& intent);
    PendingStart(PendingStart&& other) noexcept;
    PendingStart& operator=(PendingStart&&) = delete;
    PendingStart(const PendingStart&) = delete;
    ~PendingStart();

    // The work is complete (or rolled back): forget the record.
    void commit();

private:
    explicit PendingStart(std::filesystem::path record);
    std::filesystem::path record_;
};

// What a rollback did and what it had to keep.
struct Rollback {
    std::vector<std::string> done;  // a line per thing undone
    std::vector<std::string> kept;  // what was found and kept, then how to finish or remove it
    bool resolved = true;           // nothing of the start is left to decide: its record may go
    bool completed = false;         // the start was found whole (its checkout done), nothing undone
};

// Undoes one start's leftovers, removing only what is provably untouched: the
// worktree when it holds exactly what the checkout wrote (no untracked or
// ignored file, no change, no lock but the creation lock, HEAD unmoved), what an
// in-place switch wrote (restore_interrupted_switch, while HEAD is still the commit
// it left), the branch while it still points at the base commit. The caller holds
// the worktrees lock.
Rollback roll_back(git::Repository& repo, const Intent& intent);

// A start whose process is gone and whose record is still there.
struct InterruptedStart {
    Intent intent;
    std::filesystem::path record;
    // Who ran it (the record's owner): in a repository users share, only they roll it back.
    uid_t owner = 0;
};

// Reads the journal without changing anything: starts whose process has died.
std::vector<InterruptedStart> interrupted_starts(const git::Repository& repo);

// Rolls back every interrupted start of this user (see roll_back) and drops the
// records of those resolved; returns what was done and kept, for the user.
// Another user's are left to them (their files are not ours to delete, and
// failing on them would block our own start); each is named as kept. The
// caller holds the worktrees lock (start does), so no live start is touched.
std::vector<std::string> recover_interrupted_starts(git::Repository& repo);

// The models a journal record names (live or interrupted): prune keeps their branches.
std::vector<std::string> models_with_pending_starts(const git::Repository& repo);

}  // namespace gm::model
