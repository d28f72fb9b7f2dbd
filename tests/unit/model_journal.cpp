// The start journal and the rule behind every rollback: records are claimed
// once, read back (also in the old format), reported without being touched, and
// rolled back only where nobody touched what the start made. Real git, in a
// scratch repository.
#include "temp_repo.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/git/worktree_check.hpp"
#include "gitmodel/model/created_worktree.hpp"
#include "gitmodel/model/journal.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace gm;

namespace {

// The identity of a process that has ended (a child, reaped): its records are interrupted ones.
proc::ProcessIdentity dead_process() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return {static_cast<long>(child), 1};
}

model::Intent intent_for(const test::TempRepo& scratch, const std::string& name, bool with_worktree) {
    model::Intent intent;
    intent.model = name;
    intent.branch = "feature/model-" + name;
    intent.base = "main";
    intent.base_commit = scratch.git({"rev-parse", "main"});
    if (with_worktree) intent.worktree = scratch.root / "worktrees" / name;
    intent.process = dead_process();
    return intent;
}

// Makes what a start that died after its checkout leaves: branch, worktree (creation-locked or not), record.
void leave_killed_start(const test::TempRepo& scratch, git::Repository& repo, const model::Intent& intent,
                        bool still_locked) {
    model::PendingStart::claim(repo, intent);  // not committed: the record stays, like a killed start's
    repo.create_branch(intent.branch, intent.base_commit);
    const std::string reason = model::creation_lock_reason("start " + intent.model, intent.process.pid);
    scratch.git(model::worktree_add_args(*intent.worktree, intent.branch, reason));
    if (!still_locked) model::release_creation_lock(*intent.worktree, reason);
}

fs::path record_of(const git::Repository& repo, const std::string& model) {
    return repo.common_dir() / "git-model" / "pending" / model;
}

}  // namespace

TEST_CASE("journal: a model is claimed once while its start lives", "[model][journal]") {
    test::TempRepo scratch;
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);
    auto intent = intent_for(scratch, "one", false);
    intent.process = proc::self_identity();
    auto pending = model::PendingStart::claim(repo, intent);
    CHECK(fs::exists(record_of(repo, "one")));
    CHECK_THROWS_WITH(model::PendingStart::claim(repo, intent), Catch::Contains("another `git model start one` is running"));
    CHECK(model::interrupted_starts(repo).empty());  // a live start is never reported as interrupted
    CHECK(model::recover_interrupted_starts(repo).empty());
    CHECK(fs::exists(record_of(repo, "one")));
    pending.commit();
    CHECK_FALSE(fs::exists(record_of(repo, "one")));
}

TEST_CASE("journal: records in the old format (pid_start as text) are read", "[model][journal]") {
    test::TempRepo scratch;
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);
    fs::create_directories(repo.common_dir() / "git-model" / "pending");
    const auto self = proc::self_identity();
    std::ofstream(record_of(repo, "old")) << "{\"model\": \"old\", \"branch\": \"feature/model-old\", \"base_commit\": \""
                                          << scratch.git({"rev-parse", "main"}) << "\", \"worktree\": null, \"pid\": "
                                          << self.pid << ", \"pid_start\": \"" << self.start_ticks << "\"}\n";
    CHECK(model::interrupted_starts(repo).empty());  // it is this live process
    std::ofstream(record_of(repo, "gone")) << "{\"model\": \"gone\", \"branch\": \"feature/model-gone\", \"base_commit\": \""
                                           << scratch.git({"rev-parse", "main"}) << "\", \"worktree\": null, \"pid\": "
                                           << dead_process().pid << ", \"pid_start\": \"1\"}\n";
    const auto found = model::interrupted_starts(repo);
    REQUIRE(found.size() == 1);
    CHECK(found[0].intent.model == "gone");
    CHECK(found[0].intent.process.start_ticks == 1);
}

