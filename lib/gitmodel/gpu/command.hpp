#pragma once
// The git-model-bench command: command line in, report out, exit code back. main() only picks the
// backend and calls run_bench_command, so the whole command (parsing, output, the time-limit
// handler) is unit-tested with a fake backend.

#include "gitmodel/gpu/backend.hpp"
#include "gitmodel/gpu/result_cache.hpp"
#include "gitmodel/gpu/results.hpp"
#include "gitmodel/gpu/thresholds.hpp"

#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace gm::gpu {

// The parsed command line.
struct CommandLine {
    bool help = false;                      // -h/--help: print the short usage
    bool version = false;                   // --version
    Mode mode = Mode::full;                 // --quick selects Mode::quick
    bool json = false;                      // --json: the documented JSON instead of the table
    std::vector<int> devices;               // --device N (repeatable, or "0,2"); empty: all GPUs
    std::vector<std::string> skip_uuids;    // --skip-gpu GPU-<uuid> (repeatable, or a list): left alone
    Thresholds thresholds;                  // the --min-* flags (override .modelenv.yaml)
    std::optional<std::chrono::milliseconds> step_timeout;  // --timeout-ms
    std::optional<std::string> results_cache;  // --results-cache FILE: each GPU's result kept by UUID (result_cache.hpp)
    bool no_results_cache = false;             // --no-results-cache: keep no results at all
};

// Parses the arguments after the program name; throws gm::UsageError (exit 2) on misuse, with a
// "did you mean" for a mistyped option.
CommandLine parse_command_line(const std::vector<std::string>& args);

// The short usage text of -h.
std::string usage_text();

// The --version line: the suite's version and the GPU code the binary carries.
std::string version_text(const Backend& backend);

// Where the command writes, and how it ends the process at once when a step hangs.
struct CommandIo {
    std::ostream& out;                     // the table or JSON
    std::ostream& err;                     // error and hint lines
    std::function<void(int code)> exit_now;  // after a hang: flush and _exit (tests record instead)
};

// The streams of the process and an exit_now that flushes them and calls _exit, because a
// thread stuck in a CUDA call can be neither cancelled nor joined.
CommandIo standard_io();

// Runs `git model bench`: parses args, merges file_thresholds (from .modelenv.yaml's bench:
// section; flags win), runs the bench with a watchdog, prints the table or JSON, and returns
// the exit code: 0 pass, 1 fail, 3 no usable GPU or cannot judge (usage errors throw
// gm::UsageError). Each tested GPU's result goes into --results-cache FILE, else (home given) into
// the user's file of the lease book's bench-results/ folder, else into home.own_file; none with
// --no-results-cache. Failing to write is a warning, never a change of the verdict.
int run_bench_command(const std::vector<std::string>& args, Backend& backend, const Thresholds& file_thresholds,
                      const CommandIo& io, const ResultsHome& home = {});

}  // namespace gm::gpu
