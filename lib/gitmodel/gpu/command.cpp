#include "gitmodel/config/values.hpp"
#include "gitmodel/gpu/command.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/gpu/bench.hpp"
#include "gitmodel/gpu/early_answer.hpp"
#include "gitmodel/gpu/json.hpp"
#include "gitmodel/gpu/result_cache.hpp"
#include "gitmodel/gpu/text_report.hpp"
#include "gitmodel/gpu/watchdog.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#ifndef GM_VERSION
#define GM_VERSION "unknown"
#endif

namespace gm::gpu {

namespace {

constexpr const char* program = "git-model-bench";

// Options that take a value, and those that do not: the table "did you mean" searches.
const std::vector<std::string> valued_options = {
    "--device", "--min-bandwidth-fraction", "--min-quick-bandwidth-fraction", "--min-fp32-fraction",
    "--min-compute-capability", "--min-free-memory", "--timeout-ms", "--results-cache", "--skip-gpu"};
const std::vector<std::string> flag_options = {"--quick", "--full", "--json", "--no-results-cache", "--help", "--version"};

// Parses a non-negative decimal integer that must fill the text.
std::optional<long long> parse_integer(std::string_view text) {
    long long value = 0;
    if (text.empty()) return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

// The usage error for a bad option value.
UsageError bad_value(const std::string& option, const std::string& value, const std::string& expected) {
    return UsageError(fmt::format("invalid value {} for {}: expected {}", quote_for_message(value), option, expected),
                      "see `git model bench -h`");
}

// Applies one option with its value to the command line.
void apply_valued(CommandLine& line, const std::string& option, const std::string& value) {
    if (option == "--device") {
        for (const auto& part : split_fields(value, ',')) {
            const auto index = parse_integer(part);
            if (!index || *index > 1024) throw bad_value(option, value, "a GPU index such as 0, or a list such as 0,2");
            line.devices.push_back(static_cast<int>(*index));
        }
    } else if (option == "--skip-gpu") {
        for (const auto& part : split_fields(value, ',')) {
            if (!is_formatted_uuid(part))
                throw bad_value(option, value, "a GPU's UUID as nvidia-smi -L prints it (GPU-...), or a list of them");
            std::string uuid = part;  // nvidia-smi's spelling: lower-case hex, as format_uuid writes it
            std::transform(uuid.begin(), uuid.end(), uuid.begin(), [](unsigned char c) { return std::tolower(c); });
            uuid.replace(0, 4, "GPU-");
            line.skip_uuids.push_back(uuid);
        }
    } else if (option == "--min-bandwidth-fraction" || option == "--min-quick-bandwidth-fraction" ||
               option == "--min-fp32-fraction") {
        const auto fraction = parse_fraction(value);
        if (!fraction) throw bad_value(option, value, "a fraction between 0 and 1 (0.85) or a percentage (85%)");
        if (option == "--min-bandwidth-fraction") line.thresholds.min_bandwidth_fraction = fraction;
        else if (option == "--min-quick-bandwidth-fraction") line.thresholds.min_quick_bandwidth_fraction = fraction;
        else line.thresholds.min_fp32_fraction = fraction;
    } else if (option == "--min-compute-capability") {
        const auto capability = parse_compute_capability(value);
        if (!capability) throw bad_value(option, value, "a compute capability such as 8.0");
        line.thresholds.min_compute_capability = capability;
    } else if (option == "--min-free-memory") {
        const auto size = config::parse_byte_size(value);
        if (!size) throw bad_value(option, value, "a size such as 8g, 512m or 8GiB");
        line.thresholds.min_free_memory = size;
    } else if (option == "--timeout-ms") {
        const auto ms = parse_integer(value);
        if (!ms || *ms < 1 || *ms > 3600000)
            throw bad_value(option, value, "milliseconds between 1 and 3600000");
        line.step_timeout = std::chrono::milliseconds(*ms);
    } else if (option == "--results-cache") {
        if (value.empty()) throw bad_value(option, value, "a file name");
        line.results_cache = value;
    }
}

// Whether a list contains an item.
bool contains(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// Keeps each tested GPU's result: in --results-cache FILE, else at home (the user's file of the
// lease book's bench-results/ folder, else the user's own cache file). A failure is a warning.
void keep_results(const CommandLine& line, const ResultsHome& home, const BenchReport& report, const CommandIo& io) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto results = cached_results(report, now);
    if (results.empty()) return;
    try {
        if (line.results_cache) update_result_cache(*line.results_cache, results);
        else keep_results_at_home(home, results);
    } catch (const std::exception& e) {
        io.err << fmt::format("{}: warning: could not update the results cache{}: {}\n", program,
                              line.results_cache ? " " + quote_for_message(*line.results_cache) : "", e.what());
    }
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
    CommandLine line;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "-h" || arg == "--help") {
            line.help = true;
            continue;
        }
        if (arg == "--version") line.version = true;
        else if (arg == "--quick") line.mode = Mode::quick;
        else if (arg == "--full") line.mode = Mode::full;
        else if (arg == "--json") line.json = true;
        else if (arg == "--no-results-cache") line.no_results_cache = true;
        else if (starts_with(arg, "--")) {
            const auto equals = arg.find('=');
            const std::string option = arg.substr(0, equals);
            if (!contains(valued_options, option)) {
                std::vector<std::string> all = valued_options;
                all.insert(all.end(), flag_options.begin(), flag_options.end());
                const auto suggestion = closest_match(option, all);
                throw UsageError(fmt::format("unknown option {}", quote_for_message(option)),
                                 suggestion ? fmt::format("did you mean {}? see `git model bench -h`", *suggestion)
                                            : "see `git model bench -h`");
            }
            if (equals != std::string::npos) {
                apply_valued(line, option, arg.substr(equals + 1));
            } else {
                if (i + 1 >= args.size()) throw UsageError(fmt::format("{} needs a value", option), "see `git model bench -h`");
                apply_valued(line, option, args[++i]);
            }
        } else {
            throw UsageError(fmt::format("unexpected argument {}", quote_for_message(arg)), "see `git model bench -h`");
        }
    }
    if (line.results_cache && line.no_results_cache)
        throw UsageError("--results-cache and --no-results-cache contradict each other", "give one of them");
    return line;
}

std::string usage_text() {
    return "usage: git model bench [--quick] [--json] [--device <n>]... [--skip-gpu <uuid>]... [<thresholds>]\n"
           "                       [--timeout-ms <ms>] [--results-cache <file> | --no-results-cache]\n"
           "\n"
           "Checks that each GPU runs kernels correctly and fast enough: memory bandwidth (triad, copy),\n"
           "FP32 FMA throughput, pinned host<->device copies; every result is verified on the host.\n"
           "\n"
           "    --quick                    prove correctness and a sane bandwidth in the least time\n"
           "    --json                     print every figure as JSON (shape in git-model-bench(1))\n"
           "    --device <n>               test GPU n only (repeatable, or a list: 0,2); default: all\n"
           "    --skip-gpu <uuid>          leave that GPU alone, no context on it (repeatable, or a list):\n"
           "                               the pre-push check skips GPUs other users hold\n"
           "    --min-bandwidth-fraction <f>        triad bandwidth / peak, full mode (default 0.6)\n"
           "    --min-quick-bandwidth-fraction <f>  triad bandwidth / peak with --quick (default 0.1)\n"
           "    --min-fp32-fraction <f>    FP32 FMA throughput / peak, full mode (default 0.5)\n"
           "    --min-compute-capability <x.y>      oldest acceptable GPU architecture\n"
           "    --min-free-memory <size>   free GPU memory required, e.g. 8g\n"
           "    --timeout-ms <ms>          time limit of each step (default 10000)\n"
           "    --results-cache <file>     keep each GPU's result in <file>, by UUID (default: your own file in\n"
           "                               the lease book's bench-results/ folder, shared with teammates, else\n"
           "                               $XDG_CACHE_HOME/git-model/bench-results.json)\n"
           "    --no-results-cache         keep no results\n"
           "    -h, --help                 this text; `git help model-bench` for the manual\n"
           "    --version                  version and GPU code in this binary\n"
           "\n"
           "Thresholds default to .modelenv.yaml's bench: section; flags override it.\n"
           "Exit status: 0 pass, 1 a check failed or a step hung, 2 usage error, 3 no usable GPU or\n"
           "a GPU it cannot judge (driver too old, busy, prohibited, ECC reset pending, MIG slice).\n";
}

std::string version_text(const Backend& backend) {
    if (!backend.has_cuda()) return fmt::format("git-model-bench {} (built without GPU kernels)\n", GM_VERSION);
    return fmt::format("git-model-bench {} (kernels built with CUDA {}, code for {}; driver API from libcuda.so.1)\n",
                       GM_VERSION, format_cuda_version(backend.kernels_cuda_version()), describe_targets(backend.targets()));
}

CommandIo standard_io() {
    return CommandIo{std::cout, std::cerr, [](int code) {
                         answer(code);  // flushes; a waiting parent ends with the code now
                         ::_exit(code);
                     }};
}

int run_bench_command(const std::vector<std::string>& args, Backend& backend, const Thresholds& file_thresholds,
                      const CommandIo& io, const ResultsHome& home) {
    const CommandLine line = parse_command_line(args);
    if (line.help) {
        io.out << usage_text();
        return 0;
    }
    if (line.version) {
        io.out << version_text(backend);
        return 0;
    }
    BenchOptions options;
    options.mode = line.mode;
    options.devices = line.devices;
    options.skip_uuids = line.skip_uuids;
    options.thresholds = resolve(merge(file_thresholds, line.thresholds));
    if (line.step_timeout) options.step_timeout = *line.step_timeout;

    // Prints a report the same way whether the run ended or hung.
    const auto print = [&](const BenchReport& report) {
        if (line.json) io.out << render_json(report);
        else if (!report.devices.empty()) io.out << render_text(report);
        if (report.error && (report.verdict == Verdict::no_gpu || report.verdict == Verdict::cannot_judge ||
                             report.error->kind == FailureKind::timeout))
            io.err << render_error(program, *report.error);
        io.out.flush();
        io.err.flush();
    };

    Progress progress;
    Watchdog watchdog([&](const Step& step, std::chrono::milliseconds limit) {
        BenchReport report = progress.snapshot();
        mark_timed_out(report, step.name, step.device, static_cast<int>(limit.count()));
        print(report);
        io.exit_now(report.exit_code);
    });
    const BenchReport report = run_bench(backend, options, watchdog, progress);
    print(report);
    if (!line.no_results_cache) keep_results(line, home, report, io);
    return report.exit_code;
}

}  // namespace gm::gpu
