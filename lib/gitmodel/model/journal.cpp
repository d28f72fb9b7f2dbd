#include "gitmodel/model/journal.hpp"

#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/model/created_worktree.hpp"
#include "gitmodel/model/in_place_switch.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

fs::path pending_dir(const git::Repository& repo) { return repo.common_dir() / "git-model" / "pending"; }

// A record file as it is (its owner, the start's user, and its text, from one open): read as a
// plain file without following a link (SharedDir::read), and only one with no other name that
// nobody else may write counts (start writes it 0644): in a repository a group shares, git makes
// some of our files group-writable, and a member could write one and link or move it into the
// pending folder, where it would pass for our record. nullopt when it is no such file.
std::optional<SharedFile> open_record(const fs::path& record) {
    UniqueFd folder(::open(record.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!folder) return std::nullopt;
    auto file = SharedDir::adopt(std::move(folder), record.parent_path()).read(record.filename().string(), 1 << 20);
    if (!file || file->links != 1 || (file->mode & (S_IWGRP | S_IWOTH))) return std::nullopt;
    return file;
}

nlohmann::json to_json(const Intent& intent) {
    return {{"model", intent.model},
            {"branch", intent.branch},
            {"base", intent.base},
            {"base_commit", intent.base_commit},
            {"worktree", intent.worktree ? nlohmann::json(intent.worktree->string()) : nlohmann::json(nullptr)},
            {"pid", intent.process.pid},
            {"start_ticks", intent.process.start_ticks},
            {"switched", intent.switched ? nlohmann::json(intent.switched->string()) : nlohmann::json(nullptr)},
            {"switched_git_dir",
             intent.switched_git_dir ? nlohmann::json(*intent.switched_git_dir) : nlohmann::json(nullptr)},
            {"head_before", intent.head_before},
            {"switch_began", {intent.switch_began.tv_sec, intent.switch_began.tv_nsec}}};
}

std::optional<Intent> parse_record(const std::string& text) {
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return std::nullopt;
    try {
        Intent intent;
        intent.model = json.value("model", "");
        intent.branch = json.value("branch", "");
        intent.base = json.value("base", "");
        intent.base_commit = json.value("base_commit", "");
        if (json.contains("worktree") && json["worktree"].is_string())
            intent.worktree = fs::path(json["worktree"].get<std::string>());
        if (json.contains("switched") && json["switched"].is_string())
            intent.switched = fs::path(json["switched"].get<std::string>());
        if (json.contains("switched_git_dir") && json["switched_git_dir"].is_string())
            intent.switched_git_dir = json["switched_git_dir"].get<std::string>();
        intent.head_before = json.value("head_before", "");
        if (const auto began = json.find("switch_began");
            began != json.end() && began->is_array() && began->size() == 2) {
            intent.switch_began.tv_sec = (*began)[0].get<std::time_t>();
            intent.switch_began.tv_nsec = (*began)[1].get<long>();
        }
        intent.process.pid = json.value("pid", 0L);
        if (json.contains("start_ticks")) {
            intent.process.start_ticks = json.value("start_ticks", 0ULL);
        } else {
            // Records written before 0.2 kept the start time as text.
            intent.process.start_ticks = std::strtoull(json.value("pid_start", "0").c_str(), nullptr, 10);
        }
        if (intent.model.empty() || intent.branch.empty() || intent.base_commit.empty()) return std::nullopt;
        return intent;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

std::optional<Intent> read_record(const fs::path& path) {
    const auto file = open_record(path);
    if (!file) return std::nullopt;
    return parse_record(file->content);
}

// Writes the record atomically: O_EXCL claims the name, so two starts cannot both proceed.
bool try_create(const fs::path& path, const std::string& content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST) return false;
        throw Error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
                         ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!written) {
        std::error_code ignored;
        fs::remove(path, ignored);
        throw Error(fmt::format("cannot write {}: {}", path.string(), std::strerror(saved)),
                    "check free disk space");
    }
    return true;
}

// The branch is checked out somewhere (main or linked worktree): an in-place start finished its switch.
bool checked_out_anywhere(const git::Repository& repo, const std::string& branch) {
    for (const auto& worktree : repo.linked_worktrees())
        if (worktree.branch == branch) return true;
    try {
        auto main = git::Repository::open(repo.common_dir());
        return main.current_branch() == branch;
    } catch (const Error&) {
        return false;
    }
}

std::string base_key(const Intent& intent) { return fmt::format("branch.{}.modelBase", intent.branch); }

// Deletes the branch while it is still the one the start created; its config goes with it.
void delete_created_branch(git::Repository& repo, const Intent& intent, Rollback& result) {
    bool deleted = false;
    try {
        deleted = git::delete_branch_ref_if_at(repo, intent.branch, intent.base_commit);
    } catch (const Error& e) {  // a stale lock: the branch stays, and the next command tries again
        result.kept.push_back(fmt::format("kept the branch {}: {}", intent.branch, e.what()));
        result.resolved = false;
        return;
    }
    if (deleted) {
        repo.config().unset_local(base_key(intent));
        result.done.push_back(fmt::format("deleted the branch {}", intent.branch));
    } else if (repo.branch_exists(intent.branch)) {
        result.done.push_back(fmt::format("kept the branch {}: it has new commits", intent.branch));
    }
}

// The worktree part of a rollback; returns whether the branch must stay (its worktree stays).
bool roll_back_worktree(git::Repository& repo, const Intent& intent, Rollback& result) {
    const fs::path target = intent.worktree->lexically_normal();
    for (const auto& worktree : repo.linked_worktrees()) {
        if (!same_folder(worktree.path, target)) continue;
        const auto verdict = judge_created_worktree(repo, worktree, intent.branch, intent.base_commit);
        if (verdict.found.empty()) {
            remove_created_worktree(repo, worktree);
            result.done.push_back(fmt::format("removed the half-made worktree {}", worktree.path.string()));
            return false;
        }
        std::string kept = fmt::format("`git model start {}` (pid {}) did not finish; it left the worktree {} on {}, "
                                       "kept because {}.",
                                       intent.model, intent.process.pid, worktree.path.string(), intent.branch,
                                       join(verdict.found, "; "));
        if (verdict.busy) {
            kept += "\n  the next `git model start` looks again; if no git runs there any more and an index.lock is "
                    "named, remove it";
        } else {
            kept += fmt::format("\n  to keep it as model {}: {}git config branch.{}.modelBase {}", intent.model,
                                worktree.locked && is_creation_lock(worktree.lock_reason)
                                    ? fmt::format("git worktree unlock {}; ", hint_word(worktree.path.string()))
                                    : "",
                                intent.branch, intent.base.empty() ? "main" : intent.base);
            kept += fmt::format("\n  to remove it (and what it holds): git worktree remove --force --force {}; "
                                "git branch -D {}",
                                hint_word(worktree.path.string()), intent.branch);
        }
        result.kept.push_back(kept);
        result.resolved = false;
        return true;
    }
    // git creates the folder before registering it: an empty one may be all that is left.
    std::error_code ec;
    if (fs::is_directory(target, ec) && fs::is_empty(target, ec)) {
        fs::remove(target, ec);
        if (!ec) result.done.push_back(fmt::format("removed the empty folder {}", target.string()));
    }
    if (remove_unregistered_admin_dirs(repo, intent.process.pid) > 0)
        result.done.push_back("removed a worktree registration git had not finished");
    return false;
}

}  // namespace

