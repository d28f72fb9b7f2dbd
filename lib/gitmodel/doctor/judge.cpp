#include "gitmodel/doctor/judge.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <tuple>

namespace fs = std::filesystem;

namespace gm::doctor {

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

}  // namespace

std::optional<GitVersion> parse_git_version(std::string_view text) {
    constexpr std::string_view prefix = "git version ";
    if (!starts_with(text, prefix)) return std::nullopt;
    text.remove_prefix(prefix.size());
    GitVersion version;
    int* parts[] = {&version.major, &version.minor, &version.patch};
    std::size_t i = 0;
    for (int* part : parts) {
        if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) {
            if (part == &version.patch) break;  // "git version 2.40" is fine
            return std::nullopt;
        }
        int value = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            value = value * 10 + (text[i] - '0');
            if (value > 100000) return std::nullopt;
            ++i;
        }
        *part = value;
        if (i < text.size() && text[i] == '.') ++i;
        else break;
    }
    return version;
}

Check judge_git(const std::optional<std::string>& version_output) {
    Check check{"git", Status::ok, "", ""};
    if (!version_output) {
        check.status = Status::fail;
        check.detail = "git does not run";
        check.fix = "sudo apt-get install git";
        return check;
    }
    std::string line = *version_output;
    if (const auto nl = line.find('\n'); nl != std::string::npos) line.erase(nl);
    const auto version = parse_git_version(line);
    if (!version) {
        check.status = Status::warn;
        check.detail = fmt::format("cannot read git's version from {}", quote_for_message(line));
        return check;
    }
    const auto tuple = [](const GitVersion& v) { return std::tie(v.major, v.minor, v.patch); };
    if (tuple(*version) < tuple(minimum_git)) {
        check.status = Status::fail;
        check.detail = fmt::format("{}: the suite needs git {}.{} or later", line, minimum_git.major, minimum_git.minor);
        check.fix = "upgrade git (Debian: sudo apt-get install -t bookworm git)";
        return check;
    }
    check.detail = line;
    return check;
}

Check judge_programs(const std::vector<ProgramFact>& programs, const fs::path& own_dir) {
    Check check{"programs", Status::ok, "", ""};
    std::vector<std::string> missing;
    std::vector<std::string> elsewhere;
    for (const auto& program : programs) {
        if (!program.on_path) {
            missing.push_back(program.name);
            continue;
        }
        const auto dir = program.on_path->parent_path();
        std::error_code ec;
        const bool same = fs::equivalent(dir, own_dir, ec) || dir.lexically_normal() == own_dir.lexically_normal();
        if (!same) elsewhere.push_back(fmt::format("{} ({})", program.name, dir.string()));
    }
    if (!missing.empty()) {
        check.status = Status::fail;
        check.detail = fmt::format("not on PATH: {}", join(missing, ", "));
        check.fix = fmt::format("export PATH={}\"$PATH\" (add it to ~/.profile), or reinstall git-model",
                                hint_word(own_dir.string() + ":"));
        return check;
    }
    if (!elsewhere.empty()) {
        check.status = Status::warn;
        check.detail = fmt::format("PATH mixes installations: {} besides {}", join(elsewhere, ", "), own_dir.string());
        check.fix = fmt::format("put one installation first: export PATH={}\"$PATH\"", hint_word(own_dir.string() + ":"));
        return check;
    }
    std::vector<std::string> names;
    for (const auto& program : programs) names.push_back(program.name);
    check.detail = fmt::format("{} in {}", join(names, ", "), own_dir.string());
    return check;
}

