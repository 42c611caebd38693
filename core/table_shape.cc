// The mapping of a table's catalog shape onto the scenario's table model (core/table_shape.h).
// Each column's pg_stats row becomes a `gen` of the generator language (core/gen.h): a range
// from the smallest to the largest value seen, `one_of(...)` of the most common values (weights
// by repetition, the language having no weights), `email` / `uuid` when every value seen looks
// like one, or the type's default draw. What the language cannot say is written down per column.
#include "core/table_shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/assert.h"
#include "core/gen.h"
#include "core/value.h"

namespace rehearse {
namespace {

// The most common values become `one_of(...)` when they cover this share of the non-null rows.
constexpr double kOneOfCoverageMin = 0.9;
// one_of's weights are written by repeating a value: to 1/kOneOfSlots of the non-null rows.
constexpr int kOneOfSlots = 100;
// A histogram whose bounds stray further than this share of its width from evenly spaced ones
// is reported as skewed (the range draws uniformly).
constexpr double kSkewShareMax = 0.1;
// ANALYZE samples up to 300 x default_statistics_target (100) rows.
constexpr double kAnalyzeSampleRowsMax = 30000;
// numeric without a declared scale: at most this many fractional digits are drawn.
constexpr int kFreeNumericScaleMax = 6;

bool plain_identifier_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || c == '_' || (!first && ((c >= '0' && c <= '9') || c == '$'));
}

// One part of SCHEMA.TABLE from `text` at *index, up to the dot or the end.
std::optional<std::string> name_part(std::string_view text, std::size_t* index, std::string* why) {
  std::string part;
  std::size_t& i = *index;
  if (i < text.size() && text[i] == '"') {
    for (++i; i < text.size(); ++i) {
      if (text[i] != '"') {
        part += text[i];
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        part += '"';
        ++i;
      } else {
        break;
      }
    }
    if (i >= text.size()) {
      *why = "a quoted name is not closed";
      return std::nullopt;
    }
    ++i;  // the closing quote
    if (part.empty()) *why = "a quoted name is empty";
    return part.empty() ? std::nullopt : std::optional<std::string>(part);
  }
  for (; i < text.size() && text[i] != '.'; ++i) {
    const char c = (text[i] >= 'A' && text[i] <= 'Z') ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (!plain_identifier_char(c, part.empty())) {
      *why = fmt::format("'{}' cannot be in an unquoted name (write it in double quotes)", text[i]);
      return std::nullopt;
    }
    part += c;
  }
  if (part.empty()) *why = "a name is empty";
  return part.empty() ? std::nullopt : std::optional<std::string>(part);
}

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The values pg_stats shows of a column: its most common values and its histogram bounds.
std::vector<std::string> seen_values(const ColumnStats& stats) {
  std::vector<std::string> values = stats.most_common_values;
  values.insert(values.end(), stats.histogram_bounds.begin(), stats.histogram_bounds.end());
  return values;
}

double common_share(const ColumnStats& stats) {
  return std::accumulate(stats.most_common_freqs.begin(), stats.most_common_freqs.end(), 0.0);
}

// Share of the non-null rows that hold one of the most common values.
double coverage(const ColumnStats& stats) {
  const double non_null = 1.0 - stats.null_frac;
  return non_null <= 0 ? 1.0 : std::min(1.0, common_share(stats) / non_null);
}

// Slots per value out of kOneOfSlots in proportion to `freqs`, by largest remainder, reduced by
// their greatest common divisor. A value too rare for a slot gets none (it is left out).
std::vector<int> one_of_slots(const std::vector<double>& freqs) {
  const double total = std::accumulate(freqs.begin(), freqs.end(), 0.0);
  if (freqs.empty() || total <= 0) return {};
  std::vector<int> slots(freqs.size(), 0);
  std::vector<double> remainders(freqs.size());
  int left = kOneOfSlots;
  for (std::size_t i = 0; i < freqs.size(); ++i) {
    const double wanted = freqs[i] / total * kOneOfSlots;
    slots[i] = static_cast<int>(std::floor(wanted));
    remainders[i] = wanted - slots[i];
    left -= slots[i];
  }
  REHEARSE_ASSERT(left >= 0 && left <= static_cast<int>(freqs.size()));
  for (; left > 0; --left) {  // the largest remainders take the slots left over
    const auto most = static_cast<std::size_t>(std::max_element(remainders.begin(), remainders.end()) - remainders.begin());
    ++slots[most];
    remainders[most] = -1;
  }
  const int divisor = std::accumulate(slots.begin(), slots.end(), 0, [](int a, int b) { return std::gcd(a, b); });
  for (int& slot : slots) slot /= divisor;
  return slots;
}

// Whether `value` survives one_of(...) as written (core/gen.cc: no comma, no space, no "..").
bool one_of_choice(const std::string& value) {
  return !value.empty() && value.find_first_of(", ") == std::string::npos && value.find("..") == std::string::npos;
}

std::string percent(double share) { return fmt::format("{:.1f}%", 100 * share); }

// `one_of(...)` of the most common values, weighted by repetition; nullopt when they cannot be
// written so. *note gets what is approximated ("" when nothing), *distance the total variation
// distance between the common values' shares and the drawn ones.
std::optional<std::string> weighted_one_of(const ColumnStats& stats, std::string* note, double* distance) {
  const std::vector<int> slots = one_of_slots(stats.most_common_freqs);
  if (slots.empty()) return std::nullopt;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] > 0 && !one_of_choice(stats.most_common_values[i])) return std::nullopt;
  }
  std::vector<std::string> choices;
  const int slots_total = std::accumulate(slots.begin(), slots.end(), 0);
  const double common = common_share(stats);
  double error_max = 0, left_out_share = 0;
  int left_out = 0;
  *distance = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    for (int k = 0; k < slots[i]; ++k) choices.push_back(stats.most_common_values[i]);
    *distance += std::abs(static_cast<double>(slots[i]) / slots_total - stats.most_common_freqs[i] / common) / 2;
    if (slots[i] > 0) {
      error_max =
          std::max(error_max, std::abs(static_cast<double>(slots[i]) / slots_total - stats.most_common_freqs[i] / common));
    } else {
      ++left_out;
      left_out_share += stats.most_common_freqs[i];
    }
  }
  const double cover = coverage(stats);
  std::vector<std::string> notes;
  if (cover < 0.999) {
    notes.push_back(fmt::format("the {} most common values hold {} of the non-null rows; the other {} are drawn among them",
                                stats.most_common_values.size(), percent(cover), percent(1 - cover)));
  }
  if (left_out > 0) {
    notes.push_back(fmt::format("{} common values too rare for weights of 1/{} ({} of the rows) are left out", left_out,
                                kOneOfSlots, percent(left_out_share)));
  }
  if (error_max > 0.005) notes.push_back(fmt::format("weights rounded to 1/{} (by repeating values)", slots_total));
  *note = fmt::format("{}", fmt::join(notes, "; "));
  return fmt::format("one_of({})", fmt::join(choices, ","));
}

