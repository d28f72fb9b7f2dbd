#pragma once
// Move-only owners for libgit2's C handles, so that no early return or
// exception can leak a repository, reference or object.

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

namespace gm::git {

// Frees a libgit2 handle with the library's own free function.
template <typename T, void (*Free)(T*)>
struct HandleDeleter {
    void operator()(T* handle) const noexcept {
        if (handle) Free(handle);
    }
};

// unique_ptr over a libgit2 handle type with its matching free function.
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, HandleDeleter<T, Free>>;

// The level git's per-worktree file ($GIT_DIR/config.worktree, `git config --worktree`) is read at:
// libgit2 1.5 has no such level, and its otherwise unused application level sits where git puts that
// file, above the repository's config.
constexpr git_config_level_t worktree_config_level = GIT_CONFIG_LEVEL_APP;

using RepositoryHandle = Handle<git_repository, git_repository_free>;
using ReferenceHandle = Handle<git_reference, git_reference_free>;
using ObjectHandle = Handle<git_object, git_object_free>;
using CommitHandle = Handle<git_commit, git_commit_free>;
using ConfigHandle = Handle<git_config, git_config_free>;
using WorktreeHandle = Handle<git_worktree, git_worktree_free>;
using IteratorHandle = Handle<git_reference_iterator, git_reference_iterator_free>;
using StatusListHandle = Handle<git_status_list, git_status_list_free>;
using ConfigIteratorHandle = Handle<git_config_iterator, git_config_iterator_free>;
using OdbHandle = Handle<git_odb, git_odb_free>;
using BlobHandle = Handle<git_blob, git_blob_free>;

// Reads a full hex object id (what git prints) into oid; false for anything else, abbreviations
// included, so that a short or mistyped id read from a file never names some other object.
inline bool parse_oid(git_oid& oid, std::string_view hex) {
    return hex.size() == GIT_OID_HEXSZ && git_oid_fromstrn(&oid, hex.data(), hex.size()) == 0;
}

// Frees a git_strarray's contents (the struct itself lives on the stack).
struct StrArray {
    git_strarray value{nullptr, 0};
    StrArray() = default;
    StrArray(const StrArray&) = delete;
    StrArray& operator=(const StrArray&) = delete;
    ~StrArray() { git_strarray_dispose(&value); }
};

// Frees a git_buf's contents.
struct Buf {
    git_buf value = GIT_BUF_INIT;
    Buf() = default;
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() { git_buf_dispose(&value); }
};

// Frees the trailers git_message_trailers found (the array lives on the stack).
struct TrailerArray {
    git_message_trailer_array value{};
    TrailerArray() = default;
    TrailerArray(const TrailerArray&) = delete;
    TrailerArray& operator=(const TrailerArray&) = delete;
    ~TrailerArray() { git_message_trailer_array_free(&value); }
};

// Formats a commit id as hex.
std::string to_hex(const git_oid& oid);

// Throws gm::Error with libgit2's last error message when a call failed,
// prefixed with what we were doing.
void check(int libgit2_result, const char* doing);

}  // namespace gm::git
