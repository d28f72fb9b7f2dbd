#include "gitmodel/doctor/doctor.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/doctor/judge.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/env/engine.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/git/team_file.hpp"
#include "gitmodel/hooks/install.hpp"
#include "gitmodel/hooks/pre_push.hpp"
#include "gitmodel/snapshots/share.hpp"
#include "gitmodel/model/list.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace gm::doctor {

namespace {

std::optional<std::string> git_version_output() {
    try {
        proc::RunOptions options;
        options.timeout = std::chrono::seconds(10);
        const auto result = proc::run({"git", "--version"}, options);
        if (!result.ok()) return std::nullopt;
        return result.out;
    } catch (const Error&) {
        return std::nullopt;
    }
}

// A sibling program of the running one, else PATH's, the way `git model bench` finds it.
std::optional<fs::path> suite_program(const std::string& name) {
    const auto beside = proc::current_executable().parent_path() / name;
    if (::access(beside.c_str(), X_OK) == 0) return beside;
    return proc::find_program(name);
}

ModelenvFact modelenv_fact(const git::Repository* repo) {
    ModelenvFact fact;
    if (!repo || !repo->workdir()) return fact;
    fact.in_repo = true;
    fact.path = *repo->workdir() / config::modelenv_file_name;
    std::error_code ec;
    fact.exists = fs::exists(fact.path, ec);
    if (!fact.exists) return fact;
    try {
        fact.env = config::load_modelenv_file(fact.path);
    } catch (const Error& e) {
        fact.error = e.what();
    }
    return fact;
}

EngineFact engine_fact(const git::Config* config, const std::optional<config::ModelEnv>& file,
                       std::chrono::seconds timeout) {
    EngineFact fact;
    fact.timeout = timeout;
    env::Engine engine;
    try {
        const auto file_engine = file ? file->engine : std::nullopt;
        engine = config ? env::select_engine(*config, file_engine) : env::select_engine(std::nullopt, file_engine);
    } catch (const Error& e) {
        fact.unavailable = e.what();
        fact.hint = e.hint();
        return fact;
    }
    fact.name = engine.name;
    fact.mode = engine.describe_mode();
    try {
        proc::RunOptions options;
        options.timeout = timeout;
        const auto result = proc::run(engine.command({"info"}), options);
        fact.answered = result.ok();
        fact.timed_out = result.timed_out;
        if (!result.ok()) fact.error = last_nonempty_line(result.err.empty() ? result.describe() : result.err);
    } catch (const Error& e) {
        fact.error = e.what();
    }
    return fact;
}

// Entries of a folder a container made as another uid than the caller's (root's, the caller's
// subordinate ids'; a teammate's files in a shared folder are not): at most `limit` entries
// are looked at, links are not followed, .git is skipped (its objects are git's business).
std::optional<ForeignFiles> foreign_files(const fs::path& folder, unsigned uid, const std::vector<IdRange>& subordinate,
                                          std::size_t limit) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return std::nullopt;
    ForeignFiles found;
    found.folder = folder;
    std::size_t seen = 0;
    const auto note = [&](const fs::path& path) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !container_made(st.st_uid, uid, subordinate)) return;
        (st.st_uid == 0 ? found.root_owned : found.subordinate_owned) = true;
        if (found.count++ == 0) {
            found.example = path;
            found.owner = st.st_uid;
            found.owner_name = user_name_of(st.st_uid);
        }
    };
    note(folder);
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (++seen > limit) {
            found.partial = true;
            break;
        }
        if (it->path().filename() == ".git") {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        note(it->path());
    }
    if (found.count == 0) return std::nullopt;
    return found;
}

