#include "gitmodel/model/in_place_switch.hpp"

#include "gitmodel/core/folder_walk.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/git_program.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

// Whether a file was written after a moment of the coarse clock the kernel stamps files with: a
// file written in the same tick (a few ms) counts as older, so that a user's file never counts as
// the switch's. (On a file system that keeps whole seconds the switch's files count as older too,
// and are named rather than undone.)
bool written_since(const struct stat& st, const struct timespec& since) { return later_than(st.st_mtim, since); }

// Whether each file (a path in the worktree, seen as `seen`) holds its blob as the switch writes
// it: the blob's bytes, or the blob as checked out at that path (through its smudge filter and
// end-of-line conversion: a clean filter that drops what the user added, as nbstripout drops a
// notebook's outputs, must not make the user's file count as the blob), or, for a file git was
// writing when it was stopped, the blob's start cut at a whole page (4096 bytes); and still as
// seen once judged.
std::vector<bool> hold_blobs(const git::Repository& repo, const fs::path& worktree, const std::vector<std::string>& paths,
                             const std::vector<std::string>& blobs, const std::vector<struct stat>& seen,
                             const proc::RunOptions& quiet) {
    // git reads the files by path, following links: what it read is what was seen only while no
    // folder on the way changed meanwhile.
    FolderStamps stamps(worktree, paths);
    proc::RunOptions hashing = quiet;
    hashing.cwd = worktree;
    const auto raw = git::hash_worktree_files(paths, true, hashing).value_or(std::vector<std::string>(paths.size()));
    FolderWalk walk(worktree);
    // The file as seen, read through real folders only ("\x01 unreadable" when it is not that file).
    const auto read_file = [&](std::size_t i, std::size_t size) {
        const UniqueFd fd(::openat(walk.folder_of(paths[i]), fs::path(paths[i]).filename().c_str(),
                                   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        struct stat st {};
        std::string bytes(size, '\0');
        std::size_t got = 0;
        if (!fd || ::fstat(fd.get(), &st) != 0 || !same_file_as_seen(st, seen[i])) return std::string("\x01 unreadable");
        while (got < size) {
            const ssize_t n = ::read(fd.get(), bytes.data() + got, size - got);
            if (n <= 0) return std::string("\x01 unreadable");
            got += static_cast<std::size_t>(n);
        }
        return bytes;
    };
    std::vector<bool> holds(paths.size(), false);
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const struct stat& st = seen[i];
        if (blobs[i].empty()) continue;
        if (S_ISLNK(st.st_mode)) {  // a symbolic link's blob is its target
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            const auto length = ::readlinkat(walk.folder_of(paths[i]), fs::path(paths[i]).filename().c_str(),
                                             target.data(), target.size());
            const auto blob = git::run_git(repo, {"cat-file", "blob", blobs[i]}, quiet, worktree);
            holds[i] = length >= 0 && blob.ok() && blob.out == target.substr(0, static_cast<std::size_t>(length));
        } else if (S_ISREG(st.st_mode)) {
            holds[i] = raw[i] == blobs[i];
            const auto size = static_cast<std::size_t>(st.st_size);
            if (!holds[i]) {
                const auto checked_out =
                    git::run_git(repo, {"cat-file", "--filters", "--path=" + paths[i], blobs[i]}, quiet, worktree);
                holds[i] = checked_out.ok() && checked_out.out.size() == size && read_file(i, size) == checked_out.out;
            }
            if (!holds[i] && size % 4096 == 0) {
                const auto blob = git::run_git(repo, {"cat-file", "blob", blobs[i]}, quiet, worktree);
                holds[i] = blob.ok() && size < blob.out.size() && blob.out.compare(0, size, read_file(i, size)) == 0;
            }
        }
        struct stat now {};  // a user's save while it was judged makes the judgement stale
        holds[i] = holds[i] && walk.status(paths[i], now) && same_file_as_seen(now, st);
    }
    stamps.recheck();
    for (std::size_t i = 0; i < paths.size(); ++i) holds[i] = holds[i] && stamps.still_same(paths[i]);
    return holds;
}

}  // namespace

struct timespec switch_moment() {
    struct timespec began {};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &began);
    for (int waited = 0; waited < 50; ++waited) {
        struct timespec now {};
        ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
        if (now.tv_sec != began.tv_sec || now.tv_nsec != began.tv_nsec) break;
        const struct timespec millisecond {0, 1000000};
        ::nanosleep(&millisecond, nullptr);
    }
    return began;
}

