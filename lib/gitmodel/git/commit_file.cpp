#include "gitmodel/git/commit_file.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/handle.hpp"

#include <fmt/core.h>

#include <cstdlib>

namespace gm::git {

namespace {

using TreeHandle = Handle<git_tree, git_tree_free>;
using TreeBuilderHandle = Handle<git_treebuilder, git_treebuilder_free>;
using SignatureHandle = Handle<git_signature, git_signature_free>;

std::string from_environment_or(const char* variable, const std::optional<std::string>& fallback) {
    if (const char* value = std::getenv(variable); value && *value) return value;
    return fallback.value_or("");
}

SignatureHandle make_signature(const std::string& name, const std::string& email) {
    git_signature* raw = nullptr;
    check(git_signature_now(&raw, name.c_str(), email.c_str()), "cannot make the commit's signature");
    return SignatureHandle(raw);
}

}  // namespace

CommitIdentity commit_identity(const Repository& repo) {
    const Config config = repo.config();
    const auto user_name = config.get_string("user.name");
    const auto user_email = config.get_string("user.email");
    CommitIdentity identity;
    identity.author_name = from_environment_or("GIT_AUTHOR_NAME", config.get_string("author.name").value_or(user_name.value_or("")));
    identity.author_email = from_environment_or("GIT_AUTHOR_EMAIL", config.get_string("author.email").value_or(user_email.value_or("")));
    identity.committer_name = from_environment_or("GIT_COMMITTER_NAME", config.get_string("committer.name").value_or(user_name.value_or("")));
    identity.committer_email = from_environment_or("GIT_COMMITTER_EMAIL", config.get_string("committer.email").value_or(user_email.value_or("")));
    if (identity.author_name.empty() || identity.author_email.empty() || identity.committer_name.empty() ||
        identity.committer_email.empty()) {
        throw Error("git does not know who you are, and every sweep run is a commit",
                    "git config --global user.name \"Your Name\"; git config --global user.email you@example.com");
    }
    return identity;
}

std::string commit_with_file(const Repository& repo, const CommitIdentity& identity, std::string_view parent,
                             std::string_view file_name, std::string_view content, std::string_view message) {
    git_repository* raw_repo = repo.raw();
    git_oid parent_id;
    check(git_oid_fromstr(&parent_id, std::string(parent).c_str()), "bad commit id");
    git_commit* raw_parent = nullptr;
    check(git_commit_lookup(&raw_parent, raw_repo, &parent_id), "cannot read the parent commit");
    CommitHandle parent_commit(raw_parent);
    git_tree* raw_tree = nullptr;
    check(git_commit_tree(&raw_tree, parent_commit.get()), "cannot read the parent's tree");
    TreeHandle parent_tree(raw_tree);

    git_oid blob_id;
    check(git_blob_create_from_buffer(&blob_id, raw_repo, content.data(), content.size()), "cannot write the file");
    git_treebuilder* raw_builder = nullptr;
    check(git_treebuilder_new(&raw_builder, raw_repo, parent_tree.get()), "cannot build the tree");
    TreeBuilderHandle builder(raw_builder);
    check(git_treebuilder_insert(nullptr, builder.get(), std::string(file_name).c_str(), &blob_id, GIT_FILEMODE_BLOB),
          "cannot add the file to the tree");
    git_oid tree_id;
    check(git_treebuilder_write(&tree_id, builder.get()), "cannot write the tree");
    git_tree* raw_new_tree = nullptr;
    check(git_tree_lookup(&raw_new_tree, raw_repo, &tree_id), "cannot read the new tree");
    TreeHandle new_tree(raw_new_tree);

    const auto author = make_signature(identity.author_name, identity.author_email);
    const auto committer = make_signature(identity.committer_name, identity.committer_email);
    const git_commit* parents[] = {parent_commit.get()};
    git_oid commit_id;
    check(git_commit_create(&commit_id, raw_repo, nullptr, author.get(), committer.get(), nullptr,
                            std::string(message).c_str(), new_tree.get(), 1, parents),
          "cannot write the commit");
    return to_hex(commit_id);
}

}  // namespace gm::git
