#include "gitmodel/lifecycle/model_context.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

namespace gm::lifecycle {

namespace fs = std::filesystem;

std::optional<Checkout> find_checkout(const git::Repository& repo, const std::string& branch) {
    for (const auto& worktree : repo.linked_worktrees()) {
        if (worktree.branch != branch) continue;
        Checkout checkout;
        checkout.path = worktree.path;
        checkout.missing = worktree.folder_missing;
        checkout.locked = worktree.locked;
        return checkout;
    }
    try {
        const auto main = git::Repository::open(repo.common_dir());
        if (main.workdir() && main.current_branch() == branch) {
            Checkout checkout;
            checkout.path = *main.workdir();
            checkout.main_worktree = true;
            return checkout;
        }
    } catch (const Error&) {
    }
    return std::nullopt;
}

std::optional<std::string> current_model(const git::Repository& repo) {
    const auto branch = repo.current_branch();
    if (!branch) return std::nullopt;
    return naming::model_from_branch(*branch);
}

std::string resolve_model_name(const git::Repository& repo, const std::optional<std::string>& argument) {
    if (argument) {
        const auto verdict = naming::check_model_name(*argument);
        if (!verdict.valid) {
            throw UsageError(fmt::format("invalid model name {}: it {}", quote_for_message(*argument), verdict.rule),
                             "`git model list` shows the models");
        }
        return *argument;
    }
    if (auto name = current_model(repo)) return *name;
    const auto branch = repo.current_branch();
    throw UsageError(branch ? fmt::format("this worktree is on {}, not on a model branch", *branch)
                            : std::string("this worktree is not on a model branch"),
                     "name the model, or run this inside a model's worktree (`git model list` shows where they are)");
}

ModelContext read_model(const git::Repository& repo, const std::string& name) {
    ModelContext context;
    context.name = name;
    context.branch = naming::model_branch(name);
    context.head = repo.branch_target(context.branch);
    const auto recorded = repo.config().get_string(fmt::format("branch.{}.modelBase", context.branch));
    context.base = recorded && !recorded->empty() ? *recorded : model::read_settings(repo).base_branch;
    if (context.head) context.checkout = find_checkout(repo, context.branch);
    return context;
}

ModelContext require_model(const git::Repository& repo, const std::string& name) {
    ModelContext context = read_model(repo, name);
    if (!context.head) {
        throw Error(fmt::format("model '{}' does not exist: no branch {}", name, context.branch),
                    "`git model list` shows the models; `git model start " + name + "` creates it");
    }
    return context;
}

}  // namespace gm::lifecycle