TEST_CASE("journal: an untouched interrupted start is rolled back completely", "[model][journal]") {
    test::TempRepo scratch;
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);
    const auto intent = intent_for(scratch, "clean", true);
    leave_killed_start(scratch, repo, intent, true);
    const auto reported = model::interrupted_starts(repo);
    REQUIRE(reported.size() == 1);  // reading changes nothing
    CHECK(fs::exists(*intent.worktree / "train.py"));
    const auto lines = model::recover_interrupted_starts(repo);
    CHECK_THAT(lines.front(), Catch::Contains("removed the half-made worktree"));
    CHECK_FALSE(fs::exists(*intent.worktree));
    CHECK_FALSE(repo.branch_exists(intent.branch));
    CHECK(repo.linked_worktrees().empty());
    CHECK_FALSE(fs::exists(record_of(repo, "clean")));
}

TEST_CASE("journal: a rollback keeps a worktree with an ignored file, an edit or the user's lock", "[model][journal]") {
    test::TempRepo scratch;
    scratch.write(".gitignore", "outputs/\n");
    scratch.git({"add", ".gitignore"});
    scratch.git({"commit", "-q", "-m", "ignore outputs"});
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);

    const auto ignored = intent_for(scratch, "ignored", true);
    leave_killed_start(scratch, repo, ignored, false);
    scratch.write(*ignored.worktree / "outputs" / "ckpt.pt", "weights");
    const auto edited = intent_for(scratch, "edited", true);
    leave_killed_start(scratch, repo, edited, true);
    scratch.write(*edited.worktree / "train.py", "changed\n");
    const auto locked = intent_for(scratch, "locked", true);
    leave_killed_start(scratch, repo, locked, false);
    scratch.git({"worktree", "lock", "--reason", "on a USB disk", locked.worktree->string()});

    const auto lines = model::recover_interrupted_starts(repo);
    std::string all;
    for (const auto& line : lines) all += line + "\n";
    CHECK_THAT(all, Catch::Contains("outputs/ (ignored file)"));
    CHECK_THAT(all, Catch::Contains("it is locked (on a USB disk)"));
    CHECK_THAT(all, Catch::Contains("train.py (changed)"));
    CHECK_THAT(all, Catch::Contains("git config branch.feature/model-ignored.modelBase main"));
    CHECK_THAT(all, Catch::Contains("git worktree unlock " + edited.worktree->string()));
    CHECK(fs::exists(*ignored.worktree / "outputs" / "ckpt.pt"));
    CHECK(fs::exists(*locked.worktree / "train.py"));
    for (const auto* intent : {&ignored, &edited, &locked}) {
        CHECK(repo.branch_exists(intent->branch));
        CHECK(fs::exists(record_of(repo, intent->model)));  // reported again until finished or removed
    }
    // Finished as told: the record goes, everything stays.
    repo.config().set_local("branch.feature/model-ignored.modelBase", "main");
    model::recover_interrupted_starts(repo);
    CHECK_FALSE(fs::exists(record_of(repo, "ignored")));
    CHECK(fs::exists(*ignored.worktree / "outputs" / "ckpt.pt"));
}

TEST_CASE("journal: a branch that moved is kept, a completed in-place start is finished", "[model][journal]") {
    test::TempRepo scratch;
    git::Library library;
    auto repo = git::Repository::open(scratch.repo);
    const auto moved = intent_for(scratch, "moved", false);
    model::PendingStart::claim(repo, moved);
    scratch.git({"branch", moved.branch, "main"});
    scratch.write("more.txt", "more\n");
    scratch.git({"add", "more.txt"});
    scratch.git({"commit", "-q", "-m", "more on main"});
    scratch.git({"branch", "-f", moved.branch, "main"});  // the branch has a commit the start did not make

    const auto inplace = intent_for(scratch, "inplace", false);
    auto inplace_intent = inplace;
    inplace_intent.base_commit = scratch.git({"rev-parse", "main"});
    model::PendingStart::claim(repo, inplace_intent);
    scratch.git({"switch", "-q", "-c", inplace.branch});

    const auto lines = model::recover_interrupted_starts(repo);
    std::string all;
    for (const auto& line : lines) all += line + "\n";
    CHECK_THAT(all, Catch::Contains("kept the branch feature/model-moved: it has new commits"));
    CHECK(repo.branch_exists(moved.branch));
    CHECK(repo.branch_exists(inplace.branch));
    CHECK(repo.config().get_string("branch.feature/model-inplace.modelBase") == std::optional<std::string>("main"));
    CHECK(model::interrupted_starts(repo).empty());
}