SwitchUndo restore_interrupted_switch(const git::Repository& repo, const fs::path& worktree, const std::string& branch,
                                       const std::string& base_commit, const struct timespec& switch_began,
                                       const std::optional<std::string>& head_before) {
    proc::RunOptions quiet;
    quiet.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    const auto on = git::run_git(repo, {"symbolic-ref", "-q", "HEAD"}, quiet, worktree);
    if (on.ok() && trim_end(on.out, "\n") == "refs/heads/" + branch) return {};  // the switch was done
    const auto head = git::run_git(repo, {"rev-parse", "--verify", "-q", "HEAD^{commit}"}, quiet, worktree);
    const auto changed = git::run_git(
        repo, {"status", "--porcelain", "-z", "--no-renames", "--untracked-files=no", "--ignore-submodules=none"}, quiet,
        worktree);
    if (!head.ok() || !changed.ok()) return {};
    const std::string head_commit = trim_end(head.out, "\n");
    if (head_before && head_commit != *head_before) return {};  // moved on since: what is there is the user's
    // Where the switch may write: ":<mode> <mode> <id> <id> <status>\0<path>\0" records.
    const auto differing =
        git::run_git(repo, {"diff-tree", "-r", "-z", "--no-renames", head_commit, base_commit}, quiet, worktree);
    if (!differing.ok()) return {};
    struct Switched {
        bool in_head = false;
        std::string base_blob;  // "" where the base has no file there
    };
    std::map<std::string, Switched> switched;  // a file path the switch writes
    std::vector<std::pair<std::string, std::string>> base_files;  // path, blob: what the base adds
    const auto fields = split_records(differing.out, '\0');
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        std::istringstream meta(fields[i]);
        std::string old_mode, new_mode, old_id, new_id, status;
        meta >> old_mode >> new_mode >> old_id >> new_id >> status;
        if (old_mode == ":160000" || new_mode == "160000") continue;  // a submodule: git's own business
        switched[fields[i + 1]] = Switched{status != "A", status == "D" ? "" : new_id};
        if (status == "A" && (new_mode == "100644" || new_mode == "100755")) base_files.emplace_back(fields[i + 1], new_id);
    }
    FolderWalk walk(worktree);  // files reached through real folders of the worktree only
    std::vector<std::string> restore;  // tracked files the switch wrote or deleted
    std::vector<std::string> left;     // tracked changes it did not make
    std::vector<std::string> written, written_blobs;  // to be checked: still as the switch wrote them?
    std::vector<struct stat> written_seen;
    for (const auto& entry : split_records(changed.out, '\0')) {
        if (entry.size() < 4) continue;
        const std::string path = entry.substr(3);
        const auto where = switched.find(path);
        struct stat st {};
        const bool gone = ::lstat((worktree / path).c_str(), &st) != 0 && errno == ENOENT;
        if (where != switched.end() && gone) {
            restore.push_back(path);
        } else if (where != switched.end() && walk.status(path, st) && written_since(st, switch_began)) {
            written.push_back(path);
            written_blobs.push_back(where->second.base_blob);
            written_seen.push_back(st);
        } else {
            left.push_back(path);
        }
    }
    // Written during the switch, but by the user too (an editor saving while a long checkout ran):
    // only the base's content is the switch's.
    const auto as_written = hold_blobs(repo, worktree, written, written_blobs, written_seen, quiet);
    std::map<std::string, struct stat> judged;  // written by the switch, as seen when judged so
    for (std::size_t i = 0; i < written.size(); ++i) {
        if (!as_written[i]) {
            left.push_back(written[i]);
            continue;
        }
        restore.push_back(written[i]);
        judged.emplace(written[i], written_seen[i]);
    }
    SwitchUndo undo;
    std::vector<std::string> lines;
    if (!restore.empty()) {
        // The index back to HEAD for those paths (a switch killed after writing it), then the
        // files from it; literal paths, submodules left alone.
        std::string paths;
        for (const auto& path : restore) paths += path + '\0';
        proc::RunOptions feeding = quiet;
        feeding.input = paths;
        const auto reset = git::run_git(repo, {"--literal-pathspecs", "reset", "-q", "--no-recurse-submodules",
                                               head_commit, "--pathspec-from-file=-", "--pathspec-file-nul"},
                                        feeding, worktree);
        // 1: files still differ from the index, as they do until the next step
        bool put_back = reset.signal == 0 && !reset.timed_out && (reset.exit_code == 0 || reset.exit_code == 1);
        const std::string why_not = put_back ? std::string() : first_line(reset.err);
        std::string in_head;
        if (put_back) {
            // What the switch wrote goes, while it is still the very file judged; checkout-index then
            // writes HEAD's only where nothing is: a save made meanwhile is never written over.
            std::vector<std::string> going;
            for (const auto& path : restore) {
                const auto seen_then = judged.find(path);
                if (switched.at(path).in_head && seen_then != judged.end() && !walk.remove_if_same(path, seen_then->second))
                    left.push_back(path);  // saved since it was judged: the user's now
                else
                    going.push_back(path);
            }
            restore = std::move(going);
        }
        for (const auto& path : restore)
            if (switched.at(path).in_head) in_head += path + '\0';
        feeding.input = in_head;
        if (put_back && !in_head.empty()) {
            // Without -f: a file there now is the user's (its answer is then 1, so what is missing tells).
            git::run_git(repo, {"checkout-index", "-u", "-q", "-z", "--stdin"}, feeding, worktree);
            FolderWalk written_now(worktree);  // folders git made afresh are looked at afresh
            struct stat st {};
            for (const auto& path : restore)
                if (switched.at(path).in_head && !written_now.status(path, st)) put_back = false;
        }
        undo.whole = put_back;
        lines.push_back(put_back ? fmt::format("put back {} the interrupted switch had changed, as {} has them",
                                               count_of(restore.size(), "file", "files"), head_commit.substr(0, 10))
                                 : fmt::format("could not put back the {} the interrupted switch had changed (`git "
                                               "status` shows them){}",
                                               count_of(restore.size(), "file", "files"),
                                               why_not.empty() ? "" : ": git said: " + why_not));
    }
    // The base's new files it wrote: still the base's blob, raw or through the path's filters
    // (end-of-line conversion, Git LFS), and written since the switch began.
    std::vector<std::string> present;
    std::vector<std::string> ids;
    std::vector<struct stat> seen;
    for (const auto& [path, id] : base_files) {
        struct stat st {};
        if (!walk.status(path, st) || !S_ISREG(st.st_mode) || !written_since(st, switch_began)) continue;
        present.push_back(path);
        ids.push_back(id);
        seen.push_back(st);
    }
    std::size_t removed = 0;
    std::vector<std::string> kept;
    if (!present.empty()) {
        const auto same = hold_blobs(repo, worktree, present, ids, seen, quiet);
        for (std::size_t i = 0; i < present.size(); ++i) {
            if (same[i] && walk.remove_if_same(present[i], seen[i])) {
                walk.remove_empty_folders_made_since(present[i], switch_began);
                ++removed;
            } else {
                kept.push_back(present[i]);
            }
        }
    }
    if (removed) lines.push_back(fmt::format("removed {} the switch had written", count_of(removed, "file", "files")));
    const auto some = [](const std::vector<std::string>& paths) {
        std::vector<std::string> named;
        for (const auto& path : paths) named.push_back(hint_word(path));
        return first_few(named);
    };
    if (!kept.empty())
        lines.push_back(fmt::format("left {} the base adds, written since the switch began but no longer as the base "
                                    "has {} ({}): the next start is refused while {} there; remove {} if {} not yours",
                                    count_of(kept.size(), "file", "files"), kept.size() == 1 ? "it" : "them",
                                    some(kept), kept.size() == 1 ? "it is" : "they are",
                                    kept.size() == 1 ? "it" : "them", kept.size() == 1 ? "it is" : "they are"));
    // Named where something was undone, or where a change is in a path the switch writes (a file
    // the user saved while it ran): the worktree is not simply as it was.
    const bool in_switched_path =
        std::any_of(left.begin(), left.end(), [&](const std::string& path) { return switched.count(path) > 0; });
    if (!left.empty() && (!lines.empty() || in_switched_path))
        lines.push_back(fmt::format("left as {} the {} the switch did not make ({}): `git status` and `git diff` show {}",
                                    left.size() == 1 ? "it is" : "they are", count_of(left.size(), "change", "changes"),
                                    some(left), left.size() == 1 ? "it" : "them"));
    undo.said = join(lines, "; ");
    return undo;
}

