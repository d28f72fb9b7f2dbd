#include "gitmodel/git/worktree_check.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/handle.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

using TreeHandle = Handle<git_tree, git_tree_free>;
using TreeEntryHandle = Handle<git_tree_entry, git_tree_entry_free>;

struct Scan {
    CheckoutDifference difference;
    std::size_t limit = 5;
    std::vector<std::string> changed;  // content differs as libgit2 sees it: git confirms these

    void add(const std::string& what) {
        ++difference.count;
        if (difference.found.size() < limit) difference.found.push_back(what);
    }
};

TreeEntryHandle entry_at(git_tree* tree, const std::string& relative) {
    git_tree_entry* raw = nullptr;
    if (git_tree_entry_bypath(&raw, tree, relative.c_str()) != 0) {
        git_error_clear();
        return TreeEntryHandle(nullptr);
    }
    return TreeEntryHandle(raw);
}

// Whether a file's bytes are the blob's, raw or through the worktree's filters (eol, ident).
bool same_content(const fs::path& file, const std::string& relative, const git_oid& blob, git_repository* worktree) {
    git_oid oid;
    if (git_odb_hashfile(&oid, file.c_str(), GIT_OBJECT_BLOB) == 0 && git_oid_equal(&oid, &blob)) return true;
    git_error_clear();
    if (worktree && git_repository_hashfile(&oid, worktree, file.c_str(), GIT_OBJECT_BLOB, relative.c_str()) == 0 &&
        git_oid_equal(&oid, &blob))
        return true;
    git_error_clear();
    return false;
}

// Whether a file holds the start of a blob, as it is stored, as a checkout killed while writing it
// leaves it: empty, or whole pages (a write is cut short between pages). Removing it loses nothing,
// the commit holds all of it. A file cut elsewhere (a user's edit that kept the first lines) counts
// as changed.
bool start_of_blob(const fs::path& file, const git_oid& blob, git_repository* repo) {
    constexpr std::uintmax_t page = 4096;  // the smallest page of any Linux machine
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    git_blob* raw = nullptr;
    if (ec || size % page != 0 || git_blob_lookup(&raw, repo, &blob) != 0) {
        git_error_clear();
        return false;
    }
    BlobHandle handle(raw);
    const auto stored = static_cast<std::uintmax_t>(git_blob_rawsize(raw));
    if (size >= stored) return false;  // the whole blob would have hashed the same
    std::ifstream in(file, std::ios::binary);
    const char* content = static_cast<const char*>(git_blob_rawcontent(raw));
    char chunk[65536];
    std::uintmax_t at = 0;
    while (at < size && in.read(chunk, static_cast<std::streamsize>(std::min<std::uintmax_t>(sizeof chunk, size - at)))) {
        const auto got = static_cast<std::size_t>(in.gcount());
        if (std::memcmp(chunk, content + at, got) != 0) return false;
        at += got;
    }
    return at == size;
}

bool same_link(const fs::path& link, const git_oid& blob) {
    std::error_code ec;
    const std::string target = fs::read_symlink(link, ec).string();
    if (ec) return false;
    git_oid oid;
    return git_odb_hash(&oid, target.data(), target.size(), GIT_OBJECT_BLOB) == 0 && git_oid_equal(&oid, &blob);
}

void scan_entry(Scan& scan, const fs::directory_entry& entry, const std::string& relative, git_tree* tree,
                git_repository* repo, git_repository* worktree, fs::recursive_directory_iterator& it) {
    std::error_code ec;
    const auto status = entry.symlink_status(ec);
    const TreeEntryHandle in_tree = entry_at(tree, relative);
    const git_filemode_t mode = in_tree ? git_tree_entry_filemode(in_tree.get()) : GIT_FILEMODE_UNREADABLE;
    if (fs::is_directory(status)) {
        if (mode == GIT_FILEMODE_TREE) return;  // look inside
        it.disable_recursion_pending();
        if (mode == GIT_FILEMODE_COMMIT && fs::is_empty(entry.path(), ec) && !ec) return;  // a submodule's empty folder
        scan.add(fmt::format("{}/ (a folder the checkout did not write)", relative));
    } else if (fs::is_symlink(status)) {
        if (mode != GIT_FILEMODE_LINK || !same_link(entry.path(), *git_tree_entry_id(in_tree.get())))
            scan.add(fmt::format("{} (a link the checkout did not write)", relative));
    } else if (fs::is_regular_file(status)) {
        if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
            scan.add(fmt::format("{} (untracked or ignored file)", relative));
        } else if (!same_content(entry.path(), relative, *git_tree_entry_id(in_tree.get()), worktree) &&
                   !start_of_blob(entry.path(), *git_tree_entry_id(in_tree.get()), repo)) {
            scan.changed.push_back(relative);
        }
    } else {
        scan.add(fmt::format("{} (not a file git writes)", relative));
    }
}

bool checkout_finished(const fs::path& folder);

