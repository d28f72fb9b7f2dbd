#include "gitmodel/git/git_program.hpp"

#include "temp_repo.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace gm;
namespace fs = std::filesystem;

namespace {

// Sets environment variables for one scope, restoring what was there.
using gm::test::ScopedEnv;

}  // namespace

TEST_CASE("run_git reaches the folder's repository whatever GIT_* variables the caller set", "[git][run_git]") {
    test::TempRepo scratch;
    test::TempRepo other;
    const fs::path other_git = other.repo / ".git";
    // What a hook or `git --git-dir=... model` leaves in our environment, all pointing elsewhere.
    const ScopedEnv env({{"GIT_DIR", other_git.string()},
                         {"GIT_WORK_TREE", other.repo.string()},
                         {"GIT_INDEX_FILE", (other_git / "index").string()},
                         {"GIT_COMMON_DIR", other_git.string()},
                         {"GIT_OBJECT_DIRECTORY", (other_git / "objects").string()},
                         {"GIT_PREFIX", "sub/"}});
    proc::RunOptions options;
    options.cwd = scratch.repo;
    const auto top = git::run_git({"rev-parse", "--show-toplevel", "--absolute-git-dir"}, options);
    REQUIRE(top.ok());
    CHECK(top.out == fs::canonical(scratch.repo).string() + "\n" + fs::canonical(scratch.repo / ".git").string() + "\n");
    // The variables are ours to clear, not the caller's to lose: the environment is as it was.
    CHECK(std::string(std::getenv("GIT_DIR")) == other_git.string());
}

TEST_CASE("run_git clears exactly the repository-locating variables", "[git][run_git]") {
    const auto& names = git::repository_variables();
    for (const char* name : {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR",
                             "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"})
        CHECK(std::find(names.begin(), names.end(), name) != names.end());
    // The caller's `git -c` settings hold for every repository: kept.
    for (const char* name : {"GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG"})
        CHECK(std::find(names.begin(), names.end(), name) == names.end());
}
