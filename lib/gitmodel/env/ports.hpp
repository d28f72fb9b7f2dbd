#pragma once
// Host ports for a model's published ports: a fixed one when the file names it
// ('8888:8888', refused only when taken, naming who holds it), else the one the model
// had last time while it is free (bookmarks and SSH configs keep working), else a new one.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/launch.hpp"

namespace gm::env {

// Whether nothing listens on address:port right now (a bind test; TIME_WAIT does not count).
bool port_free(const std::string& address, int port);

// A host port nobody listens on right now (the engine binds it moments later).
int pick_free_port(const std::string& address);

// Whether something accepts connections on 127.0.0.1:port.
bool port_accepts(int port);

// A listening TCP socket as /proc/net/tcp and tcp6 list it.
struct ListeningSocket {
    int port = 0;
    unsigned uid = 0;
    unsigned long inode = 0;
};

// The listening sockets of /proc/net/tcp or /proc/net/tcp6 text.
std::vector<ListeningSocket> parse_proc_net_tcp(const std::string& text);

// The uids owning the sockets that listen on a port in this network namespace: in the host's
// network (a rootless podman whose netns is "host") anyone may listen on a port before the
// container does, and a connection alone cannot tell whose program answered.
std::vector<unsigned> listener_uids(int port);

// The host ports in a container's io.git-model.ports label ("name=addr:host:container,...").
std::vector<int> label_host_ports(const std::string& label);

// Who holds a host port, for messages: one of the suite's environments (from the containers'
// port labels), else the listening process and its user as far as /proc shows, else
// "another program".
std::string describe_port_holder(int port, const std::vector<ContainerInfo>& containers);

// A fixed host port that is taken (exit 1).
class PortConflictError : public Error {
public:
    using Error::Error;
};

// The host ports chosen for a launch.
struct PortAssignment {
    std::vector<PublishedPort> ports;   // in the file's order
    std::map<std::string, int> record;  // by name, to remember for next time
    std::vector<std::string> notes;     // "port jupyter moved from 8890 to 41233: ... holds 8890"
};

// Chooses the host ports; holder(port) names who holds a taken one. Throws
// PortConflictError when a fixed port is taken.
PortAssignment assign_ports(const std::vector<config::Port>& wanted, const std::string& address,
                            const std::map<std::string, int>& recorded,
                            const std::function<bool(const std::string&, int)>& is_free,
                            const std::function<std::string(int)>& holder);

}  // namespace gm::env
