#include "gitmodel/hooks/pre_push.hpp"

#include "gitmodel/ci/pipeline.hpp"

#include "gitmodel/config/config_error.hpp"
#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/hooks/attributes.hpp"
#include "gitmodel/naming/glob.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <sstream>

namespace gm::hooks {

namespace {

bool is_zero(std::string_view sha) { return sha.find_first_not_of('0') == std::string_view::npos; }

bool matches_any(const std::vector<std::string>& patterns, std::string_view name) {
    for (const auto& pattern : patterns)
        if (naming::glob_match(pattern, name)) return true;
    return false;
}

std::string short_sha(std::string_view sha) { return std::string(sha.substr(0, 10)); }

// The image a commit pins, or why its .modelenv.yaml is unusable; cached per commit.
struct ImageAt {
    bool present = false;      // the commit has a .modelenv.yaml
    std::string image;         // normalised image reference, when it loads
    std::string error;         // the loader's message, when it does not
    bool linked = false;       // it is a link (the file it names can change the image)
};

class ImageReader {
public:
    explicit ImageReader(git::RepoReader& repo) : repo_(repo) {}

    const ImageAt& at(const std::string& commit) {
        auto cached = by_commit_.find(commit);
        if (cached != by_commit_.end()) return cached->second;
        ImageAt result;
        const std::string name = config::modelenv_file_name;
        try {
            // A link to a file of the tree reads that file, as the working tree does.
            if (const auto text = git::read_config_file(repo_, commit, name, &result.linked)) {
                result.present = true;
                result.image = config::load_modelenv_text(*text, short_sha(commit) + ":" + name).image.to_string();
            }
        } catch (const Error& e) {
            result.present = true;
            result.error = e.what();
        }
        return by_commit_.emplace(commit, std::move(result)).first->second;
    }

private:
    git::RepoReader& repo_;
    std::map<std::string, ImageAt> by_commit_;
};

// What one ref update brings: the pushed commits (their blobs handed to the data policy),
// where they leave what the remote already has, and which of them touch .modelenv.yaml.
struct PushedRange {
    std::vector<git::NewCommit> commits;
    std::vector<std::string> boundary;  // parents outside the range
    std::vector<std::size_t> touching;  // indices of commits that introduce a .modelenv.yaml
};

// A commit whose blobs are judged: which one, for which ref, with its .gitattributes.
struct Origin {
    std::string commit;
    std::size_t update = 0;
    std::vector<git::AttributesFile> attributes;
};

// The pinned image may change only with a reason. Compared between where the pushed
// commits leave what the remote already has (their boundary: the ref's old value, the commits
// its remote-tracking refs hold) and the pushed tip; only when they differ are the pushed
// commits that touch .modelenv.yaml read, so the cost does not grow with the branch's length.
// Where nothing tells what the remote has (a push by URL, a remote never fetched), the range
// reaches back to the first commit, and no local branch stands in for the remote's (it may hold
// unpushed commits): each commit is judged against the ones before it, the first pin being no
// change.
void check_image(git::RepoReader& repo, const RefUpdate& update, const std::string& tip_commit,
                 const PushedRange& pushed, ImageReader& images, std::vector<Violation>& out) {
    const ImageAt& tip = images.at(tip_commit);
    if (tip.present && !tip.error.empty()) {
        out.push_back({update.remote_ref, "pinned-image",
                       fmt::format(".modelenv.yaml at {} does not load: {}", short_sha(tip_commit), tip.error),
                       "fix the file (git model env check shows every problem) and amend the commit"});
        return;
    }
    if (!tip.present || pushed.commits.empty()) return;
    std::string before_image;
    for (const auto& base : pushed.boundary) {
        const ImageAt& before = images.at(base);
        if (!before.present || !before.error.empty()) continue;
        if (before.image == tip.image) return;  // the image the remote knows, unchanged
        if (before_image.empty()) before_image = before.image;
    }
    if (!pushed.boundary.empty() && before_image.empty()) return;  // the remote knows no pinned image to keep
    // Through a link, a commit that changes only the file it names changes the image: each pushed
    // commit is read then (only where the image differs, as above), whether the link is at the tip,
    // where the remote's commits leave off, or replaced on the way (the image changed through the
    // link, then the link made a plain file holding the new image).
    bool through_link = tip.linked;
    for (const auto& base : pushed.boundary) through_link = through_link || images.at(base).linked;
    for (const std::size_t index : pushed.touching)
        for (const auto& parent : pushed.commits[index].parents) through_link = through_link || images.at(parent).linked;
    std::vector<std::size_t> candidates = pushed.touching;
    if (through_link) {
        candidates.resize(pushed.commits.size());
        std::iota(candidates.begin(), candidates.end(), std::size_t{0});
    }
    std::unordered_map<std::string_view, std::size_t> index_of;
    for (std::size_t c = 0; c < pushed.commits.size(); ++c) index_of.emplace(pushed.commits[c].id, c);
    // What the line of work pinned before a commit whose parents' files do not load (a typo fixed,
    // a deleted file restored): the last image that loads back along first parents, else what the
    // remote knows. Restoring it is no change; bringing another is.
    const auto image_before = [&](const git::NewCommit& commit) -> std::string {
        const git::NewCommit* at = &commit;
        while (!at->parents.empty()) {
            const std::string& parent = at->parents.front();
            if (const ImageAt& image = images.at(parent); !image.image.empty()) return image.image;
            const auto found = index_of.find(parent);
            if (found == index_of.end()) break;
            at = &pushed.commits[found->second];
        }
        return before_image;
    };
    for (const std::size_t index : candidates) {
        const git::NewCommit& commit = pushed.commits[index];
        const ImageAt& here = images.at(commit.id);
        if (here.image.empty()) continue;  // an unloadable step on the way; the tip loads
        std::string parent_image;
        bool same_as_a_parent = false;
        for (const auto& parent : commit.parents) {
            const std::string& image = images.at(parent).image;
            if (image == here.image) same_as_a_parent = true;
            if (parent_image.empty()) parent_image = image;
        }
        if (same_as_a_parent) continue;  // a merge that takes one side's image changes nothing
        if (parent_image.empty()) parent_image = image_before(commit);
        if (parent_image.empty() || parent_image == here.image) continue;  // the first pin, or the same one back
        const auto message = git::commit_message_of(repo.read_objects({commit.id}).front().value_or(""));
        if (has_image_change_reason(message)) continue;
        out.push_back({update.remote_ref, "frozen-image",
                       fmt::format("commit {} changes the pinned image from {} to {} without saying why",
                                   short_sha(commit.id), parent_image, here.image),
                       "add a trailer with the reason to that commit's message, e.g. `git commit --amend --trailer "
                       "'Image-Change: <reason>'` (or reword it with git rebase -i)"});
    }
}

// What the remote is known to have: its remote-tracking refs and the old values of the pushed refs.
std::vector<std::string> known_to_remote(git::RepoReader& repo, const std::string& remote_name,
                                         const std::vector<RefUpdate>& updates) {
    std::vector<std::string> known;
    // A push to a URL has no remote-tracking refs (and a URL is no ref name).
    if (!remote_name.empty() && remote_name.find_first_of(":\\") == std::string::npos && remote_name[0] != '/' &&
        remote_name[0] != '.')
        known = repo.ref_targets("refs/remotes/" + remote_name + "/");
    for (const auto& update : updates)
        if (!update.is_create()) known.push_back(update.remote_sha);
    return known;
}

// Whether each blob's path is one Git LFS should store, from the .gitattributes files of the
// commit that brings it (found while its trees were compared) and info/attributes; each
// distinct file is read and parsed once.
void mark_lfs_paths(git::RepoReader& repo, std::vector<BlobToJudge>& blobs, const std::vector<Origin>& origins) {
    std::vector<std::string> distinct;
    std::unordered_map<std::string, std::size_t> text_index;
    for (const auto& origin : origins)
        for (const auto& file : origin.attributes)
            if (text_index.emplace(file.blob, distinct.size()).second) distinct.push_back(file.blob);
    std::string info_text;
    {
        std::ifstream info(repo.common_dir() / "info" / "attributes");
        std::ostringstream buffer;
        buffer << info.rdbuf();
        info_text = buffer.str();
    }
    if (distinct.empty() && info_text.find("filter") == std::string::npos) return;  // nothing sets a filter
    const auto texts = repo.read_objects(distinct);
    const auto text_of = [&](const std::string& id) -> const std::string& {
        static const std::string none;
        const auto& text = texts[text_index.at(id)];
        return text ? *text : none;
    };
    const FilterMacros info_macros = parse_filter_macros(info_text);
    const AttributeFile info = parse_attribute_file(info_text, "", info_macros);
    std::map<std::string, AttributeFile> parsed;  // root file id, file id, folder -> its rules
    for (auto& blob : blobs) {
        const auto& files = origins[blob.origin].attributes;
        if (files.empty()) {
            blob.lfs_filtered = filter_for(blob.path, {&info}) == std::optional<std::string>("lfs");
            continue;
        }
        std::string root_id;
        for (const auto& file : files)
            if (file.dir.empty()) root_id = file.blob;
        std::vector<const git::AttributesFile*> applying;  // the folders above the blob, deepest first
        for (const auto& file : files) {
            if (file.dir.empty() || (blob.path.size() > file.dir.size() && starts_with(blob.path, file.dir) &&
                                     blob.path[file.dir.size()] == '/'))
                applying.push_back(&file);
        }
        std::sort(applying.begin(), applying.end(),
                  [](const git::AttributesFile* a, const git::AttributesFile* b) { return a->dir.size() > b->dir.size(); });
        std::vector<const AttributeFile*> rules{&info};
        for (const auto* file : applying) {
            const std::string key = root_id + '\n' + file->blob + '\n' + file->dir;
            auto it = parsed.find(key);
            if (it == parsed.end()) {
                FilterMacros macros = info_macros;
                if (!root_id.empty())
                    for (auto& [name, state] : parse_filter_macros(text_of(root_id))) macros.emplace(name, state);
                it = parsed.emplace(key, parse_attribute_file(text_of(file->blob), file->dir, macros)).first;
            }
            rules.push_back(&it->second);
        }
        blob.lfs_filtered = filter_for(blob.path, rules) == std::optional<std::string>("lfs");
    }
}

// The data policy on what the push brings: every blob the new commits introduce, judged once.
void check_data(git::RepoReader& repo, const DataPolicy& data, std::vector<BlobToJudge> blobs,
                const std::vector<Origin>& origins, const std::vector<RefUpdate>& updates,
                std::vector<Violation>& out) {
    if (blobs.empty()) return;
    mark_lfs_paths(repo, blobs, origins);
    auto offenders = judge_blobs(repo, blobs, data);
    // the same file content at the same path, brought by several commits, is one problem
    std::set<std::pair<std::string, std::string>> seen;
    offenders.erase(std::remove_if(offenders.begin(), offenders.end(),
                                   [&](const Offender& o) { return !seen.emplace(o.path, o.reason).second; }),
                    offenders.end());
    constexpr std::size_t shown = 20;
    for (std::size_t i = 0; i < offenders.size() && i < shown; ++i) {
        const auto& offender = offenders[i];
        const bool lfs = offender.reason.find("Git LFS") != std::string::npos;
        const Origin& origin = origins[offender.origin];
        out.push_back({updates[origin.update].remote_ref, "data",
                       fmt::format("commit {} adds {}, which {}", short_sha(origin.commit), offender.path,
                                   offender.reason),
                       lfs ? "install git-lfs, then rewrite the commits so LFS stores the file: git lfs migrate "
                             "import --include='<pattern>' --include-ref=<branch> (or drop it from them with git "
                             "rebase -i); or allow it " + git::team_setting_fix("model.allowPath", "<path>", true)
                           : "take it out of the pushed commits (git rebase -i, then git rm --cached <file>), or "
                             "store it through Git LFS (git lfs migrate import --include='<pattern>'), or allow it "
                             "on purpose " + git::team_setting_fix("model.allowPath", "<path or glob>", true)});
    }
    if (offenders.size() > shown) {
        out.push_back({updates[origins[offenders[shown].origin].update].remote_ref, "data",
                       fmt::format("... and {} of the same kind", count_of(offenders.size() - shown, "more file", "more files")),
                       "the same fixes apply"});
    }
}

// The CI file's image at the pushed tip.
std::vector<CiImageMismatch> mismatches_at(git::RepoReader& repo, const std::string& commit, ImageReader& images) {
    std::vector<CiImageMismatch> out;
    const ImageAt& tip = images.at(commit);
    if (!tip.present || !tip.error.empty()) return out;
    for (const auto forge : {ci::Forge::gitlab, ci::Forge::github}) {
        const std::string path = ci::pipeline_path(forge).generic_string();
        const auto text = repo.read_objects({commit + ":" + path});
        if (text.empty() || !text[0] || !ci::is_generated_pipeline(*text[0])) continue;
        for (const auto& image : ci::pipeline_images(*text[0])) {
            if (image == tip.image) continue;
            out.push_back({path, image, tip.image,
                           fmt::format("git model ci init --{} --update", forge == ci::Forge::gitlab ? "gitlab" : "github")});
            break;
        }
    }
    return out;
}

// The CI file `git model ci init` wrote runs the image .modelenv.yaml pins, at the pushed tip.
void check_ci_image(git::RepoReader& repo, const RefUpdate& update, const std::string& tip_commit, ImageReader& images,
                    std::vector<Violation>& out) {
    for (const auto& mismatch : mismatches_at(repo, tip_commit, images))
        out.push_back({update.remote_ref, "ci-image",
                       fmt::format("{} at {} runs image {}, but .modelenv.yaml pins {}", mismatch.path,
                                   short_sha(tip_commit), mismatch.image, mismatch.pinned),
                       fmt::format("{}   (rewrites only the image lines), then commit {}", mismatch.fix, mismatch.path)});
}

}  // namespace

std::vector<CiImageMismatch> ci_image_mismatches(git::RepoReader& repo, const std::string& commit) {
    ImageReader images(repo);
    return mismatches_at(repo, commit, images);
}

bool has_image_change_reason(const std::string& message) {
    for (const auto& [key, value] : git::message_trailers(message)) {
        std::string lower = key;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower != "image-change") continue;
        // libgit2 1.5 reads the line after an empty trailer as its value: keep only what git
        // reads, the first line and the continuation lines that start with white space.
        std::string reason = value.substr(0, value.find('\n'));
        for (auto at = value.find('\n'); at != std::string::npos && at + 1 < value.size(); at = value.find('\n', at + 1)) {
            if (value[at + 1] != ' ' && value[at + 1] != '\t') break;
            reason += value.substr(at + 1, value.find('\n', at + 1) - at - 1);
        }
        if (reason.find_first_not_of(" \t\r") != std::string::npos) return true;
    }
    return false;
}

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
            (fields >> extra) || !is_object_id(update.local_sha) || update.remote_sha.size() != update.local_sha.size() ||
            !is_object_id(update.remote_sha)) {
            throw Error(fmt::format("malformed pre-push input on line {}: {}", number, quote_for_message(line)),
                        "this hook must be run by git push");
        }
        updates.push_back(std::move(update));
    }
    return updates;
}

