// The pure rules of `sweep promote`: which --carry paths are refused, which run is taken
// (and why one is not), and the commit subject.
#include "gitmodel/core/error.hpp"
#include "gitmodel/sweep/promote.hpp"
#include "gitmodel/sweep/report.hpp"
#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace gm::sweep;
using gm::test::ScratchDir;

namespace {

gm::sweep::RunResult result(int number, RunState state, std::optional<double> loss) {
    gm::sweep::RunResult r;
    r.run.spec.number = number;
    r.run.spec.params = {{"lr", "0.0" + std::to_string(number)}};
    r.run.state = state;
    if (loss) r.metrics.push_back({"val/loss", std::to_string(*loss).substr(0, 4), *loss});
    return r;
}

// A report as build_report leaves it: ranked best first (lowest val/loss), runs without the metric last.
Report report_of(std::vector<gm::sweep::RunResult> ranked, std::string metric = "val/loss") {
    Report report;
    report.view.sweep.id = "3";
    report.view.sweep.runs.resize(ranked.size());
    report.metric = std::move(metric);
    report.minimize = true;
    report.results = std::move(ranked);
    return report;
}

}  // namespace

TEST_CASE("sweep promote: --carry paths stay inside the run's worktree", "[sweep][promote]") {
    CHECK_FALSE(carry_path_problem("out/notes.txt"));
    CHECK_FALSE(carry_path_problem("summary.json"));
    CHECK_FALSE(carry_path_problem("a..b/c"));  // dots inside a name are a name
    CHECK(carry_path_problem("/etc/passwd")->find("absolute") != std::string::npos);
    CHECK(carry_path_problem("../x")->find("'..'") != std::string::npos);
    CHECK(carry_path_problem("out/../../x")->find("'..'") != std::string::npos);
    CHECK(carry_path_problem("out/..")->find("'..'") != std::string::npos);
    CHECK(carry_path_problem(".git/config")->find(".git") != std::string::npos);
    CHECK(carry_path_problem("sub/.git/hooks/pre-commit")->find(".git") != std::string::npos);
    CHECK(carry_path_problem("params.json")->find("always promoted") != std::string::npos);
    CHECK(carry_path_problem(""));
    CHECK(carry_path_problem("out//x"));
    CHECK(carry_path_problem("./x"));
    CHECK(carry_path_problem("out/"));
    CHECK(carry_path_problem("a\nb"));
}

TEST_CASE("sweep promote: check_carry_paths refuses with a usage error", "[sweep][promote]") {
    CHECK_THROWS_AS(check_carry_paths({"../x"}, "/nonexistent"), gm::UsageError);
    CHECK_THROWS_WITH(check_carry_paths({"a", "a"}, "/nonexistent"), Catch::Contains("given twice"));
    CHECK_NOTHROW(check_carry_paths({"a/b", "c"}, "/nonexistent"));
}

TEST_CASE("sweep promote: the best done run is taken, and a run that is not done is refused", "[sweep][promote]") {
    // Run 4 ranks first but failed; run 2 is the best that finished.
    const auto ranked = report_of({result(4, RunState::failed, 0.1), result(2, RunState::done, 0.21),
                                   result(1, RunState::done, 0.3), result(3, RunState::running, std::nullopt)});
    CHECK(choose_promoted_run(ranked, std::nullopt).run.spec.number == 2);
    CHECK(choose_promoted_run(ranked, 1).run.spec.number == 1);
    CHECK_THROWS_WITH(choose_promoted_run(ranked, 4), Catch::Contains("run 4 of sweep 3 is failed") &&
                                                          Catch::Contains("only a run that finished (done) is promoted"));
    CHECK_THROWS_WITH(choose_promoted_run(ranked, 3), Catch::Contains("run 3 of sweep 3 is running"));
    CHECK_THROWS_WITH(choose_promoted_run(ranked, 7), Catch::Contains("sweep 3 has no run 7"));
    // Only the failed run wrote the metric: it is named, not skipped silently.
    const auto only_failed = report_of({result(1, RunState::failed, 0.1), result(2, RunState::done, std::nullopt)});
    CHECK_THROWS_WITH(choose_promoted_run(only_failed, std::nullopt), Catch::Contains("run 1 of sweep 3 is failed"));
    // No metrics at all: no best, but --run still works.
    const auto none = report_of({result(1, RunState::done, std::nullopt)}, "");
    CHECK_THROWS_WITH(choose_promoted_run(none, std::nullopt), Catch::Contains("none is best"));
    CHECK(choose_promoted_run(none, 1).run.spec.number == 1);
    // A run whose metrics file cannot be read is not snapshotted as if it had recorded none.
    auto unreadable = result(5, RunState::done, std::nullopt);
    unreadable.problem = "metrics.json gives the metric 'a/b' twice";
    CHECK_THROWS_WITH(choose_promoted_run(report_of({unreadable}, ""), 5),
                      Catch::Contains("run 5 of sweep 3 finished, but its metrics cannot be read: metrics.json gives") &&
                          Catch::Contains("nothing was promoted"));
}

TEST_CASE("sweep report: a metric named twice in metrics.json (nested and flat) is refused, naming it", "[sweep][promote]") {
    ScratchDir scratch;
    const auto file = scratch.path / "metrics.json";
    std::ofstream(file) << R"({"a": {"b": 0.5}, "a/b": 0.7, "acc": 0.9})";
    CHECK_THROWS_WITH(read_metrics_file(file), Catch::Contains("gives the metric 'a/b' twice"));
    std::ofstream(file) << R"({"a": {"b": 0.5}, "a/c": 0.7, "acc": 0.9})";
    CHECK(read_metrics_file(file).size() == 3);
}

TEST_CASE("sweep promote: the commit subject names the sweep, the run, the metric and the parameters", "[sweep][promote]") {
    const std::vector<gm::snapshots::Metric> metrics{{"acc", "0.9", 0.9}, {"val/loss", "0.21", 0.21}};
    CHECK(promote_subject("3", 4, metrics, "val/loss", {{"lr", "0.01"}, {"batch", "32"}}) ==
          "Promote sweep 3 run 4 (val/loss=0.21, lr=0.01 batch=32)");
    CHECK(promote_subject("3", 4, metrics, "", {{"lr", "0.01"}}) == "Promote sweep 3 run 4 (lr=0.01)");
    CHECK(promote_subject("3", 4, {}, "val/loss", {}) == "Promote sweep 3 run 4");
    gm::config::ParameterSet many;
    for (int i = 0; i < 30; ++i) many.push_back({"param" + std::to_string(i), "value"});
    const std::string cut = promote_subject("3", 4, metrics, "val/loss", many);
    CHECK(cut.size() <= 100);
    CHECK(cut.find("Promote sweep 3 run 4 (val/loss=0.21, param0=value") == 0);
    CHECK(cut.substr(cut.size() - 4) == "...)");
}
