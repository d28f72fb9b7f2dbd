// File corpora for the .modelenv.yaml loader: adding a case is adding a file.
//   tests/data/modelenv/good/*.yaml  must load;
//   tests/data/modelenv/bad/*.yaml   must be refused as their first line says:
//                                    "# expect: <line>:<col>: <substring of the message>";
//   tests/data/yaml-test-suite/      invalid YAML from the YAML test suite, refused on libyaml's line.
#include "gitmodel/config/modelenv.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace gm::config;

namespace {

using gm::test::read_all;

std::vector<fs::path> yaml_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::optional<ConfigError> refusal(const std::string& text, const std::string& name) {
    try {
        load_modelenv_text(text, name);
    } catch (const ConfigError& e) {
        return e;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("every good corpus file loads", "[config][corpus]") {
    const auto files = yaml_files(GM_TEST_DATA_DIR "/modelenv/good");
    REQUIRE(files.size() >= 10);
    for (const auto& file : files) {
        INFO(file.filename().string());
        ModelEnv env;
        REQUIRE_NOTHROW(env = load_modelenv_file(file));
        CHECK_NOTHROW(to_json(env).dump());
        CHECK_FALSE(describe(env).empty());
    }
}

TEST_CASE("every bad corpus file is refused where its expect line says", "[config][corpus]") {
    const auto files = yaml_files(GM_TEST_DATA_DIR "/modelenv/bad");
    REQUIRE(files.size() >= 40);
    const std::regex expect_line(R"(^# expect: (\d+):(\d+): (.+)\n)");
    for (const auto& file : files) {
        const std::string name = file.filename().string();
        INFO(name);
        const std::string text = read_all(file);
        std::smatch m;
        REQUIRE(std::regex_search(text, m, expect_line));
        const auto start = std::chrono::steady_clock::now();
        const auto error = refusal(text, name);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        REQUIRE(error.has_value());
        INFO("message: " << error->what());
        CHECK(error->line() == std::stoi(m[1]));
        CHECK(error->column() == std::stoi(m[2]));
        CHECK_THAT(error->detail(), Catch::Contains(m[3].str()));
        CHECK_THAT(error->what(), Catch::StartsWith(name + ":" + m[1].str() + ":" + m[2].str() + ": "));
        CHECK(elapsed < std::chrono::milliseconds(500));  // the billion-laughs file included
    }
}

TEST_CASE("yaml-test-suite error cases are refused on libyaml's line", "[config][corpus]") {
    const fs::path dir = GM_TEST_DATA_DIR "/yaml-test-suite";
    // yaml-cpp reads "top2" (no ':') as a key at line 3, where we report it; libyaml
    // gives up at the end of the file, line 4.
    const std::map<std::string, int> our_line_differs{{"7MNF", 3}};
    std::istringstream manifest(read_all(dir / "MANIFEST.tsv"));
    const std::regex libyaml_line(R"(\(line (\d+)\))");
    std::string row;
    int cases = 0;
    while (std::getline(manifest, row)) {
        if (row.empty() || row[0] == '#' || row.rfind("file\t", 0) == 0) continue;
        std::vector<std::string> fields;
        std::istringstream cells(row);
        for (std::string cell; std::getline(cells, cell, '\t');) fields.push_back(cell);
        REQUIRE(fields.size() == 7);
        const std::string& file = fields[0];
        const std::string& id = fields[1];
        INFO(file << ": " << fields[3]);
        CHECK(fields[2] == "reject");
        std::smatch m;
        REQUIRE(std::regex_search(fields[6], m, libyaml_line));
        const int expected_line = our_line_differs.count(id) ? our_line_differs.at(id) : std::stoi(m[1]);
        const auto error = refusal(read_all(dir / file), file);
        REQUIRE(error.has_value());
        INFO("message: " << error->what());
        CHECK(error->line() == expected_line);
        CHECK(error->column() >= 1);
        CHECK_THAT(error->detail(), Catch::Contains("expected"));
        ++cases;
    }
    CHECK(cases == 10);
}

TEST_CASE("a file over 1 MiB is refused unread", "[config][corpus]") {
    const fs::path path = fs::temp_directory_path() / ("gm-config-big-" + std::to_string(::getpid()) + ".yaml");
    {
        std::ofstream out(path, std::ios::binary);
        const std::string chunk(1 << 16, '\xff');  // not UTF-8 either: only the size check may answer
        for (int i = 0; i < 64; ++i) out << chunk;  // 4 MiB
    }
    try {
        load_modelenv_file(path);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(e.line() == 1);
        CHECK(e.column() == 1);
        CHECK_THAT(e.detail(), Catch::Contains("larger than 1048576 bytes"));
    }
    fs::remove(path);
}
