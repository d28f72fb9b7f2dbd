#include "gitmodel/hooks/install.hpp"

#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/hooks/attributes.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace gm::hooks {

namespace fs = std::filesystem;

namespace {

// The shim version a file declares ("# git-model-shim: N"), 0 if it is not ours.
int shim_version(const std::string& text) {
    static const std::regex marker("^# git-model-shim: ([0-9]+)$", std::regex::multiline);
    std::smatch match;
    if (!std::regex_search(text, match, marker)) return 0;
    return std::atoi(match[1].str().c_str());
}

bool looks_like_git_lfs(const std::string& text) {
    return text.find("git lfs pre-push") != std::string::npos || text.find("git-lfs") != std::string::npos;
}

fs::path free_name(const fs::path& base) {
    if (!fs::exists(fs::symlink_status(base))) return base;
    for (int i = 1;; ++i) {
        fs::path candidate = base.string() + "." + std::to_string(i);
        if (!fs::exists(fs::symlink_status(candidate))) return candidate;
    }
}

// Writes the shim through a temporary file and a rename, so that a hook is never half written.
void write_shim(const fs::path& source, const fs::path& target) {
    std::ifstream in(source, std::ios::binary);
    std::ostringstream shim;
    shim << in.rdbuf();
    if (!in) throw Error(fmt::format("cannot read {}", source.string()));
    write_file_atomically(target, shim.str(), FileMode{0755, false, false});
}

std::string first_lines(const std::string& text, int count) {
    std::istringstream in(text);
    std::string line, out;
    for (int i = 0; i < count && std::getline(in, line); ++i) out += "      | " + line + "\n";
    return out;
}

}  // namespace

const std::vector<std::string>& managed_hooks() {
    static const std::vector<std::string> names{"pre-commit", "pre-push"};
    return names;
}

const char* to_string(HookState state) {
    switch (state) {
        case HookState::missing: return "missing";
        case HookState::current: return "installed";
        case HookState::outdated: return "outdated";
        case HookState::edited: return "edited";
        case HookState::foreign: return "foreign";
    }
    return "missing";
}

fs::path shim_source_dir() {
    if (const char* dir = std::getenv("GIT_MODEL_HOOKS_DIR"); dir && *dir) return dir;
    return (proc::current_executable().parent_path() / ".." / "share" / "git-model" / "hooks").lexically_normal();
}

std::vector<HookStatus> hook_status(const fs::path& hooks_dir) {
    const fs::path sources = shim_source_dir();
    std::vector<HookStatus> out;
    for (const auto& name : managed_hooks()) {
        HookStatus status;
        status.name = name;
        status.path = hooks_dir / name;
        std::error_code ec;
        if (fs::exists(fs::symlink_status(status.path, ec))) {
            const std::string text = read_text(status.path);
            status.version = shim_version(text);
            if (status.version == 0) {
                status.state = HookState::foreign;
                status.is_git_lfs = looks_like_git_lfs(text);
            } else {
                // A shim of an older version is the suite's to upgrade; one of this version whose text
                // differs, or a link (whose target is somebody's), was changed by its user: kept.
                const std::string shipped = read_text(sources / name);
                const int available = shim_version(shipped);
                const bool link = fs::is_symlink(status.path, ec);
                status.state = text == shipped                       ? HookState::current
                               : status.version < available && !link ? HookState::outdated
                                                                     : HookState::edited;
            }
            // The shim's own text without its x bit is rewritten by install (0755); any other hook is reported.
            status.executable = ::access(status.path.c_str(), X_OK) == 0;
            if (status.state == HookState::current && !status.executable) status.state = HookState::outdated;
        }
        const fs::path chained = status.path.string() + chained_suffix;
        if (fs::exists(fs::symlink_status(chained, ec))) status.chained = chained;
        const fs::path backup = status.path.string() + backup_suffix;
        if (fs::exists(fs::symlink_status(backup, ec))) status.backup = backup;
        out.push_back(std::move(status));
    }
    return out;
}

