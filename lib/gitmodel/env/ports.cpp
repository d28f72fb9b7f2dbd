#include "gitmodel/env/ports.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/unique_dir.hpp"
#include "gitmodel/core/unique_fd.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

namespace {

// An IPv4 socket bound to address:port (0: any port); empty, errno set, when it cannot be bound.
UniqueFd bound_socket(const std::string& address, int port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fd;
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as engines bind: TIME_WAIT is not "taken"
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1 ||
        ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int saved = errno;
        fd.reset();
        errno = saved;
    }
    return fd;
}

// The pid (and its program) that owns a socket inode, when /proc lets us see its descriptors.
std::optional<std::pair<long, std::string>> socket_owner(unsigned long inode) {
    const std::string wanted = fmt::format("socket:[{}]", inode);
    const UniqueDir proc(::opendir("/proc"));
    if (!proc) return std::nullopt;
    std::optional<std::pair<long, std::string>> found;
    while (dirent* entry = ::readdir(proc.get())) {
        const std::string pid = entry->d_name;
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::error_code ec;
        for (const auto& fd : fs::directory_iterator("/proc/" + pid + "/fd", ec)) {
            std::error_code link_ec;
            if (fs::read_symlink(fd.path(), link_ec).string() == wanted) {
                const std::string comm = trim_end(read_text("/proc/" + pid + "/comm"), "\n");
                found = std::make_pair(std::stol(pid), comm);
                break;
            }
        }
        if (found) break;
    }
    return found;
}

}  // namespace

bool port_free(const std::string& address, int port) {
    return static_cast<bool>(bound_socket(address, port));
}

int pick_free_port(const std::string& address) {
    UniqueFd fd = bound_socket(address, 0);
    if (!fd) throw Error(fmt::format("cannot find a free port on {}: {}", address, std::strerror(errno)));
    sockaddr_in addr{};
    socklen_t length = sizeof addr;
    const bool ok = ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length) == 0;
    const int saved = errno;
    fd.reset();
    if (!ok) throw Error(fmt::format("cannot find a free port on {}: {}", address, std::strerror(saved)));
    return ntohs(addr.sin_port);
}

bool port_accepts(int port) {
    const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

std::vector<ListeningSocket> parse_proc_net_tcp(const std::string& text) {
    std::vector<ListeningSocket> out;
    std::istringstream lines(text);
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits;
        unsigned uid = 0;
        std::string timeout;
        unsigned long inode = 0;
        if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode))
            continue;
        if (state != "0A") continue;  // TCP_LISTEN
        const auto colon = local.rfind(':');
        if (colon == std::string::npos) continue;
        try {
            out.push_back({std::stoi(local.substr(colon + 1), nullptr, 16), uid, inode});
        } catch (const std::exception&) {
            continue;
        }
    }
    return out;
}

std::vector<int> label_host_ports(const std::string& label) {
    std::vector<int> out;
    std::stringstream items(label);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto last = item.rfind(':');
        if (last == std::string::npos || last == 0) continue;
        const auto mid = item.rfind(':', last - 1);
        if (mid == std::string::npos) continue;
        out.push_back(std::atoi(item.substr(mid + 1, last - mid - 1).c_str()));
    }
    return out;
}

std::vector<unsigned> listener_uids(int port) {
    std::vector<unsigned> uids;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"})
        for (const auto& socket : parse_proc_net_tcp(read_text(table)))
            if (socket.port == port) uids.push_back(socket.uid);
    return uids;
}

std::string describe_port_holder(int port, const std::vector<ContainerInfo>& containers) {
    for (const auto& info : containers) {
        const auto ports = info.labels.find(label::ports);
        if (ports == info.labels.end()) continue;
        for (int held : label_host_ports(ports->second)) {
            if (held != port) continue;
            const auto model = info.labels.find(label::model);
            const auto repo = info.labels.find(label::repo);
            return fmt::format("the environment of model '{}' (container {}{})",
                               model == info.labels.end() ? "?" : model->second, info.name,
                               repo == info.labels.end() ? "" : ", repository " + repo->second);
        }
    }
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        for (const auto& socket : parse_proc_net_tcp(read_text(table))) {
            if (socket.port != port) continue;
            const std::string user = user_name_of(socket.uid);
            if (const auto owner = socket_owner(socket.inode))
                return fmt::format("process {} ({}) of user {}", owner->first, owner->second, user);
            return fmt::format("a process of user {} (uid {})", user, socket.uid);
        }
    }
    return "another program";
}

PortAssignment assign_ports(const std::vector<config::Port>& wanted, const std::string& address,
                            const std::map<std::string, int>& recorded,
                            const std::function<bool(const std::string&, int)>& is_free,
                            const std::function<std::string(int)>& holder) {
    PortAssignment out;
    std::set<int> taken_here;
    for (const auto& port : wanted) {
        int host = 0;
        if (port.host_port) {
            host = *port.host_port;
            if (!is_free(address, host))
                throw PortConflictError(
                    fmt::format("host port {} (ports.{}: '{}:{}') is taken by {}", host, port.name, host,
                                port.container_port, holder(host)),
                    fmt::format("stop what holds it, or give ports.{} another host port (or only the container port, "
                                "for one chosen here)",
                                port.name));
        } else if (const auto last = recorded.find(port.name);
                   last != recorded.end() && !taken_here.count(last->second) && is_free(address, last->second)) {
            host = last->second;
        } else {
            do host = pick_free_port(address);
            while (taken_here.count(host));
            if (last != recorded.end())
                out.notes.push_back(fmt::format("port {} moved from {} to {}: {} holds {}", port.name, last->second, host,
                                                taken_here.count(last->second) ? "another of its ports"
                                                                               : holder(last->second),
                                                last->second));
        }
        taken_here.insert(host);
        out.ports.push_back({port.name, port.container_port, host, address});
        out.record[port.name] = host;
    }
    return out;
}

}  // namespace gm::env