Check judge_hooks(const std::optional<std::vector<hooks::HookStatus>>& statuses, const fs::path& hooks_dir,
                  const std::vector<std::string>& problems_found, const std::optional<std::string>& shared_fix) {
    Check check{"hooks", Status::ok, "", ""};
    if (!statuses) {
        check.status = Status::skip;
        check.detail = "not inside a git repository";
        return check;
    }
    std::vector<std::string> problems;
    std::vector<std::string> good;
    bool foreign = false;
    bool edited = false;  // the shim changed by its user: --chain would run the checks twice
    for (const auto& s : *statuses) {
        switch (s.state) {
        case hooks::HookState::current:
            good.push_back(s.chained ? fmt::format("{} (chains {})", s.name, s.chained->filename().string()) : s.name);
            break;
        case hooks::HookState::missing: problems.push_back(s.name + " missing"); break;
        case hooks::HookState::outdated:
            problems.push_back(s.executable ? fmt::format("{} outdated (v{})", s.name, s.version)
                                            : s.name + " not executable (git skips it)");
            break;
        case hooks::HookState::edited:
            problems.push_back(s.name + " changed since it was installed");
            edited = true;
            break;
        case hooks::HookState::foreign:
            problems.push_back(s.name + (s.is_git_lfs ? " is Git LFS's own" : " is somebody else's"));
            foreign = foreign || !s.is_git_lfs;
            break;
        }
    }
    if (!problems.empty() || !problems_found.empty()) {
        check.status = Status::fail;
        check.detail = problems.empty() ? fmt::format("hooks in {}", hooks_dir.string())
                                        : fmt::format("{} in {}", join(problems, ", "), hooks_dir.string());
        for (const auto& problem : problems_found) check.detail += "; " + problem;
        check.fix = edited    ? "git model hooks install --force   (keeps the changed hook as <hook>.git-model-backup; "
                                "move your own lines into <hook>.git-model-chained, which the shim runs after its checks)"
                    : foreign ? "git model hooks install --chain   (or --force, or --manual)"
                              : "git model hooks install";
        if (shared_fix) check.fix = *shared_fix;  // hooks install refuses a shared folder
        return check;
    }
    check.detail = fmt::format("{} installed in {}", join(good, ", "), hooks_dir.string());
    return check;
}

Check judge_modelenv(const ModelenvFact& fact) {
    Check check{"modelenv", Status::ok, "", ""};
    if (!fact.in_repo) {
        check.status = Status::skip;
        check.detail = "not inside a git repository";
        return check;
    }
    if (!fact.exists) {
        check.status = Status::warn;
        check.detail = fmt::format("no {} (git model env and git model ci need one)", fact.path.string());
        check.fix = "write one (man gitmodelenv), then: git model env check";
        return check;
    }
    if (fact.error || !fact.env) {
        check.status = Status::fail;
        check.detail = fact.error.value_or("does not load");
        check.fix = fmt::format("edit {}, then: git model env check", fact.path.filename().string());
        return check;
    }
    const auto& gpus = fact.env->gpus;
    std::string gpu_text = "no GPU";
    if (gpus.kind == config::GpuRequest::Kind::all) gpu_text = "all GPUs";
    else if (gpus.kind == config::GpuRequest::Kind::indices) gpu_text = fmt::format("{} by index", count_of(gpus.indices.size(), "GPU"));
    else if (gpus.count > 0) gpu_text = fmt::format("{} GPU{}", gpus.count, gpus.count == 1 ? "" : "s");
    check.detail = fmt::format("valid: image {}, {}", fact.env->image.to_string(), gpu_text);
    return check;
}

Check judge_engine(const EngineFact& fact) {
    Check check{"engine", Status::ok, "", ""};
    if (fact.unavailable) {
        check.status = Status::fail;
        check.detail = *fact.unavailable;
        check.fix = fact.hint.empty() ? "sudo apt-get install podman runc catatonit" : fact.hint;
        return check;
    }
    if (fact.timed_out) {
        check.status = Status::fail;
        check.detail = fmt::format("`{} info` did not answer within {}s", fact.name, fact.timeout.count());
        check.fix = fmt::format("{} info   (look for a stuck process or storage lock)", fact.name);
        return check;
    }
    if (!fact.answered) {
        check.status = Status::fail;
        check.detail = fmt::format("{} is installed but does not work: {}", fact.name,
                                   fact.error.empty() ? "`info` failed" : fact.error);
        check.fix = fact.name == "docker" ? "start the daemon and join the docker group: sudo systemctl start docker; "
                                            "sudo usermod -aG docker $USER"
                                          : "podman info   (for rootless podman: podman system migrate; check /etc/subuid)";
        return check;
    }
    check.detail = fmt::format("{} works", fact.name) + (fact.mode.empty() ? "" : "; mode: " + fact.mode);
    return check;
}

