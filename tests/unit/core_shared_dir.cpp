// core/shared_dir: every file operation in a folder other users can write to, against
// planted links, pre-created files, FIFOs and foreign owners (made with chown: the tests
// run as root, as the machine's test suite does; without root those cases are skipped).
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shared_dir.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace gm;
using gm::test::ScratchDir;

namespace {

mode_t mode_of(const fs::path& path) {
    struct stat info {};
    ::lstat(path.c_str(), &info);
    return info.st_mode & 07777;
}

uid_t owner_of(const fs::path& path) {
    struct stat info {};
    ::lstat(path.c_str(), &info);
    return info.st_uid;
}

// A sticky folder every user may write to, like a lease book (or /tmp).
SharedDir sticky_book(const fs::path& path) { return SharedDir::create(path, 01777, std::nullopt); }

std::size_t count_temp_files(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().rfind(".tmp-", 0) == 0) ++n;
    return n;
}

}  // namespace

TEST_CASE("shared dir: a missing folder opens as nothing, an unsafe one is refused naming why", "[core][shared]") {
    ScratchDir scratch;
    CHECK_FALSE(SharedDir::open(scratch.path / "absent").has_value());
    CHECK_FALSE(SharedDir::open(scratch.path / "absent" / "deeper").has_value());

    fs::create_directory(scratch.path / "real");
    fs::create_directory_symlink(scratch.path / "real", scratch.path / "link");
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "link"), Catch::Contains("is a symbolic link"));

    fs::create_directory(scratch.path / "open");
    ::chmod((scratch.path / "open").c_str(), 0777);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "open"), Catch::Contains("without the sticky bit"));
    ::chmod((scratch.path / "open").c_str(), 0775);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "open"), Catch::Contains("writable by its group"));
    ::chmod((scratch.path / "open").c_str(), 01777);
    CHECK(SharedDir::open(scratch.path / "open").has_value());

    // A folder on the way that is writable by everyone without the sticky bit: anyone could swap the book.
    fs::create_directories(scratch.path / "loose" / "book");
    ::chmod((scratch.path / "loose").c_str(), 0777);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "loose" / "book"), Catch::Contains(scratch.path.string() + "/loose"));
}

TEST_CASE("shared dir: folders of another user are refused, on the way or at the end", "[core][shared]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    fs::create_directories(scratch.path / "theirs" / "book");
    ::chown((scratch.path / "theirs" / "book").c_str(), test::other_uid, test::other_uid);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "theirs" / "book"), Catch::Contains("belongs to 54321"));
    ::chown((scratch.path / "theirs" / "book").c_str(), 0, 0);
    ::chown((scratch.path / "theirs").c_str(), test::other_uid, test::other_uid);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "theirs" / "book"),
                      Catch::Contains("the folder " + (scratch.path / "theirs").string() + " above it belongs to 54321"));
    // Root's create takes over a book folder a user made, and sets the exact mode.
    ::chown((scratch.path / "theirs").c_str(), 0, 0);
    ::chown((scratch.path / "theirs" / "book").c_str(), test::other_uid, test::other_uid);
    const SharedDir book = SharedDir::create(scratch.path / "theirs" / "book", 01777, std::nullopt);
    CHECK(owner_of(scratch.path / "theirs" / "book") == 0);
    CHECK(mode_of(scratch.path / "theirs" / "book") == 01777);
}

TEST_CASE("shared dir: create makes the folders above (0755) and sets the mode whatever the umask", "[core][shared]") {
    ScratchDir scratch;
    const mode_t old = ::umask(077);
    const SharedDir dir = SharedDir::create(scratch.path / "a" / "b" / "book", 01777, std::nullopt);
    ::umask(old);
    CHECK(mode_of(scratch.path / "a") == 0755);
    CHECK(mode_of(scratch.path / "a" / "b") == 0755);
    CHECK(mode_of(scratch.path / "a" / "b" / "book") == 01777);
    CHECK(dir.info().st_mode & S_ISVTX);
}

