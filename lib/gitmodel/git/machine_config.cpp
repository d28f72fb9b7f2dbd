#include "gitmodel/git/machine_config.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/git/config.hpp"
#include "gitmodel/git/handle.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <sys/stat.h>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

const char* env_or_null(const char* name) {
    const char* value = std::getenv(name);
    return value && *value ? value : nullptr;
}

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
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, raw) == 0) {
        const std::string name = entry->name;
        if (name.compare(0, prefix.size(), prefix) == 0) into[name] = entry->value ? entry->value : "";
    }
    git_config_iterator_free(raw);
}

}  // namespace

MachineConfig read_machine_config(std::string_view prefix) {
    MachineConfig out;
    fs::path file = "/etc/gitconfig";
    if (const char* named = env_or_null("GIT_CONFIG_SYSTEM")) {
        const std::string why = untrusted_file(named);
        if (why.empty()) file = named;
        else out.note = fmt::format("GIT_CONFIG_SYSTEM names {}, which does not set this machine's limits: {}", named, why);
    }
    std::error_code ec;
    if (!fs::exists(file, ec) || !untrusted_file(file).empty()) return out;
    out.file = file;
    git_config* raw = nullptr;
    check(git_config_open_ondisk(&raw, file.c_str()), fmt::format("cannot read {}", file.string()).c_str());
    ConfigHandle config(raw);
    collect(config.get(), prefix, out.values);
    return out;
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
