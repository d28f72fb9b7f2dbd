#pragma once
// Whether a worktree folder holds anything beyond what a checkout wrote, so
// that a rollback (an interrupted `start`, a failed sweep creation) removes a
// folder only when it can prove that nothing in it is anyone's work.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::git {

// What a folder holds beyond a checkout of a commit.
struct CheckoutDifference {
    std::vector<std::string> found;  // the first few, in words: "ignored or untracked file out/ckpt.pt"
    std::size_t count = 0;           // all of them
    bool none() const { return count == 0; }
    // "out/ckpt.pt (untracked or ignored file), train.py (changed) and 3 more".
    std::string describe() const;
};

// Compares a worktree folder with what checking out `commit` writes. Once the
// checkout has written the worktree's index, as git status sees it (HEAD at
// commit; no change, no untracked and no ignored file; paths under a filter
// driver libgit2 cannot run, such as Git LFS, confirmed by git itself). Before
// that (a checkout cut short), file by file: each must be one of the commit's
// with its content, or the start of it as stored (empty, say: the file git was
// writing when it was killed; the commit holds all of it), and a subset of the
// files passes; any other file, link or folder differs.
CheckoutDifference differences_from_checkout(const Repository& repo, const std::filesystem::path& folder,
                                             std::string_view commit, std::size_t limit = 5);

// The files of a worktree git does not track: untracked and ignored ones (an
// ignored folder counts once), so that a removal can refuse to delete them.
CheckoutDifference untracked_and_ignored(const Repository& worktree, std::size_t limit = 5);

// The admin folder of a linked worktree (<common dir>/worktrees/<id>), read from
// the folder's .git file as git reads it; nullopt when the folder has none.
std::optional<std::filesystem::path> worktree_admin_dir(const std::filesystem::path& folder);

}  // namespace gm::git