// How far the histogram's bounds stray from evenly spaced ones, as a share of its width.
double histogram_skew(const std::vector<double>& bounds) {
  if (bounds.size() < 3 || bounds.back() <= bounds.front()) return 0;
  const double width = bounds.back() - bounds.front();
  double skew = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const double even = bounds.front() + width * static_cast<double>(i) / static_cast<double>(bounds.size() - 1);
    skew = std::max(skew, std::abs(bounds[i] - even) / width);
  }
  return skew;
}

// Values of a numeric kind (integers, decimals, timestamps) as doubles for the range and skew.
struct NumericView {
  std::vector<double> histogram;  // the bounds, converted
  double low = 0;
  double high = 0;
  bool any = false;
  // When every value seen is a whole number that fits 64 bits: the exact bounds (a double
  // loses bigint digits past 2^53).
  std::optional<std::int64_t> exact_low, exact_high;
};

template <typename Convert>
std::optional<NumericView> numeric_view(const ColumnStats& stats, Convert&& convert) {
  NumericView view;
  for (const std::string& text : stats.histogram_bounds) {
    const std::optional<double> value = convert(text);
    if (!value) return std::nullopt;
    view.histogram.push_back(*value);
  }
  bool exact = true;
  for (const std::string& text : seen_values(stats)) {
    const std::optional<double> value = convert(text);
    if (!value) return std::nullopt;
    view.low = view.any ? std::min(view.low, *value) : *value;
    view.high = view.any ? std::max(view.high, *value) : *value;
    const std::optional<std::int64_t> whole = whole_number(text);
    exact = exact && whole.has_value();
    if (exact) {
      view.exact_low = std::min(view.exact_low.value_or(*whole), *whole);
      view.exact_high = std::max(view.exact_high.value_or(*whole), *whole);
    }
    view.any = true;
  }
  if (!exact) view.exact_low = view.exact_high = std::nullopt;
  return view;
}