Check judge_ownership(const OwnershipFact& fact) {
    Check check{"ownership", Status::ok, "", ""};
    if (!fact.in_repo) {
        check.status = Status::skip;
        check.detail = "not inside a git repository";
        return check;
    }
    if (fact.found.empty()) {
        check.detail = fmt::format("no file in the {} worktree and persist folder{} was left by a container as root or "
                                   "one of your subordinate ids",
                                   fact.folders, fact.folders == 1 ? "" : "s");
        return check;
    }
    check.status = Status::warn;
    std::vector<std::string> parts;
    for (const auto& f : fact.found)
        parts.push_back(fmt::format("{}: {}{} entr{} owned by {} (uid {}), e.g. {}", f.folder.string(), f.count,
                                    f.partial ? "+" : "", f.count == 1 ? "y" : "ies", f.owner_name, f.owner,
                                    f.example.string()));
    check.detail = join(parts, "; ") + " (you cannot edit or delete them; git worktree remove and prune fail on them)";
    const auto& first = fact.found.front();
    const std::string ids = fmt::format("{}:{}", fact.uid, fact.gid);
    // Only the files a container made change hands: a shared folder's other files (a
    // teammate's) are never chowned, so no fix is `chown -R` of the folder.
    std::vector<std::string> fixes;
    if (first.subordinate_owned) {
        // Inside `podman unshare` the caller is 0, the subordinate ids 1 and up, anyone else nobody.
        fixes.push_back(fmt::format("podman unshare find {} ! -uid 0 ! -uid 65534 -exec chown 0:0 {{}} +",
                                    hint_word(first.folder.string())));
    }
    if (first.root_owned) {
        std::string fix = fmt::format("sudo find {} -uid 0 -exec chown {} {{}} +", hint_word(first.folder.string()), ids);
        if (!fact.engine_name.empty())
            fix += fmt::format("   (without sudo, through the engine: {} run --rm --user 0:0 -v {} {} find /fix -uid 0 "
                               "-exec chown {} {{}} +)",
                               fact.engine_name, hint_word(first.folder.string() + ":/fix"),
                               fact.image.empty() ? "<image>" : hint_word(fact.image), ids);
        fixes.push_back(fix);
    }
    check.fix = join(fixes, "; ") + "; keep `user: host` (the default) in .modelenv.yaml so that new files are yours";
    return check;
}


bool container_made(unsigned owner, unsigned caller, const std::vector<IdRange>& subordinate) {
    if (owner == caller) return false;
    return owner == 0 || in_ranges(subordinate, owner);
}

Check judge_gpus(const BenchFact& fact) {
    Check check{"gpus", Status::ok, "", ""};
    if (fact.skipped) {
        check.status = Status::skip;
        check.detail = fact.skip_reason.empty() ? "not checked (--no-bench)" : fact.skip_reason;
        return check;
    }
    if (fact.missing) {
        check.status = Status::fail;
        check.detail = "git-model-bench is not installed";
        check.fix = "reinstall git-model";
        return check;
    }
    if (fact.timed_out) {
        check.status = Status::fail;
        check.detail = fmt::format("git-model-bench --quick did not finish within {}s: a GPU or its driver hangs",
                                   fact.timeout.count());
        check.fix = "nvidia-smi   (a GPU that hangs needs a reset: ask the machine's admin)";
        return check;
    }
    nlohmann::json report;
    try {
        report = nlohmann::json::parse(fact.out);
    } catch (const nlohmann::json::exception&) {
        report = nullptr;
    }
    const auto message = [&]() -> std::string {
        if (report.is_object() && report.contains("error") && report["error"].is_object() &&
            report["error"].contains("message") && report["error"]["message"].is_string())
            return report["error"]["message"].get<std::string>();
        return last_nonempty_line(fact.err);
    };
    if (fact.signal == 0 && fact.exit_code == 0) {
        std::vector<std::string> names;
        if (report.is_object() && report.contains("devices") && report["devices"].is_array())
            for (const auto& device : report["devices"])
                if (device.is_object() && device.contains("name") && device["name"].is_string())
                    names.push_back(fmt::format("{}: {}", device.value("index", 0), device["name"].get<std::string>()));
        check.detail = names.empty() ? "the GPU check passed" : fmt::format("{} (git-model-bench --quick passed)", join(names, ", "));
        return check;
    }
    if (fact.signal == 0 && fact.exit_code == static_cast<int>(ExitCode::unavailable)) {
        // A machine without a GPU is normal (a laptop, a CI runner): only env's gpus: and bench need one.
        check.status = Status::warn;
        const auto why = message();
        check.detail = why.empty() ? "no usable GPU" : fmt::format("no usable GPU: {}", why);
        check.fix = "nothing, if this machine has none; else: nvidia-smi, and git model bench for details";
        return check;
    }
    check.status = Status::fail;
    const auto why = message();
    check.detail = fmt::format("the GPU check failed{}{}", why.empty() ? "" : ": ", why);
    check.fix = "git model bench   (the full report says which GPU and which check)";
    return check;
}