TEST_CASE("shared dir: reads never follow a link nor hang on a FIFO", "[core][shared]") {
    ScratchDir scratch;
    SharedDir dir = sticky_book(scratch.path / "book");
    test::spit(scratch.path / "secret", "root only\n");
    ::chmod((scratch.path / "secret").c_str(), 0600);
    fs::create_symlink(scratch.path / "secret", scratch.path / "book" / "planted");
    std::string why;
    CHECK_FALSE(dir.read("planted", 1024, &why).has_value());
    CHECK(why == "a symbolic link");

    ::mkfifo((scratch.path / "book" / "fifo").c_str(), 0666);
    CHECK_FALSE(dir.read("fifo", 1024, &why).has_value());  // returns at once: O_NONBLOCK, then not a plain file
    CHECK(why == "not a plain file");

    test::spit(scratch.path / "book" / "big", std::string(2000, 'x'));
    CHECK_FALSE(dir.read("big", 1000, &why).has_value());
    CHECK(why == "larger than 1000 bytes");

    test::spit(scratch.path / "book" / "plain", "hello\n");
    const auto file = dir.read("plain", 1000);
    REQUIRE(file);
    CHECK(file->content == "hello\n");
    CHECK(file->owner == ::geteuid());
    CHECK_FALSE(dir.read("absent", 10, &why).has_value());
    CHECK(why == "absent");
}

TEST_CASE("shared dir: write makes a new file with the exact mode, through a fresh temp file", "[core][shared]") {
    ScratchDir scratch;
    SharedDir dir = sticky_book(scratch.path / "book");
    const mode_t old = ::umask(077);
    dir.write("lease", "one\n", 0644, false);
    ::umask(old);
    CHECK(test::slurp(scratch.path / "book" / "lease") == "one\n");
    CHECK(mode_of(scratch.path / "book" / "lease") == 0644);
    // Without replace, an existing name is refused and kept.
    CHECK_THROWS_WITH(dir.write("lease", "two\n", 0644, false), Catch::Contains("exists already"));
    CHECK(test::slurp(scratch.path / "book" / "lease") == "one\n");
    // Replacing one's own file is atomic (rename in the folder).
    dir.write("lease", "three\n", 0644, true);
    CHECK(test::slurp(scratch.path / "book" / "lease") == "three\n");
    CHECK(count_temp_files(scratch.path / "book") == 0);
}

TEST_CASE("shared dir: write never goes through a planted link", "[core][shared]") {
    ScratchDir scratch;
    SharedDir dir = sticky_book(scratch.path / "book");
    test::spit(scratch.path / "target", "untouched\n");
    ::chmod((scratch.path / "target").c_str(), 0600);
    fs::create_symlink(scratch.path / "target", scratch.path / "book" / "lease");
    CHECK_THROWS_WITH(dir.write("lease", "evil\n", 0644, true), Catch::Contains("symbolic link"));
    CHECK_THROWS(dir.write("lease", "evil\n", 0644, false));
    CHECK(test::slurp(scratch.path / "target") == "untouched\n");
    CHECK(mode_of(scratch.path / "target") == 0600);
    CHECK(fs::is_symlink(scratch.path / "book" / "lease"));
    CHECK(count_temp_files(scratch.path / "book") == 0);
}

TEST_CASE("shared dir: another user's file is never replaced, removed or appended to", "[core][shared]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    SharedDir dir = sticky_book(scratch.path / "book");
    const fs::path theirs = scratch.path / "book" / "theirs";
    test::spit(theirs, "their lease\n");
    ::chown(theirs.c_str(), test::other_uid, test::other_uid);
    CHECK_THROWS_WITH(dir.write("theirs", "mine\n", 0644, true), Catch::Contains("not a file of yours"));
    CHECK_FALSE(dir.remove_if_owned("theirs", ::geteuid()));
    CHECK_THROWS_WITH(dir.append("theirs", "line", 0644), Catch::Contains("not a plain file of yours"));
    CHECK(test::slurp(theirs) == "their lease\n");
    CHECK(owner_of(theirs) == test::other_uid);
    // Their own removal (checked against the owner of what is there) works.
    CHECK(dir.remove_if_owned("theirs", test::other_uid));
    CHECK_FALSE(fs::exists(theirs));
}

