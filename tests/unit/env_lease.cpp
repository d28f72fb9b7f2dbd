// env/lease: the lease record, its file name, and the rules that judge whether it still holds its GPU.
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/lease.hpp"

#include <catch2/catch.hpp>

using namespace gm::env;
using gm::proc::Liveness;
using gm::proc::ProcessIdentity;

namespace {

Lease sample() {
    Lease lease;
    lease.id = "0123456789abcdef";
    lease.gpu = "GPU-5c1a2b3c-0000-1111-2222-333344445555";
    lease.index = 3;
    lease.uid = 1001;
    lease.user = "alice";
    lease.phase = LeasePhase::held;
    lease.since = 1767323045;
    lease.boot_id = "boot-a";
    lease.holder = {0, 0};
    lease.workload = {4242, 777};
    lease.engine = "podman";
    lease.container = "gm-repo-a-12345678";
    lease.container_id = "abc123";
    lease.repo = "/home/alice/repo/.git";
    lease.model = "a";
    lease.worktree = "/home/alice/worktrees/a";
    return lease;
}

// A context where the listed pids live (with any start time), others are gone, and hidden ones unknown.
JudgeContext context(std::vector<long> alive, std::vector<long> hidden = {}) {
    JudgeContext c;
    c.boot_id = "boot-a";
    c.process = [alive, hidden](const ProcessIdentity& p) {
        if (std::find(alive.begin(), alive.end(), p.pid) != alive.end()) return Liveness::alive;
        if (std::find(hidden.begin(), hidden.end(), p.pid) != hidden.end()) return Liveness::unknown;
        return Liveness::gone;
    };
    return c;
}

}  // namespace

TEST_CASE("lease: the file name carries GPU, uid and id; the record round-trips", "[env][lease]") {
    const Lease lease = sample();
    const std::string name = lease_file_name(lease);
    CHECK(name == "GPU-5c1a2b3c-0000-1111-2222-333344445555.1001.0123456789abcdef.lease");
    CHECK(lease_file_uid(name) == 1001u);
    CHECK(lease_file_uid("index-0.0.0123456789abcdef.lease") == 0u);
    CHECK_FALSE(lease_file_uid("index-0.lease"));               // the old one-file-per-GPU name
    CHECK_FALSE(lease_file_uid("index-0.0.0123456789ABCDEF.lease"));
    CHECK_FALSE(lease_file_uid("../x.0.0123456789abcdef.lease"));
    CHECK_FALSE(lease_file_uid(".lock"));
    const auto back = parse_lease(name, to_json(lease).dump(), 1001);
    REQUIRE(back);
    CHECK(back->gpu == lease.gpu);
    CHECK(back->workload.pid == 4242);
    CHECK(back->workload.start_ticks == 777);
    CHECK(back->container == lease.container);
    CHECK(back->phase == LeasePhase::held);
    CHECK(new_lease_id().size() == 16);
    CHECK(new_lease_id() != new_lease_id());
}

TEST_CASE("lease: a record is accepted only when its file's owner, name and content agree", "[env][lease]") {
    const Lease lease = sample();
    const std::string name = lease_file_name(lease);
    const std::string text = to_json(lease).dump();
    std::string why;
    // Planted by another user under alice's name: the owner of the opened file decides.
    CHECK_FALSE(parse_lease(name, text, 6666, &why));
    CHECK(why == "it names user 1001 but belongs to 6666");
    // Copied (or hard-linked) under another id or GPU.
    CHECK_FALSE(parse_lease("GPU-other.1001.0123456789abcdef.lease", text, 1001, &why));
    CHECK(why == "its name and its record disagree");
    CHECK_FALSE(parse_lease("GPU-5c1a2b3c-0000-1111-2222-333344445555.1001.ffffffffffffffff.lease", text, 1001, &why));
    CHECK_FALSE(parse_lease("GPU-5c1a2b3c-0000-1111-2222-333344445555.6666.0123456789abcdef.lease", text, 6666, &why));
    CHECK(why == "its name and its record name different users");
    CHECK_FALSE(parse_lease(name, "not json", 1001, &why));
    CHECK_FALSE(parse_lease(name, R"({"id": 5})", 1001, &why));
    CHECK_FALSE(parse_lease(name, "[]", 1001, &why));
}

