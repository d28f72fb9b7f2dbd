// The `git model env status` table: columns from the content, ports and drift under their row.
#include "gitmodel/env/status_table.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace gm::env;

namespace {

EnvStatus environment(std::string model, std::string container, std::string state, std::int64_t started) {
    EnvStatus e;
    e.model = std::move(model);
    e.container = std::move(container);
    e.state = std::move(state);
    e.image = "registry.example.com/team/pytorch:2.4";
    e.started_at = started;
    return e;
}

// The column at which a header word starts, and each row's cell below it starts at the same place.
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("env status table: long model names keep the columns aligned", "[env]") {
    const std::int64_t now = 1'000'000;
    auto a = environment("a-model-with-a-name-of-thirty-two", "gm-a-model-with-a-name-of-thirty-two-1234abcd", "running",
                         now - 90);
    a.gpus = "0,1";
    Endpoint jupyter;
    jupyter.name = "jupyter";
    jupyter.url = "http://127.0.0.1:40123/lab";
    a.endpoints.push_back(jupyter);
    auto b = environment("b", "gm-b-1", "exited", 0);
    b.drift = std::vector<std::string>{"memory_bytes: 1 -> 2"};
    const auto lines = lines_of(render_status_table({a, b}, now));
    REQUIRE(lines.size() == 6);
    const auto column = lines[0].find("STATE");
    const auto image = lines[0].find("IMAGE / PORTS");
    CHECK(lines[1].find("running") == column);
    CHECK(lines[1].find("90s") == lines[0].find("UP"));
    CHECK(lines[1].find("registry.example.com") == image);
    CHECK(lines[2].find("jupyter http://127.0.0.1:40123/lab") == image);  // the port under the image
    CHECK(lines[3].find("exited") == column);
    CHECK(lines[3].find("gm-b-1") == lines[0].find("CONTAINER"));
    CHECK(lines[3].find(" - ") != std::string::npos);  // no GPUs, not up
    CHECK(lines[4] == "  drift from .modelenv.yaml at the tip of its branch: memory_bytes: 1 -> 2");
    CHECK(lines[5] == "  `git model env up --recreate b` replaces the container (persist folders stay)");
}

TEST_CASE("env status: uptime", "[env]") {
    CHECK(format_uptime(environment("m", "c", "running", 100), 100 + 45) == "45s");
    CHECK(format_uptime(environment("m", "c", "running", 100), 100 + 600) == "10m");
    CHECK(format_uptime(environment("m", "c", "running", 100), 100 + 3 * 3600) == "3h");
    CHECK(format_uptime(environment("m", "c", "running", 100), 100 + 3 * 86400) == "3d");
    CHECK(format_uptime(environment("m", "c", "exited", 100), 1000) == "-");
}
