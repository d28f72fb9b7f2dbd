#pragma once
// Model names and the branch names derived from them: the suite's naming
// policy, kept pure so that `start`, the pre-push hook and tests share one rule set.

#include <optional>
#include <string>
#include <string_view>

namespace gm::naming {

// Every model branch starts with this, so that tools can find them by glob.
inline constexpr std::string_view model_branch_prefix = "feature/model-";

// The longest model name accepted; long names make unwieldy paths and container names.
inline constexpr std::size_t max_model_name_length = 64;

// The verdict on a model name: valid, or the one rule it broke, phrased for the user.
struct NameVerdict {
    bool valid = true;
    std::string rule;  // empty when valid
};

// Checks a model name against the suite's rules and git's own ref-name rules for its branch.
NameVerdict check_model_name(std::string_view name);

// The branch a model lives on ("resnet50" -> "feature/model-resnet50").
std::string model_branch(std::string_view model_name);

// The model a branch belongs to, when it is a model branch ("feature/model-x" -> "x").
std::optional<std::string> model_from_branch(std::string_view branch);

}  // namespace gm::naming
