#pragma once
// The data policy: training data and checkpoints stay out of git. One set of
// rules, judged the same way on what pre-commit sees staged and on every blob
// a push brings to the remote (a --no-verify commit, a cherry-pick, a rebase).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/git/reader.hpp"

namespace gm::hooks {

// The rules, from git config (documented in git-model-hooks(1), HOOKS).
struct DataPolicy {
    std::uint64_t max_file_size = 10ull << 20;  // model.maxFileSize
    std::vector<std::string> data_patterns;     // defaults, plus model.dataPattern, minus "!pattern"; any case
    std::vector<std::string> allowed_paths;     // model.allowPath (exact case: a path is allowed on purpose)
    std::vector<std::string> lower_patterns;    // data_patterns in lower case (read_data_policy fills it)
};

// The data patterns refused by default.
const std::vector<std::string>& default_data_patterns();

// Reads the policy; throws gm::Error for a malformed model.maxFileSize.
DataPolicy read_data_policy(const git::ConfigView& config);

// Whether a data pattern matches a path, ignoring case ("model.PT", "DATA/a.csv").
bool matches_data_pattern(std::string_view pattern, std::string_view path);

// Whether a blob is a Git LFS pointer as the LFS spec defines one: under 1024
// bytes, "version https://git-lfs.github.com/spec/v1" first, then sorted
// "key value" lines with an "oid sha256:<64 hex>" and a "size <digits>".
bool is_lfs_pointer(std::string_view content);

// The largest blob that can be an LFS pointer (the spec's limit).
inline constexpr std::uint64_t lfs_pointer_max_size = 1023;

// What is known about one blob at one path, for the verdict.
struct BlobFacts {
    std::string path;
    std::uint64_t size = 0;
    bool lfs_filtered = false;  // .gitattributes gives the path filter=lfs
    bool lfs_pointer = false;   // the blob is a valid LFS pointer
};

// Why the blob may not enter git, or nullopt when it may. A valid LFS pointer
// always may; a path LFS should have stored but did not (a clone without
// git-lfs) may not, whatever its size.
std::optional<std::string> judge_blob(const BlobFacts& blob, const DataPolicy& policy);

// Whether the policy lets a path through without looking at it (model.allowPath).
bool is_allowed_path(const DataPolicy& policy, std::string_view path);

// A blob to judge: where it is and what it is.
struct BlobToJudge {
    std::string path;
    std::string blob;           // object id
    bool lfs_filtered = false;
    std::size_t origin = 0;     // where it comes from, for the caller (pre-push: which commit); 0 when staged
};

// One blob that may not enter git, and why.
struct Offender {
    std::string path;
    std::string reason;
    std::size_t origin = 0;  // the blob's BlobToJudge::origin
};

// Judges many blobs with a few bulk reads (sizes, then the small ones that may
// be LFS pointers); allowed paths are not read at all.
std::vector<Offender> judge_blobs(git::RepoReader& repo, const std::vector<BlobToJudge>& blobs,
                                  const DataPolicy& policy);

}  // namespace gm::hooks