std::vector<std::string> install_hooks(const fs::path& hooks_dir, ForeignPolicy policy) {
    const fs::path sources = shim_source_dir();
    for (const auto& name : managed_hooks()) {
        if (!fs::exists(sources / name)) {
            throw Error(fmt::format("the hook shims are not installed ({} is missing)", (sources / name).string()),
                        "reinstall git-model, or set GIT_MODEL_HOOKS_DIR to its hooks/ folder");
        }
    }
    const auto statuses = hook_status(hooks_dir);
    std::error_code ec;
    // Refuse before touching anything, naming every foreign (or edited) hook at once.
    if (policy == ForeignPolicy::chain) {
        for (const auto& status : statuses)
            if (status.state == HookState::edited)
                throw Error(fmt::format("{} is git-model's hook, changed since it was installed: chained, it would run "
                                        "git-model's checks twice; nothing was changed",
                                        status.path.string()),
                            fmt::format("--force keeps it as {}{} and installs the shim; then move your own lines into "
                                        "{}{}, which the shim runs after its checks",
                                        status.path.string(), backup_suffix, status.path.string(), chained_suffix));
    }
    if (policy == ForeignPolicy::refuse) {
        std::string foreign;
        for (const auto& status : statuses) {
            if (status.state == HookState::edited) {
                foreign += fmt::format("  {} (git-model's, changed since it was installed{}):\n{}", status.path.string(),
                                       fs::is_symlink(status.path, ec) ? ", a link" : "", first_lines(read_text(status.path), 6));
                continue;
            }
            if (status.state != HookState::foreign || status.is_git_lfs) continue;
            foreign += fmt::format("  {}:\n{}", status.path.string(), first_lines(read_text(status.path), 6));
        }
        if (!foreign.empty()) {
            throw Error(fmt::format("hooks that git-model did not write are in the way; nothing was changed:\n{}",
                                    foreign),
                        "choose: --chain (keep yours and run it after ours), --force (replace it, keeping a "
                        "backup), or --manual (print the lines to add to it yourself)");
        }
    }
    fs::create_directories(hooks_dir, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", hooks_dir.string(), ec.message()));
    std::vector<std::string> done;
    for (const auto& status : statuses) {
        const fs::path source = sources / status.name;
        switch (status.state) {
            case HookState::current:
                done.push_back(fmt::format("{}: already installed", status.name));
                continue;
            case HookState::outdated:
                write_shim(source, status.path);
                done.push_back(status.executable
                                   ? fmt::format("{}: upgraded from shim version {}", status.name, status.version)
                                   : fmt::format("{}: rewritten, executable again (git skipped it)", status.name));
                continue;
            case HookState::missing:
                write_shim(source, status.path);
                done.push_back(fmt::format("{}: installed {}", status.name, status.path.string()));
                continue;
            case HookState::edited:
            case HookState::foreign:
                break;
        }
        if ((status.is_git_lfs && status.state == HookState::foreign) || policy == ForeignPolicy::chain) {
            if (status.chained) {
                throw Error(fmt::format("{} is foreign and {} exists already; not touching either",
                                        status.path.string(), status.chained->string()),
                            "merge them by hand, or remove one");
            }
            const fs::path chained = status.path.string() + chained_suffix;
            fs::rename(status.path, chained, ec);
            if (ec) throw Error(fmt::format("cannot move {}: {}", status.path.string(), ec.message()));
            write_shim(source, status.path);
            done.push_back(fmt::format("{}: installed; your {}hook now runs after ours ({})", status.name,
                                       status.is_git_lfs ? "Git LFS " : "", chained.string()));
        } else if (policy == ForeignPolicy::force) {
            const fs::path backup = free_name(status.path.string() + backup_suffix);
            fs::rename(status.path, backup, ec);
            if (ec) throw Error(fmt::format("cannot move {}: {}", status.path.string(), ec.message()));
            write_shim(source, status.path);
            done.push_back(fmt::format("{}: installed; the previous hook was kept as {}", status.name, backup.string()));
        }
    }
    return done;
}

std::string manual_instructions(const fs::path& hooks_dir) {
    std::string text = "Add these lines near the top of each hook (the hook reads its input once, so save it):\n";
    for (const auto& name : managed_hooks()) {
        text += fmt::format("\n  {}:\n", (hooks_dir / name).string());
        if (name == "pre-push") {
            text += "    input=$(cat)\n"
                    "    printf '%s\\n' \"$input\" | git-model hook pre-push \"$@\" || exit $?\n"
                    "    # ... and give \"$input\" to the rest of your hook instead of reading stdin\n";
        } else {
            text += fmt::format("    git-model hook {} \"$@\" || exit $?\n", name);
        }
    }
    return text;
}

namespace {

// Whether a hook's text runs Git LFS's hook of that name.
bool runs_lfs(const std::string& text, const std::string& name) {
    return text.find("git lfs " + name) != std::string::npos || text.find("git-lfs " + name) != std::string::npos;
}

bool sets_lfs_filter(const fs::path& attributes_file) {
    std::error_code ec;
    if (!fs::is_regular_file(attributes_file, ec)) return false;
    const std::string text = read_text(attributes_file);
    for (const auto& rule : parse_attribute_file(text, "", parse_filter_macros(text)).rules)
        if (rule.filter == std::optional<std::string>("lfs")) return true;
    return false;
}

// Puts one of LFS's hooks (written by git-lfs into `from`) in place, never over somebody's own hook.
void place_lfs_hook(const fs::path& from, const fs::path& target, const std::string& name,
                    std::vector<std::string>& done) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(target, ec))) {
        write_shim(from, target);
        done.push_back(fmt::format("{}: installed Git LFS's hook ({})", name, target.string()));
    } else if (!runs_lfs(read_text(target), name)) {
        done.push_back(fmt::format("{}: {} is somebody else's and does not run Git LFS: add `git lfs {} \"$@\"` to it",
                                   name, target.string(), name));
    }
}

