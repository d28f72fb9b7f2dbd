// Squash and rebase detection must never call unmerged work merged: a branch
// with one of two commits picked, one whose change was reverted on the base,
// or one that changes nothing is not merged. And refs only a worktree holds are
// found, with whether anything else keeps their commits.
#include "temp_repo.hpp"

#include "gitmodel/git/history.hpp"
#include "gitmodel/git/reachability.hpp"
#include "gitmodel/git/repository.hpp"

#include <catch2/catch.hpp>

namespace fs = std::filesystem;
using namespace gm;

namespace {

std::string commit_file(const test::TempRepo& scratch, const std::string& file, const std::string& text) {
    scratch.write(file, text);
    scratch.git({"add", file});
    scratch.git({"commit", "-q", "-m", "change " + file});
    return scratch.git({"rev-parse", "HEAD"});
}

std::optional<git::EquivalentMerge> judge(const test::TempRepo& scratch, const std::string& branch) {
    git::Library library;
    const auto repo = git::Repository::open(scratch.repo);
    const std::string head = scratch.git({"rev-parse", branch});
    const std::string tip = scratch.git({"rev-parse", "main"});
    return git::find_equivalent_merge(repo, head, tip, git::first_parent_chain(repo, tip));
}

}  // namespace

TEST_CASE("equivalent merges: squash and rebase are found, with evidence", "[git][prune]") {
    test::TempRepo scratch;
    scratch.git({"switch", "-q", "-c", "feature/model-s"});
    commit_file(scratch, "a.txt", "one\n");
    commit_file(scratch, "a.txt", "one\ntwo\n");
    scratch.git({"switch", "-q", "main"});
    commit_file(scratch, "other.txt", "main moved\n");
    scratch.git({"merge", "-q", "--squash", "feature/model-s"});
    scratch.git({"commit", "-q", "-m", "squashed"});
    const auto squash = judge(scratch, "feature/model-s");
    REQUIRE(squash);
    CHECK(squash->kind == git::EquivalentMerge::Kind::squash);
    CHECK(squash->commit == scratch.git({"rev-parse", "main"}));
    CHECK_THAT(squash->evidence, Catch::Contains("patch-id of the branch's whole diff"));

    scratch.git({"switch", "-q", "-c", "feature/model-r", "main~2"});
    const std::string r1 = commit_file(scratch, "b.txt", "b\n");
    const std::string r2 = commit_file(scratch, "c.txt", "c\n");
    scratch.git({"switch", "-q", "main"});
    scratch.git({"cherry-pick", r1, r2});
    const auto rebase = judge(scratch, "feature/model-r");
    REQUIRE(rebase);
    CHECK(rebase->kind == git::EquivalentMerge::Kind::rebase);
    CHECK(rebase->commit == scratch.git({"rev-parse", "main"}));
    CHECK_THAT(rebase->evidence, Catch::Contains("each of its 2 commits"));
}

TEST_CASE("equivalent merges: unmerged work is never called merged", "[git][prune]") {
    test::TempRepo scratch;
    scratch.git({"switch", "-q", "-c", "feature/model-half"});
    const std::string h1 = commit_file(scratch, "h1.txt", "h1\n");
    commit_file(scratch, "h2.txt", "h2\n");
    scratch.git({"switch", "-q", "main"});
    scratch.git({"cherry-pick", h1});  // only one of its two commits landed
    CHECK_FALSE(judge(scratch, "feature/model-half"));

    scratch.git({"switch", "-q", "-c", "feature/model-nothing", "main"});
    commit_file(scratch, "n.txt", "n\n");
    scratch.git({"rm", "-q", "n.txt"});
    scratch.git({"commit", "-q", "-m", "undo"});  // its net change is nothing
    scratch.git({"switch", "-q", "main"});
    CHECK_FALSE(judge(scratch, "feature/model-nothing"));

    scratch.git({"switch", "-q", "-c", "feature/model-reverted", "main"});
    commit_file(scratch, "v.txt", "v\n");
    scratch.git({"switch", "-q", "main"});
    scratch.git({"merge", "-q", "--squash", "feature/model-reverted"});
    scratch.git({"commit", "-q", "-m", "squashed v"});
    scratch.git({"revert", "--no-edit", "HEAD"});
    // The squash is in main's history (patch-id evidence), even though main reverted it since:
    // the change did land, so its commits are archived, not lost. The tree check alone would not say so.
    const auto reverted = judge(scratch, "feature/model-reverted");
    REQUIRE(reverted);
    CHECK(reverted->kind == git::EquivalentMerge::Kind::squash);

    scratch.git({"switch", "-q", "-c", "feature/model-open", "main"});
    commit_file(scratch, "open.txt", "open\n");
    scratch.git({"switch", "-q", "main"});
    CHECK_FALSE(judge(scratch, "feature/model-open"));
}