// What a uniform range over [low, high] loses of the column.
std::string range_note(const ColumnStats& stats, const NumericView& view, const std::string& range) {
  std::vector<std::string> notes;
  const double skew = histogram_skew(view.histogram);
  if (skew > kSkewShareMax) {
    notes.push_back(
        fmt::format("drawn uniformly in {} although its histogram is skewed (bounds up to {} of the width "
                    "from even spacing)",
                    range, percent(skew)));
  }
  const auto [rarest, commonest] = std::minmax_element(stats.most_common_freqs.begin(), stats.most_common_freqs.end());
  const bool uneven =
      stats.most_common_freqs.size() == 1 || (commonest != stats.most_common_freqs.end() && *commonest > 2 * *rarest);
  if (common_share(stats) > 0.05 && uneven) {
    notes.push_back(fmt::format("its {} most common values ({} of the rows) are not weighted", stats.most_common_values.size(),
                                percent(common_share(stats))));
  }
  return fmt::format("{}", fmt::join(notes, "; "));
}

std::optional<double> integer_value(const std::string& text) {
  const auto value = whole_number(text);
  return value ? std::optional<double>(static_cast<double>(*value)) : std::nullopt;
}

std::optional<double> decimal_value(const std::string& text) {
  const auto value = decimal::parse(text);
  return value ? std::optional<double>(std::stod(decimal::to_string(*value))) : std::nullopt;
}

// A timestamp's seconds since 1970; a time zone suffix (timestamptz read with TimeZone UTC,
// "+00") is dropped.
std::optional<double> timestamp_seconds(const std::string& text) {
  std::string_view view = text;
  const std::size_t zone = view.find_last_of("+-");
  if (zone != std::string_view::npos && zone > 10) view = view.substr(0, zone);
  const auto micros = parse_timestamp(view);
  if (!micros || *micros == kTimestampInfinity || *micros == kTimestampMinusInfinity) return std::nullopt;  // no value
  return static_cast<double>(*micros) / kSec;
}

bool looks_like_uuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// LOW..HIGH over the values seen, outward to whole numbers, cut to what the simulator draws
// without overflow (core/random.h draws in [low, high] with high - low in 64 bits; a numeric's
// mantissa is the bound times 10^scale): within +-2^62, over 10^scale for a numeric. *note
// says when a bound was cut.
std::string range_text(const NumericView& view, const ColumnSpec& column, std::string* note) {
  constexpr std::int64_t kBoundMax = std::int64_t{1} << 62;
  std::int64_t limit = kBoundMax;
  for (int digit = 0; column.type == ColumnType::numeric && digit < column.scale; ++digit) limit /= 10;
  std::int64_t low = -limit, high = limit;
  bool cut = false;
  if (view.exact_low && column.type != ColumnType::numeric) {
    cut = *view.exact_low < -limit || *view.exact_high > limit;
    low = std::max(*view.exact_low, -limit);
    high = std::min(*view.exact_high, limit);
  } else {
    const double floor_low = std::floor(view.low), ceil_high = std::ceil(view.high);
    cut = floor_low < static_cast<double>(-limit) || ceil_high > static_cast<double>(limit);
    if (floor_low > static_cast<double>(-limit)) low = static_cast<std::int64_t>(floor_low);
    if (ceil_high < static_cast<double>(limit)) high = static_cast<std::int64_t>(ceil_high);
    low = std::max(low, -limit);  // a double near the limit may round past it
    high = std::min(high, limit);
  }
  if (cut) *note = fmt::format("values beyond +-{} cut to it (the simulator draws in 64 bits)", limit);
  return fmt::format("{}..{}", std::min(low, high), std::max(low, high));
}

