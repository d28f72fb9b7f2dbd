// env/lease_book: taking and giving back GPUs in a book shared by several users (other
// users are played by child processes that switch to another uid; root only).
#include "gitmodel/env/gpus.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/git/repository.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using namespace gm;
using namespace gm::env;
using gm::test::ScratchDir;
using namespace std::chrono_literals;

namespace {

Pool pool_of(std::initializer_list<int> indices) {
    Pool pool;
    for (int index : indices) {
        pool.gpus.push_back(GpuSlot{index, std::nullopt});
        pool.names.emplace_back();
    }
    return pool;
}

TakeRequest request_for(const std::string& model, int count, std::initializer_list<int> pool = {0, 1}) {
    TakeRequest request;
    request.pool = pool_of(pool);
    request.request.count = count;
    request.holder.holder = proc::self_identity();
    request.holder.engine = "host";
    request.holder.model = model;
    request.holder.repo = "/srv/repo/.git";
    request.context = local_judge_context(nullptr);
    request.lock_timeout = 2s;
    return request;
}

std::size_t lease_files(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".lease") ++n;
    return n;
}

// A pid that is not running (a child that has been reaped).
long dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    return child;
}

}  // namespace

TEST_CASE("lease book: distinct GPUs, the next refused naming each holder, served after a give back", "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const auto book = LeaseBook::init(scratch.path / "book", std::nullopt);
    std::vector<std::string> notes;
    auto a = take(book, request_for("a", 1), notes);
    auto b = take(book, request_for("b", 1), notes);
    REQUIRE(a.gpus().size() == 1);
    REQUIRE(b.gpus().size() == 1);
    CHECK(a.gpus()[0].index == 0);
    CHECK(b.gpus()[0].index == 1);
    try {
        take(book, request_for("c", 1), notes);
        FAIL("a third take on a pool of two succeeded");
    } catch (const GpusBusyError& e) {
        CHECK(e.reason() == GpusBusyError::Reason::busy);
        CHECK_THAT(std::string(e.what()), Catch::StartsWith("no GPU free for model 'c'") &&
                                              Catch::Contains("GPU 0 (index-0) is held by model 'a'") &&
                                              Catch::Contains("GPU 1 (index-1) is held by model 'b'"));
    }
    CHECK(lease_files(scratch.path / "book") == 2);
    a.give_back();
    auto c = take(book, request_for("c", 1), notes);
    CHECK(c.gpus()[0].index == 0);
    {
        auto d = take(book, request_for("d", 0), notes);  // CPU only: nothing taken
        CHECK(d.gpus().empty());
    }
    // A reservation dropped without keep() gives its GPUs back.
    { Reservation dropped = std::move(c); }
    CHECK(lease_files(scratch.path / "book") == 1);
    b.keep();
}

TEST_CASE("lease book: confirm records the workload; a lease whose processes ended frees its GPU", "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const auto book = LeaseBook::init(scratch.path / "book", std::nullopt);
    std::vector<std::string> notes;
    auto request = request_for("a", 2);
    request.holder.holder = {dead_pid(), 0};  // a sweep scheduler killed with -9 ...
    auto a = take(book, request, notes);
    a.confirm("", {dead_pid(), 0}, false);    // ... and its run's process, also gone
    a.keep();
    const auto contents = book->read();
    REQUIRE(contents.leases.size() == 2);
    CHECK(contents.leases[0].lease.phase == LeasePhase::held);
    // The next take gives them back (root removes the files) and gets both GPUs.
    auto b = take(book, request_for("b", 2), notes);
    CHECK(b.gpus().size() == 2);
    REQUIRE(notes.size() == 2);
    CHECK_THAT(notes[0], Catch::Contains("was still leased to process") && Catch::Contains("ended: released"));
}

