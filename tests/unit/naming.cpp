// Ref-name and model-name rules, checked against git's own t1402 cases and hostile names.
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/naming/refname.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace gm::naming;

namespace {

// Undoes the escaping described in refnames.tsv's header.
std::string decode(const std::string& field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '\\' || i + 1 >= field.size()) {
            out += field[i];
            continue;
        }
        const char next = field[++i];
        if (next == '\\') out += '\\';
        else if (next == 't') out += '\t';
        else if (next == 'n') out += '\n';
        else if (next == 'r') out += '\r';
        else if (next == 'x') {
            out += static_cast<char>(std::stoi(field.substr(i + 1, 2), nullptr, 16));
            i += 2;
        }
    }
    return out;
}

std::vector<std::vector<std::string>> read_tsv(const std::string& file) {
    std::ifstream in(std::string(GM_TEST_DATA_DIR) + "/" + file);
    REQUIRE(in);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    bool header_seen = false;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (!header_seen) {
            header_seen = true;  // the column names
            continue;
        }
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t')) cols.push_back(col);
        while (cols.size() < 9) cols.emplace_back();
        rows.push_back(cols);
    }
    return rows;
}

}  // namespace

TEST_CASE("check_refname agrees with git on every t1402 case it models", "[naming]") {
    int checked = 0;
    for (const auto& row : read_tsv("refnames.tsv")) {
        const std::string& options = row[1];
        RefnameFlags flags;
        bool supported = true;
        std::stringstream ss(options);
        std::string option;
        while (ss >> option) {
            if (option == "--allow-onelevel") flags.allow_onelevel = true;
            else if (option == "--refspec-pattern") flags.refspec_pattern = true;
            else supported = false;  // --normalize and --branch rewrite the name first
        }
        if (!supported) continue;
        const std::string name = decode(row[2]);
        const bool git_says_valid = row[3] == "valid";
        INFO("name " << row[2] << " options '" << options << "' (" << row[6] << ")");
        const auto verdict = check_refname(name, flags);
        CHECK(verdict.valid == git_says_valid);
        if (!verdict.valid) CHECK_FALSE(verdict.reason.empty());
        ++checked;
    }
    CHECK(checked > 60);
}

TEST_CASE("check_refname agrees with git on t1402's plain names under refs/heads/", "[naming]") {
    int checked = 0;
    for (const auto& row : read_tsv("refnames-heads.tsv")) {
        const std::string name = decode(row[1]);
        INFO("name " << row[1] << " (" << row[2] << ")");
        CHECK(check_refname(name).valid == (row[0] == "valid"));
        ++checked;
    }
    CHECK(checked >= 30);
}

TEST_CASE("valid model names", "[naming]") {
    for (const char* name : {"resnet50", "a", "0", "bert-base", "gpt2.small", "vit_b16", "x1.2-3_4", "a-b.c_d9"}) {
        INFO(name);
        CHECK(check_model_name(name).valid);
    }
    CHECK(check_model_name(std::string(64, 'a')).valid);
}

TEST_CASE("invalid model names name the rule they break", "[naming]") {
    struct Case {
        std::string name;
        std::string rule_fragment;
    };
    const std::vector<Case> cases{
        {"", "empty"},
        {"-rf", "begins with '-'"},
        {"--base", "begins with '-'"},
        {"a b", "white space"},
        {"a\tb", "white space"},
        {"model\n", "newline"},
        {"a\nb", "line break"},
        {"a/b", "path separator"},
        {"a\\b", "path separator"},
        {"../x", "path separator"},
        {"a;rm", "';'"},
        {"a&b", "'&'"},
        {"a|b", "'|'"},
        {"$(id)", "'$'"},
        {"a`b", "'`'"},
        {"a>b", "'>'"},
        {"a*b", "'*'"},
        {"a?b", "'?'"},
        {"a[0]", "'['"},
        {"a~1", "'~'"},
        {"a^b", "'^'"},
        {"a:b", "':'"},
        {"a@{b", "'@'"},
        {"a'b", "'''"},
        {"a\"b", "'\"'"},
        {"ResNet", "upper-case"},
        {"caf\xc3\xa9", "non-ASCII"},
        {"a\xe2\x80\x8b" "b", "non-ASCII"},  // zero-width space
        {"a\x7f", "control character"},
        {"a\x01", "control character"},
        {std::string("a\0b", 3), "control character"},
        {std::string(65, 'a'), "at most 64"},
        {".hidden", "begin with a letter or digit"},
        {"_x", "begin with a letter or digit"},
        {"x-", "end with a letter or digit"},
        {"x.", "end with a letter or digit"},
        {"a..b", "'..'"},
        {"model.lock", "'.lock'"},
    };
    for (const auto& c : cases) {
        INFO("name: " << c.name);
        const auto verdict = check_model_name(c.name);
        CHECK_FALSE(verdict.valid);
        CHECK_THAT(verdict.rule, Catch::Contains(c.rule_fragment));
    }
}

TEST_CASE("every valid model name gives a branch git accepts", "[naming]") {
    // Exhaustive over short names from the allowed alphabet: the model rules never admit a bad ref.
    const std::string alphabet = "a0._-";
    for (char a : alphabet)
        for (char b : alphabet)
            for (char c : alphabet) {
                const std::string name{a, b, c};
                if (check_model_name(name).valid) CHECK(check_refname("refs/heads/" + model_branch(name)).valid);
            }
}

TEST_CASE("model branches map back to their model", "[naming]") {
    CHECK(model_branch("resnet50") == "feature/model-resnet50");
    CHECK(model_from_branch("feature/model-resnet50") == std::optional<std::string>("resnet50"));
    CHECK_FALSE(model_from_branch("feature/other").has_value());
    CHECK_FALSE(model_from_branch("feature/model-Bad").has_value());
    CHECK_FALSE(model_from_branch("main").has_value());
}
