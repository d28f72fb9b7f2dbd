#pragma once
// What a sweep will run, worked out before anything is created: the parameter
// sets (the grid of --grid options, on top of a params file), each run's name,
// its params.json and its command line. Pure, so the rules are unit-tested.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitmodel/config/params_file.hpp"

namespace gm::sweep {

using config::ParameterSet;

// The file each run's parameters are committed in, at the root of its worktree.
inline constexpr const char* params_file_name = "params.json";
// The file a run writes its results to (a flat or nested JSON object of numbers), at its worktree's root.
inline constexpr const char* metrics_file_name = "metrics.json";
// Beside a sweep's record: the run `sweep promote` promoted last, which `sweep clean` archives.
inline constexpr const char* promoted_record_name = "promoted.json";

// One --grid option: a parameter and the values it takes.
struct GridAxis {
    std::string name;
    std::vector<std::string> values;
};

// Parses "lr=1e-3,3e-4"; throws gm::UsageError naming what is wrong.
GridAxis parse_grid_option(std::string_view option);

// Every run's parameters: each set of the file (or one empty set) crossed with
// every grid axis in order. Throws gm::UsageError for a parameter given twice
// or more than 1,000 runs.
std::vector<ParameterSet> expand(const std::vector<ParameterSet>& from_file, const std::vector<GridAxis>& grid);

// The model name of a run: "<model>.sweep-<id>-<k>" (its branch is
// feature/model-<that>). Throws gm::UsageError when it would not be a valid model name.
std::string run_model_name(std::string_view model, std::string_view sweep_id, int run);

// The content of a run's params.json.
std::string params_json(const ParameterSet& params);

// "lr=1e-3 batch=32", for messages, commit subjects and tables.
std::string describe(const ParameterSet& params);

// The command line of one run: every "{name}" in an argument replaced by the
// parameter's value ("{{" and "}}" stand for braces; "${NAME}" is left to the
// shell, and so is "{...}" that cannot be a parameter name). Throws gm::UsageError for
// a placeholder that names no parameter.
std::vector<std::string> substitute(const std::vector<std::string>& command, const ParameterSet& params);

// The environment variable a parameter is also passed as: GIT_MODEL_PARAM_<NAME>,
// upper case, '.' and '-' as '_'.
std::string parameter_variable(std::string_view name);

}  // namespace gm::sweep
