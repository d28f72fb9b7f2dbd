#include "gitmodel/sweep/promote.hpp"

#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/snapshots/snapshots.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/shelf.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace fs = std::filesystem;

namespace gm::sweep {

std::optional<std::string> carry_path_problem(std::string_view path) {
    if (path.empty()) return "is empty";
    if (path.front() == '/') return "is absolute: give a path relative to the run's worktree";
    for (const char c : path)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "holds a control character (a newline, a tab, an escape): rename the file the runs write";
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view part = path.substr(start, end - start);
        if (part == "..") return "leads out of the worktree ('..')";
        if (part.empty() || part == ".") return "is not a plain relative path (empty or '.' part)";
        if (part == ".git" || part == ".GIT" || part == ".Git") return "is inside .git";
        start = end + 1;
    }
    if (path == params_file_name) return fmt::format("is {}, which is always promoted", params_file_name);
    return std::nullopt;
}

namespace {

// Whether `path` (canonical) is `root` (canonical) or inside it.
bool inside(const fs::path& root, const fs::path& path) {
    const std::string r = root.string(), p = path.string();
    return p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && (r.back() == '/' || p[r.size()] == '/'));
}

// Why `rel` under `root` resolves out of it through a symbolic link (or through a dangling one),
// nullopt when every link on it stays inside. Parts that do not exist yet are fine.
std::optional<std::string> escaping_link(const fs::path& root, const std::string& rel) {
    std::error_code ec;
    const fs::path root_real = fs::canonical(root, ec);
    if (ec) return std::nullopt;  // no worktree to check against
    fs::path at = root;
    for (const auto& part : fs::path(rel)) {
        at /= part;
        const auto status = fs::symlink_status(at, ec);
        if (ec || !fs::exists(status)) return std::nullopt;
        if (!fs::is_symlink(status)) continue;
        const fs::path target = fs::canonical(at, ec);
        if (ec) return fmt::format("goes through the symbolic link {}, which leads nowhere", at.string());
        if (!inside(root_real, target))
            return fmt::format("goes through the symbolic link {}, which leads out of the worktree (to {})", at.string(),
                               target.string());
    }
    return std::nullopt;
}

}  // namespace

void check_carry_paths(const std::vector<std::string>& paths, const fs::path& worktree) {
    std::set<std::string> seen;
    for (const auto& path : paths) {
        if (auto problem = carry_path_problem(path))
            throw UsageError(fmt::format("--carry {}: the path {}", quote_for_message(path), *problem),
                             "carry files of the run's worktree, e.g. --carry results/summary.txt");
        if (!seen.insert(path).second) throw UsageError(fmt::format("--carry {} is given twice", quote_for_message(path)));
        if (auto problem = escaping_link(worktree, path))
            throw UsageError(fmt::format("--carry {}: the path {}", quote_for_message(path), *problem),
                             "carry a file that lies inside the worktree");
        std::error_code ec;
        if (fs::is_directory(fs::symlink_status(worktree / path, ec)))
            throw UsageError(fmt::format("--carry {}: {} is a folder, and --carry carries files only",
                                         quote_for_message(path), (worktree / path).string()),
                             fmt::format("name the files in it, e.g. --carry {}/model.pt", path));
    }
}

const RunResult& choose_promoted_run(const Report& report, std::optional<int> run) {
    const Sweep& sweep = report.view.sweep;
    auto not_done = [&](const RunResult& result) {
        return Error(fmt::format("run {} of sweep {} is {}{}: only a run that finished (done) is promoted", result.run.spec.number,
                                 sweep.id, to_string(result.run.state), result.run.detail.empty() ? "" : " (" + result.run.detail + ")"),
                     fmt::format("see `git model sweep status {}`; `git model sweep resume {}` runs it again", sweep.id, sweep.id));
    };
    if (run) {
        for (const auto& result : report.results) {
            if (result.run.spec.number != *run) continue;
            if (result.run.state != RunState::done) throw not_done(result);
            if (!result.problem.empty())  // its snapshot would record no metric, as if it had none
                throw Error(fmt::format("run {} of sweep {} finished, but its metrics cannot be read: {}; nothing was promoted",
                                        *run, sweep.id, result.problem),
                            fmt::format("fix {} in the run's worktree ({}), then promote again", metrics_file_name,
                                        hint_word(result.run.spec.worktree.string())));
            return result;
        }
        throw Error(fmt::format("sweep {} has no run {} (its runs are 1 to {})", sweep.id, *run, sweep.runs.size()),
                    fmt::format("`git model sweep report {}` lists them", sweep.id));
    }
    if (report.metric.empty())
        throw Error(fmt::format("no run of sweep {} has recorded metrics, so none is best", sweep.id),
                    fmt::format("runs write them to {} in their worktree; or name the run with --run <k>", metrics_file_name));
    const RunResult* skipped = nullptr;
    for (const auto& result : report.results) {  // best first
        if (!snapshots::find_metric(result.metrics, report.metric)) break;  // the rest have no value
        if (result.run.state == RunState::done) return result;
        if (!skipped) skipped = &result;
    }
    if (skipped) throw not_done(*skipped);
    throw Error(fmt::format("no finished run of sweep {} recorded {}", sweep.id, report.metric),
                fmt::format("`git model sweep report {}` shows what each run recorded", sweep.id));
}

