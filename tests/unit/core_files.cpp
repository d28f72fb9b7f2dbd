// core/'s small helpers that replaced copies across the layers: atomic file writes, trimming,
// shell quoting for generated scripts, random ids, time and user name.
#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/process.hpp"
#include "scratch.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

using namespace gm;
namespace fs = std::filesystem;

namespace {

using gm::test::read_all;

mode_t mode_of(const fs::path& path) {
    struct stat info {};
    REQUIRE(::lstat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
    return names;
}

// Sets the umask for one scope.
struct Umask {
    mode_t saved;
    explicit Umask(mode_t mask) : saved(::umask(mask)) {}
    ~Umask() { ::umask(saved); }
};

}  // namespace

TEST_CASE("write_file_atomically writes the content and leaves nothing else behind", "[core][atomic]") {
    test::ScratchDir scratch;
    const fs::path file = scratch.path / "status.json";
    write_file_atomically(file, "first\n");
    CHECK(read_all(file) == "first\n");
    CHECK(mode_of(file) == 0600);  // the default: only its owner reads it
    write_file_atomically(file, std::string("second\0with a NUL", 17));
    CHECK(read_all(file) == std::string("second\0with a NUL", 17));
    write_file_atomically(file, "");
    CHECK(read_all(file).empty());
    CHECK(names_in(scratch.path) == std::set<std::string>{"status.json"});
}

TEST_CASE("write_file_atomically gives the mode asked for, the target's own, or through the umask", "[core][atomic]") {
    test::ScratchDir scratch;
    const Umask umask(027);
    const fs::path file = scratch.path / "hook";
    write_file_atomically(file, "#!/bin/sh\n", FileMode{0755, false, false});
    CHECK(mode_of(file) == 0755);  // exactly, whatever the umask
    write_file_atomically(file, "x", FileMode{0666, true, false});
    CHECK(mode_of(file) == 0640);  // as open(2) would: 0666 less 027

    const fs::path pinned = scratch.path / ".modelenv.yaml";
    write_file_atomically(pinned, "image: a\n", FileMode{0644, false, true});
    CHECK(mode_of(pinned) == 0644);  // no file yet: the bits given
    REQUIRE(::chmod(pinned.c_str(), 0604) == 0);
    write_file_atomically(pinned, "image: b\n", FileMode{0644, false, true});
    CHECK(mode_of(pinned) == 0604);  // the user's own mode stays
    CHECK(read_all(pinned) == "image: b\n");
}

TEST_CASE("write_file_atomically never writes through a planted link", "[core][atomic]") {
    test::ScratchDir scratch;
    const fs::path victim = scratch.path / "victim";
    { std::ofstream(victim) << "precious"; }
    const fs::path file = scratch.path / "state";
    // Every name the old copies used for their temporary file, planted as a link to the victim:
    // the temporary name is random now, so none of them is ever opened.
    for (const std::string& name : std::vector<std::string>{"state.tmp", ".state.tmp", "state.git-model-new",
                                    "state.tmp" + std::to_string(::getpid()),
                                    ".state." + std::to_string(::getpid()) + ".tmp"})
        fs::create_symlink(victim, scratch.path / name);
    write_file_atomically(file, "new");
    CHECK(read_all(victim) == "precious");
    CHECK(read_all(file) == "new");

    // A link at the target itself is replaced by the new file, never followed.
    const fs::path linked = scratch.path / "linked";
    fs::create_symlink(victim, linked);
    write_file_atomically(linked, "replaced");
    CHECK_FALSE(fs::is_symlink(fs::symlink_status(linked)));
    CHECK(read_all(linked) == "replaced");
    CHECK(read_all(victim) == "precious");
}

TEST_CASE("a failed write_file_atomically leaves the folder as it was", "[core][atomic]") {
    test::ScratchDir scratch;
    const fs::path folder = scratch.path / "in-the-way";
    fs::create_directories(folder / "inside");  // rename over a non-empty folder fails
    const auto before = names_in(scratch.path);
    CHECK_THROWS_WITH(write_file_atomically(folder, "text"),
                      Catch::Contains("cannot write " + folder.string()));
    CHECK(names_in(scratch.path) == before);  // no temporary file left
    CHECK(fs::is_directory(folder / "inside"));

    CHECK_THROWS_WITH(write_file_atomically(scratch.path / "missing" / "file", "text"),
                      Catch::Contains("cannot write " + (scratch.path / "missing" / "file").string()));
    CHECK(names_in(scratch.path) == before);
}

TEST_CASE("write_file_atomically with only_if_content writes nothing over a file that changed since it was read", "[core][atomic]") {
    test::ScratchDir scratch;
    const fs::path file = scratch.path / ".modelenv.yaml";
    write_file_atomically(file, "image: a:1\n", FileMode{0644, false, false});
    write_file_atomically(file, "image: a:1@sha256:00\n", FileMode{0644, false, true}, std::string_view("image: a:1\n"));
    CHECK(read_all(file) == "image: a:1@sha256:00\n");
    const auto before = names_in(scratch.path);
    CHECK_THROWS_WITH(write_file_atomically(file, "image: a:1@sha256:11\n", FileMode{0644, false, true},
                                            std::string_view("image: a:1\n")),
                      Catch::Contains("changed while it was being rewritten; nothing was written"));
    CHECK(read_all(file) == "image: a:1@sha256:00\n");
    CHECK(names_in(scratch.path) == before);  // no temporary file left
    // a longer file that begins with what was read is a change too
    write_file_atomically(file, "image: a:1\n# more\n", FileMode{0644, false, false});
    CHECK_THROWS(write_file_atomically(file, "x", FileMode{}, std::string_view("image: a:1\n")));
    CHECK(read_all(file) == "image: a:1\n# more\n");
}

TEST_CASE("write_file_atomically removes the temporary files killed writers of the same target left, and nothing else", "[core][atomic]") {
    test::ScratchDir scratch;
    const pid_t dead = ::fork();  // a pid that surely runs nothing now
    REQUIRE(dead >= 0);
    if (dead == 0) ::_exit(0);
    REQUIRE(::waitpid(dead, nullptr, 0) == dead);
    const std::string hex = "0123456789abcdef", here = pid_realm();
    const std::string elsewhere = here == "00000000" ? "00000001" : "00000000";  // another host or pid namespace
    REQUIRE(here.size() == 8);
    const std::string killed = ".params.json." + std::to_string(dead) + "-" + here + "." + hex + ".tmp";
    const std::string running = ".params.json.1-" + here + "." + hex + ".tmp";  // pid 1 runs
    const std::string elsewhere_recent = ".params.json." + std::to_string(dead) + "-" + elsewhere + "." + hex + ".tmp";
    const std::string elsewhere_old = ".params.json.2-" + elsewhere + "." + hex + ".tmp";
    const std::string old_form_old = ".params.json." + hex + ".tmp";
    const std::string old_form_recent = ".params.json.fedcba9876543210.tmp";
    const std::string users_own = ".params.json.mine.tmp";
    const std::string other_target = ".metrics.json." + std::to_string(dead) + "-" + here + "." + hex + ".tmp";
    for (const auto& name : {killed, running, elsewhere_recent, elsewhere_old, old_form_old, old_form_recent, users_own, other_target})
        std::ofstream(scratch.path / name) << "half";
    const timespec an_hour_and_more_ago[2] = {{::time(nullptr) - 4000, 0}, {::time(nullptr) - 4000, 0}};
    for (const auto& name : {old_form_old, elsewhere_old})
        REQUIRE(::utimensat(AT_FDCWD, (scratch.path / name).c_str(), an_hour_and_more_ago, 0) == 0);
    // A link with a killed writer's name is not a temporary file of ours: left, never followed.
    const fs::path victim = scratch.path / "victim";
    { std::ofstream(victim) << "precious"; }
    const std::string link = ".params.json." + std::to_string(dead) + "-" + here + ".fedcba9876543210.tmp";
    fs::create_symlink(victim, scratch.path / link);

    write_file_atomically(scratch.path / "params.json", "{}\n");
    // A recent one of another realm may be a live writer's there (its pid means nothing here): kept.
    CHECK(names_in(scratch.path) == std::set<std::string>{"params.json", running, elsewhere_recent, old_form_recent,
                                                          users_own, other_target, "victim", link});
    CHECK(read_all(victim) == "precious");
}

TEST_CASE("remove_killed_writers_files: a writer that is a zombie (a PID 1 that never reaps), or a pid that a "
          "process started an hour later took, left its file; a live writer keeps its own",
          "[core][atomic]") {
    test::ScratchDir scratch;
    const auto spawn = [](bool exit_at_once) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (!exit_at_once) ::pause();
            ::_exit(0);
        }
        return pid;
    };
    const pid_t live_writer = spawn(false);
    const pid_t zombie = spawn(true);  // not waited for until the end: a zombie meanwhile
    REQUIRE(live_writer > 0);
    REQUIRE(zombie > 0);
    for (int tries = 0; tries < 200 && read_process_stat(zombie)->state != 'Z'; ++tries) ::usleep(10000);
    REQUIRE(read_process_stat(zombie)->state == 'Z');
    const std::string here = pid_realm();
    const auto temp_of = [&](pid_t pid, const char* hex) {
        return ".model.bin." + std::to_string(pid) + "-" + here + "." + hex + ".tmp";
    };
    const std::string of_zombie = temp_of(zombie, "0123456789abcdef");
    const std::string of_live = temp_of(live_writer, "1123456789abcdef");
    const std::string before_pid_reused = temp_of(live_writer, "2123456789abcdef");  // last written before it started
    for (const auto& name : {of_zombie, of_live, before_pid_reused}) std::ofstream(scratch.path / name) << "half";
    const timespec two_hours_ago[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (scratch.path / before_pid_reused).c_str(), two_hours_ago, 0) == 0);
    // A minute "before it started" is a file server's clock running behind, not another writer: kept.
    const std::string skewed_clock = temp_of(live_writer, "3123456789abcdef");
    std::ofstream(scratch.path / skewed_clock) << "half";
    const timespec a_minute_ago[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (scratch.path / skewed_clock).c_str(), a_minute_ago, 0) == 0);
    { std::ofstream(scratch.path / "model.bin") << "whole"; }

    remove_killed_writers_files(scratch.path / "model.bin");
    CHECK(names_in(scratch.path) == std::set<std::string>{"model.bin", of_live, skewed_clock});
    CHECK(read_all(scratch.path / "model.bin") == "whole");
    ::kill(live_writer, SIGKILL);
    ::waitpid(live_writer, nullptr, 0);
    ::waitpid(zombie, nullptr, 0);
}