OwnershipFact ownership_fact(git::Repository& repo, const git::Config& config, const std::optional<config::ModelEnv>& file) {
    OwnershipFact fact;
    fact.in_repo = true;
    fact.uid = ::geteuid();
    fact.gid = ::getegid();
    if (file) fact.image = file->image.to_string();
    try {
        const auto engine = env::select_engine(config, file ? file->engine : std::nullopt);
        fact.engine_name = engine.name;
        fact.rootless = engine.mode == env::EngineMode::rootless;
    } catch (const Error&) {
        // no engine: the fix is chown alone
    }
    std::vector<IdRange> subordinate;
    {
        std::ifstream in("/etc/subuid");
        std::ostringstream text;
        text << in.rdbuf();
        subordinate = subordinate_ranges(text.str(), user_name_of(fact.uid), fact.uid);
    }
    std::vector<fs::path> folders;
    for (const auto& model : model::list_models(repo)) {
        if (!model.worktree || model.worktree_state != model::WorktreeState::present) continue;
        folders.push_back(*model.worktree);
        try {
            const auto target = env::resolve_target(repo, model.name);
            const auto persist = env::persist_folders(target, env::load_environment_file(target));
            folders.insert(folders.end(), persist.begin(), persist.end());
        } catch (const Error&) {
            // no usable .modelenv.yaml: only the default persist folders below
        }
    }
    folders.push_back(repo.common_dir() / "git-model" / "persist");
    std::sort(folders.begin(), folders.end());
    folders.erase(std::unique(folders.begin(), folders.end()), folders.end());
    for (const auto& folder : folders) {
        std::error_code ec;
        if (!fs::exists(folder, ec)) continue;
        ++fact.folders;
        if (auto found = foreign_files(folder, fact.uid, subordinate, 50000)) fact.found.push_back(std::move(*found));
    }
    return fact;
}

BenchFact bench_fact(const Options& options, const std::filesystem::path& lease_book) {
    BenchFact fact;
    fact.timeout = options.bench_timeout;
    if (!options.run_bench) {
        fact.skipped = true;
        return fact;
    }
    const auto bench = suite_program("git-model-bench");
    if (!bench) {
        fact.missing = true;
        return fact;
    }
    std::vector<std::string> argv{bench->string(), "--quick", "--json"};
    try {
        // Another user's GPU is left alone: no context, memory or kernel on their job.
        for (const auto& uuid : env::gpus_others_hold(lease_book)) argv.insert(argv.end(), {"--skip-gpu", uuid});
    } catch (const Error& e) {
        fact.skipped = true;
        fact.skip_reason = fmt::format("not checked: which GPUs other users hold is unknown ({})", e.what());
        return fact;
    }
    try {
        proc::RunOptions run_options;
        run_options.timeout = options.bench_timeout;
        const auto result = proc::run(argv, run_options);
        fact.timed_out = result.timed_out;
        fact.exit_code = result.exit_code;
        fact.signal = result.signal;
        fact.out = result.out;
        fact.err = result.err;
    } catch (const Error&) {
        fact.missing = true;
    }
    return fact;
}

PoolFact pool_fact(const git::Config& config, bool wants_gpu) {
    PoolFact fact;
    fact.wants_gpu = wants_gpu;
    try {
        fact.pool = env::discover_pool(config);
        // Doctor only reads: a book that does not exist yet holds no lease (and is not created);
        // leases whose holder is provably gone do not count.
        if (!fact.pool.gpus.empty()) {
            if (const auto book = env::LeaseBook::open_existing(env::LeaseBook::directory(config))) {
                const auto context = env::local_judge_context(nullptr);
                for (const auto& entry : book->read().leases)
                    if (env::judge(entry.lease, context).verdict != env::Verdict::gone) fact.leases.push_back(entry.lease);
            }
        }
    } catch (const Error& e) {
        fact.error = e.what();
    }
    return fact;
}

ConfigFact config_fact(const git::Repository& repo, const git::Config& config) {
    ConfigFact fact;
    fact.in_repo = true;
    fact.user_name = config.get_string("user.name");
    fact.user_email = config.get_string("user.email");
    fact.base_branch = model::base_branch_setting(config);
    fact.base_exists = model::resolve_base(repo, fact.base_branch).has_value();
    fact.model_keys = config.get_matching("model.", "");
    return fact;
}

