// Pure parts of the hooks: git's pre-push input and the pre-commit policy.
#include "gitmodel/core/error.hpp"
#include "gitmodel/hooks/pre_commit.hpp"
#include "gitmodel/hooks/pre_push.hpp"

#include <catch2/catch.hpp>

using namespace gm::hooks;

namespace {
const std::string a(40, 'a');
const std::string z(40, '0');
}  // namespace

TEST_CASE("pre-push input: one update per line", "[hooks]") {
    const auto updates = parse_pre_push_input("refs/heads/x " + a + " refs/heads/main " + z + "\n" +
                                              "(delete) " + z + " refs/heads/old " + a + "\n");
    REQUIRE(updates.size() == 2);
    CHECK(updates[0].local_ref == "refs/heads/x");
    CHECK(updates[0].remote_ref == "refs/heads/main");
    CHECK(updates[0].is_create());
    CHECK_FALSE(updates[0].is_delete());
    CHECK(updates[1].is_delete());
    CHECK_FALSE(updates[1].is_create());
}

TEST_CASE("pre-push input: empty input is an empty push", "[hooks]") {
    CHECK(parse_pre_push_input("").empty());
    CHECK(parse_pre_push_input("\n\n").empty());
}

TEST_CASE("pre-push input: malformed lines are refused with their number", "[hooks]") {
    CHECK_THROWS_WITH(parse_pre_push_input("refs/heads/x " + a + " refs/heads/main " + z + "\nnonsense\n"),
                      Catch::Contains("line 2"));
    CHECK_THROWS_AS(parse_pre_push_input("refs/heads/x abc refs/heads/main " + z), gm::Error);
    CHECK_THROWS_AS(parse_pre_push_input("refs/heads/x " + a + " refs/heads/main " + z + " extra"), gm::Error);
}

TEST_CASE("pre-commit: LFS files and allowed paths pass, data and big files do not", "[hooks]") {
    CommitPolicy policy;
    policy.data_patterns = default_data_patterns();
    policy.allowed_paths = {"fixtures/**"};
    const std::vector<gm::git::StagedFile> staged{
        {"train.py", 100, ""},
        {"ckpt/model.pt", 100, ""},
        {"ckpt/lfs.pt", 130, "lfs"},
        {"fixtures/small.npy", 10, ""},
        {"data/train.csv", 10, ""},
        {"big.log", (10ull << 20) + 1, ""},
        {"database.py", 10, ""},
    };
    const auto offenders = check_commit(staged, policy);
    REQUIRE(offenders.size() == 3);
    CHECK(offenders[0].path == "ckpt/model.pt");
    CHECK(offenders[1].path == "data/train.csv");
    CHECK(offenders[2].path == "big.log");
    CHECK_THAT(offenders[2].reason, Catch::Contains("larger than model.maxFileSize"));
}
