#pragma once
// One GPU lease: who holds a GPU of the machine, recorded so that any user can
// judge it from the holder's own identity (uid, pid with its start time, boot,
// container and the container's host process) rather than from what the
// caller's engine happens to see. Pure logic: the record, its file name and
// the rules that decide whether a lease still holds its GPU.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gitmodel/proc/identity.hpp"

namespace gm::env {

// A lease is written "starting" before the engine is asked to start anything, and
// "held" once the container (or the run's process) is there.
enum class LeasePhase { starting, held };

// Who holds one GPU.
struct Lease {
    std::string id;          // random, 16 hex digits: one lease file per holder and GPU
    std::string gpu;         // the GPU's identity: its UUID, or "index-<n>" in a configured pool
    int index = 0;           // its host index when taken
    uid_t uid = 0;           // the holder's uid (the lease file's owner must agree)
    std::string user;        // its name, for messages: from the file's owner when read, never from its content
    LeasePhase phase = LeasePhase::starting;
    std::int64_t since = 0;  // Unix seconds
    std::string boot_id;     // the boot it was taken in: after a reboot every holder is gone
    // The git-model process answerable for the lease while it lives: `env up` while it
    // starts the container, a sweep's scheduler for its runs. pid 0: none.
    proc::ProcessIdentity holder;
    // What uses the GPU: the container's host process, or a host run's process. pid 0: none.
    proc::ProcessIdentity workload;
    // The engine's client (`podman run`) while it creates the container: should `env up` die,
    // the container may still appear as long as this runs. pid 0: none.
    proc::ProcessIdentity starter;
    std::string engine;        // podman, docker, or "host" for a run without a container
    // The engine its container was started through (Engine::place: "" for the caller's local
    // podman, else its socket): only that very engine (podman through root's service, or the
    // user's own rootless one) can say whether the container is there. unknown_engine_host in a
    // lease written before it was recorded.
    std::string engine_host;
    std::string container;     // the container's name ("" for a host run)
    std::string container_id;  // the engine's id of it, once started
    std::string start;         // until then, the label::start token the container it starts will carry
    std::string repo;          // the repository's common git dir
    std::string model;
    std::string worktree;
    std::string sweep;         // "<sweep id>/<run>" for a sweep's run
};

// A lease's engine_host when its record predates the field: no engine may judge its container
// gone (its processes still can), so a GPU is never handed out twice over an upgrade.
inline constexpr const char* unknown_engine_host = "?";

// The lease's file name in the book: "<gpu>.<uid>.<id>.lease".
std::string lease_file_name(const Lease& lease);

// A fresh random lease id.
std::string new_lease_id();

// The lease as its file stores it.
nlohmann::json to_json(const Lease& lease);

// The user a lease file's name says holds it, or nullopt for a name that is not a lease's: the
// book checks it against the file's owner before reading a byte of another user's file.
std::optional<uid_t> lease_file_uid(const std::string& file_name);

// A lease read from the book, accepted only when its name, its content and the owner of
// the file that was opened agree (a file planted or copied by another user does not);
// nullopt otherwise, with the reason in why. Its user is the owner's name (the record's
// own "user" is its writer's free text and is not believed).
std::optional<Lease> parse_lease(const std::string& file_name, const std::string& content, uid_t owner,
                                 std::string* why = nullptr);

// Whether a lease still holds its GPU.
enum class Verdict {
    held,     // its holder, its workload or its container is there
    gone,     // provably: a reboot since, or its processes ended and its container is gone
    unknown,  // the caller cannot tell (another user's container): it keeps its GPU
};

// A verdict, the word `git model gpus` shows for it, and why.
struct Judgement {
    Verdict verdict = Verdict::unknown;
    std::string state;  // starting, running, paused, stopped, gone, unknown
    std::string why;    // for messages: "its process 123 ended", "only alice or root can see ..."
};

// The container state a JudgeContext gives for a start's container that is not there yet while
// an engine client of the caller's still creates it.
inline constexpr const char* creating_state = "creating";

// What a judgement may ask about the world.
struct JudgeContext {
    std::string boot_id;  // this boot's
    // A recorded process: alive, gone, or cannot be told.
    std::function<proc::Liveness(const proc::ProcessIdentity&)> process;
    // The user a running process belongs to (nullopt: cannot be told). A live process of another
    // user than the lease's does not hold it (a hand-written lease naming PID 1, or a pid reused
    // since): a lease's holder, starter and workload are its own user's. Empty: never asked.
    std::function<std::optional<uid_t>(long pid)> process_owner;
    // The caller's own engine's view of a lease's container, asked only where that view is the
    // holder's (same uid, same engine): its state ("running", "paused", "exited", ...), "" when
    // it does not exist (creating_state while a client creates it), nullopt when the engine cannot
    // say. Empty: never asked.
    std::function<std::optional<std::string>(const Lease&)> container_state;
    // The engine container_state asks (Engine::name and place()): a lease of the caller's taken
    // through another one is named as such.
    std::string engine_name;
    std::string engine_place;
};

// Judges a lease: gone after a reboot; held while its holder, starter or workload process runs;
// a host run's lease is gone once its processes are; a container's lease is held while
// the container exists in any state (running, paused, stopped), which only its owner's
// engine can say; unknown when nobody here can tell.
Judgement judge(const Lease& lease, const JudgeContext& context);

// Whether a lease is older than the machine's limit (hours; none: never), or bears a time no
// git-model writes (none, or ahead of the clock), so that root sees it either way.
bool overdue(const Lease& lease, std::optional<int> max_hours, std::int64_t now);

// One line naming a lease's holder for messages: "GPU 0 (index-0) is held by model 'a' of
// /repo/.git (container gm-..., worktree ..., user alice, since 2025-01-01 12:00)". Every
// field is made printable (see gm::printable): a lease is another user's text.
std::string describe_holder(const Lease& lease);

// What holds the lease, in a few words, printable: "sweep run 3/1, container gm-...",
// "container gm-...", "process 123".
std::string holder_words(const Lease& lease);

// The processes of a lease that still run (holder, starter, workload), described for a
// message ("its process 123 runs"); empty when none does or none can be told. `except`:
// a pid not to count (the caller's own).
std::string running_processes(const Lease& lease, const std::function<proc::Liveness(const proc::ProcessIdentity&)>& process,
                              long except = 0);

// "2025-01-01 12:00" in local time, for messages and tables.
std::string format_time(std::int64_t unix_seconds);

}  // namespace gm::env
