#include "gitmodel/git/config.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/git/handle.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

#include <pwd.h>

#include <algorithm>
#include <functional>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// libgit2 1.5 reports a held config.lock as a generic error (-1), not GIT_ELOCKED: read its message.
bool is_lock_failure(const git_error* error) {
    return error && error->message &&
           std::string_view(error->message).find("failed to lock file") != std::string_view::npos;
}

// Another writer (git, or another git-model) holds .git/config.lock for the
// moment it takes to rewrite the file: wait for it with a growing pause, as
// git's core.filesRefLockTimeout does for refs, instead of failing at once.
// A lock older than the bound is a crashed writer's: the message says so.
void write_with_retry(git_repository* repo, const std::function<int(git_config*)>& write, const char* doing) {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + Config::write_lock_timeout;
    auto pause = milliseconds(1);
    for (;;) {
        git_config* all = nullptr;
        check(git_repository_config(&all, repo), "cannot open the git configuration");
        ConfigHandle all_handle(all);
        git_config* local = nullptr;
        check(git_config_open_level(&local, all, GIT_CONFIG_LEVEL_LOCAL), "cannot open the repository's config file");
        ConfigHandle local_handle(local);
        const int rc = write(local);
        const bool locked = rc == GIT_ELOCKED || (rc < 0 && is_lock_failure(git_error_last()));
        if (!locked || steady_clock::now() >= deadline) {
            if (locked) {
                const git_error* error = git_error_last();
                throw Error(fmt::format("{}: {}", doing, error && error->message ? error->message : "it is locked"),
                            fmt::format("another program has held the lock for {} s; if no git command is running, "
                                        "remove the stale config.lock in {}",
                                        duration_cast<seconds>(Config::write_lock_timeout).count(),
                                        git_repository_commondir(repo)));
            }
            check(rc, doing);
            return;
        }
        git_error_clear();
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, milliseconds(50));
    }
}

std::string without_slash(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

// Whether the configuration uses what libgit2 1.5 does not apply as git does: an includeIf
// "hasconfig:remote.*.url:" condition (libgit2 skips the file, so its values would be missed).
bool uses_what_libgit2_ignores(git_config* config) {
    git_config_iterator* raw = nullptr;
    if (git_config_iterator_new(&raw, config) != 0) {
        git_error_clear();
        return false;
    }
    const ConfigIteratorHandle iterator(raw);
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, iterator.get()) == 0)
        if (starts_with(entry->name, "includeif.hasconfig:")) return true;
    git_error_clear();
    return false;
}

// Whether git's command line (git -c, GIT_CONFIG_COUNT) includes a file: libgit2 never reads
// overrides, so it never reads what they include either.
bool includes_from_command_line(const std::vector<std::pair<std::string, std::string>>& overrides) {
    return std::any_of(overrides.begin(), overrides.end(), [](const auto& entry) {
        const std::string& key = entry.first;
        return key == "include.path" || (starts_with(key, "includeif.") && key.size() > 15 &&
                                         key.compare(key.size() - 5, 5, ".path") == 0);
    });
}

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
}

}  // namespace

void ConfigDeleter::operator()(git_config* config) const noexcept { git_config_free(config); }

std::string Config::normalize_key(std::string_view key) {
    const auto first_dot = key.find('.');
    const auto last_dot = key.rfind('.');
    if (first_dot == std::string_view::npos) return lower(key);
    return lower(key.substr(0, first_dot)) + std::string(key.substr(first_dot, last_dot - first_dot)) +
           lower(key.substr(last_dot));
}

