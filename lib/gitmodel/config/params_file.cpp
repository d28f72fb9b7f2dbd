#include "gitmodel/config/params_file.hpp"

#include "gitmodel/config/config_error.hpp"
#include "gitmodel/config/yaml_tree.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace gm::config {

namespace {

using detail::NodeKind;
using detail::YamlDocument;

// Sweeps are meant to be created in one go; thousands of worktrees are a mistake.
constexpr std::size_t max_runs = 1000;

class ParamsReader {
public:
    ParamsReader(const YamlDocument& doc, std::string file) : doc_(doc), file_(std::move(file)) {}

    std::vector<ParameterSet> read() {
        const auto& top = doc_.resolved(doc_.root());
        std::vector<ParameterSet> sets;
        if (top.kind == NodeKind::sequence) {
            std::map<ParameterSet, std::size_t> runs;  // each run's sorted parameters, and its number
            if (top.children.empty()) fail(doc_.root(), "the list of runs is empty; expected at least one mapping");
            for (std::size_t item : top.children) {
                if (doc_.resolved(item).kind != NodeKind::mapping)
                    fail(item, "each run must be a mapping of parameter names to values, e.g. {lr: 1e-3, batch: 32}");
                ParameterSet set;
                for_each_entry(item, [&](const std::string& name, std::size_t key, std::size_t value) {
                    set.emplace_back(name, scalar(value, name, key));
                });
                ParameterSet sorted;  // the same run whatever the order and spelling (1e2, 100.0) of its values
                for (const auto& [name, text] : set) sorted.emplace_back(name, parameter_identity(text));
                std::sort(sorted.begin(), sorted.end());
                if (const auto [earlier, fresh] = runs.emplace(sorted, sets.size() + 1); !fresh)
                    fail(item, fmt::format("this run has the same parameters as run {}; to run a set more than once "
                                           "(to measure noise), give the runs a parameter that differs (seed: 1, "
                                           "seed: 2)",
                                           earlier->second));
                sets.push_back(std::move(set));
                if (sets.size() > max_runs) fail(item, fmt::format("more than {} runs; split the sweep", max_runs));
            }
            return sets;
        }
        if (top.kind != NodeKind::mapping) {
            fail(doc_.root(), "expected a list of runs (- {lr: 1e-3}) or a mapping of parameters to values (lr: [1e-3, 3e-4])");
        }
        sets.emplace_back();
        for_each_entry(doc_.root(), [&](const std::string& name, std::size_t key, std::size_t value) {
            std::vector<std::string> choices;
            if (doc_.resolved(value).kind == NodeKind::sequence) {
                if (doc_.resolved(value).children.empty()) fail(value, fmt::format("'{}' has no values", name));
                std::map<std::string, std::string> seen;  // each value as params.json holds it -> as written
                for (std::size_t item : doc_.resolved(value).children) {
                    choices.push_back(scalar(item, name, item));
                    const auto [earlier, fresh] = seen.emplace(parameter_identity(choices.back()), choices.back());
                    if (!fresh)
                        fail(item, earlier->second == choices.back()
                                       ? fmt::format("'{}' lists the value {} twice", name, choices.back())
                                       : fmt::format("'{}' lists the value {} twice ({} and {} are the same number)",
                                                     name, choices.back(), earlier->second, choices.back()));
                }
            } else {
                choices.push_back(scalar(value, name, key));
            }
            std::vector<ParameterSet> grown;
            for (const auto& set : sets) {
                for (const auto& choice : choices) {
                    grown.push_back(set);
                    grown.back().emplace_back(name, choice);
                }
            }
            if (grown.size() > max_runs)
                fail(value, fmt::format("the grid has more than {} combinations; split the sweep", max_runs));
            sets = std::move(grown);
        });
        return sets;
    }

private:
    template <typename Visit>
    void for_each_entry(std::size_t mapping, Visit visit) {
        const auto& node = doc_.resolved(mapping);
        if (node.children.empty()) fail(mapping, "the mapping is empty; expected parameter names and values");
        std::set<std::string> seen;
        for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
            const std::size_t key = node.children[i];
            const auto& key_node = doc_.resolved(key);
            if (key_node.kind != NodeKind::scalar) fail(key, "a parameter name must be plain text");
            const std::string& name = key_node.value;
            if (auto problem = parameter_name_problem(name); !problem.empty())
                fail(key, fmt::format("parameter name '{}' {}", name, problem));
            if (!seen.insert(name).second) fail(key, fmt::format("parameter '{}' is given twice", name));
            visit(name, key, node.children[i + 1]);
        }
    }