std::vector<std::string> ignored_in_the_way(const git::Repository& repo, const fs::path& worktree,
                                            const std::string& base_commit) {
    proc::RunOptions quiet;
    quiet.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    const auto added = git::run_git(repo, {"diff-tree", "-r", "-z", "--no-renames", "--name-only", "--diff-filter=AT",
                                           "HEAD", base_commit},
                                    quiet, worktree);
    if (!added.ok()) return {};
    // What is in the way, found without following links: the first thing on the path that is not
    // a folder, or a folder where the base has its file.
    std::set<std::string> in_the_way;
    for (const auto& path : split_records(added.out, '\0')) {
        fs::path prefix;
        for (const auto& part : fs::path(path)) {
            prefix /= part;
            struct stat st {};
            if (::lstat((worktree / prefix).c_str(), &st) != 0) break;
            if (!S_ISDIR(st.st_mode) || prefix == fs::path(path)) {
                in_the_way.insert(prefix.string());
                break;
            }
        }
    }
    if (in_the_way.empty()) return {};
    std::vector<std::string> ignored;
    std::vector<std::string> chunk;
    const auto ask = [&] {
        // The ignored untracked files at or under those paths, as git's switch judges them.
        std::vector<std::string> args{"--literal-pathspecs", "ls-files", "-z", "--others", "--ignored",
                                      "--exclude-standard", "--"};
        args.insert(args.end(), chunk.begin(), chunk.end());
        const auto listed = git::run_git(repo, args, quiet, worktree);
        if (!listed.ok())
            throw Error(fmt::format("cannot tell whether the switch to {} would overwrite ignored files: `git ls-files` {}",
                                    base_commit.substr(0, 10), listed.describe()),
                        "leave out --no-worktree to get a separate worktree");
        for (auto& path : split_records(listed.out, '\0')) ignored.push_back(std::move(path));
        chunk.clear();
    };
    for (const auto& path : in_the_way) {
        chunk.push_back(path);
        if (chunk.size() == 500) ask();
    }
    if (!chunk.empty()) ask();
    return ignored;
}

}  // namespace gm::model