Check judge_pool(const PoolFact& fact) {
    Check check{"pool", Status::ok, "", ""};
    if (fact.error) {
        check.status = Status::fail;
        check.detail = *fact.error;
        check.fix = "git config model.gpus 0,1   (host GPU indices), or unset it: git config --unset model.gpus";
        return check;
    }
    if (fact.pool.gpus.empty()) {
        check.status = fact.wants_gpu ? Status::warn : Status::skip;
        check.detail = "no GPU pool here (no NVIDIA driver, model.gpus unset)";
        if (fact.wants_gpu) check.fix = "run GPU environments on a GPU server, or set git config model.gpus";
        return check;
    }
    std::set<std::string> held;
    for (const auto& lease : fact.leases) held.insert(lease.gpu);
    std::vector<std::string> free;
    std::vector<std::string> holders;
    for (const auto& gpu : fact.pool.gpus) {
        const auto id = env::gpu_identity(gpu);
        if (!held.count(id)) {
            free.push_back(std::to_string(gpu.index));
            continue;
        }
        for (const auto& lease : fact.leases)
            if (lease.gpu == id) holders.push_back(fmt::format("{}: {} ({})", gpu.index, lease.model, lease.user));
    }
    if (free.empty()) {
        check.status = Status::warn;
        check.detail = fmt::format("0 of {} free; held by {}", count_of(fact.pool.gpus.size(), "GPU"), join(holders, ", "));
        check.fix = "git model env status --all; git model env down <model> frees yours, or: git model env up --wait";
        return check;
    }
    check.detail = fmt::format("{} of {} free ({}){}", free.size(), count_of(fact.pool.gpus.size(), "GPU"), join(free, ", "),
                               holders.empty() ? "" : fmt::format("; held: {}", join(holders, ", ")));
    return check;
}

Check judge_fetch(const FetchFact& fact) {
    Check check{"fetch", Status::ok, "", ""};
    if (!fact.in_repo) {
        check.status = Status::skip;
        check.detail = "not inside a git repository";
        return check;
    }
    if (!fact.remote_exists && !fact.remotes.empty()) {
        check.status = Status::fail;
        check.detail = fmt::format(
            "the team's remote is '{}' (model.remote, else origin, else the only remote), which is none of this "
            "clone's remotes ({}): the team's policy is read from the local base branch, which may be old, and "
            "finish, tag and prune --remote cannot push",
            fact.remote, join(fact.remotes, ", "));
        check.fix = fmt::format("git config model.remote <the team's remote>   (one of: {})", join(fact.remotes, ", "));
        return check;
    }
    if (!fact.remote_exists) {
        check.status = Status::skip;
        check.detail = fmt::format("no remote '{}' (model.remote): nothing to fetch from", fact.remote);
        return check;
    }
    if (fact.exact_notes) {
        check.status = Status::warn;
        check.detail = fmt::format("remote.{0}.fetch names refs/notes/git-model exactly: `git fetch {0}` and "
                                   "`git pull` fail while {0} has no finish notes (before the team's first finish, or "
                                   "once someone deletes them there)",
                                   fact.remote);
        check.fix = fmt::format("git model hooks install   (or: {})", join(fact.commands, "; "));
        return check;
    }
    if (fact.tags && fact.notes) {
        check.detail = fmt::format("git fetch {} brings teammates' snapshot tags and finish notes", fact.remote);
        return check;
    }
    std::vector<std::string> missing;
    if (!fact.tags) missing.push_back("every tag (teammates' snapshots, archives)");
    if (!fact.notes) missing.push_back("the finish notes (refs/notes/git-model)");
    check.status = Status::warn;
    check.detail = fmt::format("git fetch {} does not bring {}: log, best and compare miss teammates' snapshots",
                               fact.remote, join(missing, " or "));
    check.fix = fmt::format("git model hooks install   (or: {})", join(fact.commands, "; "));
    return check;
}

