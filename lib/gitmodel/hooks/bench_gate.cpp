#include "gitmodel/hooks/bench_gate.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace gm::hooks {

namespace fs = std::filesystem;

namespace {

constexpr const char* driver_version_file = "/proc/driver/nvidia/version";

// The driver's release ("580.95.05") from its proc file, the same source git-model-bench uses.
std::string driver_release() {
    const std::string text = read_text(driver_version_file);
    const auto at = text.find("Kernel Module");
    if (at == std::string::npos) return {};
    std::istringstream words(text.substr(at + 13));
    std::string version;
    words >> version;
    return version;
}

std::int64_t duration_key(const git::ConfigView& config, const char* key, std::int64_t fallback) {
    auto text = config.get_string(key);
    if (!text) return fallback;
    auto seconds = parse_duration_seconds(*text);
    if (!seconds) throw Error(fmt::format("{} '{}' is not a duration", key, *text), "use e.g. 30s, 10m, 6h or 1d");
    return *seconds;
}

fs::path cache_file(const fs::path& common_dir) { return common_dir / "git-model" / "bench-pass.json"; }

nlohmann::json read_cache(const fs::path& path) {
    std::ifstream in(path);
    nlohmann::json cache = nlohmann::json::parse(in, nullptr, false);
    if (cache.is_discarded() || !cache.is_object() || !cache.contains("passes") || !cache["passes"].is_object())
        cache = {{"passes", nlohmann::json::object()}};
    return cache;
}

bool cached_pass(const fs::path& path, const std::set<std::string>& uuids, const std::string& driver,
                 std::int64_t max_age) {
    if (uuids.empty() || driver.empty()) return false;
    const nlohmann::json cache = read_cache(path);
    for (const auto& uuid : uuids) {
        const auto& passes = cache["passes"];
        if (!passes.contains(uuid)) return false;
        const auto& pass = passes[uuid];
        if (pass.value("driver", "") != driver || pass.value("suite", "") != GM_VERSION ||
            now_seconds() - pass.value("time", std::int64_t{0}) > max_age)
            return false;
    }
    return true;
}

void remember_pass(const fs::path& path, const nlohmann::json& report) {
    nlohmann::json cache = read_cache(path);
    const std::string driver = report.value("driver_version", nlohmann::json()).is_string()
                                   ? report["driver_version"].get<std::string>()
                                   : driver_release();
    if (!report.contains("devices") || !report["devices"].is_array()) return;
    for (const auto& device : report["devices"]) {
        if (!device.contains("uuid") || !device["uuid"].is_string() || device.value("verdict", "") != "pass") continue;
        cache["passes"][device["uuid"].get<std::string>()] = {{"driver", driver}, {"suite", GM_VERSION}, {"time", now_seconds()}};
    }
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    try {
        write_file_atomically(path, cache.dump(2) + "\n", FileMode{0666, true, false});  // as std::ofstream made it
    } catch (const Error&) {
        // a cache: the next bench run asks again
    }
}

fs::path find_bench() {
    const fs::path beside = proc::current_executable().parent_path() / "git-model-bench";
    if (::access(beside.c_str(), X_OK) == 0) return beside;
    if (auto found = proc::find_program("git-model-bench")) return *found;
    return {};
}

}  // namespace

