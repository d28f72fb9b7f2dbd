// git model gpus [--json] | init [--dir <dir>] [--group <group>] [--max-gpus-per-user <n>] [--max-lease-hours <h>]
// | release <gpu>: the machine's GPUs and their leases.
#include "../command_table.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/json_text.hpp"
#include "gitmodel/env/gpus.hpp"
#include "gitmodel/git/machine_config.hpp"
#include "gitmodel/git/repository.hpp"

#include <fmt/core.h>

namespace po = boost::program_options;

namespace gm::commands {

namespace {

const char* const gpus_usage =
    "git model gpus [--json] [--dir <dir>]\n"
    "   or: git model gpus init [--dir <dir>] [--group <group>] [--max-gpus-per-user <n>] [--max-lease-hours <h>]\n"
    "   or: git model gpus release <gpu> [--dir <dir>]";

// The settings gpus needs, from the repository it runs in, or from git's files outside any.
struct GpusSettings {
    std::optional<std::string> gpus, lease_dir;
    std::optional<env::Engine> engine;
    std::chrono::milliseconds lock_timeout{std::chrono::seconds(30)};
};

GpusSettings read_settings() {
    GpusSettings settings;
    std::optional<git::Repository> repo;
    try {
        repo = git::Repository::discover();
    } catch (const Error&) {
        // run anywhere: an admin outside any repository
    }
    if (repo) {
        const git::Config config = repo->config();
        settings.gpus = config.get_string("model.gpus");
        settings.lease_dir = config.get_string("model.leaseDir");
        settings.lock_timeout = env::lease_lock_timeout(config);
        try {
            settings.engine = env::select_engine(config, std::nullopt);
        } catch (const UnavailableError&) {
        }
        return settings;
    }
    const auto values = git::config_outside_repository("model.");
    const auto get = [&](const char* key) -> std::optional<std::string> {
        const auto it = values.find(key);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    settings.gpus = get("model.gpus");
    settings.lease_dir = get("model.leasedir");
    try {
        settings.engine = env::select_engine(get("model.engine"), std::nullopt);
    } catch (const UnavailableError&) {
    }
    return settings;
}

}  // namespace

int gpus(const cli::Args& args) {
    po::options_description options("options");
    options.add_options()
        ("json", "print a JSON document (shape in git-model(1))")
        ("dir", po::value<std::string>()->value_name("<dir>"),
         "the lease book's folder (default: GIT_MODEL_LEASE_DIR, model.leaseDir, /var/lib/git-model/gpu-leases)")
        ("group", po::value<std::string>()->value_name("<group>"), "init: only this group's members may take GPUs")
        ("max-gpus-per-user", po::value<int>()->value_name("<n>"),
         "init: at most <n> GPUs per user from this book (0: no limit of the book's own)")
        ("max-lease-hours", po::value<int>()->value_name("<h>"),
         "init: leases older than <h> hours show as overdue (0: no limit of the book's own)")
        ("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("action", po::value<std::string>())("gpu", po::value<std::string>());
    po::positional_options_description positions;
    positions.add("action", 1).add("gpu", 1);
    const auto vm = cli::parse(args, gpus_usage, options, positions, hidden);
    if (vm.count("help")) {
        cli::print_usage(gpus_usage, options);
        return 0;
    }
    const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "list";
    if (action != "list" && action != "init" && action != "release")
        throw UsageError(fmt::format("unknown gpus action '{}'", action), fmt::format("usage: {}", gpus_usage));
    for (const char* option : {"group", "max-gpus-per-user", "max-lease-hours"})
        if (vm.count(option) && action != "init")
            throw UsageError(fmt::format("--{} goes with init", option), fmt::format("usage: {}", gpus_usage));
    env::BookLimits book_limits;
    for (const auto& [option, into] : {std::pair{"max-gpus-per-user", &book_limits.max_gpus_per_user},
                                       std::pair{"max-lease-hours", &book_limits.max_lease_hours}}) {
        if (!vm.count(option)) continue;
        const int value = vm[option].as<int>();
        if (value < 0 || value > 100000)
            throw UsageError(fmt::format("--{} {}: expected a whole number from 0 (no limit) to 100000", option, value));
        *into = value;
    }
    if (vm.count("json") && action != "list") throw UsageError("--json goes with the listing", fmt::format("usage: {}", gpus_usage));
    if (vm.count("gpu") && action != "release") throw UsageError("too many arguments", fmt::format("usage: {}", gpus_usage));

    git::Library library;
    const GpusSettings settings = read_settings();
    const std::filesystem::path dir = vm.count("dir") ? std::filesystem::path(vm["dir"].as<std::string>())
                                                      : env::LeaseBook::directory(settings.lease_dir);
    if (action == "init") {
        const auto group = vm.count("group") ? std::optional<std::string>(vm["group"].as<std::string>()) : std::nullopt;
        const auto book = env::LeaseBook::init(dir, group, book_limits);
        fmt::print("{}", env::describe_book(book->facts(), book->limits()));
        return 0;
    }
    const env::Pool pool = env::discover_pool(settings.gpus);
    if (action == "release") {
        if (!vm.count("gpu"))
            throw UsageError("git model gpus release needs the GPU (its index or UUID)", "`git model gpus` lists them");
        for (const auto& line : env::release_gpu(dir, pool, vm["gpu"].as<std::string>(), settings.lock_timeout))
            fmt::print("{}\n", line);
        return 0;
    }
    const env::Limits limits = env::machine_limits();
    const auto report = env::gpus_report(pool, dir, limits, settings.engine ? &*settings.engine : nullptr);
    if (vm.count("json")) {
        fmt::print("{}\n", json_text(env::to_json(report)));
        return 0;
    }
    fmt::print("{}", env::render_gpus(report));
    return 0;
}

}  // namespace gm::commands