PendingStart::PendingStart(fs::path record) : record_(std::move(record)) {}

PendingStart::PendingStart(PendingStart&& other) noexcept : record_(std::move(other.record_)) { other.record_.clear(); }

PendingStart::~PendingStart() {
    // Not committed: the caller has rolled back (or will be recovered later); the
    // record only goes when commit() is called, so a crash always leaves it behind.
}

void PendingStart::commit() {
    if (record_.empty()) return;
    std::error_code ignored;
    fs::remove(record_, ignored);
    record_.clear();
}

PendingStart PendingStart::claim(const git::Repository& repo, const Intent& intent) {
    const fs::path dir = pending_dir(repo);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    const fs::path path = dir / intent.model;
    const std::string content = to_json(intent).dump(2) + "\n";
    if (try_create(path, content)) return PendingStart(path);
    auto existing = read_record(path);
    if (!existing) {
        // A torn record (crash while writing it) means no step was taken: drop it and claim again.
        std::error_code ignored;
        fs::remove(path, ignored);
        if (try_create(path, content)) return PendingStart(path);
        existing = read_record(path);
    }
    if (existing && proc::is_running(existing->process)) {
        throw Error(fmt::format("another `git model start {}` is running (pid {})", intent.model,
                                existing->process.pid),
                    "wait for it to finish");
    }
    throw Error(fmt::format("an interrupted start of '{}' left things that were kept (see above)", intent.model),
                fmt::format("finish or remove them as said, then run this again (the record is {})", path.string()));
}

namespace {

// Where the worktree a --no-worktree start switched is now, found in this repository by its git
// dir (Intent::switched_git_dir): the place git's record names (a linked worktree's gitdir file,
// the main worktree beside the common dir) or where the record says it was, whichever is a
// worktree whose own .git leads back to exactly that git dir. Neither the record nor git's
// record of a linked worktree (group-writable in a shared repository) can send the undo into
// another repository. nullopt when no such worktree is there.
std::optional<fs::path> switched_worktree(const git::Repository& repo, const Intent& intent) {
    if (!intent.switched_git_dir) return std::nullopt;
    const std::string& git_dir = *intent.switched_git_dir;
    if (!git_dir.empty() && git_dir.rfind("worktrees/", 0) != 0) return std::nullopt;
    const fs::path expected = git_dir.empty() ? repo.common_dir() : repo.common_dir() / git_dir;
    std::vector<fs::path> candidates;
    if (git_dir.empty()) {
        try {
            if (const auto workdir = git::Repository::open(repo.common_dir()).workdir()) candidates.push_back(*workdir);
        } catch (const Error&) {
        }
    } else {
        for (const auto& worktree : repo.linked_worktrees())
            if (git_dir == "worktrees/" + worktree.id && !worktree.folder_missing) candidates.push_back(worktree.path);
    }
    if (intent.switched) candidates.push_back(*intent.switched);
    for (const auto& candidate : candidates) {
        try {
            const auto there = git::Repository::open(candidate);
            const auto workdir = there.workdir();
            if (workdir && same_folder(*workdir, candidate) && same_folder(there.git_dir(), expected)) return candidate;
        } catch (const Error&) {
        }
    }
    return std::nullopt;
}

}  // namespace

