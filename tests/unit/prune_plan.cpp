// The retention rule as a pure plan: merged for how long, unmerged, dirty, unpushed, worktrees, --force.
#include "gitmodel/core/error.hpp"
#include "gitmodel/prune/prune_plan.hpp"
#include "gitmodel/model/settings.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace gm::prune;
using namespace gm::model;

namespace {

constexpr std::int64_t day = 86400;
constexpr std::int64_t now = 1767323045;

PruneFacts merged(const std::string& model, std::int64_t days_ago) {
    PruneFacts f;
    f.model = model;
    f.branch = "feature/model-" + model;
    f.head = std::string(40, 'a');
    f.base = "main";
    f.in_base = true;
    f.merged_by = MergedBy::merge_commit;
    f.merged_at = now - days_ago * day;
    f.merge_commit = std::string(40, 'b');
    f.last_commit_time = now - (days_ago + 1) * day;
    f.remote = "origin";
    f.unpushed = false;
    f.archive_tag = "archive/model/" + model;
    return f;
}

PruneFacts unmerged(const std::string& model, std::int64_t days_since_commit) {
    PruneFacts f = merged(model, 0);
    f.in_base = false;
    f.merged_by = MergedBy::none;
    f.merged_at.reset();
    f.merge_commit.clear();
    f.last_commit_time = now - days_since_commit * day;
    return f;
}

PruneFacts with_worktree(PruneFacts f, bool dirty) {
    f.worktree = "/w/feature/model-" + f.model;
    f.dirty = dirty;
    return f;
}

PruneOptions options(bool force = false, std::int64_t retention_days = 14) {
    PruneOptions o;
    o.now = now;
    o.retention_seconds = retention_days * day;
    o.force = force;
    return o;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += item + "|";
    return out;
}

}  // namespace

TEST_CASE("prune: merged 20 days ago goes, merged 1 day ago stays for audit", "[prune]") {
    const auto plan = plan_prune({with_worktree(merged("old", 20), false), merged("new", 1)}, options());
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].prune);
    CHECK(plan[0].reasons.empty());
    REQUIRE(plan[0].steps.size() == 3);
    CHECK(plan[0].steps[0].kind == PruneStep::Kind::archive_tag);
    CHECK_THAT(plan[0].steps[0].description, Catch::Contains("archive/model/old"));
    CHECK(plan[0].steps[1].kind == PruneStep::Kind::remove_worktree);
    CHECK_THAT(plan[0].steps[1].description, Catch::Contains("/w/feature/model-old"));
    CHECK(plan[0].steps[2].kind == PruneStep::Kind::delete_branch);
    CHECK(*plan[0].eligible_at == now - 6 * day);

    CHECK_FALSE(plan[1].prune);
    CHECK(plan[1].steps.empty());
    CHECK_THAT(joined(plan[1].reasons), Catch::Contains("merged 1 day ago") && Catch::Contains("kept for audit until"));
    CHECK(*plan[1].eligible_at == now + 13 * day);
}

TEST_CASE("prune: the retention is configurable, and exact at the boundary", "[prune]") {
    CHECK(plan_prune({merged("a", 1)}, options(false, 0))[0].prune);
    CHECK_FALSE(plan_prune({merged("a", 20)}, options(false, 30))[0].prune);
    auto boundary = merged("b", 14);
    CHECK(plan_prune({boundary}, options())[0].prune);
    boundary.merged_at = now - 14 * day + 1;
    CHECK_FALSE(plan_prune({boundary}, options())[0].prune);
    // --force never shortens the audit period
    CHECK_FALSE(plan_prune({merged("c", 1)}, options(true))[0].prune);
}

TEST_CASE("prune: unmerged branches are kept unless forced, and then only when stale", "[prune]") {
    auto plan = plan_prune({unmerged("wip", 30)}, options());
    CHECK_FALSE(plan[0].prune);
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("not merged into main"));

    plan = plan_prune({unmerged("wip", 30), unmerged("fresh", 2)}, options(true));
    CHECK(plan[0].prune);
    CHECK_THAT(joined(plan[0].overridden), Catch::Contains("not merged into main"));
    CHECK_FALSE(plan[1].prune);
    CHECK_THAT(joined(plan[1].reasons), Catch::Contains("last commit is only 2 days old"));

    auto ff = unmerged("ff", 30);
    ff.in_base = true;  // in main without a merge commit or finish record (never diverged, or fast-forwarded)
    plan = plan_prune({ff}, options());
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("without a merge commit or finish record"));
    auto idle = unmerged("idle", 30);
    idle.in_base = true;
    idle.no_own_commits = true;  // started and never committed to: nothing was merged, and prune says so
    plan = plan_prune({idle}, options());
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("it has no commits of its own (nothing beyond main)"));
    CHECK_THAT(joined(plan[0].reasons), !Catch::Contains("merge commit"));

    auto orphan = unmerged("orphan", 30);
    orphan.base_exists = false;
    orphan.base = "gone";
    plan = plan_prune({orphan}, options());
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("base 'gone' does not exist"));
}

