// The libgit2 side of RepoReader (SHA-1 repositories), and the choice between it and git's plumbing.
#include "gitmodel/git/reader.hpp"

#include "gitmodel/git/config.hpp"
#include "gitmodel/git/handle.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

using TreeHandle = Handle<git_tree, git_tree_free>;
using RevwalkHandle = Handle<git_revwalk, git_revwalk_free>;
using OdbObjectHandle = Handle<git_odb_object, git_odb_object_free>;
using EntryHandle = Handle<git_tree_entry, git_tree_entry_free>;

class LibgitConfig final : public ConfigView {
public:
    explicit LibgitConfig(Config config) : config_(std::move(config)) {}
    std::optional<std::string> get_string(std::string_view key) const override { return config_.get_string(key); }
    std::vector<std::string> get_all(std::string_view key) const override { return config_.get_all(key); }

private:
    Config config_;
};

// The trees of a commit's parents at one level of the walk, each with a cursor for the merge-join.
struct ParentLevel {
    const git_tree* tree = nullptr;
    std::size_t cursor = 0;
};

// Appends to out every blob of `tree` (under prefix) that differs from the same path in every parent.
// Both sides list entries in git's order, so each level is one merge-join: unchanged subtrees
// (same id in some parent) are skipped whole, and the cost follows what changed.
void introduced_blobs(git_repository* repo, const git_tree* tree, std::vector<ParentLevel> parents,
                      const std::string& prefix, NewCommit& out) {
    // This folder's .gitattributes, while the tree is at hand (the data policy needs it for LFS).
    if (const git_tree_entry* attributes = git_tree_entry_byname(tree, ".gitattributes");
        attributes && git_tree_entry_type(attributes) == GIT_OBJECT_BLOB)
        out.attributes.push_back({prefix.empty() ? std::string() : prefix.substr(0, prefix.size() - 1),
                                  to_hex(*git_tree_entry_id(attributes))});
    const std::size_t count = git_tree_entrycount(tree);
    std::vector<const git_tree_entry*> matches(parents.size());
    for (std::size_t i = 0; i < count; ++i) {
        const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
        const git_filemode_t mode = git_tree_entry_filemode(entry);
        if (mode == GIT_FILEMODE_COMMIT) continue;  // a submodule: its content lives elsewhere
        const git_oid* id = git_tree_entry_id(entry);
        bool unchanged = false;
        for (std::size_t k = 0; k < parents.size(); ++k) {
            matches[k] = nullptr;
            ParentLevel& parent = parents[k];
            if (!parent.tree) continue;
            const std::size_t parent_count = git_tree_entrycount(parent.tree);
            while (parent.cursor < parent_count &&
                   git_tree_entry_cmp(git_tree_entry_byindex(parent.tree, parent.cursor), entry) < 0)
                ++parent.cursor;
            if (parent.cursor < parent_count) {
                const git_tree_entry* candidate = git_tree_entry_byindex(parent.tree, parent.cursor);
                if (git_tree_entry_cmp(candidate, entry) == 0) matches[k] = candidate;
            }
            if (matches[k] && git_oid_equal(git_tree_entry_id(matches[k]), id) &&
                git_tree_entry_type(matches[k]) == git_tree_entry_type(entry))
                unchanged = true;
        }
        if (unchanged) continue;
        const std::string path = prefix + git_tree_entry_name(entry);
        if (mode != GIT_FILEMODE_TREE) {
            out.blobs.push_back({path, to_hex(*id)});
            continue;
        }
        git_tree* sub_raw = nullptr;
        if (git_tree_lookup(&sub_raw, repo, id) != 0) {
            git_error_clear();
            continue;  // a missing tree (a partial clone): nothing here to judge
        }
        TreeHandle sub(sub_raw);
        std::vector<TreeHandle> owners;
        std::vector<ParentLevel> sub_parents(parents.size());
        for (std::size_t k = 0; k < parents.size(); ++k) {
            if (!matches[k] || git_tree_entry_type(matches[k]) != GIT_OBJECT_TREE) continue;
            git_tree* parent_sub = nullptr;
            if (git_tree_lookup(&parent_sub, repo, git_tree_entry_id(matches[k])) != 0) {
                git_error_clear();
                continue;
            }
            TreeHandle owned(parent_sub);  // owned before the vector may throw growing
            sub_parents[k].tree = parent_sub;
            owners.push_back(std::move(owned));
        }
        introduced_blobs(repo, sub.get(), std::move(sub_parents), path + "/", out);
    }
}

