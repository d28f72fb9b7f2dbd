#pragma once
// `git model doctor`'s results: a list of checks, each with a verdict, one line of detail and the
// command that fixes it, rendered as one screen of text or as JSON. Pure: no I/O.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace gm::doctor {

// A check's verdict. Only fail makes doctor exit 1: warn is worth knowing but need not be fixed
// (no GPU on a laptop), skip means the check does not apply here (outside a repository).
enum class Status { ok, warn, fail, skip };

// One line of the report.
struct Check {
    std::string name;    // short and stable: "git", "programs", "hooks", ... (JSON consumers key on it)
    Status status = Status::ok;
    std::string detail;  // what was found, one line
    std::string fix;     // the command (or step) that fixes it; empty when nothing to do
};

// The word for a verdict, for the table and JSON: ok, warn, fail, skip.
const char* to_string(Status status);

// 1 when any check failed, else 0: scripts run `git model doctor || ...`.
int exit_code(const std::vector<Check>& checks);

// The table: one line per check, "fix:" lines under problems, and a summary line.
std::string render_text(const std::vector<Check>& checks);

// {"version": 1, "ok": bool, "checks": [{"name", "status", "detail", "fix"}]}; fix is null when empty.
nlohmann::ordered_json to_json(const std::vector<Check>& checks);

}  // namespace gm::doctor
