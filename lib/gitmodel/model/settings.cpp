#include "gitmodel/model/settings.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

}  // namespace

std::string base_branch_setting(const git::Config& config) {
    auto base = config.get_string("model.baseBranch");
    return base && !base->empty() ? *base : std::string("main");
}

Settings read_settings(const git::Repository& repo) {
    const git::Config config = repo.config();
    Settings settings;
    settings.main_worktree = repo.main_worktree_or_common_dir();
    settings.base_branch = base_branch_setting(config);
    fs::path root = config.get_string("model.worktreeRoot").value_or("../worktrees");
    if (root.empty()) root = "../worktrees";
    if (root.is_relative()) root = settings.main_worktree / root;
    settings.worktree_root = root.lexically_normal();
    if (auto tmpl = config.get_string("model.worktreePath"); tmpl && !tmpl->empty()) settings.worktree_template = *tmpl;
    return settings;
}

fs::path worktree_path_for(const Settings& settings, const std::string& model_name) {
    std::string relative = settings.worktree_template;
    replace_all(relative, "{branch}", naming::model_branch(model_name));
    replace_all(relative, "{model}", model_name);
    replace_all(relative, "{repo}", settings.main_worktree.filename().string());
    const fs::path path = (settings.worktree_root / relative).lexically_normal();
    const fs::path inside = path.lexically_relative(settings.worktree_root);
    if (relative.empty() || inside.empty() || *inside.begin() == ".." || fs::path(relative).is_absolute()) {
        throw Error(fmt::format("model.worktreePath '{}' puts the worktree outside model.worktreeRoot ({})",
                                settings.worktree_template, settings.worktree_root.string()),
                    "use a relative template such as {branch} or {model}");
    }
    return path;
}

}  // namespace gm::model
