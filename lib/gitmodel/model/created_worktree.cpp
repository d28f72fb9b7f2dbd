#include "gitmodel/model/created_worktree.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/worktree_check.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view reason_prefix = "git-model ";
constexpr std::string_view reason_marker = ": being created (pid ";

// `git worktree add` writes an all-zero HEAD first ("to keep resolve_ref() happy") and sets the
// branch in a second step, before it checks anything out: killed between them, HEAD is still that.
bool head_is_placeholder(const fs::path& admin) {
    std::ifstream in(admin / "HEAD");
    std::string line;
    if (!std::getline(in, line)) return false;
    return (line.size() == 40 || line.size() == 64) && line.find_first_not_of('0') == std::string::npos;
}

// Whether a folder holds nothing but its .git file (a file, not a link to one).
bool holds_only_git_file(const fs::path& folder) {
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename() != ".git" || !fs::is_regular_file(it->symlink_status(ec))) return false;
    return !ec;
}

}  // namespace

std::string creation_lock_reason(std::string_view who, long pid) {
    return fmt::format("{}{}{}{})", reason_prefix, who, reason_marker, pid);
}

bool is_creation_lock(std::string_view reason) {
    return reason.rfind(reason_prefix, 0) == 0 && reason.find(reason_marker) != std::string_view::npos;
}

namespace {

// mkdir 0755: the umask may take more away, a umask of 002 or 000 adds no write bit for others.
bool make_folder(const fs::path& path) {
    return ::mkdir(path.c_str(), 0755) == 0;
}

}  // namespace

void make_worktree_parents(const fs::path& parent) {
    std::vector<fs::path> missing;
    std::error_code ec;
    for (fs::path folder = parent.lexically_normal(); !folder.empty() && !fs::exists(fs::symlink_status(folder, ec));
         folder = folder.parent_path()) {
        missing.push_back(folder);
        if (folder == folder.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it)
        if (!make_folder(*it) && errno != EEXIST)
            throw Error(fmt::format("cannot create {}: {}", it->string(), std::strerror(errno)));
}

void claim_worktree_folder(const fs::path& path) {
    if (make_folder(path)) return;
    if (errno != EEXIST)
        throw Error(fmt::format("cannot create the worktree folder {}: {}", path.string(), std::strerror(errno)));
    struct stat info {};
    std::error_code ec;
    if (::lstat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
        throw Error(fmt::format("the worktree folder {} is in the way: it is not a folder", path.string()),
                    "move it away, or choose another place with `git config model.worktreeRoot <dir>`");
    if (info.st_uid != ::geteuid())
        throw Error(fmt::format("the worktree folder {} belongs to {}: another user made it", path.string(),
                                user_name_of(info.st_uid)),
                    "another user could swap the model's files there; move it away (or ask its owner to), or choose "
                    "another place with `git config model.worktreeRoot <dir>`");
    const bool empty = fs::is_empty(path, ec);
    if (ec) throw Error(fmt::format("cannot look into the worktree folder {}: {}", path.string(), ec.message()));
    if (!empty)
        throw Error(fmt::format("the worktree folder {} is in the way: it exists and is not empty", path.string()),
                    "move it away, or choose another place with `git config model.worktreeRoot <dir>`");
}

std::vector<std::string> worktree_add_args(const fs::path& path, const std::string& branch, const std::string& reason) {
    return {"worktree", "add", "--quiet", "--lock", "--reason", reason, path.string(), branch};
}

void release_creation_lock(const fs::path& path, const std::string& reason) {
    const auto admin = git::worktree_admin_dir(path);
    if (!admin) throw Error(fmt::format("{} has no .git file after `git worktree add`", path.string()));
    const fs::path lock = *admin / "locked";
    if (trim_trailing_newlines(read_text(lock)) != reason) return;  // not our lock (any more): leave it
    std::error_code ec;
    fs::remove(lock, ec);
    if (ec) throw Error(fmt::format("cannot unlock the new worktree {}: {}", path.string(), ec.message()));
}

TouchedWorktree judge_created_worktree(const git::Repository& repo, const git::WorktreeInfo& worktree,
                                       const std::string& branch, const std::string& commit) {
    TouchedWorktree verdict;
    if (worktree.locked && !is_creation_lock(worktree.lock_reason)) {
        verdict.found.push_back(worktree.lock_reason.empty() ? "it is locked"
                                                              : fmt::format("it is locked ({})", worktree.lock_reason));
    }
    // The `git worktree add` of a killed start goes on alone: what it is making is not removed under it.
    if (worktree.locked && is_creation_lock(worktree.lock_reason))
        if (const auto adding = own_process_with_arguments({"worktree", "add", worktree.lock_reason})) {
            verdict.busy = true;
            verdict.found.push_back(fmt::format("git is still adding it (pid {})", *adding));
            return verdict;
        }
    std::error_code ec;
    if (!fs::exists(worktree.path, ec)) return verdict;  // nothing of anyone's can be in a folder that is gone
    const fs::path admin = repo.common_dir() / "worktrees" / worktree.id;
    // Killed before the branch was set: nothing was checked out, and nobody put anything there.
    if (verdict.found.empty() && head_is_placeholder(admin) && holds_only_git_file(worktree.path)) return verdict;
    if (fs::exists(admin / "index.lock", ec)) {
        verdict.busy = true;
        verdict.found.push_back(fmt::format("git may still be checking it out ({} exists)",
                                            (admin / "index.lock").string()));
        return verdict;
    }
    if (worktree.branch != branch) {
        verdict.found.push_back(worktree.branch ? fmt::format("it was switched to {}", *worktree.branch)
                                                : "its HEAD was detached from the branch");
        return verdict;
    }
    if (repo.branch_target(branch) != std::optional<std::string>(commit)) {
        verdict.found.push_back(fmt::format("{} has new commits", branch));
        return verdict;
    }
    const auto difference = git::differences_from_checkout(repo, worktree.path, commit);
    if (!difference.none()) verdict.found.push_back("it holds " + difference.describe());
    return verdict;
}

void remove_created_worktree(const git::Repository& repo, const git::WorktreeInfo& worktree) {
    std::error_code ec;
    if (fs::exists(worktree.path, ec)) {
        fs::remove_all(worktree.path, ec);
        if (ec) throw Error(fmt::format("cannot remove {}: {}", worktree.path.string(), ec.message()));
    }
    fs::remove_all(repo.common_dir() / "worktrees" / worktree.id, ec);
    if (ec) throw Error(fmt::format("cannot remove the registration of {}: {}", worktree.path.string(), ec.message()));
}

std::size_t remove_unregistered_admin_dirs(const git::Repository& repo, long pid) {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(repo.common_dir() / "worktrees", ec)) {
        std::error_code entry_ec;
        if (!entry.is_directory(entry_ec) || fs::exists(entry.path() / "gitdir", entry_ec)) continue;
        const std::string reason = trim_trailing_newlines(read_text(entry.path() / "locked"));
        if (!is_creation_lock(reason) || reason.find(fmt::format("{}{})", reason_marker, pid)) == std::string::npos)
            continue;
        fs::remove_all(entry.path(), entry_ec);
        if (!entry_ec) ++removed;
    }
    return removed;
}

}  // namespace gm::model
