#pragma once
// Metrics as users write them (`--metric val/acc=0.913`): names, numbers and
// their rules, kept pure so that the tag command, the snapshot parser and the
// tests share one definition.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm::snapshots {

// The longest metric name accepted; longer ones make unreadable tables.
inline constexpr std::size_t max_metric_name_length = 100;

// One measured value of a snapshot.
struct Metric {
    std::string name;   // e.g. "val/acc"
    std::string text;   // the number as written (a leading '+' dropped), so nothing is lost to rounding
    double value = 0;   // the same, parsed; always finite
};

// Why a metric name is not acceptable; nullopt when it is. Names begin with a
// letter and use letters, digits, '_', '.', '-', '@' and '/' (no empty '/'-separated part).
std::optional<std::string> metric_name_problem(std::string_view name);

// The same for a name the user types now (tag --metric): also refuses a '/'-separated part that
// does not begin and end with a letter or digit ("a.", "val/.loss", "a/../b"), a typo every time
// and an odd column in every table after. Names already recorded are read with the rule above.
std::optional<std::string> new_metric_name_problem(std::string_view name);

// Which end of a metric's values is best.
enum class RankOrder {
    highest_first,  // accuracy, f1, bleu, throughput: larger is better
    lowest_first,   // losses and errors: smaller is better
};

// The order a metric's name implies, as W&B and Optuna users expect without a flag: lowest first
// when a word of the name (split at punctuation and camelCase) contains "loss", "error" or
// "perplexity" or is err, ppl, wer, cer, mse, mae or rmse ("val/loss", "top1_err", "valPerplexity");
// highest first for everything else ("val/acc", "answer_f1").
RankOrder default_rank_order(std::string_view metric);

// The order to rank by: an explicit choice (--minimize/--min, --maximize/--max) wins over the name.
struct RankChoice {
    RankOrder order = RankOrder::highest_first;  // the order used
    bool from_name = true;                       // inferred from the metric's name, not chosen
};

// Resolves the order for `metric` from the options given (at most one may be true; the caller's
// option parser says so).
RankChoice choose_rank_order(std::string_view metric, bool minimize, bool maximize);

// "lower is better, from the metric's name; --maximize to override" and the like, for reports;
// the flags are the command's own spellings (--minimize/--maximize, --min/--max).
std::string describe_rank_choice(const RankChoice& choice, std::string_view minimize_flag, std::string_view maximize_flag);

// Parses a metric value: a decimal number with optional sign, fraction and
// exponent ("0.913", "-1", "1e-3"). Throws gm::UsageError for anything else,
// NaN and infinities included, naming the metric.
Metric parse_metric_value(std::string_view name, std::string_view text);

// Parses one `name=value` argument; throws gm::UsageError saying what is wrong.
Metric parse_metric_argument(std::string_view argument);

// Parses every --metric argument and refuses duplicates (also names differing
// only in case, which read as the same metric in a table). Order is kept.
std::vector<Metric> parse_metric_arguments(const std::vector<std::string>& arguments);

// The metric of this name, if present.
const Metric* find_metric(const std::vector<Metric>& metrics, std::string_view name);

// The most metrics one snapshot may record: no run reports more, and a tag a teammate pushed
// with hundreds of thousands made every log, best, compare and status take minutes.
inline constexpr std::size_t max_snapshot_metrics = 1000;

// A difference b - a for tables ("+0.013", "-0.09", "0"), short and without float noise.
std::string format_difference(double a, double b);

// The same difference as a number, without the float noise, for JSON; nullopt when it is beyond
// a double's range (a JSON number cannot hold it).
std::optional<double> rounded_difference(double a, double b);

}  // namespace gm::snapshots