// From this many new commits on, new_commits lets `git log` walk and diff (log_new_commits).
constexpr std::size_t long_range = 300;

class LibgitReader final : public RepoReader {
public:
    explicit LibgitReader(Repository repo) : repo_(std::move(repo)), config_(repo_.plain_config()) {
        // Trees are parsed once each: a commit's tree is the next commit's parent tree, and
        // libgit2 caches no tree over 4 KiB by default (a folder of 100 files is more).
        git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, static_cast<std::size_t>(4) << 20);
    }

    std::string object_format() const override { return "sha1"; }
    const ConfigView& config() const override { return config_; }
    fs::path common_dir() const override { return repo_.common_dir(); }
    fs::path hooks_dir() const override { return repo_.hooks_dir(); }
    std::optional<fs::path> workdir() const override { return repo_.workdir(); }
    fs::path main_worktree() const override { return repo_.main_worktree_or_common_dir(); }

    std::optional<std::string> resolve_commit(std::string_view revision) override {
        return repo_.resolve_commit(revision);
    }
    bool has_commit(std::string_view id) override { return repo_.has_commit(id); }
    bool is_ancestor(std::string_view ancestor, std::string_view descendant) override {
        return repo_.is_ancestor(ancestor, descendant);
    }
    std::optional<std::string> merge_base(std::string_view a, std::string_view b) override {
        return repo_.merge_base(a, b);
    }

    std::vector<std::string> ref_targets(std::string_view prefix) override {
        std::vector<std::string> out;
        git_reference_iterator* raw = nullptr;
        const std::string glob = std::string(prefix) + "*";
        if (git_reference_iterator_glob_new(&raw, repo_.raw(), glob.c_str()) != 0) {
            git_error_clear();
            return out;
        }
        IteratorHandle iterator(raw);
        git_reference* ref_raw = nullptr;
        while (git_reference_next(&ref_raw, iterator.get()) == 0) {
            ReferenceHandle ref(ref_raw);
            if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) continue;  // origin/HEAD
            git_object* peeled = nullptr;
            if (git_reference_peel(&peeled, ref.get(), GIT_OBJECT_COMMIT) != 0) {
                git_error_clear();
                continue;
            }
            ObjectHandle owner(peeled);
            out.push_back(to_hex(*git_object_id(peeled)));
        }
        return out;
    }

    std::vector<NewCommit> new_commits(const std::string& tip, const std::vector<std::string>& hide) override {
        git_revwalk* raw = nullptr;
        check(git_revwalk_new(&raw, repo_.raw()), "cannot walk the history");
        RevwalkHandle walk(raw);
        git_oid oid;
        if (!parse_oid(oid, tip)) throw Error(fmt::format("'{}' is not a commit id", tip));
        // libgit2 reads every commit of a range before it lists the first one: look along the
        // first parents for what the remote has before deciding who walks.
        if (long_first_parent_line(oid, hide)) return log_new_commits(*this, tip, hide);
        check(git_revwalk_push(walk.get(), &oid), "cannot walk the pushed history");
        for (const auto& id : hide) {
            git_oid hidden;
            if (parse_oid(hidden, id) && git_revwalk_hide(walk.get(), &hidden) != 0) git_error_clear();
        }
        // Short ranges (every ordinary push) here, without starting a process; long ones through git.
        std::vector<git_oid> listed;
        while (git_revwalk_next(&oid, walk.get()) == 0) {
            if (listed.size() == long_range) return log_new_commits(*this, tip, hide);
            listed.push_back(oid);
        }
        std::vector<NewCommit> out;
        out.reserve(listed.size());
        for (const auto& id : listed) out.push_back(read_new_commit(id));
        return out;
    }

    std::vector<std::optional<std::uint64_t>> object_sizes(const std::vector<std::string>& ids) override {
        std::vector<std::optional<std::uint64_t>> out;
        out.reserve(ids.size());
        git_odb* odb = this->odb();
        for (const auto& id : ids) {
            git_oid oid;
            std::size_t size = 0;
            git_object_t type;
            if (parse_oid(oid, id) && git_odb_read_header(&size, &type, odb, &oid) == 0) {
                out.emplace_back(size);
            } else {
                git_error_clear();
                out.emplace_back(std::nullopt);
            }
        }
        return out;
    }

    std::vector<std::optional<std::string>> blob_ids(const std::vector<std::string>& names) override {
        std::vector<std::optional<std::string>> out;
        out.reserve(names.size());
        for (const auto& name : names) {
            git_oid oid;
            if (blob_at(name, oid)) out.emplace_back(to_hex(oid));
            else out.emplace_back(std::nullopt);
        }
        return out;
    }

    std::vector<std::optional<std::string>> read_objects(const std::vector<std::string>& names) override {
        std::vector<std::optional<std::string>> out;
        out.reserve(names.size());
        for (const auto& name : names) out.push_back(read_object(name));
        return out;
    }

    std::vector<StagedBlob> staged() override {
        std::vector<StagedBlob> out;
        for (auto& file : repo_.staged_changes()) out.push_back({file.path, file.blob, file.filter});
        return out;
    }

    std::optional<TreeEntryKind> tree_entry(const std::string& commit, const std::string& path) override {
        return repo_.tree_entry_at(commit, path);
    }

