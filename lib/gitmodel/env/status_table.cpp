#include "gitmodel/env/status_table.hpp"

#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace gm::env {

std::string format_uptime(const EnvStatus& e, std::int64_t now) {
    if (e.state != "running" || e.started_at <= 0) return "-";
    const auto seconds = std::max<std::int64_t>(0, now - e.started_at);
    if (seconds < 120) return fmt::format("{}s", seconds);
    if (seconds < 7200) return fmt::format("{}m", seconds / 60);
    if (seconds < 172800) return fmt::format("{}h", seconds / 3600);
    return fmt::format("{}d", seconds / 86400);
}

std::string render_status_table(const std::vector<EnvStatus>& environments, std::int64_t now) {
    std::vector<std::vector<std::string>> rows{{"MODEL", "CONTAINER", "STATE", "GPUS", "UP", "IMAGE / PORTS"}};
    std::vector<std::size_t> first_row;  // the table row of each environment
    for (const auto& e : environments) {
        first_row.push_back(rows.size());
        rows.push_back({e.model, e.container, e.state, e.gpus.empty() ? "-" : e.gpus, format_uptime(e, now), e.image});
        for (const auto& p : e.endpoints) rows.push_back({"", "", "", "", "", p.name + " " + p.url});
    }
    const std::string table = layout_columns(rows);
    std::vector<std::string> lines;
    for (std::size_t pos = 0; pos < table.size();) {
        const auto end = table.find('\n', pos);
        lines.push_back(table.substr(pos, end - pos + 1));
        pos = end + 1;
    }
    std::string out = lines[0];
    for (std::size_t i = 0; i < environments.size(); ++i) {
        const std::size_t end = i + 1 < environments.size() ? first_row[i + 1] : lines.size();
        for (std::size_t line = first_row[i]; line < end; ++line) out += lines[line];
        const auto& e = environments[i];
        if (!e.moved_from.empty())
            out += fmt::format("  started before this repository moved here from {}: `git model env down {}` removes it\n",
                               printable(e.moved_from), e.model);
        if (e.drift && !e.drift->empty()) {
            out += fmt::format("  drift from .modelenv.yaml at the tip of its branch: {}\n", join(*e.drift, "; "));
            out += fmt::format("  `git model env up --recreate {}` replaces the container (persist folders stay)\n",
                               e.model);
        }
    }
    return out;
}

}  // namespace gm::env