TEST_CASE("lease book: another user's stale lease stops counting, though only its owner or root may remove it",
          "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const fs::path dir = scratch.path / "book";
    LeaseBook::init(dir, std::nullopt);
    const long gone = dead_pid();
    CHECK(test::as_user(test::other_uid, [&] {
              auto book = LeaseBook::open(dir);
              std::vector<std::string> notes;
              auto request = request_for("theirs", 1, {0});
              request.holder.holder = {gone, 0};
              auto leases = take(book, request, notes);
              leases.keep();
              return leases.gpus().size() == 1 ? 0 : 1;
          }) == 0);
    CHECK(lease_files(dir) == 1);
    CHECK(test::as_user(test::third_uid, [&] {
              auto book = LeaseBook::open(dir);
              std::vector<std::string> notes;
              auto leases = take(book, request_for("mine", 1, {0}), notes);
              leases.keep();
              return leases.gpus().size() == 1 && notes.empty() ? 0 : 1;
          }) == 0);
    CHECK(lease_files(dir) == 2);  // theirs stays: a third user cannot remove it
}

TEST_CASE("lease book: a user can never give back, replace or take another user's held GPU", "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const fs::path dir = scratch.path / "book";
    LeaseBook::init(dir, std::nullopt);
    const test::UserProcess theirs(test::other_uid);  // the other user's running process
    const long alive = theirs.pid;
    CHECK(test::as_user(test::other_uid, [&] {
              auto book = LeaseBook::open(dir);
              std::vector<std::string> notes;
              auto request = request_for("theirs", 1, {0});
              request.holder.holder = proc::identity_of(alive).value();
              auto leases = take(book, request, notes);
              leases.keep();
              return 0;
          }) == 0);
    const int code = test::as_user(test::third_uid, [&] {
        auto book = LeaseBook::open(dir);
        if (!give_back_matching(*book, [](const Lease&) { return true; }, 1s).given.empty()) return 1;
        const auto contents = book->read();
        if (contents.leases.size() != 1) return 2;
        if (book->remove(contents.leases[0])) return 3;
        try {
            book->write(contents.leases[0].lease, true);  // not theirs to replace
            return 4;
        } catch (const Error&) {
        }
        std::vector<std::string> notes;
        try {
            take(book, request_for("mine", 1, {0}), notes);
            return 5;
        } catch (const GpusBusyError& e) {
            return std::string(e.what()).find("user 54321") != std::string::npos ? 0 : 6;
        }
    });
    CHECK(code == 0);
    CHECK(lease_files(dir) == 1);
}

TEST_CASE("lease book: a container nobody here can see keeps its GPU, and the refusal says why", "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const fs::path dir = scratch.path / "book";
    LeaseBook::init(dir, std::nullopt);
    CHECK(test::as_user(test::other_uid, [&] {
              auto book = LeaseBook::open(dir);
              std::vector<std::string> notes;
              auto request = request_for("paused", 1, {0});
              request.holder.engine = "podman";
              request.holder.container = "gm-repo-paused-12345678";
              auto leases = take(book, request, notes);
              leases.confirm("abc", {dead_pid(), 0}, true);  // its process is gone, the container may be stopped
              leases.keep();
              return 0;
          }) == 0);
    const auto book = LeaseBook::open(dir);
    std::vector<std::string> notes;
    CHECK_THROWS_WITH(take(book, request_for("mine", 1, {0}), notes),
                      Catch::Contains("only 54321 or root can see the container gm-repo-paused-12345678, so it keeps the GPU"));
}

TEST_CASE("lease book: over the machine's per-user limit, refused naming the caller's leases", "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const auto book = LeaseBook::init(scratch.path / "book", std::nullopt);
    std::vector<std::string> notes;
    auto request = request_for("a", 1, {0, 1, 2});
    request.limits.max_gpus_per_user = 1;
    request.limits.source = "/etc/gitconfig";
    auto a = take(book, request, notes);
    request.holder.model = "b";
    try {
        take(book, request, notes);
        FAIL("a take over the limit succeeded");
    } catch (const GpusBusyError& e) {
        CHECK(e.reason() == GpusBusyError::Reason::over_limit);
        CHECK_THAT(std::string(e.what()), Catch::Contains("allows 1 GPU per user (model.maxGpusPerUser, set by root in "
                                                          "/etc/gitconfig); you hold 1 and model 'b' asks for 1 more") &&
                                              Catch::Contains("GPU 0 (index-0) is held by model 'a'"));
    }
    a.give_back();
    CHECK(take(book, request, notes).gpus().size() == 1);
}

