#include "gitmodel/core/host.hpp"

#include <cstdlib>

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace gm {

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<std::string> account_name(uid_t uid) {
    // getpwuid_r with a buffer of our own: the static getpwuid is not thread-safe.
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_name)
        return std::string(found->pw_name);
    return std::nullopt;
}

std::string user_name_of(uid_t uid) { return account_name(uid).value_or(std::to_string(uid)); }

std::string user_name() { return user_name_of(::geteuid()); }

const char* env_or_null(const char* name) {
    const char* value = std::getenv(name);
    return value && *value ? value : nullptr;
}

}  // namespace gm
