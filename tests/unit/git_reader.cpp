// The two RepoReaders (libgit2's, and git's plumbing for SHA-256 repositories) read a commit's
// tree alike: files, executables, links and their targets, folders, submodules, odd names, and
// nothing where a path runs through a file, a link or a submodule.
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/repository.hpp"

#include "temp_repo.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <unistd.h>

using gm::git::TreeEntryKind;

namespace {

// Works in a folder for a while (both readers find their repository from there).
class InFolder {
public:
    explicit InFolder(const std::filesystem::path& folder) : before_(std::filesystem::current_path()) {
        REQUIRE(::chdir(folder.c_str()) == 0);
    }
    ~InFolder() { [[maybe_unused]] const int ignored = ::chdir(before_.c_str()); }
    InFolder(const InFolder&) = delete;
    InFolder& operator=(const InFolder&) = delete;

private:
    std::filesystem::path before_;
};

// Commits a tree of every kind of entry into the repository `repo` and returns the commit's id.
std::string commit_every_kind(const gm::test::TempRepo& scratch, const std::filesystem::path& repo) {
    const auto write = [&](const std::string& path, const std::string& text) {
        std::filesystem::create_directories((repo / path).parent_path());
        std::ofstream(repo / path) << text;
    };
    write("envs/shared.yaml", "image: registry.example.com/team/pytorch:2.4.0\n");
    write("envs/run.sh", "#!/bin/sh\n");
    std::filesystem::permissions(repo / "envs/run.sh", std::filesystem::perms::owner_exec,
                                 std::filesystem::perm_options::add);
    write("with space/a b.yaml", "spaced\n");
    write("new\nline", "a name with a line break\n");
    write("cr\r/inner.yaml", "in a folder whose name ends in a carriage return\n");
    write("tail.yaml\r", "a name that ends in a carriage return\n");
    write("tail.yaml", "the name without it\n");
    std::filesystem::create_symlink("envs/shared.yaml", repo / ".modelenv.yaml");
    std::filesystem::create_symlink("envs", repo / "dirlink");
    std::filesystem::create_symlink("../envs/shared.yaml", repo / "with space/up link");
    std::filesystem::create_symlink("tail.yaml\r", repo / "crlink");
    std::filesystem::create_symlink("new\nline", repo / "nllink");
    scratch.git({"add", "-A"}, repo);
    const std::string some_commit = scratch.git({"rev-parse", "HEAD"}, repo);
    scratch.git({"update-index", "--add", "--cacheinfo", "160000," + some_commit + ",sub"}, repo);
    scratch.git({"commit", "-q", "-m", "every kind"}, repo);
    return scratch.git({"rev-parse", "HEAD"}, repo);
}

// What each path holds: "blob", "tree", "other", "@target" (a link), or "" (nothing).
const std::map<std::string, std::string> expected_entries = {
    {".modelenv.yaml", "@envs/shared.yaml"},
    {"envs", "tree"},
    {"envs/shared.yaml", "blob"},
    {"envs/run.sh", "blob"},
    {"dirlink", "@envs"},
    {"dirlink/shared.yaml", ""},  // a link is not a folder in the tree itself
    {"with space", "tree"},
    {"with space/a b.yaml", "blob"},
    {"with space/up link", "@../envs/shared.yaml"},
    {"new\nline", "blob"},
    {"sub", "other"},
    {"sub/x", ""},
    {"envs/shared.yaml/x", ""},
    {"train.py", "blob"},
    {"missing", ""},
    {"envs/missing", ""},
    {"missing/deeper", ""},
    {"envs/shared", ""},  // a prefix of a name is not the name
    {"cr\r", "tree"},
    {"cr", ""},
    {"cr\r/inner.yaml", "blob"},
    {"tail.yaml\r", "blob"},
    {"tail.yaml", "blob"},
    {"crlink", "@tail.yaml\r"},
    {"nllink", "@new\nline"},
};

std::string described(const std::optional<TreeEntryKind>& entry) {
    if (!entry) return "";
    switch (entry->kind) {
        case TreeEntryKind::Kind::blob: return "blob";
        case TreeEntryKind::Kind::tree: return "tree";
        case TreeEntryKind::Kind::link: return "@" + entry->link_target;
        case TreeEntryKind::Kind::other: return "other";
    }
    return "?";
}

void check_reader(gm::git::RepoReader& reader, const std::string& commit) {
    for (const auto& [path, expected] : expected_entries) {
        INFO(reader.object_format() << " " << path);
        CHECK(described(reader.tree_entry(commit, path)) == expected);
    }
    bool linked = false;
    CHECK(gm::git::read_config_file(reader, commit, ".modelenv.yaml", &linked) ==
          std::optional<std::string>("image: registry.example.com/team/pytorch:2.4.0\n"));
    CHECK(linked);
    CHECK(gm::git::read_config_file(reader, commit, "with space/up link") ==
          std::optional<std::string>("image: registry.example.com/team/pytorch:2.4.0\n"));
    CHECK_FALSE(gm::git::read_config_file(reader, commit, "missing.yaml"));
    // names git's line-by-line reading would change: a trailing carriage return, a line break
    CHECK(gm::git::read_config_file(reader, commit, "crlink") ==
          std::optional<std::string>("a name that ends in a carriage return\n"));
    CHECK(gm::git::read_config_file(reader, commit, "nllink") == std::optional<std::string>("a name with a line break\n"));
    CHECK(gm::git::read_config_file(reader, commit, "cr\r/inner.yaml") ==
          std::optional<std::string>("in a folder whose name ends in a carriage return\n"));
    // a few objects (through the kept cat-file in the plumbing reader), then many (a process of their own)
    const auto few = reader.read_objects({commit + ":envs/shared.yaml", commit + ":envs", "no-such-object", commit});
    REQUIRE(few.size() == 4);
    CHECK(few[0] == std::optional<std::string>("image: registry.example.com/team/pytorch:2.4.0\n"));
    CHECK_FALSE(few[1]);  // a folder's tree is not a file's content
    CHECK_FALSE(few[2]);
    REQUIRE(few[3]);
    CHECK_THAT(*few[3], Catch::Contains("every kind"));
    std::vector<std::string> many(9, commit + ":with space/a b.yaml");
    many.push_back(commit + ":envs");
    const auto all = reader.read_objects(many);
    REQUIRE(all.size() == 10);
    CHECK(all[8] == std::optional<std::string>("spaced\n"));
    CHECK_FALSE(all[9]);
}

}  // namespace

