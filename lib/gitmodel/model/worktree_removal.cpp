#include "gitmodel/model/worktree_removal.hpp"

#include "gitmodel/model/lookup.hpp"

#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/folder_walk.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace gm::model {

std::string CarefulRemoval::describe() const {
    std::string text = join(kept_files, ", ");
    if (kept_count > kept_files.size()) text += fmt::format(" and {} more", kept_count - kept_files.size());
    return text;
}

namespace {

constexpr std::size_t listed_at_most = 5;

constexpr const char* removal_marker_name = "git-model-removing";

// The marker file of a careful removal in git's record (admin folder) of the worktree at `path`.
std::optional<fs::path> removal_marker(const git::Repository& repo, const fs::path& path) {
    if (const auto worktree = repo.linked_worktree_at(path))
        return repo.common_dir() / "worktrees" / worktree->id / removal_marker_name;
    return std::nullopt;
}

// Writes the marker and makes it durable before anything is deleted: a removal cut by a power
// loss must find it. Throws gm::Error (nothing deleted yet) when it cannot.
void write_marker(const fs::path& marker) {
    const std::string text = "git-model removal in progress\n";
    const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    const int saved = errno;
    if (fd >= 0) ::close(fd);
    if (ok) {
        const int dir = ::open(marker.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok = dir >= 0 && ::fsync(dir) == 0;
        if (dir >= 0) ::close(dir);
    }
    if (!ok)
        throw Error(fmt::format("cannot mark the removal in {}: {}; nothing was deleted", marker.string(),
                                std::strerror(saved ? saved : errno)));
}

// The text without the white space at its end (git's messages and ids end in a newline).
std::string trim(std::string text) {
    return trim_end(text, " \t\n\v\f\r");
}

// git run in `where` (git::run_git: deaf to a caller's GIT_DIR and friends), in the C locale.
proc::RunOptions git_in(const fs::path& where) {
    proc::RunOptions options;
    options.cwd = where;
    options.env = {{"LC_ALL", "C"}};
    options.timeout = std::chrono::minutes(10);
    return options;
}

proc::RunResult git_checked(const fs::path& where, std::vector<std::string> args, const std::string& what,
                            std::optional<std::string> input = std::nullopt) {
    // Literal pathspecs: a file named `*.py` restores that file, never every Python file.
    args.insert(args.begin(), "--literal-pathspecs");
    auto options = git_in(where);
    options.input = std::move(input);
    auto result = git::run_git(std::move(args), std::move(options));
    if (!result.ok()) throw Error(fmt::format("{}: git {}: {}", what, result.describe(), trim(result.err)));
    return result;
}

// One file of the commit: its mode ("100644", "120000", ...), blob id and path.
struct CommittedFile {
    std::string mode;
    std::string id;
    std::string path;
};

std::vector<CommittedFile> committed_files(const fs::path& worktree) {
    const auto listed = git_checked(worktree, {"ls-tree", "-r", "-z", "--full-tree", "HEAD"},
                                    fmt::format("cannot list the files of {}", worktree.string()));
    std::vector<CommittedFile> files;
    for (const std::string& entry : split_records(listed.out, '\0')) {
        const auto tab = entry.find('\t');
        if (tab == std::string::npos) continue;
        std::istringstream head(entry.substr(0, tab));
        CommittedFile file;
        std::string type;
        head >> file.mode >> type >> file.id;
        if (type != "blob") continue;  // a submodule's folder stays unless it is empty
        file.path = entry.substr(tab + 1);
        files.push_back(std::move(file));
    }
    return files;
}

// The blob ids git would store for these regular files (clean filters and attributes applied).
std::vector<std::string> hash_files(const fs::path& worktree, const std::vector<std::string>& paths) {
    auto ids = git::hash_worktree_files(paths, false, git_in(worktree));
    if (!ids) throw Error(fmt::format("cannot read the files of {}: git could not hash them", worktree.string()));
    return std::move(*ids);
}

// The paths whose staged content differs from HEAD's (changed, of another type, or in conflict):
// the index is the user's too (a removal that kept the worktree would put HEAD's content back
// there, not what was staged). A path missing from the index (one git's checkout was killed
// before writing) does not count: its file, if there, is judged as the commit's.
std::set<std::string> staged_paths(const fs::path& worktree) {
    const auto listed =
        git_checked(worktree, {"diff-index", "--cached", "-z", "--name-only", "--no-renames", "--diff-filter=MTU", "HEAD"},
                    fmt::format("cannot read the index of {}", worktree.string()));
    const auto paths = split_records(listed.out, '\0');
    return {paths.begin(), paths.end()};
}

// The blob id of a symbolic link's target text.
std::string hash_link(const fs::path& worktree, const std::string& target) {
    return trim(git_checked(worktree, {"hash-object", "--stdin"}, "cannot hash a link", target).out);
}

std::string read_whole(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// The clean filters (git config filter.<name>.clean or .process) that may drop what a file holds.
// Git LFS's is not one: its clean keeps the whole content (in .git/lfs), and its smudge gives it back.
std::set<std::string> dropping_filters(const fs::path& worktree) {
    const auto listed = git::run_git({"config", "-z", "--get-regexp", R"(^filter\..+\.(clean|process)$)"}, git_in(worktree));
    if (!listed.ok() && listed.exit_code != 1)  // 1: none set
        throw Error(fmt::format("cannot read the filters of {}: git {}: {}", worktree.string(), listed.describe(),
                                trim(listed.err)));
    std::set<std::string> names;
    for (const std::string& entry : split_records(listed.out, '\0')) {
        const std::string key = entry.substr(0, entry.find('\n'));  // "filter.<name>.clean", then its value
        const auto last_dot = key.rfind('.');
        if (key.size() < 8 || last_dot == std::string::npos || last_dot <= 7) continue;
        const std::string name = key.substr(7, last_dot - 7);
        if (name != "lfs") names.insert(name);
    }
    return names;
}

// Whether the file's bytes are what `git checkout` would write from the blob (smudge filter and
// line endings applied): a file larger than can be compared in memory is taken as not.
bool checkout_gives_back(const fs::path& worktree, const std::string& path, const std::string& blob) {
    constexpr std::uintmax_t compared_at_most = 256u << 20;
    std::error_code ec;
    const auto size = fs::file_size(worktree / path, ec);
    if (ec || size > compared_at_most) return false;
    auto options = git_in(worktree);
    options.max_output = static_cast<std::size_t>(size) * 2 + (1u << 20);  // CRLF at most doubles it
    const auto smudged = git::run_git({"--literal-pathspecs", "cat-file", "--filters", "--path=" + path, blob}, options);
    if (!smudged.ok() || smudged.output_capped) return false;
    const std::string on_disk = read_whole(worktree / path);
    // Line endings alone (core.autocrlf, eol=crlf on a file written with LF) are no content.
    const auto lf_only = [](const std::string& text) {
        std::string out;
        out.reserve(text.size());
        for (std::size_t i = 0; i < text.size(); ++i)
            if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
        return out;
    };
    return smudged.out == on_disk || lf_only(smudged.out) == lf_only(on_disk);
}

// Of the commit's regular files on disk, those whose content a clean filter keeps out of git
// and checkout cannot write back.
std::set<std::string> lost_to_filters(const fs::path& worktree, const std::vector<CommittedFile>& files) {
    std::set<std::string> lost;
    const auto filters = dropping_filters(worktree);
    if (filters.empty()) return lost;
    std::string input;
    std::map<std::string, const CommittedFile*> by_path;
    for (const auto& file : files) {
        if (file.mode == "120000" || file.mode == "160000") continue;
        input += file.path + '\0';
        by_path[file.path] = &file;
    }
    const auto attributes = git_checked(worktree, {"check-attr", "-z", "--stdin", "filter"},
                                        fmt::format("cannot read the attributes of {}", worktree.string()), input);
    const auto fields = split_records(attributes.out, '\0');
    for (std::size_t i = 0; i + 2 < fields.size(); i += 3) {
        const std::string& path = fields[i];
        const std::string& value = fields[i + 2];
        const auto it = by_path.find(path);
        if (!filters.count(value) || it == by_path.end()) continue;
        struct stat st {};
        if (::lstat((worktree / path).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (!checkout_gives_back(worktree, path, it->second->id)) lost.insert(path);
    }
    return lost;
}

}  // namespace

DeletedFiles deleted_tracked_files(const fs::path& worktree) {
    const auto status = git_checked(worktree, {"status", "--porcelain=v1", "-z", "--untracked-files=no"},
                                    fmt::format("cannot read the state of {}", worktree.string()));
    DeletedFiles found;
    for (std::string& entry : split_records(status.out, '\0')) {
        if (entry.empty()) continue;
        if (entry.size() < 4 || entry.compare(0, 3, " D ") != 0) {
            found.others = true;
            continue;
        }
        found.paths.push_back(entry.substr(3));
    }
    return found;
}

void put_back_deleted_files(const fs::path& worktree, const DeletedFiles& deleted) {
    if (deleted.paths.empty()) return;
    const auto nul_separated = [](const std::vector<std::string>& paths) {  // for --stdin -z, any number
        std::string input;
        for (const auto& path : paths) input += path + '\0';
        return input;
    };
    const auto still_missing = [&] {
        std::vector<std::string> missing;
        struct stat st {};
        for (const auto& path : deleted.paths)
            if (::lstat((worktree / path).c_str(), &st) != 0) missing.push_back(path);
        return missing;
    };
    auto options = git_in(worktree);
    options.input = nul_separated(deleted.paths);
    // Its answer is 1 when a file is there now (the user's): what is missing tells how it went.
    auto put_back = git::run_git({"checkout-index", "-u", "-q", "-z", "--stdin"}, options);
    auto missing = still_missing();
    if (!missing.empty()) {
        // Not in the index (a checkout killed before writing it): from HEAD, just these.
        options.input = nul_separated(missing);
        put_back = git::run_git({"--literal-pathspecs", "checkout", "HEAD", "--pathspec-from-file=-",
                                 "--pathspec-file-nul"},
                                options);
        missing = still_missing();
    }
    if (!missing.empty())
        throw Error(fmt::format("cannot put back the files of {} ({}): git {}: {}", worktree.string(),
                                first_few(missing), put_back.describe(), trim(put_back.err)));
}

std::vector<std::string> restore_interrupted_removals(const git::Repository& repo) {
    std::vector<std::string> done;
    for (const auto& worktree : repo.linked_worktrees()) {
        const fs::path marker = repo.common_dir() / "worktrees" / worktree.id / removal_marker_name;
        std::error_code ec;
        if (worktree.folder_missing || !fs::exists(marker, ec)) continue;
        // Only this repository's own worktree, of its owner or the caller: git's records in a copy
        // (cp -a) name the original's folders, and the marker came along with them.
        if (foreign_worktree_problem(repo.common_dir(), worktree.path) ||
            untrusted_folder_problem(repo.common_dir(), worktree.path))
            continue;
        try {
            // The deletions are the removal's (each file was the commit's): they are undone. Any
            // other change is the user's since, and stays; the worktree is then judged as usual.
            const auto deleted = deleted_tracked_files(worktree.path);
            put_back_deleted_files(worktree.path, deleted);
            const std::size_t count = deleted.paths.size();
            if (count > 0) {
                done.push_back(fmt::format("put back {} file{} an interrupted removal of {} had deleted{}", count,
                                           count == 1 ? "" : "s", worktree.path.string(),
                                           deleted.others ? " (the other changes there stay as they are)" : ""));
            }
            fs::remove(marker, ec);
        } catch (const Error& e) {
            done.push_back(fmt::format("could not put back what an interrupted removal of {} had deleted: {}",
                                       worktree.path.string(), e.what()));
        }
    }
    return done;
}

std::vector<std::string> checked_out_submodules(const fs::path& worktree) {
    const auto listed = git_checked(worktree, {"ls-files", "-z", "--stage"},
                                    fmt::format("cannot list the files of {}", worktree.string()));
    std::vector<std::string> found;
    for (const std::string& entry : split_records(listed.out, '\0')) {
        const auto tab = entry.find('\t');
        if (tab == std::string::npos || entry.rfind("160000 ", 0) != 0) continue;
        const std::string path = entry.substr(tab + 1);
        std::error_code ec;
        if (fs::is_directory(worktree / path, ec) && !fs::is_empty(worktree / path, ec)) found.push_back(path);
    }
    return found;
}

std::vector<std::string> files_filters_keep_out(const fs::path& worktree) {
    const auto lost = lost_to_filters(worktree, committed_files(worktree));
    return {lost.begin(), lost.end()};
}

std::vector<std::string> files_git_hides(const fs::path& worktree) {
    // -t tags a skip-worktree entry "S " (-v would write "s " when it is assume-unchanged too)
    const auto listed = git_checked(worktree, {"ls-files", "-z", "-t"},
                                    fmt::format("cannot list the files of {}", worktree.string()));
    std::vector<std::string> hidden;
    for (const std::string& entry : split_records(listed.out, '\0')) {
        if (entry.size() < 3 || entry[0] != 'S' || entry[1] != ' ') continue;
        struct stat st {};
        if (::lstat((worktree / entry.substr(2)).c_str(), &st) == 0) hidden.push_back(entry.substr(2));
    }
    return hidden;
}

namespace {

// A file of the worktree as it was judged unchanged: its path, and which file it was (its lstat),
// so that only that very file is deleted, not one that replaced it or was written to since.
struct UnchangedFile {
    std::string path;
    struct stat seen {};
};

// The files the commit holds that are on disk with exactly the commit's content (and, under a
// clean filter that drops part of it, exactly what checkout writes), reached without a link.
std::vector<UnchangedFile> unchanged_files(const fs::path& worktree) {
    std::vector<std::string> regular;
    std::vector<std::string> expected;
    std::map<std::string, UnchangedFile> seen;
    std::vector<UnchangedFile> unchanged;
    const auto files = committed_files(worktree);
    const auto lost = lost_to_filters(worktree, files);
    const auto hidden_list = files_git_hides(worktree);
    const std::set<std::string> hidden(hidden_list.begin(), hidden_list.end());
    const auto staged = staged_paths(worktree);
    FolderWalk folders(worktree);  // a folder swapped for a link is never walked through
    for (const auto& file : files) {
        if (lost.count(file.path) || hidden.count(file.path) || staged.count(file.path)) continue;
        struct stat st {};
        if (!folders.status(file.path, st)) continue;
        if (file.mode == "120000") {
            if (!S_ISLNK(st.st_mode)) continue;
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            const ssize_t length = ::readlinkat(folders.folder_of(file.path), fs::path(file.path).filename().c_str(),
                                                target.data(), target.size());
            if (length < 0 || static_cast<std::size_t>(length) >= target.size()) continue;  // changed meanwhile
            target.resize(static_cast<std::size_t>(length));
            if (hash_link(worktree, target) == file.id) unchanged.push_back(UnchangedFile{file.path, st});
        } else if (S_ISREG(st.st_mode)) {
            regular.push_back(file.path);
            expected.push_back(file.id);
            seen.emplace(file.path, UnchangedFile{file.path, st});
        }
    }
    // git reads the files by path, following links: what it read is what was seen only while no
    // folder on the way changed meanwhile.
    FolderStamps stamps(worktree, regular);
    const auto ids = hash_files(worktree, regular);
    stamps.recheck();
    for (std::size_t i = 0; i < regular.size(); ++i)
        if (ids[i] == expected[i] && stamps.still_same(regular[i])) unchanged.push_back(seen.at(regular[i]));
    return unchanged;
}

// Deletes each file still the one judged unchanged, through folders walked without a link;
// returns the paths deleted.
std::vector<std::string> delete_unchanged(const fs::path& worktree, const std::vector<UnchangedFile>& unchanged) {
    std::vector<std::string> deleted;
    FolderWalk folders(worktree);
    for (const auto& file : unchanged)
        if (folders.remove_if_same(file.path, file.seen)) deleted.push_back(file.path);  // not if replaced or written
    return deleted;
}

// Removes every empty folder below `root` (deepest first); a folder with anything in it stays,
// and so does one that a link now stands in the way of.
void remove_empty_folders(const fs::path& root) {
    std::vector<std::string> folders;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) folders.push_back(it->path().lexically_relative(root).string());
    }
    std::sort(folders.begin(), folders.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    FolderWalk walk(root);
    for (const auto& folder : folders) {
        const int parent = walk.folder_of(folder);
        if (parent >= 0) ::unlinkat(parent, fs::path(folder).filename().c_str(), AT_REMOVEDIR);  // fails unless empty
    }
}

// What is left below the worktree, besides its .git file: relative paths, files before folders.
std::vector<std::string> leftovers(const fs::path& root, std::size_t& count) {
    std::vector<std::string> found;
    count = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        const auto relative = it->path().lexically_relative(root);
        if (relative == ".git") continue;
        if (it->is_directory(ec) && !it->is_symlink(ec)) continue;  // a folder stays because of what it holds
        ++count;
        if (found.size() < listed_at_most) found.push_back(relative.string());
    }
    if (count == 0) {  // only folders we could not remove (no permission to look inside, say)
        for (const auto& entry : fs::directory_iterator(root, ec)) {
            if (entry.path().filename() == ".git") continue;
            ++count;
            if (found.size() < listed_at_most) found.push_back(entry.path().filename().string() + "/");
        }
    }
    return found;
}

}  // namespace

CarefulRemoval remove_worktree_carefully(const git::Repository& repo, const fs::path& worktree) {
    // git's record of a copied repository names the original's folders: never removed from here.
    if (const auto problem = foreign_worktree_problem(repo.common_dir(), worktree))
        throw Error(fmt::format("the worktree {} was not removed: it {}", worktree.string(), *problem));
    CarefulRemoval result;
    auto unchanged = unchanged_files(worktree);  // throws before anything is deleted
    // The ignore rules go last: killed part way, the worktree still hides what they hide.
    std::stable_partition(unchanged.begin(), unchanged.end(),
                          [](const UnchangedFile& file) { return fs::path(file.path).filename() != ".gitignore"; });
    // Marked in git's record of the worktree, so that a removal killed part way is put back
    // (restore_interrupted_removals) rather than left half deleted.
    const auto marker = removal_marker(repo, worktree);
    if (marker) write_marker(*marker);
    const std::vector<std::string> deleted = delete_unchanged(worktree, unchanged);
    remove_empty_folders(worktree);

    std::size_t count = 0;
    auto left = leftovers(worktree, count);
    if (count == 0) {
        const fs::path dot_git = worktree / ".git";
        const std::string link = read_whole(dot_git);
        if (::unlink(dot_git.c_str()) == 0 || errno == ENOENT) {
            if (::rmdir(worktree.c_str()) == 0) {
                result.removed = true;  // the folder is gone, whatever git's record does next
                try {
                    repo.forget_missing_worktree(worktree);
                } catch (const Error& e) {
                    result.record_kept = fmt::format("{} (`git worktree remove {}` forgets it)", e.what(),
                                                     hint_word(worktree.string()));
                }
                return result;
            }
            // Something appeared at the last moment: the worktree stays, with its .git file back.
            std::ofstream(dot_git, std::ios::binary | std::ios::trunc) << link;
        }
        left = leftovers(worktree, count);
    }
    // Kept: the tracked files come back (they are the commit's, unchanged, and the index has none
    // staged otherwise), so it is as it was; but only where nothing is now: a file saved there since
    // its deletion (an editor's) is the user's, and checkout-index without -f never writes over one.
    put_back_deleted_files(worktree, DeletedFiles{deleted, false});
    if (marker) ::unlink(marker->c_str());
    result.kept_files = std::move(left);
    result.kept_count = std::max<std::size_t>(count, result.kept_files.size());
    if (result.kept_count == 0) {
        result.kept_files.push_back("(the folder itself)");
        result.kept_count = 1;
    }
    return result;
}

}  // namespace gm::model
