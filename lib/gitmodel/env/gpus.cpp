#include "gitmodel/env/gpus.hpp"

#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

namespace {

// "2 GPUs per user, leases older than 24 h are overdue"; a limit not set says so.
std::string limits_words(const Limits& limits) {
    return fmt::format("{} per user, {}",
                       limits.max_gpus_per_user ? count_of(static_cast<std::size_t>(*limits.max_gpus_per_user), "GPU")
                                                : std::string("any number of GPUs"),
                       limits.max_lease_hours ? fmt::format("leases older than {} h are overdue", *limits.max_lease_hours)
                                              : std::string("no lease is ever overdue"));
}

nlohmann::json optional_json(const std::optional<int>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json lease_json(const LeaseView& view) {
    const Lease& lease = view.lease;
    return {{"gpu", lease.gpu},
            {"index", lease.index},
            {"user", lease.user},
            {"uid", lease.uid},
            {"repo", lease.repo},
            {"model", lease.model},
            {"worktree", lease.worktree},
            {"engine", lease.engine},
            {"engine_host", lease.engine_host},
            {"container", lease.container},
            {"sweep_run", lease.sweep},
            {"since", lease.since},
            {"phase", lease.phase == LeasePhase::starting ? "starting" : "held"},
            {"state", view.judgement.state},
            {"verdict", view.judgement.verdict == Verdict::held ? "held"
                        : view.judgement.verdict == Verdict::gone ? "gone"
                                                                  : "unknown"},
            {"why", view.judgement.why},
            {"overdue", view.overdue},
            {"over_limit", view.over_limit},
            {"pid", lease.holder.pid},
            {"starter_pid", lease.starter.pid},
            {"workload_pid", lease.workload.pid}};
}

// The table's HOLDER cell, printable and of bounded width (a lease is another user's text).
std::string holder_column(const Lease& lease) {
    if (!lease.sweep.empty()) return "sweep run " + printable(lease.sweep, 64);
    if (!lease.container.empty()) return printable(lease.container, 96);
    return fmt::format("process {}", lease.workload.pid > 0 ? lease.workload.pid : lease.holder.pid);
}

// The SINCE cell: when, and how long ago; a lease file written by hand may bear no time, or
// one ahead of the clock.
std::string since_cell(std::int64_t since, std::int64_t now) {
    if (since <= 0) return "?";
    if (since > now + 60) return format_time(since) + " (ahead of the clock)";
    const auto seconds = std::max<std::int64_t>(0, now - since);
    const auto age = [&]() -> std::string {
        if (seconds < 120) return fmt::format("{}s", seconds);
        if (seconds < 7200) return fmt::format("{}m", seconds / 60);
        if (seconds < 172800) return fmt::format("{}h", seconds / 3600);
        return fmt::format("{}d", seconds / 86400);
    };
    return fmt::format("{} ({})", format_time(since), age());
}

std::string mode_text(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

// Marks the leases by which a user holds more GPUs than model.maxGpusPerUser: the newest ones,
// past the limit. `env up` never takes so many, but a lease file written by hand (or a limit
// lowered since) can hold them, and root should see whose to free.
void mark_over_limit(GpusReport& report) {
    if (!report.limits.max_gpus_per_user) return;
    const auto limit = static_cast<std::size_t>(std::max(0, *report.limits.max_gpus_per_user));
    std::map<uid_t, std::vector<LeaseView*>> by_user;
    for (auto& gpu : report.gpus)
        for (auto& view : gpu.holders) by_user[view.lease.uid].push_back(&view);
    for (auto& view : report.elsewhere) by_user[view.lease.uid].push_back(&view);
    for (auto& [uid, views] : by_user) {
        std::stable_sort(views.begin(), views.end(),
                         [](const LeaseView* a, const LeaseView* b) { return a->lease.since < b->lease.since; });
        std::set<int> counted;  // GPUs, not leases: a --recreate leases one GPU twice
        for (auto* view : views) {
            if (counted.count(view->lease.index) || counted.size() < limit) counted.insert(view->lease.index);
            else view->over_limit = true;
        }
    }
}

}  // namespace

GpusReport gpus_report(const Pool& pool, const fs::path& dir, const Limits& limits, const Engine* engine) {
    GpusReport report;
    report.book_path = dir;
    report.from_driver = pool.from_driver;
    report.driver_error = pool.driver_error;
    report.limits = limits;
    for (std::size_t i = 0; i < pool.gpus.size(); ++i)
        report.gpus.push_back({pool.gpus[i], i < pool.names.size() ? pool.names[i] : "", gpu_identity(pool.gpus[i]), {}});
    const auto book = LeaseBook::open_existing(dir);
    if (!book) return report;
    report.book = book->facts();
    report.limits = book->limits();
    auto contents = book->read();
    report.ignored = std::move(contents.ignored);
    const JudgeContext context = local_judge_context(engine);
    const std::int64_t now = now_seconds();
    for (auto& entry : contents.leases) {
        LeaseView view{std::move(entry.lease), {}, false};
        view.judgement = judge(view.lease, context);
        view.overdue = overdue(view.lease, report.limits.max_lease_hours, now);
        if (view.judgement.verdict == Verdict::gone) {
            report.stale.push_back(std::move(view));
            continue;
        }
        auto gpu = std::find_if(report.gpus.begin(), report.gpus.end(), [&](const GpuView& g) { return g.id == view.lease.gpu; });
        if (gpu == report.gpus.end()) report.elsewhere.push_back(std::move(view));
        else gpu->holders.push_back(std::move(view));
    }
    mark_over_limit(report);
    return report;
}

nlohmann::json to_json(const GpusReport& report) {
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& gpu : report.gpus) {
        nlohmann::json holders = nlohmann::json::array();
        for (const auto& view : gpu.holders) holders.push_back(lease_json(view));
        gpus.push_back({{"index", gpu.slot.index},
                        {"uuid", gpu.slot.uuid ? nlohmann::json(*gpu.slot.uuid) : nlohmann::json(nullptr)},
                        {"name", gpu.name},
                        {"id", gpu.id},
                        {"state", gpu.holders.empty() ? "free" : "held"},
                        {"holders", holders}});
    }
    const auto list = [](const std::vector<LeaseView>& views) {
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& view : views) rows.push_back(lease_json(view));
        return rows;
    };
    nlohmann::json ignored = nlohmann::json::array();
    for (const auto& file : report.ignored) ignored.push_back({{"file", file.file}, {"why", file.why}});
    nlohmann::json book = nullptr;
    if (report.book)
        book = {{"path", report.book_path.string()}, {"owner", user_name_of(report.book->owner)},
                {"group", report.book->group},       {"mode", mode_text(report.book->mode)},
                {"shared", report.book->shared}};
    return {{"version", 1},
            {"book", book},
            {"book_path", report.book_path.string()},
            {"pool",
             {{"from_driver", report.from_driver},
              {"size", report.gpus.size()},
              {"driver_error", report.driver_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.driver_error)}}},
            {"limits",
             {{"max_gpus_per_user", optional_json(report.limits.max_gpus_per_user)},
              {"max_lease_hours", optional_json(report.limits.max_lease_hours)},
              {"source", report.limits.source}}},
            {"gpus", gpus},
            {"elsewhere", list(report.elsewhere)},
            {"stale", list(report.stale)},
            {"ignored", ignored}};
}