TEST_CASE("lease: judged from its holder, not from the caller's view", "[env][lease]") {
    Lease lease = sample();
    // The container's process runs: held, whoever asks.
    CHECK(judge(lease, context({4242})).verdict == Verdict::held);
    CHECK(judge(lease, context({4242})).state == "running");
    // After a reboot every holder is gone.
    lease.boot_id = "boot-b";
    CHECK(judge(lease, context({4242})).verdict == Verdict::gone);
    lease.boot_id = "boot-a";
    // Its process ended, and the caller cannot see the container (another user's rootless engine): it stays.
    auto judgement = judge(lease, context({}));
    CHECK(judgement.verdict == Verdict::unknown);
    CHECK(judgement.why == "only alice or root can see the container gm-repo-a-12345678");
    Lease rootful = sample();  // root's own container: no "root or root"
    rootful.uid = 0;
    rootful.user = "root";
    CHECK(judge(rootful, context({})).why == "only root can see the container gm-repo-a-12345678");
    // The holder's own engine decides: any state keeps the GPU (paused, stopped), absence frees it.
    auto with_engine = [&](std::optional<std::string> state) {
        auto c = context({});
        c.container_state = [state](const Lease&) { return state; };
        return judge(lease, c);
    };
    CHECK(with_engine(std::string("paused")).verdict == Verdict::held);
    CHECK(with_engine(std::string("paused")).state == "paused");
    CHECK(with_engine(std::string("exited")).state == "stopped");
    CHECK(with_engine(std::string("exited")).verdict == Verdict::held);
    CHECK(with_engine(std::string()).verdict == Verdict::gone);
    CHECK(with_engine(std::nullopt).verdict == Verdict::unknown);  // the engine did not answer
}

TEST_CASE("lease: a live process of another user holds no lease (PID 1 named by hand, a pid reused)", "[env][lease]") {
    Lease lease = sample();
    lease.engine = "host";
    lease.container.clear();
    lease.workload = {1, 0};  // written by hand: PID 1, any start time
    auto c = context({1});
    c.process_owner = [](long pid) -> std::optional<uid_t> { return pid == 1 ? 0u : 1001u; };
    const auto judged = judge(lease, c);
    CHECK(judged.verdict == Verdict::gone);
    CHECK(judged.why == "its process 1 ended");
    lease.workload = {4242, 777};  // alice's own run
    c = context({4242});
    c.process_owner = [](long) -> std::optional<uid_t> { return 1001u; };
    CHECK(judge(lease, c).verdict == Verdict::held);
    c.process_owner = [](long) -> std::optional<uid_t> { return std::nullopt; };  // cannot be told: as before
    CHECK(judge(lease, c).verdict == Verdict::held);
    // A container lease whose process is root's (a rootful engine's) is judged by its container.
    Lease boxed = sample();
    c = context({4242});
    c.process_owner = [](long) -> std::optional<uid_t> { return 0u; };
    CHECK(judge(boxed, c).verdict == Verdict::unknown);
}

TEST_CASE("lease: an index-N lease whose record says another index is refused", "[env][lease]") {
    Lease lease = sample();
    lease.gpu = "index-1";
    lease.index = 0;
    std::string why;
    CHECK_FALSE(parse_lease(lease_file_name(lease), to_json(lease).dump(), 1001, &why));
    CHECK(why == "its GPU's name and its index disagree");
    lease.index = 1;
    CHECK(parse_lease(lease_file_name(lease), to_json(lease).dump(), 1001));
}

TEST_CASE("lease: a host run's lease is gone with its processes; hidden processes keep it", "[env][lease]") {
    Lease lease = sample();
    lease.engine = "host";
    lease.container.clear();
    lease.holder = {100, 1};   // the sweep's scheduler
    lease.workload = {200, 2};  // the run's process
    CHECK(judge(lease, context({100})).verdict == Verdict::held);
    CHECK(judge(lease, context({200})).verdict == Verdict::held);
    const auto gone = judge(lease, context({}));
    CHECK(gone.verdict == Verdict::gone);
    CHECK(gone.why == "its process 200 ended");
    CHECK(judge(lease, context({}, {200})).verdict == Verdict::unknown);  // /proc hides it (hidepid)
}

TEST_CASE("lease: a starting lease is held while its env up runs", "[env][lease]") {
    Lease lease = sample();
    lease.phase = LeasePhase::starting;
    lease.holder = {300, 3};
    lease.workload = {};
    CHECK(judge(lease, context({300})).state == "starting");
    CHECK(judge(lease, context({300})).verdict == Verdict::held);
    // env up died before confirming: the container may exist; only its owner's engine can say.
    CHECK(judge(lease, context({})).verdict == Verdict::unknown);
}

