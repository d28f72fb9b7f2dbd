#pragma once
// What the hooks read from a repository, in either object format: through
// libgit2 where it can open the repository (SHA-1), through git's own plumbing
// where it cannot (libgit2 1.5 does not know SHA-256 object names). One
// interface, so that pre-commit and pre-push judge the same way in both.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/tree_links.hpp"

namespace gm::git {

// Thrown where libgit2 cannot open a repository because of its object format,
// so that callers with a plumbing fallback can take it and others refuse clearly.
class ObjectFormatError : public Error {
public:
    using Error::Error;
};

// The repository found belongs to another user and git refuses it (no safe.directory names it):
// `doctor` reports it as such, not as "not in a repository".
class ForeignRepositoryError : public Error {
public:
    using Error::Error;
};

// The configuration the policies read: libgit2's with git's -c overrides, or `git config --list`'s.
class ConfigView {
public:
    virtual ~ConfigView() = default;
    // The last value of a key (git's rule: the most specific file, then -c, wins), if set.
    virtual std::optional<std::string> get_string(std::string_view key) const = 0;
    // Every value of a multi-valued key, in git's order.
    virtual std::vector<std::string> get_all(std::string_view key) const = 0;
};

// A file content a commit brings: its blob at that path differs from the
// path's blob in every parent (git's combined diff), so content merged in from
// one side is judged where it was made, not again at the merge.
struct IntroducedBlob {
    std::string path;
    std::string blob;  // object id (hex)
};

// A .gitattributes file of a commit: the folder it is in ("" for the root) and its blob.
struct AttributesFile {
    std::string dir;
    std::string blob;
};

// A commit of a push, with what the data policy and the image check read.
struct NewCommit {
    std::string id;
    std::vector<std::string> parents;
    std::vector<IntroducedBlob> blobs;  // files and symbolic links; submodules are not content
    // The .gitattributes files (at least) of every folder that holds one of blobs, so that
    // their "filter" can be read without looking the folders up again.
    std::vector<AttributesFile> attributes;
};

// A file staged for the next commit (added or modified, not deleted).
struct StagedBlob {
    std::string path;
    std::string blob;    // object id (hex) of the staged content
    std::string filter;  // its "filter" attribute as git sees it at commit time ("lfs"), empty when unset
};

// Read access to one repository, as the hooks need it.
class RepoReader {
public:
    virtual ~RepoReader() = default;

    // "sha1" or "sha256": the length of the ids it speaks.
    virtual std::string object_format() const = 0;
    // The repository's configuration (with git's -c overrides).
    virtual const ConfigView& config() const = 0;
    // The git dir shared by all worktrees.
    virtual std::filesystem::path common_dir() const = 0;
    // The folder git runs hooks from (core.hooksPath resolved as git does for this worktree).
    virtual std::filesystem::path hooks_dir() const = 0;
    // This worktree's folder; nullopt in a bare repository.
    virtual std::optional<std::filesystem::path> workdir() const = 0;
    // The main worktree's folder (the common dir for a bare repository): where a
    // relative core.hooksPath is anchored for every worktree.
    virtual std::filesystem::path main_worktree() const = 0;

    // The commit a revision names, if any.
    virtual std::optional<std::string> resolve_commit(std::string_view revision) = 0;
    // Whether a commit with this id exists here.
    virtual bool has_commit(std::string_view id) = 0;
    // Whether ancestor is reachable from descendant (or equal to it).
    virtual bool is_ancestor(std::string_view ancestor, std::string_view descendant) = 0;
    // The best common ancestor of two commits, if any.
    virtual std::optional<std::string> merge_base(std::string_view a, std::string_view b) = 0;
    // The commits the refs under a prefix ("refs/remotes/origin/") point at.
    virtual std::vector<std::string> ref_targets(std::string_view prefix) = 0;

    // Every commit reachable from tip and from none of hide (ids this
    // repository lacks are ignored), each with the content it introduces.
    // The cost follows what is new, not the length of the history.
    virtual std::vector<NewCommit> new_commits(const std::string& tip, const std::vector<std::string>& hide) = 0;
    // The size of each object (nullopt where it is missing), in order.
    virtual std::vector<std::optional<std::uint64_t>> object_sizes(const std::vector<std::string>& ids) = 0;
    // The id of the blob each "<commit>:<path>" names (nullopt where there is none), in order.
    virtual std::vector<std::optional<std::string>> blob_ids(const std::vector<std::string>& names) = 0;
    // The raw content of each object, named by id or as "<commit>:<path>" (nullopt where
    // there is none), in order. A commit's content is its headers, a blank line, its message.
    virtual std::vector<std::optional<std::string>> read_objects(const std::vector<std::string>& names) = 0;
    // The files staged for the next commit.
    virtual std::vector<StagedBlob> staged() = 0;
    // What a commit's tree holds at a path (for following links); nullopt when nothing.
    virtual std::optional<TreeEntryKind> tree_entry(const std::string& commit, const std::string& path) = 0;
};

// The content of a configuration file in a commit that may be a link to a file of the same tree
// (tree_links.hpp); nullopt when absent. Throws gm::Error naming a link out of the tree or a loop.
// linked (when given) says whether the file read was another path's than `path` (a link was followed).
std::optional<std::string> read_config_file(RepoReader& reader, const std::string& commit, const std::string& path,
                                            bool* linked = nullptr);

// Opens the repository the user (or git, running a hook: as_hook) is in: through libgit2,
// else through git's plumbing when libgit2 cannot read its object format (Repository::discover).
std::unique_ptr<RepoReader> open_reader(bool as_hook = false);

// A reader that only runs git (exposed so that tests can compare both readers on one SHA-1 repository).
std::unique_ptr<RepoReader> open_plumbing_reader();

// RepoReader::new_commits through one `git log --raw -c` over the range: what the plumbing
// reader always does, and the libgit2 one for long ranges, where git's own walk and tree
// diffs are several times faster than libgit2's.
std::vector<NewCommit> log_new_commits(RepoReader& reader, const std::string& tip, const std::vector<std::string>& hide);

// The message of a raw commit object (what follows the first blank line).
std::string commit_message_of(std::string_view raw_commit);

}  // namespace gm::git
