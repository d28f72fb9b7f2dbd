#include "gitmodel/model/model_context.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

namespace gm::model {

ModelContext read_model(const git::Repository& repo, const std::string& name) {
    ModelContext context;
    context.name = name;
    context.branch = naming::model_branch(name);
    context.head = repo.branch_target(context.branch);
    const auto recorded = repo.config().get_string(fmt::format("branch.{}.modelBase", context.branch));
    context.base = recorded && !recorded->empty() ? *recorded : model::read_settings(repo).base_branch;
    if (context.head) context.checkout = model::worktree_of(repo, context.branch);
    return context;
}

ModelContext require_model(const git::Repository& repo, const std::string& name) {
    ModelContext context = read_model(repo, name);
    if (!context.head) {
        throw Error(fmt::format("model '{}' does not exist: no branch {}", name, context.branch),
                    "`git model list` shows the models; `git model start " + name + "` creates it");
    }
    if (context.checkout) require_trusted_checkout(repo, name, *context.checkout);
    return context;
}

}  // namespace gm::model