Rollback roll_back(git::Repository& repo, const Intent& intent) {
    Rollback result;
    const bool base_recorded = repo.config().get_string(base_key(intent)).has_value();
    if (intent.worktree) {
        // The last step writes modelBase: recorded, and no creation lock left, means the start
        // (or the user, finishing it as told) completed the model.
        bool creation_locked = false;
        for (const auto& worktree : repo.linked_worktrees())
            if (same_folder(worktree.path, *intent.worktree))
                creation_locked = worktree.locked && is_creation_lock(worktree.lock_reason);
        if (base_recorded && !creation_locked) {
            result.completed = true;
            return result;
        }
        if (roll_back_worktree(repo, intent, result)) return result;
    } else if (checked_out_anywhere(repo, intent.branch)) {
        // The in-place switch completed: the model is whole but for its base record.
        if (!base_recorded && !intent.base.empty()) repo.config().set_local(base_key(intent), intent.base);
        result.completed = true;
        return result;
    } else if (intent.switched && !intent.head_before.empty()) {
        // Killed half way through its switch: what the switch wrote goes, as the start itself would
        // have undone it; nothing once HEAD has moved from where the switch left it.
        const auto place = switched_worktree(repo, intent);
        if (!place) {
            result.done.push_back(fmt::format("did not undo the interrupted switch of {}: this repository has that "
                                              "worktree no more; `git status` there shows what it left",
                                              intent.switched->string()));
        } else {
            const auto undone = restore_interrupted_switch(repo, *place, intent.branch, intent.base_commit,
                                                           intent.switch_began, intent.head_before);
            if (!undone.whole) {
                // Kept, branch and record too, for the next start to finish once git can write again.
                result.kept.push_back(fmt::format("in {}: {}", place->string(), undone.said));
                result.resolved = false;
                return result;
            }
            if (!undone.said.empty()) result.done.push_back(fmt::format("in {}: {}", place->string(), undone.said));
        }
    }
    delete_created_branch(repo, intent, result);
    return result;
}

std::vector<InterruptedStart> interrupted_starts(const git::Repository& repo) {
    std::vector<InterruptedStart> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(pending_dir(repo), ec)) {
        const auto file = open_record(entry.path());
        if (!file) continue;
        auto intent = parse_record(file->content);
        if (!intent || proc::is_running(intent->process)) continue;
        found.push_back({std::move(*intent), entry.path(), file->owner});
    }
    return found;
}

std::vector<std::string> recover_interrupted_starts(git::Repository& repo) {
    std::vector<std::string> lines;
    const fs::path dir = pending_dir(repo);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return lines;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto file = open_record(entry.path());  // owner and text from one look
        if (!file) continue;  // gone meanwhile, or no record (see open_record)
        if (file->owner != ::geteuid()) {
            if (const auto theirs = parse_record(file->content); theirs && !proc::is_running(theirs->process))
                lines.push_back(fmt::format("kept: {}'s interrupted `git model start {}` (pid {}) is theirs to roll "
                                            "back; their next `git model start` does it",
                                            user_name_of(file->owner), theirs->model, theirs->process.pid));
            continue;
        }
        const auto intent = parse_record(file->content);
        std::error_code remove_ec;
        if (!intent) {
            // Written and fsynced before the first step: a torn record means nothing was done yet.
            fs::remove(entry.path(), remove_ec);
            continue;
        }
        if (proc::is_running(intent->process)) continue;
        const Rollback rollback = roll_back(repo, *intent);
        for (const auto& line : rollback.done) lines.push_back(line);
        for (const auto& line : rollback.kept) lines.push_back(line);
        if (!rollback.resolved) continue;
        fs::remove(entry.path(), remove_ec);
        if (!rollback.done.empty()) {
            lines.push_back(fmt::format("rolled back the interrupted `git model start {}` (pid {})", intent->model,
                                        intent->process.pid));
        }
    }
    return lines;
}

std::vector<std::string> models_with_pending_starts(const git::Repository& repo) {
    std::vector<std::string> models;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(pending_dir(repo), ec)) models.push_back(entry.path().filename());
    return models;
}

}  // namespace gm::model
