#include "gitmodel/doctor/report.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace gm::doctor {

const char* to_string(Status status) {
    switch (status) {
    case Status::ok: return "ok";
    case Status::warn: return "warn";
    case Status::fail: return "fail";
    case Status::skip: return "skip";
    }
    return "fail";
}

int exit_code(const std::vector<Check>& checks) {
    return std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == Status::fail; }) ? 1 : 0;
}

std::string render_text(const std::vector<Check>& checks) {
    std::string out;
    int failures = 0;
    int warnings = 0;
    for (const auto& check : checks) {
        const char* word = check.status == Status::ok     ? "ok"
                           : check.status == Status::warn ? "WARN"
                           : check.status == Status::fail ? "FAIL"
                                                          : "skip";
        out += fmt::format("{:<5} {:<10} {}\n", word, check.name, check.detail);
        if (!check.fix.empty() && (check.status == Status::fail || check.status == Status::warn))
            out += fmt::format("{:<16} fix: {}\n", "", check.fix);
        failures += check.status == Status::fail;
        warnings += check.status == Status::warn;
    }
    if (failures == 0 && warnings == 0) {
        out += "Everything is in order.\n";
    } else {
        out += fmt::format("{} problem{}, {} warning{}.{}\n", failures, failures == 1 ? "" : "s", warnings,
                           warnings == 1 ? "" : "s", failures ? " Run the fix: lines above, then doctor again." : "");
    }
    return out;
}

nlohmann::ordered_json to_json(const std::vector<Check>& checks) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& check : checks)
        rows.push_back({{"name", check.name},
                        {"status", to_string(check.status)},
                        {"detail", check.detail},
                        {"fix", check.fix.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(check.fix)}});
    return {{"version", 1}, {"ok", exit_code(checks) == 0}, {"checks", rows}};
}

}  // namespace gm::doctor
