#pragma once
// Facts of this process's machine that many layers ask for: the time and who runs us.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace gm {

// Now, in Unix seconds: what leases, runs and caches record and compare ages against.
std::int64_t now_seconds();

// The account name of a uid in the user database (getpwuid_r), nullopt when it has none.
std::optional<std::string> account_name(uid_t uid);

// The user name of a uid (its number when it has none), for messages.
std::string user_name_of(uid_t uid);

// An environment variable's value, nullptr when it is unset or empty (git treats an empty
// GIT_DIR or GIT_CONFIG_NOSYSTEM as unset too).
const char* env_or_null(const char* name);

// The name of the user this process runs as (its effective uid), for messages and logs.
std::string user_name();

}  // namespace gm
