#include "gitmodel/hooks/data_policy.hpp"

#include "gitmodel/config/values.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/naming/glob.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace gm::hooks {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool all_of_chars(std::string_view text, std::string_view allowed) {
    return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

}  // namespace

const std::vector<std::string>& default_data_patterns() {
    // Weights in the formats PyTorch and its exporters write (torch.save's "*.pth.tar" included,
    // which "*.pth" does not match), arrays and datasets; a top-level data folder.
    static const std::vector<std::string> patterns{
        "*.pt",   "*.pth",  "*.pth.tar", "*.ckpt",   "*.safetensors", "*.bin",   "*.onnx",  "*.gguf", "*.keras",
        "*.tflite", "*.npy", "*.npz",    "*.h5",     "*.parquet",     "*.arrow", "*.tfrecord", "data/**"};
    return patterns;
}

DataPolicy read_data_policy(const git::ConfigView& config) {
    DataPolicy policy;
    if (auto size = config.get_string("model.maxFileSize")) {
        auto bytes = config::parse_byte_size(*size);
        if (!bytes) {
            throw Error(fmt::format("model.maxFileSize '{}' is not a size", *size),
                        "use a size such as 10m, 500k or 1g, " + git::team_setting_fix("model.maxFileSize", "10m", false));
        }
        policy.max_file_size = *bytes;
    }
    policy.data_patterns = default_data_patterns();
    for (const auto& pattern : config.get_all("model.dataPattern")) {
        if (!pattern.empty() && pattern[0] == '!') {
            const std::string removed = lower(pattern.substr(1));
            policy.data_patterns.erase(std::remove_if(policy.data_patterns.begin(), policy.data_patterns.end(),
                                                      [&](const std::string& p) { return lower(p) == removed; }),
                                       policy.data_patterns.end());
        } else if (!pattern.empty()) {
            policy.data_patterns.push_back(pattern);
        }
    }
    policy.allowed_paths = config.get_all("model.allowPath");
    for (const auto& pattern : policy.data_patterns) policy.lower_patterns.push_back(lower(pattern));
    return policy;
}

bool matches_data_pattern(std::string_view pattern, std::string_view path) {
    return naming::path_matches(lower(pattern), lower(path));
}

bool is_lfs_pointer(std::string_view content) {
    if (content.size() > lfs_pointer_max_size || content.empty() || content.back() != '\n') return false;
    std::string previous_key;
    bool first = true, oid = false, size = false;
    std::size_t at = 0;
    while (at < content.size()) {
        const auto end = content.find('\n', at);
        const std::string_view line = content.substr(at, end - at);
        at = end + 1;
        const auto space = line.find(' ');
        if (space == std::string_view::npos) return false;
        const std::string_view key = line.substr(0, space), value = line.substr(space + 1);
        if (first) {
            if (key != "version" || (value != "https://git-lfs.github.com/spec/v1" &&
                                     value != "https://hawser.github.com/spec/v1"))
                return false;
            first = false;
            continue;
        }
        if (!all_of_chars(key, "abcdefghijklmnopqrstuvwxyz0123456789.-") || std::string(key) <= previous_key)
            return false;  // keys are sorted, each once
        previous_key = std::string(key);
        if (key == "oid") {
            if (value.substr(0, 7) != "sha256:" || value.size() != 7 + 64 ||
                !all_of_chars(value.substr(7), "0123456789abcdef"))
                return false;
            oid = true;
        } else if (key == "size") {
            if (!all_of_chars(value, "0123456789")) return false;
            size = true;
        }
    }
    return oid && size;
}

bool is_allowed_path(const DataPolicy& policy, std::string_view path) {
    return std::any_of(policy.allowed_paths.begin(), policy.allowed_paths.end(),
                       [&](const std::string& p) { return naming::path_matches(p, path); });
}

std::optional<std::string> judge_blob(const BlobFacts& blob, const DataPolicy& policy) {
    if (blob.lfs_pointer) return std::nullopt;               // only a pointer enters git
    if (blob.lfs_filtered && blob.size == 0) return std::nullopt;  // LFS leaves empty files as they are
    if (blob.lfs_filtered) {
        return fmt::format("is stored through Git LFS (filter=lfs in .gitattributes), but its blob is the file "
                           "itself ({}), not an LFS pointer: git-lfs is not installed or not set up where it was "
                           "added",
                           config::format_byte_size(blob.size));
    }
    if (blob.size > policy.max_file_size) {
        return fmt::format("{} is larger than model.maxFileSize ({})", config::format_byte_size(blob.size),
                           config::format_byte_size(policy.max_file_size));
    }
    const std::string path = lower(blob.path);  // once, not once per pattern
    for (std::size_t i = 0; i < policy.data_patterns.size(); ++i) {
        const std::string& pattern = policy.data_patterns[i];
        std::string own;
        const std::string& folded = i < policy.lower_patterns.size() ? policy.lower_patterns[i] : (own = lower(pattern));
        // "*.pt" and its kin (most data patterns) are a suffix of the file name: no glob needed
        const bool plain_suffix = folded.size() > 1 && folded[0] == '*' &&
                                  folded.find_first_of("*?[\\/", 1) == std::string::npos;
        const bool matched = plain_suffix ? ends_with(path, std::string_view(folded).substr(1))
                                          : naming::path_matches(folded, path);
        if (matched) return fmt::format("looks like training data or a checkpoint (matches '{}')", pattern);
    }
    return std::nullopt;
}

std::vector<Offender> judge_blobs(git::RepoReader& repo, const std::vector<BlobToJudge>& blobs,
                                  const DataPolicy& policy) {
    std::vector<const BlobToJudge*> judged;
    std::vector<std::string> ids;
    judged.reserve(blobs.size());
    ids.reserve(blobs.size());
    for (const auto& blob : blobs) {
        if (is_allowed_path(policy, blob.path)) continue;
        judged.push_back(&blob);
        ids.push_back(blob.blob);
    }
    const auto sizes = repo.object_sizes(ids);
    // Only a small blob can be a pointer, and only one that would otherwise be refused needs reading.
    std::vector<BlobFacts> facts(judged.size());
    std::vector<std::string> to_read;
    std::vector<std::size_t> read_for;
    for (std::size_t i = 0; i < judged.size(); ++i) {
        facts[i].path = judged[i]->path;
        facts[i].size = sizes[i].value_or(0);
        facts[i].lfs_filtered = judged[i]->lfs_filtered;
        if (facts[i].size == 0 || facts[i].size > lfs_pointer_max_size) continue;
        if (judge_blob(facts[i], policy)) {
            to_read.push_back(judged[i]->blob);
            read_for.push_back(i);
        }
    }
    const auto contents = repo.read_objects(to_read);
    for (std::size_t k = 0; k < read_for.size(); ++k)
        facts[read_for[k]].lfs_pointer = contents[k] && is_lfs_pointer(*contents[k]);
    std::vector<Offender> out;
    for (std::size_t i = 0; i < judged.size(); ++i) {
        if (auto reason = judge_blob(facts[i], policy)) out.push_back({judged[i]->path, *reason, judged[i]->origin});
    }
    return out;
}

}  // namespace gm::hooks
