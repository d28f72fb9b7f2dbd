#include "gitmodel/hooks/pre_commit.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

namespace gm::hooks {

std::vector<Offender> check_staged(git::RepoReader& repo, const DataPolicy& policy) {
    std::vector<BlobToJudge> blobs;
    for (auto& file : repo.staged()) blobs.push_back({file.path, file.blob, file.filter == "lfs", 0});
    return judge_blobs(repo, blobs, policy);
}

std::string format_commit_rejection(const std::vector<Offender>& offenders) {
    std::string text = fmt::format("git-model: commit refused by the pre-commit hook: {} file{} should not go into git.\n\n",
                                   offenders.size(), offenders.size() == 1 ? "" : "s");
    bool lfs = false;
    for (const auto& offender : offenders) {
        text += fmt::format("  {}: {}\n", offender.path, offender.reason);
        lfs = lfs || offender.reason.find("Git LFS") != std::string::npos;
    }
    text += "\nWhat to do:\n";
    if (lfs) {
        text += "  - for files Git LFS should store: install git-lfs (apt install git-lfs), run `git lfs install`,\n"
                "    then stage them again: git rm --cached <file> && git add <file>;\n";
    }
    text +=
        "  - keep data and checkpoints outside the repository and mount them into the environment:\n"
        "    `mounts:` in .modelenv.yaml (see gitmodelenv(5)); checkpoints go to the persist folders;\n"
        "  - or store the file through Git LFS: git lfs track '<pattern>' && git add .gitattributes <file>;\n"
        "  - or allow this path on purpose, " + git::team_setting_fix("model.allowPath", "<path or glob>", true) +
        ";\n"
        "  - unstage it meanwhile: git restore --staged <file>.\n"
        "Bypass once (not recommended; the pre-push hook checks the same rules again): git commit --no-verify\n";
    return text;
}

}  // namespace gm::hooks