std::vector<std::pair<std::string, std::string>> Config::parse_parameters(std::string_view text) {
    // Git writes each entry shell-quoted: 'key'='value' (since 2.31) or 'key=value',
    // entries separated by spaces, a quote inside written as '\''.
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    const auto read_quoted = [&](std::string& into) -> bool {
        if (i >= text.size() || text[i] != '\'') return false;
        ++i;
        while (i < text.size()) {
            if (text[i] == '\'') {
                ++i;
                if (text.substr(i, 3) == "\\''") {  // '\'' continues the word with a quote
                    into += '\'';
                    i += 3;
                    continue;
                }
                return true;
            }
            into += text[i++];
        }
        return false;
    };
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        if (i >= text.size()) break;
        std::string first;
        if (!read_quoted(first)) break;
        std::string key, value;
        if (i < text.size() && text[i] == '=') {
            ++i;
            key = first;
            if (!read_quoted(value)) value.clear();
        } else {
            const auto eq = first.find('=');
            key = first.substr(0, eq);
            value = eq == std::string::npos ? "true" : first.substr(eq + 1);
        }
        out.emplace_back(normalize_key(key), value);
    }
    return out;
}

namespace {

// git_repository_config_snapshot, tried again for a moment when a file does not parse: once, under
// heavy load and five concurrent `finish`es (each `git push -u` writing branch.* keys), a read
// of .git/config ended mid-line. A file that stays broken fails as before, 0.3 s later.
int config_snapshot(git_config** out, git_repository* repo) {
    int rc = git_repository_config_snapshot(out, repo);
    for (int pause_ms : {20, 40, 80, 160}) {
        const git_error* error = git_error_last();
        if (rc == 0 || !error || error->klass != GIT_ERROR_CONFIG) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        git_error_clear();
        rc = git_repository_config_snapshot(out, repo);
    }
    return rc;
}

}  // namespace

Config::Config(git_repository* repo, Layers layers) : repo_(repo), layers_(layers) {
    git_config* raw = nullptr;
    check(config_snapshot(&raw, repo), "cannot read the git configuration");
    snapshot_.reset(raw);
    if (auto parameters = env("GIT_CONFIG_PARAMETERS")) overrides_ = parse_parameters(*parameters);
    if (auto count = env("GIT_CONFIG_COUNT")) {
        const long n = std::strtol(count->c_str(), nullptr, 10);
        for (long k = 0; k < n && k < 10000; ++k) {
            auto key = env(fmt::format("GIT_CONFIG_KEY_{}", k).c_str());
            auto value = env(fmt::format("GIT_CONFIG_VALUE_{}", k).c_str());
            if (key) overrides_.emplace_back(normalize_key(*key), value.value_or(""));
        }
    }
    if (uses_what_libgit2_ignores(snapshot_.get()) || includes_from_command_line(overrides_))
        listed_by_git_ = list_with_git();
}

namespace {

// `git config <args>` run in `where` as every other git command reads configuration: `git config`
// alone reads only the file GIT_CONFIG names (which libgit2 and every other command ignore).
proc::RunResult run_git_config(const fs::path& where, std::vector<std::string> args) {
    proc::RunOptions options;
    options.cwd = where;
    options.env = {{"GIT_CONFIG", std::nullopt}};
    args.insert(args.begin(), "config");
    return run_git(std::move(args), options);
}

// An origin as `git config --show-origin` run in `where` prints it ("file:<path>", relative to
// `where`), as an absolute path; nullopt for another kind of origin.
std::optional<std::string> origin_file(const fs::path& where, const std::string& origin) {
    if (!starts_with(origin, "file:") || origin.size() == 5) return std::nullopt;
    const fs::path file(origin.substr(5));
    return (file.is_absolute() ? file : where / file).lexically_normal().string();
}

}  // namespace

std::optional<std::vector<Config::ListedEntry>> Config::list_with_git() const {
    const fs::path where = git_folder();
    const auto listed = run_git_config(where, {"-z", "--list", "--show-scope", "--show-origin"});
    if (!listed.ok()) return std::nullopt;  // git cannot read it either: libgit2's view, as before
    // "<scope>\0<origin>\0<key>\n<value>\0", or "<key>\0" for a key without a value (git's true).
    const auto records = split_records(listed.out, '\0');
    std::vector<ListedEntry> entries;
    for (std::size_t i = 0; i + 2 < records.size(); i += 3) {
        const std::string& item = records[i + 2];
        const auto newline = item.find('\n');
        ListedEntry entry{normalize_key(item.substr(0, newline)),
                          newline == std::string::npos ? "true" : item.substr(newline + 1), records[i], records[i + 1]};
        if (auto file = origin_file(where, entry.file)) entry.file = std::move(*file);
        else if (entry.scope == "command") entry.file.clear();  // "command line:", a plain git -c
        entries.push_back(std::move(entry));
    }
    return entries;
}

