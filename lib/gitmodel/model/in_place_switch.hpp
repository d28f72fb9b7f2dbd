#pragma once
// `git model start --no-worktree`: the current worktree is switched to the new branch in place,
// by git's own switch. A switch git does not complete (Ctrl-C, a failing filter, a kill) leaves
// the worktree half switched with HEAD unmoved; what is here undoes only what the switch itself
// wrote, never a file of the user's, and refuses up front a switch that would overwrite the
// user's ignored files.

#include "gitmodel/git/repository.hpp"

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gm::model {

// The moment a switch begins, as the coarse clock the kernel stamps files with tells it, once
// that clock has moved on to its next tick (a few ms are awaited): every file the switch then
// writes is stamped after it, even the first one written at once, and a file stamped in the
// same tick counts as the user's.
struct timespec switch_moment();

// A switch of `worktree` to `branch` (starting at `base_commit`, begun at `switch_began`) that
// git did not complete leaves files of the base there with HEAD unmoved. Only what the switch
// itself wrote is undone: a tracked file it changed or deleted (a path HEAD and the base differ
// in, not a submodule, written since the switch began or gone) is put back as HEAD has it, and
// a file the base adds that was written since then and is still exactly the base's goes (with
// the folders it leaves empty). Anything else is the user's and stays as it is: a change git's
// status hides (a file marked assume-unchanged), a submodule's, a file older than the switch
// (git refused up front and wrote nothing). Nothing when HEAD is the new branch (the switch was
// done), or, with `head_before`, when HEAD has moved from the commit the switch left (the user
// committed or switched since: what is there is theirs).
struct SwitchUndo {
    std::string said;   // what was done and what was left, for the user ("" for nothing)
    bool whole = true;  // false when git could not put back the files (a killed git's index.lock)
};
SwitchUndo restore_interrupted_switch(const git::Repository& repo, const std::filesystem::path& worktree,
                                       const std::string& branch, const std::string& base_commit,
                                       const struct timespec& switch_began,
                                       const std::optional<std::string>& head_before = std::nullopt);

// The ignored files of the worktree (build output, a local .env) that the switch to the base
// would overwrite or remove: at a path where the base has a file, inside a folder where it has a
// file, or a file or link where it needs a folder. git's switch does so without asking, so start
// refuses first, naming them. Throws when git cannot tell.
std::vector<std::string> ignored_in_the_way(const git::Repository& repo, const std::filesystem::path& worktree,
                                            const std::string& base_commit);

}  // namespace gm::model