// git's own verdict on files libgit2 saw as changed (filters it cannot run), when git can give one.
std::vector<std::string> confirmed_by_git(const fs::path& folder, const std::vector<std::string>& paths) {
    if (!checkout_finished(folder) || paths.size() > 200) return paths;  // git cannot judge either
    std::vector<std::string> args{"--literal-pathspecs", "-C", folder.string(), "status", "--porcelain", "-z",
                                  "--untracked-files=no", "--"};
    args.insert(args.end(), paths.begin(), paths.end());
    const auto result = run_git(std::move(args));
    if (!result.ok()) return paths;
    std::vector<std::string> still;
    for (const std::string& record : split_records(result.out, '\0'))
        if (record.size() > 3) still.push_back(record.substr(3));
    return still;
}

struct StatusCollect {
    Scan* scan = nullptr;
    bool tracked = true;    // report changed tracked files
    bool untracked = true;  // report untracked and ignored files
};

int on_status_entry(const char* path, unsigned int flags, void* payload) {
    auto* collect = static_cast<StatusCollect*>(payload);
    if (flags == GIT_STATUS_CURRENT) return 0;
    if (flags & GIT_STATUS_IGNORED) {
        if (collect->untracked) collect->scan->add(fmt::format("{} (ignored file)", path));
    } else if (flags & GIT_STATUS_WT_NEW) {
        if (collect->untracked) collect->scan->add(fmt::format("{} (untracked file)", path));
    } else if (collect->tracked) {
        collect->scan->changed.push_back(path);
    }
    return 0;
}

void collect_status(Scan& scan, git_repository* worktree, bool tracked, bool untracked) {
    git_status_options options = GIT_STATUS_OPTIONS_INIT;
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    options.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    if (untracked) options.flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_INCLUDE_IGNORED;
    StatusCollect collect{&scan, tracked, untracked};
    check(git_status_foreach_ext(worktree, &options, on_status_entry, &collect), "cannot read the worktree's status");
}

// Whether the checkout finished writing the worktree (its index is there and nobody is writing it).
bool checkout_finished(const fs::path& folder) {
    const auto admin = worktree_admin_dir(folder);
    std::error_code ec;
    return admin && fs::exists(*admin / "index", ec) && !fs::exists(*admin / "index.lock", ec);
}

}  // namespace

std::string CheckoutDifference::describe() const {
    std::string out;
    for (std::size_t i = 0; i < found.size(); ++i) out += (i ? ", " : "") + found[i];
    if (count > found.size()) out += fmt::format(" and {} more", count - found.size());
    return out;
}

std::optional<fs::path> worktree_admin_dir(const fs::path& folder) {
    // As git reads it: the whole file (a path may hold a newline), its trailing line ends cut.
    const std::string text = trim_end(read_text(folder / ".git"), "\r\n");
    if (text.rfind("gitdir: ", 0) != 0) return std::nullopt;
    fs::path admin(trim_end(std::string_view(text).substr(8), "/"));  // git reads "x/" as x
    if (admin.is_relative()) admin = folder / admin;
    return admin.lexically_normal();
}

CheckoutDifference differences_from_checkout(const Repository& repo, const fs::path& folder, std::string_view commit,
                                             std::size_t limit) {
    Scan scan;
    scan.limit = limit;
    git_oid oid;
    check(git_oid_fromstr(&oid, std::string(commit).c_str()), "bad commit id");
    git_commit* raw_commit = nullptr;
    check(git_commit_lookup(&raw_commit, repo.raw(), &oid), "cannot read the checked-out commit");
    CommitHandle commit_handle(raw_commit);
    git_tree* raw_tree = nullptr;
    check(git_commit_tree(&raw_tree, raw_commit), "cannot read the checked-out commit's tree");
    TreeHandle tree(raw_tree);

    // The worktree's own view applies its filters (eol); a checkout cut short may not open.
    std::optional<Repository> worktree;
    try {
        worktree.emplace(repo.open_worktree(folder));
    } catch (const Error&) {
    }
    if (worktree && checkout_finished(folder)) {
        if (worktree->resolve_commit("HEAD") != std::optional<std::string>(std::string(commit))) {
            scan.add("HEAD (it is no longer at the commit checked out)");
            return scan.difference;
        }
        collect_status(scan, worktree->raw(), true, true);
        if (!scan.changed.empty()) {
            for (const auto& path : confirmed_by_git(folder, scan.changed)) scan.add(fmt::format("{} (changed)", path));
        }
        return scan.difference;
    }
    std::error_code ec;
    fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec);
    if (ec) {
        scan.add(fmt::format("{} (cannot be read: {})", folder.string(), ec.message()));
        return scan.difference;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string relative = it->path().lexically_relative(folder).generic_string();
        if (it.depth() == 0 && relative == ".git") {
            std::error_code type_ec;
            if (!fs::is_regular_file(it->symlink_status(type_ec))) {
                scan.add(".git/ (a repository of its own)");
                it.disable_recursion_pending();
            }
            continue;
        }
        scan_entry(scan, *it, relative, tree.get(), repo.raw(), worktree ? worktree->raw() : nullptr, it);
    }
    if (ec) scan.add(fmt::format("a folder that cannot be read ({})", ec.message()));
    for (const auto& path : scan.changed) scan.add(fmt::format("{} (changed)", path));
    return scan.difference;
}

CheckoutDifference untracked_and_ignored(const Repository& worktree, std::size_t limit) {
    Scan scan;
    scan.limit = limit;
    collect_status(scan, worktree.raw(), false, true);
    return scan.difference;
}

}  // namespace gm::git
