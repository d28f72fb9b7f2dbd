#pragma once
// The git config keys that shape where models live; read in one place so that
// every command agrees and git-model(1) documents one list.

#include <filesystem>
#include <string>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// Resolved model.* settings of a repository.
struct Settings {
    // model.baseBranch: what new models branch from (default "main").
    std::string base_branch = "main";
    // model.worktreeRoot: folder of model worktrees; relative paths are resolved
    // against the main worktree (default "../worktrees").
    std::filesystem::path worktree_root;
    // model.worktreePath: path of one worktree under the root; {branch}, {model}
    // and {repo} are replaced (default "{branch}").
    std::string worktree_template = "{branch}";
    // The main worktree's folder (or the common dir of a bare repository).
    std::filesystem::path main_worktree;
};

// Reads the settings, with defaults for unset keys.
Settings read_settings(const git::Repository& repo);

// model.baseBranch of a configuration ("main" when unset or empty): the one reading that start
// and doctor share, so that doctor checks the base start would use.
std::string base_branch_setting(const git::Config& config);

// Where the worktree of a model goes, from the root and template; throws when
// the template gives a path outside the root.
std::filesystem::path worktree_path_for(const Settings& settings, const std::string& model_name);

}  // namespace gm::model