TEST_CASE("worktree check: a checkout cut short passes file by file, anything else is named", "[git][rollback]") {
    test::TempRepo scratch;
    git::Library library;
    std::string big;
    for (int line = 0; big.size() < 10000; ++line) big += "row " + std::to_string(line) + "\n";
    scratch.write(scratch.repo / "big.txt", big);
    scratch.git({"add", "big.txt"});
    scratch.git({"commit", "-q", "-m", "big"});
    auto repo = git::Repository::open(scratch.repo);
    const std::string head = scratch.git({"rev-parse", "HEAD"});
    const fs::path wt = scratch.root / "wt";
    scratch.git({"worktree", "add", "-q", wt.string(), "-b", "feature/model-x"});
    CHECK(git::differences_from_checkout(repo, wt, head).none());

    scratch.write(wt / "scratch.txt", "mine\n");
    auto found = git::differences_from_checkout(repo, wt, head);
    CHECK(found.count == 1);
    CHECK(found.describe() == "scratch.txt (untracked file)");
    fs::remove(wt / "scratch.txt");

    // No index yet (git was killed during the checkout), one file not written: a subset passes.
    const auto admin = git::worktree_admin_dir(wt);
    REQUIRE(admin);
    fs::remove(*admin / "index");
    fs::remove(wt / "README.md");
    CHECK(git::differences_from_checkout(repo, wt, head).none());
    // (s43b) the file git was writing when it was killed: empty, or the start of the commit's content
    // as a killed write leaves it, whole pages (s43d: a user's edit that cut a file short is theirs)
    scratch.write(wt / "train.py", "");
    CHECK(git::differences_from_checkout(repo, wt, head).none());
    for (const std::size_t pages : {1, 2}) {
        scratch.write(wt / "big.txt", big.substr(0, pages * 4096));
        CHECK(git::differences_from_checkout(repo, wt, head).none());
    }
    scratch.write(wt / "big.txt", big.substr(0, 5000));
    CHECK(git::differences_from_checkout(repo, wt, head).describe() == "big.txt (changed)");
    scratch.write(wt / "big.txt", big);
    for (const char* text : {"import to", "import torch\nmore\n", "impXrt"}) {
        scratch.write(wt / "train.py", text);
        CHECK(git::differences_from_checkout(repo, wt, head).describe() == "train.py (changed)");
    }
    scratch.write(wt / "train.py", "changed\n");
    scratch.write(wt / "data" / "a.csv", "1,2\n");
    found = git::differences_from_checkout(repo, wt, head);
    CHECK(found.count == 2);
    CHECK_THAT(found.describe(), Catch::Contains("data/ (a folder the checkout did not write)"));
    CHECK_THAT(found.describe(), Catch::Contains("train.py (changed)"));
}

TEST_CASE("creation locks are told apart from the user's", "[model][rollback]") {
    const auto reason = model::creation_lock_reason("start x", 1234);
    CHECK(reason == "git-model start x: being created (pid 1234)");
    CHECK(model::is_creation_lock(reason));
    CHECK_FALSE(model::is_creation_lock("initializing"));
    CHECK_FALSE(model::is_creation_lock("on a USB disk"));
    CHECK_FALSE(model::is_creation_lock("git-model is great"));
}