FetchFact fetch_fact(const git::Repository& repo) {
    FetchFact fact;
    fact.in_repo = true;
    fact.remote = model::read_settings(repo).remote;
    const auto setup = snapshots::read_fetch_setup(repo, fact.remote);
    fact.remote_exists = setup.remote_exists;
    fact.remotes = git::remote_names(repo.config());
    fact.tags = setup.tags;
    fact.notes = setup.notes;
    fact.exact_notes = setup.exact_notes;
    fact.commands = setup.commands();
    return fact;
}

// What the team check shows of one configuration: the team file, this clone's model.* keys,
// the value each key takes and where it comes from, and the policy keys the file overrides.
struct SettingsView {
    const git::TeamFile& team;
    std::map<std::string, std::string> git_keys;
    std::function<std::optional<std::string>(std::string_view)> value;
    std::function<std::optional<std::string>(std::string_view)> origin;
    std::vector<std::pair<std::string, std::string>> overridden;
};

// The team file and every model.* setting with where its value comes from.
Check team_check(const SettingsView& view) {
    Check check{"team", Status::ok, "", ""};
    std::vector<std::string> keys;
    for (const auto& [key, value] : view.team.entries)
        if (key.rfind("model.", 0) == 0 && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    for (const auto& [key, value] : view.git_keys)
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    std::vector<std::string> shown;
    for (const auto& key : keys) {
        auto source = view.origin(key).value_or("unset");
        if (source.rfind("team file", 0) == 0) source = "team file";  // its ref is named once, above
        shown.push_back(fmt::format("{}={} ({}{})", key, view.value(key).value_or(""), source,
                                    git::is_policy_key(key) ? ", policy" : ""));
    }
    for (const auto& [key, local] : view.overridden)
        shown.push_back(fmt::format("this clone's {}={} is overridden by the team file", key, local));
    for (const auto& key : view.team.ignored)
        shown.push_back(fmt::format("{} in the team file is ignored (a setting of this machine, not the team's)", key));
    if (!view.team.present) {
        check.detail = view.team.ref.empty()
                           ? "no base branch found to read .gitmodel from; model.* settings are per clone"
                           : fmt::format("no .gitmodel at {}; model.* settings are per clone", view.team.ref);
        // Not a warning: a team without a team file is a valid setup (every clone configures itself).
    } else {
        check.detail = fmt::format(".gitmodel at {}", view.team.ref);
    }
    if (!shown.empty()) check.detail += "; " + join(shown, "; ");
    return check;
}

// The team check through libgit2: each git setting with its exact scope (local, global, system, -c).
Check team_check(const git::Config& config) {
    const git::TeamFile& team = *config.team();
    return team_check(SettingsView{
        team, config.plain_matching("model.", ""), [&](std::string_view key) { return config.get_string(key); },
        [&](std::string_view key) { return config.origin(key); },
        git::overridden_keys(team, [&](std::string_view key) { return config.get_all_git(key); })});
}

// The team check through git's plumbing (SHA-256 repositories): git config as one source.
Check team_check(const git::LayeredConfig& layered, const std::map<std::string, std::string>& local_keys) {
    return team_check(SettingsView{layered.team(), local_keys,
                                   [&](std::string_view key) { return layered.get_string(key); },
                                   [&](std::string_view key) { return layered.source(key); }, layered.overridden()});
}

// The pre-push rule ci-image at HEAD: a CI file `ci init` wrote runs the image .modelenv.yaml pins.
// Absent (nullopt) where HEAD has no generated CI file or no readable pin.
std::optional<Check> ci_check(git::RepoReader& reader) {
    const auto head = reader.resolve_commit("HEAD");
    if (!head) return std::nullopt;
    const auto mismatches = hooks::ci_image_mismatches(reader, *head);
    if (mismatches.empty()) return std::nullopt;
    Check check{"ci", Status::warn, "", ""};
    std::vector<std::string> found, fixes;
    for (const auto& m : mismatches) {
        found.push_back(fmt::format("{} at HEAD runs image {}, but .modelenv.yaml pins {}", m.path, m.image, m.pinned));
        fixes.push_back(m.fix);
    }
    check.detail = join(found, "; ") + " (the pre-push refuses this, rule ci-image)";
    check.fix = join(fixes, " && ") + ", then commit the CI file";
    return check;
}

}  // namespace

