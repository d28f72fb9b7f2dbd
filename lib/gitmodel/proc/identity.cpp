#include "gitmodel/proc/identity.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace gm::proc {

namespace {

// A process's real uid from /proc/<pid>/status ("Uid:\t<real>\t<effective>..."): the user who
// started it, also for a setuid program, whose /proc folder another user's name does not own.
std::optional<uid_t> real_uid_of(long pid) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);)
        if (line.rfind("Uid:", 0) == 0) return static_cast<uid_t>(std::strtoul(line.c_str() + 4, nullptr, 10));
    return std::nullopt;
}

// A process's arguments from /proc/<pid>/cmdline (NUL-separated); empty when it cannot be read.
std::vector<std::string> read_records(long pid, const char* file) {
    const std::string path = fmt::format("/proc/{}/{}", pid, file);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string text;
    char buffer[4096];
    for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) != 0 && text.size() < (1 << 20);) {
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break;
        text.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
    return split_records(text, '\0');
}

std::vector<std::string> read_arguments(long pid) { return read_records(pid, "cmdline"); }

// Calls visit(pid) for every process /proc lists but this one.
template <typename Visit>
void for_each_process(Visit&& visit) {
    DIR* listing = ::opendir("/proc");
    if (!listing) return;
    while (const dirent* entry = ::readdir(listing)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0' || pid == ::getpid()) continue;
        if (!visit(pid)) break;
    }
    ::closedir(listing);
}

}  // namespace

std::optional<long> find_own_process(const std::vector<std::string>& arguments) {
    std::optional<long> found;
    for_each_process([&](long pid) {
        if (real_uid_of(pid) != std::optional<uid_t>(::getuid())) return true;
        const auto argv = read_arguments(pid);
        if (argv.empty() || arguments.empty() ||
            std::search(argv.begin() + 1, argv.end(), arguments.begin(), arguments.end()) == argv.end())
            return true;
        const auto stat_line = read_process_stat(pid);
        if (!stat_line || stat_line->state == 'Z') return true;
        found = pid;
        return false;
    });
    return found;
}

std::vector<long> processes_with_environment(const std::string& entry) {
    std::vector<long> found;
    for_each_process([&](long pid) {
        const auto environment = read_records(pid, "environ");
        if (std::find(environment.begin(), environment.end(), entry) == environment.end()) return true;
        const auto stat_line = read_process_stat(pid);
        if (stat_line && stat_line->state != 'Z' && stat_line->state != 'X') found.push_back(pid);
        return true;
    });
    return found;
}

ProcessIdentity self_identity() {
    ProcessIdentity self;
    self.pid = static_cast<long>(::getpid());
    if (auto stat = read_process_stat(self.pid)) self.start_ticks = stat->start_ticks;
    return self;
}

std::optional<ProcessIdentity> identity_of(long pid) {
    if (pid <= 0) return std::nullopt;
    const auto stat = read_process_stat(pid);
    if (!stat || stat->state == 'Z' || stat->state == 'X') return std::nullopt;
    return ProcessIdentity{pid, stat->start_ticks};
}

Liveness liveness(const ProcessIdentity& process) {
    if (process.pid <= 0) return Liveness::gone;
    if (const auto stat = read_process_stat(process.pid)) {
        if (stat->state == 'Z' || stat->state == 'X') return Liveness::gone;
        return process.start_ticks == 0 || stat->start_ticks == process.start_ticks ? Liveness::alive : Liveness::gone;
    }
    // /proc hides it (hidepid) or it is gone: the kernel still tells which.
    if (::kill(static_cast<pid_t>(process.pid), 0) != 0 && errno == ESRCH) return Liveness::gone;
    return Liveness::unknown;
}

bool is_running(const ProcessIdentity& process) { return liveness(process) == Liveness::alive; }

std::optional<uid_t> process_owner(long pid) {
    if (pid <= 0) return std::nullopt;
    return real_uid_of(pid);
}

std::string pid_namespace(long pid) {
    if (pid <= 0) return "";
    char target[128];
    const std::string link = fmt::format("/proc/{}/ns/pid", pid);
    const ssize_t got = ::readlink(link.c_str(), target, sizeof target - 1);
    return got > 0 ? std::string(target, static_cast<std::size_t>(got)) : std::string();
}

const std::string& boot_id() {
    static const std::string id = [] {
        std::string text;
        const int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buffer[64];
            const ssize_t got = ::read(fd, buffer, sizeof buffer);
            if (got > 0) text.assign(buffer, static_cast<std::size_t>(got));
            ::close(fd);
        }
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        return text;
    }();
    return id;
}

}  // namespace gm::proc