TEST_CASE("shared dir: a user cannot write over, or remove, a file root or another user made", "[core][shared]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    SharedDir root_view = sticky_book(scratch.path / "book");
    root_view.write("roots", "root's\n", 0644, false);
    const int code = test::as_user(test::other_uid, [&] {
        auto dir = SharedDir::open(scratch.path / "book");
        if (!dir) return 1;
        try {
            dir->write("roots", "mine\n", 0644, true);
            return 2;
        } catch (const Error&) {
        }
        if (dir->remove_if_owned("roots", 0)) return 3;  // the kernel refuses it in a sticky folder
        dir->write("mine", "mine\n", 0644, false);
        return 0;
    });
    CHECK(code == 0);
    CHECK(test::slurp(scratch.path / "book" / "roots") == "root's\n");
    CHECK(owner_of(scratch.path / "book" / "mine") == test::other_uid);
    CHECK(mode_of(scratch.path / "book" / "mine") == 0644);
}

TEST_CASE("shared dir: the log is appended only to a plain file of the caller's", "[core][shared]") {
    ScratchDir scratch;
    SharedDir dir = sticky_book(scratch.path / "book");
    dir.append("history.log", "one", 0644);
    dir.append("history.log", "two\n", 0644);
    CHECK(test::slurp(scratch.path / "book" / "history.log") == "one\ntwo\n");
    CHECK(mode_of(scratch.path / "book" / "history.log") == 0644);
    test::spit(scratch.path / "target", "untouched\n");
    fs::create_symlink(scratch.path / "target", scratch.path / "book" / "other.log");
    CHECK_THROWS_WITH(dir.append("other.log", "evil", 0644), Catch::Contains("symbolic link"));
    CHECK(test::slurp(scratch.path / "target") == "untouched\n");
}

TEST_CASE("shared dir: the lock file is made with its mode, and a planted one is refused", "[core][shared]") {
    ScratchDir scratch;
    SharedDir dir = sticky_book(scratch.path / "book");
    const mode_t old = ::umask(077);
    { const UniqueFd fd = dir.open_lock_file(".lock", 0644, true, "fix it"); CHECK(fd); }
    ::umask(old);
    CHECK(mode_of(scratch.path / "book" / ".lock") == 0644);  // every user can open it to lock
    {
        const UniqueFd fd = dir.open_lock_file(".lock", 0644, false, "fix it");
        CHECK(dir.same_file(".lock", fd.get()));
    }
    fs::remove(scratch.path / "book" / ".lock");
    CHECK_THROWS_WITH(dir.open_lock_file(".lock", 0644, false, "fix it"), Catch::Contains("is missing"));
    test::spit(scratch.path / "target", "x");
    fs::create_symlink(scratch.path / "target", scratch.path / "book" / ".lock");
    CHECK_THROWS_WITH(dir.open_lock_file(".lock", 0644, true, "fix it"), Catch::Contains("symbolic link"));
    fs::remove(scratch.path / "book" / ".lock");
    ::mkfifo((scratch.path / "book" / ".lock").c_str(), 0666);
    CHECK_THROWS_WITH(dir.open_lock_file(".lock", 0644, true, "fix it"), Catch::Contains("not a plain file"));
    fs::remove(scratch.path / "book" / ".lock");
    if (test::running_as_root()) {
        test::spit(scratch.path / "book" / ".lock", "");
        ::chown((scratch.path / "book" / ".lock").c_str(), test::other_uid, test::other_uid);
        CHECK_THROWS_WITH(dir.open_lock_file(".lock", 0644, true, "fix it"), Catch::Contains("belongs to 54321"));
    }
}

