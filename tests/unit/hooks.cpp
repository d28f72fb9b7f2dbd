// Pure parts of the hooks: git's pre-push input and the pre-commit policy.
#include "gitmodel/core/error.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/hooks/data_policy.hpp"
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

TEST_CASE("pre-push input: SHA-256 ids are read; mixed lengths are not", "[hooks]") {
    const std::string a64(64, 'a'), z64(64, '0');
    const auto updates = parse_pre_push_input("refs/heads/x " + a64 + " refs/heads/x " + z64 + "\n");
    REQUIRE(updates.size() == 1);
    CHECK(updates[0].is_create());
    CHECK_THROWS_AS(parse_pre_push_input("refs/heads/x " + a64 + " refs/heads/x " + z + "\n"), gm::Error);
    CHECK_THROWS_AS(parse_pre_push_input("refs/heads/x " + std::string(40, 'g') + " refs/heads/x " + z + "\n"),
                    gm::Error);
}

namespace {
DataPolicy default_policy() {
    DataPolicy policy;
    policy.data_patterns = default_data_patterns();
    policy.allowed_paths = {"fixtures/**"};
    return policy;
}
const std::string pointer =
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n";
}  // namespace

TEST_CASE("data policy: big files and data patterns are refused, whatever their case", "[hooks]") {
    const auto policy = default_policy();
    CHECK_FALSE(judge_blob({"train.py", 100, false, false}, policy));
    CHECK(judge_blob({"ckpt/model.pt", 100, false, false}, policy));
    CHECK(judge_blob({"model.PT", 100, false, false}, policy));
    CHECK(judge_blob({"runs/ckpt.Pth", 100, false, false}, policy));
    CHECK(judge_blob({"DATA/a.csv", 10, false, false}, policy));
    CHECK(judge_blob({"data/train.csv", 10, false, false}, policy));
    CHECK_FALSE(judge_blob({"database.py", 10, false, false}, policy));
    CHECK(judge_blob({"runs/checkpoint.pth.tar", 100, false, false}, policy));  // torch.save's usual name
    CHECK(judge_blob({"export/model.onnx", 100, false, false}, policy));
    CHECK(judge_blob({"llm/weights.Q4.gguf", 100, false, false}, policy));
    CHECK_FALSE(judge_blob({"notes.tar", 100, false, false}, policy));
    const auto big = judge_blob({"big.log", (10ull << 20) + 1, false, false}, policy);
    REQUIRE(big);
    CHECK_THAT(*big, Catch::Contains("larger than model.maxFileSize"));
    CHECK(is_allowed_path(policy, "fixtures/small.npy"));
    CHECK_FALSE(is_allowed_path(policy, "Fixtures/small.npy"));  // an allowed path is exact
}

TEST_CASE("data policy: an LFS path passes only as a pointer", "[hooks]") {
    const auto policy = default_policy();
    CHECK_FALSE(judge_blob({"ckpt/lfs.pt", 130, true, true}, policy));
    CHECK_FALSE(judge_blob({"ckpt/any.pt", 130, false, true}, policy));  // a pointer is never data
    const auto plain = judge_blob({"ckpt/lfs.pt", 30ull << 20, true, false}, policy);
    REQUIRE(plain);
    CHECK_THAT(*plain, Catch::Contains("not an LFS pointer"));
    CHECK(judge_blob({"notes.txt", 20, true, false}, policy));  // small, but LFS should have stored it
    CHECK_FALSE(judge_blob({"empty.pt", 0, true, false}, policy));  // LFS keeps empty files as they are
}

TEST_CASE("LFS pointers: the spec's shape, nothing else", "[hooks]") {
    CHECK(is_lfs_pointer(pointer));
    CHECK(is_lfs_pointer("version https://git-lfs.github.com/spec/v1\next-0-foo sha256:" + std::string(64, 'a') +
                         "\noid sha256:" + std::string(64, 'b') + "\nsize 0\n"));
    CHECK_FALSE(is_lfs_pointer(pointer.substr(0, pointer.size() - 1)));                       // no final newline
    CHECK_FALSE(is_lfs_pointer("version https://git-lfs.github.com/spec/v1\nsize 1\n"));        // no oid
    CHECK_FALSE(is_lfs_pointer("version https://git-lfs.github.com/spec/v1\nsize 12\noid sha256:" +
                               std::string(64, 'a') + "\n"));                                    // not sorted
    CHECK_FALSE(is_lfs_pointer("version https://git-lfs.github.com/spec/v1\noid sha256:xyz\nsize 1\n"));
    CHECK_FALSE(is_lfs_pointer("version 2\noid sha256:" + std::string(64, 'a') + "\nsize 1\n"));
    CHECK_FALSE(is_lfs_pointer(pointer + std::string(1100, 'x') + "\n"));                    // too long
    CHECK_FALSE(is_lfs_pointer(std::string("\x80PK\x03\x04 binary")));
}

TEST_CASE("pre-push: an Image-Change trailer needs a reason", "[hooks]") {
    gm::git::Library library;  // trailers are parsed by libgit2, as git parses them
    CHECK(has_image_change_reason("newer torch\n\nImage-Change: flash-attention needs torch 2.5\n"));
    CHECK(has_image_change_reason("x\n\nimage-change: reason\n"));
    CHECK_FALSE(has_image_change_reason("x\n\nImage-Change:\n"));
    CHECK_FALSE(has_image_change_reason("x\n\nImage-Change:   \n"));
    CHECK_FALSE(has_image_change_reason("x\n\nImage-Change:\nSigned-off-by: A <a@b>\n"));
    CHECK_FALSE(has_image_change_reason("no trailers at all\n"));
    CHECK(has_image_change_reason("x\n\nImage-Change:\n  the reason, on the next line\n"));
}