// Has git-lfs write its current hooks into a scratch folder, then places them: post-* beside
// ours, pre-push as the hook our pre-push chains. `git lfs install` itself refuses while our
// pre-push is in place, so this is how a repository gets both.
void install_lfs_hooks(const fs::path& hooks_dir, std::vector<std::string>& done) {
    std::string scratch_template = (hooks_dir / ".git-model-lfs-XXXXXX").string();
    if (!::mkdtemp(scratch_template.data()))
        throw Error(fmt::format("cannot make a scratch folder in {}: {}", hooks_dir.string(), std::strerror(errno)));
    const fs::path scratch = scratch_template;
    struct Cleanup {
        fs::path path;
        ~Cleanup() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    } cleanup{scratch};
    proc::run_checked({"git", "-c", "core.hooksPath=" + scratch.string(), "lfs", "update"});
    for (const auto& name : lfs_hook_names()) {
        if (!fs::exists(scratch / name)) continue;  // a git-lfs that no longer wants this hook
        if (name != "pre-push") {
            place_lfs_hook(scratch / name, hooks_dir / name, name, done);
            continue;
        }
        const fs::path ours = hooks_dir / name;
        if (shim_version(read_text(ours)) == 0) continue;  // not ours: install_hooks reported it
        const fs::path chained = ours.string() + chained_suffix;
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(chained, ec))) {
            write_shim(scratch / name, chained);
            done.push_back(fmt::format("pre-push: Git LFS's hook now runs after ours ({})", chained.string()));
        } else if (!runs_lfs(read_text(chained), name)) {
            done.push_back(fmt::format("pre-push: the hook ours runs after it ({}) does not run Git LFS: add "
                                       "`git lfs pre-push \"$@\"` to it",
                                       chained.string()));
        }
    }
}

}  // namespace

const std::vector<std::string>& lfs_hook_names() {
    static const std::vector<std::string> names{"pre-push", "post-checkout", "post-commit", "post-merge"};
    return names;
}

