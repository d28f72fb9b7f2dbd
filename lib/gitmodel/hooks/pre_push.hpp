#pragma once
// The pre-push policy: a protected main, branch and tag naming, a pinned,
// frozen container image, and the data policy on every blob the push brings
// to the remote, judged on exactly what git is about to push.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/reader.hpp"
#include "gitmodel/hooks/data_policy.hpp"

namespace gm::hooks {

// One line of git's pre-push input: <local ref> <local sha> <remote ref> <remote sha>.
struct RefUpdate {
    std::string local_ref;
    std::string local_sha;
    std::string remote_ref;
    std::string remote_sha;

    // The remote ref will be deleted (local sha all zeros).
    bool is_delete() const;
    // The remote ref does not exist yet (remote sha all zeros).
    bool is_create() const;
};

// Parses git's pre-push standard input (SHA-1 or SHA-256 ids); throws gm::Error on a malformed line.
std::vector<RefUpdate> parse_pre_push_input(std::string_view input);

// The rules, from git config (documented in git-model-hooks(1), HOOKS).
struct PushPolicy {
    // The base branch (model.baseBranch, else main) first, then model.protectedBranch (globs), then
    // the remote's default branch (remote_default) when it is none of them.
    std::vector<std::string> protected_branches{"main"};
    std::string remote_default;  // the branch refs/remotes/<remote>/HEAD names; "" when unknown or a model branch
    std::vector<std::string> allowed_branches;            // model.allowedBranch, beside feature/model-<name>
    std::vector<std::string> allowed_tags;                // model.allowedTag; empty: every tag allowed
};

// Reads the policy from the repository's configuration. remote_default (TeamFile::remote_default)
// is protected too: a clone's own model.baseBranch (the team file silent) must not unprotect the
// branch every clone starts from.
PushPolicy read_push_policy(const git::ConfigView& config, const std::string& remote_default = "");

// One broken rule: which ref, which rule, what is wrong and how to fix it.
struct Violation {
    std::string ref;
    std::string rule;
    std::string problem;
    std::string fix;
};

// Judges every ref of a push, and every blob the pushed commits bring that the
// remote is not known to have (its remote-tracking refs and the refs' old
// values hide the rest); an empty result lets the push through.
// remote_name is git's first hook argument (a remote, or a URL).
std::vector<Violation> check_push(git::RepoReader& repo, const std::string& remote_name,
                                  const std::vector<RefUpdate>& updates, const PushPolicy& policy,
                                  const DataPolicy& data);

// A CI file `git model ci init` wrote that runs another image than .modelenv.yaml pins, at one commit.
struct CiImageMismatch {
    std::string path;    // ".gitlab-ci.yml" or the GitHub workflow
    std::string image;   // what the CI file runs
    std::string pinned;  // what .modelenv.yaml pins
    std::string fix;     // the command that brings the CI file in line
};

// The rule ci-image, for the pre-push and doctor alike: every generated CI file at commit whose
// image differs from the commit's .modelenv.yaml pin (none when either is absent or unreadable).
std::vector<CiImageMismatch> ci_image_mismatches(git::RepoReader& repo, const std::string& commit);

// Whether a commit message carries an Image-Change trailer with a reason (not empty).
bool has_image_change_reason(const std::string& message);

// The refusal message: every violation, the bypass, and why server-side protection is still needed.
std::string format_rejection(const std::vector<Violation>& violations);

}  // namespace gm::hooks
