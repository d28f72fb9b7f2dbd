#include "gitmodel/model/journal.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

fs::path pending_dir(const git::Repository& repo) { return repo.common_dir() / "git-model" / "pending"; }

// The start time of a process (field 22 of /proc/<pid>/stat), so that a reused pid is not taken for ours.
std::string process_start_time(long pid) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = content.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream fields(content.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) return field;
    }
    return {};
}

nlohmann::json to_json(const Intent& intent) {
    return {{"model", intent.model},
            {"branch", intent.branch},
            {"base_commit", intent.base_commit},
            {"worktree", intent.worktree ? nlohmann::json(intent.worktree->string()) : nlohmann::json(nullptr)},
            {"pid", intent.pid},
            {"pid_start", process_start_time(intent.pid)}};
}

struct Record {
    Intent intent;
    std::string pid_start;
};

std::optional<Record> read_record(const fs::path& path) {
    std::ifstream file(path);
    if (!file) return std::nullopt;
    const nlohmann::json json = nlohmann::json::parse(file, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return std::nullopt;
    Record record;
    record.intent.model = json.value("model", "");
    record.intent.branch = json.value("branch", "");
    record.intent.base_commit = json.value("base_commit", "");
    if (json.contains("worktree") && json["worktree"].is_string())
        record.intent.worktree = fs::path(json["worktree"].get<std::string>());
    record.intent.pid = json.value("pid", 0L);
    record.pid_start = json.value("pid_start", "");
    return record;
}

bool still_running(const Record& record) {
    if (record.intent.pid <= 0) return false;
    if (::kill(static_cast<pid_t>(record.intent.pid), 0) != 0 && errno != EPERM) return false;
    return process_start_time(record.intent.pid) == record.pid_start;
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
    if (existing && still_running(*existing)) {
        throw Error(fmt::format("another `git model start {}` is running (pid {})", intent.model, existing->intent.pid),
                    "wait for it to finish");
    }
    throw Error(fmt::format("an interrupted start of '{}' has not been rolled back yet", intent.model),
                fmt::format("remove {} after checking the branch and worktree", path.string()));
}

std::vector<std::string> roll_back(git::Repository& repo, const Intent& intent) {
    std::vector<std::string> done;
    bool worktree_kept = false;
    if (intent.worktree) {
        const fs::path target = intent.worktree->lexically_normal();
        for (const auto& worktree : repo.linked_worktrees()) {
            if (worktree.path.lexically_normal() != target) continue;
            const bool checkout_finished = !worktree.locked && !worktree.folder_missing;
            if (checkout_finished) {
                auto opened = git::Repository::open(worktree.path);
                if (opened.has_uncommitted_changes()) {
                    throw Error(fmt::format("an interrupted start of '{}' left the worktree {}, which now holds "
                                            "changes; it was not removed",
                                            intent.model, worktree.path.string()),
                                "commit or move those changes, then run `git worktree remove` on it");
                }
                if (opened.current_branch() == intent.branch &&
                    opened.resolve_commit("HEAD") != std::optional<std::string>(intent.base_commit)) {
                    worktree_kept = true;  // someone committed there: it is work now, keep it all
                    break;
                }
            }
            std::error_code ec;
            fs::remove_all(repo.common_dir() / "worktrees" / worktree.id, ec);
            fs::remove_all(worktree.path, ec);
            done.push_back(fmt::format("removed the half-made worktree {}", worktree.path.string()));
        }
        // git creates the folder before registering it: an empty one may be all that is left.
        std::error_code ec;
        if (fs::is_directory(target, ec) && fs::is_empty(target, ec)) {
            fs::remove(target, ec);
            if (!ec) done.push_back(fmt::format("removed the empty folder {}", target.string()));
        }
    } else if (checked_out_anywhere(repo, intent.branch)) {
        worktree_kept = true;  // the in-place switch completed: the model is whole
    }
    if (!worktree_kept && repo.delete_branch_if_at(intent.branch, intent.base_commit)) {
        repo.config().unset_local(fmt::format("branch.{}.modelBase", intent.branch));
        done.push_back(fmt::format("deleted the branch {}", intent.branch));
    }
    return done;
}

std::vector<std::string> recover_interrupted_starts(git::Repository& repo) {
    std::vector<std::string> done;
    const fs::path dir = pending_dir(repo);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return done;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        auto record = read_record(entry.path());
        if (!record) {
            // Written before the first step and fsynced: a torn record means nothing was done yet.
            fs::remove(entry.path(), ec);
            continue;
        }
        if (still_running(*record)) continue;
        for (auto& line : roll_back(repo, record->intent)) done.push_back(std::move(line));
        fs::remove(entry.path(), ec);
        done.push_back(fmt::format("rolled back the interrupted `git model start {}` (pid {})", record->intent.model,
                                   record->intent.pid));
    }
    return done;
}

}  // namespace gm::model
