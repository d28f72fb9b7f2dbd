// The per-user results files of the lease book (result_cache.hpp): each user writes only their
// own file, never through a link; readers believe a file only when its owner is the uid its name
// says, skip corrupt ones, and keep the newest result per GPU and mode.
#include "gitmodel/core/error.hpp"
#include "gitmodel/gpu/result_cache.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace gm;
using namespace gm::gpu;

namespace {

CachedResult result(const std::string& uuid, Mode mode, std::int64_t time, double triad) {
    CachedResult r;
    r.uuid = uuid;
    r.mode = mode;
    r.time = time;
    r.name = "NVIDIA H100 80GB HBM3";
    r.driver_version = "550.54.15";
    r.cuda_driver_version = "12.4";
    r.verdict = "pass";
    r.triad_fraction = triad;
    if (mode == Mode::full) r.fp32_fraction = 0.8;
    return r;
}

// A results file with the given results, as another user's tool would write it.
void write_results_file(const fs::path& file, const std::vector<CachedResult>& results) {
    nlohmann::json document{{"format", 1}, {"gpus", nlohmann::json::object()}};
    for (const auto& r : results) document["gpus"][r.uuid][std::string(to_string(r.mode))] = to_json(r);
    std::ofstream(file) << document.dump(2);
}

const std::string gpu_a = "GPU-aaaaaaaa-0000-0000-0000-000000000000";
const std::string gpu_b = "GPU-bbbbbbbb-0000-0000-0000-000000000000";

}  // namespace