namespace {

// The branch a setting names when it is written as a ref or through a remote, in any spelling git
// resolves the same ("refs/heads/main", "heads/main", "refs/remotes/origin/main",
// "remotes/origin/main", or "origin/main" where origin is a remote, also one whose name has a slash
// such as "team/origin"): "main". Pushes are judged by the branch name they update, so such a value
// as written would protect nothing.
std::string branch_named(const git::ConfigView& config, const std::string& value) {
    std::string_view rest = value;
    const auto strip = [&rest](std::string_view prefix) {
        if (rest.substr(0, prefix.size()) != prefix) return false;
        rest.remove_prefix(prefix.size());
        return true;
    };
    const bool full = strip("refs/");
    if (strip("heads/")) return std::string(rest);
    const bool through_remote = strip("remotes/");
    if (full && !through_remote) return value;  // refs/tags/..., refs/notes/...: no branch
    // <remote>/<branch>: the longest configured remote name that leads the value.
    for (auto slash = rest.rfind('/'); slash != std::string_view::npos && slash > 0; slash = rest.rfind('/', slash - 1)) {
        if (config.get_string("remote." + std::string(rest.substr(0, slash)) + ".url"))
            return std::string(rest.substr(slash + 1));
    }
    if (through_remote) {  // a remote since removed: its name is most likely one word
        const auto slash = rest.find('/');
        return slash == std::string_view::npos ? value : std::string(rest.substr(slash + 1));
    }
    return value;
}

}  // namespace