TEST_CASE("write_file_atomically writes a target whose name is as long as a file name may be", "[core][atomic]") {
    test::ScratchDir scratch;
    for (const std::size_t length : {200, 233, 240, 255}) {
        const fs::path file = scratch.path / std::string(length, 'w');
        write_file_atomically(file, "weights");
        CHECK(read_all(file) == "weights");
        write_file_atomically(file, "again");  // over an existing one too
        CHECK(read_all(file) == "again");
    }
    CHECK(names_in(scratch.path).size() == 4);  // no temporary file left
}

TEST_CASE("trim_end and trim_trailing_newlines cut only the named characters at the end", "[core]") {
    CHECK(trim_trailing_newlines("abc\n") == "abc");
    CHECK(trim_trailing_newlines("abc\r\n\n") == "abc");
    CHECK(trim_trailing_newlines("a\nb\n") == "a\nb");
    CHECK(trim_trailing_newlines("abc ") == "abc ");
    CHECK(trim_trailing_newlines("\n\n").empty());
    CHECK(trim_trailing_newlines("").empty());
    CHECK(trim_end("why \n \n", "\n ") == "why");
    CHECK(trim_end("x\t\r", " \t\r") == "x");
    CHECK(trim_end(std::string("pid\n\0\0", 6), std::string_view("\n\0", 2)) == "pid");
    CHECK(trim_end(" lead", " ") == " lead");
}

