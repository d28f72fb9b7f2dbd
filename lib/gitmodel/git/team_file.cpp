#include "gitmodel/git/team_file.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/config.hpp"
#include "gitmodel/git/handle.hpp"
#include "gitmodel/proc/process.hpp"

#include <git2.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <regex>

namespace gm::git {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The full name a ref resolves to, through git (the plumbing reader's way: any object format).
std::optional<std::string> resolve_ref(const std::string& ref) {
    const auto result = proc::run({"git", "rev-parse", "--verify", "-q", "--symbolic-full-name", "--end-of-options", ref});
    if (!result.ok()) return std::nullopt;
    std::string name = result.out;
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    if (name.empty()) name = ref;  // a detached HEAD names no branch
    return name;
}

// The remotes set up here, through git (the plumbing reader's way).
std::vector<std::string> listed_remotes() {
    const auto result = proc::run({"git", "remote"});
    if (!result.ok()) return {};
    return split_records(result.out, '\n');
}

// A .gitmodel committed as a symbolic link: its "content" is the link's target, which git config
// would read as a broken line 1; the team file must be the file itself.
[[noreturn]] void throw_team_file_is_link(const std::string& ref) {
    throw Error(fmt::format("{} at {} is a symbolic link; the team file must be a plain file", team_file_name, ref),
                fmt::format("replace the link with the file it points to and commit that on the base branch "
                            "(git rm --cached {0}, copy the file to {0}, git add {0})",
                            team_file_name));
}

// Throws naming .gitmodel:<line> when git's message says the file does not parse.
void throw_if_bad_syntax(const std::string& err, const std::string& ref) {
    static const std::regex bad_line(R"(bad config line (\d+))");
    std::smatch match;
    if (std::regex_search(err, match, bad_line)) {
        throw Error(fmt::format("{}:{}: bad config syntax (the team file as {} has it)", team_file_name,
                                match[1].str(), ref),
                    fmt::format("fix {} on the base branch (git-config syntax: [model] then key = value lines); "
                                "`git config --file .gitmodel --list` shows the first error",
                                team_file_name));
    }
}

// The team file at one ref: absent, or its entries; throws naming .gitmodel:<line> on bad syntax.
// Never with includes: git follows include.path in a blob, and no file of this machine is the team's.
TeamFile read_at(const std::string& ref) {
    TeamFile team;
    team.ref = ref;
    const auto result =
        proc::run({"git", "config", "--no-includes", "-z", fmt::format("--blob={}:{}", ref, team_file_name), "--list"});
    if (result.ok()) {
        team.present = true;
        team.entries = parse_config_list(result.out);
        return team;
    }
    const auto entry = proc::run({"git", "ls-tree", "--end-of-options", ref, "--", std::string(team_file_name)});
    if (entry.ok() && entry.out.rfind("120000 ", 0) == 0) throw_team_file_is_link(ref);
    throw_if_bad_syntax(result.err, ref);
    return team;  // no .gitmodel in that tree
}

// The blob of .gitmodel at the root of a ref's commit, through libgit2; nullopt when absent.
std::optional<std::string> team_blob_at(git_repository* repo, const std::string& ref) {
    git_object* raw = nullptr;
    const std::string spec = ref + "^{tree}";
    if (git_revparse_single(&raw, repo, spec.c_str()) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    ObjectHandle tree(raw);
    const git_tree_entry* entry = git_tree_entry_byname(reinterpret_cast<git_tree*>(raw), std::string(team_file_name).c_str());
    if (!entry) return std::nullopt;  // owned by the tree
    if (git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK) throw_team_file_is_link(ref);
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return std::nullopt;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, git_tree_entry_id(entry));
    return std::string(hex);
}

// Parses one .gitmodel blob with git (no includes: see read_at), once per blob id for the life of the process (a command
// reads its configuration many times; the file at the base changes between commands, not within).
std::vector<std::pair<std::string, std::string>> parse_blob(git_repository* repo, const std::string& blob,
                                                            const std::string& ref) {
    struct Parsed {
        bool ok = false;
        std::vector<std::pair<std::string, std::string>> entries;
        std::string err;
    };
    static std::mutex mutex;
    static std::map<std::string, Parsed> cache;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(blob);
    if (it == cache.end()) {
        const std::string git_dir = git_repository_commondir(repo);
        const auto result = proc::run({"git", "--git-dir=" + git_dir, "config", "--no-includes", "-z", "--blob=" + blob, "--list"});
        Parsed parsed;
        parsed.ok = result.ok();
        if (parsed.ok) parsed.entries = parse_config_list(result.out);
        else parsed.err = result.err.empty() ? "git config failed" : result.err;
        it = cache.emplace(blob, std::move(parsed)).first;
    }
    if (!it->second.ok) {
        throw_if_bad_syntax(it->second.err, ref);
        throw Error(fmt::format("cannot read {} at {}: {}", team_file_name, ref, it->second.err),
                    "check that git works in this repository (`git config --blob " + ref + ":.gitmodel --list`)");
    }
    return it->second.entries;
}

}  // namespace

bool is_policy_key(std::string_view key) {
    const std::string k = lower(key);
    static const std::vector<std::string> exact{
        "model.protectedbranch", "model.allowedbranch", "model.allowedtag", "model.basebranch",
        "model.maxfilesize",     "model.datapattern",   "model.allowpath",  "model.imagedrift"};
    if (std::find(exact.begin(), exact.end(), k) != exact.end()) return true;
    return k.rfind("model.benchgate.", 0) == 0 || k.rfind("model.maxfilesize.", 0) == 0;
}

bool is_machine_key(std::string_view key) {
    static const std::vector<std::string> machine{
        "model.engine",          "model.enginehost",   "model.gpus",          "model.leasedir",
        "model.leaselocktimeout", "model.sshauthorizedkeys", "model.worktreeroot", "model.worktreepath",
        "model.maxgpusperuser",  "model.maxleasehours",  "model.remote"};  // remote: a name in this clone
    return std::find(machine.begin(), machine.end(), lower(key)) != machine.end();
}

std::string team_setting_fix(std::string_view key, std::string_view value, bool add) {
    const auto first = key.find('.');
    const auto last = key.rfind('.');
    std::string section(key.substr(0, first));
    if (last != first) section += fmt::format(" \"{}\"", key.substr(first + 1, last - first - 1));
    const std::string name(key.substr(last + 1));
    std::string quoted = "'";
    for (const char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    return fmt::format("for the whole team, in the committed team file: git config --file {} {}{} {} && git add {} && "
                       "git commit -m 'git-model: {}' (it adds `[{}] {} = {}`; the hooks read it from the base branch, "
                       "so merge it there)",
                       team_file_name, add ? "--add " : "", key, quoted, team_file_name, key, section, name, value);
}

std::vector<std::pair<std::string, std::string>> parse_config_list(std::string_view text) {
    // -z: "key\nvalue\0", or "key\0" for a key without a value (git's "true").
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& item : split_records(text, '\0')) {
        if (item.empty()) continue;
        const auto newline = item.find('\n');
        out.emplace_back(Config::normalize_key(item.substr(0, newline)),
                         newline == std::string::npos ? "true" : item.substr(newline + 1));
    }
    return out;
}

namespace {

// The remotes git fetches from (a url), of those listed: only one can hold the team's base
// (refs/remotes/<name>/...); a push-only mirror (pushurl, no url) is no candidate.
std::vector<std::string> fetched_remotes(const std::function<std::optional<std::string>(std::string_view)>& local,
                                         const std::vector<std::string>& names) {
    std::vector<std::string> fetched;
    for (const auto& name : names)
        if (local(fmt::format("remote.{}.url", name))) fetched.push_back(name);
    return fetched;
}

}  // namespace

std::string team_remote_name(const std::function<std::optional<std::string>(std::string_view)>& local,
                             const std::function<std::vector<std::string>()>& remotes) {
    if (auto named = local("model.remote"); named && !named->empty()) return *named;
    if (local("remote.origin.url") || local("remote.origin.pushurl") || !remotes) return "origin";
    const auto fetched = fetched_remotes(local, remotes());
    return fetched.size() == 1 ? fetched.front() : std::string("origin");
}

std::string unresolved_team_remote(const ConfigView& local) {
    const auto get = [&](std::string_view key) { return local.get_string(key); };
    std::optional<std::vector<std::string>> listed;  // `git remote` runs once, and only when needed
    const auto names = [&] {
        if (!listed) listed = listed_remotes();
        return *listed;
    };
    const std::string remote = team_remote_name(get, names);
    if (get(fmt::format("remote.{}.url", remote))) return {};  // the usual case: one config lookup
    const auto fetched = fetched_remotes(get, names());
    if (fetched.empty()) return {};
    return fmt::format("the team's remote is '{}' (model.remote, else origin, else the only remote), which is none of "
                       "this clone's remotes ({}): the team's policy is read from the local base branch, which may be "
                       "old; set it with `git config model.remote <the team's remote>`",
                       remote, join(fetched, ", "));
}

TeamFile find_team_file(const std::function<std::optional<std::string>(std::string_view)>& local,
                        const TeamFileAccess& access) {
    const std::string remote = team_remote_name(local, access.remotes);
    std::string base = local("model.baseBranch").value_or("main");
    if (base.empty()) base = "main";
    std::string remote_default;
    const auto first_existing = [&](const std::vector<std::string>& candidates) -> std::optional<std::string> {
        for (const auto& ref : candidates) {
            const auto full = access.resolve(ref);
            if (!full) continue;
            const std::string remote_head = fmt::format("refs/remotes/{}/HEAD", remote);
            const std::string prefix = fmt::format("refs/remotes/{}/", remote);
            if (ref == remote_head && *full != remote_head && starts_with(*full, prefix))
                remote_default = full->substr(prefix.size());
            return ref;
        }
        return std::nullopt;
    };
    // The remote's default branch first: a clone's own model.baseBranch cannot point the read elsewhere.
    // Without any base here, HEAD's file: the base's, as the branch took it (better than none).
    auto ref = first_existing({fmt::format("refs/remotes/{}/HEAD", remote), fmt::format("refs/remotes/{}/{}", remote, base),
                               "refs/heads/" + base, "HEAD"});
    if (!ref) return {};
    TeamFile team = access.read_at(*ref);
    team.remote_default = remote_default;
    // The file names another base: read it from there (once), as the remote has it.
    std::optional<std::string> named;
    for (const auto& [key, value] : team.entries)
        if (key == "model.basebranch" && !value.empty()) named = value;
    if (named) {
        auto there = first_existing({fmt::format("refs/remotes/{}/{}", remote, *named), "refs/heads/" + *named});
        if (there && *there != *ref) {
            TeamFile again = access.read_at(*there);
            again.remote_default = remote_default;
            if (again.present) team = std::move(again);
        }
    }
    // This machine's settings are not the team's to make.
    auto& entries = team.entries;
    for (auto it = entries.begin(); it != entries.end();) {
        if (!is_machine_key(it->first)) {
            ++it;
            continue;
        }
        if (std::find(team.ignored.begin(), team.ignored.end(), it->first) == team.ignored.end())
            team.ignored.push_back(it->first);
        it = entries.erase(it);
    }
    return team;
}

namespace {
std::atomic<bool> bad_file_absent{false};
}  // namespace

void treat_bad_team_file_as_absent() { bad_file_absent = true; }

TeamFile read_team_file(git_repository* repo,
                        const std::function<std::optional<std::string>(std::string_view)>& local) {
    const auto resolve = [repo](const std::string& ref) -> std::optional<std::string> {
        git_object* raw = nullptr;
        const std::string spec = ref + "^{commit}";
        if (git_revparse_single(&raw, repo, spec.c_str()) != 0) {
            git_error_clear();
            return std::nullopt;
        }
        ObjectHandle owner(raw);
        git_reference* found = nullptr;
        if (git_reference_lookup(&found, repo, ref.c_str()) != 0) {
            git_error_clear();
            return ref;
        }
        ReferenceHandle reference(found);
        if (git_reference_type(found) != GIT_REFERENCE_SYMBOLIC) return ref;
        return std::string(git_reference_symbolic_target(found));
    };
    const auto read = [repo](const std::string& ref) {
        TeamFile team;
        team.ref = ref;
        if (auto blob = team_blob_at(repo, ref)) {
            team.present = true;
            team.entries = parse_blob(repo, *blob, ref);
        }
        return team;
    };
    const auto remotes = [repo] {
        std::vector<std::string> names;
        git_strarray list{};
        if (git_remote_list(&list, repo) != 0) {
            git_error_clear();
            return names;
        }
        for (std::size_t i = 0; i < list.count; ++i) names.emplace_back(list.strings[i]);
        git_strarray_dispose(&list);
        return names;
    };
    try {
        return find_team_file(local, TeamFileAccess{resolve, read, remotes});
    } catch (const Error&) {
        if (!bad_file_absent) throw;
        return {};
    }
}

TeamFile read_team_file(const ConfigView& local) {
    return find_team_file([&](std::string_view key) { return local.get_string(key); },
                          TeamFileAccess{resolve_ref, read_at, listed_remotes});
}

namespace {

std::vector<std::string> team_values(const TeamFile& team, const std::string& normalized) {
    std::vector<std::string> values;
    for (const auto& [key, value] : team.entries)
        if (key == normalized) values.push_back(value);
    return values;
}

}  // namespace

std::vector<std::string> layer_all(const TeamFile& team, std::string_view key, std::vector<std::string> local) {
    auto values = team_values(team, Config::normalize_key(key));
    if (!values.empty() && is_policy_key(key)) return values;
    values.insert(values.end(), local.begin(), local.end());
    return values;
}

std::optional<std::string> layer_one(const TeamFile& team, std::string_view key, std::optional<std::string> local) {
    auto values = team_values(team, Config::normalize_key(key));
    if (!values.empty() && is_policy_key(key)) return values.back();
    if (local) return local;
    if (values.empty()) return std::nullopt;
    return values.back();
}

std::vector<std::pair<std::string, std::string>> overridden_keys(
    const TeamFile& team, const std::function<std::vector<std::string>(std::string_view)>& local_all) {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> seen;
    for (const auto& [key, value] : team.entries) {
        if (!is_policy_key(key) || std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        const auto local = local_all(key);
        if (!local.empty() && local != team_values(team, key)) out.emplace_back(key, local.back());
    }
    return out;
}

LayeredConfig::LayeredConfig(const ConfigView& local, TeamFile team) : local_(local), team_(std::move(team)) {}

std::vector<std::string> LayeredConfig::get_all(std::string_view key) const {
    return layer_all(team_, key, local_.get_all(key));
}

std::optional<std::string> LayeredConfig::get_string(std::string_view key) const {
    return layer_one(team_, key, local_.get_string(key));
}

std::vector<std::pair<std::string, std::string>> LayeredConfig::overridden() const {
    return overridden_keys(team_, [&](std::string_view key) { return local_.get_all(key); });
}

std::optional<std::string> LayeredConfig::source(std::string_view key) const {
    const bool in_team = !team_values(team_, Config::normalize_key(key)).empty();
    const bool in_local = !local_.get_all(key).empty();
    const std::string team = fmt::format("team file {} at {}", team_file_name, team_.ref);
    if (in_team && (is_policy_key(key) || !in_local)) return team;
    if (in_local) return std::string("git config");
    return std::nullopt;
}

}  // namespace gm::git