PushPolicy read_push_policy(const git::ConfigView& config, const std::string& remote_default) {
    PushPolicy policy;
    policy.protected_branches.clear();
    const auto protect = [&](const std::string& branch) {
        if (!branch.empty() && std::find(policy.protected_branches.begin(), policy.protected_branches.end(), branch) ==
                                   policy.protected_branches.end())
            policy.protected_branches.push_back(branch);
    };
    // The base branch is always protected (model.baseBranch, else main), whatever else is; a value
    // written as a ref or through a remote protects the branch it names (and itself, as written).
    std::string base = config.get_string("model.baseBranch").value_or("");
    if (base.empty()) base = "main";
    std::vector<std::string> values{base};
    for (auto& branch : config.get_all("model.protectedBranch")) values.push_back(std::move(branch));
    for (const auto& value : values) {
        protect(branch_named(config, value));
        protect(value);
    }
    if (!remote_default.empty() && !naming::model_from_branch(remote_default) &&
        !matches_any(policy.protected_branches, remote_default)) {
        policy.remote_default = remote_default;
        policy.protected_branches.push_back(remote_default);
    }
    policy.allowed_branches = config.get_all("model.allowedBranch");
    policy.allowed_tags = config.get_all("model.allowedTag");
    return policy;
}

namespace {

// A pushed ref that names a blob or tree (a tag of a file or a folder, a blob pushed to a branch):
// its files would reach the remote past the data policy, which judges the files of commits.
Violation not_a_commit(const std::string& ref, const RefUpdate& update) {
    return {ref, "not-a-commit",
            fmt::format("{} points at {}, which is no commit (a tag of a file or a folder?): its files would reach "
                        "the remote past the data policy, which judges the files of commits",
                        ref, short_id(update.local_sha)),
            "commit the files (the data policy then judges them) and tag the commit"};
}

}  // namespace

