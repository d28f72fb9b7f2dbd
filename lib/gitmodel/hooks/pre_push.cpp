#include "gitmodel/hooks/pre_push.hpp"

#include "gitmodel/config/config_error.hpp"
#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/naming/glob.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <map>
#include <sstream>

namespace gm::hooks {

namespace {

constexpr std::string_view zero_sha = "0000000000000000000000000000000000000000";
constexpr std::size_t max_commits_checked = 10000;

bool is_zero(std::string_view sha) { return sha.find_first_not_of('0') == std::string_view::npos; }

bool matches_any(const std::vector<std::string>& patterns, std::string_view name) {
    for (const auto& pattern : patterns)
        if (naming::glob_match(pattern, name)) return true;
    return false;
}

std::string short_sha(std::string_view sha) { return std::string(sha.substr(0, 10)); }

// The image a commit pins, or why its .modelenv.yaml is unusable; cached per blob content.
struct ImageAt {
    bool present = false;      // the commit has a .modelenv.yaml
    std::string image;         // normalised image reference, when it loads
    std::string error;         // the loader's message, when it does not
};

class ImageReader {
public:
    explicit ImageReader(const git::Repository& repo) : repo_(repo) {}

    const ImageAt& at(const std::string& commit) {
        auto cached = by_commit_.find(commit);
        if (cached != by_commit_.end()) return cached->second;
        ImageAt result;
        if (auto text = repo_.read_file_at(commit, modelenv_file)) {
            result.present = true;
            try {
                result.image = config::load_modelenv_text(*text, short_sha(commit) + ":" + std::string(modelenv_file))
                                   .image.to_string();
            } catch (const Error& e) {
                result.error = e.what();
            }
        }
        return by_commit_.emplace(commit, std::move(result)).first->second;
    }

private:
    const git::Repository& repo_;
    std::map<std::string, ImageAt> by_commit_;
};

// The commit the pushed history is compared with: where it left the remote's
// protected branch (its remote-tracking ref), else the local one.
std::optional<std::string> comparison_base(const git::Repository& repo, const std::string& remote_name,
                                           const PushPolicy& policy, const std::string& tip) {
    for (const auto& branch : policy.protected_branches) {
        if (branch.find_first_of("*?[") != std::string::npos) continue;  // a glob names no single branch
        for (const auto& candidate : {fmt::format("refs/remotes/{}/{}", remote_name, branch), "refs/heads/" + branch}) {
            if (auto commit = repo.resolve_commit(candidate)) {
                if (auto base = repo.merge_base(tip, *commit)) return base;
            }
        }
    }
    return std::nullopt;
}

bool has_image_change_trailer(const git::Repository& repo, const std::string& commit) {
    for (const auto& [key, value] : git::message_trailers(repo.commit_message(commit))) {
        std::string lower = key;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "image-change" && value.find_first_not_of(" \t") != std::string::npos) return true;
    }
    return false;
}

void check_image(const git::Repository& repo, const std::string& remote_name, const PushPolicy& policy,
                 const RefUpdate& update, ImageReader& images, std::vector<Violation>& out) {
    const ImageAt& tip = images.at(update.local_sha);
    if (tip.present && !tip.error.empty()) {
        out.push_back({update.remote_ref, "pinned-image",
                       fmt::format(".modelenv.yaml at {} does not load: {}", short_sha(update.local_sha), tip.error),
                       "fix the file (git model env check shows every problem) and amend the commit"});
        return;
    }
    const auto base = comparison_base(repo, remote_name, policy, update.local_sha);
    if (!base || !tip.present) return;
    const ImageAt& before = images.at(*base);
    if (!before.present || !before.error.empty() || before.image == tip.image) return;
    // The image differs from the base: every commit that changed it must say why.
    for (const auto& commit : repo.commits_between(update.local_sha, {*base}, max_commits_checked)) {
        const ImageAt& here = images.at(commit);
        const auto parent = repo.first_parent(commit);
        const std::string parent_image = parent ? images.at(*parent).image : std::string();
        if (!here.present || here.image == parent_image || here.image.empty()) continue;
        if (has_image_change_trailer(repo, commit)) continue;
        out.push_back({update.remote_ref, "frozen-image",
                       fmt::format("commit {} changes the pinned image from {} to {} without saying why",
                                   short_sha(commit), parent_image.empty() ? before.image : parent_image, here.image),
                       "add a trailer to that commit's message, e.g. `git commit --amend --trailer "
                       "'Image-Change: <reason>'` (or reword it with git rebase -i)"});
    }
}

}  // namespace

bool RefUpdate::is_delete() const { return is_zero(local_sha); }
bool RefUpdate::is_create() const { return is_zero(remote_sha); }

