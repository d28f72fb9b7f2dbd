#include "gitmodel/hooks/install.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace gm::hooks {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

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
    const fs::path temp = target.string() + ".git-model-new";
    std::error_code ec;
    fs::copy_file(source, temp, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error(fmt::format("cannot write {}: {}", temp.string(), ec.message()));
    fs::permissions(temp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec, ec);
    fs::rename(temp, target, ec);
    if (ec) throw Error(fmt::format("cannot install {}: {}", target.string(), ec.message()));
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
                const int available = shim_version(read_text(sources / name));
                status.state = status.version >= available && text == read_text(sources / name)
                                   ? HookState::current
                                   : HookState::outdated;
            }
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
    // Refuse before touching anything, naming every foreign hook at once.
    if (policy == ForeignPolicy::refuse) {
        std::string foreign;
        for (const auto& status : statuses) {
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
    std::error_code ec;
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
                done.push_back(fmt::format("{}: upgraded from shim version {}", status.name, status.version));
                continue;
            case HookState::missing:
                write_shim(source, status.path);
                done.push_back(fmt::format("{}: installed {}", status.name, status.path.string()));
                continue;
            case HookState::foreign:
                break;
        }
        if (status.is_git_lfs || policy == ForeignPolicy::chain) {
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

std::vector<std::string> uninstall_hooks(const fs::path& hooks_dir) {
    std::vector<std::string> done;
    std::error_code ec;
    for (const auto& status : hook_status(hooks_dir)) {
        if (status.state == HookState::foreign) {
            done.push_back(fmt::format("{}: not ours, left alone", status.name));
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