TEST_CASE("prune: a finish record dates a fast-forwarded branch", "[prune]") {
    auto f = merged("ff", 20);
    f.merged_by = MergedBy::finish_record;
    f.merge_commit.clear();
    CHECK(plan_prune({f}, options())[0].prune);
    f.merged_at = now - day;
    CHECK_FALSE(plan_prune({f}, options())[0].prune);
}

TEST_CASE("prune: dirty worktrees and unpushed commits need --force", "[prune]") {
    auto dirty = with_worktree(merged("dirty", 20), true);
    auto unpushed = merged("unpushed", 20);
    unpushed.unpushed = true;
    auto both = with_worktree(merged("both", 20), true);
    both.unpushed = true;
    auto plan = plan_prune({dirty, unpushed, both}, options());
    CHECK_FALSE(plan[0].prune);
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("uncommitted changes"));
    CHECK_FALSE(plan[1].prune);
    CHECK_THAT(joined(plan[1].reasons), Catch::Contains("not on origin"));
    CHECK(plan[2].reasons.size() == 2);  // every reason, not just the first

    plan = plan_prune({dirty, unpushed, both}, options(true));
    for (const auto& decision : plan) CHECK(decision.prune);
    CHECK_THAT(joined(plan[0].overridden), Catch::Contains("will be lost"));
    CHECK(plan[2].overridden.size() == 2);

    auto no_remote = merged("local", 20);
    no_remote.unpushed.reset();  // no remote at all: nothing could have been pushed
    CHECK(plan_prune({no_remote}, options())[0].prune);
}

TEST_CASE("prune: worktrees that are missing, locked, unreadable, main or current", "[prune]") {
    auto missing = merged("missing", 20);
    missing.worktree = "/w/gone";
    missing.worktree_missing = true;
    auto plan = plan_prune({missing}, options());
    REQUIRE(plan[0].prune);
    CHECK_THAT(plan[0].steps[1].description, Catch::Contains("forget the worktree /w/gone"));

    auto moved = missing;  // moved by hand: git's record of it holds staged changes
    moved.missing_worktree_staged = "1 staged change (a.txt)";
    CHECK_FALSE(plan_prune({moved}, options())[0].prune);
    CHECK_THAT(joined(plan_prune({moved}, options())[0].reasons), Catch::Contains("git worktree repair"));
    CHECK(plan_prune({moved}, options(true))[0].prune);
    CHECK_THAT(joined(plan_prune({moved}, options(true))[0].overridden), Catch::Contains("forgetting the record loses them"));

    auto missing_locked = missing;
    missing_locked.worktree_locked = true;  // a lock keeps `git worktree prune` off it
    CHECK_FALSE(plan_prune({missing_locked}, options())[0].prune);
    CHECK(plan_prune({missing_locked}, options(true))[0].prune);

    auto locked = with_worktree(merged("locked", 20), false);
    locked.worktree_locked = true;
    CHECK_FALSE(plan_prune({locked}, options())[0].prune);
    CHECK(plan_prune({locked}, options(true))[0].prune);

    auto unreadable = with_worktree(merged("unreadable", 20), false);
    unreadable.dirty.reset();
    CHECK_FALSE(plan_prune({unreadable}, options())[0].prune);

    auto main = merged("inmain", 20);
    main.worktree = "/repo";
    main.worktree_main = true;
    plan = plan_prune({main}, options(true));
    CHECK_FALSE(plan[0].prune);
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("main worktree"));

    auto current = with_worktree(merged("here", 20), false);
    current.worktree_current = true;
    plan = plan_prune({current}, options(true));
    CHECK_FALSE(plan[0].prune);
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("inside its worktree"));
}

TEST_CASE("prune: environment steps and an archive tag from an earlier run", "[prune]") {
    auto f = with_worktree(merged("env", 20), false);
    f.environment = {"remove container gm-env"};
    f.archive_tag_exists = true;
    const auto plan = plan_prune({f}, options());
    REQUIRE(plan[0].steps.size() == 4);
    CHECK_THAT(plan[0].steps[0].description, Catch::Contains("keep the archive tag"));
    // the environment before the worktree it runs on
    CHECK(plan[0].steps[1].kind == PruneStep::Kind::remove_environment);
    CHECK(plan[0].steps[1].description == "remove container gm-env");
    CHECK(plan[0].steps[2].kind == PruneStep::Kind::remove_worktree);
}

