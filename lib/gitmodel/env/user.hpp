#pragma once
// Who a container's processes run as (`user:` in .modelenv.yaml), so that the files a
// training writes into the worktree and the persist folders belong to the person who
// started it: the engine flags for each engine mode, and the passwd/group lines and HOME
// the image needs to know that user. Pure, apart from reading the caller's own account.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/env/engine.hpp"

namespace gm::env {

// The caller as the host knows them.
struct Caller {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string name;   // login name; "u<uid>" when the account has none a container could use
    std::string group;  // primary group's name; "g<gid>" likewise
};

// The caller of this process (getpwuid/getgrgid of the effective ids).
Caller current_caller();

// An image's own account files (/etc/passwd and /etc/group), as read from it.
struct ImageAccounts {
    std::string passwd;
    std::string group;
};

// Splits `cat /etc/passwd /etc/group` output: passwd lines have seven fields, group lines four.
ImageAccounts split_accounts(const std::string& cat_output);

// How the container's user is set up.
struct UserPlan {
    std::vector<std::string> run_flags;  // --user uid:gid, or --userns=keep-id[:uid=U,gid=G]
    bool needs_accounts = false;         // passwd/group below are to be mounted (and were made from the image's)
    std::string passwd;                  // the image's /etc/passwd with the user's line
    std::string group;                   // the image's /etc/group with the user's group
    std::string login;                   // the name inside ("root" when the processes run as root)
    std::string home;                    // HOME inside when we provide it (mounted from the host); "" otherwise
    bool home_in_tmpfs = false;          // HOME is a tmpfs, not the host folder: another uid than the caller's on a rootful engine
    bool as_root = false;                // the processes run as root inside (user: image counts as unknown: false)
};

// The plan for a `user:` setting. accounts: the image's own files, needed only when
// needs_accounts comes back true on a first call without them (see accounts_needed).
UserPlan plan_user(const config::UserSetting& setting, EngineMode mode, EngineKind kind, const Caller& caller,
                   const std::optional<ImageAccounts>& accounts);

// Whether plan_user needs the image's account files for this setting and engine.
bool accounts_needed(const config::UserSetting& setting, EngineMode mode, EngineKind kind, const Caller& caller);

}  // namespace gm::env