std::vector<Check> run_checks(const Options& options) {
    std::vector<Check> checks;
    checks.push_back(judge_git(git_version_output()));

    std::vector<ProgramFact> programs;
    for (const char* name : {"git-model", "git-model-env", "git-model-bench"})
        programs.push_back(ProgramFact{name, proc::find_program(name)});
    checks.push_back(judge_programs(programs, proc::current_executable().parent_path()));

    git::Library library;
    std::optional<git::Repository> repo;
    try {
        repo.emplace(git::Repository::discover());
    } catch (const git::ForeignRepositoryError& e) {
        checks.push_back(Check{"repository", Status::fail, e.what(), e.hint()});  // not "not in a repository"
    } catch (const Error&) {
        repo.reset();
    }

    // Every model.* reader below sees the team file; one that does not parse is the team check's
    // failure, and the other checks read this clone's own git config.
    std::optional<git::Config> config;
    std::optional<Check> team;
    if (repo) {
        config.emplace(repo->config());
        try {
            team = team_check(*config);
        } catch (const Error& e) {
            team = Check{"team", Status::fail, e.what(), e.hint()};
            git::treat_bad_team_file_as_absent();
            config.emplace(repo->plain_config());
        }
    }

    std::optional<hooks::HooksContext> hooks_found;
    std::vector<std::string> protected_branches;
    std::optional<Check> ci;
    try {
        auto reader = git::open_reader();  // SHA-256 repositories too, through git
        hooks_found = hooks::hooks_context(*reader);
        try {
            ci = ci_check(*reader);
        } catch (const Error& e) {
            ci = Check{"ci", Status::warn, fmt::format("cannot compare the CI file's image with the pin: {}", e.what()), ""};
        }
        try {
            const git::LayeredConfig layered(reader->config(), git::read_team_file(reader->config()));
            protected_branches = hooks::read_push_policy(layered, layered.team().remote_default).protected_branches;
            if (!team) team = team_check(layered, std::map<std::string, std::string>{});  // no libgit2 view
        } catch (const Error& e) {
            if (!team) team = Check{"team", Status::fail, e.what(), e.hint()};
        }
    } catch (const Error&) {
        hooks_found.reset();
    }
    if (hooks_found) {
        const auto& dir = hooks_found->dir;
        checks.push_back(judge_hooks(hooks::hook_status(dir), dir, hooks::hooks_problems(*hooks_found),
                                     hooks_found->shared_hooks_origin
                                         ? std::optional<std::string>(hooks::shared_hooks_fix(*hooks_found))
                                         : std::nullopt));
        // Say what the pre-push protects: the base branch always, then model.protectedBranch.
        if (!protected_branches.empty())
            checks.back().detail += fmt::format("; pre-push protects {}", join(protected_branches, ", "));
    } else {
        checks.push_back(judge_hooks(std::nullopt, {}));
    }
    if (team) checks.push_back(*team);
    if (ci) checks.push_back(*ci);

    const auto modelenv = modelenv_fact(repo ? &*repo : nullptr);
    checks.push_back(judge_modelenv(modelenv));

    checks.push_back(judge_engine(engine_fact(config ? &*config : nullptr, modelenv.env, options.engine_timeout)));
    checks.push_back(judge_gpus(bench_fact(
        options, config ? env::LeaseBook::directory(*config) : env::LeaseBook::directory(std::optional<std::string>()))));

    if (config) {
        checks.push_back(judge_pool(pool_fact(*config, modelenv.env && modelenv.env->gpus.wants_gpu())));
        checks.push_back(judge_config(config_fact(*repo, *config)));
        checks.push_back(judge_fetch(fetch_fact(*repo)));
        checks.push_back(judge_ownership(ownership_fact(*repo, *config, modelenv.env)));
    } else {
        checks.push_back(Check{"pool", Status::skip, "not inside a git repository (the pool is read from its config)", ""});
        checks.push_back(judge_config(ConfigFact{}));
        checks.push_back(judge_fetch(FetchFact{}));
        checks.push_back(judge_ownership(OwnershipFact{}));
    }
    return checks;
}

}  // namespace gm::doctor
