#include "gitmodel/git/worktree_state.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/handle.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

int collect_changed_path(const char* path, unsigned int flags, void* payload) {
    if (flags == GIT_STATUS_CURRENT || (flags & GIT_STATUS_IGNORED)) return 0;
    static_cast<std::vector<std::string>*>(payload)->push_back(path);
    return 0;
}

// "<mode> <id>\t<path>\n" for one path as it is on disk, in the shape of `git ls-files -s`.
std::string describe_on_disk(const fs::path& root, const std::string& relative) {
    const fs::path file = root / relative;
    std::error_code ec;
    const auto status = fs::symlink_status(file, ec);
    git_oid oid{};
    std::string mode;
    if (ec || !fs::exists(status)) {
        return fmt::format("000000 deleted\t{}\n", relative);
    } else if (fs::is_symlink(status)) {
        const std::string target = fs::read_symlink(file, ec).string();
        check(git_odb_hash(&oid, target.data(), target.size(), GIT_OBJECT_BLOB), "cannot hash a link");
        mode = "120000";
    } else if (fs::is_regular_file(status)) {
        const std::string doing = "cannot read " + file.string();
        check(git_odb_hashfile(&oid, file.c_str(), GIT_OBJECT_BLOB), doing.c_str());
        mode = (status.permissions() & fs::perms::owner_exec) != fs::perms::none ? "100755" : "100644";
    } else {
        return fmt::format("000000 other\t{}\n", relative);
    }
    return fmt::format("{} {}\t{}\n", mode, to_hex(oid), relative);
}

}  // namespace

std::optional<std::string> branch_created_at(const Repository& repo, std::string_view name) {
    const std::string ref = "refs/heads/" + std::string(name);
    git_reflog* raw = nullptr;
    if (git_reflog_read(&raw, repo.raw(), ref.c_str()) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    const std::unique_ptr<git_reflog, void (*)(git_reflog*)> reflog(raw, git_reflog_free);
    const std::size_t count = git_reflog_entrycount(reflog.get());
    if (count == 0) return std::nullopt;
    const git_reflog_entry* oldest = git_reflog_entry_byindex(reflog.get(), count - 1);  // index 0 is the newest
    if (!oldest) return std::nullopt;
    const git_oid* old_id = git_reflog_entry_id_old(oldest);
    if (!old_id || !git_oid_is_zero(old_id)) return std::nullopt;  // the log does not reach back to the creation
    return to_hex(*git_reflog_entry_id_new(oldest));
}

std::string uncommitted_changes_hash(const Repository& worktree) {
    const auto root = worktree.workdir();
    if (!root) throw Error("a bare repository has no worktree to hash");
    git_status_options options = GIT_STATUS_OPTIONS_INIT;
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    options.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_INCLUDE_UNTRACKED |
                    GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
    std::vector<std::string> paths;
    check(git_status_foreach_ext(worktree.raw(), &options, collect_changed_path, &paths),
          "cannot read the worktree's status");
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    std::string listing;
    for (const auto& path : paths) listing += describe_on_disk(*root, path);
    git_oid oid{};
    check(git_odb_hash(&oid, listing.data(), listing.size(), GIT_OBJECT_BLOB), "cannot hash the changes");
    return to_hex(oid);
}

}  // namespace gm::git
