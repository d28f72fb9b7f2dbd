// Run under ThreadSanitizer (gm_tsan_tests): `list` checks worktrees for changes on worker
// threads while the main thread reads the branches. A real repository with many worktrees,
// some dirty, listed repeatedly; the answers must be right and TSan must see no race.
#include "gitmodel/git/repository.hpp"
#include "gitmodel/model/list.hpp"
#include "gitmodel/proc/process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

void git(const fs::path& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", dir.string()});
    gm::proc::run_checked(args);
}

// A scratch folder with its own HOME and git identity, removed at the end.
struct Scratch {
    fs::path dir;
    Scratch() {
        std::string pattern = (fs::temp_directory_path() / "gm-tsan-list.XXXXXX").string();
        dir = ::mkdtemp(pattern.data());
        fs::create_directories(dir / "home");
        ::setenv("HOME", (dir / "home").c_str(), 1);
        ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
        ::setenv("GIT_CONFIG_GLOBAL", (dir / "home" / ".gitconfig").c_str(), 1);
        for (const char* name : {"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"}) ::setenv(name, "T", 1);
        for (const char* name : {"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"}) ::setenv(name, "t@example.com", 1);
    }
    ~Scratch() {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }
};

}  // namespace

TEST_CASE("list: dirty checks on worker threads, many worktrees, repeatedly", "[tsan][list]") {
    Scratch scratch;
    const fs::path repo = scratch.dir / "repo";
    gm::proc::run_checked({"git", "init", "-q", "-b", "main", repo.string()});
    for (int i = 0; i < 30; ++i) std::ofstream(repo / ("f" + std::to_string(i) + ".py")) << "x = " << i << "\n";
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-q", "-m", "init"});
    std::map<std::string, bool> expected;
    for (int i = 0; i < 24; ++i) {
        const std::string model = "m" + std::to_string(i);
        const fs::path wt = scratch.dir / "worktrees" / model;
        git(repo, {"worktree", "add", "-q", "-b", "feature/model-" + model, wt.string()});
        const bool dirty = i % 3 == 0;
        if (dirty) std::ofstream(wt / "f1.py", std::ios::app) << "y = 1\n";
        expected[model] = dirty;
    }
    gm::git::Library library;
    auto opened = gm::git::Repository::open(repo);
    for (int round = 0; round < 5; ++round) {
        const auto models = gm::model::list_models(opened);
        REQUIRE(models.size() == expected.size());
        for (const auto& entry : models) {
            INFO(entry.name);
            REQUIRE(entry.dirty.has_value());
            CHECK(*entry.dirty == expected.at(entry.name));
        }
    }
}