    // A value as text; `where` is what an empty value's error points at (yaml-cpp places
    // an empty value at the next token, which may be on the next line).
    std::string scalar(std::size_t index, const std::string& name, std::size_t where) {
        const auto& node = doc_.resolved(index);
        if (node.kind != NodeKind::scalar)
            fail(node.kind == NodeKind::null && node.implicit ? where : index, fmt::format("the value of '{}' must be a number or text, not a {}", name,
                                    node.kind == NodeKind::null ? "empty value" : "list or mapping"));
        if (auto problem = parameter_value_problem(node.value); !problem.empty())
            fail(index, fmt::format("the value of '{}' {}", name, problem));
        return node.value;
    }

    [[noreturn]] void fail(std::size_t index, const std::string& message) const {
        const auto& node = doc_.node(index);
        throw ConfigError(file_, node.position.line, node.position.column, message,
                          "see git-model-sweep(1) for the two shapes of a params file");
    }

    const YamlDocument& doc_;
    std::string file_;
};

}  // namespace

std::string parameter_name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > 64) return "is longer than 64 characters";
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!letter(name.front())) return "must begin with a letter or '_'";
    for (char c : name) {
        if (!letter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-')
            return fmt::format("contains '{}'; only letters, digits, '_', '.' and '-' are allowed", c);
    }
    return {};
}

bool is_json_number(std::string_view text) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        return i > start;
    };
    if (i < text.size() && text[i] == '-') ++i;
    if (i < text.size() && text[i] == '0') ++i;
    else if (!digits()) return false;
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == text.size();
}

nlohmann::ordered_json parameter_value(std::string_view text) {
    if (text == "true") return true;
    if (text == "false") return false;
    if (!is_json_number(text)) return std::string(text);
    const std::string number(text);
    if (number.find_first_of(".eE") == std::string::npos) {
        errno = 0;
        char* end = nullptr;
        if (number.front() == '-') {
            const long long value = std::strtoll(number.c_str(), &end, 10);
            if (errno == 0) return value;
        } else {
            const unsigned long long value = std::strtoull(number.c_str(), &end, 10);
            if (errno == 0) return value;
        }
        return number;  // beyond 64 bits: a double would round it
    }
    return std::strtod(number.c_str(), nullptr);
}

std::string parameter_identity(std::string_view text) {
    const auto value = parameter_value(text);
    if (value.is_number_float() && value.get<double>() == 0.0) return "0.0";
    return value.dump();
}

std::string parameter_value_problem(std::string_view value) {
    if (value.empty()) return "is empty";
    if (value.size() > 200) return "is longer than 200 characters";
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f) return "contains a line break or control character";
    // params.json and the sweep's records are JSON, which holds only UTF-8 (a Latin-1 shell's é).
    if (const auto problem = non_utf8_problem(value)) return fmt::format("is not UTF-8 text ({})", *problem);
    if (is_json_number(value)) {
        // Written to params.json as a number: one a double cannot hold has no JSON form.
        const std::string text(value);
        errno = 0;
        const double number = std::strtod(text.c_str(), nullptr);
        // Out of range: infinite, or a non-zero value read as 0 (a subnormal one is fine).
        if (errno == ERANGE && (std::isinf(number) || number == 0.0))
            return fmt::format("{} is a number no double holds (beyond about 1.8e308, or a non-zero one below "
                               "about 2.2e-308)",
                               text);
    }
    return {};
}

std::vector<ParameterSet> load_params_text(std::string_view text, const std::string& display_name) {
    detail::YamlLimits limits;
    limits.max_bytes = params_file_max_bytes;
    const YamlDocument doc = detail::parse_yaml_document(text, display_name, limits);
    return ParamsReader(doc, display_name).read();
}

std::vector<ParameterSet> load_params_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(fmt::format("cannot read the params file {}: {}", path.string(), ec.message()));
    if (size > params_file_max_bytes)
        throw Error(fmt::format("the params file {} is larger than 1 MiB", path.string()));
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) throw Error(fmt::format("cannot read the params file {}", path.string()));
    return load_params_text(buffer.str(), path.string());
}

}  // namespace gm::config
