#include "gitmodel/model/lookup.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

namespace gm::model {

std::optional<Checkout> worktree_of(const git::Repository& repo, const std::string& branch) {
    for (const auto& worktree : repo.linked_worktrees()) {
        if (worktree.branch != branch) continue;
        Checkout checkout;
        checkout.path = worktree.path;
        checkout.missing = worktree.folder_missing;
        checkout.locked = worktree.locked;
        return checkout;
    }
    const auto main_checkout = [&](const git::Repository& main) -> std::optional<Checkout> {
        const auto workdir = main.workdir();
        if (!workdir || main.current_branch() != branch) return std::nullopt;
        Checkout checkout;
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

}  // namespace gm::model