TEST_CASE("shared dir: a link on the way that another user made is refused; root's or one's own is followed and checked",
          "[core][shared]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    // A shared sticky folder (like /tmp) where another user planted a link to a root-only folder.
    fs::create_directory(scratch.path / "pub");
    ::chmod((scratch.path / "pub").c_str(), 01777);
    fs::create_directory(scratch.path / "rootonly");
    fs::create_directory_symlink(scratch.path / "rootonly", scratch.path / "pub" / "gm");
    ::lchown((scratch.path / "pub" / "gm").c_str(), test::other_uid, test::other_uid);
    CHECK_THROWS_AS(SharedDir::create(scratch.path / "pub" / "gm" / "book", 01777, std::nullopt), UnsafeFolderError);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "pub" / "gm" / "book"),
                      Catch::Contains("the folder " + (scratch.path / "pub" / "gm").string() +
                                      " above it is a symbolic link that 54321 made"));
    CHECK_FALSE(fs::exists(scratch.path / "rootonly" / "book"));
    // Root's own link is followed, and what it leads to is checked like any folder on the way.
    fs::create_directory_symlink("rootonly", scratch.path / "mine");  // relative to the folder that holds it
    const auto made = SharedDir::create(scratch.path / "mine" / "deeper" / "book", 01777, std::nullopt);
    CHECK(mode_of(scratch.path / "rootonly" / "deeper") == 0755);
    CHECK(mode_of(scratch.path / "rootonly" / "deeper" / "book") == 01777);
    CHECK(SharedDir::open(scratch.path / "mine" / "deeper" / "book").has_value());
    ::chmod((scratch.path / "rootonly").c_str(), 0777);
    CHECK_THROWS_WITH(SharedDir::open(scratch.path / "mine" / "deeper" / "book"),
                      Catch::Contains("the folder " + (scratch.path / "rootonly").string() + " above it is writable by everyone"));
    ::chmod((scratch.path / "rootonly").c_str(), 0755);
    // ".." on the way is taken as the kernel would (after a link: the target's parent).
    CHECK(SharedDir::open(scratch.path / "mine" / ".." / "rootonly" / "deeper" / "book").has_value());
    CHECK_THROWS(SharedDir::open(scratch.path / "mine" / "deeper" / ".."));
}

TEST_CASE("make_folder_below: a private folder must be the caller's and is narrowed to its mode", "[core][shared]") {
    ScratchDir scratch;
    const fs::path state = scratch.path / "git-model" / "env" / "net";
    // Made afresh: exactly the mode asked for, whatever the umask of a group-shared repository.
    const mode_t old = ::umask(002);
    make_folder_below(scratch.path, state, 0700);
    ::umask(old);
    CHECK(mode_of(state) == 0700);
    // The caller's own folder, opened wider (an earlier version, a chmod): narrowed.
    ::chmod(state.c_str(), 02775);
    make_folder_below(scratch.path, state, 0700);
    CHECK(mode_of(state) == 0700);
    // A folder for several users' entries (a persist folder) keeps the umask's mode.
    const fs::path logs = scratch.path / "git-model" / "persist" / "logs";
    make_folder_below(scratch.path, logs);
    ::chmod(logs.c_str(), 0775);
    make_folder_below(scratch.path, logs);
    CHECK(mode_of(logs) == 0775);
    if (!test::running_as_root()) return;
    // A teammate made the folder first: refused, naming them, and left as it is.
    const fs::path theirs = scratch.path / "git-model" / "env" / "cnn";
    fs::create_directories(theirs);
    ::chmod(theirs.c_str(), 0777);
    ::chown(theirs.c_str(), test::other_uid, test::other_uid);
    CHECK_THROWS_WITH(make_folder_below(scratch.path, theirs, 0700),
                      Catch::Contains("the folder " + theirs.string() + " belongs to 54321"));
    CHECK(owner_of(theirs) == test::other_uid);
    CHECK(mode_of(theirs) == 0777);
}