TEST_CASE("lease book: a take that replaces the caller's container counts its GPUs as free, not another user's",
          "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const fs::path dir = scratch.path / "book";
    const auto book = LeaseBook::init(dir, std::nullopt);
    std::vector<std::string> notes;
    auto request = request_for("a", 1, {0, 1});
    request.holder.engine = "podman";
    request.holder.container = "gm-repo-a-12345678";
    request.limits.max_gpus_per_user = 1;
    request.limits.source = "/etc/gitconfig";
    auto old = take(book, request, notes);  // the running container's GPU 0
    old.keep();
    const long alive = ::getpid();
    CHECK(test::as_user(test::other_uid, [&] {  // another user's container of the same name, on GPU 1
              auto theirs = request_for("a", 1, {1});
              theirs.holder.holder = proc::identity_of(alive).value();
              theirs.holder.engine = "podman";
              theirs.holder.container = "gm-repo-a-12345678";
              take(LeaseBook::open(dir), theirs, notes).keep();
              return 0;
          }) == 0);
    CHECK_THROWS_AS(take(book, request, notes), GpusBusyError);  // without replacing: GPU 0 is held, and the limit
    request.replaces_container = "gm-repo-a-12345678";
    auto renewed = take(book, request, notes);
    REQUIRE(renewed.gpus().size() == 1);
    CHECK(renewed.gpus()[0].index == 0);  // passed to the new container, within the limit of 1
    CHECK(lease_files(dir) == 3);         // the old lease stays until its container is gone
    renewed.give_back();
    request.request.count = 2;
    request.limits.max_gpus_per_user.reset();
    CHECK_THROWS_WITH(take(book, request, notes), Catch::Contains("GPU 1 (index-1) is held by model 'a'") &&
                                                      Catch::Contains("user 54321"));
}

TEST_CASE("lease book: a dead start's lease holds while its container is created, not for another of that name",
          "[env][book]") {
    ScratchDir scratch;
    const fs::path engine_script = scratch.path / "podman";
    const fs::path listing = scratch.path / "listing.json";
    std::ofstream(engine_script) << "#!/bin/sh\ncat '" << listing.string() << "'\n";
    fs::permissions(engine_script, fs::perms::owner_all);
    Engine engine;
    engine.name = "podman";
    engine.program = engine_script;
    Lease lease;
    lease.uid = ::geteuid();
    lease.engine = "podman";
    lease.container = "gm-repo-a-0badf00d";
    lease.start = "5tart70ken";
    lease.holder = {dead_pid(), 0};  // `env up` killed before its lease named the engine's client
    const auto verdict = [&] { return judge(lease, local_judge_context(&engine)); };

    std::ofstream(listing) << "[]";
    CHECK(verdict().verdict == Verdict::gone);  // no container, no client: nothing will come of it

    // The engine's client it left still creates the container: held until it is there.
    const pid_t client = ::fork();
    if (client == 0) {
        // A process (no shell) whose arguments hold the client's in a row; tail follows /dev/null
        // until killed and only complains about the other names.
        const int null_fd = ::open("/dev/null", O_WRONLY);
        if (null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
        ::execlp("tail", "tail", "-f", "--", "/dev/null", "run", "--detach", "--name", lease.container.c_str(),
                 static_cast<char*>(nullptr));
        ::_exit(127);
    }
    for (int i = 0; i < 100 && !proc::find_own_process(detached_run_arguments(lease.container)); ++i)
        std::this_thread::sleep_for(10ms);
    const Judgement creating = verdict();
    CHECK(creating.verdict == Verdict::held);
    CHECK_THAT(creating.why, Catch::Contains("still creating the container gm-repo-a-0badf00d"));
    ::kill(client, SIGKILL);
    ::waitpid(client, nullptr, 0);

    // A container of that name without the start's token (the one a --recreate replaces) is not its own.
    std::ofstream(listing) << R"([{"Id": "aaa", "Names": ["gm-repo-a-0badf00d"], "State": "running", "Labels": {}}])";
    CHECK(verdict().verdict == Verdict::gone);
    std::ofstream(listing) << R"([{"Id": "bbb", "Names": ["gm-repo-a-0badf00d"], "State": "running",
                                   "Labels": {"io.git-model.start": "5tart70ken"}}])";
    CHECK(verdict().verdict == Verdict::held);
}

