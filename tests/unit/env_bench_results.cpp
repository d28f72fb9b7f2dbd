// What `env up --check` believes of the bench that ran inside a container: only the GPUs the
// environment was given (the image decides what runs there and what it reports).
#include "gitmodel/env/bench_results.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using gm::env::ungiven_gpus;

TEST_CASE("ungiven_gpus: the GPUs a report tested that the environment was not given", "[env]") {
    const std::string given_uuid = "GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf";
    const std::string other_uuid = "GPU-a1a2a3a4-a5a6-a7a8-a9aa-abacadaeafb0";
    const auto report = nlohmann::json::parse(R"({"devices": [{"uuid": ")" + given_uuid + R"("}, {"uuid": ")" +
                                              other_uuid + R"("}, {"uuid": null}, {"uuid": "GPU-\u001b[2Jx"}]})");
    const auto extra = ungiven_gpus(report, {given_uuid});
    REQUIRE(extra.size() == 3);
    CHECK(extra[0] == other_uuid);
    CHECK(extra[1] == "a GPU without a UUID");
    CHECK(extra[2].find('\x1b') == std::string::npos);  // the image's text is made printable
    CHECK(ungiven_gpus(report, {given_uuid, other_uuid}).size() == 2);
    // Exactly the given GPUs, or a report without devices: nothing extra.
    CHECK(ungiven_gpus(nlohmann::json::parse(R"({"devices": [{"uuid": ")" + given_uuid + R"("}]})"), {given_uuid}).empty());
    CHECK(ungiven_gpus(nlohmann::json::parse(R"({"devices": 3})"), {}).empty());
    CHECK(ungiven_gpus(nlohmann::json::parse("[]"), {}).empty());
}