TEST_CASE("shared results: the caller writes only its own file, 0644, without following a link", "[gpu]") {
    test::ScratchDir scratch;
    const fs::path book = scratch.path / "book";
    fs::create_directory(book);
    ::chmod(book.c_str(), 0755);
    const fs::path lock = scratch.path / "own" / "bench-results.lock";

    // The caller owns the book: its bench-results/ folder is made (with the book's mode).
    const auto written = update_shared_results(book, {result(gpu_a, Mode::quick, 100, 0.5)}, lock);
    REQUIRE(written);
    CHECK(*written == book / "bench-results" / shared_results_name(::geteuid()));
    struct stat info {};
    REQUIRE(::lstat(written->c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0644);
    REQUIRE(::lstat((book / "bench-results").c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0755);
    auto read = read_shared_results(book);
    CHECK(read.warnings.empty());
    REQUIRE(read.results.count(gpu_a));
    CHECK(*read.results[gpu_a]["quick"].triad_fraction == Approx(0.5));

    // A second run merges (another GPU, another mode) and keeps the rest.
    update_shared_results(book, {result(gpu_b, Mode::full, 200, 0.9)}, lock);
    read = read_shared_results(book);
    CHECK(read.results.size() == 2);

    // A link planted under the caller's name is never written through: the write fails
    // (a warning for the bench) and the link's target is untouched.
    const fs::path target = scratch.path / "target";
    std::ofstream(target) << "precious";
    fs::remove(*written);
    fs::create_symlink(target, *written);
    CHECK_THROWS_AS(update_shared_results(book, {result(gpu_a, Mode::quick, 300, 0.6)}, lock), Error);
    std::ifstream in(target);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "precious");
    read = read_shared_results(book);
    REQUIRE(read.warnings.size() == 1);
    CHECK(read.warnings[0].find("symbolic link") != std::string::npos);
    CHECK(read.results.empty());

    // No book, or a book with no results folder the caller may make: nothing (the caller falls back).
    CHECK_FALSE(update_shared_results(scratch.path / "absent", {result(gpu_a, Mode::quick, 1, 0.5)}, lock));
    CHECK(read_shared_results(scratch.path / "absent").results.empty());
}

TEST_CASE("shared results: newest wins, owner mismatch and corrupt files are ignored", "[gpu]") {
    test::ScratchDir scratch;
    const fs::path book = scratch.path / "book";
    const fs::path folder = book / "bench-results";
    fs::create_directories(folder);

    // Two users' files (named by uid; owned by that uid where the test can chown).
    const uid_t me = ::geteuid();
    write_results_file(folder / shared_results_name(me),
                       {result(gpu_a, Mode::full, 1000, 0.70), result(gpu_a, Mode::quick, 3000, 0.40)});
    const uid_t other = test::running_as_root() ? test::other_uid : me;
    const fs::path others = folder / (test::running_as_root() ? shared_results_name(other) : "x.json");
    write_results_file(others, {result(gpu_a, Mode::full, 2000, 0.91), result(gpu_b, Mode::full, 500, 0.5)});
    if (test::running_as_root()) ::chown(others.c_str(), other, other);

    // A file named for a uid it does not belong to: planted, ignored with a warning.
    write_results_file(folder / shared_results_name(test::third_uid), {result(gpu_a, Mode::full, 9000, 0.01)});
    // A corrupt file: ignored with a warning.
    if (test::running_as_root()) {
        std::ofstream(folder / shared_results_name(test::other_uid + 10)) << "{ not json";
        ::chown((folder / shared_results_name(test::other_uid + 10)).c_str(), test::other_uid + 10, 0);
    } else {
        std::ofstream(folder / shared_results_name(me + 1)) << "{ not json";  // owner mismatch then, also ignored
    }

    const auto read = read_shared_results(book);
    INFO(read.warnings.size());
    CHECK(read.warnings.size() == 2);
    bool said_owner = false, said_corrupt = false;
    for (const auto& w : read.warnings) {
        said_owner = said_owner || (w.find(shared_results_name(test::third_uid)) != std::string::npos &&
                                    w.find("not to") != std::string::npos);
        said_corrupt = said_corrupt || w.find("not a GPU results file") != std::string::npos ||
                       w.find("belongs to") != std::string::npos;
    }
    CHECK(said_owner);
    CHECK(said_corrupt);
    REQUIRE(read.results.count(gpu_a));
    if (test::running_as_root()) {
        // The newest full result of GPU A is the other user's (2000 > 1000); the planted 9000 is not believed.
        CHECK(read.results.at(gpu_a).at("full").time == 2000);
        CHECK(*read.results.at(gpu_a).at("full").triad_fraction == Approx(0.91));
        CHECK(read.results.count(gpu_b));
    } else {
        CHECK(read.results.at(gpu_a).at("full").time == 1000);
    }
    CHECK(read.results.at(gpu_a).at("quick").time == 3000);

    // The result that stands for a GPU: its full run (FP32 measured) over a newer quick one.
    const auto chosen = representative_result(read.results.at(gpu_a));
    REQUIRE(chosen);
    CHECK(chosen->mode == Mode::full);
    ModeResults quick_only{{"quick", result(gpu_a, Mode::quick, 5, 0.3)}};
    CHECK(representative_result(quick_only)->mode == Mode::quick);
    CHECK_FALSE(representative_result({}));
    // A driver upgrade after the full run: the newer quick run stands, with the driver it saw.
    ModeResults upgraded{{"full", result(gpu_a, Mode::full, 10, 0.9)}, {"quick", result(gpu_a, Mode::quick, 20, 0.3)}};
    upgraded["full"].cuda_driver_version = "12.2";
    upgraded["quick"].cuda_driver_version = "12.4";
    CHECK(representative_result(upgraded)->cuda_driver_version == "12.4");
    CHECK(representative_result(upgraded)->mode == Mode::quick);
    upgraded["quick"].cuda_driver_version = "12.2";  // same driver: the full run still stands
    CHECK(representative_result(upgraded)->mode == Mode::full);
    upgraded["quick"].cuda_driver_version = "12.4";
    upgraded["quick"].time = 5;  // an older quick run under another driver says nothing new
    CHECK(representative_result(upgraded)->mode == Mode::full);
    // A quick run that could not read the release (in a container) is no driver change.
    upgraded["quick"].time = 20;
    upgraded["quick"].cuda_driver_version = "12.2";
    upgraded["full"].driver_version = "580.95.05";
    upgraded["quick"].driver_version = "";
    CHECK(representative_result(upgraded)->mode == Mode::full);

    // merge_newest: per GPU and mode, the later time wins whichever side it is on.
    ResultsByGpu into{{gpu_a, {{"full", result(gpu_a, Mode::full, 10, 0.1)}}}};
    merge_newest(into, {{gpu_a, {{"full", result(gpu_a, Mode::full, 5, 0.2)}, {"quick", result(gpu_a, Mode::quick, 1, 0.3)}}}});
    CHECK(into[gpu_a]["full"].time == 10);
    CHECK(into[gpu_a]["quick"].time == 1);
}

TEST_CASE("shared results: a results folder owned by another user is not used", "[gpu]") {
    if (!test::running_as_root()) {
        WARN("SKIP: needs root to chown the folder to another uid");
        return;
    }
    test::ScratchDir scratch;
    const fs::path book = scratch.path / "book";
    fs::create_directories(book / "bench-results");
    ::chmod(book.c_str(), 01777);
    ::chmod((book / "bench-results").c_str(), 0777);
    ::chown((book / "bench-results").c_str(), test::other_uid, test::other_uid);
    // Not safe (another user's, writable by all without the sticky bit): the bench falls back.
    CHECK_FALSE(update_shared_results(book, {result(gpu_a, Mode::quick, 1, 0.5)}, scratch.path / "own.lock"));
    const auto read = read_shared_results(book);
    CHECK(read.results.empty());
    REQUIRE(read.warnings.size() == 1);
}