// When the common values are every value and all integers: the total variation distance
// between their shares and a uniform draw over [smallest, largest]; nullopt otherwise.
std::optional<double> uniform_distance(const ColumnStats& stats) {
  if (coverage(stats) < 0.999 || stats.most_common_values.empty()) return std::nullopt;
  std::vector<std::int64_t> values;
  for (const std::string& text : stats.most_common_values) {
    const std::optional<std::int64_t> value = whole_number(text);
    if (!value) return std::nullopt;
    values.push_back(*value);
  }
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  constexpr std::int64_t kWidthMax = 1'000'000;  // wider, a uniform draw is far from any common-value list
  if (*high - *low >= kWidthMax) return std::nullopt;
  const double width = static_cast<double>(*high - *low + 1);
  const double common = common_share(stats);
  double distance = (width - static_cast<double>(values.size())) / width / 2;  // values in the range never seen
  for (double freq : stats.most_common_freqs) distance += std::abs(freq / common - 1 / width) / 2;
  return distance;
}

// Whether the common values may become one_of, and how many rows ANALYZE sampled (0: unknown).
struct OneOfUse {
  bool allowed = false;
  double sampled_rows = 0;
};

// The total variation distance a uniform draw's sample of `sampled_rows` rows shows from the
// uniform over `width` values by chance alone (about half of sqrt(2 width / (pi rows))).
double sampling_noise(double width, double sampled_rows) {
  return sampled_rows > 0 ? std::sqrt(2 * width / (3.141592653589793 * sampled_rows)) / 2 : 0;
}

// The gen of an integer, numeric or timestamp column from its statistics.
void map_ordered(const ColumnStats& stats, std::optional<double> (*convert)(const std::string&), OneOfUse one_of,
                 MappedColumn* mapped) {
  ColumnSpec& column = mapped->column;
  if (one_of.allowed && coverage(stats) >= kOneOfCoverageMin) {
    // Common values that are every integer of a range about evenly -- no further from uniform
    // than the sample's chance, or than one_of's weights rounded to 1/100 are -- are a range.
    double distance = 0;
    std::optional<double> uniform = uniform_distance(stats);
    if (uniform) {
      const double width = static_cast<double>(stats.most_common_values.size());
      uniform = *uniform - sampling_noise(width, one_of.sampled_rows);
    }
    if (auto gen = weighted_one_of(stats, &mapped->approximation, &distance); gen && !(uniform && *uniform <= distance)) {
      column.gen = *gen;
      return;
    }
    mapped->approximation.clear();
  }
  const std::optional<NumericView> view = numeric_view(stats, convert);
  if (!view || !view->any) {
    mapped->approximation = "pg_stats shows no values of it that can be read (or only infinities): the type's default draw";
    return;
  }
  std::string cut;
  column.gen = range_text(*view, column, &cut);
  mapped->approximation = range_note(stats, *view, column.gen);
  if (!cut.empty()) mapped->approximation += (mapped->approximation.empty() ? "" : "; ") + cut;
}

// Fractional digits of the widest value seen, for a numeric declared without a scale.
int scale_seen(const ColumnStats& stats) {
  int scale = 0;
  for (const std::string& text : seen_values(stats)) {
    if (const auto value = decimal::parse(text)) scale = std::max(scale, decimal::normalized(*value).scale);
  }
  return std::min(scale, kFreeNumericScaleMax);
}

void map_text(const ColumnStats& stats, MappedColumn* mapped) {
  ColumnSpec& column = mapped->column;
  if (double distance = 0; coverage(stats) >= kOneOfCoverageMin) {
    if (auto gen = weighted_one_of(stats, &mapped->approximation, &distance)) {
      column.gen = *gen;
      return;
    }
  }
  const std::vector<std::string> seen = seen_values(stats);
  const auto all = [&](auto&& test) { return !seen.empty() && std::all_of(seen.begin(), seen.end(), test); };
  const std::string width = fmt::format("average width {} bytes", stats.avg_width);
  if (all([](const std::string& v) { return looks_like_uuid(v); })) {
    column.gen = "uuid";
  } else if (all([](const std::string& v) { return v.find('@') != std::string::npos; })) {
    column.gen = "email";
    mapped->approximation = fmt::format("drawn as User<N>@<domain> e-mail addresses ({} in the table)", width);
  } else if (all([](const std::string& v) { return whole_number(v).has_value(); })) {
    map_ordered(stats, integer_value, OneOfUse{}, mapped);
    mapped->approximation = fmt::format("integers as text{}{}", mapped->approximation.empty() ? "" : ": ", mapped->approximation);
  } else {
    mapped->approximation =
        fmt::format("drawn as 'item-<N>' ({} in the table{})", width,
                    stats.most_common_values.empty()
                        ? ""
                        : fmt::format("; its {} most common values not reproduced", stats.most_common_values.size()));
  }
}

