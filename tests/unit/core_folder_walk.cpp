// core/folder_walk: what judges a worktree's file and then deletes it (a careful worktree removal,
// an interrupted start's undo) reaches it through real folders only, and deletes only the very
// file judged.
#include "gitmodel/core/folder_walk.hpp"
#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

using namespace gm;
namespace fs = std::filesystem;

namespace {

void write_walked(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

struct stat lstat_walked(const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

}  // namespace

TEST_CASE("a folder swapped for a link is never walked through", "[core][folder_walk]") {
    test::ScratchDir root, outside;
    write_walked(outside.path / "weights.bin", "the user's data");
    write_walked(root.path / "data/cache.txt", "ours");
    const struct stat seen = lstat_walked(root.path / "data/cache.txt");
    fs::remove_all(root.path / "data");
    fs::create_directory_symlink(outside.path, root.path / "data");
    FolderWalk walk(root.path);
    struct stat st {};
    CHECK_FALSE(walk.status("data/weights.bin", st));
    CHECK(walk.folder_of("data/weights.bin") < 0);
    CHECK_FALSE(walk.remove_if_same("data/weights.bin", lstat_walked(outside.path / "weights.bin")));
    CHECK_FALSE(walk.remove_if_same("data/cache.txt", seen));
    CHECK(fs::exists(outside.path / "weights.bin"));
    // The link itself, at the end of a path, is looked at, not followed.
    REQUIRE(walk.status("data", st));
    CHECK(S_ISLNK(st.st_mode));
}

TEST_CASE("only the very file seen is deleted, then the folders it leaves empty", "[core][folder_walk]") {
    test::ScratchDir root;
    write_walked(root.path / "a/b/seen.txt", "v1");
    write_walked(root.path / "a/keep.txt", "the user's");
    FolderWalk walk(root.path);

    SECTION("written since it was seen: kept") {
        const struct stat seen = lstat_walked(root.path / "a/b/seen.txt");
        struct timespec later[2] = {{0, UTIME_OMIT}, {seen.st_mtim.tv_sec + 1, 0}};  // a save in the same size
        write_walked(root.path / "a/b/seen.txt", "v2");
        REQUIRE(::utimensat(AT_FDCWD, (root.path / "a/b/seen.txt").c_str(), later, 0) == 0);
        CHECK_FALSE(walk.remove_if_same("a/b/seen.txt", seen));
        CHECK(fs::exists(root.path / "a/b/seen.txt"));
    }
    SECTION("replaced by another file of the same name: kept") {
        const struct stat seen = lstat_walked(root.path / "a/b/seen.txt");
        write_walked(root.path / "a/b/other.txt", "v1");
        fs::rename(root.path / "a/b/other.txt", root.path / "a/b/seen.txt");
        CHECK_FALSE(walk.remove_if_same("a/b/seen.txt", seen));
        CHECK(fs::exists(root.path / "a/b/seen.txt"));
    }
    SECTION("its mode changed since (a chmod moves the change time): kept") {
        const struct stat seen = lstat_walked(root.path / "a/b/seen.txt");
        ::usleep(20000);  // past the file clock's tick
        REQUIRE(::chmod((root.path / "a/b/seen.txt").c_str(), 0600) == 0);
        CHECK_FALSE(walk.remove_if_same("a/b/seen.txt", seen));
    }
    SECTION("unchanged: deleted, and its emptied folder made since with it, not a folder with the user's file") {
        const struct stat seen = lstat_walked(root.path / "a/b/seen.txt");
        REQUIRE(walk.remove_if_same("a/b/seen.txt", seen));
        walk.remove_empty_folders_made_since("a/b/seen.txt", {0, 0});
        CHECK_FALSE(fs::exists(root.path / "a/b"));
        CHECK(fs::exists(root.path / "a/keep.txt"));
        CHECK(fs::exists(root.path));
    }
    SECTION("an empty folder that was there before the moment given stays (a user's, with its mode)") {
        const struct stat seen = lstat_walked(root.path / "a/b/seen.txt");
        struct timespec now {};
        ::usleep(20000);  // past the file clock's tick
        ::clock_gettime(CLOCK_REALTIME, &now);
        REQUIRE(walk.remove_if_same("a/b/seen.txt", seen));
        walk.remove_empty_folders_made_since("a/b/seen.txt", now);
        CHECK(fs::is_directory(root.path / "a/b"));
    }
}

TEST_CASE("same_file_as_seen compares identity, size and both times", "[core][folder_walk]") {
    struct stat a {};
    a.st_dev = 1;
    a.st_ino = 2;
    a.st_size = 3;
    a.st_mtim = {4, 5};
    a.st_ctim = {6, 7};
    struct stat b = a;
    CHECK(same_file_as_seen(a, b));
    b.st_ctim.tv_nsec = 8;
    CHECK_FALSE(same_file_as_seen(a, b));
    b = a;
    b.st_ino = 9;
    CHECK_FALSE(same_file_as_seen(a, b));
    b = a;
    b.st_mtim.tv_sec = 10;
    CHECK_FALSE(same_file_as_seen(a, b));
}

TEST_CASE("a folder renamed away and back while a file was judged by path fails the judgement", "[core][folder_walk]") {
    test::ScratchDir root;
    write_walked(root.path / "data/f", "edit");
    write_walked(root.path / "other/g", "x");
    write_walked(root.path / "top.txt", "y");
    FolderStamps stamps(root.path, {"data/f", "other/g", "top.txt"});
    stamps.recheck();
    CHECK(stamps.still_same("data/f"));
    CHECK(stamps.still_same("top.txt"));

    SECTION("swapped for a link and back: its change time moved") {
        ::usleep(20000);  // past the file clock's tick
        fs::rename(root.path / "data", root.path / ".data-real");
        fs::create_directory_symlink("/", root.path / "data");
        fs::remove(root.path / "data");
        fs::rename(root.path / ".data-real", root.path / "data");
        stamps.recheck();
        CHECK_FALSE(stamps.still_same("data/f"));
        CHECK_FALSE(stamps.still_same("top.txt"));  // the root's entries changed too
    }
    SECTION("an entry added in a folder on the way") {
        ::usleep(20000);
        write_walked(root.path / "other/new", "z");
        stamps.recheck();
        CHECK_FALSE(stamps.still_same("other/g"));
        CHECK(stamps.still_same("data/f"));
    }
    SECTION("a link where the folder was, at the look after") {
        fs::rename(root.path / "data", root.path / ".data-real");
        fs::create_directory_symlink(root.path / ".data-real", root.path / "data");
        stamps.recheck();
        CHECK_FALSE(stamps.still_same("data/f"));
    }
    SECTION("a path that was not stamped is never taken as the same") {
        CHECK_FALSE(stamps.still_same("elsewhere/h"));
    }
}