TEST_CASE("RepoReader: libgit2 and git's plumbing read a SHA-1 commit's tree alike", "[git]") {
    const gm::git::Library library;
    gm::test::TempRepo scratch;
    const std::string commit = commit_every_kind(scratch, scratch.repo);
    InFolder here(scratch.repo);
    const auto libgit = gm::git::open_reader(false);
    REQUIRE(libgit->object_format() == "sha1");
    check_reader(*libgit, commit);
    const auto plumbing = gm::git::open_plumbing_reader();
    check_reader(*plumbing, commit);
}

TEST_CASE("RepoReader: git's plumbing reads a SHA-256 commit's tree", "[git]") {
    const gm::git::Library library;
    gm::test::TempRepo scratch;
    const auto repo = scratch.root / "sha256";
    scratch.git({"init", "-q", "--object-format=sha256", "-b", "main", repo.string()}, scratch.root);
    scratch.write(repo / "train.py", "import torch\n");
    scratch.git({"add", "-A"}, repo);
    scratch.git({"commit", "-q", "-m", "initial"}, repo);
    const std::string commit = commit_every_kind(scratch, repo);
    REQUIRE(commit.size() == 64);
    InFolder here(repo);
    const auto reader = gm::git::open_reader(false);  // libgit2 1.5 cannot: the plumbing one
    REQUIRE(reader->object_format() == "sha256");
    check_reader(*reader, commit);
}
