// model/lookup: the one branch -> worktree lookup, the one model-name check and
// resolver, and env::resolve_target built on them (one model looked up, not all
// listed), checked against what `git model list` says of the same repository.
// Real git, in a scratch repository.
#include "temp_repo.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/list.hpp"
#include "gitmodel/model/lookup.hpp"

#include <catch2/catch.hpp>

namespace fs = std::filesystem;
using namespace gm;

namespace {

// A repository with a model in every place a model can be: a linked worktree (alpha),
// a locked one (locked), one whose folder is gone (gone), only a branch (bare), and the
// main worktree switched to one (inplace).
struct ModelRepo {
    ModelRepo() {
        for (const char* name : {"alpha", "locked", "gone", "bare"})
            scratch.git({"branch", std::string("feature/model-") + name, "main"});
        for (const char* name : {"alpha", "locked", "gone"})
            scratch.git({"worktree", "add", "-q", (scratch.root / "worktrees" / name).string(),
                         std::string("feature/model-") + name});
        scratch.git({"worktree", "lock", (scratch.root / "worktrees" / "locked").string()});
        fs::remove_all(scratch.root / "worktrees" / "gone");
        scratch.git({"switch", "-q", "-c", "feature/model-inplace"});
    }
    test::TempRepo scratch;
};

// The exit code and message of what fn throws.
template <typename Fn>
std::pair<ExitCode, std::string> thrown(Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        return {e.code(), std::string(e.what()) + " | hint: " + e.hint()};
    }
    FAIL("nothing thrown");
    return {};
}

}  // namespace

TEST_CASE("worktree_of: linked, locked, missing, main and no checkout", "[model][lookup]") {
    ModelRepo m;
    git::Library library;
    const auto main_repo = git::Repository::open(m.scratch.repo);
    const auto linked_repo = git::Repository::open(m.scratch.root / "worktrees" / "alpha");
    for (const auto* repo : {&main_repo, &linked_repo}) {
        const auto alpha = model::worktree_of(*repo, "feature/model-alpha");
        REQUIRE(alpha);
        CHECK(alpha->path == m.scratch.root / "worktrees" / "alpha");
        CHECK_FALSE(alpha->main_worktree);
        CHECK_FALSE(alpha->missing);
        CHECK_FALSE(alpha->locked);

        const auto locked = model::worktree_of(*repo, "feature/model-locked");
        REQUIRE(locked);
        CHECK(locked->locked);
        CHECK_FALSE(locked->missing);

        const auto gone = model::worktree_of(*repo, "feature/model-gone");
        REQUIRE(gone);
        CHECK(gone->missing);

        // The main worktree, from itself and from a linked one.
        const auto inplace = model::worktree_of(*repo, "feature/model-inplace");
        REQUIRE(inplace);
        CHECK(inplace->main_worktree);
        CHECK(inplace->path == m.scratch.repo);

        CHECK_FALSE(model::worktree_of(*repo, "feature/model-bare"));
        CHECK_FALSE(model::worktree_of(*repo, "main"));
        CHECK_FALSE(model::worktree_of(*repo, "feature/model-nosuch"));
    }
}

TEST_CASE("worktree_of: a bare repository has no main worktree", "[model][lookup]") {
    test::TempRepo scratch;
    const fs::path bare = scratch.root / "bare.git";
    scratch.git({"clone", "-q", "--bare", scratch.repo.string(), bare.string()}, scratch.root);
    scratch.git({"worktree", "add", "-q", "-b", "feature/model-x", (scratch.root / "x").string()}, bare);
    git::Library library;
    const auto repo = git::Repository::open(bare);
    CHECK_FALSE(model::worktree_of(repo, "main"));  // the bare HEAD's branch is checked out nowhere
    const auto x = model::worktree_of(repo, "feature/model-x");
    REQUIRE(x);
    CHECK(x->path == scratch.root / "x");
    const auto from_linked = model::worktree_of(git::Repository::open(scratch.root / "x"), "main");
    CHECK_FALSE(from_linked);
}

TEST_CASE("require_model_name: the rule broken, exit 2, the caller's hint", "[model][lookup]") {
    CHECK_NOTHROW(model::require_model_name("resnet50", "hint"));
    const auto [code, text] = thrown([] { model::require_model_name("Bad;Name", "the hint"); });
    CHECK(code == ExitCode::usage);
    CHECK(text == "invalid model name 'Bad;Name': it contains the upper-case letter 'B'; model names are lower case"
                  " | hint: the hint");
    const auto [code2, text2] = thrown([] { model::require_model_name("a\nb", ""); });
    CHECK(code2 == ExitCode::usage);
    CHECK(text2.rfind("invalid model name 'a\\nb': it contains a line break", 0) == 0);
}