std::string promote_subject(const std::string& sweep_id, int run, const std::vector<snapshots::Metric>& metrics,
                            const std::string& metric, const config::ParameterSet& params) {
    std::string inside_parens;
    if (const auto* m = metric.empty() ? nullptr : snapshots::find_metric(metrics, metric))
        inside_parens = m->name + "=" + m->text;
    const std::string described = describe(params);
    if (!described.empty()) inside_parens += (inside_parens.empty() ? "" : ", ") + described;
    std::string subject = fmt::format("Promote sweep {} run {}", sweep_id, run);
    if (inside_parens.empty()) return subject;
    constexpr std::size_t limit = 100;
    const std::size_t room = limit > subject.size() + 3 ? limit - subject.size() - 3 : 0;
    if (inside_parens.size() > room) inside_parens = inside_parens.substr(0, room > 3 ? room - 3 : 0) + "...";
    return subject + " (" + inside_parens + ")";
}

namespace {

// One file a promotion writes into the model's worktree, and what was there before.
struct PlannedFile {
    std::string path;                 // relative, '/'-separated
    std::string content;              // what the run has
    mode_t mode = 0644;
    std::optional<std::string> head;  // the model branch's content, if it has the file
    bool existed = false;             // the worktree had a file there
    std::string before;               // its bytes then
    mode_t before_mode = 0644;
    // The same as git sees them (its clean filter, such as Git LFS's, and end-of-line conversion
    // applied): a file under LFS is a pointer in the branch and its content in the worktree.
    bool head_is_content = false;     // the branch holds the run's content
    bool before_is_content = false;   // the worktree file holds it (an interrupted promote's)
    bool before_is_head = false;      // the worktree file is the branch's (no change of the user's)
    std::vector<fs::path> made_dirs;  // folders the promotion created for it, outermost first
};

// Reads a carried file of a run's worktree: a regular file reached without leaving the worktree.
std::pair<std::string, mode_t> read_carried(const fs::path& worktree, const std::string& rel, int run) {
    if (auto problem = escaping_link(worktree, rel))
        throw Error(fmt::format("run {}'s carried file {} {}; nothing was promoted", run, rel, *problem),
                    "a run's files are carried only from inside its worktree");
    std::error_code ec;
    const fs::path real = fs::canonical(worktree / rel, ec);
    if (ec) throw Error(fmt::format("run {} has no file {} to carry ({}); nothing was promoted", run, rel, (worktree / rel).string()),
                        "the sweep's --carry names files each run writes into its worktree");
    const UniqueFd fd(::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(fmt::format("run {}'s {} is not a regular file{}; nothing was promoted", run, rel,
                                fd ? "" : fmt::format(" ({})", std::strerror(errno))),
                    "--carry carries files, not folders or devices");
    // What was opened, not what was looked at: a link swapped in after the check leads nowhere else.
    const fs::path opened = fs::read_symlink(fmt::format("/proc/self/fd/{}", fd.get()), ec);
    const fs::path root_real = fs::canonical(worktree, ec);
    if (opened.empty() || root_real.empty() || !inside(root_real, opened))
        throw Error(fmt::format("run {}'s carried file {} led out of its worktree (to {}) while it was read; nothing was promoted",
                                run, rel, opened.string()),
                    "a run's files are carried only from inside its worktree");
    std::string content;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("cannot read {}: {}", real.string(), std::strerror(errno)));
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return {content, st.st_mode & 0777};
}

// Where a carried file is read from: the run's worktree while it holds it, else the run's shelf
// (where `sweep clean --branches` moved it before removing the worktree). Throws gm::Error when
// the worktree is another clone's now and the shelf does not have the file.
fs::path carried_source(const Sweep& sweep, const RunSpec& run, const std::string& rel) {
    std::error_code ec;
    const bool exists = fs::exists(run.worktree, ec);
    const bool ours = exists && run_worktree_ours(sweep, run);
    const bool in_worktree = ours && fs::exists(fs::symlink_status(run.worktree / rel, ec));
    const fs::path shelf = carried_shelf(sweep, run.number);
    if (!in_worktree && shelf_trusted(sweep, run.number) && fs::exists(fs::symlink_status(shelf / rel, ec))) return shelf;
    if (exists && !ours)
        throw Error(fmt::format("run {}'s worktree {} is no longer this repository's (another clone's worktree, or another user's folder, is there now), "
                                "so its carried files are gone; nothing was promoted", run.number, run.worktree.string()),
                    "promote a run whose worktree is still here, or copy its files by hand");
    if (!in_worktree)
        throw Error(fmt::format("run {} has no file {} to carry ({}, nor shelved at {}); nothing was promoted", run.number, rel,
                                (run.worktree / rel).string(), (shelf / rel).string()),
                    "the sweep's --carry names files each run writes into its worktree");
    return run.worktree;
}

// Reads a file of the model's worktree without following a link; nullopt when there is none.
std::optional<std::pair<std::string, mode_t>> read_existing(const fs::path& file) {
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw Error(fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(fmt::format("{} is not a regular file; promote does not replace it", file.string()));
    std::string content;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return std::make_pair(content, static_cast<mode_t>(st.st_mode & 0777));
}

// Refuses a path of the model's worktree that a link (or a file standing where a folder must be) is in.
void check_target_path(const fs::path& worktree, const std::string& rel) {
    std::error_code ec;
    fs::path at = worktree;
    const fs::path relative(rel);
    std::size_t i = 0;
    const std::size_t parts = static_cast<std::size_t>(std::distance(relative.begin(), relative.end()));
    for (const auto& part : relative) {
        at /= part;
        ++i;
        const auto status = fs::symlink_status(at, ec);
        if (ec || !fs::exists(status)) return;
        if (fs::is_symlink(status))
            throw Error(fmt::format("{} in the model's worktree is a symbolic link; promote never writes through one, "
                                    "so nothing was promoted", at.string()),
                        "replace the link with a file or folder (and commit that) first");
        if (i < parts && !fs::is_directory(status))
            throw Error(fmt::format("{} in the model's worktree is not a folder, so {} cannot be written; nothing was promoted",
                                    at.string(), rel));
    }
}

// Compares file contents as git stores them at a path of the model's worktree, so that a clean
// filter (Git LFS) or end-of-line conversion never makes the same file look changed.
class StoredComparison {
public:
    StoredComparison(const git::Repository& repo, fs::path worktree) : repo_(repo), worktree_(std::move(worktree)) {}

    // Whether worktree bytes a and b are stored as the same blob at path.
    bool same_files(const std::string& path, const std::string& a, const std::string& b) const {
        return a == b || stored(path, a) == stored(path, b);
    }
    // Whether worktree bytes are stored as that blob (the branch's content) at path.
    bool file_is_blob(const std::string& path, const std::string& bytes, const std::string& blob) const {
        return bytes == blob || stored(path, bytes) == hash({"hash-object", "--no-filters", "--stdin"}, blob);
    }

private:
    std::string stored(const std::string& path, const std::string& bytes) const {
        return hash({"hash-object", "--path=" + path, "--stdin"}, bytes);
    }
    std::string hash(const std::vector<std::string>& args, const std::string& bytes) const {
        proc::RunOptions options;
        options.input = bytes;
        return trim_end(git::run_git_checked(repo_, args, "hashing a promoted file as git stores it", options, worktree_).out,
                        " \n\r\t");
    }
    const git::Repository& repo_;
    fs::path worktree_;
};

// The files to write, read and checked: nothing in the model's worktree is touched yet.
std::vector<PlannedFile> plan_files(const git::Repository& repo, const Sweep& sweep, const RunSpec& run,
                                    const fs::path& model_worktree, const std::string& head) {
    std::vector<PlannedFile> files;
    PlannedFile params;
    params.path = params_file_name;
    params.content = repo.read_file_at(run.commit, params_file_name).value_or(params_json(run.params));
    files.push_back(std::move(params));
    for (const auto& carried : sweep.carry) {
        if (auto problem = carry_path_problem(carried))
            throw Error(fmt::format("the sweep's --carry {}: the path {}; nothing was promoted", quote_for_message(carried), *problem));
        PlannedFile file;
        file.path = carried;
        std::tie(file.content, file.mode) = read_carried(carried_source(sweep, run, carried), carried, run.number);
        files.push_back(std::move(file));
    }
    const StoredComparison git_sees(repo, model_worktree);
    for (auto& file : files) {
        check_target_path(model_worktree, file.path);
        file.head = repo.read_file_at(head, file.path);
        file.head_is_content = file.head && git_sees.file_is_blob(file.path, file.content, *file.head);
        if (auto existing = read_existing(model_worktree / file.path)) {
            file.existed = true;
            std::tie(file.before, file.before_mode) = *existing;
            if (file.path == params_file_name) file.mode = file.before_mode;
            file.before_is_content = git_sees.same_files(file.path, file.before, file.content);
            file.before_is_head = file.head && git_sees.file_is_blob(file.path, file.before, *file.head);
        }
    }
    return files;
}

// Refuses paths whose uncommitted state in the model's worktree promote would overwrite. A path
// already holding exactly the run's content (left by an interrupted promote) is no change of the user's.
void check_uncommitted(const fs::path& model_worktree, const std::vector<PlannedFile>& files) {
    const auto worktree_repo = git::Repository::open(model_worktree);
    std::set<std::string> staged;
    for (const auto& change : worktree_repo.staged_changes()) staged.insert(change.path);
    for (const auto& file : files) {
        std::string why;
        if (file.existed && !file.before_is_content && !file.before_is_head)
            why = "has uncommitted changes";
        else if (!file.existed && file.head)
            why = "is deleted in the worktree (uncommitted)";
        else if (staged.count(file.path) && !(file.existed && file.before_is_content))
            why = "has staged changes";
        if (!why.empty())
            throw Error(fmt::format("{} in the model's worktree {} {}; nothing was promoted", file.path,
                                    model_worktree.string(), why),
                        fmt::format("commit or stash them first, e.g. `git -C {} stash push -- {}`",
                                    hint_word(model_worktree.string()),
                                    hint_word(file.path)));
    }
}

// Puts every file back as it was before write_files (and unstages them); returns what could not be.
std::vector<std::string> restore_files(const git::Repository& repo, const fs::path& model_worktree,
                                       const std::vector<PlannedFile>& files) {
    std::vector<std::string> problems;
    std::vector<std::string> args{"--literal-pathspecs", "reset", "-q", "--"};
    for (const auto& file : files) args.push_back(file.path);
    const auto reset = git::run_git(repo, args, {}, model_worktree);
    if (!reset.ok()) problems.push_back("git reset of the promoted paths " + reset.describe() + ": " + trim_end(reset.err, " \n\r\t"));
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
        const fs::path target = model_worktree / it->path;
        try {
            if (it->existed) {
                write_file_atomically(target, it->before, FileMode{it->before_mode, false, false});
            } else {
                std::error_code ec;
                if (fs::is_regular_file(fs::symlink_status(target, ec))) fs::remove(target, ec);
                for (auto dir = it->made_dirs.rbegin(); dir != it->made_dirs.rend(); ++dir) fs::remove(*dir, ec);  // empty ones only
            }
        } catch (const Error& e) {
            problems.push_back(e.what());
        }
    }
    return problems;
}

// Writes the run's files into the model's worktree (each atomically, no link followed).
void write_files(const fs::path& model_worktree, std::vector<PlannedFile>& files) {
    for (auto& file : files) {
        fs::path dir = model_worktree;
        const fs::path parent = fs::path(file.path).parent_path();
        for (const auto& part : parent) {
            dir /= part;
            std::error_code ec;
            if (fs::create_directory(dir, ec)) file.made_dirs.push_back(dir);
            if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
        }
        check_target_path(model_worktree, file.path);  // nothing was planted while we looked away
        if (!file.existed || file.before != file.content || file.before_mode != file.mode)
            write_file_atomically(model_worktree / file.path, file.content, FileMode{file.mode, true, false});
        else
            remove_killed_writers_files(model_worktree / file.path);
    }
}

std::string commit_message(const std::string& subject, const Sweep& sweep, const RunSpec& run,
                           const std::vector<snapshots::Metric>& metrics, const std::vector<PlannedFile>& files) {
    std::vector<std::string> metric_texts, paths;
    for (const auto& m : metrics) metric_texts.push_back(m.name + "=" + m.text);
    for (const auto& f : files) paths.push_back(f.path);
    return fmt::format("{}\n\nSweep {} of model {}, run {}: branch {} at {}.\nParameters: {}\nMetrics: {}\nFiles: {}\n",
                       subject, sweep.id, sweep.model, run.number, run.branch, run.commit.substr(0, 12),
                       describe(run.params).empty() ? "(none)" : describe(run.params),
                       metric_texts.empty() ? "(none recorded)" : join(metric_texts, ", "), join(paths, ", "));
}

// Writes, stages and commits the files (only those paths); on any failure puts them back and throws.
std::string commit_files(const git::Repository& repo, const fs::path& model_worktree, const std::string& branch,
                         const std::string& head, std::vector<PlannedFile>& files, const std::string& message) {
    const DeferSignals defer;  // Ctrl-C waits until the files are committed or put back
    auto undo = [&](const std::string& what, const std::string& hint) {
        std::string text = what + "; the files were put back as they were";
        const auto problems = restore_files(repo, model_worktree, files);
        if (!problems.empty()) {
            text = what + "; putting the files back failed too (they are unchanged in the branch, see `git status`):";
            for (const auto& p : problems) text += "\n  " + p;
        }
        return Error(text, hint);
    };
    try {
        write_files(model_worktree, files);
    } catch (const Error& e) {
        throw undo(e.what(), e.hint());
    }
    std::vector<std::string> paths;
    for (const auto& file : files) paths.push_back(file.path);
    std::vector<std::string> add{"--literal-pathspecs", "add", "-f", "--"};
    add.insert(add.end(), paths.begin(), paths.end());
    proc::RunOptions options;
    options.tee_stderr = true;  // hooks speak to the user
    options.timeout = std::nullopt;  // a pre-commit hook may hash large files or run a team's checks for long
    const auto added = git::run_git(repo, add, options, model_worktree);
    if (!added.ok() || DeferSignals::pending()) {
        auto error = undo(fmt::format("git add in {} {}: {}", model_worktree.string(), added.describe(), trim_end(added.err, " \n\r\t")), "");
        DeferSignals::raise_pending();
        throw error;
    }
    std::vector<std::string> commit{"--literal-pathspecs", "commit", "-q", "--only", "-m", message, "--"};
    commit.insert(commit.end(), paths.begin(), paths.end());
    const auto committed = git::run_git(repo, commit, options, model_worktree);
    const auto now = repo.branch_target(branch);
    if (!committed.ok() || !now || *now == head) {
        auto error = undo(fmt::format("git commit in {} {}: {}", model_worktree.string(), committed.describe(), trim_end(committed.err, " \n\r\t")),
                          "a hook may have refused it: its message is above");
        DeferSignals::raise_pending();
        throw error;
    }
    return *now;
}

// The line of a promotion's snapshot message that names the run's own commit.
std::string promoted_from_line(const RunSpec& run) {
    return fmt::format("From {} at {}.", run.branch, run.commit.substr(0, 12));
}

// A snapshot of the model that already records this very run, if any: its subject names the
// sweep and run, and its From line the run's commit. Sweep numbers are each clone's own, so a
// teammate's promotion of their "sweep 1 run 1" (fetched with the tags) is not this run's.
std::optional<std::string> promoted_snapshot(const git::Repository& repo, const std::string& model,
                                             const std::string& sweep_id, const RunSpec& run) {
    const std::string subject = fmt::format("Promote sweep {} run {}", sweep_id, run.number);
    const std::string from = promoted_from_line(run);
    for (const auto& snapshot : snapshots::list_snapshots(repo, model).snapshots) {
        const std::string& message = snapshot.record.message;
        if (message.compare(0, subject.size(), subject) == 0 &&
            (message.size() == subject.size() || message[subject.size()] == ' ' || message[subject.size()] == '\n') &&
            message.find(from) != std::string::npos)
            return snapshot.tag;
    }
    return std::nullopt;
}

// Records the promoted run beside the sweep's record, so that `sweep clean --branches` archives
// this run (not the report's best, which --run may have passed over).
void record_promotion(const Sweep& sweep, int run, const std::string& tag) {
    const nlohmann::json record{{"run", run}, {"tag", tag}};
    write_file_atomically(sweep_dir(sweep.common_dir, sweep.id) / promoted_record_name, record.dump(2) + "\n");
}

}  // namespace

