// The shelf of a run's carried files (sweep/shelf.hpp): a move keeps bytes and mode, across
// filesystems too (/dev/shm is tmpfs here: the copy, fsync and compare path), never follows a
// link (a link to a file outside, or a folder that is a link), never replaces a shelved file with
// other bytes, and finishes what a killed move left (both copies there, identical).
#include "gitmodel/core/error.hpp"
#include "gitmodel/sweep/shelf.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

using namespace gm::sweep;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& content, mode_t mode = 0644) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    ::chmod(file.c_str(), mode);
}

std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

mode_t mode_of(const fs::path& file) {
    struct stat st {};
    ::lstat(file.c_str(), &st);
    return st.st_mode & 07777;
}

// A scratch folder on /dev/shm (another filesystem than /tmp's, where there is one).
struct ShmDir {
    fs::path path;
    ShmDir() {
        char name[] = "/dev/shm/gm-unit-shelf-XXXXXX";
        if (const char* made = ::mkdtemp(name)) path = made;
    }
    ~ShmDir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("a carried file moves to the shelf with its bytes and mode", "[sweep][shelf]") {
    gm::test::ScratchDir worktree, record;
    const std::string bytes("binary\0data\n", 12);
    write(worktree.path / "out/notes.txt", bytes, 0640);
    const fs::path shelf = record.path / "1.carried";
    CHECK(look_at_carried(worktree.path, "out/notes.txt").kind == CarriedKind::file);
    REQUIRE(move_carried_file(worktree.path, shelf, "out/notes.txt"));
    CHECK_FALSE(fs::exists(worktree.path / "out/notes.txt"));
    CHECK(read(shelf / "out/notes.txt") == bytes);
    CHECK(mode_of(shelf / "out/notes.txt") == 0640);
    CHECK(mode_of(shelf) == 0700);
    CHECK(look_at_carried(worktree.path, "out/notes.txt").kind == CarriedKind::absent);
    CHECK_FALSE(move_carried_file(worktree.path, shelf, "out/notes.txt"));  // nothing left to move
}

TEST_CASE("a carried file moves across filesystems by copy, fsync and compare", "[sweep][shelf]") {
    ShmDir worktree;
    gm::test::ScratchDir record;
    if (worktree.path.empty()) {
        WARN("SKIP: no /dev/shm to copy from");
        return;
    }
    std::string big(3 * 65536 + 17, 'x');
    big[70000] = '\0';
    write(worktree.path / "ckpt/weights.bin", big, 0600);
    const fs::path shelf = record.path / "2.carried";
    REQUIRE(move_carried_file(worktree.path, shelf, "ckpt/weights.bin"));
    CHECK_FALSE(fs::exists(worktree.path / "ckpt/weights.bin"));
    CHECK(read(shelf / "ckpt/weights.bin") == big);
    CHECK(mode_of(shelf / "ckpt/weights.bin") == 0600);
    CHECK_FALSE(fs::exists(shelf / "ckpt/.gm-shelving-weights.bin"));
}

TEST_CASE("a carried path that is or lies below a link is never followed", "[sweep][shelf]") {
    gm::test::ScratchDir worktree, record, outside;
    write(outside.path / "secret.bin", "not the run's");
    fs::create_directory_symlink(outside.path, worktree.path / "out");
    fs::create_symlink(outside.path / "secret.bin", worktree.path / "weights.bin");
    const fs::path shelf = record.path / "3.carried";
    CHECK(look_at_carried(worktree.path, "weights.bin").kind == CarriedKind::link);
    CHECK(look_at_carried(worktree.path, "out/secret.bin").kind == CarriedKind::link);
    CHECK(look_at_carried(worktree.path, "out/secret.bin").at == worktree.path / "out");
    CHECK_FALSE(move_carried_file(worktree.path, shelf, "weights.bin"));
    CHECK_FALSE(move_carried_file(worktree.path, shelf, "out/secret.bin"));
    CHECK(read(outside.path / "secret.bin") == "not the run's");
    CHECK(fs::is_symlink(worktree.path / "weights.bin"));
    CHECK_FALSE(fs::exists(shelf / "weights.bin"));
    CHECK_FALSE(fs::exists(shelf / "out"));
}

TEST_CASE("a link in the shelf's way is not written through", "[sweep][shelf]") {
    gm::test::ScratchDir worktree, record, outside;
    write(worktree.path / "out/notes.txt", "notes");
    const fs::path shelf = record.path / "4.carried";
    fs::create_directories(shelf);
    fs::create_directory_symlink(outside.path, shelf / "out");
    CHECK_THROWS_AS(move_carried_file(worktree.path, shelf, "out/notes.txt"), gm::Error);
    CHECK(read(worktree.path / "out/notes.txt") == "notes");
    CHECK(fs::is_empty(outside.path));
}

TEST_CASE("a rerun finishes a killed move, and never replaces other bytes", "[sweep][shelf]") {
    gm::test::ScratchDir worktree, record;
    const fs::path shelf = record.path / "5.carried";
    write(worktree.path / "a.txt", "same");
    write(shelf / "a.txt", "same");
    REQUIRE(move_carried_file(worktree.path, shelf, "a.txt"));
    CHECK_FALSE(fs::exists(worktree.path / "a.txt"));
    CHECK(read(shelf / "a.txt") == "same");

    write(worktree.path / "b.txt", "new");
    write(shelf / "b.txt", "old");
    CHECK_THROWS_AS(move_carried_file(worktree.path, shelf, "b.txt"), gm::Error);
    CHECK(read(worktree.path / "b.txt") == "new");
    CHECK(read(shelf / "b.txt") == "old");
}
