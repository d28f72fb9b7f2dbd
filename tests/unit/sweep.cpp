// A sweep's plan without a repository: grids and params files into parameter sets,
// the {placeholder} rules, params.json, run names, Slurm's array syntax and script,
// the Kubernetes Job's name, and the foreground (--rm) container command line.
#include "gitmodel/config/config_error.hpp"
#include "gitmodel/config/params_file.hpp"

#include <limits>
#include "gitmodel/core/error.hpp"
#include "gitmodel/env/launch.hpp"
#include "gitmodel/sweep/k8s.hpp"
#include "gitmodel/sweep/plan.hpp"
#include "gitmodel/sweep/slurm.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace gm::sweep;
using gm::config::ParameterSet;
using gm::config::parameter_value;

TEST_CASE("sweep: --grid options are parsed and refused with the reason", "[sweep]") {
    const auto axis = parse_grid_option("lr=1e-3,3e-4");
    CHECK(axis.name == "lr");
    CHECK(axis.values == std::vector<std::string>{"1e-3", "3e-4"});
    CHECK_THROWS_WITH(parse_grid_option("lr"), Catch::Contains("expected <name>=<value>"));
    CHECK_THROWS_WITH(parse_grid_option("lr=1,,2"), Catch::Contains("a value is empty"));
    CHECK_THROWS_WITH(parse_grid_option("lr=1,1"), Catch::Contains("listed twice"));
    CHECK_THROWS_WITH(parse_grid_option("1lr=1"), Catch::Contains("must begin with a letter"));
    CHECK_THROWS_WITH(parse_grid_option("l r=1"), Catch::Contains("contains ' '"));
    CHECK_THROWS_AS(parse_grid_option("lr"), gm::UsageError);
}

TEST_CASE("sweep: grids expand to every combination, in order, on top of a file's sets", "[sweep]") {
    const auto sets = expand({}, {parse_grid_option("lr=1,2"), parse_grid_option("batch=32,64")});
    REQUIRE(sets.size() == 4);
    CHECK(describe(sets[0]) == "lr=1 batch=32");
    CHECK(describe(sets[1]) == "lr=1 batch=64");
    CHECK(describe(sets[3]) == "lr=2 batch=64");
    const auto crossed = expand({{{"opt", "sgd"}}, {{"opt", "adam"}}}, {parse_grid_option("lr=1,2")});
    REQUIRE(crossed.size() == 4);
    CHECK(describe(crossed[2]) == "opt=adam lr=1");
    CHECK_THROWS_WITH(expand({}, {}), Catch::Contains("no parameters"));
    CHECK_THROWS_WITH(expand({{{"lr", "1"}}}, {parse_grid_option("lr=2")}), Catch::Contains("both by the params file"));
    // names that become one environment variable would hide each other from the run
    CHECK_THROWS_WITH(expand({}, {parse_grid_option("lr=1,2"), parse_grid_option("LR=3")}),
                      Catch::Contains("'lr' and 'LR' are both passed to the run as GIT_MODEL_PARAM_LR"));
    CHECK_THROWS_AS(expand({}, {parse_grid_option("a.b=1"), parse_grid_option("a_b=2")}), gm::UsageError);
    CHECK_THROWS_AS(expand({{{"a-b", "1"}}}, {parse_grid_option("a.b=2")}), gm::UsageError);
    CHECK_THROWS_AS(expand({{{"x", "1"}}, {{"a-b", "1"}, {"A_B", "2"}}}, {}), gm::UsageError);
    CHECK_THROWS_WITH(expand({}, {parse_grid_option("a=1"), parse_grid_option("a=2")}), Catch::Contains("given twice"));
    std::string many;
    for (int i = 0; i < 40; ++i) many += (i ? "," : "") + std::to_string(i);
    CHECK_THROWS_WITH(expand({}, {parse_grid_option("a=" + many), parse_grid_option("b=" + many)}),
                      Catch::Contains("more than 1000 runs"));
}