PromoteOutcome promote(const git::Repository& repo, const PromoteRequest& request) {
    const Sweep sweep = load(repo.common_dir(), request.sweep_id);
    refuse_others_sweep(sweep, "promote");  // it commits in their model's worktree
    // One promotion at a time in a repository: two would write into the same worktree.
    const FileLock lock(sweeps_root(sweep.common_dir) / "promote.lock");
    const Report report = build_report(view_sweep(sweep), request.metric, request.minimize, request.maximize);
    const RunResult& chosen = choose_promoted_run(report, request.run);
    const RunSpec& run = chosen.run.spec;

    PromoteOutcome outcome;
    outcome.sweep_id = sweep.id;
    outcome.model = sweep.model;
    outcome.model_branch = sweep.model_branch;
    outcome.run = run.number;
    outcome.metric = report.metric;
    // Decided before anything is committed: a snapshot the limit would refuse is never tried.
    auto recorded = snapshot_metrics(chosen.metrics, report.metric);
    outcome.metrics = std::move(recorded.metrics);
    outcome.metrics_left_out = recorded.left_out;
    const auto checkout = model::worktree_of(repo, sweep.model_branch);
    if (!checkout || checkout->missing)
        throw Error(fmt::format("model {} has no worktree to promote run {} into ({} is not checked out{})", sweep.model,
                                run.number, sweep.model_branch, checkout ? ": its folder is gone" : ""),
                    checkout ? "`git worktree remove " + hint_word(checkout->path.string()) +
                                   "` forgets it; then `git model start " +
                                   sweep.model + "` checks it out again"
                             : "check it out with `git model start " + sweep.model + "`");
    model::require_trusted_checkout(repo, sweep.model, *checkout);
    if (checkout->operation)  // its HEAD is detached: a commit there would land on the operation's, not the branch
        throw Error(fmt::format("{} is in progress in the model's worktree {}, which holds {} until it ends; nothing was "
                                "promoted",
                                checkout->operation->what, checkout->path.string(), sweep.model_branch),
                    fmt::format("end it there first ({}), then promote again", checkout->operation->ending));
    outcome.model_worktree = checkout->path;
    const auto head = repo.branch_target(sweep.model_branch);
    if (!head) throw Error(fmt::format("the model's branch {} is gone", sweep.model_branch));

    auto files = plan_files(repo, sweep, run, checkout->path, *head);
    for (const auto& file : files) outcome.paths.push_back(file.path);
    const bool branch_holds_them =
        std::all_of(files.begin(), files.end(), [](const PlannedFile& f) { return f.head_is_content; });
    if (branch_holds_them) {
        outcome.already = promoted_snapshot(repo, sweep.model, sweep.id, run);
        if (outcome.already) {
            record_promotion(sweep, run.number, *outcome.already);
            // Killed between tagging and pushing, the first try left the tag here only.
            outcome.already_pushed = snapshots::push_existing_snapshot(repo, sweep.model, *outcome.already, *head, request.push);
            return outcome;
        }
    }
    const std::string subject = promote_subject(sweep.id, run.number, outcome.metrics, report.metric, run.params);
    std::string commit = *head;
    if (!branch_holds_them) {
        check_uncommitted(checkout->path, files);
        commit = commit_files(repo, checkout->path, sweep.model_branch, *head, files,
                              commit_message(subject, sweep, run, outcome.metrics, files));
        outcome.commit = commit;
    }
    snapshots::TagRequest tag;
    tag.model = sweep.model;
    tag.metrics = outcome.metrics;
    tag.message = fmt::format("{}\n\n{}", subject, promoted_from_line(run));
    tag.commit = commit;
    try {
        outcome.tagged = snapshots::tag_and_push(repo, tag, request.push);
    } catch (const Error& e) {
        if (!outcome.commit) throw;
        throw Error(fmt::format("committed run {}'s files onto {} as {}, but the snapshot was not made: {}", run.number,
                                sweep.model_branch, commit.substr(0, 10), e.what()),
                    fmt::format("the commit stays; once that is fixed, `git model sweep promote {} --run {}` snapshots it",
                                sweep.id, run.number),
                    e.code());
    }
    record_promotion(sweep, run.number, outcome.tagged ? outcome.tagged->snapshot.tag : std::string());
    return outcome;
}

}  // namespace gm::sweep