std::string render_gpus(const GpusReport& report) {
    const std::int64_t now = now_seconds();
    // One row per holder (a free GPU: one row), columns as wide as their widest cell.
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> details;  // printed under the row of the same index ("" for none)
    // During an `env up --recreate` the GPU is leased twice: to the old container, and to the
    // start of the new one of the same name, to which it passes. The second row says so.
    const auto replaces_sibling = [](const LeaseView& view, const std::vector<LeaseView>& holders) {
        const Lease& lease = view.lease;
        return lease.phase == LeasePhase::starting && !lease.container.empty() &&
               std::any_of(holders.begin(), holders.end(), [&](const LeaseView& other) {
                   return other.lease.id != lease.id && other.lease.uid == lease.uid &&
                          other.lease.container == lease.container && other.lease.repo == lease.repo &&
                          other.lease.phase != LeasePhase::starting;
               });
    };
    const auto add = [&](const std::string& index, const std::string& id, const std::string& name, const LeaseView* view,
                         bool replacing = false) {
        if (!view) {
            rows.push_back({index, id, name.empty() ? "-" : name, "-", "-", "-", "-", "free"});
            details.emplace_back();
            return;
        }
        const Lease& lease = view->lease;
        std::string state = view->judgement.state;
        if (view->overdue) state += fmt::format(", overdue (> {} h)", *report.limits.max_lease_hours);
        if (view->over_limit) state += fmt::format(", over the limit ({} per user)", *report.limits.max_gpus_per_user);
        rows.push_back({index, printable(id, 96), name.empty() ? "-" : printable(name, 64), printable(lease.user, 64),
                        printable(lease.model, 64), holder_column(lease),
                        since_cell(lease.since, now), state});
        std::string detail = "repository " + printable(lease.repo);
        if (view->judgement.verdict == Verdict::unknown) detail += "; " + view->judgement.why;
        if (replacing) detail += "; taken by `env up --recreate`: passes to the new container once the old one is gone";
        details.push_back(detail);
    };
    constexpr std::size_t holders_shown = 10;  // a GPU flooded with leases must not flood the screen
    std::vector<std::string> more;
    for (const auto& gpu : report.gpus) {
        if (gpu.holders.empty()) add(std::to_string(gpu.slot.index), gpu.id, gpu.name, nullptr);
        for (std::size_t i = 0; i < gpu.holders.size() && i < holders_shown; ++i)
            add(std::to_string(gpu.slot.index), gpu.id, gpu.name, &gpu.holders[i], replaces_sibling(gpu.holders[i], gpu.holders));
        if (gpu.holders.size() > holders_shown)
            more.push_back(fmt::format("GPU {} has {} more holders (--json lists them all)", gpu.slot.index,
                                       gpu.holders.size() - holders_shown));
    }
    for (const auto& view : report.elsewhere) add(std::to_string(view.lease.index) + "?", view.lease.gpu, "(not in this pool)", &view);

    std::string out;
    if (!report.driver_error.empty())
        out += fmt::format("Warning: an NVIDIA driver is loaded but its GPUs cannot be listed ({}): the pool below is "
                           "model.gpus's, and no GPU can be taken until nvidia-smi answers.\n",
                           printable(report.driver_error, 512));
    if (report.gpus.empty())
        out += "This machine has no GPU pool: no NVIDIA driver, and git config model.gpus is not set.\n";
    if (!rows.empty()) {
        const std::vector<std::string> header{"GPU", "ID", "NAME", "USER", "MODEL", "HOLDER", "SINCE", "STATE"};
        std::vector<std::size_t> width(header.size());
        for (std::size_t c = 0; c < header.size(); ++c) {
            width[c] = header[c].size();
            for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
        }
        const auto line = [&](const std::vector<std::string>& cells) {
            std::string text;
            for (std::size_t c = 0; c < cells.size(); ++c)
                text += c + 1 == cells.size() ? cells[c] : fmt::format("{:<{}}  ", cells[c], width[c]);
            return text + "\n";
        };
        out += line(header);
        for (std::size_t r = 0; r < rows.size(); ++r) {
            out += line(rows[r]);
            if (!details[r].empty()) out += fmt::format("{:<{}}  {}\n", "", width[0], details[r]);
        }
    }
    for (const auto& line : more) out += line + "\n";
    if (!report.book)
        out += fmt::format("\nNo GPU lease book at {} yet (an admin prepares it: sudo git model gpus init).\n",
                           report.book_path.string());
    if (!report.stale.empty())
        out += fmt::format("\n{} lease record{} of holders that are gone (free for everyone; removed when their owner or root "
                           "next takes a GPU).\n",
                           report.stale.size(), report.stale.size() == 1 ? "" : "s");
    if (!report.ignored.empty()) {
        out += fmt::format("\nIgnored in {} (not valid leases):\n", report.book_path.string());
        constexpr std::size_t shown = 20;  // a book flooded with junk must not flood the screen
        for (std::size_t i = 0; i < report.ignored.size() && i < shown; ++i)
            out += fmt::format("  {}: {}\n", printable(report.ignored[i].file, 128), report.ignored[i].why);
        if (report.ignored.size() > shown)
            out += fmt::format("  ... and {} more (--json lists them all)\n", report.ignored.size() - shown);
    }
    if (report.limits.max_gpus_per_user || report.limits.max_lease_hours)
        out += fmt::format("\nLimits ({}): {}.\n", report.limits.source, limits_words(report.limits));
    return out;
}

