#include "gitmodel/sweep/execute.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/env/container.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/image.hpp"
#include "gitmodel/env/state.hpp"
#include "gitmodel/env/user.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/sweep/plan.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {

std::string timestamp() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    char text[32] = "?";
    if (::localtime_r(&now, &local)) std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

std::optional<config::ModelEnv> run_environment(const RunSpec& run) {
    const fs::path file = run.worktree / config::modelenv_file_name;
    if (!fs::exists(file)) return std::nullopt;
    return config::load_modelenv_file(file);
}

// The variables every run gets, host paths or container paths alike.
std::vector<std::pair<std::string, std::string>> run_variables(const Sweep& sweep, const RunSpec& run,
                                                               const std::string& visible, const std::string& logs,
                                                               const std::string& checkpoints,
                                                               const std::string& params) {
    std::vector<std::pair<std::string, std::string>> vars{
        {"CUDA_VISIBLE_DEVICES", visible},
        {"NVIDIA_VISIBLE_DEVICES", visible.empty() ? "void" : visible},
        {"GIT_MODEL_MODEL", run.model},
        {"GIT_MODEL_SWEEP", sweep.id},
        {"GIT_MODEL_RUN", std::to_string(run.number)},
        {"GIT_MODEL_PARAMS", params},
        {"GIT_MODEL_LOGS", logs},
        {"GIT_MODEL_CHECKPOINTS", checkpoints},
    };
    for (const auto& [name, value] : run.params) vars.emplace_back(parameter_variable(name), value);
    return vars;
}

}  // namespace

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "?";
    return name;
}

std::string run_container_name(const Sweep& sweep, const RunSpec& run, const fs::path& main_worktree) {
    return env::container_name(sweep.common_dir, main_worktree, run.model);
}

std::string run_image(const RunSpec& run) {
    try {
        if (const auto file = run_environment(run)) return file->image.to_string();
    } catch (const Error&) {
        // the run itself reports its broken file when it starts
    }
    return {};
}

std::optional<env::Engine> sweep_engine(const Sweep& sweep, const git::Config& config) {
    if (!sweep.container) return std::nullopt;
    std::optional<std::string> file_engine;
    for (const auto& run : sweep.runs) {
        try {
            if (auto file = run_environment(run)) file_engine = file->engine;
        } catch (const Error&) {
            // the run itself will report its broken file
        }
        break;
    }
    return env::select_engine(config, file_engine);
}

void begin_attempt(RunStatus& status) {
    status.state = RunState::running;
    status.attempt += 1;
    status.tries += 1;
    status.held = false;
    status.started = now_seconds();
    status.ended = 0;
    status.exit_code.reset();
    status.signal = 0;
    status.note.clear();
    status.host = host_name();
}

void end_attempt(RunStatus& status, std::optional<int> exit_code, int signal) {
    status.exit_code = exit_code;
    status.signal = signal;
    status.ended = now_seconds();
    status.attempts.push_back({exit_code, signal, status.started, status.ended});
}

bool record_attempt(const Sweep& sweep, const RunSpec& run, RunStatus& status, bool may_retry) {
    const bool retry = may_retry && retry_left(sweep, status);
    if (retry) queue_retry(sweep, status);
    save_metrics_copy(sweep, run);
    // What the attempt wrote in git-model's own folders under a umask of 002 (its checkpoints) is the
    // user's alone from now on, before a retry or a resume loads it (the run's own umask is the
    // user's to choose for everything else it writes).
    for (const auto& dir : {run_checkpoints(sweep, run.number), sweep.logs_dir}) {
        try {
            if (is_below(dir, sweep.common_dir / "git-model") && fs::is_directory(fs::symlink_status(dir)))
                model::make_own_folder_below(sweep.common_dir, dir);
        } catch (const Error&) {
            // a folder gone or not the user's: said when the next attempt starts
        }
    }
    save_run(sweep, run.number, status);
    log_line(sweep, run.number, fmt::format("run {} {}{}", run.number, retry ? "will be retried" : to_string(status.state),
                                            status.note.empty() ? "" : ": " + status.note));
    return retry;
}

