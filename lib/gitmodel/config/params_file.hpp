#pragma once
// The parameter sets of a sweep (`git model sweep start --params-file`), read
// from YAML with every problem reported as <file>:<line>:<column> like
// .modelenv.yaml. Two shapes are accepted (git-model-sweep(1), SWEEPS):
//
//   - {lr: 1e-3, batch: 32}         a list: one run per mapping
//   - {lr: 3e-4, batch: 64}
//
//   lr: [1e-3, 3e-4]                a mapping: the grid of every combination,
//   batch: [32, 64]                 a single value is fixed for every run
//   epochs: 10

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace gm::config {

// One run's parameters, in the order they were written: name and value as text.
using ParameterSet = std::vector<std::pair<std::string, std::string>>;

// Files larger than this are refused unread.
inline constexpr std::size_t params_file_max_bytes = 1u << 20;

// Why a parameter name is unusable (it becomes a JSON key, an environment
// variable suffix and a {placeholder}); empty when it is fine.
std::string parameter_name_problem(std::string_view name);

// Whether a value is a JSON number exactly as JSON spells one ("1e-3" is, "1e", "0x10" and "+1"
// are text): such a value reaches the run's params.json as a number.
bool is_json_number(std::string_view text);

// A parameter value as JSON, as params.json holds it: true/false as booleans; a JSON number as
// a 64-bit integer when it has no fraction or exponent and fits, else as a double (one no double
// holds is refused by parameter_value_problem first); an integer beyond 64 bits, and anything
// else, as text (never rounded). Two values are the same parameter when these are equal.
nlohmann::ordered_json parameter_value(std::string_view text);

// What makes two values the same parameter: parameter_value's JSON text, with -0.0 as 0.0 (the
// same number; a float and an integer, 1.0 and 1, stay two, as params.json holds them apart).
std::string parameter_identity(std::string_view text);

// Why a parameter value is unusable (line breaks, control characters, length, a number no double
// holds, such as 1e999, which params.json could not write); empty when fine.
std::string parameter_value_problem(std::string_view value);

// Parses a params file held in memory; display_name is what errors call it.
// Throws ConfigError for anything wrong, including an empty result.
std::vector<ParameterSet> load_params_text(std::string_view text, const std::string& display_name);

// Reads and parses a params file; gm::Error when it cannot be read.
std::vector<ParameterSet> load_params_file(const std::filesystem::path& path);

}  // namespace gm::config