std::vector<std::string> release_gpu(const fs::path& dir, const Pool& pool, const std::string& which,
                                     std::chrono::milliseconds lock_timeout) {
    const auto book = LeaseBook::open_existing(dir);
    if (!book) throw Error(fmt::format("there is no GPU lease book at {}: no GPU is leased", dir.string()));
    std::optional<int> index;
    std::string id = which;
    if (!which.empty() && which.find_first_not_of("0123456789") == std::string::npos && which.size() < 6) {
        index = std::stoi(which);
        id = fmt::format("index-{}", *index);
        for (const auto& gpu : pool.gpus)
            if (gpu.index == *index) id = gpu_identity(gpu);
    }
    const auto matches = [&](const Lease& lease) { return lease.gpu == id || (index && lease.index == *index); };
    const uid_t me = ::geteuid();
    const FileLock lock = book->lock(lock_timeout);
    std::vector<BookEntry> found;
    for (auto& entry : book->read().leases)
        if (matches(entry.lease)) found.push_back(std::move(entry));
    const std::string shown = printable(which, 96);
    if (found.empty()) return {fmt::format("GPU {} is not leased: nothing to release", shown)};
    for (const auto& entry : found)
        if (me != 0 && entry.lease.uid != me) {
            const std::string user = printable(entry.lease.user, 64);  // the file's owner, not what the file says
            throw Error(fmt::format("GPU {} is held by {}; only they or root can give it back", shown, user),
                        fmt::format("{} gives it back with `git model env down {}` in {}; root: sudo git model gpus release {}",
                                    user, printable(entry.lease.model, 96), printable(entry.lease.worktree), shown));
        }
    std::vector<std::string> lines;
    for (const auto& entry : found) {
        const Lease& lease = entry.lease;
        if (!book->remove(entry)) continue;
        const std::string line = fmt::format("released GPU {} ({}) held by {} since {}: model '{}' of {}, {}", lease.index,
                                             printable(lease.gpu, 96), printable(lease.user, 64), format_time(lease.since),
                                             printable(lease.model, 96), printable(lease.repo), holder_words(lease));
        if (me == 0) book->log(line);
        lines.push_back(line);
        if (!lease.container.empty())
            lines.push_back(fmt::format("  the container {} was not stopped: it can still use the GPU until {} runs "
                                        "`git model env down {}`",
                                        printable(lease.container, 96), printable(lease.user, 64), printable(lease.model, 96)));
    }
    return lines;
}

std::string describe_book(const BookFacts& facts, const Limits& limits) {
    std::string who = facts.shared ? ((facts.mode & S_IWOTH) ? "every local user may take GPUs"
                                                             : fmt::format("members of group {} may take GPUs", facts.group))
                                   : fmt::format("only {} may take GPUs", user_name_of(facts.owner));
    std::string out = fmt::format("GPU lease book ready: {}\n  owner {}, group {}, mode {}: {}\n", facts.path.string(),
                                  user_name_of(facts.owner), facts.group, mode_text(facts.mode), who);
    if (limits.max_gpus_per_user || limits.max_lease_hours)
        out += fmt::format("  limits ({}): {}\n", limits.source, limits_words(limits));
    else
        out += "  no limits (set them with --max-gpus-per-user and --max-lease-hours)\n";
    return out;
}

}  // namespace gm::env