TEST_CASE("lease book: a container of another engine (root's podman through a socket) is never judged gone by this one",
          "[env][book]") {
    ScratchDir scratch;
    const fs::path engine_script = scratch.path / "podman";
    std::ofstream(engine_script) << "#!/bin/sh\necho '[]'\n";  // this engine has no container at all
    fs::permissions(engine_script, fs::perms::owner_all);
    Engine local;
    local.name = "podman";
    local.program = engine_script;
    Lease lease;
    lease.id = new_lease_id();
    lease.gpu = "index-0";
    lease.uid = ::geteuid();
    lease.phase = LeasePhase::held;
    lease.engine = "podman";
    lease.container = "gm-repo-a-0badf00d";
    lease.container_id = "abc123";
    lease.engine_host = "unix:///run/podman/podman.sock";  // taken through model.engineHost
    const Judgement other = judge(lease, local_judge_context(&local));
    CHECK(other.verdict == Verdict::unknown);

    Engine through_socket = local;
    through_socket.host = lease.engine_host;
    CHECK(judge(lease, local_judge_context(&through_socket)).verdict == Verdict::gone);  // its own engine can tell
    lease.engine_host.clear();
    CHECK(judge(lease, local_judge_context(&local)).verdict == Verdict::gone);
    const Judgement elsewhere = judge(lease, local_judge_context(&through_socket));
    CHECK(elsewhere.verdict == Verdict::unknown);
    CHECK_THAT(elsewhere.why, Catch::Contains("runs in the engine at your own podman") &&
                                  Catch::Contains("`git model env down` of its model with that engine"));

    // One socket, however it is spelled (unix:/x, unix:///x, a link to it), is one engine.
    const fs::path socket = scratch.path / "engine.sock";
    std::ofstream(socket) << "";
    fs::create_symlink(socket, scratch.path / "link.sock");
    Engine spelled = local;
    for (const std::string& host : {"unix://" + socket.string(), "unix:" + socket.string(),
                                   "unix://" + (scratch.path / "." / "link.sock").string()}) {
        spelled.host = host;
        INFO(host);
        CHECK(spelled.place() == "unix://" + fs::canonical(socket).string());
    }
    CHECK(local.place().empty());

    // A lease an older git-model wrote names no engine: none may call its container gone.
    nlohmann::json old = to_json(lease);
    old.erase("engine_host");
    const auto read = parse_lease(lease_file_name(lease), old.dump(), ::geteuid());
    REQUIRE(read);
    CHECK(read->engine_host == unknown_engine_host);
    CHECK(judge(*read, local_judge_context(&local)).verdict == Verdict::unknown);
    CHECK_THAT(judge(*read, local_judge_context(&local)).why, Catch::Contains("started by an older git-model"));
}

TEST_CASE("lease book: planted links, junk and copies are ignored, never followed", "[env][book]") {
    ScratchDir scratch;
    const fs::path dir = scratch.path / "book";
    const auto book = LeaseBook::open(dir);  // root: shared; anyone else: private
    std::vector<std::string> notes;
    auto a = take(book, request_for("a", 1, {0}), notes);
    a.keep();
    const std::string name = lease_file_name(a.leases()[0]);
    test::spit(scratch.path / "target", "untouched\n");
    fs::create_symlink(scratch.path / "target", dir / "index-1.0.0123456789abcdef.lease");
    fs::copy_file(dir / name, dir / ("index-1." + std::to_string(::geteuid()) + ".fedcba9876543210.lease"));
    test::spit(dir / "junk.lease", "{}");
    test::spit(dir / "index-1.lease", R"({"gpu": "index-1", "index": 1})");  // the old format: ignored
    const auto contents = book->read();
    CHECK(contents.leases.size() == 1);
    CHECK(contents.ignored.size() == 4);
    // GPU 1 is free despite the planted names; GPU 0 is held.
    auto b = take(book, request_for("b", 1, {0, 1}), notes);
    CHECK(b.gpus()[0].index == 1);
    CHECK(test::slurp(scratch.path / "target") == "untouched\n");
}

