#include "gitmodel/model/settings.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/git/team_file.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/naming/refname.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace gm::model {

namespace fs = std::filesystem;

namespace {

// A boolean key in git's spellings; a bad value names the key and both spellings.
bool read_bool(const git::Config& config, std::string_view key, bool fallback) {
    const auto text = config.get_string(key);
    if (!text) return fallback;
    try {
        return config.get_bool(key).value_or(fallback);
    } catch (const Error&) {
        throw Error(fmt::format("{} {} is not true or false", key, quote_for_message(*text)),
                    fmt::format("git config {} {}", key, fallback ? "true" : "false"));
    }
}

// Lower-case ASCII, for the words of model.forge.
std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

const char* to_string(ForgeKind kind) {
    switch (kind) {
        case ForgeKind::gitlab: return "gitlab";
        case ForgeKind::github: return "github";
        case ForgeKind::bitbucket: return "bitbucket";
        case ForgeKind::other: return "other";
    }
    return "other";
}

std::optional<ForgeKind> parse_forge_setting(std::string_view text) {
    const std::string word = lower(text);
    if (word.empty() || word == "auto") return std::nullopt;
    if (word == "gitlab") return ForgeKind::gitlab;
    if (word == "github") return ForgeKind::github;
    if (word == "bitbucket") return ForgeKind::bitbucket;
    if (word == "other" || word == "gitea" || word == "forgejo") return ForgeKind::other;
    throw Error(fmt::format("model.forge {} is not auto, gitlab, github, bitbucket or other", quote_for_message(text)),
                "git config model.forge gitlab (or github, bitbucket, other, auto)");
}

std::string remote_notes_ref(std::string_view remote) { return fmt::format("refs/notes/remotes/{}/git-model", remote); }

std::int64_t parse_retention(std::string_view text, std::string_view where, bool usage) {
    const auto seconds = parse_duration_seconds(text);
    if (seconds) return *seconds;
    const std::string message = fmt::format("{} {} is not a duration", where, quote_for_message(text));
    const std::string hint = "write a number with a unit: 36h, 14d, 2w (0 prunes merged branches at once)";
    if (usage) throw UsageError(message, hint);
    throw Error(message, hint);
}

std::string archive_tag_name(std::string_view form, std::string_view model, std::string_view branch) {
    if (form.find("{model}") == std::string_view::npos && form.find("{branch}") == std::string_view::npos) {
        throw Error(fmt::format("model.prune.archiveTag {} contains neither {{model}} nor {{branch}}",
                                quote_for_message(form)),
                    fmt::format("for example: git config model.prune.archiveTag '{}'", default_archive_form));
    }
    std::string name(form);
    replace_all(name, "{model}", model);
    replace_all(name, "{branch}", branch);
    auto verdict = naming::check_refname("refs/tags/" + name);
    if (verdict.valid && name.front() == '-') verdict = {false, "begins with '-' (git takes it for an option)"};
    if (!verdict.valid) {
        throw Error(fmt::format("model.prune.archiveTag {} gives the tag name {}, which {}", quote_for_message(form),
                                quote_for_message(name), verdict.reason),
                    fmt::format("for example: git config model.prune.archiveTag '{}'", default_archive_form));
    }
    return name;
}

std::string base_branch_setting(const git::Config& config) {
    auto base = config.get_string("model.baseBranch");
    return base && !base->empty() ? *base : std::string("main");
}

std::optional<std::string> resolve_base(const git::Repository& repo, const std::string& base) {
    if (const auto branch = repo.branch_target(base)) return branch;
    return repo.resolve_commit(base);
}

namespace {

// A key's value, or the error its text gives (saying where the value was set), kept for the
// command that uses the key.
template <class T, class Read>
Setting<T> capture(const git::Config& config, std::string_view key, Read read) {
    try {
        return Setting<T>(read());
    } catch (const Error& error) {
        return Setting<T>::malformed(git::config_value_error(config, key, error));
    }
}

bool parse_merge_setting(const std::string& merge) {
    if (merge == "allow") return true;
    if (merge == "deny" || merge.empty()) return false;
    throw Error(fmt::format("model.finish.merge {} is not allow or deny", quote_for_message(merge)),
                "git config model.finish.merge allow   (for repositories without a review server)");
}

// Where models live; fails only for a model.worktreeRoot of "~name/..." whose user is unknown.
void read_location(const git::Repository& repo, const git::Config& config, Settings& settings) {
    settings.main_worktree = repo.main_worktree_or_common_dir();
    settings.base_branch = base_branch_setting(config);
    // "~/worktrees" is the user's home, as git reads its own paths (a folder named "~" was made)
    fs::path root = config.get_path("model.worktreeRoot").value_or("../worktrees");
    if (root.empty()) root = "../worktrees";
    if (root.is_relative()) root = settings.main_worktree / root;
    settings.worktree_root = root.lexically_normal();
    if (auto tmpl = config.get_string("model.worktreePath"); tmpl && !tmpl->empty()) settings.worktree_template = *tmpl;
}

// A model's life after start: each malformed key is kept for its value() to report.
void read_lifecycle(const git::Config& config, Settings& settings) {
    settings.remote = git::team_remote_name([&](std::string_view key) { return config.get_string(key); },
                                            [&] { return git::remote_names(config); });
    if (auto forge = config.get_string("model.forge"))
        settings.forge = capture<std::optional<ForgeKind>>(config, "model.forge", [&] { return parse_forge_setting(*forge); });
    if (auto url = config.get_string("model.forgeUrl"); url && !url->empty()) settings.forge_url = *url;
    if (auto merge = config.get_string("model.finish.merge"))
        settings.allow_local_merge = capture<bool>(config, "model.finish.merge", [&] { return parse_merge_setting(*merge); });
    if (auto retention = config.get_string("model.prune.retention"))
        settings.retention_seconds = capture<std::int64_t>(
            config, "model.prune.retention", [&] { return parse_retention(*retention, "model.prune.retention", false); });
    if (auto form = config.get_string("model.prune.archiveTag"); form && !form->empty()) {
        settings.archive_form = capture<std::string>(config, "model.prune.archiveTag", [&] {
            archive_tag_name(*form, "x", "feature/model-x");  // refuse a bad form before anything happens
            return *form;
        });
    }
    settings.tag_push = capture<bool>(config, "model.tag.push", [&] { return read_bool(config, "model.tag.push", true); });
    settings.tag_require_clean = capture<bool>(config, "model.tag.requireClean", [&] { return read_bool(config, "model.tag.requireClean", false); });
    settings.prune_remote = capture<bool>(config, "model.prune.remote", [&] { return read_bool(config, "model.prune.remote", false); });
}

}  // namespace

Settings read_settings(const git::Repository& repo) {
    const git::Config config = repo.config();
    Settings settings;
    read_location(repo, config, settings);
    read_lifecycle(config, settings);
    return settings;
}

namespace {

// Whether the folder's group is its owner's own (a user private group: the owner's primary
// group, named as the owner), so that its group write bit lets nobody else in.
bool owners_private_group(const struct stat& info) {
    struct passwd user {};
    struct passwd* found_user = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwuid_r(info.st_uid, &user, buffer.data(), buffer.size(), &found_user) != 0 || !found_user) return false;
    if (user.pw_gid != info.st_gid) return false;
    const std::string owner = user.pw_name;
    struct group group {};
    struct group* found_group = nullptr;
    std::vector<char> group_buffer(65536);
    if (::getgrgid_r(info.st_gid, &group, group_buffer.data(), group_buffer.size(), &found_group) != 0 || !found_group)
        return false;
    if (owner != group.gr_name) return false;
    for (char** member = group.gr_mem; member && *member; ++member)
        if (owner != *member) return false;
    return true;
}

bool trusted_owner(uid_t uid, uid_t repository_owner) {
    return uid == ::geteuid() || uid == 0 || uid == repository_owner;
}

// What a folder's POSIX access ACL (the system.posix_acl_access attribute: a version, then
// entries of tag, permissions and id) says about writers; with one, the mode's group bits are
// only the ACL's mask.
struct AclWriters {
    bool present = false;            // the folder has an access ACL
    std::string foreign;             // a writer other than the trusted ones, in words ("" for none)
    bool owning_group_writes = false;  // the owning group's own entry (within the mask) has write
};

AclWriters parse_acl(const std::string& raw, const fs::path& folder, uid_t repository_owner, bool strict);

AclWriters read_acl(const fs::path& folder, uid_t repository_owner, bool strict) {
    AclWriters found;
    int error = 0;
    const auto raw = read_access_acl(folder, error);
    if (!raw) {
        if (error == 0) return found;  // no ACL: the mode tells
        found.present = true;
        found.foreign = fmt::format("the ACL of {} cannot be read ({})", folder.string(), std::strerror(error));
        return found;
    }
    return parse_acl(*raw, folder, repository_owner, strict);
}

// The writers an ACL's entries name (the raw xattr value: a version, then entries of tag,
// permissions and id), within its mask.
AclWriters parse_acl(const std::string& raw, const fs::path& folder, uid_t repository_owner, bool strict) {
    AclWriters found;
    const std::vector<unsigned char> acl(raw.begin(), raw.end());
    found.present = true;
    const auto u16 = [&](std::size_t at) { return static_cast<unsigned>(acl[at] | (acl[at + 1] << 8)); };
    const auto u32 = [&](std::size_t at) {
        return static_cast<std::uint32_t>(acl[at] | (acl[at + 1] << 8) | (acl[at + 2] << 16) |
                                          (static_cast<std::uint32_t>(acl[at + 3]) << 24));
    };
    if (acl.size() < 4 || u32(0) != 2 || (acl.size() - 4) % 8 != 0) {
        found.foreign = fmt::format("the ACL of {} is in a form this version does not know", folder.string());
        return found;
    }
    constexpr unsigned owning_group = 0x04, named_user = 0x02, named_group = 0x08, mask_entry = 0x10, write = 0x02;
    unsigned mask = 07;
    for (std::size_t at = 4; at + 8 <= acl.size(); at += 8)
        if (u16(at) == mask_entry) mask = u16(at + 2);
    for (std::size_t at = 4; at + 8 <= acl.size(); at += 8) {
        const unsigned tag = u16(at);
        if (!(u16(at + 2) & mask & write)) continue;
        if (tag == owning_group) found.owning_group_writes = true;
        if (!found.foreign.empty()) continue;
        if (tag == named_user && !trusted_owner(u32(at + 4), repository_owner))
            found.foreign = fmt::format("an ACL lets {} write to {}", user_name_of(u32(at + 4)), folder.string());
        if (tag == named_group && strict) {
            struct group group {};
            struct group* entry = nullptr;
            std::vector<char> buffer(65536);
            const gid_t gid = u32(at + 4);
            found.foreign = fmt::format("an ACL lets the members of group {} write to {}",
                                        ::getgrgid_r(gid, &group, buffer.data(), buffer.size(), &entry) == 0 && entry
                                            ? std::string(group.gr_name)
                                            : std::to_string(gid),
                                        folder.string());
        }
    }
    return found;
}

// Who besides its owner a folder's default ACL lets write to what is made in it later (files
// and folders inherit it: a checkpoint written there): a named user or group, its owning group
// unless that is the owner's private one, or others; "" when nobody.
std::string default_acl_writers(const fs::path& folder, uid_t repository_owner) {
    int error = 0;
    const auto raw = read_default_acl(folder, error);
    if (!raw) return error == 0 ? "" : fmt::format("the default ACL of {} cannot be read ({})", folder.string(),
                                                   std::strerror(error));
    const AclWriters found = parse_acl(*raw, folder, repository_owner, true);
    const std::string inherited = "what is made in it inherits its default ACL";
    if (!found.foreign.empty()) return fmt::format("{} ({})", found.foreign, inherited);
    struct stat info {};
    if (found.owning_group_writes && (::stat(folder.c_str(), &info) != 0 || !owners_private_group(info)))
        return fmt::format("the members of its group may write to what is made in {} ({})", folder.string(), inherited);
    constexpr unsigned other_entry = 0x20, write = 0x02;
    for (std::size_t at = 4; at + 8 <= raw->size(); at += 8)
        if ((static_cast<unsigned char>((*raw)[at]) | (static_cast<unsigned char>((*raw)[at + 1]) << 8)) == other_entry &&
            (static_cast<unsigned char>((*raw)[at + 2]) & write))
            return fmt::format("anyone may write to what is made in {} ({})", folder.string(), inherited);
    return "";
}

// Why another user controls `folder` (lstat'ed as `info`), or "" when nobody does: it is theirs,
// or they may write to it without the sticky bit (and so rename what is in it). `strict`: group
// members count as others too, unless the group is the owner's private one.
std::string foreign_control(const fs::path& folder, const struct stat& info, uid_t repository_owner, bool strict) {
    if (!trusted_owner(info.st_uid, repository_owner))
        return fmt::format("{} belongs to {}", folder.string(), user_name_of(info.st_uid));
    if (!S_ISDIR(info.st_mode) || (info.st_mode & S_ISVTX)) return "";
    const AclWriters acl = read_acl(folder, repository_owner, strict);
    if (!acl.foreign.empty()) return acl.foreign;
    if (info.st_mode & S_IWOTH)
        return fmt::format("anyone may write to {} (mode {:o}, without the sticky bit)", folder.string(),
                           info.st_mode & 07777);
    const bool group_writes = acl.present ? acl.owning_group_writes : (info.st_mode & S_IWGRP) != 0;
    if (strict && group_writes && !owners_private_group(info)) {
        struct group group {};
        struct group* found = nullptr;
        std::vector<char> buffer(65536);
        const std::string name = ::getgrgid_r(info.st_gid, &group, buffer.data(), buffer.size(), &found) == 0 && found
                                     ? std::string(group.gr_name)
                                     : std::to_string(info.st_gid);
        return fmt::format("the members of group {} may write to {} (mode {:o}, without the sticky bit)", name,
                           folder.string(), info.st_mode & 07777);
    }
    return "";
}

}  // namespace

