// Metric names and values as users write them on the command line.
#include "gitmodel/core/error.hpp"
#include "gitmodel/snapshots/metric_json.hpp"
#include "gitmodel/snapshots/metrics.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gm::snapshots;

TEST_CASE("metric names: what is accepted", "[snapshots]") {
    for (const char* name : {"acc", "val/acc", "train/loss", "top5@1", "F1", "mAP", "lr_final", "bleu-4", "a.b",
                             "val/top-1/acc", "x1"}) {
        INFO(name);
        CHECK_FALSE(metric_name_problem(name));
    }
}

TEST_CASE("metric names: what is refused, and why", "[snapshots]") {
    CHECK(*metric_name_problem("") == "is empty");
    CHECK_THAT(*metric_name_problem("1acc"), Catch::Contains("begin with a letter"));
    CHECK_THAT(*metric_name_problem("/acc"), Catch::Contains("begin with a letter"));
    CHECK_THAT(*metric_name_problem("val acc"), Catch::Contains("contains"));
    CHECK_THAT(*metric_name_problem("acc=1"), Catch::Contains("contains"));
    CHECK_THAT(*metric_name_problem("acc:1"), Catch::Contains("contains"));
    CHECK_THAT(*metric_name_problem("val//acc"), Catch::Contains("empty part"));
    CHECK_THAT(*metric_name_problem("val/"), Catch::Contains("empty part"));
    CHECK_THAT(*metric_name_problem("caf\xc3\xa9"), Catch::Contains("contains"));
    CHECK_THAT(*metric_name_problem(std::string(max_metric_name_length + 1, 'a')), Catch::Contains("longer"));
    CHECK_FALSE(metric_name_problem(std::string(max_metric_name_length, 'a')));
}

TEST_CASE("metric names typed now: every part begins and ends with a letter or digit", "[snapshots]") {
    for (const char* name : {"acc", "val/acc", "top5@1", "a.b", "val/top-1/acc", "val/1st", "bleu-4"}) {
        INFO(name);
        CHECK_FALSE(new_metric_name_problem(name));
    }
    for (const char* name : {"a.", "acc_", "val/.loss", "a/../b", "val/-x", "a/./b"}) {
        INFO(name);
        REQUIRE(new_metric_name_problem(name));
        CHECK_THAT(*new_metric_name_problem(name), Catch::Contains("begin and end with a letter or digit"));
        CHECK_FALSE(metric_name_problem(name));  // recorded ones stay readable
    }
    CHECK_THAT(*new_metric_name_problem("a/../b"), Catch::Contains("'..'"));
    CHECK_THAT(*new_metric_name_problem("val//acc"), Catch::Contains("empty part"));
    CHECK_THROWS_WITH(parse_metric_argument("a.=1"), Catch::Contains("invalid metric name 'a.'"));
}

TEST_CASE("metric values: decimal numbers, kept as written", "[snapshots]") {
    const auto m = parse_metric_argument("acc=0.913");
    CHECK(m.name == "acc");
    CHECK(m.text == "0.913");
    CHECK(m.value == Approx(0.913));
    CHECK(parse_metric_argument("loss=1e-3").value == Approx(0.001));
    CHECK(parse_metric_argument("loss=1E+2").value == Approx(100));
    CHECK(parse_metric_argument("delta=-1.5").value == Approx(-1.5));
    CHECK(parse_metric_argument("delta=+2").text == "2");
    CHECK(parse_metric_argument("x=.5").value == Approx(0.5));
    CHECK(parse_metric_argument("x=5.").value == Approx(5));
    CHECK(parse_metric_argument("x=-0").value == 0.0);
    CHECK_FALSE(std::signbit(parse_metric_argument("x=-0").value));
    // the name ends at the first '=': a value cannot contain one, so this is refused as a value
    CHECK_THROWS_AS(parse_metric_argument("a=b=1"), gm::UsageError);
}

TEST_CASE("metric values: NaN, infinities and non-numbers are refused", "[snapshots]") {
    for (const char* text : {"nan", "NaN", "-nan", "inf", "-Inf", "infinity", "+INFINITY"}) {
        INFO(text);
        CHECK_THROWS_WITH(parse_metric_value("acc", text), Catch::Contains("not a measurement"));
    }
    for (const char* text : {"", "abc", "0x10", "1,5", " 1", "1 ", "1e", "e5", ".", "-", "+", "1.2.3", "1e5.5", "12%",
                             "0.9\n"}) {
        INFO(text);
        CHECK_THROWS_AS(parse_metric_value("acc", text), gm::UsageError);
    }
    CHECK_THROWS_WITH(parse_metric_value("acc", "1e999"), Catch::Contains("out of range"));
    CHECK_THROWS_WITH(parse_metric_value("acc", "abc"), Catch::Contains("metric 'acc'"));
}

TEST_CASE("metric arguments: shape errors name the problem", "[snapshots]") {
    CHECK_THROWS_WITH(parse_metric_argument("acc"), Catch::Contains("expected <name>=<value>"));
    CHECK_THROWS_WITH(parse_metric_argument("acc="), Catch::Contains("has no value"));
    CHECK_THROWS_WITH(parse_metric_argument("=1"), Catch::Contains("is empty"));
    CHECK_THROWS_WITH(parse_metric_argument("1x=1"), Catch::Contains("invalid metric name"));
}

