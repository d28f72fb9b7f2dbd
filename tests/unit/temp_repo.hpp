#pragma once
// A scratch repository for unit tests that need real git: made with the git
// program in its own temp folder (no system config: the test binary runs with
// GIT_CONFIG_NOSYSTEM=1 and its own HOME), removed afterwards unless the last
// assertion failed (then its path is printed).

#include "gitmodel/proc/process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace gm::test {

class TempRepo {
public:
    TempRepo() {
        char name[] = "/tmp/gm-unit-XXXXXX";
        const char* made = ::mkdtemp(name);
        REQUIRE(made != nullptr);
        root = made;
        repo = root / "repo";
        git({"init", "-q", "-b", "main", repo.string()}, root);
        write("train.py", "import torch\n");
        write("README.md", "# demo\n");
        git({"add", "-A"});
        git({"commit", "-q", "-m", "initial"});
    }
    ~TempRepo() {
        if (Catch::getResultCapture().lastAssertionPassed()) {
            std::error_code ec;
            std::filesystem::remove_all(root, ec);
        } else {
            WARN("scratch repository kept: " << root.string());
        }
    }
    TempRepo(const TempRepo&) = delete;
    TempRepo& operator=(const TempRepo&) = delete;

    // Runs git in a folder (the repository by default); fails the test when git does. The test
    // binary runs with GIT_CONFIG_NOSYSTEM=1 and its own HOME (see tests/CMakeLists.txt); the
    // identity comes with -c (Boost.Process 1.74 over-reads the environment when it is given
    // names longer than 15 characters to set).
    std::string git(const std::vector<std::string>& args, const std::filesystem::path& where = {}) const {
        std::vector<std::string> argv{"git", "-c", "user.name=Unit", "-c", "user.email=unit@example.com",
                                      "-C", (where.empty() ? repo : where).string()};
        argv.insert(argv.end(), args.begin(), args.end());
        proc::RunOptions options;
        options.env = {{"GIT_DIR", std::nullopt}, {"GIT_WORK_TREE", std::nullopt}};
        const auto result = proc::run(argv, options);
        INFO("git " << args.front() << ": " << result.err);
        REQUIRE(result.ok());
        std::string out = result.out;
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    }

    // Writes a file (relative to the repository, or absolute).
    void write(const std::filesystem::path& path, const std::string& content) const {
        const auto full = path.is_absolute() ? path : repo / path;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full) << content;
    }

    std::filesystem::path root;
    std::filesystem::path repo;
};

}  // namespace gm::test
