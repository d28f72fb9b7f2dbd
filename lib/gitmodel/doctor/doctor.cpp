#include "gitmodel/doctor/doctor.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
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
#include "gitmodel/lifecycle/settings.hpp"
#include "gitmodel/lifecycle/share.hpp"
#include "gitmodel/model/list.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace gm::doctor {

namespace {

// The last non-empty line of a text.
std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    const auto nl = text.rfind('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
}

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
        if (!result.ok()) fact.error = last_line(result.err.empty() ? result.describe() : result.err);
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

BenchFact bench_fact(const Options& options) {
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
    try {
        proc::RunOptions run_options;
        run_options.timeout = options.bench_timeout;
        const auto result = proc::run({bench->string(), "--quick", "--json"}, run_options);
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
    fact.base_branch = config.get_string("model.baseBranch").value_or("main");
    fact.base_exists = repo.resolve_commit(fact.base_branch).has_value();
    fact.model_keys = config.get_matching("model.", "");
    return fact;
}

FetchFact fetch_fact(const git::Repository& repo) {
    FetchFact fact;
    fact.in_repo = true;
    fact.remote = lifecycle::read_remote_setting(repo);
    const auto setup = lifecycle::read_fetch_setup(repo, fact.remote);
    fact.remote_exists = setup.remote_exists;
    fact.tags = setup.tags;
    fact.notes = setup.notes;
    fact.commands = setup.commands();
    return fact;
}

// The team file and every model.* setting with where its value comes from.
Check team_check(const git::LayeredConfig& layered, const std::map<std::string, std::string>& local_keys) {
    Check check{"team", Status::ok, "", ""};
    std::vector<std::string> keys;
    for (const auto& [key, value] : layered.team().entries)
        if (key.rfind("model.", 0) == 0 && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    for (const auto& [key, value] : local_keys)
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    std::vector<std::string> shown;
    for (const auto& key : keys) {
        auto source = layered.source(key).value_or("unset");
        if (source.rfind("team file", 0) == 0) source = "team file";
        shown.push_back(fmt::format("{}={} ({}{})", key, layered.get_string(key).value_or(""), source,
                                    git::is_policy_key(key) ? ", policy" : ""));
    }
    for (const auto& [key, local] : layered.overridden())
        shown.push_back(fmt::format("this clone's {}={} is overridden by the team file", key, local));
    if (!layered.team().present) {
        check.detail = layered.team().ref.empty()
                           ? "no base branch found to read .gitmodel from; model.* settings are per clone"
                           : fmt::format("no .gitmodel at {}; model.* settings are per clone", layered.team().ref);
        // Not a warning: a team without a team file is a valid setup (every clone configures itself).
    } else {
        check.detail = fmt::format(".gitmodel at {}", layered.team().ref);
    }
    if (!shown.empty()) check.detail += "; " + join(shown, "; ");
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
    } catch (const Error&) {
        repo.reset();
    }

    std::optional<git::Config> config;
    if (repo) config.emplace(repo->config());

    std::optional<hooks::HooksContext> hooks_found;
    std::vector<std::string> protected_branches;
    std::optional<Check> team;
    try {
        auto reader = git::open_reader();  // SHA-256 repositories too, through git
        hooks_found = hooks::hooks_context(*reader);
        try {
            const git::LayeredConfig layered(reader->config(), git::read_team_file(reader->config()));
            protected_branches = hooks::read_push_policy(layered).protected_branches;
            team = team_check(layered, config ? config->get_matching("model.", "") : std::map<std::string, std::string>{});
        } catch (const Error& e) {
            team = Check{"team", Status::fail, e.what(), e.hint()};
        }
    } catch (const Error&) {
        hooks_found.reset();
    }
    if (hooks_found) {
        const auto& dir = hooks_found->dir;
        checks.push_back(judge_hooks(hooks::hook_status(dir), dir, hooks::hooks_problems(*hooks_found)));
        // Say what the pre-push protects: the base branch always, then model.protectedBranch.
        if (!protected_branches.empty())
            checks.back().detail += fmt::format("; pre-push protects {}", join(protected_branches, ", "));
    } else {
        checks.push_back(judge_hooks(std::nullopt, {}));
    }
    if (team) checks.push_back(*team);

    const auto modelenv = modelenv_fact(repo ? &*repo : nullptr);
    checks.push_back(judge_modelenv(modelenv));

    checks.push_back(judge_engine(engine_fact(config ? &*config : nullptr, modelenv.env, options.engine_timeout)));
    checks.push_back(judge_gpus(bench_fact(options)));

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
