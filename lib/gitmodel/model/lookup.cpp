#include "gitmodel/model/lookup.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gm::model {

namespace fs = std::filesystem;

std::optional<Checkout> worktree_of(const git::Repository& repo, const std::string& branch) {
    for (const auto& worktree : repo.linked_worktrees()) {
        if (worktree.branch != branch) continue;
        Checkout checkout;
        checkout.path = worktree.path;
        checkout.missing = worktree.folder_missing;
        checkout.locked = worktree.locked;
        checkout.record_id = worktree.id;
        checkout.operation = worktree.operation;
        return checkout;
    }
    const auto main_checkout = [&](const git::Repository& main) -> std::optional<Checkout> {
        const auto workdir = main.workdir();
        if (!workdir) return std::nullopt;
        Checkout checkout;
        if (main.current_branch() != branch) {
            checkout.operation = git::operation_holding_branch(main.common_dir());
            if (!checkout.operation || checkout.operation->branch != branch) return std::nullopt;
        }
        checkout.path = *workdir;
        checkout.main_worktree = true;
        return checkout;
    };
    // Opened from the main worktree (or a bare repository): that is the main one, no need to open it again.
    if (!repo.is_linked_worktree()) return main_checkout(repo);
    try {
        return main_checkout(git::Repository::open(repo.common_dir()));
    } catch (const Error&) {
        return std::nullopt;  // an unreadable main worktree: no checkout there
    }
}

void require_model_name(std::string_view name, const std::string& hint) {
    const auto verdict = naming::check_model_name(name);
    if (!verdict.valid)
        throw UsageError(fmt::format("invalid model name {}: it {}", quote_for_message(name), verdict.rule), hint);
}

std::optional<std::string> current_model(const git::Repository& repo) {
    const auto branch = repo.current_branch();
    if (!branch) return std::nullopt;
    return naming::model_from_branch(*branch);
}

std::string resolve_model_name(const git::Repository& repo, const std::optional<std::string>& argument) {
    if (argument) {
        require_model_name(*argument, "`git model list` shows the models");
        return *argument;
    }
    if (auto name = current_model(repo)) return *name;
    const auto branch = repo.current_branch();
    throw UsageError(branch ? fmt::format("this worktree is on {}, not on a model branch", *branch)
                            : std::string("this worktree is not on a model branch"),
                     "name the model, or run this inside a model's worktree (`git model list` shows where they are)");
}

std::optional<std::string> foreign_worktree_problem(const fs::path& common_dir, const fs::path& folder,
                                                    const std::optional<std::string>& record_id) {
    const auto admin = git::worktree_admin_dir(folder);
    if (!admin) return std::string("is not a worktree of this repository: it has no .git file naming its repository");
    std::error_code ec;
    if (admin->parent_path().filename() != "worktrees" || !fs::equivalent(admin->parent_path().parent_path(), common_dir, ec) ||
        ec)
        return fmt::format("is not a worktree of this repository: its .git file points to {}, another repository's "
                           "(this one is a copy, or the folder was replaced)",
                           printable(admin->string()));
    // The record it names must be this folder's: a link to another model's worktree (or a copy of
    // one) names that worktree's record, and its files are that model's.
    if (record_id && admin->filename() != *record_id) {
        const std::string other = trim_end(read_text(*admin / "gitdir"), "\r\n");
        return fmt::format("is not this worktree: its .git file names the worktree at {} (the folder, or a folder above "
                           "it, was replaced by a link to it, or a copy of it)",
                           printable(other.empty() ? admin->string() : fs::path(other).parent_path().string()));
    }
    const std::string recorded = trim_end(read_text(*admin / "gitdir"), "\r\n");
    if (recorded.empty()) return std::nullopt;  // a record git is still writing, or an old git's: not judged
    fs::path recorded_git(recorded);
    if (recorded_git.is_relative()) recorded_git = (*admin / recorded_git).lexically_normal();  // worktree.useRelativePaths
    const fs::path recorded_folder = recorded_git.parent_path();
    if (same_folder(recorded_folder, folder)) return std::nullopt;
    return fmt::format("is not this worktree: its .git file names the worktree at {} (the folder was replaced by a "
                       "link to it, or a copy of it)",
                       printable(recorded_folder.string()));
}

std::optional<std::string> untrusted_folder_problem(const fs::path& common_dir, const fs::path& folder) {
    struct stat repo_info {};
    if (::stat(common_dir.c_str(), &repo_info) != 0) return std::nullopt;  // unreadable: git has failed already
    const auto trusted = [&](uid_t uid) { return uid == repo_info.st_uid || uid == ::geteuid(); };
    struct stat link_info {};
    struct stat folder_info {};
    if (::lstat(folder.c_str(), &link_info) != 0 || ::stat(folder.c_str(), &folder_info) != 0)
        return fmt::format("cannot be read ({})", std::strerror(errno));
    if (S_ISLNK(link_info.st_mode) && !trusted(link_info.st_uid))
        return fmt::format("is a link made by {}", user_name_of(link_info.st_uid));
    if (!S_ISDIR(folder_info.st_mode)) return std::string("is not a folder");
    if (!trusted(folder_info.st_uid))
        return fmt::format("belongs to {}, not to you nor to {} who owns the repository", user_name_of(folder_info.st_uid),
                           user_name_of(repo_info.st_uid));
    return std::nullopt;
}

void require_trusted_checkout(const git::Repository& repo, const std::string& model, const Checkout& checkout) {
    if (checkout.main_worktree || checkout.missing) return;
    auto problem = untrusted_folder_problem(repo.common_dir(), checkout.path);
    if (!problem) problem = foreign_worktree_problem(
            repo.common_dir(), checkout.path,
            checkout.record_id.empty() ? std::nullopt : std::optional<std::string>(checkout.record_id));
    if (!problem) return;
    throw Error(fmt::format("the worktree of model '{}' at {} {}: it is not used", model, checkout.path.string(), *problem),
                "look at that folder; if it is not the model's, move it away, then `git worktree prune` forgets "
                "it and `git worktree add <path> " + naming::model_branch(model) + "` checks the model out again");
}

}  // namespace gm::model
