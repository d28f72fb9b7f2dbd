#include "gitmodel/hooks/pre_commit.hpp"

#include "gitmodel/config/values.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/naming/glob.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace gm::hooks {

const std::vector<std::string>& default_data_patterns() {
    static const std::vector<std::string> patterns{"*.pt",  "*.pth", "*.ckpt",    "*.safetensors", "*.bin", "*.npy",
                                                   "*.npz", "*.h5",  "*.parquet", "*.tfrecord",    "data/**"};
    return patterns;
}

CommitPolicy read_commit_policy(const git::Repository& repo) {
    const git::Config config = repo.config();
    CommitPolicy policy;
    if (auto size = config.get_string("model.maxFileSize")) {
        auto bytes = config::parse_byte_size(*size);
        if (!bytes) {
            throw Error(fmt::format("model.maxFileSize '{}' is not a size", *size),
                        "use a size such as 10m, 500k or 1g: git config model.maxFileSize 10m");
        }
        policy.max_file_size = *bytes;
    }
    policy.data_patterns = default_data_patterns();
    for (const auto& pattern : config.get_all("model.dataPattern")) {
        if (!pattern.empty() && pattern[0] == '!') {
            const std::string removed = pattern.substr(1);
            policy.data_patterns.erase(std::remove(policy.data_patterns.begin(), policy.data_patterns.end(), removed),
                                       policy.data_patterns.end());
        } else if (!pattern.empty()) {
            policy.data_patterns.push_back(pattern);
        }
    }
    policy.allowed_paths = config.get_all("model.allowPath");
    return policy;
}

std::vector<Offender> check_commit(const std::vector<git::StagedFile>& staged, const CommitPolicy& policy) {
    std::vector<Offender> out;
    for (const auto& file : staged) {
        if (file.filter == "lfs") continue;  // stored through Git LFS: only a pointer enters git
        const bool allowed = std::any_of(policy.allowed_paths.begin(), policy.allowed_paths.end(),
                                         [&](const std::string& p) { return naming::path_matches(p, file.path); });
        if (allowed) continue;
        if (file.size > policy.max_file_size) {
            out.push_back({file.path, fmt::format("{} is larger than model.maxFileSize ({})",
                                                  config::format_byte_size(file.size),
                                                  config::format_byte_size(policy.max_file_size))});
            continue;
        }
        for (const auto& pattern : policy.data_patterns) {
            if (naming::path_matches(pattern, file.path)) {
                out.push_back({file.path, fmt::format("looks like training data or a checkpoint (matches '{}')", pattern)});
                break;
            }
        }
    }
    return out;
}

std::string format_commit_rejection(const std::vector<Offender>& offenders, const CommitPolicy&) {
    std::string text = fmt::format("git-model: commit refused by the pre-commit hook: {} file{} should not go into git.\n\n",
                                   offenders.size(), offenders.size() == 1 ? "" : "s");
    for (const auto& offender : offenders) text += fmt::format("  {}: {}\n", offender.path, offender.reason);
    text +=
        "\nWhat to do:\n"
        "  - keep data and checkpoints outside the repository and mount them into the environment:\n"
        "    `mounts:` in .modelenv.yaml (see gitmodelenv(5)); checkpoints go to the persist folders;\n"
        "  - or store the file through Git LFS: git lfs track '<pattern>' && git add .gitattributes <file>;\n"
        "  - or allow this path on purpose: git config --add model.allowPath '<path or glob>';\n"
        "  - unstage it meanwhile: git restore --staged <file>.\n"
        "Bypass once (not recommended): git commit --no-verify\n";
    return text;
}

}  // namespace gm::hooks