const TeamFile* Config::team() const {
    if (layers_ != Layers::with_team_file) return nullptr;
    if (!team_)
        team_ = std::make_shared<const TeamFile>(
            read_team_file(repo_, [this](std::string_view key) { return get_string_git(key); }));
    return team_.get();
}

std::optional<std::string> Config::get_string(std::string_view key) const {
    if (const TeamFile* team = this->team()) return layer_one(*team, key, get_string_git(key));
    return get_string_git(key);
}

std::optional<std::string> Config::get_path(std::string_view key) const {
    auto value = get_string(key);
    if (!value || value->empty() || (*value)[0] != '~') return value;
    const auto slash = value->find('/');
    const std::string user = value->substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    const std::string rest = slash == std::string::npos ? std::string() : value->substr(slash);
    std::string home;
    if (user.empty()) {
        const char* env = std::getenv("HOME");
        home = env ? env : "";
    } else if (const passwd* account = ::getpwnam(user.c_str())) {
        home = account->pw_dir ? account->pw_dir : "";
    }
    if (home.empty())
        throw Error(fmt::format("{} is {}: {} names no home folder known here", key, quote_for_message(*value),
                                user.empty() ? std::string("~ ($HOME is not set)") : "~" + user),
                    fmt::format("git config {} <absolute path>", key));
    return home + rest;
}

std::vector<std::string> Config::get_all(std::string_view key) const {
    if (const TeamFile* team = this->team()) return layer_all(*team, key, get_all_git(key));
    return get_all_git(key);
}

std::optional<std::string> Config::get_string_git(std::string_view key) const {
    const std::string normalized = normalize_key(key);
    if (!listed_by_git_)  // the list has the command line's values, in git's order
        for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it)
            if (it->first == normalized) return it->second;
    auto all = get_all_git(key);
    if (all.empty()) return std::nullopt;
    return all.back();
}

std::vector<std::string> Config::get_all_git(std::string_view key) const {
    std::vector<std::string> values;
    const std::string normalized = normalize_key(key);
    git_config_iterator* raw = nullptr;
    if (listed_by_git_) {
        for (const auto& entry : *listed_by_git_)
            if (entry.key == normalized) values.push_back(entry.value);
    } else if (git_config_multivar_iterator_new(&raw, snapshot_.get(), normalized.c_str(), nullptr) == 0) {
        const ConfigIteratorHandle iterator(raw);  // freed even when a copy below throws
        git_config_entry* entry = nullptr;
        while (git_config_next(&entry, iterator.get()) == 0) values.emplace_back(entry->value ? entry->value : "");
    }
    if (!listed_by_git_)
        for (const auto& [k, v] : overrides_)
            if (k == normalized) values.push_back(v);
    return values;
}