TEST_CASE("metric arguments: duplicates are refused, order is kept", "[snapshots]") {
    const auto metrics = parse_metric_arguments({"loss=0.21", "acc=0.913", "val/acc=0.9"});
    REQUIRE(metrics.size() == 3);
    CHECK(metrics[0].name == "loss");
    CHECK(metrics[2].name == "val/acc");
    CHECK(find_metric(metrics, "acc")->text == "0.913");
    CHECK(find_metric(metrics, "nope") == nullptr);
    CHECK_THROWS_WITH(parse_metric_arguments({"acc=1", "acc=2"}), Catch::Contains("given twice"));
    CHECK_THROWS_WITH(parse_metric_arguments({"acc=1", "acc=1"}), Catch::Contains("given twice"));
    CHECK_THROWS_WITH(parse_metric_arguments({"mAP=1", "map=2"}), Catch::Contains("differ only in case"));
    CHECK_THROWS_AS(parse_metric_arguments({"acc=1", "loss=nan"}), gm::UsageError);
    CHECK(parse_metric_arguments({}).empty());
}

TEST_CASE("differences are short and free of float noise", "[snapshots]") {
    CHECK(format_difference(0.9, 0.913) == "+0.013");
    CHECK(format_difference(0.3, 0.21) == "-0.09");
    CHECK(format_difference(1, 1) == "0");
    CHECK(format_difference(0.1 + 0.2, 0.3) == "0");
    CHECK(format_difference(1, 1e6) == "+999999");
    CHECK(rounded_difference(0.9, 0.913) == 0.013);
    CHECK(rounded_difference(0.3, 0.21) == -0.09);
    CHECK(rounded_difference(0.1 + 0.2, 0.3) == 0);
    CHECK(format_difference(1e-9, 3e-9) == "+2e-09");
    CHECK(format_difference(-2.5, 2.5) == "+5");
    CHECK(format_difference(0, 0.5) == "+0.5");
}

TEST_CASE("metrics in JSON: as written, an integer stays an integer", "[snapshots]") {
    const auto m = [](const char* argument) { return parse_metric_argument(argument); };
    CHECK(metric_json(m("tokens=11800")).dump() == "11800");
    CHECK(metric_json(m("delta=-3")).dump() == "-3");
    CHECK(metric_json(m("delta=+7")).dump() == "7");
    CHECK(metric_json(m("zero=-0")).dump() == "0");
    CHECK(metric_json(m("acc=0.913")).dump() == "0.913");
    CHECK(metric_json(m("acc=2.0")).dump() == "2.0");      // written as a fraction: a float
    CHECK(metric_json(m("lr=1e-3")).dump() == "0.001");
    CHECK_FALSE(written_integer(m("big=1e3")));
    CHECK(metric_json(m("huge=123456789012345678901234")).is_number_float());  // beyond 64 bits
    CHECK(difference_json(m("t=11800"), m("t=12000")).dump() == "200");
    CHECK(difference_json(m("t=12000"), m("t=11800")).dump() == "-200");
    CHECK(difference_json(m("t=0.9"), m("t=0.913")).dump() == "0.013");
    CHECK(difference_json(m("t=1"), m("t=1.5")).dump() == "0.5");
    CHECK(difference_json(m("t=-9223372036854775807"), m("t=9223372036854775807")).is_number_float());
}

TEST_CASE("losses and errors rank lowest first by their name; everything else highest first", "[snapshots]") {
    using gm::snapshots::RankOrder;
    using gm::snapshots::default_rank_order;
    for (const char* name : {"loss", "val/loss", "train_loss", "valLoss", "nll-loss", "logloss", "val/error",
                             "error_rate", "top1_err", "val/ppl", "perplexity", "valPerplexity", "wer", "test/cer",
                             "mse", "val_mae", "rmse", "errors", "eval/Loss"}) {
        INFO(name);
        CHECK(default_rank_order(name) == RankOrder::lowest_first);
    }
    for (const char* name : {"acc", "val/acc", "accuracy", "f1", "answer_f1", "bleu", "mercer", "samples_per_s",
                             "maestro", "throughput", "auc", "lr"}) {
        INFO(name);
        CHECK(default_rank_order(name) == RankOrder::highest_first);
    }
}

TEST_CASE("an explicit order wins over the name, and the report says which was used", "[snapshots]") {
    using namespace gm::snapshots;
    CHECK(choose_rank_order("val/loss", false, false).order == RankOrder::lowest_first);
    CHECK(choose_rank_order("val/loss", false, false).from_name);
    CHECK(choose_rank_order("val/loss", false, true).order == RankOrder::highest_first);
    CHECK_FALSE(choose_rank_order("val/loss", false, true).from_name);
    CHECK(choose_rank_order("acc", true, false).order == RankOrder::lowest_first);
    CHECK(describe_rank_choice(choose_rank_order("val/loss", false, false), "--minimize", "--maximize") ==
          "lower is better, from the metric's name; --maximize to override");
    CHECK(describe_rank_choice(choose_rank_order("acc", false, false), "--min", "--max") ==
          "higher is better, from the metric's name; --min to override");
    CHECK(describe_rank_choice(choose_rank_order("acc", true, false), "--min", "--max") == "lower is better");
}

TEST_CASE("metric arguments: a snapshot records max_snapshot_metrics at most", "[snapshots]") {
    std::vector<std::string> arguments;
    for (std::size_t i = 0; i < max_snapshot_metrics; ++i) arguments.push_back("m" + std::to_string(i) + "=1");
    CHECK(parse_metric_arguments(arguments).size() == max_snapshot_metrics);
    arguments.push_back("one/more=1");
    CHECK_THROWS_WITH(parse_metric_arguments(arguments), Catch::Contains("1001 metrics given; a snapshot records 1000 at most"));
}