bool retry_left(const Sweep& sweep, const RunStatus& status) {
    return status.state == RunState::failed && status.tries <= sweep.retries;
}

void queue_retry(const Sweep& sweep, RunStatus& status) {
    status.state = RunState::queued;
    status.note = fmt::format("attempt {} failed ({}); retry {} of {}", status.attempt, status.note, status.tries,
                              sweep.retries);
}

namespace {

// Why a persist folder below the model's worktree (a relative persist path in .modelenv.yaml) is
// not written: that worktree is now a folder or link of a user who is neither the caller nor the
// repository's owner (in a shared worktree root one may be put where the model's was, and its
// links would lead the runs' logs and checkpoints elsewhere). A missing worktree is remade as ours.
std::optional<std::string> foreign_persist(const Sweep& sweep, const fs::path& dir) {
    if (sweep.model_worktree.empty() || !is_below(dir, sweep.model_worktree)) return std::nullopt;
    struct stat st {};
    if (::lstat(sweep.model_worktree.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
    const auto problem = model::untrusted_folder_problem(sweep.common_dir, sweep.model_worktree);
    if (!problem) return std::nullopt;
    return fmt::format("{} lies in the model's worktree {}, which {}: not written", dir.string(),
                       sweep.model_worktree.string(), *problem);
}

}  // namespace

void log_line(const Sweep& sweep, int number, const std::string& line) {
    if (foreign_persist(sweep, sweep.logs_dir)) return;
    // 0644 whatever the umask (002 with a shared group would let it forge the run's history); never through a link.
    const int fd = ::open(run_log(sweep, number).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_uid == ::geteuid() && (info.st_mode & 022)) ::fchmod(fd, info.st_mode & 0755);
    const std::string text = fmt::format("== {} {}\n", timestamp(), line);
    [[maybe_unused]] const auto written = ::write(fd, text.data(), text.size());
    ::close(fd);
}

void save_metrics_copy(const Sweep& sweep, const RunSpec& run) {
    const fs::path metrics = run.worktree / metrics_file_name;
    std::error_code ec;
    if (!fs::is_regular_file(metrics, ec) || !run_worktree_ours(sweep, run)) return;
    fs::copy_file(metrics, saved_metrics(sweep, run.number), fs::copy_options::overwrite_existing, ec);
}

void ensure_run_folders(const Sweep& sweep, const RunSpec& run) {
    // Where the run's command runs, as this user: its own worktree only, never a folder another
    // user put in its place since (a shared worktree root; on Slurm, while the job waited).
    if (!run_worktree_ours(sweep, run)) throw foreign_run_worktree(run);
    const fs::path checkpoints = run_checkpoints(sweep, run.number);
    // Below the common dir no link is followed (a container may have made one); a folder the
    // user named elsewhere may be a link of the user's, in a place no other user controls.
    for (const auto& dir : {checkpoints, sweep.logs_dir}) {
        if (auto problem = foreign_persist(sweep, dir))
            throw Error(*problem, "look at that folder; if it is not the model's, move it away (the run makes a new one)");
        make_sweep_folder(sweep, dir);
    }
}

void make_sweep_folder(const Sweep& sweep, const fs::path& dir) {
    if (is_below(dir, sweep.common_dir)) {
        model::make_own_folder_below(sweep.common_dir, dir);  // the user's alone, whatever the umask
        return;
    }
    model::make_persist_folder(dir, sweep.common_dir);
}

void log_launch(const Sweep& sweep, const RunSpec& run, int attempt, const std::vector<env::GpuSlot>& gpus) {
    const std::string visible = env::visible_devices(gpus);
    log_line(sweep, run.number,
             fmt::format("run {} of sweep {} (attempt {}): {} on GPU {}", run.number, sweep.id, attempt,
                         describe(run.params), visible.empty() ? "none" : visible));
}

Launch prepare_launch(const Sweep& sweep, const RunSpec& run, const std::vector<env::GpuSlot>& gpus, bool pass_devices,
                      const std::optional<env::Engine>& engine, const fs::path& main_worktree) {
    Launch launch;
    ensure_run_folders(sweep, run);
    const fs::path checkpoints = run_checkpoints(sweep, run.number);
    const std::string visible = env::visible_devices(gpus);
    const std::vector<std::string> command = substitute(sweep.command, run.params);
    launch.options.output = run_log(sweep, run.number);

    if (!sweep.container) {
        launch.argv = command;
        launch.options.cwd = run.worktree;
        for (auto& [name, value] : run_variables(sweep, run, visible, sweep.logs_dir.string(), checkpoints.string(),
                                                 (run.worktree / params_file_name).string()))
            launch.options.env.emplace_back(name, value);
        return launch;
    }

    const auto file = run_environment(run);
    if (!file)
        throw Error(fmt::format("the run's worktree {} has no {}", run.worktree.string(), config::modelenv_file_name),
                    "restore it, or resume the sweep on the host with --no-container");
    if (!engine) throw UnavailableError("no container engine for the sweep's runs");
    // The same container as `git model env up` would start for the run's model, in the foreground.
    env::ContainerRequest request;
    request.engine = engine->kind;
    request.name = run_container_name(sweep, run, main_worktree);
    request.hostname = run.model;
    request.worktree = run.worktree;
    request.common_dir = sweep.common_dir;  // the worktree's .git points here
    request.model = run.model;
    request.branch = run.branch;
    request.checkpoints = checkpoints;
    request.logs = sweep.logs_dir;
    request.gpus = gpus;
    request.pass_gpu_devices = pass_devices;
    request.command = command;
    request.detach = false;
    for (auto& [name, value] : run_variables(sweep, run, visible, "/persist/logs", "/persist/checkpoints",
                                             file->workdir + "/" + params_file_name))
        if (name != "CUDA_VISIBLE_DEVICES" && name != "NVIDIA_VISIBLE_DEVICES") request.variables.emplace_back(name, value);
    request.extra_labels = {{env::label::sweep, fmt::format("{}/{}", sweep.id, run.number)}};
    request.env_file = sweep_dir(sweep.common_dir, sweep.id) / "runs" / fmt::format("{}.env", run.number);
    // The same user as `git model env up` gives the model (user: in .modelenv.yaml).
    const env::Caller caller = env::current_caller();
    std::optional<env::ImageAccounts> accounts;
    if (env::accounts_needed(file->user, engine->mode, engine->kind, caller)) {
        if (const auto image = env::inspect_image(*engine, file->image.to_string()))
            accounts = env::image_accounts(*engine, image->id, sweep.common_dir / "git-model" / "env" / ".images", nullptr);
    }
    request.user = env::plan_user(file->user, engine->mode, engine->kind, caller, accounts);
    request.accounts_dir = sweep_dir(sweep.common_dir, sweep.id) / "runs" / fmt::format("{}.accounts", run.number);
    request.home = env::state_dir(sweep.common_dir, run.model) / "home";
    request.placeholders = env::placeholders_for(run.model, run.branch);
    for (const auto& dir : {request.accounts_dir, request.home}) make_folder_below(sweep.common_dir, dir, 0700);
    const env::ContainerPlan plan = env::plan_container(*file, request);
    write_file_atomically(request.env_file, plan.env_file_content, 0600);
    for (const auto& [path, content] : plan.account_files) write_file_atomically(path, content, 0644);  // no secret; read by any uid
    env::create_home_mount_points(plan);
    const env::LaunchSpec& spec = plan.spec;
    launch.container = spec.container_name;
    launch.argv = env::engine_run_argv(*engine, spec);
    launch.create_argv = env::engine_create_argv(*engine, spec);
    launch.start_argv = env::engine_start_attached_argv(*engine, spec.container_name);
    launch.image = spec.image;
    return launch;
}

}  // namespace gm::sweep
