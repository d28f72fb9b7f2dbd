#include "gitmodel/git/machine_config.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/git/config.hpp"
#include "gitmodel/git/handle.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

// Why a file cannot carry the machine's settings, or "" when it can.
std::string untrusted_file(const fs::path& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) return "it cannot be read";
    if (!S_ISREG(info.st_mode)) return "it is not a plain file";
    if (info.st_uid != 0) return fmt::format("it belongs to {}, not to root", user_name_of(info.st_uid));
    if (info.st_mode & (S_IWGRP | S_IWOTH)) return "users other than root can change it";
    return {};
}

void collect(git_config* config, std::string_view prefix, std::map<std::string, std::string>& into) {
    git_config_iterator* raw = nullptr;
    check(git_config_iterator_new(&raw, config), "cannot read the git configuration");
    const ConfigIteratorHandle iterator(raw);  // freed even when a copy below throws
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, iterator.get()) == 0) {
        const std::string name = entry->name;
        if (name.compare(0, prefix.size(), prefix) == 0) into[name] = entry->value ? entry->value : "";
    }
}

}  // namespace

MachineConfig read_machine_config(std::string_view prefix) {
    MachineConfig out;
    // A fixed path: no variable a user sets (GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM) changes it.
    const fs::path file = "/etc/gitconfig";
    std::error_code ec;
    if (!fs::exists(file, ec) || !untrusted_file(file).empty()) return out;
    out.file = file;
    git_config* raw = nullptr;
    check(git_config_open_ondisk(&raw, file.c_str()), fmt::format("cannot read {}", file.string()).c_str());
    ConfigHandle config(raw);
    collect(config.get(), prefix, out.values);
    return out;
}

std::map<std::string, std::string> parse_config_text(const std::string& text, const fs::path& shown,
                                                     std::string_view prefix) {
    // libgit2 parses only files: an anonymous one in memory holds the text already read and checked.
    UniqueFd memory(static_cast<int>(::syscall(SYS_memfd_create, "git-model-config", 1U /* MFD_CLOEXEC */)));
    if (!memory) throw Error(fmt::format("cannot read {}: {}", shown.string(), std::strerror(errno)));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(memory.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw Error(fmt::format("cannot read {}: {}", shown.string(), std::strerror(errno)));
        done += static_cast<std::size_t>(n);
    }
    const std::string path = fmt::format("/proc/self/fd/{}", memory.get());
    git_config* raw = nullptr;
    if (git_config_open_ondisk(&raw, path.c_str()) != 0) {
        const git_error* error = git_error_last();
        std::string why = error && error->message ? error->message : "not a git config file";
        if (const auto at = why.find(path); at != std::string::npos) why.replace(at, path.size(), shown.string());
        throw Error(fmt::format("cannot read {}: {}", shown.string(), why),
                    fmt::format("fix it as root (git config -f {} --list shows what git reads)", shown.string()));
    }
    ConfigHandle config(raw);
    std::map<std::string, std::string> values;
    collect(config.get(), prefix, values);
    return values;
}

std::map<std::string, std::string> config_outside_repository(std::string_view prefix) {
    git_config* raw = nullptr;
    check(git_config_open_default(&raw), "cannot read the git configuration");
    ConfigHandle config(raw);
    const char* files[] = {env_or_null("GIT_CONFIG_SYSTEM"), env_or_null("GIT_CONFIG_GLOBAL")};
    const git_config_level_t levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_GLOBAL};
    for (int i = 0; i < 2; ++i) {
        std::error_code ec;
        if (!files[i] || (i == 0 && env_or_null("GIT_CONFIG_NOSYSTEM")) || !fs::exists(files[i], ec)) continue;
        check(git_config_add_file_ondisk(config.get(), files[i], levels[i], nullptr, 1),
              "cannot read the configuration file named by the environment");
    }
    std::map<std::string, std::string> values;
    collect(config.get(), prefix, values);
    // `git -c key=value model ...` arrives in the environment, as in Config.
    if (const char* parameters = std::getenv("GIT_CONFIG_PARAMETERS"))
        for (const auto& [key, value] : Config::parse_parameters(parameters))
            if (key.compare(0, prefix.size(), prefix) == 0) values[key] = value;
    if (const char* count = std::getenv("GIT_CONFIG_COUNT")) {
        const long n = std::strtol(count, nullptr, 10);
        for (long k = 0; k < n && k < 10000; ++k) {
            const char* key = std::getenv(fmt::format("GIT_CONFIG_KEY_{}", k).c_str());
            const char* value = std::getenv(fmt::format("GIT_CONFIG_VALUE_{}", k).c_str());
            if (!key) continue;
            const std::string normalized = Config::normalize_key(key);
            if (normalized.compare(0, prefix.size(), prefix) == 0) values[normalized] = value ? value : "";
        }
    }
    return values;
}

}  // namespace gm::git