std::vector<RefUpdate> parse_pre_push_input(std::string_view input) {
    std::vector<RefUpdate> updates;
    std::istringstream lines{std::string(input)};
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        std::istringstream fields(line);
        RefUpdate update;
        std::string extra;
        if (!(fields >> update.local_ref >> update.local_sha >> update.remote_ref >> update.remote_sha) ||
            (fields >> extra) || update.local_sha.size() != zero_sha.size() ||
            update.remote_sha.size() != zero_sha.size()) {
            throw Error(fmt::format("malformed pre-push input on line {}: {}", number, quote_for_message(line)),
                        "this hook must be run by git push");
        }
        updates.push_back(std::move(update));
    }
    return updates;
}

PushPolicy read_push_policy(const git::Repository& repo) {
    const git::Config config = repo.config();
    PushPolicy policy;
    if (auto protected_branches = config.get_all("model.protectedBranch"); !protected_branches.empty())
        policy.protected_branches = protected_branches;
    policy.allowed_branches = config.get_all("model.allowedBranch");
    policy.allowed_tags = config.get_all("model.allowedTag");
    return policy;
}

std::vector<Violation> check_push(const git::Repository& repo, const std::string& remote_name,
                                  const std::vector<RefUpdate>& updates, const PushPolicy& policy) {
    std::vector<Violation> out;
    ImageReader images(repo);
    for (const auto& update : updates) {
        const std::string& ref = update.remote_ref;
        if (starts_with(ref, "refs/heads/")) {
            const std::string branch = ref.substr(11);
            if (matches_any(policy.protected_branches, branch)) {
                std::string action = update.is_delete() ? "delete" : update.is_create() ? "create" : "update";
                if (action == "update" && repo.has_commit(update.remote_sha) &&
                    !repo.is_ancestor(update.remote_sha, update.local_sha))
                    action = "force-update";
                out.push_back({ref, "protected-branch",
                               fmt::format("this push would {} {}, which is protected (model.protectedBranch)", action,
                                           branch),
                               "push your work to a model branch instead (git push origin HEAD:feature/model-<name>) and merge it through review"});
                continue;
            }
            if (update.is_create() && !update.is_delete()) {
                const auto model = naming::model_from_branch(branch);
                if (!model && !matches_any(policy.allowed_branches, branch)) {
                    std::string reason = "matches no allowed branch pattern";
                    if (starts_with(branch, naming::model_branch_prefix)) {
                        reason = fmt::format("is not a valid model branch: the model name {}",
                                             naming::check_model_name(branch.substr(naming::model_branch_prefix.size())).rule);
                    }
                    out.push_back({ref, "branch-name",
                                   fmt::format("new branch '{}' {} (allowed: feature/model-<name>{}{})", branch, reason,
                                               policy.allowed_branches.empty() ? "" : ", ",
                                               join(policy.allowed_branches, ", ")),
                                   "rename it (git branch -m) to feature/model-<name>, or allow the pattern: "
                                   "git config --add model.allowedBranch '<glob>'"});
                }
            }
            if (!update.is_delete() && update.local_sha != update.remote_sha)
                check_image(repo, remote_name, policy, update, images, out);
        } else if (starts_with(ref, "refs/tags/") && !update.is_delete() && !policy.allowed_tags.empty()) {
            const std::string tag = ref.substr(10);
            if (!matches_any(policy.allowed_tags, tag)) {
                out.push_back({ref, "tag-name",
                               fmt::format("tag '{}' matches no allowed tag pattern ({})", tag,
                                           join(policy.allowed_tags, ", ")),
                               "rename the tag, or allow it: git config --add model.allowedTag '<glob>'"});
            }
        }
    }
    return out;
}

std::string format_rejection(const std::vector<Violation>& violations) {
    std::string text = fmt::format("git-model: push refused by the pre-push hook ({} problem{}); nothing was pushed.\n",
                                   violations.size(), violations.size() == 1 ? "" : "s");
    for (const auto& violation : violations) {
        text += fmt::format("\n  {}  [rule: {}]\n    {}\n    fix: {}\n", violation.ref, violation.rule,
                            violation.problem, violation.fix);
    }
    text +=
        "\nThe hook can be bypassed with `git push --no-verify`, so it is no substitute for the server's own\n"
        "protection: protect the branch there too. GitLab: Settings > Repository > Protected branches\n"
        "(Allowed to push: No one). GitHub: Settings > Branches > Add branch protection rule (or Rules >\n"
        "Rulesets), requiring a pull request before merging.\n";
    return text;
}

}  // namespace gm::hooks