TEST_CASE("prune: a container of the environment's name that git model did not make keeps the model, even with --force",
          "[prune]") {
    auto f = with_worktree(merged("env", 20), false);
    f.foreign_container = "the container gm-env was not made by git model";
    auto forced = options();
    forced.force = true;
    const auto plan = plan_prune({f}, forced);
    CHECK_FALSE(plan[0].prune);
    CHECK_THAT(joined(plan[0].reasons), Catch::Contains("not made by git model"));
}

TEST_CASE("prune: archive tag names never collide", "[prune]") {
    std::map<std::string, std::string> tags{{"archive/model/x", "c1"}, {"archive/model/x@2", "c2"}};
    const auto lookup = [&](const std::string& name) -> std::optional<std::string> {
        auto it = tags.find(name);
        if (it == tags.end()) return std::nullopt;
        return it->second;
    };
    CHECK(choose_archive_tag("archive/model/y", "c9", lookup) == std::make_pair(std::string("archive/model/y"), false));
    CHECK(choose_archive_tag("archive/model/x", "c9", lookup) == std::make_pair(std::string("archive/model/x@3"), false));
    CHECK(choose_archive_tag("archive/model/x", "c2", lookup) == std::make_pair(std::string("archive/model/x@2"), true));
    CHECK(choose_archive_tag("archive/model/x", "c1", lookup) == std::make_pair(std::string("archive/model/x"), true));
}

TEST_CASE("prune: archive tag forms and retention values", "[prune]") {
    CHECK(archive_tag_name(default_archive_form, "resnet50", "feature/model-resnet50") == "archive/model/resnet50");
    CHECK(archive_tag_name("attic/{branch}", "r", "feature/model-r") == "attic/feature/model-r");
    CHECK_THROWS_WITH(archive_tag_name("archive/all", "r", "b"), Catch::Contains("neither {model} nor {branch}"));
    CHECK_THROWS_WITH(archive_tag_name("-{model}", "m8", "b"), Catch::Contains("begins with '-' (git takes it for an option)"));
    CHECK_THROWS_WITH(archive_tag_name("archive/{model}..x", "r", "b"), Catch::Contains("model.prune.archiveTag"));
    CHECK(parse_retention("14d", "--retention", true) == 14 * day);
    CHECK(parse_retention("0", "--retention", true) == 0);
    CHECK_THROWS_AS(parse_retention("two weeks", "--retention", true), gm::UsageError);
    try {
        parse_retention("-1d", "model.prune.retention", false);
        FAIL("no exception");
    } catch (const gm::Error& e) {
        CHECK(e.code() == gm::ExitCode::failure);
        CHECK_THAT(e.what(), Catch::Contains("model.prune.retention"));
    }
}

TEST_CASE("prune: durations and JSON shape", "[prune]") {
    CHECK(describe_duration(59) == "0 minutes");
    CHECK(describe_duration(3600) == "60 minutes");
    CHECK(describe_duration(3 * 3600) == "3 hours");
    CHECK(describe_duration(day - 1) == "23 hours");
    CHECK(describe_duration(day) == "1 day");
    CHECK(describe_duration(2 * day) == "2 days");
    CHECK(describe_duration(20 * day + 5) == "20 days");
    const auto plan = plan_prune({merged("old", 20), merged("new", 1)}, options());
    PruneOutcome done;
    done.done = true;
    const auto json = prune_json(plan, {done, std::nullopt}, options(), false);
    CHECK(json["version"] == 1);
    CHECK(json["dry_run"] == false);
    CHECK(json["retention_seconds"] == 14 * day);
    REQUIRE(json["models"].size() == 2);
    const auto& old = json["models"][0];
    CHECK(old["action"] == "prune");
    CHECK(old["merged_by"] == "merge-commit");
    CHECK(old["archive_tag"] == "archive/model/old");
    CHECK(old["done"] == true);
    CHECK(old["error"].is_null());
    CHECK(old["steps"].size() == 2);
    const auto& fresh = json["models"][1];
    CHECK(fresh["action"] == "keep");
    CHECK(fresh["archive_tag"].is_null());
    CHECK(fresh["done"].is_null());
    CHECK(fresh["reasons"].size() == 1);
}
