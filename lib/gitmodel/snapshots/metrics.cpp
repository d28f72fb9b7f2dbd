#include "gitmodel/snapshots/metrics.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gm::snapshots {

namespace {

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '@' || c == '/';
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Whether text is [+-]?(digits[.digits?] | .digits)([eE][+-]?digits)?, nothing else.
bool is_decimal_number(std::string_view text) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        return i - start;
    };
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t mantissa = digits();
    if (i < text.size() && text[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    return i == text.size();
}

// Locale-independent (strtod follows the C locale's decimal point); nullopt when out of range.
std::optional<double> to_double(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::string> metric_name_problem(std::string_view name) {
    if (name.empty()) return std::string("is empty");
    if (name.size() > max_metric_name_length)
        return fmt::format("is longer than {} characters", max_metric_name_length);
    if (!std::isalpha(static_cast<unsigned char>(name.front()))) return std::string("does not begin with a letter");
    for (char c : name) {
        if (!is_name_char(c)) {
            return fmt::format("contains {}; names use letters, digits, '_', '.', '-', '@' and '/'",
                               quote_for_message(std::string_view(&c, 1)));
        }
    }
    if (name.back() == '/' || name.find("//") != std::string_view::npos)
        return std::string("has an empty part between '/'");
    return std::nullopt;
}

std::optional<std::string> new_metric_name_problem(std::string_view name) {
    if (auto problem = metric_name_problem(name)) return problem;
    const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    std::size_t begin = 0;
    while (begin <= name.size()) {
        const std::size_t end = std::min(name.find('/', begin), name.size());
        const std::string_view part = name.substr(begin, end - begin);
        if (!alnum(part.front()) || !alnum(part.back())) {
            return fmt::format("has a part, {}, that does not begin and end with a letter or digit",
                               quote_for_message(part));
        }
        begin = end + 1;
    }
    return std::nullopt;
}

Metric parse_metric_value(std::string_view name, std::string_view text) {
    const std::string lowered = lower(text);
    const std::string_view unsigned_part =
        !lowered.empty() && (lowered[0] == '+' || lowered[0] == '-') ? std::string_view(lowered).substr(1)
                                                                     : std::string_view(lowered);
    if (unsigned_part == "nan" || unsigned_part == "inf" || unsigned_part == "infinity") {
        throw UsageError(fmt::format("metric '{}': {} is not a measurement", name, quote_for_message(text)),
                         "NaN and infinite values are refused; record a number, or leave the metric out");
    }
    if (!is_decimal_number(text)) {
        throw UsageError(fmt::format("metric '{}': {} is not a number", name, quote_for_message(text)),
                         "write a decimal number such as 0.913, -1.5 or 1e-3");
    }
    const auto value = to_double(text);
    if (!value || !std::isfinite(*value)) {
        throw UsageError(fmt::format("metric '{}': {} is out of range", name, quote_for_message(text)),
                         "values must fit a double-precision number");
    }
    Metric metric;
    metric.name = std::string(name);
    metric.text = std::string(text.front() == '+' ? text.substr(1) : text);
    metric.value = *value == 0 ? 0.0 : *value;  // no "-0" in JSON
    return metric;
}

Metric parse_metric_argument(std::string_view argument) {
    const auto equals = argument.find('=');
    if (equals == std::string_view::npos) {
        throw UsageError(fmt::format("--metric {}: expected <name>=<value>", quote_for_message(argument)),
                         "for example --metric acc=0.913 --metric val/loss=0.21");
    }
    const std::string_view name = argument.substr(0, equals);
    const std::string_view value = argument.substr(equals + 1);
    if (auto problem = new_metric_name_problem(name)) {
        throw UsageError(fmt::format("invalid metric name {}: it {}", quote_for_message(name), *problem),
                         "metric names look like acc, val/loss or top5@1");
    }
    if (value.empty()) {
        throw UsageError(fmt::format("metric '{}' has no value", name), "for example --metric acc=0.913");
    }
    return parse_metric_value(name, value);
}

std::vector<Metric> parse_metric_arguments(const std::vector<std::string>& arguments) {
    if (arguments.size() > max_snapshot_metrics)
        throw UsageError(fmt::format("{} metrics given; a snapshot records {} at most", arguments.size(),
                                     max_snapshot_metrics),
                         "record the main ones; keep the rest in a file of the commit");
    std::vector<Metric> metrics;
    std::unordered_map<std::string, std::size_t> by_lower_name;  // -> index in metrics
    for (const auto& argument : arguments) {
        Metric metric = parse_metric_argument(argument);
        const auto [found, inserted] = by_lower_name.emplace(lower(metric.name), metrics.size());
        if (!inserted) {
            const Metric& seen = metrics[found->second];
            if (seen.name == metric.name)
                throw UsageError(fmt::format("metric '{}' is given twice ({} and {})", metric.name, seen.text,
                                             metric.text),
                                 "give each metric once");
            throw UsageError(fmt::format("metrics '{}' and '{}' differ only in case", seen.name, metric.name),
                             "use one spelling for one metric");
        }
        metrics.push_back(std::move(metric));
    }
    return metrics;
}

const Metric* find_metric(const std::vector<Metric>& metrics, std::string_view name) {
    for (const auto& metric : metrics)
        if (metric.name == name) return &metric;
    return nullptr;
}

namespace {

// b - a rounded to 12 significant digits of the larger operand: what the inputs
// can tell apart, so that binary noise (0.913 - 0.9 = 0.013000000000000012,
// 0.3 - (0.1 + 0.2) = -5.6e-17) does not show. In long double: the difference of two
// large doubles of opposite sign (-1.7e308 and 1.7e308) is beyond a double's range.
long double clean_difference(double a, double b) {
    const long double difference = static_cast<long double>(b) - static_cast<long double>(a);
    const long double scale = std::max(std::fabs(static_cast<long double>(a)), std::fabs(static_cast<long double>(b)));
    if (difference == 0 || scale == 0) return 0.0L;
    const long double quantum = std::pow(10.0L, std::floor(std::log10(scale)) - 11);
    const long double rounded = std::round(difference / quantum) * quantum;
    const std::string text = fmt::format("{:.12g}", rounded);
    const long double value = std::strtold(text.c_str(), nullptr);
    return value == 0 ? 0.0L : value;
}

}  // namespace

std::string format_difference(double a, double b) {
    const long double difference = clean_difference(a, b);
    if (difference == 0) return "0";
    const std::string text = fmt::format("{:.12g}", difference);
    return difference > 0 ? "+" + text : text;
}

std::optional<double> rounded_difference(double a, double b) {
    const long double difference = clean_difference(a, b);
    if (std::fabs(difference) > static_cast<long double>(std::numeric_limits<double>::max())) return std::nullopt;
    return static_cast<double>(difference);
}

namespace {

// The words of a metric name, lower-cased: split at anything but a letter or digit, and where a
// lower-case letter meets an upper-case one ("valLoss" -> val, loss).
std::vector<std::string> name_words(std::string_view name) {
    std::vector<std::string> words;
    std::string word;
    char previous = 0;
    for (const char c : name) {
        const bool alnum = std::isalnum(static_cast<unsigned char>(c)) != 0;
        const bool boundary = !alnum || (std::isupper(static_cast<unsigned char>(c)) && std::islower(static_cast<unsigned char>(previous)));
        if (boundary && !word.empty()) words.push_back(std::exchange(word, {}));
        if (alnum) word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        previous = c;
    }
    if (!word.empty()) words.push_back(word);
    return words;
}

}  // namespace

RankOrder default_rank_order(std::string_view metric) {
    static const char* const contained[] = {"loss", "error", "perplexity"};
    static const char* const whole[] = {"err", "errs", "ppl", "wer", "cer", "mse", "mae", "rmse"};
    for (const auto& word : name_words(metric)) {
        for (const char* part : contained)
            if (word.find(part) != std::string::npos) return RankOrder::lowest_first;
        for (const char* exact : whole)
            if (word == exact) return RankOrder::lowest_first;
    }
    return RankOrder::highest_first;
}

RankChoice choose_rank_order(std::string_view metric, bool minimize, bool maximize) {
    if (minimize) return RankChoice{RankOrder::lowest_first, false};
    if (maximize) return RankChoice{RankOrder::highest_first, false};
    return RankChoice{default_rank_order(metric), true};
}

std::string describe_rank_choice(const RankChoice& choice, std::string_view minimize_flag, std::string_view maximize_flag) {
    const char* better = choice.order == RankOrder::lowest_first ? "lower is better" : "higher is better";
    if (!choice.from_name) return better;
    return fmt::format("{}, from the metric's name; {} to override", better,
                       choice.order == RankOrder::lowest_first ? maximize_flag : minimize_flag);
}

}  // namespace gm::snapshots