BenchGateResult run_bench_gate(const git::ConfigView& config, const fs::path& common_dir,
                               const std::function<std::vector<std::string>()>& others_gpus) {
    const std::string when = config.get_string("model.bench.beforePush").value_or("auto");
    BenchWhen policy;
    if (when == "always") policy = BenchWhen::always;
    else if (when == "auto") policy = BenchWhen::automatic;
    else if (when == "never") policy = BenchWhen::never;
    else throw Error(fmt::format("model.bench.beforePush '{}' is not always, auto or never", when),
                     "git config model.bench.beforePush auto");
    const std::string unknown = config.get_string("model.benchGate.onUnknown").value_or("allow");
    OnUnknown on_unknown;
    if (unknown == "allow") on_unknown = OnUnknown::allow;
    else if (unknown == "refuse") on_unknown = OnUnknown::refuse;
    else throw Error(fmt::format("model.benchGate.onUnknown '{}' is not allow or refuse", unknown),
                     "set allow or refuse " + git::team_setting_fix("model.benchGate.onUnknown", "allow", false));
    BenchGateResult result;
    const bool driver_present = fs::exists(driver_version_file);
    if (policy == BenchWhen::never || (policy == BenchWhen::automatic && !driver_present)) return result;

    const std::int64_t max_age = duration_key(config, "model.bench.cacheTime", 6 * 3600);
    const std::int64_t timeout = duration_key(config, "model.bench.timeout", 20);
    const fs::path cache = cache_file(common_dir);
    std::vector<std::string> theirs;
    try {
        if (others_gpus) theirs = others_gpus();
    } catch (const Error& e) {
        // Which GPUs others hold is unknown: none is touched, and the check cannot judge.
        result.unknown = true;
        result.passed = on_unknown == OnUnknown::allow;
        const std::string what = fmt::format("the GPU check could not tell which GPUs other users hold ({}), so it "
                                             "touched none", e.what());
        result.message = result.passed ? what + "; pushing anyway (model.benchGate.onUnknown = allow)"
                                       : what + "; model.benchGate.onUnknown = refuse";
        return result;
    }
    std::set<std::string> ours = driver_gpu_uuids();  // a remembered pass is needed for every GPU nobody else holds
    for (const auto& uuid : theirs) ours.erase(uuid);
    if (cached_pass(cache, ours, driver_release(), max_age)) {
        result.from_cache = true;
        result.message = "GPU check passed (remembered)";
        return result;
    }
    const fs::path bench = find_bench();
    if (bench.empty()) {
        result.passed = false;
        result.message = "model.bench.beforePush requires a GPU check, but git-model-bench is not installed";
        return result;
    }
    proc::RunOptions options;
    options.timeout = std::chrono::seconds(timeout);
    std::vector<std::string> argv{bench.string(), "--quick", "--json"};
    for (const auto& uuid : theirs) argv.insert(argv.end(), {"--skip-gpu", uuid});
    const auto run = proc::run(argv, options);
    BenchRun outcome{run.timed_out, run.exit_code, run.out, run.err, run.describe(), static_cast<int>(timeout)};
    result = judge_bench_run(outcome, policy, on_unknown);
    result.ran = true;
    // Only GPUs that passed are remembered: one that could not be judged is tried again next time.
    if (result.passed) remember_pass(cache, nlohmann::json::parse(run.out, nullptr, false));
    return result;
}

BenchGateResult judge_bench_run(const BenchRun& run, BenchWhen when, OnUnknown on_unknown) {
    BenchGateResult result;
    if (run.timed_out) {
        result.passed = false;
        result.message = fmt::format("the GPU check (git-model-bench --quick) did not finish within {} s: the GPU or "
                                     "its driver may be hung (look at nvidia-smi and dmesg for Xid errors)",
                                     run.timeout_seconds);
        return result;
    }
    const nlohmann::json report = nlohmann::json::parse(run.out, nullptr, false);
    const bool parsed = !report.is_discarded() && report.is_object();
    if (run.exit_code == 0 && parsed) {
        result.message = "GPU check passed";
        return result;
    }
    std::string why, kind;
    if (parsed && report.contains("error") && report["error"].is_object()) {
        why = report["error"].value("message", "");
        kind = report["error"].value("kind", "");
    }
    const std::string verdict = parsed ? report.value("verdict", "") : "";
    // "Cannot judge": the bench says so, or (under auto, where a driver is present) found no GPU
    // it could use for a reason other than a GPU in a bad state. Neither is a broken GPU.
    const bool cannot_judge = run.exit_code == 3 &&
                              (verdict == "cannot-judge" ||
                               (verdict == "no-gpu" && when == BenchWhen::automatic && kind != "device-bad-state"));
    if (cannot_judge) {
        result.unknown = true;
        result.passed = on_unknown == OnUnknown::allow;
        const std::string what = fmt::format("the GPU check could not judge this machine's GPU ({}): {}",
                                             kind.empty() ? verdict : kind, why.empty() ? run.err : why);
        result.message = result.passed ? what + "; pushing anyway (model.benchGate.onUnknown = allow)"
                                        : what + "; model.benchGate.onUnknown = refuse";
        return result;
    }
    result.passed = false;
    if (why.empty() && parsed && report.contains("devices") && report["devices"].is_array()) {
        for (const auto& device : report["devices"])
            for (const auto& check : device.value("checks", nlohmann::json::array()))
                if (!check.value("passed", true))
                    why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", check.value("name", "?"), check.value("detail", ""));
    }
    if (why.empty()) why = run.err.empty() ? run.describe : run.err;
    why = trim_end(why, "\n");
    result.message = fmt::format("the GPU check failed ({}): {}",
                                 run.exit_code == 3 ? "no usable GPU" : "exit " + std::to_string(run.exit_code), why);
    return result;
}

}  // namespace gm::hooks
