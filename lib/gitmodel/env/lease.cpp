#include "gitmodel/env/lease.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <unistd.h>
#include <vector>

namespace gm::env {

namespace {

bool is_gpu_identity(const std::string& text) {
    if (text.empty() || text.size() > 96) return false;
    for (unsigned char c : text)
        if (!std::isalnum(c) && c != '-' && c != '_') return false;
    return true;
}

bool is_hex(const std::string& text, std::size_t size) {
    if (text.size() != size) return false;
    for (unsigned char c : text)
        if (!std::isxdigit(c) || std::isupper(c)) return false;
    return true;
}

// Splits "<gpu>.<uid>.<id>.lease"; false when the name does not have that shape.
bool split_name(const std::string& name, std::string& gpu, std::string& uid, std::string& id) {
    const std::string suffix = ".lease";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
    const std::string stem = name.substr(0, name.size() - suffix.size());
    const auto last = stem.rfind('.');
    if (last == std::string::npos || last == 0) return false;
    const auto middle = stem.rfind('.', last - 1);
    if (middle == std::string::npos) return false;
    gpu = stem.substr(0, middle);
    uid = stem.substr(middle + 1, last - middle - 1);
    id = stem.substr(last + 1);
    return is_gpu_identity(gpu) && !uid.empty() && uid.find_first_not_of("0123456789") == std::string::npos &&
           uid.size() <= 10 && is_hex(id, 16);
}

nlohmann::json identity_json(const proc::ProcessIdentity& process) {
    return {{"pid", process.pid}, {"start", process.start_ticks}};
}

proc::ProcessIdentity identity_from(const nlohmann::json& json) {
    proc::ProcessIdentity process;
    if (!json.is_object()) return process;
    process.pid = json.value("pid", 0L);
    process.start_ticks = json.value("start", 0ULL);
    return process;
}

}  // namespace

std::string lease_file_name(const Lease& lease) { return fmt::format("{}.{}.{}.lease", lease.gpu, lease.uid, lease.id); }

std::optional<uid_t> lease_file_uid(const std::string& file_name) {
    std::string gpu, uid, id;
    if (!split_name(file_name, gpu, uid, id)) return std::nullopt;
    return static_cast<uid_t>(std::stoul(uid));
}

std::string new_lease_id() { return random_hex(8); }

nlohmann::json to_json(const Lease& lease) {
    // Paths go into JSON, which carries only UTF-8: any other byte is written as U+FFFD.
    return {{"version", 2},
            {"id", lease.id},
            {"gpu", lease.gpu},
            {"index", lease.index},
            {"uid", lease.uid},
            {"user", valid_utf8(lease.user)},
            {"phase", lease.phase == LeasePhase::starting ? "starting" : "held"},
            {"since", lease.since},
            {"boot_id", lease.boot_id},
            {"holder", identity_json(lease.holder)},
            {"workload", identity_json(lease.workload)},
            {"starter", identity_json(lease.starter)},
            {"engine", valid_utf8(lease.engine)},
            {"engine_host", valid_utf8(lease.engine_host)},
            {"container", valid_utf8(lease.container)},
            {"container_id", valid_utf8(lease.container_id)},
            {"start", valid_utf8(lease.start)},
            {"repo", valid_utf8(lease.repo)},
            {"model", valid_utf8(lease.model)},
            {"worktree", valid_utf8(lease.worktree)},
            {"sweep", valid_utf8(lease.sweep)}};
}

std::optional<Lease> parse_lease(const std::string& file_name, const std::string& content, uid_t owner, std::string* why) {
    const auto reject = [&](std::string reason) -> std::optional<Lease> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    std::string gpu, uid_text, id;
    if (!split_name(file_name, gpu, uid_text, id)) return reject("not a lease file name");
    const auto json = nlohmann::json::parse(content, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return reject("not a lease record (JSON object)");
    try {
        Lease lease;
        lease.id = json.value("id", "");
        lease.gpu = json.value("gpu", "");
        lease.index = json.value("index", 0);
        lease.uid = json.value("uid", static_cast<uid_t>(-1));
        lease.user = user_name_of(owner);  // who wrote the file, not what it says
        const std::string phase = json.value("phase", "");
        if (phase != "starting" && phase != "held") return reject("no phase (starting or held)");
        lease.phase = phase == "starting" ? LeasePhase::starting : LeasePhase::held;
        lease.since = json.value("since", std::int64_t{0});
        lease.boot_id = json.value("boot_id", "");
        lease.holder = identity_from(json.value("holder", nlohmann::json()));
        lease.workload = identity_from(json.value("workload", nlohmann::json()));
        lease.starter = identity_from(json.value("starter", nlohmann::json()));
        lease.engine = json.value("engine", "");
        lease.engine_host = json.contains("engine_host") ? json.value("engine_host", "") : unknown_engine_host;
        lease.container = json.value("container", "");
        lease.container_id = json.value("container_id", "");
        lease.start = json.value("start", "");
        lease.repo = json.value("repo", "");
        lease.model = json.value("model", "");
        lease.worktree = json.value("worktree", "");
        lease.sweep = json.value("sweep", "");
        // Longer than any lease the suite writes: junk (and a way to flood every reader's screen).
        for (const auto& [field, limit] : {std::pair{&lease.model, 256}, {&lease.container, 256}, {&lease.sweep, 256},
                                           {&lease.engine, 64}, {&lease.container_id, 128}, {&lease.start, 64}, {&lease.repo, 4096},
                                           {&lease.worktree, 4096}, {&lease.engine_host, 4096}})
            if (field->size() > static_cast<std::size_t>(limit)) return reject("a field is longer than a lease ever holds");
        // The file's owner is who holds it; name and content must say the same.
        if (lease.id != id || lease.gpu != gpu) return reject("its name and its record disagree");
        // "index-N" names the GPU by its index: a record that says another index is not one the suite wrote.
        if (starts_with(lease.gpu, "index-") && lease.gpu != fmt::format("index-{}", lease.index))
            return reject("its GPU's name and its index disagree");
        if (std::to_string(lease.uid) != uid_text) return reject("its name and its record name different users");
        if (lease.uid != owner)
            return reject(fmt::format("it names user {} but belongs to {}", lease.uid, owner));
        return lease;
    } catch (const nlohmann::json::exception&) {
        return reject("a field has the wrong type");
    }
}

Judgement judge(const Lease& lease, const JudgeContext& context) {
    if (!lease.boot_id.empty() && !context.boot_id.empty() && lease.boot_id != context.boot_id)
        return {Verdict::gone, "gone", "the machine restarted since it was taken"};
    const auto check = [&](const proc::ProcessIdentity& process) {
        if (process.pid <= 0) return proc::Liveness::gone;
        const auto alive = context.process(process);
        if (alive != proc::Liveness::alive || !context.process_owner) return alive;
        const auto owner = context.process_owner(process.pid);
        return !owner || *owner == lease.uid ? alive : proc::Liveness::gone;
    };
    const auto holder = check(lease.holder);
    const auto workload = check(lease.workload);
    const auto starter = check(lease.starter);
    const bool starting = lease.phase == LeasePhase::starting;
    if (holder == proc::Liveness::alive)
        return {Verdict::held, starting ? "starting" : "running", fmt::format("its process {} runs", lease.holder.pid)};
    if (workload == proc::Liveness::alive) return {Verdict::held, "running", fmt::format("its process {} runs", lease.workload.pid)};
    // `env up` died while its engine creates the container: the container may yet appear.
    if (starter == proc::Liveness::alive)
        return {Verdict::held, starting ? "starting" : "running",
                fmt::format("its engine process {} is still creating the container", lease.starter.pid)};
    const bool hidden = holder == proc::Liveness::unknown || workload == proc::Liveness::unknown ||
                        starter == proc::Liveness::unknown;
    const std::string user = lease.user.empty() ? "its holder" : printable(lease.user, 64);
    if (lease.container.empty()) {
        if (hidden) return {Verdict::unknown, "unknown", fmt::format("the processes of {} cannot be inspected here", user)};
        const long pid = lease.workload.pid > 0 ? lease.workload.pid : lease.holder.pid;
        return {Verdict::gone, "gone", pid > 0 ? fmt::format("its process {} ended", pid) : "it names no process"};
    }
    const std::string container = printable(lease.container, 96);
    if (context.container_state) {
        if (const auto state = context.container_state(lease)) {
            if (state->empty()) return {Verdict::gone, "gone", fmt::format("its container {} is gone", container)};
            if (*state == creating_state)
                return {Verdict::held, "starting", fmt::format("its engine is still creating the container {}", container)};
            const std::string word = *state == "running" ? "running" : *state == "paused" ? "paused" : "stopped";
            return {Verdict::held, word, fmt::format("its container {} exists ({})", container, printable(*state, 32))};
        }
    }
    if (context.container_state && lease.uid == ::geteuid() && !lease.container.empty() &&
        (lease.engine != context.engine_name || lease.engine_host != context.engine_place))  // the caller's own, another engine's
        return {Verdict::unknown, "unknown",
                lease.engine_host == unknown_engine_host
                    ? fmt::format("its container {} was started by an older git-model, which did not record through "
                                  "which engine; `git model env down` of its model with that engine gives it back "
                                  "(`git model gpus release {}` once the container is gone everywhere)",
                                  container, printable(lease.gpu, 64))
                : !lease.sweep.empty()
                    ? fmt::format("its sweep run's container {} runs in the engine at {}, which alone can tell whether "
                                  "it is there; `git model gpus` with that engine (git config model.engineHost) "
                                  "settles it",
                                  container, lease.engine_host.empty() ? "your own podman" : printable(lease.engine_host, 200))
                    : fmt::format("its container {} runs in the engine at {}, which alone can tell whether it is "
                                  "there; `git model env down` of its model with that engine (git config "
                                  "model.engineHost) gives it back",
                                  container, lease.engine_host.empty() ? "your own podman" : printable(lease.engine_host, 200))};
    if (lease.uid == 0)  // a rootful engine's container: root's view, which this caller lacks
        return {Verdict::unknown, "unknown", fmt::format("only root can see the container {}", container)};
    return {Verdict::unknown, "unknown", fmt::format("only {} or root can see the container {}", user, container)};
}

bool overdue(const Lease& lease, std::optional<int> max_hours, std::int64_t now) {
    if (!max_hours || *max_hours <= 0) return false;
    // git-model stamps every lease with the clock; a time before 1970 or ahead of the clock is a
    // file written by hand, which would otherwise never come due.
    constexpr std::int64_t clock_slack_seconds = 600;
    if (lease.since <= 0 || lease.since > now + clock_slack_seconds) return true;
    return now - lease.since > std::int64_t{*max_hours} * 3600;
}

std::string format_time(std::int64_t unix_seconds) {
    std::time_t when = static_cast<std::time_t>(unix_seconds);
    char text[32] = "?";
    std::tm local{};
    if (unix_seconds > 0 && ::localtime_r(&when, &local)) std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local);
    return text;
}

std::string holder_words(const Lease& lease) {
    std::string what = lease.container.empty()
                           ? fmt::format("process {}", lease.workload.pid > 0 ? lease.workload.pid : lease.holder.pid)
                           : "container " + printable(lease.container, 96);
    if (!lease.sweep.empty()) what = fmt::format("sweep run {}, {}", printable(lease.sweep, 64), what);
    return what;
}

std::string describe_holder(const Lease& lease) {
    return fmt::format("GPU {} ({}) is held by model '{}' of {} ({}, worktree {}, user {}, since {})", lease.index,
                       printable(lease.gpu, 96), printable(lease.model, 96), printable(lease.repo), holder_words(lease),
                       printable(lease.worktree), printable(lease.user, 64), format_time(lease.since));
}

std::string running_processes(const Lease& lease, const std::function<proc::Liveness(const proc::ProcessIdentity&)>& process,
                              long except) {
    std::vector<std::string> running;
    for (const auto* identity : {&lease.holder, &lease.starter, &lease.workload})
        if (identity->pid > 0 && identity->pid != except && process(*identity) == proc::Liveness::alive)
            running.push_back(std::to_string(identity->pid));
    if (running.empty()) return {};
    return fmt::format("its process{} {} still run{}", running.size() == 1 ? "" : "es", join(running, ", "),
                       running.size() == 1 ? "s" : "");
}

}  // namespace gm::env
