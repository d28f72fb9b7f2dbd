#include "gitmodel/env/user.hpp"

#include "gitmodel/core/host.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <unistd.h>

namespace gm::env {

namespace {

// A name that is safe in passwd/group lines and as a folder: no ':', '/', space or control character.
bool usable_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name[0] == '-' || name == "." || name == "..") return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return c > 0x20 && c < 0x7f && c != ':' && c != '/' && c != '\\';
    });
}

std::vector<std::string> fields_of(const std::string& line) {
    std::vector<std::string> fields;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, ':')) fields.push_back(field);
    if (!line.empty() && line.back() == ':') fields.emplace_back();
    return fields;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

// A uid or gid field as the C library reads it: "01000" is uid 1000. nullopt when it is no
// decimal number of 32 bits (such a line is left out of the files we write).
std::optional<std::uint32_t> id_of(const std::string& field) {
    if (field.empty() || field.size() > 10) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : field) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > UINT32_MAX) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

struct Account {
    std::string name;
    std::string home;
};

// The image's passwd entry for a uid, if it has one.
std::optional<Account> account_of(const std::string& passwd, std::uint32_t uid) {
    for (const auto& line : lines_of(passwd)) {
        const auto f = fields_of(line);
        if (f.size() >= 7 && id_of(f[2]) == uid) return Account{f[0], f[5]};
    }
    return std::nullopt;
}

bool name_taken(const std::string& text, const std::string& name) {
    for (const auto& line : lines_of(text)) {
        const auto f = fields_of(line);
        if (!f.empty() && f[0] == name) return true;
    }
    return false;
}

// passwd with one more account; replace: first drop every entry with the same uid or name.
std::string passwd_with(const std::string& passwd, const std::string& name, std::uint32_t uid, std::uint32_t gid,
                        const std::string& home, bool replace) {
    std::vector<std::string> kept;
    for (const auto& line : lines_of(passwd)) {
        const auto f = fields_of(line);
        // Lines whose uid is no number are dropped: the C library might read them as any uid.
        if (f.size() < 3 || !id_of(f[2])) continue;
        if (replace && (f[0] == name || id_of(f[2]) == uid)) continue;
        kept.push_back(line);
    }
    if (kept.empty() || fields_of(kept.front()).at(0) != "root") {
        if (uid != 0 && !name_taken(joined(kept), "root")) kept.insert(kept.begin(), "root:x:0:0:root:/root:/bin/sh");
    }
    kept.push_back(fmt::format("{}:x:{}:{}:{}:{}:/bin/sh", name, uid, gid, name, home));
    return joined(kept);
}

// group with the gid named (when the image has no group of that id).
std::string group_with(const std::string& group, const std::string& name, std::uint32_t gid) {
    std::vector<std::string> lines = lines_of(group);
    for (const auto& line : lines) {
        const auto f = fields_of(line);
        if (f.size() >= 3 && id_of(f[2]) == gid) return joined(lines);
    }
    if (lines.empty() && gid != 0) lines.push_back("root:x:0:");
    const std::string chosen = name_taken(group, name) ? fmt::format("g{}", gid) : name;
    lines.push_back(fmt::format("{}:x:{}:", chosen, gid));
    return joined(lines);
}

}  // namespace

Caller current_caller() {
    Caller caller;
    caller.uid = ::geteuid();
    caller.gid = ::getegid();
    caller.name = account_name(caller.uid).value_or("");
    // getgrgid_r with a buffer of our own: the static getgrgid is not thread-safe.
    std::vector<char> buffer(16384);
    group gr{};
    group* found_group = nullptr;
    if (::getgrgid_r(caller.gid, &gr, buffer.data(), buffer.size(), &found_group) == 0 && found_group)
        caller.group = found_group->gr_name;
    if (!usable_name(caller.name)) caller.name = fmt::format("u{}", caller.uid);
    if (!usable_name(caller.group)) caller.group = fmt::format("g{}", caller.gid);
    return caller;
}

ImageAccounts split_accounts(const std::string& cat_output) {
    ImageAccounts accounts;
    for (const auto& line : lines_of(cat_output)) {
        if (line[0] == '#') continue;
        const auto colons = std::count(line.begin(), line.end(), ':');
        if (colons == 6) accounts.passwd += line + "\n";
        else if (colons == 3) accounts.group += line + "\n";
    }
    return accounts;
}

bool accounts_needed(const config::UserSetting& setting, EngineMode mode, EngineKind kind, const Caller& caller) {
    switch (setting.mode) {
        case config::UserSetting::Mode::image: return false;
        case config::UserSetting::Mode::host:
            return caller.uid != 0 && !(mode == EngineMode::rootless && kind == EngineKind::docker);
        case config::UserSetting::Mode::ids: return true;
    }
    return false;
}

UserPlan plan_user(const config::UserSetting& setting, EngineMode mode, EngineKind kind, const Caller& caller,
                   const std::optional<ImageAccounts>& accounts) {
    UserPlan plan;
    using Mode = config::UserSetting::Mode;
    if (setting.mode == Mode::image) return plan;
    const bool own_engine = mode == EngineMode::rootless;
    if (setting.mode == Mode::host && (caller.uid == 0 || (own_engine && kind == EngineKind::docker))) {
        // Root runs as root; in a rootless docker the container's root is the caller on the host.
        plan.run_flags = {"--user", "0:0"};
        plan.login = "root";
        plan.as_root = true;
        return plan;
    }
    const std::uint32_t uid = setting.mode == Mode::host ? caller.uid : setting.uid;
    const std::uint32_t gid = setting.mode == Mode::host ? caller.gid : setting.gid;
    if (own_engine && kind == EngineKind::podman) {
        // keep-id maps the caller to the same uid inside (or to uid:gid), so files on the host are theirs.
        plan.run_flags = {setting.mode == Mode::host ? std::string("--userns=keep-id")
                                                     : fmt::format("--userns=keep-id:uid={},gid={}", uid, gid)};
    } else {
        plan.run_flags = {"--user", fmt::format("{}:{}", uid, gid)};
    }
    plan.as_root = uid == 0;
    plan.login = caller.name;
    if (!accounts) return plan;  // the image's files could not be read: the engine's own entry (podman) or none
    plan.needs_accounts = true;
    const auto existing = account_of(accounts->passwd, uid);
    if (setting.mode == Mode::ids && existing) {
        // The image knows this uid (jovyan, ubuntu, ...): its name and home stay.
        plan.login = existing->name;
        plan.passwd = accounts->passwd;
    } else {
        if (setting.mode == Mode::ids && name_taken(accounts->passwd, caller.name)) plan.login = fmt::format("u{}", uid);
        plan.home = "/home/" + plan.login;
        // Another uid than the caller's through a rootful engine is that uid on the host too:
        // it cannot write the caller's private HOME folder, so it gets a HOME that lives as
        // long as the container.
        plan.home_in_tmpfs = !own_engine && uid != caller.uid && uid != 0;
        plan.passwd = passwd_with(accounts->passwd, plan.login, uid, gid, plan.home, setting.mode == Mode::host);
    }
    plan.group = group_with(accounts->group, setting.mode == Mode::host ? caller.group : plan.login, gid);
    return plan;
}

}  // namespace gm::env
