#include "gitmodel/sweep/plan.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <cctype>
#include <map>
#include <set>

namespace gm::sweep {

namespace {

constexpr std::size_t max_runs = 1000;

}  // namespace

GridAxis parse_grid_option(std::string_view option) {
    const auto equals = option.find('=');
    if (equals == std::string_view::npos)
        throw UsageError(fmt::format("--grid {}: expected <name>=<value>[,<value>...]", quote_for_message(option)),
                         "e.g. --grid lr=1e-3,3e-4");
    GridAxis axis;
    axis.name = std::string(option.substr(0, equals));
    if (auto problem = config::parameter_name_problem(axis.name); !problem.empty())
        throw UsageError(fmt::format("--grid: parameter name {} {}", quote_for_message(axis.name), problem));
    std::string_view rest = option.substr(equals + 1);
    std::map<std::string, std::string> seen;  // each value as params.json holds it -> as written
    while (true) {
        const auto comma = rest.find(',');
        std::string value(rest.substr(0, comma));
        if (auto problem = config::parameter_value_problem(value); !problem.empty())
            throw UsageError(fmt::format("--grid {}: a value {}", axis.name, problem), "e.g. --grid lr=1e-3,3e-4");
        if (const auto [earlier, fresh] = seen.emplace(config::parameter_identity(value), value); !fresh)
            throw UsageError(earlier->second == value
                                 ? fmt::format("--grid {}: the value {} is listed twice", axis.name, quote_for_message(value))
                                 : fmt::format("--grid {}: the values {} and {} are the same number", axis.name,
                                               quote_for_message(earlier->second), quote_for_message(value)));
        axis.values.push_back(std::move(value));
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return axis;
}

std::vector<ParameterSet> expand(const std::vector<ParameterSet>& from_file, const std::vector<GridAxis>& grid) {
    std::vector<ParameterSet> sets = from_file.empty() ? std::vector<ParameterSet>{ParameterSet{}} : from_file;
    std::set<std::string> axis_names;
    for (const auto& axis : grid) {
        if (!axis_names.insert(axis.name).second)
            throw UsageError(fmt::format("--grid {} is given twice; list all its values in one option", axis.name));
        std::vector<ParameterSet> grown;
        for (const auto& set : sets) {
            for (const auto& [name, value] : set) {
                if (name == axis.name)
                    throw UsageError(fmt::format("parameter '{}' is set both by the params file and by --grid", name));
            }
            for (const auto& value : axis.values) {
                grown.push_back(set);
                grown.back().emplace_back(axis.name, value);
            }
            if (grown.size() > max_runs)
                throw UsageError(fmt::format("the sweep would have more than {} runs; split it", max_runs));
        }
        sets = std::move(grown);
    }
    if (sets.size() == 1 && sets.front().empty())
        throw UsageError("the sweep has no parameters", "give --grid <name>=<values> or --params-file <file>");
    // Each parameter also reaches the run as GIT_MODEL_PARAM_<NAME>: two names that spell the
    // same variable would leave the run seeing only one of them.
    for (const auto& set : sets) {
        std::map<std::string, std::string> by_variable;
        for (const auto& [name, value] : set) {
            const auto [it, inserted] = by_variable.emplace(parameter_variable(name), name);
            if (!inserted && it->second != name)
                throw UsageError(fmt::format("parameters '{}' and '{}' are both passed to the run as {}, so it would "
                                             "see only one of them",
                                             it->second, name, it->first),
                                 "rename one of them (names differing only in case or in '.', '-' and '_' collide)");
        }
    }
    return sets;
}

std::string run_model_name(std::string_view model, std::string_view sweep_id, int run) {
    std::string name = fmt::format("{}.sweep-{}-{}", model, sweep_id, run);
    const auto verdict = naming::check_model_name(name);
    if (!verdict.valid)
        throw UsageError(fmt::format("the run name {} is not usable: it {}", quote_for_message(name), verdict.rule),
                         "sweep a model with a shorter name");
    return name;
}

std::string params_json(const ParameterSet& params) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (const auto& [name, value] : params) object[name] = config::parameter_value(value);
    return object.dump(2) + "\n";
}

std::string describe(const ParameterSet& params) {
    std::vector<std::string> parts;
    for (const auto& [name, value] : params) parts.push_back(name + "=" + value);
    return join(parts, " ");
}

std::vector<std::string> substitute(const std::vector<std::string>& command, const ParameterSet& params) {
    std::vector<std::string> out;
    for (const auto& argument : command) {
        std::string result;
        for (std::size_t i = 0; i < argument.size(); ++i) {
            const char c = argument[i];
            if ((c == '{' || c == '}') && i + 1 < argument.size() && argument[i + 1] == c) {
                result += c;
                ++i;
                continue;
            }
            if (c != '{' || (i > 0 && argument[i - 1] == '$')) {  // ${NAME} belongs to the shell
                result += c;
                continue;
            }
            const auto close = argument.find('}', i);
            if (close == std::string::npos) {
                result += c;
                continue;
            }
            const std::string name = argument.substr(i + 1, close - i - 1);
            const std::string* value = nullptr;
            for (const auto& [key, text] : params)
                if (key == name) value = &text;
            if (!value) {
                if (!config::parameter_name_problem(name).empty()) {  // not a placeholder: shell or JSON braces
                    result += c;
                    continue;
                }
                throw UsageError(fmt::format("the command names {{{}}}, which is not a parameter of the sweep", name),
                                 "write {{ and }} for literal braces");
            }
            result += *value;
            i = close;
        }
        out.push_back(std::move(result));
    }
    return out;
}

std::string parameter_variable(std::string_view name) {
    std::string variable = "GIT_MODEL_PARAM_";
    for (char c : name) {
        if (c == '.' || c == '-') variable += '_';
        else variable += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return variable;
}

}  // namespace gm::sweep