HooksContext hooks_context(const git::RepoReader& repo) {
    HooksContext context;
    context.dir = repo.hooks_dir();
    context.common_dir = repo.common_dir();
    context.main_worktree = repo.main_worktree();
    const auto path = repo.config().get_string("core.hooksPath");
    if (path && !path->empty() && (*path)[0] != '/' && *path != "~" && path->rfind("~/", 0) != 0) {
        context.relative_hooks_path = *path;
        fs::path pinned = (repo.main_worktree() / *path).lexically_normal();
        if (pinned.filename().empty()) pinned = pinned.parent_path();
        context.pinned_dir = pinned;
    } else if (path && !path->empty()) {
        // Git says which file holds the value in force, and its scope (an included file: the
        // includer's scope); the caller's git -c is "command".
        proc::RunOptions options;
        options.cwd = repo.workdir().value_or(repo.common_dir());
        options.env = {{"LC_ALL", "C"}};
        const auto listed = git::run_git({"config", "--show-scope", "--show-origin", "--get", "core.hooksPath"}, options);
        const auto fields = split_records(listed.out, '\t');
        const std::string scope = fields.empty() ? std::string() : fields[0];
        if (!listed.ok()) {  // git cannot say where it is set: taken as shared, so nothing lands there
            context.shared_hooks_origin = fmt::format("a configuration git cannot name ({})", trim_end(listed.err, "\n"));
        } else if (scope != "local" && scope != "worktree") {
            std::string file = fields.size() > 1 ? fields[1] : std::string();
            if (file.rfind("file:", 0) == 0) file = file.substr(5);
            context.shared_hooks_origin = scope == "command" ? std::string("the command line's configuration (git -c)")
                                                             : fmt::format("the {} configuration ({})", scope, file);
        }
    }
    if (auto workdir = repo.workdir()) context.uses_lfs = sets_lfs_filter(*workdir / ".gitattributes");
    context.uses_lfs = context.uses_lfs || sets_lfs_filter(repo.common_dir() / "info" / "attributes");
    return context;
}

LfsHooksState lfs_hooks_state(const HooksContext& context) {
    LfsHooksState state;
    state.used = context.uses_lfs;
    state.lfs_installed = proc::find_program("git-lfs").has_value();
    if (!state.used) return state;
    for (const auto& name : lfs_hook_names()) {
        const fs::path path = context.dir / name;
        std::error_code ec;
        const std::string text = fs::exists(path, ec) ? read_text(path) : std::string();
        bool runs = runs_lfs(text, name);
        if (name == "pre-push" && shim_version(text) > 0) {
            const fs::path chained = path.string() + chained_suffix;
            runs = fs::exists(chained, ec) && runs_lfs(read_text(chained), name);
        }
        if (!runs) state.missing.push_back(name);
    }
    return state;
}

std::string shared_hooks_problem(const HooksContext& context) {
    return fmt::format("core.hooksPath names {}, set in {}: git runs the hooks there in every repository that setting "
                       "reaches, and git-model's would hold all of them to this repository's rules (branch names, a "
                       "protected main, file sizes)",
                       context.dir.string(), context.shared_hooks_origin.value_or("?"));
}

std::string shared_hooks_fix(const HooksContext& context) {
    return fmt::format("give this repository a hooks folder of its own: git config --local core.hooksPath {} (the "
                       "hooks of the shared folder then no longer run here), then git model hooks install",
                       (context.common_dir / "hooks").string());
}

std::vector<std::string> hooks_problems(const HooksContext& context) {
    std::vector<std::string> problems;
    if (context.relative_hooks_path) {
        problems.push_back(fmt::format(
            "core.hooksPath is relative ({}): git looks for hooks in each worktree's own {}, so the worktrees "
            "`git model start` makes run none; `git model hooks install` sets it to {}",
            quote_for_message(*context.relative_hooks_path), *context.relative_hooks_path,
            context.pinned_dir.string()));
    }
    const auto lfs = lfs_hooks_state(context);
    if (!lfs.missing.empty()) {
        problems.push_back(fmt::format(
            "Git LFS's {} hook{} {} missing: .gitattributes stores files through Git LFS, and without {} LFS objects "
            "are not uploaded at push nor fetched at checkout{}",
            join(lfs.missing, ", "), lfs.missing.size() == 1 ? "" : "s", lfs.missing.size() == 1 ? "is" : "are",
            lfs.missing.size() == 1 ? "it" : "them",
            lfs.lfs_installed ? " (`git lfs install` cannot add them beside git-model's pre-push; "
                                "`git model hooks install` does)"
                              : "; git-lfs is not installed: install it, then run `git model hooks install`"));
    }
    return problems;
}

