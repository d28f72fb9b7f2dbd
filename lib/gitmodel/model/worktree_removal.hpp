#pragma once
// Removing a linked worktree that was judged clean, without ever deleting a file git does not
// hold. `git worktree remove` deletes ignored files, and anything written after our last look
// (a training job saving a checkpoint while prune runs), and it trusts the index's
// skip-worktree and assume-unchanged flags, behind which local edits hide. Here a file is
// deleted only when its content, as git would store it, equals the commit's (and, under a
// clean filter that drops part of it, its bytes are what checkout writes); a folder only
// when it is empty. Whatever else is found stays, and so does the worktree.

#include <filesystem>
#include <string>
#include <vector>

namespace gm::git {
class Repository;
}

namespace gm::model {

// What a careful removal did: removed the whole worktree, or kept it with the files that were
// not the commit's (untracked, ignored, or changed), each relative to the worktree.
struct CarefulRemoval {
    bool removed = false;                 // the folder is gone and git forgot the worktree
    std::vector<std::string> kept_files;  // the reasons it stayed (at most a few are listed)
    std::size_t kept_count = 0;           // how many files stayed in all
    std::string record_kept;              // removed, but git's record of it stayed: why, and the fix

    // "out/ckpt.pt, notes.txt and 3 more" for messages.
    std::string describe() const;
};

// The tracked files of `worktree` whose bytes git could not write back from the commit, though
// git status calls them unchanged: a clean filter (nbstripout on a notebook's outputs, a
// custom one) keeps part of them out of git, and checkout (its smudge) does not restore it.
// Git LFS's filter keeps everything, so its files are never listed. Throws gm::Error when git
// cannot read the attributes.
std::vector<std::string> files_filters_keep_out(const std::filesystem::path& worktree);

// The tracked files of `worktree` marked skip-worktree (a sparse checkout's, or `git update-index
// --skip-worktree` over a local edit) that are there on disk: git hides their changes, so its
// status cannot vouch for them, and the careful removal leaves them (and so the worktree) alone.
// Throws gm::Error when git cannot list them.
std::vector<std::string> files_git_hides(const std::filesystem::path& worktree);

// The submodules checked out in `worktree` (a gitlink whose folder holds anything): git will
// not remove such a worktree, even forced, and the submodule's repository (in the worktree's
// admin folder) may hold commits found nowhere else. Throws gm::Error when git cannot list them.
std::vector<std::string> checked_out_submodules(const std::filesystem::path& worktree);

// The tracked files a worktree is missing (git status's " D "), for putting back what a removal
// killed part way deleted: their content is the commit's, so nothing is lost.
struct DeletedFiles {
    std::vector<std::string> paths;  // relative to the worktree
    bool others = false;             // something else differs from the commit too (the user's changes)
};

// Reads them. Throws gm::Error when git cannot read the worktree's state.
DeletedFiles deleted_tracked_files(const std::filesystem::path& worktree);

// Writes those files back from the index (`checkout-index -u`: never over a file that is there
// by then, a save the user made meanwhile; the index knows them again as they are), or from HEAD
// where the index lacks them (a checkout killed before writing it). Throws gm::Error naming what
// is still missing when git cannot.
void put_back_deleted_files(const std::filesystem::path& worktree, const DeletedFiles& deleted);

// Puts back what a careful removal killed part way (a kill -9, a power loss) deleted: in every
// linked worktree of `repo` whose removal was marked and not finished, the tracked files missing
// (their content was the commit's; other changes, the user's since, stay), and the mark goes. Returns a line
// per worktree put back. Throws gm::Error when git cannot read or write one.
std::vector<std::string> restore_interrupted_removals(const git::Repository& repo);

// Removes the linked worktree of `repo` at `worktree` (checked out at a commit whose tree is
// the truth) file by file: a tracked file whose content matches the commit is deleted, folders
// that end up empty are removed, and git's record of this worktree (only this one) goes once
// the folder is gone. When anything else is there, the tracked files deleted are checked out
// again (so the worktree is as it was), and the result says what stayed.
// Throws gm::Error when git cannot list or hash the files (nothing deleted then).
CarefulRemoval remove_worktree_carefully(const git::Repository& repo, const std::filesystem::path& worktree);

}  // namespace gm::model