std::string others_may_write(const fs::path& folder) {
    struct stat info {};
    if (::lstat(folder.c_str(), &info) != 0) return {};
    return foreign_control(folder, info, ::geteuid(), true);
}

namespace {

// Why another user controls the place `folder` is in, or "" when nobody does: a link on the path
// as written that another user made (or may replace), or the folder or one above it (links
// resolved) that is another's or that others may write to without the sticky bit; from
// strict_root down (links resolved) group members count as others too. Folders the repository
// lies in (main_worktree, common_dir) are not judged: whoever controls them controls it already.
std::string foreign_place_reason(const fs::path& folder, const fs::path& strict_root, const fs::path& main_worktree,
                                 const fs::path& common_dir) {
    struct stat repository {};
    const uid_t repository_owner = ::stat(common_dir.c_str(), &repository) == 0 ? repository.st_uid : ::geteuid();
    std::error_code ec;
    const std::vector<fs::path> repository_places{main_worktree.lexically_normal(), common_dir.lexically_normal(),
                                                  fs::weakly_canonical(main_worktree, ec),
                                                  fs::weakly_canonical(common_dir, ec)};
    const auto holds_repository = [&](const fs::path& place) {
        return std::any_of(repository_places.begin(), repository_places.end(),
                           [&](const fs::path& inside) { return !inside.empty() && is_below(inside, place); });
    };
    const auto judge = [&](const fs::path& place, bool strict) -> std::string {
        struct stat info {};
        if (holds_repository(place) || ::lstat(place.c_str(), &info) != 0) return "";
        return foreign_control(place, info, repository_owner, strict);
    };
    // The path as written, up to /: a link on it must be a trusted user's, in a folder nobody
    // else may rename it in (the folders it leads to are judged below).
    for (fs::path place = folder.lexically_normal(); place.has_relative_path(); place = place.parent_path()) {
        struct stat info {};
        if (holds_repository(place) || ::lstat(place.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) continue;
        if (!trusted_owner(info.st_uid, repository_owner))
            return fmt::format("{} is a link made by {}", place.string(), user_name_of(info.st_uid));
        if (auto why = judge(place.parent_path(), false); !why.empty()) return why;
    }
    // The folders as they are (links resolved), from the folder up to /: the owner of any of
    // them, and anyone who may write to one without the sticky bit, can rename what lies below.
    const fs::path real = fs::weakly_canonical(folder, ec);
    if (ec) return "";  // nothing of it can be resolved: nothing exists to judge
    const fs::path real_root = fs::weakly_canonical(strict_root, ec);
    for (fs::path place = real;; place = place.parent_path()) {
        if (auto why = judge(place, !ec && is_below(place, real_root)); !why.empty()) return why;
        if (place == place.parent_path() || !place.has_relative_path()) break;
    }
    return "";
}

}  // namespace

void refuse_foreign_worktree_place(const Settings& settings, const fs::path& worktree, const fs::path& common_dir) {
    // From the worktree root down group members count too (a team folder above it is the admin's choice).
    fs::path root = settings.worktree_root.lexically_normal();
    if (root.has_relative_path() && root.filename().empty()) root = root.parent_path();  // "dir/" is dir
    const std::string why = foreign_place_reason(worktree, root, settings.main_worktree, common_dir);
    if (why.empty()) return;
    throw Error(fmt::format("the worktree {} would be in a place another user controls: {}", worktree.string(), why),
                "another user could have made that folder, or could swap the model's files there; move it away "
                "(or ask its owner to), let only yourself write to a folder of yours (chmod go-w <folder>), or "
                "choose another place with `git config model.worktreeRoot <dir>`");
}

namespace {

// Why the persist folder itself is shared though sticky (/scratch, /tmp, a team folder of mode
// 1770): the sticky bit stops renames, not new names, so another user could put the checkpoint a
// resume loads there first. "" when only its owner (and its owner's private group) may create.
std::string shared_persist_folder(const fs::path& folder, uid_t repository_owner) {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(folder, ec);
    struct stat info {};
    if (ec || ::stat(real.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || !(info.st_mode & S_ISVTX)) return "";
    info.st_mode &= ~static_cast<mode_t>(S_ISVTX);  // judged as if it were not sticky
    if (foreign_control(real, info, repository_owner, true).empty()) return "";
    return fmt::format("others may create files in {} (mode {:o}; the sticky bit only stops them renaming "
                       "yours), so another user could put the checkpoint a resume loads there first; use a "
                       "folder of your own in it ({}/<you>)",
                       real.string(), (info.st_mode | S_ISVTX) & 07777, real.string());
}

}  // namespace

void make_persist_folder(const fs::path& folder, const fs::path& common_dir) {
    // The main worktree holds the common dir (.git), unless the repository is bare.
    const fs::path main_worktree = common_dir.filename() == ".git" ? common_dir.parent_path() : fs::path();
    fs::path own = folder.lexically_normal();
    if (own.has_relative_path() && own.filename().empty()) own = own.parent_path();
    struct stat repository {};
    const uid_t repository_owner = ::stat(common_dir.c_str(), &repository) == 0 ? repository.st_uid : ::geteuid();
    const auto refuse_if_foreign = [&] {
        std::string why = foreign_place_reason(own, own, main_worktree, common_dir);
        if (why.empty() && fs::is_directory(own)) why = default_acl_writers(own, repository_owner);
        if (why.empty()) why = shared_persist_folder(own, repository_owner);
        if (why.empty()) return;
        throw Error(fmt::format("the persist folder {} is in a place another user controls: {}", folder.string(), why),
                    "they could read its files, or swap the checkpoint a resume loads; move that folder away (or ask "
                    "its owner to), let only yourself write to folders of yours (chmod go-w <folder>; setfacl -k "
                    "<folder> drops a default ACL), or name another folder under persist: in .modelenv.yaml");
    };
    refuse_if_foreign();  // before: nothing is made through another user's link
    // The folders made here are the user's alone to write, whatever the umask (002 with a shared
    // primary group would let the group swap checkpoints, and be refused just below).
    std::vector<fs::path> missing;
    std::error_code ec;
    for (fs::path place = own; place.has_relative_path() && !fs::exists(fs::symlink_status(place, ec)); place = place.parent_path())
        missing.push_back(place);
    fs::create_directories(folder, ec);
    if (ec) throw Error(fmt::format("cannot create the persist folder {}: {}", folder.string(), ec.message()));
    // Nor through ACLs a parent's default ACL handed down (a checkpoint made there would inherit them).
    // Never through a link: one planted there meanwhile (refused just below) may lead to a folder
    // of the user's own whose ACLs and modes are theirs to keep.
    for (const auto& made : missing) {
        if (!fs::is_directory(fs::symlink_status(made, ec))) continue;
        ::lremovexattr(made.c_str(), "system.posix_acl_default");
        ::lremovexattr(made.c_str(), "system.posix_acl_access");
        fs::permissions(made, fs::perms::group_write | fs::perms::others_write,
                        fs::perm_options::remove | fs::perm_options::nofollow, ec);
    }
    refuse_if_foreign();  // after: one made by another user meanwhile
}

namespace {

// Drops group and other write from what the user owns below an open folder, walked by descriptor
// (openat with O_NOFOLLOW, then fchmod on what was opened, checked to be what was listed): code in
// a container writes there, and may swap a file for a link to any host file between a look and a
// change by path. Regular files and folders only; depth-limited.
void narrow_own_files_below(int folder, int depth) {
    if (depth > 64) return;
    const int listing = ::dup(folder);
    if (listing < 0) return;
    DIR* dir = ::fdopendir(listing);
    if (!dir) {
        ::close(listing);
        return;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir))
        if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) names.emplace_back(entry->d_name);
    ::closedir(dir);
    for (const auto& name : names) {
        struct stat listed {};
        if (::fstatat(folder, name.c_str(), &listed, AT_SYMLINK_NOFOLLOW) != 0) continue;
        const bool is_dir = S_ISDIR(listed.st_mode);
        if (!is_dir && !S_ISREG(listed.st_mode)) continue;  // links, devices, fifos: never opened
        UniqueFd fd(::openat(folder, name.c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0)));
        struct stat opened {};
        if (!fd || ::fstat(fd.get(), &opened) != 0 || opened.st_ino != listed.st_ino || opened.st_dev != listed.st_dev)
            continue;  // swapped meanwhile
        if (opened.st_uid == ::geteuid() && (opened.st_mode & (S_IWGRP | S_IWOTH)))
            ::fchmod(fd.get(), opened.st_mode & 07755);
        if (is_dir) narrow_own_files_below(fd.get(), depth + 1);
    }
}

}  // namespace