private:
    git_odb* odb() {
        if (!odb_) {
            git_odb* raw = nullptr;
            check(git_repository_odb(&raw, repo_.raw()), "cannot open the object database");
            odb_.reset(raw);
        }
        return odb_.get();
    }

    // Whether the first-parent line from tip runs long_range commits, all newer than what the
    // remote has, without meeting it: a long branch, which git walks faster. (The dates only
    // choose who walks; either walk is exact.)
    bool long_first_parent_line(git_oid oid, const std::vector<std::string>& hide) {
        std::vector<git_oid> hidden;
        std::int64_t newest_hidden = 0;
        for (const auto& id : hide) {
            git_oid h;
            if (!parse_oid(h, id)) continue;
            hidden.push_back(h);
            git_commit* raw = nullptr;
            if (git_commit_lookup(&raw, repo_.raw(), &h) != 0) {
                git_error_clear();
                continue;
            }
            CommitHandle commit(raw);
            newest_hidden = std::max<std::int64_t>(newest_hidden, git_commit_time(raw));
        }
        for (std::size_t step = 0; step < long_range; ++step) {
            for (const auto& h : hidden)
                if (git_oid_equal(&h, &oid)) return false;
            git_commit* raw = nullptr;
            if (git_commit_lookup(&raw, repo_.raw(), &oid) != 0) {
                git_error_clear();
                return false;
            }
            CommitHandle commit(raw);
            // an older commit: most likely what the remote has already (a branch off an older base)
            if (git_commit_parentcount(raw) == 0 || git_commit_time(raw) <= newest_hidden) return false;
            oid = *git_commit_parent_id(raw, 0);
        }
        return true;
    }

    NewCommit read_new_commit(const git_oid& oid) {
        NewCommit commit;
        commit.id = to_hex(oid);
        git_commit* raw = nullptr;
        check(git_commit_lookup(&raw, repo_.raw(), &oid), "cannot read a pushed commit");
        CommitHandle owner(raw);
        git_tree* tree_raw = nullptr;
        check(git_commit_tree(&tree_raw, raw), "cannot read a pushed commit's tree");
        TreeHandle tree(tree_raw);
        std::vector<TreeHandle> parent_trees;
        std::vector<ParentLevel> parents;
        for (unsigned i = 0; i < git_commit_parentcount(raw); ++i) {
            commit.parents.push_back(to_hex(*git_commit_parent_id(raw, i)));
            git_commit* parent = nullptr;
            git_tree* parent_tree = nullptr;
            if (git_commit_parent(&parent, raw, i) == 0) {
                CommitHandle parent_owner(parent);
                if (git_commit_tree(&parent_tree, parent) == 0) parent_trees.emplace_back(parent_tree);
            }
            if (!parent_tree) git_error_clear();  // a shallow boundary: judged as if new
            parents.push_back({parent_tree, 0});
        }
        introduced_blobs(repo_.raw(), tree.get(), std::move(parents), "", commit);
        return commit;
    }

    // The blob "<commit>:<path>" names; false when there is none.
    bool blob_at(const std::string& name, git_oid& oid) {
        const auto colon = name.find(':');
        git_oid commit_id;
        if (colon == std::string::npos || !parse_oid(commit_id, std::string_view(name).substr(0, colon))) return false;
        git_commit* raw = nullptr;
        if (git_commit_lookup(&raw, repo_.raw(), &commit_id) != 0) {
            git_error_clear();
            return false;
        }
        CommitHandle commit(raw);
        git_tree* tree_raw = nullptr;
        if (git_commit_tree(&tree_raw, raw) != 0) {
            git_error_clear();
            return false;
        }
        TreeHandle tree(tree_raw);
        git_tree_entry* entry_raw = nullptr;
        if (git_tree_entry_bypath(&entry_raw, tree.get(), name.c_str() + colon + 1) != 0) {
            git_error_clear();
            return false;
        }
        EntryHandle entry(entry_raw);
        if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return false;
        git_oid_cpy(&oid, git_tree_entry_id(entry.get()));
        return true;
    }

    std::optional<std::string> read_object(const std::string& name) {
        git_oid oid;
        if (name.find(':') != std::string::npos) {
            if (!blob_at(name, oid)) return std::nullopt;
        } else if (!parse_oid(oid, name)) {
            return std::nullopt;
        }
        git_odb_object* raw = nullptr;
        if (git_odb_read(&raw, odb(), &oid) != 0) {
            git_error_clear();
            return std::nullopt;
        }
        OdbObjectHandle object(raw);
        return std::string(static_cast<const char*>(git_odb_object_data(raw)), git_odb_object_size(raw));
    }

    Repository repo_;
    LibgitConfig config_;
    OdbHandle odb_;
};

}  // namespace

std::optional<std::string> read_config_file(RepoReader& reader, const std::string& commit, const std::string& path,
                                            bool* linked) {
    const auto followed =
        follow_tree_links(path, [&](const std::string& at) { return reader.tree_entry(commit, at); });
    if (!followed.problem.empty())
        throw Error(fmt::format("{} at {}: {}: not read", path, commit.substr(0, 10), followed.problem),
                    "make the link point to a file of the repository (or replace it with the file) and commit that");
    if (!followed.path) return std::nullopt;
    if (linked) *linked = *followed.path != path;
    return reader.read_objects({commit + ":" + *followed.path}).front();
}

std::string commit_message_of(std::string_view raw_commit) {
    const auto blank = raw_commit.find("\n\n");
    return blank == std::string_view::npos ? std::string() : std::string(raw_commit.substr(blank + 2));
}

std::unique_ptr<RepoReader> open_reader(bool as_hook) {
    try {
        return std::make_unique<LibgitReader>(Repository::discover(as_hook));
    } catch (const ObjectFormatError&) {
        return open_plumbing_reader();
    }
}

}  // namespace gm::git