Check judge_config(const ConfigFact& fact) {
    Check check{"config", Status::ok, "", ""};
    if (!fact.in_repo) {
        check.status = Status::skip;
        check.detail = "not inside a git repository";
        return check;
    }
    std::vector<std::string> problems;
    std::vector<std::string> fixes;
    if (!fact.user_name || fact.user_name->empty()) {
        problems.push_back("user.name unset");
        fixes.push_back("git config --global user.name \"Your Name\"");
    }
    if (!fact.user_email || fact.user_email->empty()) {
        problems.push_back("user.email unset");
        fixes.push_back("git config --global user.email you@example.com");
    }
    // Keys with a closed set of values, durations and lists; git stores names lower-cased.
    const std::map<std::string, std::vector<std::string>> choices = {
        {"model.installhooks", {"ask", "always", "never"}},
        {"model.engine", {"podman", "docker"}},
        {"model.bench.beforepush", {"always", "auto", "never"}},
        {"model.imagedrift", {"warn", "refuse"}},
    };
    const std::set<std::string> booleans = {"model.tag.push", "model.prune.remote"};
    const std::set<std::string> durations = {"model.bench.cachetime", "model.bench.timeout", "model.env.readytimeout",
                                             "model.env.stoptimeout", "model.prune.retention",
                                             "model.locktimeout"};
    for (const auto& [raw_key, value] : fact.model_keys) {
        const auto key = lower(raw_key);
        if (const auto it = choices.find(key); it != choices.end()) {
            if (std::find(it->second.begin(), it->second.end(), value) == it->second.end()) {
                problems.push_back(fmt::format("{} is {} (expected {})", raw_key, quote_for_message(value), join(it->second, ", ")));
                fixes.push_back(fmt::format("git config {} {}", raw_key, it->second.front()));
            }
        } else if (booleans.count(key)) {
            const auto word = lower(value);
            if (word != "true" && word != "false" && word != "yes" && word != "no" && word != "on" && word != "off" &&
                word != "1" && word != "0" && !word.empty()) {
                problems.push_back(fmt::format("{} is {} (expected true or false)", raw_key, quote_for_message(value)));
                fixes.push_back(fmt::format("git config {} true", raw_key));
            }
        } else if (durations.count(key)) {
            if (!parse_duration_seconds(value)) {
                problems.push_back(fmt::format("{} is {} (not a duration such as 30m)", raw_key, quote_for_message(value)));
                fixes.push_back(fmt::format("git config --unset {}", raw_key));
            }
        } else if (key == "model.gpus") {
            try {
                env::parse_gpu_list(value);
            } catch (const Error& e) {
                problems.push_back(e.what());
                fixes.push_back("git config model.gpus 0,1");
            }
        }
    }
    if (!problems.empty()) {
        check.status = Status::fail;
        check.detail = join(problems, "; ");
        check.fix = join(fixes, "; ");
        return check;
    }
    if (!fact.base_exists) {
        check.status = Status::warn;
        check.detail = fmt::format("the base branch '{}' does not exist: git model start needs it", fact.base_branch);
        check.fix = "commit on main first, or name the base " + git::team_setting_fix("model.baseBranch", "<branch>", false);
        return check;
    }
    std::vector<std::string> keys;
    for (const auto& [key, value] : fact.model_keys) keys.push_back(key);
    check.detail = fmt::format("user {} <{}>, base {}{}", *fact.user_name, *fact.user_email, fact.base_branch,
                               keys.empty() ? "" : fmt::format("; set: {}", join(keys, ", ")));
    return check;
}

}  // namespace gm::doctor
