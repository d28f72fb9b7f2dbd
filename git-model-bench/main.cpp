// git-model-bench: `git model bench`. All logic lives in gitmodel/gpu (host side and the driver-API
// backend); kernels/ holds the GPU code this executable embeds. This only wires them together.

#include "make_backend.hpp"

#include "gitmodel/cli/command.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/env/bench_results.hpp"
#include "gitmodel/git/repository.hpp"
#include "gitmodel/gpu/command.hpp"
#include "gitmodel/gpu/early_answer.hpp"
#include "gitmodel/gpu/file_thresholds.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const int code = gm::run_reporting_errors("git-model-bench", [&] {
        gm::cli::offer_manual(args, "git-model-bench", "git-model-bench");  // --help: man git-model-bench
        // The work goes on in a child; this process ends as soon as the child answers (its report
        // written), not after the driver's teardown (lib/gitmodel/gpu/early_answer.hpp).
        gm::gpu::split_answer_from_teardown();
        // The model's thresholds (.modelenv.yaml, bench:), which flags override.
        gm::gpu::Thresholds from_file;
        if (const auto file = gm::gpu::find_modelenv(std::filesystem::current_path()))
            from_file = gm::gpu::thresholds_from(gm::config::load_modelenv_file(*file).bench);
        // Results go to the lease book's bench-results/ folder (else the user's cache) by default.
        gm::git::Library library;
        const auto home = gm::env::bench_results_home();
        // Never destroyed: its GPU contexts go with the process (see std::_Exit below), which
        // is 60-100 ms faster on an H200 than destroying them first.
        auto* backend = gm::gpu::make_backend().release();
        return gm::gpu::run_bench_command(args, *backend, from_file, gm::gpu::standard_io(), home);
    });
    // Answer first (the parent ends with the code), then leave without exit-time teardown (the
    // driver library's own included): on a healthy GPU it only costs time (the kernel driver frees
    // everything when the process ends), on a hung one it could block.
    gm::gpu::answer(code);
    std::_Exit(code);
}
