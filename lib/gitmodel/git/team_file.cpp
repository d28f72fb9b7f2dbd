#include "gitmodel/git/team_file.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/config.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <regex>

namespace gm::git {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The commit a ref names, through git (the plumbing reader's way: any object format).
bool ref_exists(const std::string& ref) {
    return proc::run({"git", "rev-parse", "--verify", "-q", "--end-of-options", ref + "^{commit}"}).ok();
}

// The team file at one ref: absent, or its entries; throws naming .gitmodel:<line> on bad syntax.
TeamFile read_at(const std::string& ref) {
    TeamFile team;
    team.ref = ref;
    const auto result =
        proc::run({"git", "config", "-z", fmt::format("--blob={}:{}", ref, team_file_name), "--list"});
    if (result.ok()) {
        team.present = true;
        team.entries = parse_config_list(result.out);
        return team;
    }
    static const std::regex bad_line(R"(bad config line (\d+))");
    std::smatch match;
    if (std::regex_search(result.err, match, bad_line)) {
        throw Error(fmt::format("{}:{}: bad config syntax (the team file as {} has it)", team_file_name,
                                match[1].str(), ref),
                    fmt::format("fix {} on the base branch (git-config syntax: [model] then key = value lines); "
                                "`git config --file .gitmodel --list` shows the first error",
                                team_file_name));
    }
    return team;  // no .gitmodel in that tree
}

// The first of the candidate refs that exists.
std::optional<std::string> first_existing(const std::vector<std::string>& candidates) {
    for (const auto& ref : candidates)
        if (ref_exists(ref)) return ref;
    return std::nullopt;
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

std::vector<std::pair<std::string, std::string>> parse_config_list(std::string_view text) {
    // -z: "key\nvalue\0", or "key\0" for a key without a value (git's "true").
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\0', start);
        if (end == std::string_view::npos) end = text.size();
        const auto item = text.substr(start, end - start);
        start = end + 1;
        if (item.empty()) continue;
        const auto newline = item.find('\n');
        out.emplace_back(Config::normalize_key(item.substr(0, newline)),
                         newline == std::string_view::npos ? "true" : std::string(item.substr(newline + 1)));
    }
    return out;
}

TeamFile read_team_file(const ConfigView& local) {
    std::string remote = local.get_string("model.remote").value_or("origin");
    if (remote.empty()) remote = "origin";
    std::string base = local.get_string("model.baseBranch").value_or("main");
    if (base.empty()) base = "main";
    // The remote's default branch first: a clone's own model.baseBranch cannot point the read elsewhere.
    auto ref = first_existing({fmt::format("refs/remotes/{}/HEAD", remote), fmt::format("refs/remotes/{}/{}", remote, base),
                               "refs/heads/" + base});
    if (!ref) return {};
    TeamFile team = read_at(*ref);
    // The file names another base: read it from there (once), as the remote has it.
    std::optional<std::string> named;
    for (const auto& [key, value] : team.entries)
        if (key == "model.basebranch" && !value.empty()) named = value;
    if (named) {
        auto there = first_existing({fmt::format("refs/remotes/{}/{}", remote, *named), "refs/heads/" + *named});
        if (there && *there != *ref) {
            TeamFile again = read_at(*there);
            if (again.present) return again;
        }
    }
    return team;
}

LayeredConfig::LayeredConfig(const ConfigView& local, TeamFile team) : local_(local), team_(std::move(team)) {}

std::vector<std::string> LayeredConfig::team_values(const std::string& normalized) const {
    std::vector<std::string> values;
    for (const auto& [key, value] : team_.entries)
        if (key == normalized) values.push_back(value);
    return values;
}

std::vector<std::string> LayeredConfig::get_all(std::string_view key) const {
    auto team = team_values(Config::normalize_key(key));
    if (!team.empty() && is_policy_key(key)) return team;
    auto local = local_.get_all(key);
    team.insert(team.end(), local.begin(), local.end());
    return team;
}

std::optional<std::string> LayeredConfig::get_string(std::string_view key) const {
    if (is_policy_key(key)) {
        auto team = team_values(Config::normalize_key(key));
        if (!team.empty()) return team.back();
    }
    if (auto local = local_.get_string(key)) return local;
    auto team = team_values(Config::normalize_key(key));
    if (team.empty()) return std::nullopt;
    return team.back();
}

std::vector<std::pair<std::string, std::string>> LayeredConfig::overridden() const {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> seen;
    for (const auto& [key, value] : team_.entries) {
        if (!is_policy_key(key) || std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        const auto local = local_.get_all(key);
        if (!local.empty() && local != team_values(key)) out.emplace_back(key, local.back());
    }
    return out;
}

std::optional<std::string> LayeredConfig::source(std::string_view key) const {
    const bool in_team = !team_values(Config::normalize_key(key)).empty();
    const bool in_local = !local_.get_all(key).empty();
    const std::string team = fmt::format("team file {} at {}", team_file_name, team_.ref);
    if (in_team && (is_policy_key(key) || !in_local)) return team;
    if (in_local) return std::string("git config");
    return std::nullopt;
}

}  // namespace gm::git