TEST_CASE("sweep: params files in both shapes, errors at file:line:col", "[sweep]") {
    const auto list = gm::config::load_params_text("- {lr: 1e-3, batch: 32}\n- {lr: 3e-4, batch: 64}\n", "p.yaml");
    REQUIRE(list.size() == 2);
    CHECK(describe(list[1]) == "lr=3e-4 batch=64");
    const auto grid = gm::config::load_params_text("lr: [1, 2]\nepochs: 10\nopt: [sgd, adam]\n", "p.yaml");
    REQUIRE(grid.size() == 4);
    CHECK(describe(grid[0]) == "lr=1 epochs=10 opt=sgd");
    CHECK(describe(grid[3]) == "lr=2 epochs=10 opt=adam");
    const auto fails_at = [](const char* text, int line, int column, const char* what) {
        try {
            gm::config::load_params_text(text, "p.yaml");
            FAIL("accepted: " << text);
        } catch (const gm::config::ConfigError& e) {
            CHECK(e.line() == line);
            CHECK(e.column() == column);
            CHECK_THAT(e.detail(), Catch::Contains(what));
        }
    };
    fails_at("lr: [1, 2]\nbatch:\n  - [64]\n", 3, 5, "must be a number or text");
    fails_at("- {lr: 1}\n- 3\n", 2, 3, "each run must be a mapping");
    fails_at("lr: 1\nlr: 2\n", 2, 1, "given twice");
    fails_at("lr: []\n", 1, 5, "has no values");
    fails_at("[]\n", 1, 1, "list of runs is empty");
    fails_at("\"bad name\": 1\n", 1, 1, "parameter name 'bad name'");
    fails_at("lr:\n", 1, 1, "empty value");
    // a number no double holds has no JSON form: refused where it is, before any run is made
    fails_at("lr: [1, 1e999]\n", 1, 9, "1e999 is a number no double holds");
    fails_at("- {lr: -1e999}\n", 1, 8, "no double holds");
    fails_at("lr: 1e-400\n", 1, 5, "no double holds");
    // the same run twice is a slip, as with --grid lr=1,1 (to measure noise, a seed tells the runs apart)
    fails_at("lr: [1, 2, 1]\n", 1, 12, "'lr' lists the value 1 twice");
    fails_at("- {lr: 1, b: 2}\n- {lr: 3}\n- {b: 2, lr: 1}\n", 3, 3, "the same parameters as run 1");
    CHECK(gm::config::load_params_text("- {lr: 1, seed: 1}\n- {lr: 1, seed: 2}\n", "p.yaml").size() == 2);
    // the same value spelled twice is the same run: params.json would hold one number
    fails_at("lr: [1e2, 100.0]\n", 1, 11, "(1e2 and 100.0 are the same number)");
    fails_at("- {lr: 0}\n- {lr: -0}\n", 2, 3, "the same parameters as run 1");
    CHECK_THROWS_WITH(parse_grid_option("lr=0,-0"), Catch::Contains("the values '0' and '-0' are the same number"));
    CHECK(parse_grid_option("lr=1,1.0").values.size() == 2);  // an integer and a float are not
    CHECK_THROWS_WITH(parse_grid_option("lr=0.0,-0.0"), Catch::Contains("are the same number"));
    CHECK(parse_grid_option("lr=1e-320").values.size() == 1);  // subnormal: a double holds it
    CHECK_THROWS_WITH(parse_grid_option("lr=1,1e999"), Catch::Contains("1e999 is a number no double holds"));
    CHECK(parse_grid_option("lr=1e308,0,-0.0,1e-300").values.size() == 4);
}

TEST_CASE("sweep: placeholders are replaced per argument, unknown ones are refused", "[sweep]") {
    const ParameterSet params{{"lr", "1e-3"}, {"batch", "32"}};
    CHECK(substitute({"python", "train.py", "--lr={lr}", "--batch", "{batch}"}, params) ==
          std::vector<std::string>{"python", "train.py", "--lr=1e-3", "--batch", "32"});
    CHECK(substitute({"{{lr}}", "{\"a\": 1}", "${HOME}"}, params) ==
          std::vector<std::string>{"{lr}", "{\"a\": 1}", "${HOME}"});
    CHECK_THROWS_WITH(substitute({"--rate={rate}"}, params), Catch::Contains("{rate}, which is not a parameter"));
    CHECK(parameter_variable("val.acc-top1") == "GIT_MODEL_PARAM_VAL_ACC_TOP1");
}

TEST_CASE("sweep: params.json keeps numbers as numbers and order as given", "[sweep]") {
    CHECK(params_json({{"lr", "1e-3"}, {"batch", "32"}, {"opt", "adam"}, {"amp", "true"}, {"v", "1.2.3"}, {"x", "0x10"}}) ==
          "{\n  \"lr\": 0.001,\n  \"batch\": 32,\n  \"opt\": \"adam\",\n  \"amp\": true,\n  \"v\": \"1.2.3\",\n  \"x\": \"0x10\"\n}\n");
    CHECK(parameter_value("-2").get<long long>() == -2);
    CHECK(parameter_value("1e").is_string());
    CHECK(parameter_value("01").is_string());
    // integers up to 64 bits exactly; beyond, text (a double would round it)
    CHECK(parameter_value("18446744073709551615").get<unsigned long long>() == 18446744073709551615ULL);
    CHECK(parameter_value("-9223372036854775808").get<long long>() == std::numeric_limits<long long>::min());
    CHECK(parameter_value("12345678901234567891234").get<std::string>() == "12345678901234567891234");
    CHECK(params_json({{"seed", "12345678901234567891"}}) == "{\n  \"seed\": 12345678901234567891\n}\n");
}

TEST_CASE("sweep: run names are model names, and too long ones are refused", "[sweep]") {
    CHECK(run_model_name("resnet50", "12", 3) == "resnet50.sweep-12-3");
    CHECK_THROWS_WITH(run_model_name(std::string(60, 'a'), "1", 1), Catch::Contains("is not usable"));
}

