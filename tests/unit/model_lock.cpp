// The repository locks that make concurrent commands take turns: exclusive
// between processes (checked against flock(1) in another process), re-entrant
// within one, bounded by model.lockTimeout with a message naming the holder;
// and config writes that wait out another writer's lock.
#include "temp_repo.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/proc/background.hpp"

#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace gm;
using namespace std::chrono;

namespace {

// Whether another process could take the lock file right now (flock(1) from util-linux).
bool free_for_others(const fs::path& lock_file) {
    return proc::run({"flock", "--nonblock", lock_file.string(), "true"}).exit_code == 0;
}

// Another process holding the lock file for a while, as another git-model command would.
struct OtherHolder {
    explicit OtherHolder(const fs::path& lock_file, const std::string& seconds) {
        child = proc::spawn({"flock", lock_file.string(), "sleep", seconds}, {});
        for (int i = 0; i < 200 && free_for_others(lock_file); ++i) std::this_thread::sleep_for(milliseconds(10));
        REQUIRE_FALSE(free_for_others(lock_file));
    }
    ~OtherHolder() {
        proc::signal_child(child, SIGKILL);
        int status = 0;
        ::waitpid(static_cast<pid_t>(child.pid), &status, 0);
    }
    proc::Child child;
};

}  // namespace

TEST_CASE("repository lock: exclusive between processes, re-entrant within one", "[model][lock]") {
    test::TempRepo scratch;
    const fs::path common = scratch.repo / ".git";
    const fs::path file = model::RepositoryLock::path_for(common, "worktrees");
    {
        model::RepositoryLock held(common, "worktrees", "git model start p3", seconds(1));
        CHECK_FALSE(free_for_others(file));
        std::ifstream in(file);
        std::string holder((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        CHECK_THAT(holder, Catch::Contains(fmt::format("pid {} since ", ::getpid())));
        CHECK_THAT(holder, Catch::Contains(": git model start p3"));
        // A rollback inside a locked step takes it again without waiting for itself.
        model::RepositoryLock again(common, "worktrees", "nested", milliseconds(0));
        CHECK_FALSE(free_for_others(file));
    }
    CHECK(free_for_others(file));  // released with the last scope
    CHECK(fs::file_size(file) == 0);  // and no stale holder left in it
}

TEST_CASE("repository lock: the wait is bounded and the message names the holder and the setting", "[model][lock]") {
    test::TempRepo scratch;
    const fs::path common = scratch.repo / ".git";
    const fs::path file = model::RepositoryLock::path_for(common, "worktrees");
    { model::RepositoryLock create(common, "worktrees", "unit", seconds(1)); }
    OtherHolder other(file, "30");
    std::ofstream(file) << "pid 4242 since 1767323045: git model start p3\n";
    const auto before = steady_clock::now();
    try {
        model::RepositoryLock lock(common, "worktrees", "unit", milliseconds(300));
        FAIL("the lock was taken while another process held it");
    } catch (const Error& e) {
        CHECK(steady_clock::now() - before >= milliseconds(280));  // it waited before giving up
        CHECK_THAT(e.what(), Catch::Contains("another git-model command has held this repository's worktrees lock"));
        CHECK_THAT(e.what(), Catch::Contains("(pid 4242 since 1767323045: git model start p3)"));
        CHECK_THAT(e.hint(), Catch::Contains("git config model.lockTimeout"));
        CHECK_THAT(e.hint(), Catch::Contains(file.string()));
    }
    CHECK_THROWS_WITH(model::RepositoryLock(common, "worktrees", "unit", milliseconds(0)),
                      Catch::Contains("for over 0 s"));
}

TEST_CASE("repository lock: a waiter gets it as soon as the holder lets go", "[model][lock]") {
    test::TempRepo scratch;
    const fs::path common = scratch.repo / ".git";
    const fs::path file = model::RepositoryLock::path_for(common, "snapshots");
    { model::RepositoryLock create(common, "snapshots", "unit", seconds(1)); }
    OtherHolder other(file, "0.3");
    const auto before = steady_clock::now();
    model::RepositoryLock lock(common, "snapshots", "waiter", seconds(10));
    CHECK(steady_clock::now() - before < seconds(5));
    CHECK_FALSE(free_for_others(file));
}

TEST_CASE("model.lockTimeout is read as a duration and refused with the key", "[model][lock]") {
    test::TempRepo scratch;
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);
    CHECK(model::lock_timeout(repo) == model::default_lock_timeout);
    scratch.git({"config", "model.lockTimeout", "90s"});
    CHECK(model::lock_timeout(git::Repository::open(scratch.repo)) == seconds(90));
    scratch.git({"config", "model.lockTimeout", "0"});
    CHECK(model::lock_timeout(git::Repository::open(scratch.repo)) == seconds(0));
    scratch.git({"config", "model.lockTimeout", "soon"});
    CHECK_THROWS_WITH(model::lock_timeout(git::Repository::open(scratch.repo)),
                      Catch::Contains("model.lockTimeout 'soon' is not a duration"));
}

TEST_CASE("config writes wait while another writer holds .git/config.lock", "[git][config]") {
    test::TempRepo scratch;
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);
    const fs::path lock = scratch.repo / ".git" / "config.lock";
    std::ofstream(lock) << "another writer\n";
    std::thread writer_done([&] {
        std::this_thread::sleep_for(milliseconds(300));
        fs::remove(lock);
    });
    const auto before = steady_clock::now();
    repo.config().set_local("branch.feature/model-a.modelBase", "main");
    const auto waited = steady_clock::now() - before;
    writer_done.join();
    CHECK(waited >= milliseconds(250));
    CHECK(scratch.git({"config", "--get", "branch.feature/model-a.modelBase"}) == "main");
    std::ofstream(lock) << "another writer\n";
    std::thread second([&] {
        std::this_thread::sleep_for(milliseconds(200));
        fs::remove(lock);
    });
    repo.config().unset_local("branch.feature/model-a.modelBase");
    second.join();
    CHECK_FALSE(git::Repository::open(scratch.repo).config().get_string("branch.feature/model-a.modelBase"));
}