void map_boolean(const ColumnStats& stats, MappedColumn* mapped) {
  double true_share = 0;
  for (std::size_t i = 0; i < stats.most_common_values.size(); ++i) {
    if (stats.most_common_values[i] == "true" || stats.most_common_values[i] == "t") true_share = stats.most_common_freqs[i];
  }
  const double non_null = 1 - stats.null_frac;
  const double share = non_null > 0 ? true_share / non_null : 0.5;
  if (std::abs(share - 0.5) > 0.01) {
    mapped->approximation =
        fmt::format("true in {} of the non-null rows, drawn 50/50 (the language has no weighted boolean)", percent(share));
  }
}

// A type's default draw where the default does not fit it (core/gen.h's defaults are for
// integer, numeric 0..1000).
std::string fitting_default_gen(const std::string& sql_type) {
  if (sql_type == "smallint") return "0..32767";
  int precision = 0, scale = 0;
  if (std::sscanf(sql_type.c_str(), "numeric(%d,%d)", &precision, &scale) == 2 && precision - scale < 4) {
    return fmt::format("0..{}", static_cast<std::int64_t>(std::pow(10, precision - scale)) - 1);
  }
  return "";
}

MappedColumn map_column(const ColumnShape& shape, const ScenarioType& type, double sampled_rows) {
  MappedColumn mapped;
  mapped.shape = &shape;
  ColumnSpec& column = mapped.column;
  column.name = shape.name;
  column.type = type.type;
  column.scale = type.scale;
  if (!shape.stats) {
    column.gen = fitting_default_gen(shape.type);
    mapped.approximation = "no statistics (pg_stats has no row for it): the type's default draw, no NULLs";
    return mapped;
  }
  const ColumnStats& stats = *shape.stats;
  column.nullable = shape.not_null ? 0.0 : std::clamp(std::round(stats.null_frac * 10000) / 10000, 0.0, 1.0);
  if (shape.type == "uuid") {
    column.gen = "uuid";
  } else if (shape.type == "numeric") {
    column.scale = scale_seen(stats);
    map_ordered(stats, decimal_value, OneOfUse{}, &mapped);
  } else {
    switch (type.type) {
      case ColumnType::bigint:
      case ColumnType::integer:
        map_ordered(stats, integer_value, OneOfUse{true, sampled_rows}, &mapped);
        break;
      case ColumnType::numeric:
        map_ordered(stats, decimal_value, OneOfUse{}, &mapped);
        break;
      case ColumnType::timestamp:
        map_ordered(stats, timestamp_seconds, OneOfUse{}, &mapped);
        break;
      case ColumnType::text:
        map_text(stats, &mapped);
        break;
      case ColumnType::boolean:
        map_boolean(stats, &mapped);
        break;
    }
  }
  if (column.gen.empty()) column.gen = fitting_default_gen(shape.type);
  std::vector<std::string> notes;
  if (!type.approximation.empty()) notes.push_back(type.approximation);
  if (shape.generated) notes.push_back("a generated column: drawn from its statistics, not computed");
  if (!mapped.approximation.empty()) notes.push_back(mapped.approximation);
  mapped.approximation = fmt::format("{}", fmt::join(notes, "; "));
  return mapped;
}

bool integral(ColumnType type) { return type == ColumnType::bigint || type == ColumnType::integer; }

}  // namespace

std::optional<QualifiedName> parse_qualified_name(std::string_view text, std::string* why) {
  REHEARSE_ASSERT(why != nullptr);
  std::size_t index = 0;
  const std::optional<std::string> schema = name_part(text, &index, why);
  if (!schema) return std::nullopt;
  if (index >= text.size() || text[index] != '.') {
    *why = "expected SCHEMA.TABLE (the schema is required)";
    return std::nullopt;
  }
  ++index;
  const std::optional<std::string> table = name_part(text, &index, why);
  if (!table) return std::nullopt;
  if (index != text.size()) {
    *why = "expected SCHEMA.TABLE, got more after the table's name";
    return std::nullopt;
  }
  return QualifiedName{*schema, *table};
}