TEST_CASE("sweep: Slurm's array ranges, values and the batch script", "[sweep]") {
    CHECK(array_ranges({4, 1, 2, 3}) == "1-4");
    CHECK(array_ranges({1, 3, 5, 6, 7, 3}) == "1,3,5-7");
    CHECK(slurm_value_problem("gpu-a100").empty());
    CHECK(slurm_value_problem("2:00:00").empty());
    CHECK_FALSE(slurm_value_problem("a b").empty());
    CHECK_FALSE(slurm_value_problem("x;rm").empty());
    Sweep sweep;
    sweep.id = "7";
    sweep.model = "resnet50";
    sweep.common_dir = "/srv/repo/.git";
    sweep.gpus_per_run = 2;
    sweep.max_parallel = 3;
    sweep.slurm.partition = "gpu";
    sweep.slurm.account = "team-ml";
    sweep.runs.resize(5);
    const std::string script = batch_script(sweep, {1, 2, 3, 5}, "/opt/it's/git-model");
    CHECK_THAT(script, Catch::StartsWith("#!/bin/sh\n"));
    CHECK_THAT(script, Catch::Contains("#SBATCH --array=1-3,5%3\n"));
    CHECK_THAT(script, Catch::Contains("#SBATCH --gres=gpu:2\n"));
    CHECK_THAT(script, Catch::Contains("#SBATCH --partition=gpu\n"));
    CHECK_THAT(script, Catch::Contains("#SBATCH --account=team-ml\n"));
    CHECK_THAT(script, !Catch::Contains("--time"));
    CHECK_THAT(script, Catch::Contains("#SBATCH --output=\"/srv/repo/.git/git-model/sweeps/7/slurm/%A_%a.out\"\n"));
    CHECK_THAT(script, Catch::EndsWith("exec '/opt/it'\\''s/git-model' sweep task '/srv/repo/.git/git-model/sweeps/7' "
                                       "\"$SLURM_ARRAY_TASK_ID\"\n"));
}

TEST_CASE("sweep: arrays larger than MaxArraySize are split, task ids offset to stay below it", "[sweep]") {
    std::vector<int> all;
    for (int n = 1; n <= 1500; ++n) all.push_back(n);
    const auto parts = array_parts(all, 1001);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].offset == 0);
    CHECK(parts[0].numbers.front() == 1);
    CHECK(parts[0].numbers.back() == 1000);  // task ids 1-1000, below 1001
    CHECK(parts[1].offset == 1000);
    CHECK(parts[1].numbers.size() == 500);   // tasks 1-500 run runs 1001-1500
    CHECK(array_parts(all, 0).size() == 2);   // unknown: Slurm's default, 1001
    CHECK(array_parts({1, 2, 3}, 1001).size() == 1);
    // A resume of scattered runs: each part spans fewer than MaxArraySize numbers.
    const auto scattered = array_parts({2, 5, 9, 10, 11}, 5);
    REQUIRE(scattered.size() == 2);
    CHECK(scattered[0].numbers == std::vector<int>{2, 5});  // task ids 1 and 4
    CHECK(scattered[0].offset == 1);
    CHECK(scattered[1].numbers == std::vector<int>{9, 10, 11});
    CHECK(scattered[1].offset == 8);
    Sweep sweep;
    sweep.id = "7";
    sweep.model = "m";
    sweep.common_dir = "/srv/repo/.git";
    sweep.max_parallel = 2;
    sweep.runs.resize(1500);
    const std::string script = batch_script(sweep, parts[1].numbers, "/usr/bin/git-model", parts[1].offset);
    CHECK_THAT(script, Catch::Contains("#SBATCH --array=1-500%2\n"));
    CHECK_THAT(script, Catch::EndsWith("sweep task '/srv/repo/.git/git-model/sweeps/7' \"$((SLURM_ARRAY_TASK_ID + 1000))\"\n"));
}

TEST_CASE("sweep: the Kubernetes Job's name is a DNS label", "[sweep]") {
    Sweep sweep;
    sweep.id = "12";
    sweep.model = "res_net.v2";
    CHECK(job_name(sweep) == "gm-res-net-v2-sweep-12");
    sweep.model = std::string(70, 'a');
    CHECK(job_name(sweep).size() <= 63);
}

TEST_CASE("sweep: a run's container runs in the foreground and is removed after", "[sweep]") {
    gm::env::LaunchSpec spec;
    spec.container_name = "gm-repo-net.sweep-1-2-abcd";
    spec.image = "localhost/img:1";
    spec.detach = false;
    spec.command = {"python", "train.py"};
    const auto argv = gm::env::run_argv("podman", spec);
    CHECK(argv[1] == "run");
    CHECK(argv[2] == "--rm");
    CHECK(std::find(argv.begin(), argv.end(), "--detach") == argv.end());
    CHECK(argv.back() == "train.py");
}