TEST_CASE("resolve_model_name: the argument, else the current worktree's model", "[model][lookup]") {
    ModelRepo m;
    git::Library library;
    const auto in_alpha = git::Repository::open(m.scratch.root / "worktrees" / "alpha");
    CHECK(model::resolve_model_name(in_alpha, std::nullopt) == "alpha");
    CHECK(model::current_model(in_alpha) == std::optional<std::string>("alpha"));
    CHECK(model::resolve_model_name(in_alpha, std::string("other")) == "other");  // named: not looked up
    const auto [code, text] = thrown([&] { model::resolve_model_name(in_alpha, std::string("-x")); });
    CHECK(code == ExitCode::usage);
    CHECK(text == "invalid model name '-x': it begins with '-' (it would be read as an option)"
                  " | hint: `git model list` shows the models");

    m.scratch.git({"switch", "-q", "main"});
    const auto on_main = git::Repository::open(m.scratch.repo);
    CHECK_FALSE(model::current_model(on_main));
    const auto [code2, text2] = thrown([&] { model::resolve_model_name(on_main, std::nullopt); });
    CHECK(code2 == ExitCode::usage);
    CHECK(text2.rfind("this worktree is on main, not on a model branch | hint: name the model", 0) == 0);
}

TEST_CASE("env resolve_target by name: what git model list says, without listing", "[env][lookup]") {
    ModelRepo m;
    git::Library library;
    for (const fs::path& from : {m.scratch.repo, m.scratch.root / "worktrees" / "alpha"}) {
        auto repo = git::Repository::open(from);
        const auto alpha = env::resolve_target(repo, std::string("alpha"));
        CHECK(alpha.model == "alpha");
        CHECK(alpha.branch == "feature/model-alpha");
        CHECK(alpha.worktree == m.scratch.root / "worktrees" / "alpha");
        CHECK(alpha.linked_worktree);
        CHECK(alpha.common_dir == repo.common_dir());
        CHECK(alpha.container == env::container_name(repo.common_dir(), m.scratch.repo, "alpha"));

        const auto inplace = env::resolve_target(repo, std::string("inplace"));
        CHECK(inplace.worktree == m.scratch.repo);
        CHECK_FALSE(inplace.linked_worktree);

        // Every model the listing shows: a target exactly where it is present, the same error elsewhere.
        for (const auto& entry : model::list_models(repo)) {
            INFO(entry.name);
            if (entry.worktree && entry.worktree_state == model::WorktreeState::present) {
                const auto target = env::resolve_target(repo, entry.name);
                CHECK(target.worktree == *entry.worktree);
                CHECK(target.linked_worktree == !entry.is_main_worktree);
            } else {
                const auto [code, text] = thrown([&] { env::resolve_target(repo, entry.name); });
                CHECK(code == ExitCode::failure);
                CHECK_THAT(text, Catch::StartsWith("model '" + entry.name + "' has no worktree to run an environment for"));
                const std::string path = entry.worktree ? entry.worktree->string() : "";
                if (!entry.worktree)
                    CHECK_THAT(text, Catch::EndsWith("| hint: create one with `git worktree add <path> " + entry.branch + "`"));
                else if (entry.worktree_state == model::WorktreeState::missing)
                    CHECK_THAT(text, Catch::Contains("(its folder " + path + " is gone) | hint: `git worktree remove " +
                                                     path + "` forgets the gone one"));
                else
                    CHECK_THAT(text, Catch::Contains("(git has " + path + " locked) | hint: `git worktree unlock " + path));
                // env down by name needs none: the container goes by its name.
                const auto down = env::resolve_target(repo, entry.name, env::WorktreeUse::optional);
                CHECK(down.worktree.empty());
                CHECK(down.container == env::container_name(repo.common_dir(), m.scratch.repo, entry.name));
            }
        }
        const auto [code, text] = thrown([&] { env::resolve_target(repo, std::string("nosuch")); });
        CHECK(code == ExitCode::failure);
        CHECK(text == "there is no model 'nosuch' in this repository | hint: `git model list` shows the models");
        const auto [code2, text2] = thrown([&] { env::resolve_target(repo, std::string("Bad;Name")); });
        CHECK(code2 == ExitCode::usage);
        CHECK(text2 == "invalid model name 'Bad;Name': it contains the upper-case letter 'B'; model names are lower "
                       "case | hint: ");
    }
}

TEST_CASE("env: a container another user started through a shared engine is never taken for one's own", "[env][lookup]") {
    env::Target target;
    target.model = "a";
    target.common_dir = "/srv/team/repo/.git";
    env::Engine engine;
    engine.name = "podman";
    env::ContainerInfo info;
    info.name = "gm-repo-a-0badf00d";
    info.labels = {{env::label::managed, "1"}, {env::label::repo, target.common_dir.string()}, {env::label::model, "a"}};
    CHECK_NOTHROW(env::require_own_container(info, target, engine, 1234));  // made before the owner was labelled
    info.labels[env::label::owner] = "1234";
    CHECK_NOTHROW(env::require_own_container(info, target, engine, 1234));
    CHECK_NOTHROW(env::require_own_container(info, target, engine, 0));  // root may take anyone's down
    info.labels[env::label::owner] = "4000000";  // another uid, one no account has
    const auto [code, text] = thrown([&] { env::require_own_container(info, target, engine, 1234); });
    CHECK(code == ExitCode::failure);
    CHECK_THAT(text, Catch::Contains("the environment of 'a' is 4000000's: they started the container "
                                     "gm-repo-a-0badf00d through this engine") &&
                         Catch::Contains("| hint: only 4000000 (git model env down there) or root can take it down"));
}