TEST_CASE("shell_word gives back exactly the word through a real /bin/sh", "[core][shell]") {
    const std::vector<std::string> words{
        "",          "plain",          "two words",   "it's",        "'",          "''",      "\"double\"",
        "$HOME",     "`id`",           "$(id)",       "back\\slash", "new\nline",  "tab\there", "*",
        "~",         "a;b",            "a|b&c",       "!bang",       "-n",         "--",      "caf\xc3\xa9",
        "%s%%",      "a=b",            "x'\"'\"'y"};
    std::string script = "printf '%s\\0'";
    for (const auto& word : words) script += " " + shell_word(word);
    std::string bare_script = "printf '%s\\0'";
    for (const auto& word : words) bare_script += " " + shell_word(word, Quoting::when_needed);
    std::string expected;
    for (const auto& word : words) expected += word + std::string(1, '\0');
    for (const auto& text : {script, bare_script}) {
        const auto result = proc::run({"/bin/sh", "-c", text});
        REQUIRE(result.ok());
        CHECK(result.out == expected);
    }
}

TEST_CASE("shell_word's two styles: always quoted, or bare when plainly safe", "[core][shell]") {
    CHECK(shell_word("a/b.c") == "'a/b.c'");
    CHECK(shell_word("it's") == "'it'\\''s'");
    CHECK(shell_word("") == "''");
    CHECK(shell_word("a/b.c-1_x@y%z+w=v:u,t", Quoting::when_needed) == "a/b.c-1_x@y%z+w=v:u,t");
    CHECK(shell_word("a b", Quoting::when_needed) == "'a b'");
    CHECK(shell_word("", Quoting::when_needed) == "''");
    CHECK(shell_word("$x", Quoting::when_needed) == "'$x'");
}

TEST_CASE("random_hex gives unpredictable lower-case hex of the asked length", "[core]") {
    const std::string id = random_hex(8);
    CHECK(id.size() == 16);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(random_hex(24).size() == 48);
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(random_hex(8));
    CHECK(seen.size() == 100);
}

TEST_CASE("now_seconds and user_name tell the time and who runs us", "[core]") {
    const auto before = static_cast<std::int64_t>(std::time(nullptr));
    const auto now = now_seconds();
    CHECK(now >= before);
    CHECK(now <= before + 2);
    const auto name = account_name(::geteuid());
    CHECK(user_name() == name.value_or(std::to_string(::geteuid())));
    CHECK(user_name_of(0) == "root");
    CHECK(user_name_of(test::other_uid) == std::to_string(test::other_uid));  // no account: its number
}