std::vector<Violation> check_push(git::RepoReader& repo, const std::string& remote_name,
                                  const std::vector<RefUpdate>& updates, const PushPolicy& policy,
                                  const DataPolicy& data) {
    std::vector<Violation> out;
    ImageReader images(repo);
    std::optional<std::vector<std::string>> known;
    std::unordered_set<std::string> judged_commits;
    std::vector<BlobToJudge> blobs;
    std::vector<Origin> origins;
    // The commits this update brings, each judged once: their blobs queued for the data policy.
    const auto pushed_commits = [&](std::size_t update_index, const std::string& tip) {
        if (!known) known = known_to_remote(repo, remote_name, updates);
        PushedRange range;
        range.commits = repo.new_commits(tip, *known);
        std::unordered_set<std::string_view> ids;
        ids.reserve(range.commits.size());
        for (const auto& commit : range.commits) ids.insert(commit.id);
        for (std::size_t c = 0; c < range.commits.size(); ++c) {
            auto& commit = range.commits[c];
            for (const auto& parent : commit.parents)
                if (!ids.count(parent) && std::find(range.boundary.begin(), range.boundary.end(), parent) ==
                                              range.boundary.end())
                    range.boundary.push_back(parent);
            if (std::any_of(commit.blobs.begin(), commit.blobs.end(),
                            [](const git::IntroducedBlob& b) { return b.path == config::modelenv_file_name; }))
                range.touching.push_back(c);
            if (updates.size() > 1 && !judged_commits.insert(commit.id).second) continue;
            origins.push_back({commit.id, update_index, std::move(commit.attributes)});
            for (auto& blob : commit.blobs)
                blobs.push_back({std::move(blob.path), std::move(blob.blob), false, origins.size() - 1});
            commit.blobs.clear();
        }
        return range;
    };
    for (std::size_t index = 0; index < updates.size(); ++index) {
        const RefUpdate& update = updates[index];
        const std::string& ref = update.remote_ref;
        if (starts_with(ref, "refs/heads/")) {
            const std::string branch = ref.substr(11);
            if (matches_any(policy.protected_branches, branch)) {
                std::string action = update.is_delete() ? "delete" : update.is_create() ? "create" : "update";
                if (action == "update" && repo.has_commit(update.remote_sha) &&
                    !repo.is_ancestor(update.remote_sha, update.local_sha))
                    action = "force-update";
                out.push_back({ref, "protected-branch",
                               fmt::format("this push would {} {}, which is protected ({})", action, branch,
                                           branch == policy.protected_branches.front()
                                               ? "the base branch, model.baseBranch"
                                           : branch == policy.remote_default
                                               ? fmt::format("the default branch of {}, which every clone starts from", remote_name)
                                               : "model.protectedBranch"),
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
                                   "rename it (git branch -m) to feature/model-<name>, or allow the pattern " +
                                       git::team_setting_fix("model.allowedBranch", "<glob>", true)});
                }
            }
            if (!update.is_delete() && update.local_sha != update.remote_sha) {
                if (auto tip = repo.resolve_commit(update.local_sha)) {
                    const auto range = pushed_commits(index, *tip);
                    check_image(repo, update, *tip, range, images, out);
                    check_ci_image(repo, update, *tip, images, out);
                } else {
                    out.push_back(not_a_commit(ref, update));  // the remote stores the pack before it refuses the ref
                }
            }
            continue;
        }
        // Anything else that brings commits (tags, notes, other refs) brings their blobs too. One
        // that names a file or a folder itself (a tag of a blob or tree) would bring files no commit
        // holds, past the data policy that judges commits' files: refused.
        if (!update.is_delete() && update.local_sha != update.remote_sha) {
            if (auto tip = repo.resolve_commit(update.local_sha)) {
                pushed_commits(index, *tip);
            } else {
                out.push_back(not_a_commit(ref, update));
            }
        }
        if (starts_with(ref, "refs/tags/") && !update.is_delete() && !policy.allowed_tags.empty()) {
            const std::string tag = ref.substr(10);
            if (!matches_any(policy.allowed_tags, tag)) {
                out.push_back({ref, "tag-name",
                               fmt::format("tag '{}' matches no allowed tag pattern ({})", tag,
                                           join(policy.allowed_tags, ", ")),
                               "rename the tag, or allow it " + git::team_setting_fix("model.allowedTag", "<glob>", true)});
            }
        }
    }
    check_data(repo, data, std::move(blobs), origins, updates, out);
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