std::map<std::string, std::string> Config::get_matching(std::string_view prefix, std::string_view suffix) const {
    auto values = plain_matching(prefix, suffix);
    if (const TeamFile* team = this->team()) {
        // The team file under git config, except the policy keys it sets.
        std::map<std::string, std::string> from_team;
        for (const auto& [key, value] : team->entries)
            if (key.size() >= prefix.size() + suffix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
                key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
                from_team[key] = value;
        for (const auto& [key, value] : from_team)
            if (is_policy_key(key) || !values.count(key)) values[key] = value;
    }
    return values;
}

std::map<std::string, std::string> Config::plain_matching(std::string_view prefix, std::string_view suffix) const {
    const auto matches = [&](std::string_view name) {
        return name.size() >= prefix.size() + suffix.size() && name.substr(0, prefix.size()) == prefix &&
               name.substr(name.size() - suffix.size()) == suffix;
    };
    std::map<std::string, std::string> values;
    if (listed_by_git_) {
        for (const auto& entry : *listed_by_git_)
            if (matches(entry.key)) values[entry.key] = entry.value;
    } else {
        git_config_iterator* raw = nullptr;
        check(git_config_iterator_new(&raw, snapshot_.get()), "cannot read the git configuration");
        const ConfigIteratorHandle iterator(raw);  // freed even when a copy below throws
        git_config_entry* entry = nullptr;
        while (git_config_next(&entry, iterator.get()) == 0)
            if (matches(entry->name)) values[entry->name] = entry->value ? entry->value : "";
        for (const auto& [key, value] : overrides_)
            if (matches(key)) values[key] = value;
    }
    return values;
}

std::optional<std::string> Config::origin(std::string_view key) const {
    const std::string normalized = normalize_key(key);
    const bool in_git = !get_all_git(key).empty();
    if (const TeamFile* team = this->team()) {
        const bool in_team = std::any_of(team->entries.begin(), team->entries.end(),
                                         [&](const auto& entry) { return entry.first == normalized; });
        if (in_team && (is_policy_key(key) || !in_git))
            return fmt::format("team file {} at {}", team_file_name, team->ref);
    }
    if (!in_git) return std::nullopt;
    const std::string command_line = "command line (git -c / GIT_CONFIG_COUNT)";
    if (listed_by_git_) {
        for (auto it = listed_by_git_->rbegin(); it != listed_by_git_->rend(); ++it) {
            if (it->key != normalized) continue;
            if (it->scope != "command") return fmt::format("{} {}", it->scope, it->file);
            return it->file.empty() ? command_line : fmt::format("{}, included from the {}", it->file, command_line);
        }
        return std::string("git config");
    }
    for (const auto& entry : overrides_)
        if (entry.first == normalized) return command_line;
    git_config_entry* raw = nullptr;
    if (git_config_get_entry(&raw, snapshot_.get(), normalized.c_str()) != 0) {
        git_error_clear();
        return std::string("git config");
    }
    const std::unique_ptr<git_config_entry, decltype(&git_config_entry_free)> entry(raw, git_config_entry_free);
    const auto found = [](int (*find)(git_buf*), const char* env_name) {
        if (const char* named = env_name ? std::getenv(env_name) : nullptr; named && *named) return std::string(named);
        git_buf buf = GIT_BUF_INIT;
        std::string path = find(&buf) == 0 && buf.ptr ? buf.ptr : "";
        git_buf_dispose(&buf);
        git_error_clear();
        return path;
    };
    std::string where;
    switch (entry->level) {
    case GIT_CONFIG_LEVEL_LOCAL:
        where = fmt::format("local {}/config", without_slash(git_repository_commondir(repo_)));
        break;
    case GIT_CONFIG_LEVEL_GLOBAL: where = "global " + found(git_config_find_global, "GIT_CONFIG_GLOBAL"); break;
    case GIT_CONFIG_LEVEL_XDG: where = "global (XDG) " + found(git_config_find_xdg, nullptr); break;
    case GIT_CONFIG_LEVEL_SYSTEM: where = "system " + found(git_config_find_system, "GIT_CONFIG_SYSTEM"); break;
    case GIT_CONFIG_LEVEL_PROGRAMDATA: where = "programdata"; break;
    case worktree_config_level:
        where = fmt::format("worktree {}/config.worktree", without_slash(git_repository_path(repo_)));
        break;
    default: where = "git config"; break;
    }
    while (!where.empty() && where.back() == ' ') where.pop_back();
    if (entry->include_depth > 0) {
        // libgit2 (1.5) tells the level, not the included file that holds the value: git does.
        if (auto file = included_file_holding(normalized)) return fmt::format("{}, included from {}", *file, where);
        where += " (through an include)";
    }
    return where;
}

fs::path Config::git_folder() const {
    const char* workdir = git_repository_workdir(repo_);
    return fs::path(workdir ? workdir : git_repository_commondir(repo_));
}

std::optional<std::string> Config::included_file_holding(const std::string& key) const {
    const fs::path where = git_folder();
    const auto shown = run_git_config(where, {"--show-origin", "-z", "--get-all", key});
    if (!shown.ok()) return std::nullopt;
    // "file:<path>\0<value>\0" per value, the one in force last: NUL-separated, so that no
    // value (which may hold a newline and "file:...") can pass for an origin.
    const std::vector<std::string> fields = split_records(shown.out, '\0');
    if (fields.size() < 2 || fields.size() % 2 != 0) return std::nullopt;
    return origin_file(where, fields[fields.size() - 2]);
}

std::vector<std::string> remote_names(const Config& config) {
    std::vector<std::string> names;
    constexpr std::string_view prefix = "remote.", suffix = ".url";
    for (const auto& entry : config.plain_matching(prefix, suffix))
        names.push_back(entry.first.substr(prefix.size(), entry.first.size() - prefix.size() - suffix.size()));
    return names;
}

Error config_value_error(const Config& config, std::string_view key, const Error& error) {
    std::optional<std::string> where;
    try {
        where = config.origin(key);
    } catch (const Error&) {
        // The team file itself does not parse: the value's own error is the one to give.
    }
    if (!where) return error;
    std::string hint = error.hint();
    if (const TeamFile* team = config.team(); team && where->rfind("team file ", 0) == 0) {
        std::string branch = team->ref;
        for (const std::string_view prefix : {"refs/heads/", "refs/remotes/"})
            if (branch.rfind(prefix, 0) == 0) branch.erase(0, prefix.size());
        hint = fmt::format("the team's committed {} sets it: fix the value there and commit the fix to {}{}",
                           team_file_name, branch, hint.empty() ? "" : "; " + hint);
    } else if (starts_with(*where, "worktree ")) {
        // A plain `git config` would write .git/config, which this worktree's file overrides.
        if (const auto at = hint.find("git config "); at != std::string::npos) hint.insert(at + 11, "--worktree ");
    }
    return Error(fmt::format("{} (set in {})", error.what(), *where), hint, error.code());
}

std::optional<std::int64_t> duration_setting(const Config& config, std::string_view key, std::string_view examples,
                                             bool positive) {
    const auto text = config.get_string(key);
    if (!text) return std::nullopt;
    const auto seconds = parse_duration_seconds(*text);
    if (seconds && (!positive || *seconds > 0)) return seconds;
    throw config_value_error(config, key,
                             Error(fmt::format("{} {} is not a {}duration", key, quote_for_message(*text),
                                               positive ? "positive " : ""),
                                   std::string(examples)));
}

std::optional<bool> Config::get_bool(std::string_view key) const {
    auto value = get_string(key);
    if (!value) return std::nullopt;
    const std::string v = lower(*value);
    if (v == "true" || v == "yes" || v == "on" || v == "1" || v.empty()) return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    throw Error(fmt::format("bad boolean value '{}' for config key '{}'", *value, key),
                fmt::format("set it with: git config {} true|false", key));
}

void Config::set_local(std::string_view key, std::string_view value) {
    const std::string k(key), v(value);
    write_with_retry(
        repo_, [&](git_config* local) { return git_config_set_string(local, k.c_str(), v.c_str()); },
        "cannot write the repository's config file");
}

void Config::unset_local(std::string_view key) {
    const std::string k(key);
    write_with_retry(
        repo_,
        [&](git_config* local) {
            const int rc = git_config_delete_entry(local, k.c_str());
            if (rc == GIT_ENOTFOUND) git_error_clear();
            return rc == GIT_ENOTFOUND ? 0 : rc;
        },
        "cannot write the repository's config file");
}

}  // namespace gm::git