TEST_CASE("lease book: a lock held too long is a typed error naming its holder", "[env][book]") {
    ScratchDir scratch;
    const auto book = LeaseBook::open(scratch.path / "book");
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t holder = ::fork();
    if (holder == 0) {
        const auto lock = book->lock(1s);
        char c = 'x';
        [[maybe_unused]] auto n = ::write(ready[1], &c, 1);
        ::sleep(5);
        ::_exit(0);
    }
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    auto request = request_for("a", 1, {0});
    request.lock_timeout = 150ms;
    std::vector<std::string> notes;
    CHECK_THROWS_AS(take(book, request, notes), LockTimeoutError);
    CHECK_THROWS_WITH(take(book, request, notes), Catch::Contains(fmt::format("process {}", holder)));
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    CHECK(take(book, request, notes).gpus().size() == 1);
}

TEST_CASE("lease book: init makes a root-owned sticky book every user can lock; a group book only for its group",
          "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const auto book = LeaseBook::init(scratch.path / "book", std::nullopt);
    const auto facts = book->facts();
    CHECK(facts.owner == 0);
    CHECK(facts.mode == 01777);
    CHECK(facts.shared);
    CHECK(test::as_user(test::other_uid, [&] {
              const auto theirs = LeaseBook::open(scratch.path / "book");
              const auto lock = theirs->lock(1s);
              return 0;
          }) == 0);
    // A planted lock file (a link) is replaced by init, never followed.
    fs::remove(scratch.path / "book" / ".lock");
    test::spit(scratch.path / "target", "untouched\n");
    fs::create_symlink(scratch.path / "target", scratch.path / "book" / ".lock");
    CHECK_THROWS_WITH(book->lock(1s), Catch::Contains("symbolic link"));
    LeaseBook::init(scratch.path / "book", std::nullopt);
    CHECK_FALSE(fs::is_symlink(scratch.path / "book" / ".lock"));
    CHECK(test::slurp(scratch.path / "target") == "untouched\n");
    // Only root prepares a book; a user's attempt says so.
    CHECK(test::as_user(test::other_uid, [&] {
              try {
                  LeaseBook::init(scratch.path / "mine", std::nullopt);
              } catch (const Error& e) {
                  return std::string(e.what()).find("only root") == 0 ? 0 : 2;
              }
              return 1;
          }) == 0);
    // A book owned by another user is refused, with the fix.
    fs::create_directory(scratch.path / "home");
    ::chown((scratch.path / "home").c_str(), test::other_uid, test::other_uid);
    CHECK(test::as_user(test::other_uid, [&] {
              const auto theirs = LeaseBook::open(scratch.path / "home" / "private");  // theirs, private (0755)
              return theirs->facts().shared ? 1 : 0;
          }) == 0);
    CHECK(test::as_user(test::third_uid, [&] {
              try {
                  LeaseBook::open(scratch.path / "home" / "private");
              } catch (const Error& e) {
                  return std::string(e.hint()).find("gpus init --dir") != std::string::npos ? 0 : 2;
              }
              return 1;
          }) == 0);
    CHECK_THROWS_WITH(LeaseBook::init(scratch.path / "book", std::string("no-such-group-here")),
                      Catch::Contains("there is no group"));
}

TEST_CASE("lease book: a GPU held by UUID is held by its index too, and a pool nvidia-smi could not list takes nothing",
          "[env][book]") {
    ScratchDir scratch;
    const auto book = LeaseBook::open(scratch.path / "book");
    std::vector<std::string> notes;
    // One user's nvidia-smi works: the lease names GPU 0 by its UUID.
    auto by_uuid = request_for("a", 1, {0});
    by_uuid.pool.gpus[0].uuid = "GPU-11111111-2222-3333-4444-555555555555";
    auto a = take(book, by_uuid, notes);
    REQUIRE(a.leases().size() == 1);
    CHECK(a.leases()[0].gpu == "GPU-11111111-2222-3333-4444-555555555555");
    // Another's pool is model.gpus (index-0): the same device, so it is busy.
    try {
        take(book, request_for("b", 1, {0, 1}), notes).keep();
    } catch (const GpusBusyError&) {
        FAIL("GPU 1 was free");
    }
    try {
        take(book, request_for("c", 1, {0}), notes);
        FAIL("GPU 0 was handed out twice: by UUID and by index");
    } catch (const GpusBusyError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("GPU 0 (GPU-11111111-2222-3333-4444-555555555555) is held by model 'a'"));
    }
    // Two UUIDs are compared alone: a lease of GPU 0's UUID does not hold another UUID'd GPU of its index.
    auto other_uuid = request_for("e", 1, {0});
    other_uuid.pool.gpus[0].uuid = "GPU-99999999-2222-3333-4444-555555555555";
    auto e = take(book, other_uuid, notes);
    CHECK(e.leases()[0].gpu == "GPU-99999999-2222-3333-4444-555555555555");
    e.give_back();
    // A driver is loaded but nvidia-smi failed: nothing is taken, whatever is free.
    auto broken = request_for("d", 1, {2});
    broken.pool.driver_error = "nvidia-smi -L exited with status 18: Failed to initialize NVML";
    CHECK_THROWS_AS(take(book, broken, notes), UnavailableError);
    CHECK_THROWS_WITH(take(book, broken, notes), Catch::Contains("Failed to initialize NVML"));
    CHECK(lease_files(scratch.path / "book") == 2);
}

