#pragma once
// The pre-commit policy: training data and checkpoints stay out of git
// (unless stored through Git LFS or explicitly allowed).

#include <cstdint>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::hooks {

// The rules, from git config (documented in git-model(1), HOOKS).
struct CommitPolicy {
    std::uint64_t max_file_size = 10ull << 20;  // model.maxFileSize
    std::vector<std::string> data_patterns;     // defaults, plus model.dataPattern, minus "!pattern"
    std::vector<std::string> allowed_paths;     // model.allowPath
};

// The data patterns refused by default.
const std::vector<std::string>& default_data_patterns();

// Reads the policy; throws gm::Error for a malformed model.maxFileSize.
CommitPolicy read_commit_policy(const git::Repository& repo);

// One staged file that may not be committed, and why.
struct Offender {
    std::string path;
    std::string reason;
};

// Judges the staged files against the policy.
std::vector<Offender> check_commit(const std::vector<git::StagedFile>& staged, const CommitPolicy& policy);

// The refusal message, with the fixes.
std::string format_commit_rejection(const std::vector<Offender>& offenders, const CommitPolicy& policy);

}  // namespace gm::hooks