std::string sql_name_part(const std::string& part) {
  bool plain = !part.empty();
  for (std::size_t i = 0; i < part.size(); ++i) plain = plain && plain_identifier_char(part[i], i == 0);
  if (plain) return part;
  std::string quoted = "\"";
  for (char c : part) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string to_sql(const QualifiedName& name) { return sql_name_part(name.schema) + "." + sql_name_part(name.table); }

std::optional<ScenarioType> scenario_type(const std::string& sql_type) {
  if (sql_type == "bigint") return ScenarioType{ColumnType::bigint, 0, ""};
  if (sql_type == "integer") return ScenarioType{ColumnType::integer, 0, ""};
  if (sql_type == "smallint") return ScenarioType{ColumnType::integer, 0, "smallint simulated as integer"};
  if (sql_type == "text") return ScenarioType{ColumnType::text, 0, ""};
  if (sql_type == "boolean") return ScenarioType{ColumnType::boolean, 0, ""};
  if (sql_type == "uuid") return ScenarioType{ColumnType::text, 0, "uuid simulated as text"};
  if (sql_type == "numeric")
    return ScenarioType{ColumnType::numeric, 0,
                        "numeric without a scale: drawn with the most "
                        "fractional digits seen (at most 6)"};
  int precision = 0, scale = 0, length = 0;
  char rest = 0;
  if (std::sscanf(sql_type.c_str(), "numeric(%d,%d)%c", &precision, &scale, &rest) == 2 && scale >= 0 &&
      scale <= Decimal::kMaxScale) {
    return ScenarioType{ColumnType::numeric, scale, ""};
  }
  if (sql_type == "character varying" || sql_type == "character" ||
      std::sscanf(sql_type.c_str(), "character varying(%d)%c", &length, &rest) == 1 ||
      std::sscanf(sql_type.c_str(), "character(%d)%c", &length, &rest) == 1) {
    return ScenarioType{ColumnType::text, 0, fmt::format("{} simulated as text (no length limit)", sql_type)};
  }
  if (sql_type.rfind("timestamp", 0) == 0) {
    if (sql_type.find("without time zone") != std::string::npos) {
      return ScenarioType{ColumnType::timestamp, 0, sql_type == "timestamp without time zone" ? "" : "drawn in whole seconds"};
    }
    return ScenarioType{ColumnType::timestamp, 0, "timestamp with time zone simulated as timestamp (UTC), in whole seconds"};
  }
  return std::nullopt;
}

Result<TableMapping> map_table_shape(const TableShape& shape) {
  TableMapping mapping;
  if (shape.rows_estimate) mapping.rows = std::llround(std::max(0.0, *shape.rows_estimate));
  std::vector<const ColumnShape*> key_columns;
  for (const ColumnShape& column : shape.columns) {
    if (column.primary_key) key_columns.push_back(&column);
  }
  std::vector<std::string> unsupported;
  for (const ColumnShape& column : shape.columns) {
    const std::optional<ScenarioType> type = scenario_type(column.type);
    if (!type) {
      unsupported.push_back(fmt::format("column \"{}\" has type {}", column.name, column.type));
      continue;
    }
    if (key_columns.size() == 1 && key_columns.front() == &column && integral(type->type) && type->approximation.empty()) {
      mapping.key = column.name;
      continue;
    }
    mapping.columns.push_back(map_column(column, *type, std::min(shape.rows_estimate.value_or(0), kAnalyzeSampleRowsMax)));
  }
  if (!unsupported.empty()) {
    return Status::invalid(
        fmt::format("{}: {}, which the scenario model does not support (it has bigint, integer, "
                    "smallint, numeric, text, varchar, char, uuid, boolean, timestamp and timestamptz)",
                    to_sql(shape.name), fmt::join(unsupported, "; ")));
  }
  REHEARSE_ASSERT(mapping.columns.size() + (mapping.key.empty() ? 0 : 1) == shape.columns.size());
  return mapping;
}

std::vector<std::string> describe_approximations(const TableShape& shape, const TableMapping& mapping) {
  std::vector<std::string> lines;
  if (!shape.rows_estimate) {
    lines.push_back(
        fmt::format("{} was never analyzed (pg_class.reltuples is -1): no row count and no value distributions "
                    "(ANALYZE it to have them)",
                    to_sql(shape.name)));
  }
  for (const MappedColumn& column : mapping.columns) {
    if (!column.approximation.empty()) lines.push_back(fmt::format("{}: {}", column.column.name, column.approximation));
  }
  return lines;
}

}  // namespace rehearse