TEST_CASE("lease book: a lease given back while starting is never made again; a live holder's lease is not given back",
          "[env][book]") {
    ScratchDir scratch;
    const auto book = LeaseBook::open(scratch.path / "book");
    std::vector<std::string> notes;
    auto a = take(book, request_for("a", 1, {0}), notes);
    a.check_held();
    a.record_starter({::getpid(), 0});
    CHECK(book->read().leases.at(0).lease.starter.pid == ::getpid());
    // `env down` elsewhere (another process of the same user) keeps it: its holder (this process) runs.
    const pid_t down = ::fork();
    if (down == 0) {
        const auto given = give_back_matching(*book, [](const Lease&) { return true; }, 1s);
        ::_exit(given.given.empty() && given.kept.size() == 1 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(down, &status, 0);
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(lease_files(scratch.path / "book") == 1);
    // Root's release removes it anyway: the start must not go on, nor write it again.
    REQUIRE(book->remove(book->read().leases.at(0)));
    CHECK_THROWS_AS(a.check_held(), LeaseLostError);
    CHECK_THROWS_WITH(a.confirm("abc", {::getpid(), 0}, true), Catch::Contains("was given back while model 'a' was starting"));
    CHECK(lease_files(scratch.path / "book") == 0);
    // A lease whose processes all ended is given back by its owner.
    auto request = request_for("b", 1, {0});
    request.holder.holder = {dead_pid(), 0};
    auto b = take(book, request, notes);
    b.keep();
    const auto given = give_back_matching(*book, [](const Lease& lease) { return lease.model == "b"; }, 1s);
    CHECK(given.given.size() == 1);
    CHECK(given.kept.empty());
}

TEST_CASE("lease book: root's limits for one book (gpus init), over /etc/gitconfig; a planted config is not believed",
          "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const fs::path dir = scratch.path / "book";
    const git::Library library;  // /etc/gitconfig is read through libgit2
    const auto machine = machine_limits();
    auto book = LeaseBook::init(dir, std::nullopt, BookLimits{2, 48});
    CHECK(book->limits().max_gpus_per_user == 2);
    CHECK(book->limits().max_lease_hours == 48);
    CHECK(book->limits().source == (dir / "config").string());
    CHECK_THAT(test::slurp(dir / "history.log"), Catch::Contains("set the limits: model.maxGpusPerUser 2, model.maxLeaseHours 48"));
    // Given again: one setting changes, the other stays; 0 removes one.
    book = LeaseBook::init(dir, std::nullopt, BookLimits{3, std::nullopt});
    CHECK(book->limits().max_gpus_per_user == 3);
    CHECK(book->limits().max_lease_hours == 48);
    book = LeaseBook::init(dir, std::nullopt, BookLimits{0, std::nullopt});
    CHECK(book->limits().max_gpus_per_user == machine.max_gpus_per_user);
    CHECK(book->limits().max_lease_hours == 48);
    // A user's own file under that name sets nothing (and init replaces it); nor does a hard link to a root file.
    fs::remove(dir / "config");
    CHECK(test::as_user(test::other_uid, [&] {
              test::spit(dir / "config", "[model]\n\tmaxGpusPerUser = 99\n");
              return LeaseBook::open(dir)->limits().max_gpus_per_user == machine.max_gpus_per_user ? 0 : 1;
          }) == 0);
    CHECK(book->limits().max_gpus_per_user == machine.max_gpus_per_user);
    book = LeaseBook::init(dir, std::nullopt, BookLimits{1, std::nullopt});
    CHECK(book->limits().max_gpus_per_user == 1);
    fs::remove(dir / "config");
    test::spit(scratch.path / "root-file", "[model]\n\tmaxGpusPerUser = 99\n");
    fs::create_hard_link(scratch.path / "root-file", dir / "config");
    CHECK(book->limits().max_gpus_per_user == machine.max_gpus_per_user);
    fs::remove(dir / "config");
    test::spit(dir / "config", "[model]\n\tmaxGpusPerUser = many\n");
    CHECK_THROWS_WITH(book->limits(), Catch::Contains("model.maxGpusPerUser in " + (dir / "config").string() + " is 'many'"));
    CHECK(book->read().ignored.empty());  // config is the book's own, not junk
}

TEST_CASE("lease book: a file whose owner is not the user its name claims is refused unread", "[env][book]") {
    ScratchDir scratch;
    const auto book = LeaseBook::open(scratch.path / "book");
    const uid_t other = ::geteuid() + 4242;
    test::spit(scratch.path / "book" / ("index-0." + std::to_string(other) + ".0123456789abcdef.lease"), "not json");
    const auto contents = book->read();
    CHECK(contents.leases.empty());
    REQUIRE(contents.ignored.size() == 1);
    // Judged by its owner before a byte was read: a read file would have been "not a lease record".
    CHECK(contents.ignored[0].why ==
          fmt::format("it names user {} but belongs to {}", other, ::geteuid()));
}

TEST_CASE("lease book: oversized lease files are ignored without being read in full", "[env][book]") {
    ScratchDir scratch;
    const auto book = LeaseBook::open(scratch.path / "book");
    test::spit(scratch.path / "book" / ("index-0." + std::to_string(::geteuid()) + ".0123456789abcdef.lease"),
               std::string(20000, ' '));
    const auto contents = book->read();
    CHECK(contents.leases.empty());
    REQUIRE(contents.ignored.size() == 1);
    CHECK(contents.ignored[0].why == "larger than 16384 bytes");
}

TEST_CASE("lease book: a warning when the book in use is not the machine's prepared one", "[env][book]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    // The machine's default book is faked in a private mount namespace of a child (nothing outside changes).
    const pid_t child = ::fork();
    if (child == 0) {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", "/var/lib", "tmpfs", 0, "mode=0755") != 0)
            ::_exit(125);
        const auto other = LeaseBook::init(scratch.path / "book", std::nullopt);
        if (other->other_book_warning()) ::_exit(1);  // no machine book yet: nothing to miss
        const auto machine = LeaseBook::init(LeaseBook::default_directory(), std::nullopt);
        const auto warning = other->other_book_warning();
        if (!warning || warning->find("not to this machine's shared book /var/lib/git-model/gpu-leases") == std::string::npos)
            ::_exit(2);
        if (machine->other_book_warning()) ::_exit(3);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 125) {
        WARN("SKIP: no private mount namespace here");
        return;
    }
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("gpus: a GPU flooded with holders shows ten of them, cut fields, and no raw control characters", "[env][book]") {
    GpusReport report;
    report.book_path = "/book";
    GpuView gpu;
    gpu.slot.index = 0;
    gpu.id = "index-0";
    for (int i = 0; i < 12; ++i) {
        LeaseView view;
        view.lease.gpu = "index-0";
        view.lease.user = "eve";
        view.lease.model = std::string(200, 'm') + "\x1b[2J";
        view.lease.repo = "/r\nforged";
        view.lease.holder = {1, 0};
        view.judgement = {Verdict::held, "running", ""};
        gpu.holders.push_back(view);
    }
    report.gpus.push_back(gpu);
    const std::string table = render_gpus(report);
    CHECK_THAT(table, Catch::Contains("GPU 0 has 2 more holders (--json lists them all)"));
    CHECK(table.find('\x1b') == std::string::npos);
    CHECK(table.find("/r\\nforged") != std::string::npos);
    CHECK(table.find(std::string(65, 'm')) == std::string::npos);
}