namespace {

// The files git tracks in `dir` when it lies inside the main worktree (a committed .githooks):
// the team's hooks, which each worktree has in its own branch's version.
std::vector<std::string> tracked_hooks(const HooksContext& context, const fs::path& dir) {
    if (context.main_worktree.empty() || !is_below(dir, context.main_worktree)) return {};
    proc::RunOptions options;
    options.cwd = context.main_worktree;
    const auto listed = git::run_git(
        {"--literal-pathspecs", "ls-files", "-z", "--", dir.lexically_relative(context.main_worktree).string()}, options);
    if (!listed.ok())  // cannot tell: taken as tracked, so nothing is written there
        return {fmt::format("(git ls-files failed: {})", trim_end(listed.err, "\n"))};
    std::vector<std::string> files;
    for (const auto& file : split_records(listed.out, '\0'))
        if (!file.empty()) files.push_back(file);
    return files;
}

}  // namespace

std::vector<std::string> install_repository_hooks(const HooksContext& context, ForeignPolicy policy) {
    if (context.shared_hooks_origin)
        throw Error(shared_hooks_problem(context) + "; nothing was written", shared_hooks_fix(context));
    const fs::path dir = context.relative_hooks_path ? context.pinned_dir : context.dir;
    if (const auto tracked = tracked_hooks(context, dir); !tracked.empty())
        throw Error(fmt::format("the hooks folder {} holds hooks the repository tracks ({}): the team's committed "
                                "hooks, of which every worktree runs its own branch's copy; git-model's shims there "
                                "would change them for everyone at the next commit, so nothing was written",
                                dir.string(), join(tracked, ", ")),
                    "add git-model's checks to the committed hooks and commit them (`git model hooks install --manual` "
                    "shows what to call), or point core.hooksPath at an untracked folder");
    std::vector<std::string> done = install_hooks(dir, policy);
    if (context.relative_hooks_path) {
        proc::run_checked({"git", "config", "--local", "core.hooksPath", dir.string()});
        done.push_back(fmt::format("core.hooksPath: was {}, which git resolves in each worktree (the worktrees of "
                                   "`git model start` would run no hooks); set to {}",
                                   quote_for_message(*context.relative_hooks_path), dir.string()));
    }
    if (context.uses_lfs) {
        if (proc::find_program("git-lfs")) {
            install_lfs_hooks(dir, done);
        } else {
            done.push_back("Git LFS: .gitattributes stores files through LFS, but git-lfs is not installed, so its "
                           "hooks cannot be set up: install git-lfs, then run `git model hooks install` again "
                           "(meanwhile pre-commit refuses files LFS should have stored)");
        }
    }
    return done;
}

std::vector<std::string> uninstall_hooks(const fs::path& hooks_dir) {
    std::vector<std::string> done;
    std::error_code ec;
    for (const auto& status : hook_status(hooks_dir)) {
        if (status.state == HookState::foreign) {
            done.push_back(fmt::format("{}: not ours, left alone", status.name));
            continue;
        }
        if (status.state == HookState::edited) {
            done.push_back(fmt::format("{}: git-model's, but changed since it was installed: left alone with what it "
                                       "chains (remove it yourself: rm {})",
                                       status.name, hint_word(status.path.string())));
            continue;
        }
        if (status.state == HookState::current || status.state == HookState::outdated) {
            fs::remove(status.path, ec);
            done.push_back(fmt::format("{}: removed", status.name));
        }
        const auto restore = status.chained ? status.chained : status.backup;
        if (restore) {
            fs::rename(*restore, status.path, ec);
            if (ec) throw Error(fmt::format("cannot restore {}: {}", restore->string(), ec.message()));
            done.push_back(fmt::format("{}: restored the previous hook", status.name));
        }
        if (status.state == HookState::missing && !restore) done.push_back(fmt::format("{}: not installed", status.name));
    }
    return done;
}

}  // namespace gm::hooks