TEST_CASE("lease: overdue past the machine's hours", "[env][lease]") {
    Lease lease = sample();
    CHECK_FALSE(overdue(lease, std::nullopt, lease.since + 999999));
    CHECK_FALSE(overdue(lease, 2, lease.since + 7199));
    CHECK(overdue(lease, 2, lease.since + 7201));
    CHECK_THAT(describe_holder(lease), Catch::StartsWith("GPU 3 (GPU-5c1a2b3c-0000-1111-2222-333344445555) is held by "
                                                         "model 'a' of /home/alice/repo/.git (container gm-repo-a-12345678"));
    CHECK_THAT(describe_holder(lease), Catch::Contains("user alice"));
}

TEST_CASE("pool: nvidia-smi -L gives index, name and UUID; MIG lines are skipped", "[env][pool]") {
    const auto pool = parse_gpu_listing(
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5c1a2b3c-0000-1111-2222-333344445555)\n"
        "  MIG 1g.10gb     Device  0: (UUID: MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee)\n"
        "GPU 1: Tesla V100-SXM2-16GB (UUID: GPU-0000aaaa-1111-2222-3333-444455556666)\n");
    REQUIRE(pool.gpus.size() == 2);
    CHECK(pool.gpus[0].index == 0);
    CHECK(pool.gpus[0].uuid == std::optional<std::string>("GPU-5c1a2b3c-0000-1111-2222-333344445555"));
    CHECK(pool.names[0] == "NVIDIA H100 80GB HBM3");
    CHECK(pool.gpus[1].index == 1);
    CHECK(pool.names[1] == "Tesla V100-SXM2-16GB");
    CHECK(gpu_identity(pool.gpus[1]) == "GPU-0000aaaa-1111-2222-3333-444455556666");
    CHECK(gpu_identity(GpuSlot{3, std::nullopt}) == "index-3");
}

TEST_CASE("lease: its holder is the file's owner, never the record's text; its text is escaped in messages", "[env][lease]") {
    Lease lease = sample();
    lease.user = "root";  // what a hostile user writes into their own lease
    lease.model = "prod\x1b]0;owned\x07";
    lease.repo = "/root/prod/.git\n2030-01-01 00:00 root: prepared the book";
    const auto back = parse_lease(lease_file_name(lease), to_json(lease).dump(), 1001);
    REQUIRE(back);
    CHECK(back->user == gm::user_name_of(1001));
    CHECK(back->user != "root");
    const std::string line = describe_holder(*back);
    CHECK(line.find('\x1b') == std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
    CHECK_THAT(line, Catch::Contains("model 'prod\\x1b]0;owned\\x07' of /root/prod/.git\\n2030-01-01"));
    // A path that is not UTF-8 is stored as valid UTF-8 (JSON carries nothing else).
    lease.worktree = "/home/a/caf\xe9";
    const auto stored = parse_lease(lease_file_name(lease), to_json(lease).dump(), 1001);
    REQUIRE(stored);
    CHECK(stored->worktree == "/home/a/caf\xef\xbf\xbd");
}

TEST_CASE("lease: while the engine's client of a killed env up runs, its starting lease holds", "[env][lease]") {
    Lease lease = sample();
    lease.phase = LeasePhase::starting;
    lease.holder = {300, 3};   // env up, killed
    lease.starter = {400, 4};  // its `podman run`, still creating the container
    lease.workload = {};
    const auto judged = judge(lease, context({400}));
    CHECK(judged.verdict == Verdict::held);
    CHECK(judged.state == "starting");
    CHECK(judged.why == "its engine process 400 is still creating the container");
    // The client ended too: the owner's engine decides (no container: gone).
    auto c = context({});
    c.container_state = [](const Lease&) { return std::optional<std::string>(std::string()); };
    CHECK(judge(lease, c).verdict == Verdict::gone);
    CHECK(judge(lease, context({}, {400})).verdict == Verdict::unknown);  // hidden: kept
    CHECK(running_processes(lease, context({300, 400}).process) == "its processes 300, 400 still run");
    CHECK(running_processes(lease, context({300, 400}).process, 300) == "its process 400 still runs");
    CHECK(running_processes(lease, context({}).process).empty());
}

TEST_CASE("lease: a field longer than any lease holds makes the file junk", "[env][lease]") {
    Lease lease = sample();
    lease.model = std::string(300, 'm');
    std::string why;
    CHECK_FALSE(parse_lease(lease_file_name(lease), to_json(lease).dump(), 1001, &why));
    CHECK(why == "a field is longer than a lease ever holds");
    lease.model = "a";
    lease.repo = "/" + std::string(4000, 'r');  // a long path is fine
    CHECK(parse_lease(lease_file_name(lease), to_json(lease).dump(), 1001, &why));
}