void make_own_folder_below(const fs::path& common_dir, const fs::path& dir) {
    make_folder_below(common_dir, dir, 0755);
    if (!is_below(dir, common_dir / "git-model")) return;
    // Walked from the common dir one name at a time, by descriptor, never through a link.
    UniqueFd folder(::open(common_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!folder) throw Error(fmt::format("cannot open {}: {}", common_dir.string(), std::strerror(errno)));
    fs::path place = common_dir;
    std::size_t depth = 0;  // 0: git-model/
    for (const auto& part : dir.lexically_normal().lexically_relative(common_dir.lexically_normal())) {
        if (part.empty() || part == ".") continue;
        place /= part;
        UniqueFd next(::openat(folder.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        struct stat info {};
        if (!next || ::fstat(next.get(), &info) != 0)
            throw Error(fmt::format("{} is not a folder any more", place.string()));
        if (depth < 2) {  // git-model/ and git-model/<area>/: every user's
            if (info.st_uid == ::geteuid() && (info.st_mode & (S_IWGRP | S_IWOTH)) && !(info.st_mode & S_ISVTX))
                ::fchmod(next.get(), (info.st_mode & 07777) | S_ISVTX);
        } else if (info.st_uid != ::geteuid()) {
            throw Error(fmt::format("the folder {} is {}'s: what git model keeps there for you would be in a place "
                                    "they control",
                                    place.string(), user_name_of(info.st_uid)),
                        fmt::format("ask {} to move it away (or root); the next command makes it afresh as yours",
                                    user_name_of(info.st_uid)));
        } else if (info.st_mode & (S_IWGRP | S_IWOTH)) {
            ::fchmod(next.get(), info.st_mode & 07755 & ~S_ISVTX);  // the user's alone: nothing to protect from renames
        }
        folder = std::move(next);
        ++depth;
    }
    // What was written there under a umask of 002 (a checkpoint, a log): the user's alone too, before
    // a run or a container loads it again.
    narrow_own_files_below(folder.get(), 0);
}

void require_utf8_worktree_path(const fs::path& path) {
    if (const auto problem = non_utf8_problem(path.string()))
        throw Error(fmt::format("the worktree's folder {} is not UTF-8 text ({}): git-model records it in JSON, "
                                "which holds only UTF-8; nothing was made",
                                printable(path.string()), *problem),
                    "give the folders on its way UTF-8 names, or choose another place for worktrees: git config "
                    "model.worktreeRoot <folder>");
}

fs::path worktree_path_for(const Settings& settings, const std::string& model_name) {
    std::string relative = settings.worktree_template;
    replace_all(relative, "{branch}", naming::model_branch(model_name));
    replace_all(relative, "{model}", model_name);
    replace_all(relative, "{repo}", settings.main_worktree.filename().string());
    const fs::path path = (settings.worktree_root / relative).lexically_normal();
    const fs::path inside = path.lexically_relative(settings.worktree_root);
    if (relative.empty() || inside.empty() || *inside.begin() == ".." || fs::path(relative).is_absolute()) {
        throw Error(fmt::format("model.worktreePath '{}' puts the worktree outside model.worktreeRoot ({})",
                                settings.worktree_template, settings.worktree_root.string()),
                    "use a relative template such as {branch} or {model}");
    }
    return path;
}

}  // namespace gm::model
