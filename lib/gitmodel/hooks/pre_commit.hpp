#pragma once
// The pre-commit hook: the data policy (data_policy.hpp) on what is staged.

#include <string>
#include <vector>

#include "gitmodel/git/reader.hpp"
#include "gitmodel/hooks/data_policy.hpp"

namespace gm::hooks {

// Judges every staged file (added or modified) against the policy.
std::vector<Offender> check_staged(git::RepoReader& repo, const DataPolicy& policy);

// The refusal message, with the fixes.
std::string format_commit_rejection(const std::vector<Offender>& offenders);

}  // namespace gm::hooks
