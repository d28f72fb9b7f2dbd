#include "gitmodel/core/host.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
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

std::optional<long> own_process_with_arguments(const std::vector<std::string>& arguments) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) != 0 || st.st_uid != ::geteuid()) continue;
        // A process that ends meanwhile fails the read (ESRCH), which libstdc++ throws from an
        // istreambuf_iterator: read_text's stream copy takes it as the end instead.
        const std::string text = read_text(entry.path() / "cmdline");
        std::vector<std::string> argv;
        for (std::size_t at = 0; at < text.size();) {
            const auto end = std::min(text.find('\0', at), text.size());
            argv.push_back(text.substr(at, end - at));
            at = end + 1;
        }
        const bool all = std::all_of(arguments.begin(), arguments.end(), [&](const std::string& wanted) {
            return std::find(argv.begin(), argv.end(), wanted) != argv.end();
        });
        if (all && !argv.empty()) return std::stol(name);
    }
    return std::nullopt;
}

std::string user_name_of(uid_t uid) { return account_name(uid).value_or(std::to_string(uid)); }

std::vector<IdRange> subordinate_ranges(const std::string& text, const std::string& name, unsigned uid) {
    std::vector<IdRange> ranges;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        const auto first_colon = line.find(':');
        const auto second_colon = first_colon == std::string::npos ? first_colon : line.find(':', first_colon + 1);
        if (second_colon == std::string::npos) continue;
        const std::string who = line.substr(0, first_colon);
        if (who != name && who != std::to_string(uid)) continue;
        const auto number = [](const std::string& field) -> std::optional<unsigned long> {
            if (field.empty() || field.size() > 10 || field.find_first_not_of("0123456789") != std::string::npos)
                return std::nullopt;
            return std::stoul(field);
        };
        const auto first = number(line.substr(first_colon + 1, second_colon - first_colon - 1));
        const auto count = number(line.substr(second_colon + 1));
        if (!first || !count || *first > UINT32_MAX || *count > UINT32_MAX) continue;
        ranges.push_back({static_cast<unsigned>(*first), static_cast<unsigned>(*count)});
    }
    return ranges;
}

bool in_ranges(const std::vector<IdRange>& ranges, unsigned uid) {
    for (const auto& range : ranges)
        if (uid >= range.first && uid - range.first < range.count) return true;
    return false;
}

std::vector<IdRange> own_subordinate_uids() {
    const unsigned uid = ::geteuid();
    return subordinate_ranges(read_text("/etc/subuid"), user_name_of(uid), uid);
}

std::string user_name() { return user_name_of(::geteuid()); }

std::optional<ProcessStat> read_process_stat(long pid) {
    if (pid <= 0) return std::nullopt;
    const std::string path = fmt::format("/proc/{}/stat", pid);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buffer[1024];
    ssize_t got;
    do got = ::read(fd, buffer, sizeof buffer - 1);
    while (got < 0 && errno == EINTR);
    ::close(fd);
    if (got <= 0) return std::nullopt;
    const std::string text(buffer, static_cast<std::size_t>(got));
    const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
    // Fields after the name: 3 state, ... 22 start time.
    const char* p = text.c_str() + close + 2;
    ProcessStat stat;
    stat.state = *p;
    for (int field = 3; field < 22 && *p; ++p)
        if (*p == ' ') ++field;
    stat.start_ticks = std::strtoull(p, nullptr, 10);
    return stat;
}

std::optional<std::int64_t> process_start_seconds(const ProcessStat& stat) {
    static const std::optional<std::int64_t> boot_time = [] () -> std::optional<std::int64_t> {
        std::ifstream in("/proc/stat");
        for (std::string word; in >> word;) {
            if (word != "btime") continue;
            std::int64_t seconds = 0;
            if (in >> seconds) return seconds;
            break;
        }
        return std::nullopt;
    }();
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (!boot_time || ticks <= 0) return std::nullopt;
    return *boot_time + static_cast<std::int64_t>(stat.start_ticks / static_cast<unsigned long long>(ticks));
}

const char* env_or_null(const char* name) {
    const char* value = std::getenv(name);
    return value && *value ? value : nullptr;
}

std::set<std::string> driver_gpu_uuids() {
    std::set<std::string> uuids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/driver/nvidia/gpus", ec)) {
        std::istringstream lines(read_text(entry.path() / "information"));
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind("GPU UUID:", 0) != 0) continue;
            std::istringstream words(line.substr(9));
            std::string uuid;
            words >> uuid;
            if (!uuid.empty()) uuids.insert(uuid);
        }
    }
    return uuids;
}

}  // namespace gm
