// git model env up [<model>] [--wait[=<duration>]] [--bind-all] [--check] [--recreate] [--quiet]
#include "../command_table.hpp"

#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/progress.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/env/environment.hpp"
#include "gitmodel/env/image.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/snapshots/environment.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::env_commands {

int up(const cli::Args& args) {
    const std::string usage =
        "git model env up [<model>] [--wait[=<duration>]] [--bind-all] [--check] [--recreate] [--quiet]";
    po::options_description options("options");
    options.add_options()
        ("wait", po::value<std::string>()->implicit_value("")->value_name("<duration>"),
         "wait for a free GPU (at most <duration>, e.g. 30m) instead of failing")
        ("bind-all", "publish the ports on every interface, not only 127.0.0.1 (prints a warning)")
        ("check", "then prove container -> driver -> GPU with git-model-bench --quick (and PyTorch, if present)")
        ("recreate", "replace a running container with one from .modelenv.yaml as it is now (persist folders stay)")
        ("quiet,q", "no pull progress from the engine (shown only on a terminal anyway)");
    const auto parsed = cli::parse_command(args, usage, options, "model");
    if (!parsed) return 0;
    const auto& vm = *parsed;
    env::UpOptions up_options;
    if (vm.count("wait")) {
        up_options.wait_for_gpu = true;
        const std::string limit = vm["wait"].as<std::string>();
        if (!limit.empty()) {
            auto seconds = parse_duration_seconds(limit);
            if (!seconds) throw UsageError(fmt::format("--wait={} is not a duration", limit), "e.g. --wait=30m");
            up_options.wait_limit = std::chrono::seconds(*seconds);
        }
    }
    up_options.bind_all_interfaces = vm.count("bind-all") > 0;
    up_options.check = vm.count("check") > 0;
    up_options.recreate = vm.count("recreate") > 0;
    up_options.show_pull = progress_wanted(vm.count("quiet") > 0);

    git::Library library;
    auto repo = git::Repository::discover();
    const auto target = env::resolve_target(repo, cli::positional(vm, "model"));
    up_options.image_ran_by_snapshots = [&](const std::string& reference) {
        return snapshots::image_ran_by_snapshots(repo, target.model, reference);
    };
    const auto result = env::up(repo, target, up_options);
    for (const auto& note : result.notes) fmt::print(stderr, "git-model-env: {}\n", note);
    if (result.already_running) {
        fmt::print("Environment of '{}' is already running ({}); nothing changed.\n", target.model, target.container);
        for (const auto& e : result.endpoints) fmt::print("  {:<12} {}\n", e.name, e.url);
        if (!result.drift.empty()) {
            fmt::print(stderr, "git-model-env: warning: .modelenv.yaml changed since the container started: {}\n",
                       join(result.drift, "; "));
            fmt::print(stderr, "git-model-env: the running container still has the old settings; "
                               "`git model env up --recreate` replaces it (persist folders stay)\n");
        }
        return 0;
    }
    fmt::print("Environment of '{}' is {}: container {}\n", target.model, result.replaced ? "recreated" : "up",
               target.container);
    fmt::print("  image        {}{}\n", result.image,
               result.image_id.empty() ? "" : " (" + env::short_image_id(result.image_id) + ")");
    fmt::print("  user         {}\n", result.user);
    std::vector<std::string> gpus;
    for (const auto& gpu : result.gpus) gpus.push_back(gpu.uuid ? fmt::format("{} ({})", gpu.index, *gpu.uuid) : std::to_string(gpu.index));
    fmt::print("  gpus         {}{}\n", gpus.empty() ? "none" : join(gpus, ", "),
               !gpus.empty() && !result.gpu_devices_passed ? " (no NVIDIA driver here: CUDA_VISIBLE_DEVICES only)" : "");
    fmt::print("  worktree     {}\n", target.worktree.string());
    for (const auto& e : result.endpoints) {
        if (e.name == "jupyter" && result.jupyter_url_with_token) {
            fmt::print("  {:<12} {}\n", e.name, *result.jupyter_url_with_token);
            fmt::print("  {:<12} (the token is shown only now; it is kept in {}, mode 0600)\n", "", result.token_file.string());
        } else {
            fmt::print("  {:<12} {}\n", e.name, e.url);
        }
    }
    for (const auto& line : result.check_lines) fmt::print("  check        {}\n", line);
    return 0;
}

}  // namespace gm::env_commands
