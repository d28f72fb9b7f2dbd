#include "gitmodel/finish/finish_record.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/git/git_program.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/model/repository_lock.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>
#include <sstream>

namespace gm::finish {

std::string format_finish_record(const FinishRecord& record) {
    std::string out = "Model-Finish: 1\n";
    out += fmt::format("Model: {}\nBranch: {}\nBase: {}\nMode: {}\n", record.model, record.branch, record.base,
                       record.mode);
    if (!record.remote.empty()) out += fmt::format("Remote: {}\n", record.remote);
    out += fmt::format("Finished: {}\n", record.finished_at);
    if (!record.review_url.empty()) out += fmt::format("Review: {}\n", record.review_url);
    return out;
}

std::optional<FinishRecord> parse_finish_record(std::string_view text) {
    FinishRecord record;
    bool header = false, have_time = false;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto colon = line.find(": ");
        if (colon == std::string::npos) continue;
        const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
        if (key == "Model-Finish") header = value == "1";
        else if (key == "Model") record.model = value;
        else if (key == "Branch") record.branch = value;
        else if (key == "Base") record.base = value;
        else if (key == "Mode") record.mode = value;
        else if (key == "Remote") record.remote = value;
        else if (key == "Review") record.review_url = value;
        else if (key == "Finished") {
            std::int64_t seconds = 0;
            const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
            have_time = error == std::errc() && end == value.data() + value.size();
            record.finished_at = seconds;
        }
    }
    if (!header || !have_time || record.model.empty()) return std::nullopt;
    return record;
}

std::optional<FinishRecord> read_finish_record(const git::Repository& repo, const std::string& commit,
                                               std::string_view model, const std::vector<std::string>& other_refs) {
    std::vector<std::string> refs{std::string(model::finish_notes_ref)};
    for (const auto& ref : other_refs)
        if (ref != model::finish_notes_ref) refs.push_back(ref);
    for (const auto& ref : refs) {
        if (const auto note = git::read_note(repo, ref, commit))
            if (auto record = parse_finish_record(*note); record && record->model == model) return record;
    }
    return std::nullopt;
}

void write_finish_record(const git::Repository& repo, const std::string& commit, const FinishRecord& record) {
    // `git notes add` rewrites the whole notes ref without checking what it was: two finishes at
    // once would keep only one note. git-model's writers take turns; another writer's ref lock
    // (git's own, held for moments) is waited for with a growing pause.
    model::RepositoryLock lock(repo, "notes", fmt::format("git model finish {}", record.model));
    proc::RunOptions options;
    options.input = format_finish_record(record);
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    const std::vector<std::string> args{"notes", "--ref=" + std::string(model::finish_notes_ref), "add", "-f", "-F", "-", commit};
    auto pause = std::chrono::milliseconds(5);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto result = run_git(repo, args, options);
        if (result.ok()) return;
        if (result.err.find("cannot lock ref") == std::string::npos) break;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
    run_git_checked(repo, args, "cannot record the finish", options);  // once more, for git's own message
}

}  // namespace gm::finish