TEST_CASE("worktree refs: found, and whether anything else holds their commits", "[git][prune]") {
    test::TempRepo scratch;
    const fs::path wt = scratch.root / "wt";
    scratch.git({"worktree", "add", "-q", "-b", "feature/model-w", wt.string()});
    const std::string side = commit_file(scratch, "side.txt", "side\n");  // on main, in the main worktree
    scratch.git({"update-ref", "refs/worktree/keep", side}, wt);
    scratch.git({"switch", "-q", "--detach"}, wt);
    scratch.write(wt / "lone.txt", "lone\n");
    scratch.git({"add", "lone.txt"}, wt);
    scratch.git({"commit", "-q", "-m", "lone"}, wt);
    const std::string lone = scratch.git({"rev-parse", "HEAD"}, wt);
    scratch.git({"update-ref", "refs/bisect/bad", lone}, wt);
    scratch.git({"switch", "-q", "feature/model-w"}, wt);

    git::Library library;
    const auto repo = git::Repository::open(scratch.repo);
    const auto id = repo.linked_worktrees().front().id;
    const auto refs = git::worktree_private_refs(repo, id);
    REQUIRE(refs.size() == 2);
    std::vector<std::string> leaving{"refs/heads/feature/model-w"};
    for (const auto& ref : refs) leaving.push_back(ref.name);
    for (const auto& ref : refs) {
        if (ref.name == "refs/worktree/keep") CHECK_FALSE(git::held_only_by(repo, ref.target, leaving, {}));  // main has it
        else CHECK(git::held_only_by(repo, ref.target, leaving, {}));  // nothing else has the lone commit
        if (ref.name == "refs/bisect/bad") CHECK_FALSE(git::held_only_by(repo, ref.target, leaving, {lone}));
    }
}

TEST_CASE("worktrees: a bisect in progress holds the branch it started from", "[git][prune]") {
    test::TempRepo scratch;
    const fs::path wt = scratch.root / "wt";
    scratch.git({"worktree", "add", "-q", "-b", "feature/model-b", wt.string()});
    git::Library library;
    const auto repo = git::Repository::open(scratch.repo);
    const auto admin = repo.common_dir() / "worktrees" / repo.linked_worktrees().front().id;
    CHECK_FALSE(repo.linked_worktrees().front().operation.has_value());
    // HEAD detached on a commit, BISECT_START naming the branch (as `git bisect start` leaves it).
    scratch.git({"switch", "-q", "--detach"}, wt);
    scratch.write(admin / "BISECT_START", "feature/model-b\n");
    auto seen = repo.linked_worktrees().front();
    CHECK(seen.branch == std::optional<std::string>("feature/model-b"));
    REQUIRE(seen.operation.has_value());
    CHECK(seen.operation->what == "a bisect");
    CHECK(seen.operation->ending == "git bisect reset");
    // Started from a detached HEAD: BISECT_START holds a commit id, and no branch is held.
    scratch.write(admin / "BISECT_START", scratch.git({"rev-parse", "HEAD"}, wt) + "\n");
    seen = repo.linked_worktrees().front();
    CHECK_FALSE(seen.branch.has_value());
    CHECK_FALSE(seen.operation.has_value());
    // A rebase's state names the full ref.
    fs::remove(admin / "BISECT_START");
    fs::create_directories(admin / "rebase-merge");
    scratch.write(admin / "rebase-merge" / "head-name", "refs/heads/feature/model-b\n");
    seen = repo.linked_worktrees().front();
    CHECK(seen.branch == std::optional<std::string>("feature/model-b"));
    REQUIRE(seen.operation.has_value());
    CHECK(seen.operation->what == "a rebase");
    // The main worktree's own state is read from the common dir.
    CHECK_FALSE(git::operation_holding_branch(repo.common_dir()).has_value());
}
