// The scenario loader and validator: YAML text -> Scenario (core/model.h), following
// ../shared/spec/scenario-format.md. Every mapping is checked for unknown keys, every value for
// its type and range, and cross-references (regions, node names, columns) are resolved; all
// problems are collected with their file, line and dotted key path.
//
// Decisions where the spec is silent (keep docs/ in step):
// - Required: top-level `name` ([a-z0-9-]+) and `description`; in a region `name`; in a column
//   `type`; in operations the fields listed in kOperations below (add_column: column and type,
//   `up` optional; alter_column: column, `type`/`up`/`down` optional); in a fault `at` and
//   exactly one kind with that kind's parameters (kFaultKinds below; optional: crash
//   `restart_after` (absent = never restarts), partition `from` and `oneway`); in `at: {...}`
//   `phase`; in random_faults `rate`, `kinds` and `targets`.
// - topology absent, or topology without `regions`: one region `us-east-1` with 0 replicas.
//   `regions: []` is an error. Region names are [a-z0-9_-]+, unique, and may not look like
//   another node name (lock, holder, engine-N, lock-N).
// - `topology.home` is only allowed with `mode: global` and defaults to the first region. In
//   global mode db:HOME is the only primary: a fault target db:OTHER is an error (its replicas
//   db:OTHER/replica-N are fine), and so is `at: {phase, region: OTHER}` (the engine migrates
//   the home region only).
// - `engine.region`, `lock.region` default to the first region and `engine.order` to the
//   topology order; the loader fills them in. A given `engine.order` must list every region
//   exactly once.
// - lock.nodes: redlock defaults to 3 and must be odd and >= 3; etcd / zookeeper >= 1 (default
//   1); redis and app-database must be 1. `replica: true` is only allowed with redis, and then
//   lock-2 names the replica. The app-database lock has no lock-N nodes (`lock` is allowed).
//   `drift_factor`, `persistence` and `delayed_restart` are accepted with every backend (ignored
//   where unused).
// - Counts that create nodes are capped: engine.instances 1..100, replicas 0..100, lock.nodes
//   1..99. numeric `scale` is 0..30 and only allowed on numeric columns.
// - Durations that must be positive: `duration`, lock.ttl, engine.backoff.base, a fault's
//   `for` and `extra`, random_faults.max_duration; backoff.max >= backoff.base.
// - A fault's `at` (or `at.after`) must be before `duration`. `at.region` defaults to the first
//   region of engine.order (global: the home). A one-element list is accepted where one target is expected, and a
//   single name where a list is expected (partition, from).
// - Fault targets are checked against the node names of the topology; which kinds make sense
//   on which nodes is left to the simulator. random_faults.targets accepts the patterns
//   engine-*, lock-*, db:*, app:* and exact node names.
// - expect.invariants are only allowed with `verdict: violation`; within_seeds >= 1.
// - Extensions: `slo.count` (migration | all), `engine.retries`, `engine.acquire_retries`;
//   random_faults' quiet_after (default 2/3 of duration) + max_duration must be < duration.
// - `gen` is stored as written (its forms are checked by the generator); `faults:` with no
//   value is an empty schedule; a section key with no value (`engine:`) is an empty section.
// - The file must be UTF-8 and hold one YAML document, which libfyaml checks first
//   (scenarios/yaml_input.h: size, nesting, values). Counts past scenarios/limits.h (regions,
//   replicas, columns, rows, faults, duration, the estimated memory of a run) are refused and
//   loading stops there. At most 20 errors are returned, then one that counts the rest.
#include "scenarios/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/expr.h"
#include "core/gen.h"
#include "core/schema_sql.h"
#include "core/sql_migration.h"
#include "core/topology.h"
#include "scenarios/builtin.h"
#include "scenarios/costs.h"
#include "scenarios/limits.h"
#include "scenarios/yaml_input.h"

namespace rehearse {
namespace {

// ---------------------------------------------------------------------------------------------
// Scalar parsing

// Digits only, no sign; nullopt on overflow.
std::optional<std::uint64_t> parse_uint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// An optional sign and digits, within int64.
std::optional<std::int64_t> parse_int(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  const auto u = parse_uint(s);
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!u || *u > max + (negative ? 1 : 0)) return std::nullopt;
  if (negative) return *u == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(*u);
  return static_cast<std::int64_t>(*u);
}

// A finite decimal number such as 0.5, 50, 1e3, -2.
std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<TimeUs> unit_us(std::string_view unit) {
  if (unit == "us") return kUs;
  if (unit == "ms") return kMs;
  if (unit == "s") return kSec;
  if (unit == "m") return kMin;
  if (unit == "h") return kHour;
  return std::nullopt;
}

}  // namespace

std::optional<TimeUs> parse_duration(const std::string& text) {
  if (text == "0") return 0;
  const std::string_view s = text;
  const auto number_end = s.find_first_not_of("0123456789.");
  if (number_end == 0 || number_end == std::string_view::npos) return std::nullopt;
  const std::string_view number = s.substr(0, number_end);
  const auto dot = number.find('.');
  const auto whole = parse_uint(number.substr(0, dot));
  const auto unit = unit_us(s.substr(number_end));
  if (!whole || !unit) return std::nullopt;
  if (*whole > static_cast<std::uint64_t>(std::numeric_limits<TimeUs>::max() / *unit)) return std::nullopt;
  TimeUs us = static_cast<TimeUs>(*whole) * *unit;
  if (dot == std::string_view::npos) return us;
  // A decimal fraction (the spec's own example writes 0.5ms) must come to whole microseconds.
  const std::string_view digits = number.substr(dot + 1);
  const auto fraction = parse_uint(digits);
  if (!fraction || digits.size() > 9) return std::nullopt;
  std::uint64_t scale = 1;
  for (std::size_t i = 0; i < digits.size(); ++i) scale *= 10;
  const std::uint64_t scaled = *fraction * static_cast<std::uint64_t>(*unit);
  if (scaled % scale != 0 || us > std::numeric_limits<TimeUs>::max() - static_cast<TimeUs>(scaled / scale))
    return std::nullopt;
  return us + static_cast<TimeUs>(scaled / scale);
}

std::optional<TimeUs> parse_signed_duration(const std::string& text) {
  if (text == "0") return 0;
  if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const auto magnitude = parse_duration(text.substr(1));
  if (!magnitude) return std::nullopt;
  return text[0] == '-' ? -*magnitude : *magnitude;
}

std::optional<DurationRange> parse_duration_range(const std::string& text) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) {
    const auto d = parse_duration(text);
    if (!d) return std::nullopt;
    return DurationRange{*d, *d};
  }
  const auto low = parse_duration(text.substr(0, dots));
  const auto high = parse_duration(text.substr(dots + 2));
  if (!low || !high || *low > *high) return std::nullopt;
  return DurationRange{*low, *high};
}

std::optional<double> parse_rate_per_s(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const auto count = parse_uint(std::string_view(text).substr(0, slash));
  const std::string per = text.substr(slash + 1);
  std::optional<TimeUs> period = unit_us(per);
  if (!period) period = parse_duration(per);
  if (!count || !period || *period <= 0) return std::nullopt;
  return static_cast<double>(*count) * static_cast<double>(kSec) / static_cast<double>(*period);
}

std::string ScenarioError::to_string() const {
  std::string out = file;
  if (line > 0) out += fmt::format(":{}", line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Errors, items and messages

// The problems found, at most kMaxErrorsKept of them kept (the rest only counted); take()
// returns the first kMaxErrorsShown in line order and one last line saying how many more there
// were, so that a file of a hundred thousand mistakes prints a screenful, not megabytes.
class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void add(ScenarioError error) {
    ++count_;
    if (errors_.size() < kMaxErrorsKept) errors_.push_back(std::move(error));
  }
  void add(int line, std::string key, std::string message) {
    ++count_;
    if (errors_.size() < kMaxErrorsKept) errors_.push_back(ScenarioError{file_, line, std::move(key), std::move(message)});
  }
  bool empty() const { return count_ == 0; }
  // No more messages are kept (only counted): callers may skip composing them.
  bool full() const { return errors_.size() >= kMaxErrorsKept; }
  std::vector<ScenarioError> take(std::size_t* not_shown) {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ScenarioError& a, const ScenarioError& b) { return a.line < b.line; });
    *not_shown = count_ > kMaxErrorsShown ? count_ - kMaxErrorsShown : 0;
    if (*not_shown > 0) {
      errors_.resize(kMaxErrorsShown);
      errors_.push_back(more_errors(file_, *not_shown));
    }
    return std::move(errors_);
  }

 private:
  static constexpr std::size_t kMaxErrorsKept = 10'000;
  std::string file_;
  std::vector<ScenarioError> errors_;
  std::size_t count_ = 0;
};

// A YAML node with the dotted key path that leads to it and the line it is written on.
struct Item {
  YAML::Node node;
  std::string path;
  int line = 0;
};

// The columns of each table at a point of the migration, by table name.
using Tables = std::map<std::string, std::vector<std::string>>;

void report(Errors& errors, const Item& item, std::string message) {
  errors.add(item.line, item.path, std::move(message));
}

int line_of(const YAML::Node& node, int fallback) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

// What a node holds, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      return "'" + (s.size() > 60 ? s.substr(0, 57) + "..." : s) + "'";
    }
    default: return "nothing";
  }
}

// The parts joined with ", "; past the first kMaxListedNames, "... (N in all)" (a message
// names the regions or columns there are, and there may be thousands).
std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size() && i < kMaxListedNames; ++i) out += (i ? ", " : "") + parts[i];
  if (parts.size() > kMaxListedNames) out += fmt::format(", ... ({} in all)", parts.size());
  return out;
}

// Optimal string alignment distance (Levenshtein with transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean 'x'?)" for the closest candidate, or "" when none is close.
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 64) return "";
  const std::size_t limit = word.size() >= 4 ? 2 : 1;
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

bool is_name(std::string_view s, std::string_view extra_chars) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || extra_chars.find(c) != std::string_view::npos;
  });
}

bool is_identifier(std::string_view s) { return is_name(s, "_") && !(s[0] >= '0' && s[0] <= '9') && s.size() <= 63; }

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ---------------------------------------------------------------------------------------------
// Value conversions: each reports a problem with `item` and returns false, or fills *out.

bool to_scalar(Errors& errors, const Item& item, std::string_view expected, std::string* out) {
  if (!item.node.IsScalar()) {
    report(errors, item, fmt::format("expected {}, got {}", expected, describe(item.node)));
    return false;
  }
  *out = item.node.Scalar();
  return true;
}

bool to_text(Errors& errors, const Item& item, std::string* out) { return to_scalar(errors, item, "a string", out); }

bool to_duration(Errors& errors, const Item& item, bool positive, TimeUs* out) {
  const char* expected =
      positive ? "a positive duration such as 150ms, 10s or 5m" : "a duration such as 150ms, 10s or 5m";
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  const auto d = parse_duration(s);
  if (!d || (positive && *d == 0)) {
    report(errors, item, fmt::format("expected {}, got '{}'", expected, s));
    return false;
  }
  *out = *d;
  return true;
}

bool to_signed_duration(Errors& errors, const Item& item, TimeUs* out) {
  constexpr const char* expected = "a signed duration such as +20s or -500ms";
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  const auto d = parse_signed_duration(s);
  if (!d) {
    report(errors, item, fmt::format("expected {}, got '{}'", expected, s));
    return false;
  }
  *out = *d;
  return true;
}

bool to_range(Errors& errors, const Item& item, DurationRange* out) {
  constexpr const char* expected = "a duration or a range LOW..HIGH such as 40ms..120ms";
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  const auto r = parse_duration_range(s);
  if (!r) {
    report(errors, item, fmt::format("expected {} (LOW <= HIGH), got '{}'", expected, s));
    return false;
  }
  *out = *r;
  return true;
}

bool to_rate(Errors& errors, const Item& item, double* out) {
  constexpr const char* expected = "a positive rate N/DURATION such as 1/30s or 50/s";
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  const auto r = parse_rate_per_s(s);
  if (!r || *r <= 0) {
    report(errors, item, fmt::format("expected {}, got '{}'", expected, s));
    return false;
  }
  *out = *r;
  return true;
}

template <class Int> bool to_integer(Errors& errors, const Item& item, std::int64_t min, std::int64_t max, Int* out) {
  const std::string expected = min == 0 && max == std::numeric_limits<std::int64_t>::max() ? "a non-negative integer"
                               : max == std::numeric_limits<std::int64_t>::max()
                                   ? fmt::format("an integer >= {}", min)
                                   : fmt::format("an integer from {} to {}", min, max);
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  const auto v = parse_int(s);
  if (!v || *v < min || *v > max) {
    report(errors, item, fmt::format("expected {}, got '{}'", expected, s));
    return false;
  }
  *out = static_cast<Int>(*v);
  return true;
}

bool to_number(Errors& errors, const Item& item, double min, double max, double* out) {
  const std::string expected = max == std::numeric_limits<double>::max()
                                   ? fmt::format("a number >= {}", min)
                                   : fmt::format("a number from {} to {}", min, max);
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  const auto v = parse_number(s);
  if (!v || *v < min || *v > max) {
    report(errors, item, fmt::format("expected {}, got '{}'", expected, s));
    return false;
  }
  *out = *v;
  return true;
}

bool to_bool(Errors& errors, const Item& item, bool* out) {
  std::string s;
  if (!to_scalar(errors, item, "true or false", &s)) return false;
  if (s == "true" || s == "True" || s == "TRUE") return *out = true, true;
  if (s == "false" || s == "False" || s == "FALSE") return *out = false, true;
  report(errors, item, fmt::format("expected true or false, got '{}'", s));
  return false;
}

template <class E> constexpr int kEnumSize = 0;
template <> constexpr int kEnumSize<TopologyMode> = 2;
template <> constexpr int kEnumSize<LockBackend> = 5;
template <> constexpr int kEnumSize<Fencing> = 3;
template <> constexpr int kEnumSize<Jitter> = 3;
template <> constexpr int kEnumSize<Rollout> = 2;
template <> constexpr int kEnumSize<OnFailure> = 2;
template <> constexpr int kEnumSize<BackfillSource> = 2;
template <> constexpr int kEnumSize<ColumnType> = 6;
template <> constexpr int kEnumSize<DeployAfter> = 3;
template <> constexpr int kEnumSize<Verdict> = 2;
template <> constexpr int kEnumSize<SloCount> = 2;
template <> constexpr int kEnumSize<OperationKind> = 16;
template <> constexpr int kEnumSize<FaultKind> = 11;

template <class E> std::vector<std::string> enum_names() {
  std::vector<std::string> names;
  for (int i = 0; i < kEnumSize<E>; ++i) names.emplace_back(to_string(static_cast<E>(i)));
  return names;
}

template <class E> std::optional<E> enum_from(std::string_view s) {
  for (int i = 0; i < kEnumSize<E>; ++i) {
    if (s == to_string(static_cast<E>(i))) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <class E> bool to_enum(Errors& errors, const Item& item, E* out) {
  const auto names = enum_names<E>();
  const std::string expected = "one of " + join(names);
  std::string s;
  if (!to_scalar(errors, item, expected, &s)) return false;
  if (auto v = enum_from<E>(s)) return *out = *v, true;
  report(errors, item, fmt::format("expected {}, got '{}'{}", expected, s, suggestion(s, names)));
  return false;
}

// The elements of a list, each with its path (`faults[2]`) and line. With `one_ok` a single
// scalar counts as a one-element list; with `null_ok` no value is an empty list.
std::vector<Item> list_items(Errors& errors, const Item& item, std::string_view expected, bool one_ok = false,
                             bool null_ok = false) {
  std::vector<Item> items;
  if (item.node.IsSequence()) {
    std::size_t i = 0;
    for (const auto& element : item.node) {
      items.push_back(Item{element, fmt::format("{}[{}]", item.path, i++), line_of(element, item.line)});
    }
  } else if (one_ok && item.node.IsScalar()) {
    items.push_back(item);
  } else if (!(null_ok && item.node.IsNull())) {
    report(errors, item, fmt::format("expected {}, got {}", expected, describe(item.node)));
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Reader: one mapping of the file, its keys and typed accessors.

class Reader {
 public:
  // Reads `item` as a mapping; anything else is reported and reads as an empty mapping. With
  // `null_ok`, no value at all is an empty mapping too.
  Reader(Errors& errors, Item item, bool null_ok = false) : errors_(&errors), item_(std::move(item)) {
    if (item_.node.IsMap()) {
      load_entries();
    } else if (null_ok && item_.node.IsNull()) {
      empty_ok_ = true;
    } else {
      report(errors, item_, "expected a mapping of keys, got " + describe(item_.node));
    }
  }

  const Item& item() const { return item_; }
  const std::vector<std::pair<Item, Item>>& entries() const { return entries_; }
  std::string child_path(std::string_view key) const {
    return item_.path.empty() ? std::string(key) : item_.path + "." + std::string(key);
  }

  // Keys not in `allowed`, and reports keys written twice.
  std::vector<Item> unknown_keys(const std::vector<std::string>& allowed) const {
    std::vector<Item> unknown;
    std::set<std::string_view> seen;
    for (const auto& [key, value] : entries_) {
      const std::string& name = key.node.Scalar();
      if (!seen.insert(name).second) report(*errors_, key, "key written twice");
      if (!contains(allowed, name)) unknown.push_back(key);
    }
    return unknown;
  }

  void check_keys(const std::vector<std::string>& allowed) const {
    for (const auto& key : unknown_keys(allowed)) {
      if (errors_->full()) {
        report(*errors_, key, "unknown key");  // counted, not kept: the suggestion is not worth its time
        continue;
      }
      report(*errors_, key,
             "unknown key" + suggestion(key.node.Scalar(), allowed) + " (allowed here: " + join(allowed) + ")");
    }
  }

  // The value of `key` (the first one when written twice), or nullptr; valid while this
  // Reader lives.
  const Item* get(std::string_view key) const {
    for (const auto& [k, value] : entries_) {
      if (k.node.Scalar() == key) return &value;
    }
    return nullptr;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }

  // Reports a missing required key at the line of this mapping (not when the mapping itself
  // was reported as something else).
  bool require(std::string_view key) const {
    if (has(key)) return true;
    if (!item_.node.IsMap() && !empty_ok_) return false;
    errors_->add(item_.line, child_path(key), "required key missing");
    return false;
  }

  // A nested mapping; an absent key or no value reads as an empty mapping.
  Reader section(std::string_view key) const {
    auto item = get(key);
    return Reader(*errors_, item ? *item : Item{YAML::Node(), child_path(key), item_.line}, true);
  }

  bool text(std::string_view key, std::string* out) const {
    return read(key, [&](const Item& i) { return to_text(*errors_, i, out); });
  }
  bool duration(std::string_view key, TimeUs* out, bool positive = false) const {
    return read(key, [&](const Item& i) { return to_duration(*errors_, i, positive, out); });
  }
  bool signed_duration(std::string_view key, TimeUs* out) const {
    return read(key, [&](const Item& i) { return to_signed_duration(*errors_, i, out); });
  }
  bool range(std::string_view key, DurationRange* out) const {
    return read(key, [&](const Item& i) { return to_range(*errors_, i, out); });
  }
  template <class Int>
  bool integer(std::string_view key, Int* out, std::int64_t min = 0,
               std::int64_t max = std::numeric_limits<std::int64_t>::max()) const {
    return read(key, [&](const Item& i) { return to_integer(*errors_, i, min, max, out); });
  }
  bool number(std::string_view key, double* out, double min = 0,
              double max = std::numeric_limits<double>::max()) const {
    return read(key, [&](const Item& i) { return to_number(*errors_, i, min, max, out); });
  }
  bool ratio(std::string_view key, double* out) const { return number(key, out, 0, 1); }
  bool rate(std::string_view key, double* out) const {
    return read(key, [&](const Item& i) { return to_rate(*errors_, i, out); });
  }
  bool boolean(std::string_view key, bool* out) const {
    return read(key, [&](const Item& i) { return to_bool(*errors_, i, out); });
  }
  template <class E> bool enumeration(std::string_view key, E* out) const {
    return read(key, [&](const Item& i) { return to_enum(*errors_, i, out); });
  }

 private:
  template <class Convert> bool read(std::string_view key, Convert convert) const {
    const auto item = get(key);
    return item && convert(*item);
  }

  void load_entries() {
    entries_.reserve(item_.node.size());
    for (const auto& entry : item_.node) {  // one dereference: each `it->` builds a new pair
      const int line = line_of(entry.first, item_.line);
      if (!entry.first.IsScalar()) {
        errors_->add(line, item_.path, "keys must be plain names, got " + describe(entry.first));
        continue;
      }
      const std::string path = child_path(entry.first.Scalar());
      entries_.emplace_back(Item{entry.first, path, line}, Item{entry.second, path, line});
    }
  }

  Errors* errors_;
  Item item_;
  bool empty_ok_ = false;                       // no value, accepted as an empty mapping
  std::vector<std::pair<Item, Item>> entries_;  // (key, value) in file order
};

// ---------------------------------------------------------------------------------------------
// Tables of the spec

struct OperationFields {
  OperationKind kind;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

// In the order of OperationKind. `table` is optional everywhere (the scenario's table when
// absent); pgroll's forms of add_column and rename_column are in kPgrollForms.
const std::vector<OperationFields> kOperations = {
    {OperationKind::add_column, {"column", "type"}, {"up", "table"}},
    {OperationKind::drop_column, {"column"}, {"table", "down"}},
    {OperationKind::alter_column,
     {"column"},
     {"type", "up", "down", "table", "nullable", "unique", "check", "references", "default", "comment", "name"}},
    {OperationKind::rename_column, {"column", "to"}, {"table"}},
    {OperationKind::add_not_null, {"column"}, {"table"}},
    {OperationKind::create_index, {"columns"}, {"name", "table", "unique", "method", "predicate", "storage_parameters"}},
    {OperationKind::create_table, {"name", "columns"}, {"comment", "constraints"}},
    {OperationKind::drop_table, {"name"}, {}},
    {OperationKind::rename_table, {"from", "to"}, {}},
    {OperationKind::drop_index, {"name"}, {"table"}},
    {OperationKind::create_constraint, {"name", "type", "columns"}, {"table", "check", "references", "up", "down"}},
    {OperationKind::drop_constraint, {"name"}, {"table", "column", "up", "down"}},
    {OperationKind::drop_multicolumn_constraint, {"name"}, {"table", "up", "down"}},
    {OperationKind::rename_constraint, {"from", "to"}, {"table"}},
    {OperationKind::set_replica_identity, {"identity"}, {"table"}},
    {OperationKind::sql, {"up"}, {"down", "on_complete", "onComplete", "table"}},
};

// pgroll's add_column (`column:` a mapping) and rename_column (`from:`).
const std::vector<OperationFields> kPgrollForms = {
    {OperationKind::add_column, {"column"}, {"table", "up"}},
    {OperationKind::rename_column, {"from", "to"}, {"table"}},
};

// A column as pgroll writes it (add_column's `column:`, create_table's `columns:`).
const std::vector<std::string> kPgrollColumnKeys = {"name", "type", "nullable", "default", "unique", "check", "references", "pk", "comment", "generated"};
const std::vector<std::string> kIndexMethods = {"btree", "hash", "gist", "spgist", "gin", "brin"};
const std::vector<std::string> kOnDelete = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"};
const std::vector<std::string> kReplicaIdentities = {"default", "full", "nothing", "index"};
const std::vector<std::string> kConstraintTypes = {"unique", "check", "foreign_key", "primary_key"};
// pgroll's settings of a constraint that change nothing the simulation sees: checked as written.
const std::vector<std::string> kConstraintFlags = {"deferrable", "initially_deferred", "no_inherit", "nulls_not_distinct"};

struct FaultParams {
  FaultKind kind;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

const std::vector<FaultParams> kFaultKinds = {
    {FaultKind::pause, {"for"}, {}},
    {FaultKind::crash, {}, {"restart_after"}},
    {FaultKind::partition, {"for"}, {"from", "oneway"}},
    {FaultKind::delay, {"extra", "for"}, {}},
    {FaultKind::drop, {"probability", "for"}, {}},
    {FaultKind::clock_jump, {"by"}, {}},
    {FaultKind::clock_skew, {"offset"}, {}},
    {FaultKind::clock_drift, {"ppm", "for"}, {}},
    {FaultKind::replication_lag, {"extra", "for"}, {}},
    {FaultKind::long_transaction, {"for"}, {}},
    {FaultKind::failover, {}, {}},
};

const std::vector<std::string> kFaultParamNames = {"for", "restart_after", "from", "oneway", "extra", "probability",
                                                   "by",  "offset",        "ppm"};

const std::vector<std::string> kPhases = {"expand", "dual_write", "backfill", "validate", "switch_reads", "contract"};

const std::vector<std::string> kInvariants = {
    "mutual-exclusion",         "data-consistency", "no-lost-writes",    "schema-convergence",
    "validate-before-contract", "availability",     "replica-staleness", "liveness"};

const std::vector<std::string> kTargetPatterns = {"engine-*", "lock-*", "db:*", "app:*"};

constexpr int kMaxNodes = 100;

// The rows of a schema table that `tables:` does not size (docs/scenarios.md).
constexpr std::int64_t kSchemaTableRowsDefault = 1000;

// `prefix` followed by a number of 1 to 6 digits without a leading zero.
std::optional<int> numbered(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size());
  if (digits.empty() || digits.size() > 6 || digits[0] == '0') return std::nullopt;
  const auto v = parse_uint(digits);
  return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// ScenarioLoader: fills a Scenario section by section. Sections are read in dependency order:
// topology before everything that names regions, lock and engine before the faults that name
// their nodes, table before the migration.

// Thrown once a limit of scenarios/limits.h is reported: loading stops there, since every
// later section would only repeat the problem (a fault per region of 5,000 regions).
struct LimitReached {};

class ScenarioLoader {
 public:
  ScenarioLoader(Errors& errors, Scenario& scenario) : errors_(errors), s_(scenario) {}

  void load(const Item& root) {
    try {
      load_sections(root);
    } catch (const LimitReached&) {
    }
  }

 private:
  [[noreturn]] void past_limit(const Item& item, const std::string& message) {
    report(errors_, item, message);
    throw LimitReached{};
  }

  void load_sections(const Item& root) {
    Reader r(errors_, root);
    if (!r.item().node.IsMap()) return;
    r.check_keys({"name", "description", "seed", "duration", "topology", "lock", "engine", "table", "tables", "schema",
                  "migration", "workload", "slo", "faults", "random_faults", "expect", "buggify", "costs"});
    load_header(r);
    load_topology(r.section("topology"));
    load_lock(r.section("lock"));
    load_engine(r.section("engine"));
    load_tables(r);
    load_migration(r.section("migration"));
    load_workload(r.section("workload"));
    load_slo(r.section("slo"));
    if (auto faults = r.get("faults")) load_faults(*faults);
    if (r.has("random_faults")) load_random_faults(r.section("random_faults"));
    load_expect(r.section("expect"));
    r.boolean("buggify", &s_.buggify);  // an extension: BUGGIFY fault points (docs/scenarios.md)
    if (auto costs = r.get("costs")) {  // calibration.md; scenarios/costs.cc
      for (auto& error : load_costs(costs->node, costs->path, s_.source_path, &s_.costs)) errors_.add(std::move(error));
    }
    if (errors_.empty()) check_memory(r);
  }

  // Refuses a scenario whose run is estimated to need more memory than memory_limit(), at the
  // key that contributes most.
  void check_memory(const Reader& r) {
    const MemoryEstimate estimate = estimate_memory(s_);
    const std::uint64_t limit = memory_limit();
    if (limit == 0 || estimate.total() <= limit) return;
    const bool table = estimate.table_bytes >= estimate.traffic_bytes;
    const char* section_key = table ? "table" : estimate.faults_dominate ? "random_faults" : "workload";
    const Reader section = r.section(section_key);
    const Item* at = section.get(table ? "rows" : estimate.faults_dominate ? "rate" : "writes_per_s");
    if (at == nullptr && !table) at = section.get("reads_per_s");
    if (at == nullptr) at = r.get(section_key);
    if (at == nullptr) at = r.get("duration");
    const Item fallback{YAML::Node(), table ? "table.rows" : "workload", r.item().line};
    report(errors_, at ? *at : fallback,
           fmt::format("a run of this scenario is estimated to need {} of memory ({}), above the limit of {}; "
                       "lower it, or raise the limit with --memory-limit",
                       format_bytes(estimate.total()), estimate.explain(), format_bytes(limit)));
  }

  void load_header(const Reader& r) {
    if (r.require("name") && r.text("name", &s_.name) && !is_name(s_.name, "-")) {
      report(errors_, *r.get("name"), fmt::format("expected a name of a-z, 0-9 and '-', got '{}'", s_.name));
    }
    if (r.require("description") && r.text("description", &s_.description) &&
        s_.description.find_first_not_of(" \t\r\n") == std::string::npos) {
      report(errors_, *r.get("description"), "must say what the scenario rehearses, got an empty string");
    }
    if (auto seed = r.get("seed")) {
      std::string text;
      const auto value = seed->node.IsScalar() ? parse_uint(seed->node.Scalar()) : std::nullopt;
      if (value)
        s_.seed = *value;
      else if (to_scalar(errors_, *seed, "a non-negative integer", &text))
        report(errors_, *seed, fmt::format("expected a non-negative integer below 2^64, got '{}'", text));
    }
    if (r.duration("duration", &s_.duration_us, true) && s_.duration_us > kMaxDuration) {
      past_limit(*r.get("duration"),
                 fmt::format("{} is above the limit of {} of simulated time per run (every request and lease renewal "
                             "of that time is simulated and kept in the history)",
                             duration_text(s_.duration_us, DurationStyle::scenario),
                             duration_text(kMaxDuration, DurationStyle::scenario)));
    }
  }

  // -- topology ---------------------------------------------------------------------------------

  void load_topology(const Reader& r) {
    r.check_keys({"mode", "home", "regions", "latency", "replication_lag", "clocks"});
    Topology& t = s_.topology;
    r.enumeration("mode", &t.mode);
    if (auto regions = r.get("regions")) {
      if (regions->node.IsSequence() && regions->node.size() > static_cast<std::size_t>(kMaxRegions)) {
        past_limit(*regions, fmt::format("{} regions is above the limit of {} (each region is a primary, its "
                                         "replicas and an application server, all simulated)",
                                         regions->node.size(), kMaxRegions));
      }
      std::set<std::string> seen;
      for (const auto& item : list_items(errors_, *regions, "a list of regions")) load_region(item, &seen);
      if (regions->node.IsSequence() && regions->node.size() == 0)
        report(errors_, *regions, "needs at least one region");
      int replicas = 0;
      for (const RegionSpec& region : t.regions) replicas += region.replicas;
      if (replicas > kMaxReplicasInAll) {
        past_limit(*regions, fmt::format("{} replicas in all is above the limit of {} (each replica holds a copy "
                                         "of the table and replays every change)",
                                         replicas, kMaxReplicasInAll));
      }
    }
    if (t.regions.empty()) t.regions.push_back(RegionSpec{"us-east-1", 0});
    // Checked in either mode (the spec's own example sets it beside mode: per-region), used only
    // by global mode; a home that names no region is reported and global mode goes on with the
    // first region, so that what follows is checked against a topology that can run.
    if (auto home = r.get("home")) region_value(*home, &t.home);
    if (t.mode == TopologyMode::global && t.home.empty()) t.home = t.regions.front().name;
    const Reader latency = r.section("latency");
    latency.check_keys({"intra_region", "inter_region"});
    latency.range("intra_region", &t.intra_region);
    latency.range("inter_region", &t.inter_region);
    r.range("replication_lag", &t.replication_lag);
    const Reader clocks = r.section("clocks");
    clocks.check_keys({"max_skew", "max_drift_ppm"});
    clocks.duration("max_skew", &t.clocks.max_skew_us);
    clocks.integer("max_drift_ppm", &t.clocks.max_drift_ppm, 0, 1'000'000);
  }

  void load_region(const Item& item, std::set<std::string>* seen) {
    const Reader r(errors_, item);
    r.check_keys({"name", "replicas"});
    RegionSpec region;
    r.integer("replicas", &region.replicas, 0, kMaxNodes);
    if (!r.require("name") || !r.text("name", &region.name)) return;
    const Item name = *r.get("name");
    if (const std::string problem = region_name_problem(region.name); !problem.empty()) {
      report(errors_, name, problem);
    } else if (!seen->insert(region.name).second) {
      report(errors_, name, fmt::format("region '{}' is listed twice", region.name));
    } else {
      s_.topology.regions.push_back(region);
    }
  }

  const RegionSpec* find_region(std::string_view name) const {
    for (const auto& r : s_.topology.regions) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }

  std::string region_list() const {
    std::vector<std::string> names;
    for (const auto& r : s_.topology.regions) names.push_back(r.name);
    return join(names);
  }

  // Reads a region name that must be one of the topology's.
  bool region_value(const Item& item, std::string* out) {
    std::string name;
    if (!to_scalar(errors_, item, "a region name", &name)) return false;
    if (!find_region(name)) {
      report(errors_, item, fmt::format("no region '{}' in the topology (regions: {})", name, region_list()));
      return false;
    }
    *out = name;
    return true;
  }

  // -- lock -----------------------------------------------------------------------------------

  void load_lock(const Reader& r) {
    r.check_keys({"backend", "nodes", "region", "ttl", "renew_every", "fencing", "drift_factor", "persistence",
                  "replica", "max_ops_per_s", "delayed_restart"});
    LockSpec& lock = s_.lock;
    r.enumeration("backend", &lock.backend);
    load_lock_nodes(r);
    lock.region = s_.topology.regions.front().name;
    if (auto region = r.get("region")) region_value(*region, &lock.region);
    r.duration("ttl", &lock.ttl_us, true);
    r.duration("renew_every", &lock.renew_every_us);
    r.enumeration("fencing", &lock.fencing);
    r.ratio("drift_factor", &lock.drift_factor);
    r.boolean("persistence", &lock.persistence);
    if (r.boolean("replica", &lock.replica) && lock.replica && lock.backend != LockBackend::redis) {
      report(errors_, *r.get("replica"),
             fmt::format("only a redis lock has a replica (backend is {})", to_string(lock.backend)));
      lock.replica = false;
    }
    r.integer("max_ops_per_s", &lock.max_ops_per_s, 0);
    r.boolean("delayed_restart", &lock.delayed_restart);
  }

  void load_lock_nodes(const Reader& r) {
    LockSpec& lock = s_.lock;
    if (!r.has("nodes")) {
      if (lock.backend == LockBackend::redlock) lock.nodes = 3;
      return;
    }
    if (!r.integer("nodes", &lock.nodes, 1, kMaxNodes - 1)) return;
    const Item item = *r.get("nodes");
    switch (lock.backend) {
      case LockBackend::redlock:
        if (lock.nodes < 3 || lock.nodes % 2 == 0) {
          report(errors_, item,
                 fmt::format("redlock needs an odd number of independent masters, at least 3; got {}", lock.nodes));
        }
        break;
      case LockBackend::redis:
      case LockBackend::app_database:
        if (lock.nodes != 1) {
          report(errors_, item,
                 fmt::format("a {} lock is a single node, so nodes must be 1{}", to_string(lock.backend),
                             lock.backend == LockBackend::redis ? " (replica: true adds an async replica)" : ""));
        }
        break;
      case LockBackend::etcd:
      case LockBackend::zookeeper: break;  // any ensemble size >= 1; odd is usual but not required
    }
  }

  // How many lock-N nodes there are.
  int lock_node_count() const {
    switch (s_.lock.backend) {
      case LockBackend::redis: return s_.lock.replica ? 2 : 1;
      case LockBackend::app_database: return 0;
      default: return s_.lock.nodes;
    }
  }

  // -- engine ---------------------------------------------------------------------------------

  void load_engine(const Reader& r) {
    r.check_keys({"instances", "region", "start_jitter", "batch_size", "batch_pause", "backfill_source",
                  "max_replication_lag", "lock_timeout", "statement_timeout", "ddl_retries", "retries", "acquire_retries", "acquire_timeout",
                  "backoff", "rollout", "order", "health_gate", "validate", "on_failure"});
    EngineSpec& e = s_.engine;
    r.integer("instances", &e.instances, 1, kMaxNodes);
    e.region = s_.topology.regions.front().name;
    if (auto region = r.get("region")) region_value(*region, &e.region);
    r.range("start_jitter", &e.start_jitter);
    r.integer("batch_size", &e.batch_size, 0);
    r.duration("batch_pause", &e.batch_pause_us);
    r.enumeration("backfill_source", &e.backfill_source);
    r.duration("max_replication_lag", &e.max_replication_lag_us);
    r.duration("lock_timeout", &e.lock_timeout_us);
    r.duration("statement_timeout", &e.statement_timeout_us);
    r.integer("ddl_retries", &e.ddl_retries, 0, 1'000'000);
    r.integer("retries", &e.retries, 0, 1'000'000);  // an extension (docs/scenarios.md)
    r.integer("acquire_retries", &e.acquire_retries, 0, 1'000'000);  // likewise
    r.duration("acquire_timeout", &e.acquire_timeout_us);
    load_backoff(r.section("backoff"));
    r.enumeration("rollout", &e.rollout);
    load_order(r);
    const Reader gate = r.section("health_gate");
    gate.check_keys({"soak", "max_error_rate", "max_replication_lag"});
    gate.duration("soak", &e.health_gate.soak_us);
    gate.ratio("max_error_rate", &e.health_gate.max_error_rate);
    gate.duration("max_replication_lag", &e.health_gate.max_replication_lag_us);
    r.boolean("validate", &e.validate);
    r.enumeration("on_failure", &e.on_failure);
  }

  void load_backoff(const Reader& r) {
    r.check_keys({"base", "max", "jitter"});
    Backoff& b = s_.engine.backoff;
    r.duration("base", &b.base_us, true);
    r.duration("max", &b.max_us);
    r.enumeration("jitter", &b.jitter);
    if (b.max_us < b.base_us) {
      errors_.add(r.item().line, r.child_path("max"),
                  fmt::format("max ({}) is below base ({})", duration_text(b.max_us, DurationStyle::scenario),
                              duration_text(b.base_us, DurationStyle::scenario)));
    }
  }

  void load_order(const Reader& r) {
    std::vector<std::string>& order = s_.engine.order;
    const auto item = r.get("order");
    if (item) {
      for (const auto& element : list_items(errors_, *item, "a list of regions", true)) {
        std::string name;
        if (!region_value(element, &name)) continue;
        if (contains(order, name))
          report(errors_, element, fmt::format("region '{}' is listed twice", name));
        else
          order.push_back(name);
      }
      std::vector<std::string> missing;
      for (const auto& region : s_.topology.regions) {
        if (!contains(order, region.name)) missing.push_back(region.name);
      }
      if (!missing.empty()) report(errors_, *item, "must list every region once; missing: " + join(missing));
    }
    if (order.size() != s_.topology.regions.size()) {
      order.clear();
      for (const auto& region : s_.topology.regions) order.push_back(region.name);
    }
  }

  // -- table and migration ----------------------------------------------------------------------

  void load_table(const Reader& r) {
    r.check_keys({"name", "rows", "columns"});
    TableSpec& t = s_.table;
    if (r.text("name", &t.name) && !is_identifier(t.name)) {
      report(errors_, *r.get("name"), fmt::format("expected a table name of a-z, 0-9 and '_', got '{}'", t.name));
    }
    table_rows(r, &t);
    if (!r.has("columns")) return;
    const Reader columns = r.section("columns");
    check_column_count(r, columns);
    std::set<std::string> names;
    for (const auto& [key, value] : columns.entries()) load_column(key, value, false, &names, &t.columns);
  }

  void table_rows(const Reader& r, TableSpec* t) {
    if (r.integer("rows", &t->rows, 0) && t->rows > kMaxRows) {
      past_limit(*r.get("rows"), fmt::format("{} rows is above the limit of {} (the simulated table keeps every "
                                             "row in memory; a few thousand rows rehearse a backfill as well)",
                                             t->rows, kMaxRows));
    }
  }

  void check_column_count(const Reader& table, const Reader& columns) {
    if (columns.entries().size() > kMaxColumns) {
      past_limit(*table.get("columns"), fmt::format("{} columns is above the limit of {} (PostgreSQL's own limit "
                                                    "of columns per table)",
                                                    columns.entries().size(), kMaxColumns));
    }
  }

  // -- many tables: `tables:` and `schema:` (real-migrations.md, "Schema: many tables") ----------

  // `table:` is the one-table form; `tables:` (with or without `schema:`) the many-table form.
  void load_tables(const Reader& r) {
    const Item* table = r.get("table");
    const Item* tables = r.get("tables");
    const Item* schema = r.get("schema");
    if (table != nullptr && (tables != nullptr || schema != nullptr)) {
      report(errors_, tables != nullptr ? *tables : *schema,
             fmt::format("`table:` (the one-table form, line {}) and `{}` cannot both be given: list every table "
                         "under `tables:` (or take them from `schema:`)",
                         table->line, tables != nullptr ? "tables:" : "schema:"));
      return;
    }
    if (tables == nullptr && schema == nullptr) return load_table(r.section("table"));
    std::vector<TableSpec> schema_tables;
    if (schema != nullptr && !load_schema(*schema, &schema_tables)) return;
    std::vector<TableSpec> listed;
    if (tables != nullptr) listed = load_table_list(*tables, schema != nullptr ? &schema_tables : nullptr);
    // The first table is the first listed, else the schema's first; the rest in declaration order.
    std::vector<TableSpec> ordered = schema != nullptr ? std::move(schema_tables) : std::move(listed);
    if (schema != nullptr && !listed.empty()) {
      const std::string first_name = listed.front().name;
      for (TableSpec& t : listed) {
        *std::find_if(ordered.begin(), ordered.end(), [&](const TableSpec& x) { return x.name == t.name; }) = std::move(t);
      }
      const auto first = std::find_if(ordered.begin(), ordered.end(), [&](const TableSpec& x) { return x.name == first_name; });
      std::rotate(ordered.begin(), first, first + 1);
    }
    if (ordered.empty()) {
      report(errors_, tables != nullptr ? *tables : *schema, "needs at least one table");
      return;
    }
    s_.table = std::move(ordered.front());
    s_.more_tables.assign(std::make_move_iterator(ordered.begin() + 1), std::make_move_iterator(ordered.end()));
    if (schema == nullptr) check_references();
  }

  // Reads `schema: FILE.sql` (relative to the scenario file) with PostgreSQL's parser.
  bool load_schema(const Item& item, std::vector<TableSpec>* tables) {
    std::string written;
    if (!to_scalar(errors_, item, "the path of a .sql file", &written)) return false;
    std::filesystem::path path = written;
    if (path.is_relative() && s_.source_path.rfind("builtin:", 0) != 0)
      path = std::filesystem::path(s_.source_path).parent_path() / path;
    path = path.lexically_normal();
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    if (!in || !(text << in.rdbuf())) {
      report(errors_, item, fmt::format("cannot read schema file '{}' (a path is relative to the scenario's directory)", path.string()));
      return false;
    }
    SchemaSql schema = read_schema_sql(text.str(), path.string());
    for (const SchemaSqlError& e : schema.errors) {
      errors_.add(ScenarioError{path.string(), e.line, "", e.column > 0 ? fmt::format("column {}: {}", e.column, e.message) : e.message});
    }
    if (!schema.errors.empty()) return false;
    for (TableSpec& t : schema.tables) t.rows = kSchemaTableRowsDefault;
    s_.schema_path = path.string();
    s_.enum_types = std::move(schema.enum_types);
    for (const SkippedStatements& skipped : schema.skipped) s_.schema_skipped.push_back(fmt::format("{} ({})", skipped.kind, skipped.count));
    *tables = std::move(schema.tables);
    return true;
  }

  // The entries of `tables:`. With a schema they size the schema's tables and tune their
  // columns' draws; without one they declare the tables.
  std::vector<TableSpec> load_table_list(const Item& item, std::vector<TableSpec>* schema_tables) {
    std::vector<TableSpec> out;
    for (const Item& element : list_items(errors_, item, "a list of tables")) {
      const Reader r(errors_, element);
      if (!element.node.IsMap()) continue;
      TableSpec t;
      t.file = s_.source_path;
      t.line = element.line;
      if (!r.require("name") || !r.text("name", &t.name)) continue;
      if (std::any_of(out.begin(), out.end(), [&](const TableSpec& x) { return x.name == t.name; })) {
        report(errors_, *r.get("name"), fmt::format("table '{}' is listed twice", t.name));
        continue;
      }
      if (schema_tables != nullptr) {
        r.check_keys({"name", "rows", "columns"});
        const auto found = std::find_if(schema_tables->begin(), schema_tables->end(), [&](const TableSpec& x) { return x.name == t.name; });
        if (found == schema_tables->end()) {
          std::vector<std::string> names;
          for (const TableSpec& x : *schema_tables) names.push_back(x.name);
          report(errors_, *r.get("name"), fmt::format("no table '{}' in the schema file{} (tables: {})", t.name, suggestion(t.name, names), join(names)));
          continue;
        }
        t = *found;
        table_rows(r, &t);
        tune_schema_columns(r, &t);
      } else {
        r.check_keys({"name", "rows", "columns", "primary_key", "indexes", "constraints", "references"});
        if (!is_identifier(t.name))
          report(errors_, *r.get("name"), fmt::format("expected a table name of a-z, 0-9 and '_', got '{}'", t.name));
        table_rows(r, &t);
        declare_table(r, &t);
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  // A schema table's columns take only `gen`, `nullable` and `scale` from the scenario.
  void tune_schema_columns(const Reader& r, TableSpec* t) {
    if (!r.has("columns")) return;
    const Reader columns = r.section("columns");
    for (const auto& [key, value] : columns.entries()) {
      const std::string& name = key.node.Scalar();
      const auto column = std::find_if(t->columns.begin(), t->columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
      if (column == t->columns.end()) {
        std::vector<std::string> names;
        for (const ColumnSpec& c : t->columns) names.push_back(c.name);
        report(errors_, key, fmt::format("no column '{}' in table {} of the schema file{} (columns: {})", name, t->name, suggestion(name, names), join(names)));
        continue;
      }
      const Reader c(errors_, value);
      c.check_keys({"gen", "nullable", "scale"});
      c.ratio("nullable", &column->nullable);
      if (c.integer("scale", &column->scale, 0, 30) && column->scale != 0 && column->type != ColumnType::numeric)
        report(errors_, *c.get("scale"), "scale is only for numeric columns");
      if (c.text("gen", &column->gen)) {
        column->gen_written = true;
        if (const std::string problem = gen_problem(*column); !problem.empty()) report(errors_, *c.get("gen"), problem);
      }
    }
  }

  // A table declared in the scenario: its columns, key, indexes and constraints.
  void declare_table(const Reader& r, TableSpec* t) {
    if (r.has("columns")) {
      const Reader columns = r.section("columns");
      check_column_count(r, columns);
      std::set<std::string> names;
      for (const auto& [key, value] : columns.entries()) load_column(key, value, true, &names, &t->columns);
    }
    std::vector<std::string> known = {"id"};
    for (const ColumnSpec& c : t->columns) known.push_back(c.name);
    if (auto key = r.get("primary_key")) t->primary_key = column_names(*key, known, t->name);
    if (auto indexes = r.get("indexes")) {
      for (const Item& element : list_items(errors_, *indexes, "a list of indexes")) load_index(element, known, t);
    }
    if (auto constraints = r.get("constraints")) {
      for (const Item& element : list_items(errors_, *constraints, "a list of constraints")) load_constraint(element, known, t);
    }
    if (auto references = r.get("references")) {
      for (const Item& element : list_items(errors_, *references, "a list of references")) load_reference(element, known, t);
    }
  }

  // A list of column names of table `table` (one name is a one-element list).
  std::vector<std::string> column_names(const Item& item, const std::vector<std::string>& known, const std::string& table) {
    std::vector<std::string> out;
    const auto items = list_items(errors_, item, "a list of columns", true);
    if (items.empty() && item.node.IsSequence()) report(errors_, item, "needs at least one column");
    for (const Item& element : items) {
      std::string name;
      if (!to_text(errors_, element, &name)) continue;
      if (!contains(known, name))
        report(errors_, element, fmt::format("no column '{}' in table {}{} (columns: {})", name, table, suggestion(name, known), join(known)));
      else if (contains(out, name))
        report(errors_, element, fmt::format("column '{}' is listed twice", name));
      else
        out.push_back(name);
    }
    return out;
  }

  void load_index(const Item& item, const std::vector<std::string>& known, TableSpec* t) {
    const Reader r(errors_, item);
    if (!item.node.IsMap()) return;
    r.check_keys({"name", "columns", "unique", "method", "where"});
    IndexSpec index;
    index.line = item.line;
    if (r.require("columns")) index.columns = column_names(*r.get("columns"), known, t->name);
    if (!r.text("name", &index.name) && !index.columns.empty()) index.name = fmt::format("{}_{}_idx", t->name, index.columns.front());
    r.boolean("unique", &index.unique);
    r.text("method", &index.method);
    r.text("where", &index.predicate);
    t->indexes.push_back(std::move(index));
  }

  // {name, check: EXPR} or {name, unique: [columns]}.
  void load_constraint(const Item& item, const std::vector<std::string>& known, TableSpec* t) {
    const Reader r(errors_, item);
    if (!item.node.IsMap()) return;
    r.check_keys({"name", "check", "unique"});
    ConstraintSpec c;
    c.line = item.line;
    if (r.has("check") == r.has("unique")) {
      report(errors_, item, "expected one of `check: EXPRESSION` or `unique: [columns]`");
      return;
    }
    if (r.has("check")) {
      c.kind = ConstraintKind::check;
      if (r.text("check", &c.check) && c.check.empty()) report(errors_, *r.get("check"), "expected an expression, got an empty string");
    } else {
      c.kind = ConstraintKind::unique;
      c.columns = column_names(*r.get("unique"), known, t->name);
    }
    if (!r.text("name", &c.name))
      c.name = fmt::format("{}{}_{}", t->name, c.columns.empty() ? "" : "_" + c.columns.front(), c.kind == ConstraintKind::check ? "check" : "key");
    t->constraints.push_back(std::move(c));
  }

  // {columns, table, to, on_delete}: a foreign key, checked against its table once all are read.
  void load_reference(const Item& item, const std::vector<std::string>& known, TableSpec* t) {
    const Reader r(errors_, item);
    if (!item.node.IsMap()) return;
    r.check_keys({"name", "columns", "table", "to", "on_delete"});
    ConstraintSpec c;
    c.kind = ConstraintKind::foreign_key;
    c.line = item.line;
    if (r.require("columns")) c.columns = column_names(*r.get("columns"), known, t->name);
    if (r.require("table")) r.text("table", &c.ref_table);
    if (auto to = r.get("to")) {
      for (const Item& element : list_items(errors_, *to, "a list of columns", true)) {
        std::string name;
        if (to_text(errors_, element, &name)) c.ref_columns.push_back(name);
      }
    }
    if (r.text("on_delete", &c.on_delete)) {
      static const std::vector<std::string> kActions = {"no action", "restrict", "cascade", "set null", "set default"};
      if (!contains(kActions, c.on_delete))
        report(errors_, *r.get("on_delete"), fmt::format("expected one of {}, got '{}'", join(kActions), c.on_delete));
      if (c.on_delete == "no action") c.on_delete.clear();
    }
    if (!r.text("name", &c.name))
      c.name = fmt::format("{}{}_fkey", t->name, c.columns.empty() ? "" : "_" + c.columns.front());
    pending_references_.push_back({t->name, c.name, r.get("table") ? *r.get("table") : item, r.get("to") ? *r.get("to") : item});
    t->constraints.push_back(std::move(c));
  }

  // Every `references:` entry names a table of the scenario and columns it has.
  void check_references() {
    for (const PendingReference& p : pending_references_) {
      const TableSpec* from = find_table(s_, p.table);
      if (from == nullptr) continue;
      const auto c = std::find_if(from->constraints.begin(), from->constraints.end(), [&](const ConstraintSpec& x) { return x.name == p.constraint; });
      if (c == from->constraints.end() || c->ref_table.empty()) continue;
      const TableSpec* to = find_table(s_, c->ref_table);
      if (to == nullptr) {
        std::vector<std::string> names;
        for (const TableSpec* x : all_tables(s_)) names.push_back(x->name);
        report(errors_, p.table_item, fmt::format("no table '{}' to reference{} (tables: {})", c->ref_table, suggestion(c->ref_table, names), join(names)));
        continue;
      }
      std::vector<std::string> known = {"id"};
      for (const ColumnSpec& column : to->columns) known.push_back(column.name);
      for (const std::string& name : c->ref_columns) {
        if (!contains(known, name))
          report(errors_, p.to_item, fmt::format("no column '{}' in table {}{} (columns: {})", name, to->name, suggestion(name, known), join(known)));
      }
    }
  }

  // Why `column.gen` cannot draw values of the column's type, or "" (see sim/database.cc's
  // generate_value: a range, email, uuid or one_of(...)).
  static std::string gen_problem(const ColumnSpec& column) {
    const GenForm form = parse_gen(column.gen);
    const std::string type = to_string(column.type);
    const bool integral = column.type == ColumnType::bigint || column.type == ColumnType::integer;
    switch (form.kind) {
      case GenForm::Kind::type_default: return "";
      case GenForm::Kind::range:
        return column.type == ColumnType::boolean ? "a range cannot draw boolean values (leave gen out: true or false at random)" : "";
      case GenForm::Kind::email:
      case GenForm::Kind::uuid:
        return column.type == ColumnType::text ? "" : fmt::format("{} draws text, but the column is {}", column.gen, type);
      case GenForm::Kind::one_of:
        if (!integral && column.type != ColumnType::text) return fmt::format("one_of(...) draws text or integers, but the column is {}", type);
        for (const std::string& choice : form.choices) {
          if (integral && !parse_int(choice)) return fmt::format("one_of(...) on a {} column takes integers, got '{}'", type, choice);
        }
        return "";
      case GenForm::Kind::invalid: break;
    }
    if (column.gen.find("..") != std::string::npos) {
      return fmt::format("expected a range LOW..HIGH of integers with LOW <= HIGH, got '{}'", column.gen);
    }
    if (column.gen.rfind("one_of(", 0) == 0) return fmt::format("one_of(...) has an empty choice in '{}'", column.gen);
    return fmt::format("expected a range such as 0..100, email, uuid or one_of(a,b,...), got '{}'", column.gen);
  }

  // A column of `table:` or of a table declared under `tables:` (`extended`: with `not_null`
  // and `default`).
  void load_column(const Item& key, const Item& value, bool extended, std::set<std::string>* names,
                   std::vector<ColumnSpec>* out) {
    ColumnSpec column;
    column.name = key.node.Scalar();
    column.line = key.line;
    const Reader r(errors_, value);
    if (extended)
      r.check_keys({"type", "gen", "scale", "nullable", "not_null", "default"});
    else
      r.check_keys({"type", "gen", "scale", "nullable"});
    if (r.require("type")) column_type(*r.get("type"), &column);
    if (r.text("gen", &column.gen)) {
      column.gen_written = true;
      if (const std::string problem = gen_problem(column); !problem.empty()) report(errors_, *r.get("gen"), problem);
    }
    if (r.integer("scale", &column.scale, 0, 30) && column.scale != 0 && column.type != ColumnType::numeric) {
      report(errors_, *r.get("scale"), "scale is only for numeric columns");
    }
    r.ratio("nullable", &column.nullable);
    if (extended) {
      r.boolean("not_null", &column.not_null);
      r.text("default", &column.default_sql);
    }
    if (column.name == "id") {
      report(errors_, key, "'id' is reserved: every table has an implicit `id bigint primary key`");
    } else if (!is_identifier(column.name)) {
      report(errors_, key, fmt::format("expected a column name of a-z, 0-9 and '_', got '{}'", column.name));
    } else if (!names->insert(column.name).second) {
      report(errors_, key, fmt::format("column '{}' is listed twice", column.name));
    } else {
      out->push_back(column);
    }
  }

  // A column's `type`: one of the scenario types, or a PostgreSQL type the simulator holds as
  // the nearest of them (core/schema_sql.h), keeping its spelling and drawing its default gen.
  // False (reported) when the type is neither.
  bool column_type(const Item& item, ColumnSpec* column) {
    const auto names = enum_names<ColumnType>();
    std::string text;
    if (!to_scalar(errors_, item, "one of " + join(names), &text)) return false;
    if (auto v = enum_from<ColumnType>(text)) {
      column->type = *v;
      return true;
    }
    std::string why;
    const std::optional<SimulatedType> type = simulated_type(text, s_.enum_types, &why);
    if (!type) {
      report(errors_, item, fmt::format("expected one of {}, or a PostgreSQL type the simulator draws, got '{}'{}: {}",
                                        join(names), text, suggestion(text, names), why));
      return false;
    }
    column->type = type->type;
    column->scale = type->scale;
    column->sql_type = type->sql_type;
    column->gen = type->default_gen;
    return true;
  }

  // An operation's column type (pgroll writes PostgreSQL's: `varchar(255)`, `int`): simulated as
  // the nearest scenario type, as a table's column is.
  void operation_type(const Item& item, Operation* op) {
    ColumnSpec column;
    if (column_type(item, &column)) op->type = column.type;
  }

  void load_migration(const Reader& r) {
    r.check_keys({"name", "operations", "from", "mode"});
    MigrationSpec& m = s_.migration;
    if (r.text("name", &m.name) && m.name.empty())
      report(errors_, *r.get("name"), "expected a name, got an empty string");
    const auto ops = r.get("operations");
    const auto from = r.get("from");
    if (ops != nullptr && from != nullptr) {
      report(errors_, *from, "a migration takes `from:` (its files) or `operations:` (written inline), not both");
      return;
    }
    // The columns of every table at each point of the migration.
    std::map<std::string, std::vector<std::string>> tables;
    for (const TableSpec* table : all_tables(s_)) {
      std::vector<std::string>& columns = tables[table->name];
      columns = {"id"};
      for (const auto& c : table->columns) columns.push_back(c.name);
    }
    if (from != nullptr) {
      load_migration_files(*from, r.get("mode"), !r.has("name"), &tables);
      return;
    }
    if (const Item* mode = r.get("mode")) report(errors_, *mode, "`mode:` applies to a migration read `from:` files");
    if (!ops) return;
    for (const auto& item : list_items(errors_, *ops, "a list of operations", false, true)) {
      if (auto op = load_operation(item, &tables)) m.operations.push_back(*op);
    }
  }

  // `migration.from`: one file or a list of files in order (paths relative to the scenario's
  // directory). pgroll migrations (.json, .yaml, .yml) are read with pgroll's field names, each
  // operation as it would be inline, errors at the pgroll file's line; they run expand-contract.
  // SQL files (.sql) are read with PostgreSQL's parser (core/sql_migration.h), errors at the SQL
  // file's line and column; they run as-written unless `mode: expand-contract`.
  void load_migration_files(const Item& from, const Item* mode, bool name_from_files, Tables* tables) {
    std::string written_mode;
    if (mode != nullptr && to_scalar(errors_, *mode, "expand-contract or as-written", &written_mode) &&
        written_mode != "expand-contract" && written_mode != "as-written") {
      report(errors_, *mode, fmt::format("expected expand-contract or as-written, got '{}'", written_mode));
      written_mode.clear();
    }
    const std::size_t pgroll_before = s_.migration.from.size();
    bool any_sql = false;
    for (const Item& entry : list_items(errors_, from, "a file or a list of files", true)) {
      std::string written;
      if (!to_scalar(errors_, entry, "the path of a pgroll migration (.json, .yaml)", &written)) continue;
      std::filesystem::path path = written;
      if (path.is_relative() && s_.source_path.rfind("builtin:", 0) != 0)
        path = std::filesystem::path(s_.source_path).parent_path() / path;
      path = path.lexically_normal();
      const std::string extension = path.extension().string();
      if (extension == ".sql") {
        any_sql = true;
        load_sql_file(entry, path);
        if (name_from_files) s_.migration.name = path.stem().string();  // Flyway names a migration after its file
        continue;
      }
      if (extension != ".json" && extension != ".yaml" && extension != ".yml") {
        report(errors_, entry, fmt::format("'{}': expected a pgroll migration (.json, .yaml or .yml)", path.string()));
        continue;
      }
      std::string problem;
      const std::optional<std::string> text = read_yaml_file(path.string(), &problem);
      if (!text) {
        report(errors_, entry, fmt::format("'{}': {} (a path is relative to the scenario's directory)", path.string(), problem));
        continue;
      }
      Errors file_errors(path.string());
      ScenarioLoader in_file(file_errors, s_);
      try {
        in_file.load_pgroll_file(*text, tables);
      } catch (const LimitReached&) {
      }
      std::size_t not_shown = 0;
      for (ScenarioError& error : file_errors.take(&not_shown)) errors_.add(std::move(error));
      s_.migration.from.push_back(path.string());
      if (name_from_files) s_.migration.name = path.stem().string();  // pgroll names a migration after its file
    }
    const bool any_pgroll = s_.migration.from.size() > pgroll_before + s_.migration.sql.size();
    if (any_pgroll && written_mode == "as-written") report(errors_, *mode, "as-written runs SQL files; pgroll migrations run expand-contract");
    if (any_pgroll && any_sql) report(errors_, from, "a migration reads SQL files or pgroll files, not both");
    if (any_sql && !any_pgroll) finish_sql_files(from, written_mode != "expand-contract");
  }

  // One SQL migration file: its text kept for the plan, its statements parsed now so that a file
  // PostgreSQL would refuse is a load error at its line and column.
  void load_sql_file(const Item& entry, const std::filesystem::path& path) {
    std::string problem;
    const std::optional<std::string> text = read_yaml_file(path.string(), &problem);
    if (!text) {
      report(errors_, entry, fmt::format("'{}': {} (a path is relative to the scenario's directory)", path.string(), problem));
      return;
    }
    const SqlMigration read = read_sql_migration(*text, path.string(), s_);
    for (const SqlFileError& error : read.errors) {
      errors_.add(ScenarioError{path.string(), error.line, "",
                                error.column > 0 ? fmt::format("column {}: {}", error.column, error.message) : error.message});
    }
    s_.migration.sql.push_back(SqlFile{path.string(), *text});
    s_.migration.from.push_back(path.string());
  }

  // as-written: the plan runs the statements; expand-contract: they become operations here, or
  // the first that cannot is an error naming it.
  void finish_sql_files(const Item& from, bool as_written) {
    s_.migration.mode = as_written ? MigrationMode::as_written : MigrationMode::expand_contract;
    if (as_written || !errors_.empty()) return;
    const Result<std::vector<SqlStatement>> statements = sql_statements(s_);
    if (!statements.is_ok()) return report(errors_, from, statements.status().message());
    const Result<std::vector<Operation>> operations = sql_operations(statements.value());
    if (!operations.is_ok()) return report(errors_, from, operations.status().message());
    for (const Operation& op : operations.value()) s_.migration.operations.push_back(op);
  }

  // One pgroll migration file: `{name, operations}` (JSON is YAML).
  void load_pgroll_file(const std::string& text, Tables* tables) {
    const YamlDocuments parsed = parse_yaml(text);
    if (parsed.error) {
      errors_.add(parsed.error->line, "", parsed.error->describe());
      return;
    }
    if (parsed.documents.size() != 1) {
      errors_.add(0, "", fmt::format("expected one pgroll migration, got {} documents", parsed.documents.size()));
      return;
    }
    const Reader r(errors_, Item{parsed.documents.front(), "", 1});
    if (!r.item().node.IsMap()) return;
    r.check_keys({"name", "operations", "version_schema"});
    std::string name;
    if (r.has("name")) r.text("name", &name);
    if (!r.require("operations")) return;
    for (const auto& item : list_items(errors_, *r.get("operations"), "a list of operations")) {
      if (auto op = load_operation(item, tables)) s_.migration.operations.push_back(*op);
    }
  }

  std::optional<Operation> load_operation(const Item& item, Tables* tables) {
    const Reader outer(errors_, item);
    if (!item.node.IsMap()) return std::nullopt;
    std::vector<std::string> kinds = enum_names<OperationKind>();
    if (outer.entries().size() != 1) {
      report(errors_, item,
             "expected one operation (" + join(kinds) + ") per list entry, got " +
                 std::to_string(outer.entries().size()) + " keys");
      return std::nullopt;
    }
    const auto& [key, value] = outer.entries().front();
    const auto kind = enum_from<OperationKind>(key.node.Scalar());
    if (!kind) {
      report(errors_, key,
             "unknown operation" + suggestion(key.node.Scalar(), kinds) + " (operations: " + join(kinds) + ")");
      return std::nullopt;
    }
    const Reader r(errors_, value);
    const bool pgroll_form = (*kind == OperationKind::add_column && r.has("column") && r.get("column")->node.IsMap()) ||
                             (*kind == OperationKind::rename_column && r.has("from"));
    const OperationFields& fields =
        pgroll_form ? kPgrollForms[*kind == OperationKind::add_column ? 0 : 1] : kOperations[static_cast<std::size_t>(*kind)];
    std::vector<std::string> allowed = fields.required;
    allowed.insert(allowed.end(), fields.optional.begin(), fields.optional.end());
    r.check_keys(allowed);
    bool complete = true;
    for (const auto& f : fields.required) complete = r.require(f) && complete;
    Operation op;
    op.kind = *kind;
    op.line = item.line;
    if (r.has("type") && *kind != OperationKind::create_constraint) operation_type(*r.get("type"), &op);
    if (!complete || !value.node.IsMap()) return std::nullopt;
    if (r.has("table") && !r.text("table", &op.table)) return std::nullopt;
    if (!op.table.empty() && tables->count(op.table) == 0) {
      report(errors_, *r.get("table"), fmt::format("no table '{}' at this point{} (tables: {})", op.table,
                                                  suggestion(op.table, keys_of(*tables)), join(keys_of(*tables))));
      return std::nullopt;
    }
    if (*kind >= OperationKind::create_table) return load_pgroll_operation(r, op, tables) ? std::optional<Operation>(op) : std::nullopt;
    std::vector<std::string>* columns = &(*tables)[op.table.empty() ? s_.table.name : op.table];
    if (pgroll_form && *kind == OperationKind::add_column) {
      return pgroll_add_column(r, op, *tables, columns) ? std::optional<Operation>(op) : std::nullopt;
    }
    if (pgroll_form) {  // rename_column {from, to}: today's rename under pgroll's names
      if (!to_text(errors_, *r.get("from"), &op.column)) return std::nullopt;
      if (!contains(*columns, op.column) || op.column == "id") {
        report(errors_, *r.get("from"), fmt::format("no column '{}' to rename at this point (columns: {})", op.column, join(*columns)));
        return std::nullopt;
      }
      if (!rename_target(*r.get("to"), *columns, &op.to)) return std::nullopt;
      *std::find(columns->begin(), columns->end(), op.column) = op.to;
      return op;
    }
    if (*kind == OperationKind::alter_column && !column_settings(r, false, *tables, &op)) return std::nullopt;
    return check_operation(r, op, columns) ? std::optional<Operation>(op) : std::nullopt;
  }

  // Checks an operation against the columns that exist before it, and applies it to them.
  bool check_operation(const Reader& r, Operation& op, std::vector<std::string>* columns) {
    if (op.kind == OperationKind::create_index) return index_columns(*r.get("columns"), *columns, &op.columns) && index_settings(r, op);
    const Item column = *r.get("column");
    if (!to_text(errors_, column, &op.column)) return false;
    const bool exists = contains(*columns, op.column);
    if (op.kind == OperationKind::add_column) {
      if (exists) return report(errors_, column, fmt::format("column '{}' already exists", op.column)), false;
      if (!is_identifier(op.column))
        return report(errors_, column, fmt::format("expected a column name of a-z, 0-9 and '_', got '{}'", op.column)),
               false;
    } else if (!exists) {
      return report(errors_, column,
                    fmt::format("no column '{}' at this point (columns: {})", op.column, join(*columns))),
             false;
    } else if (op.column == "id" && op.kind != OperationKind::add_not_null) {
      return report(errors_, column, "the implicit primary key 'id' cannot be changed"), false;
    }
    bool ok = true;
    if (auto up = r.get("up")) ok = expression(*up, *columns, &op.up) && ok;
    if (auto down = r.get("down")) ok = expression(*down, *columns, &op.down) && ok;
    if (op.kind == OperationKind::rename_column) ok = rename_target(*r.get("to"), *columns, &op.to) && ok;
    if (op.kind == OperationKind::alter_column && r.has("name")) ok = rename_target(*r.get("name"), *columns, &op.to) && ok;
    if (!ok) return false;
    if (op.kind == OperationKind::add_column) columns->push_back(op.column);
    if (op.kind == OperationKind::drop_column) columns->erase(std::find(columns->begin(), columns->end(), op.column));
    if (!op.to.empty()) *std::find(columns->begin(), columns->end(), op.column) = op.to;
    return true;
  }

  // ---- pgroll's operations (real-migrations.md "Migration sources")

  static std::vector<std::string> keys_of(const Tables& tables) {
    std::vector<std::string> names;
    for (const auto& [name, columns] : tables) names.push_back(name);
    return names;
  }

  // A scalar that must be one of `allowed` (compared without case when `any_case`).
  bool one_of(const Item& item, const std::vector<std::string>& allowed, bool any_case, std::string* out) {
    const std::string expected = "one of " + join(allowed);
    if (!to_scalar(errors_, item, expected, out)) return false;
    std::string upper = *out;
    if (any_case) {
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (contains(allowed, upper)) return *out = upper, true;
    report(errors_, item, fmt::format("expected {}, got '{}'{}", expected, *out, suggestion(*out, allowed)));
    return false;
  }

  bool identifier(const Item& item, const char* what, std::string* out) {
    if (!to_text(errors_, item, out)) return false;
    if (is_identifier(*out)) return true;
    report(errors_, item, fmt::format("expected {} of a-z, 0-9 and '_', got '{}'", what, *out));
    return false;
  }

  // The settings pgroll gives a column (add_column's `column:`, alter_column's own keys):
  // nullable, default, unique, check, references, comment. `adding`: a new column, where
  // `unique` is true/false and `default: null` is no default; else `unique` is {name} (or true)
  // and `default: null` drops the default.
  bool column_settings(const Reader& c, bool adding, const Tables& tables, Operation* op) {
    bool ok = true;
    if (c.has("nullable")) {
      bool nullable = true;
      ok = c.boolean("nullable", &nullable) && ok;
      op->nullable = nullable;
    }
    if (const Item* item = c.get("default")) {
      std::string text;
      if (item->node.IsNull()) {
        if (!adding) op->default_sql = "";
      } else if (to_scalar(errors_, *item, "an SQL expression or null", &text)) {
        if (text.empty()) report(errors_, *item, "expected an SQL expression, got an empty string"), ok = false;
        op->default_sql = text;
      } else {
        ok = false;
      }
    }
    if (const Item* item = c.get("comment")) {
      std::string text;  // `comment: null` removes the comment, as '' does in PostgreSQL
      if (!item->node.IsNull()) ok = to_text(errors_, *item, &text) && ok;
      op->comment = text;
    }
    if (const Item* item = c.get("unique")) ok = unique_setting(*item, op) && ok;
    if (const Item* item = c.get("check")) {
      const Reader check(errors_, *item);
      check.check_keys({"name", "constraint"});
      ConstraintSpec spec{.kind = ConstraintKind::check, .line = item->line};
      ok = check.require("name") && check.require("constraint") && ok;
      if (check.has("name")) ok = identifier(*check.get("name"), "a constraint name", &spec.name) && ok;
      if (check.has("constraint")) ok = check.text("constraint", &spec.check) && ok;
      op->constraints.push_back(spec);
    }
    if (const Item* item = c.get("references")) {
      const Reader ref(errors_, *item);
      ref.check_keys({"name", "table", "column", "on_delete", "on_update", "match_type", "deferrable", "initially_deferred"});
      ConstraintSpec spec{.kind = ConstraintKind::foreign_key, .line = item->line};
      ok = ref.require("name") && ref.require("table") && ref.require("column") && ok;
      if (ref.has("name")) ok = identifier(*ref.get("name"), "a constraint name", &spec.name) && ok;
      if (ref.has("table") && ref.has("column")) {
        ok = referenced(*ref.get("table"), *ref.get("column"), tables, &spec) && ok;
      }
      if (const Item* on_delete = ref.get("on_delete")) ok = one_of(*on_delete, kOnDelete, true, &spec.on_delete) && ok;
      op->constraints.push_back(spec);
    }
    return ok;
  }

  bool unique_setting(const Item& item, Operation* op) {
    ConstraintSpec spec{.kind = ConstraintKind::unique, .line = item.line};
    if (item.node.IsMap()) {
      const Reader unique(errors_, item);
      unique.check_keys({"name"});
      if (!unique.require("name") || !identifier(*unique.get("name"), "a constraint name", &spec.name)) return false;
      op->constraints.push_back(spec);
      return true;
    }
    bool on = false;
    if (!to_bool(errors_, item, &on)) return false;
    if (on) op->constraints.push_back(spec);  // named by the plan as PostgreSQL would: t_c_key
    return true;
  }

  // A foreign key's referenced table and column(s): the table must exist at this point and
  // have them.
  bool referenced(const Item& table, const Item& columns, const Tables& tables, ConstraintSpec* spec) {
    if (!to_text(errors_, table, &spec->ref_table)) return false;
    const auto found = tables.find(spec->ref_table);
    if (found == tables.end()) {
      report(errors_, table, fmt::format("no table '{}' at this point (tables: {})", spec->ref_table, join(keys_of(tables))));
      return false;
    }
    return index_columns(columns, found->second, &spec->ref_columns);
  }

  // pgroll's add_column: {table, column: {name, type, nullable, default, unique, check,
  // references, pk, comment}, up}. `nullable` is false unless written (pgroll's default).
  bool pgroll_add_column(const Reader& r, Operation& op, const Tables& tables, std::vector<std::string>* columns) {
    const Item& item = *r.get("column");
    const Reader c(errors_, item);
    c.check_keys(kPgrollColumnKeys);
    bool ok = c.require("name") && c.require("type");
    if (c.has("name")) ok = identifier(*c.get("name"), "a column name", &op.column) && ok;
    if (c.has("type")) operation_type(*c.get("type"), &op);
    ok = op.type.has_value() && column_settings(c, true, tables, &op) && ok;
    if (const Item* generated = c.get("generated")) return report(errors_, *generated, "generated on add_column is not simulated: add the column, then fill it with up"), false;
    if (const Item* pk = c.get("pk")) {
      bool on = false;
      if (!to_bool(errors_, *pk, &on)) return false;
      if (on) return report(errors_, *pk, "pk: true is not supported yet: every table's key is its implicit `id`"), false;
    }
    if (!ok) return false;
    if (!op.nullable) op.nullable = false;
    if (auto up = r.get("up"); up && !expression(*up, *columns, &op.up)) return false;
    if (op.nullable == false && op.up.empty() && !op.default_sql) {
      report(errors_, item, fmt::format("column '{}' is NOT NULL (nullable: false is pgroll's default): it needs `up` or "
                                        "`default` to fill the rows already there", op.column));
      return false;
    }
    if (contains(*columns, op.column)) return report(errors_, *c.get("name"), fmt::format("column '{}' already exists", op.column)), false;
    for (ConstraintSpec& spec : op.constraints) {
      if (spec.kind == ConstraintKind::check && !spec.check.empty()) ok = check_columns(*c.get("check"), spec.check, *columns, op.column) && ok;
    }
    if (ok) columns->push_back(op.column);
    return ok;
  }

  // A CHECK expression may name the table's columns (and `extra`, the column it is added with).
  // One outside rehearse's expression subset is accepted as written: PostgreSQL checks it live;
  // the simulator does not evaluate it (docs/scenarios.md).
  bool check_columns(const Item& item, const std::string& check, std::vector<std::string> columns, const std::string& extra) {
    ExprParseError error;
    const auto expr = parse_expression(check, &error);
    if (!expr) return true;
    if (!extra.empty()) columns.push_back(extra);
    for (const auto& column : expr->columns()) {
      if (contains(columns, column)) continue;
      report(errors_, item, fmt::format("unknown column '{}' in the check (columns at this point: {})", column, join(columns)));
      return false;
    }
    return true;
  }

  bool index_settings(const Reader& r, Operation& op) {
    bool ok = true;
    if (const Item* name = r.get("name")) ok = identifier(*name, "an index name", &op.name) && ok;
    if (r.has("unique")) ok = r.boolean("unique", &op.unique) && ok;
    if (const Item* method = r.get("method")) ok = one_of(*method, kIndexMethods, false, &op.method) && ok;
    if (r.has("predicate")) ok = r.text("predicate", &op.predicate) && ok;
    if (r.has("storage_parameters")) ok = r.text("storage_parameters", &op.storage_parameters) && ok;
    return ok;
  }

  // `up` / `down` of the drop_*constraint operations: checked, and not needed by rehearse's
  // in-place DROP CONSTRAINT (pgroll rebuilds the column; dropping a constraint needs no rows
  // rewritten). drop_multicolumn_constraint writes them per column.
  bool constraint_rewrites(const Reader& r, bool per_column, const std::vector<std::string>& columns) {
    bool ok = true;
    for (const char* key : {"up", "down"}) {
      const Item* item = r.get(key);
      if (item == nullptr) continue;
      std::string ignored;
      if (!per_column) {
        ok = expression(*item, columns, &ignored) && ok;
        continue;
      }
      const Reader map(errors_, *item);
      for (const auto& [column, text] : map.entries()) {
        if (!contains(columns, column.node.Scalar())) {
          report(errors_, column, fmt::format("no column '{}' at this point (columns: {})", column.node.Scalar(), join(columns)));
          ok = false;
        }
        ok = expression(text, columns, &ignored) && ok;
      }
    }
    return ok;
  }

  // create_table's `columns:`: pgroll's column mappings, with their unique, check and references
  // constraints. `id` may be written (an integer type, a key): it is the implicit key. A key on
  // other columns (pk: true on them) is a unique constraint `TABLE_pkey` on NOT NULL columns.
  bool table_columns(const Item& item, Operation& op, const Tables& tables) {
    bool ok = true;
    std::set<std::string> seen;
    std::vector<std::string> key;  // the columns written with pk: true
    for (const auto& element : list_items(errors_, item, "a list of columns", false)) {
      const Reader c(errors_, element);
      c.check_keys(kPgrollColumnKeys);
      ColumnSpec column;
      column.line = element.line;
      if (!c.require("name") || !c.require("type") || !identifier(*c.get("name"), "a column name", &column.name) ||
          !column_type(*c.get("type"), &column)) {
        ok = false;
        continue;
      }
      if (!seen.insert(column.name).second) {
        report(errors_, *c.get("name"), fmt::format("column '{}' is listed twice", column.name));
        ok = false;
        continue;
      }
      bool pk = false;
      if (c.has("pk")) ok = c.boolean("pk", &pk) && ok;
      if (column.name == "id") {
        if (column.type != ColumnType::bigint && column.type != ColumnType::integer) {
          report(errors_, element, "'id' is the table's key: write it with an integer type (integer, bigint, serial, bigserial)");
          ok = false;
        }
        continue;
      }
      if (pk) key.push_back(column.name);
      if (const Item* generated = c.get("generated")) ok = generated_column(*generated, &column) && ok;
      Operation settings;
      ok = column_settings(c, true, tables, &settings) && ok;
      for (ConstraintSpec& constraint : settings.constraints) {
        constraint.columns = {column.name};
        op.constraints.push_back(std::move(constraint));
      }
      column.not_null = !settings.nullable.value_or(false) || pk;  // pgroll's default is NOT NULL
      if (settings.default_sql && !settings.default_sql->empty()) {
        if (!column.default_sql.empty()) report(errors_, *c.get("default"), "a generated column has no default"), ok = false;
        column.default_sql = *settings.default_sql;
      }
      op.table_columns.push_back(column);
    }
    if (!key.empty()) {
      op.constraints.push_back(ConstraintSpec{.kind = ConstraintKind::unique, .name = op.name + "_pkey", .columns = key, .line = item.line});
    }
    return ok;
  }

  // pgroll's `generated: {expression: E}` (GENERATED ALWAYS AS (E) STORED) or `{identity:
  // {user_specified_values: ALWAYS | BY DEFAULT, sequence_options}}`: how the column is written
  // in CREATE TABLE; the simulation draws the column's values as any other's.
  bool generated_column(const Item& item, ColumnSpec* column) {
    const Reader g(errors_, item);
    g.check_keys({"expression", "identity"});
    if (g.has("expression") == g.has("identity")) return report(errors_, item, "expected one of expression or identity"), false;
    if (g.has("expression")) {
      std::string expression;
      if (!g.text("expression", &expression)) return false;
      column->default_sql = fmt::format("GENERATED ALWAYS AS ({}) STORED", expression);
      return true;
    }
    const Reader identity(errors_, *g.get("identity"));
    identity.check_keys({"user_specified_values", "sequence_options"});
    std::string values = "BY DEFAULT";
    if (const Item* v = identity.get("user_specified_values"); v && !one_of(*v, {"ALWAYS", "BY DEFAULT"}, true, &values)) return false;
    column->default_sql = fmt::format("GENERATED {} AS IDENTITY", values);
    return true;
  }

  // An exclusion constraint that is a unique constraint: btree or hash, every element `column
  // WITH =`, and no predicate other than the columns being NOT NULL (rows with a NULL never
  // conflict in either). Any other is refused: the simulator does not check exclusion.
  bool exclusion_constraint(const Reader& c, Operation& op, const std::vector<std::string>& columns) {
    const Item* exclude = c.get("exclude");
    if (exclude == nullptr) return report(errors_, c.item(), "type: exclude needs exclude: {index_method, elements, predicate}"), false;
    const Reader e(errors_, *exclude);
    e.check_keys({"index_method", "elements", "predicate"});
    std::string method = "btree", elements, predicate, name;
    if (e.has("index_method") && !e.text("index_method", &method)) return false;
    if (!e.require("elements") || !e.text("elements", &elements)) return false;
    if (e.has("predicate") && !e.text("predicate", &predicate)) return false;
    if (!identifier(*c.get("name"), "a constraint name", &name)) return false;
    ConstraintSpec spec{.kind = ConstraintKind::unique, .name = name, .line = exclude->line};
    bool unique_form = method == "btree" || method == "hash";
    std::stringstream parts(elements);
    for (std::string element; unique_form && std::getline(parts, element, ',');) {
      std::stringstream words(element);
      std::string column, with, op_name, rest;
      words >> column >> with >> op_name >> rest;
      unique_form = contains(columns, column) && (with == "WITH" || with == "with") && op_name == "=" && rest.empty();
      spec.columns.push_back(column);
    }
    std::string not_null = predicate;
    for (const std::string& column : spec.columns) {
      for (const std::string& form : {column + " IS NOT NULL", column + " is not null"}) {
        if (const std::size_t at = not_null.find(form); at != std::string::npos) not_null.erase(at, form.size());
      }
    }
    const bool predicate_ok = not_null.find_first_not_of(" ()ANDand") == std::string::npos;
    if (!unique_form || !predicate_ok) {
      return report(errors_, *exclude, "exclusion constraints are simulated only when they are unique constraints (btree or hash, every "
                                       "element `column WITH =`, no predicate but the columns being NOT NULL)"), false;
    }
    op.constraints.push_back(std::move(spec));
    return true;
  }

  // create_table's `constraints:` (pgroll: name, type, columns, check, references, ...): each as
  // create_constraint has it, on the new table's columns.
  bool table_constraints(const Item& item, Operation& op, const Tables& tables) {
    std::vector<std::string> columns = {"id"};
    for (const ColumnSpec& column : op.table_columns) columns.push_back(column.name);
    bool ok = true;
    for (const auto& element : list_items(errors_, item, "a list of constraints", false)) {
      const Reader c(errors_, element);
      std::vector<std::string> keys = {"name", "type", "columns", "check", "references", "index_parameters", "exclude"};
      keys.insert(keys.end(), kConstraintFlags.begin(), kConstraintFlags.end());
      c.check_keys(keys);
      if (!c.require("name") || !c.require("type")) {
        ok = false;
        continue;
      }
      if (c.get("type")->node.IsScalar() && c.get("type")->node.Scalar() == "exclude") {
        ok = exclusion_constraint(c, op, columns) && ok;
        continue;
      }
      Operation constraint;
      constraint.line = element.line;
      if (!create_constraint(c, constraint, tables, columns)) {
        ok = false;
        continue;
      }
      for (ConstraintSpec& spec : constraint.constraints) op.constraints.push_back(std::move(spec));
    }
    return ok;
  }

  bool load_pgroll_operation(const Reader& r, Operation& op, Tables* tables) {
    const std::string& table = op.table.empty() ? s_.table.name : op.table;
    std::vector<std::string>& columns = (*tables)[table];
    switch (op.kind) {
      case OperationKind::create_table: {
        if (!identifier(*r.get("name"), "a table name", &op.name)) return false;
        if (tables->count(op.name) > 0) return report(errors_, *r.get("name"), fmt::format("table '{}' already exists", op.name)), false;
        if (r.has("comment") && !r.text("comment", &op.comment.emplace())) return false;
        if (!table_columns(*r.get("columns"), op, *tables)) return false;
        if (r.has("constraints") && !table_constraints(*r.get("constraints"), op, *tables)) return false;
        std::vector<std::string>& created = (*tables)[op.name];
        created = {"id"};
        for (const ColumnSpec& column : op.table_columns) created.push_back(column.name);
        return true;
      }
      case OperationKind::drop_table:
      case OperationKind::rename_table: {
        const Item& from = *r.get(op.kind == OperationKind::drop_table ? "name" : "from");
        if (!to_text(errors_, from, &op.name)) return false;
        if (tables->count(op.name) == 0) {
          return report(errors_, from, fmt::format("no table '{}' at this point (tables: {})", op.name, join(keys_of(*tables)))), false;
        }
        if (op.kind == OperationKind::rename_table) {
          if (!identifier(*r.get("to"), "a table name", &op.to)) return false;
          if (tables->count(op.to) > 0) return report(errors_, *r.get("to"), fmt::format("table '{}' already exists", op.to)), false;
          (*tables)[op.to] = (*tables)[op.name];
        }
        tables->erase(op.name);
        return true;
      }
      case OperationKind::drop_index: return identifier(*r.get("name"), "an index name", &op.name);
      case OperationKind::create_constraint: return create_constraint(r, op, *tables, columns);
      case OperationKind::drop_constraint:
      case OperationKind::drop_multicolumn_constraint: {
        bool ok = identifier(*r.get("name"), "a constraint name", &op.name);
        if (const Item* column = r.get("column")) {
          ok = to_text(errors_, *column, &op.column) && ok;
          if (ok && !contains(columns, op.column)) {
            report(errors_, *column, fmt::format("no column '{}' at this point (columns: {})", op.column, join(columns)));
            ok = false;
          }
        }
        return constraint_rewrites(r, op.kind == OperationKind::drop_multicolumn_constraint, columns) && ok;
      }
      case OperationKind::rename_constraint: {
        const bool from_ok = identifier(*r.get("from"), "a constraint name", &op.name);
        const bool to_ok = identifier(*r.get("to"), "a constraint name", &op.to);  // both reported
        return from_ok && to_ok;
      }
      case OperationKind::set_replica_identity: {
        const Reader identity(errors_, *r.get("identity"));
        identity.check_keys({"type", "index"});
        if (!identity.require("type") || !one_of(*identity.get("type"), kReplicaIdentities, false, &op.identity)) return false;
        if (op.identity == "index" && !identity.require("index")) return false;
        if (op.identity != "index" && identity.has("index")) {
          return report(errors_, *identity.get("index"), "index is only for type: index"), false;
        }
        return !identity.has("index") || identifier(*identity.get("index"), "an index name", &op.name);
      }
      case OperationKind::sql: {
        bool ok = r.text("up", &op.up);
        if (r.has("down")) ok = r.text("down", &op.down) && ok;
        if (r.has("on_complete")) ok = r.boolean("on_complete", &op.on_complete) && ok;
        if (r.has("onComplete")) ok = r.boolean("onComplete", &op.on_complete) && ok;  // pgroll's older spelling
        if (ok && op.up.empty()) return report(errors_, *r.get("up"), "expected an SQL statement, got an empty string"), false;
        if (ok && op.on_complete && !op.down.empty()) {
          return report(errors_, *r.get("down"), "down cannot be used with on_complete: true (contract is never rolled back)"), false;
        }
        if (ok && !op.on_complete) {
          // What the statement creates (an enum type, a table) exists for the operations after it
          // (pgroll's `sql` then `add_column` of that type or on that table).
          const SchemaSql made = read_schema_sql(op.up, s_.source_path);
          for (const EnumTypeSpec& e : made.enum_types) {
            if (std::none_of(s_.enum_types.begin(), s_.enum_types.end(), [&](const EnumTypeSpec& x) { return x.name == e.name; })) s_.enum_types.push_back(e);
          }
          for (const TableSpec& t : made.tables) {
            if (tables->count(t.name) > 0) continue;
            std::vector<std::string>& created = (*tables)[t.name];
            created = {"id"};
            for (const ColumnSpec& column : t.columns) created.push_back(column.name);
          }
        }
        return ok;
      }
      default: break;
    }
    REHEARSE_ASSERT(false);
    return false;
  }

  // create_constraint {name, table, type: unique|check|foreign_key, columns, check, references:
  // {table, columns, on_delete}}; pgroll's up/down (rewriting the rows into the constraint) are
  // not supported yet.
  bool create_constraint(const Reader& r, Operation& op, const Tables& tables, const std::vector<std::string>& columns) {
    ConstraintSpec spec;
    spec.line = op.line;
    std::string type;
    bool ok = identifier(*r.get("name"), "a constraint name", &spec.name);
    ok = one_of(*r.get("type"), kConstraintTypes, false, &type) && ok;
    if (r.has("columns")) ok = index_columns(*r.get("columns"), columns, &spec.columns) && ok;
    else if (type != "check") ok = r.require("columns") && ok;
    // `up` / `down`: per column, how its rows are rewritten into the constrained version and back.
    // A column mapped to itself is not rewritten; one column rewritten makes the operation an
    // alter_column of that column with the constraint (pgroll, too, rebuilds it and backfills).
    std::map<std::string, std::string> rewrites[2];
    for (int side = 0; side < 2; ++side) {
      const Item* item = r.get(side == 0 ? "up" : "down");
      if (item == nullptr) continue;
      if (!item->node.IsMap()) {
        report(errors_, *item, "expected a mapping of column names to expressions"), ok = false;
        continue;
      }
      const Reader map(errors_, *item);
      for (const auto& [column, value] : map.entries()) {
        if (value.node.IsScalar() && column.node.Scalar() == value.node.Scalar()) continue;
        std::string text;
        if (!contains(columns, column.node.Scalar())) {
          report(errors_, column, fmt::format("no column '{}' at this point (columns: {})", column.node.Scalar(), join(columns))), ok = false;
        } else if (expression(value, columns, &text)) {
          rewrites[side][column.node.Scalar()] = text;
        } else {
          ok = false;
        }
      }
    }
    if (rewrites[0].size() > 1 || (!rewrites[1].empty() && (rewrites[0].empty() || rewrites[1].begin()->first != rewrites[0].begin()->first))) {
      report(errors_, r.item(), "create_constraint rewriting rows is simulated for one column (its up, and its down): "
                                "write the others mapped to themselves, or as alter_column operations before it");
      ok = false;
    }
    for (const std::string& flag : kConstraintFlags) {
      bool ignored = false;
      if (r.has(flag)) ok = r.boolean(flag, &ignored) && ok;
    }
    if (const Item* parameters = r.get("index_parameters")) {
      const Reader p(errors_, *parameters);
      p.check_keys({"tablespace", "storage_parameters", "include_columns"});
    }
    if (!ok) return false;
    if (type == "primary_key") {
      // The simulated table's rows are keyed by `id`: a key on `id` is that key; another is a
      // unique constraint of the same name on NOT NULL columns (docs/scenarios.md).
      if (spec.columns == std::vector<std::string>{"id"}) return op.name = spec.name, true;
      type = "unique";
    }
    spec.kind = type == "unique" ? ConstraintKind::unique : type == "check" ? ConstraintKind::check : ConstraintKind::foreign_key;
    if (r.has("check") != (spec.kind == ConstraintKind::check)) {
      return report(errors_, r.has("check") ? *r.get("check") : r.item(), "check is required with type: check, and only there"), false;
    }
    if (r.has("references") != (spec.kind == ConstraintKind::foreign_key)) {
      return report(errors_, r.has("references") ? *r.get("references") : r.item(),
                    "references is required with type: foreign_key, and only there"),
             false;
    }
    if (spec.kind == ConstraintKind::check && (!r.text("check", &spec.check) || !check_columns(*r.get("check"), spec.check, columns, ""))) {
      return false;
    }
    if (spec.kind == ConstraintKind::foreign_key) {
      const Reader ref(errors_, *r.get("references"));
      ref.check_keys({"table", "columns", "on_delete", "on_update", "match_type"});
      if (!ref.require("table") || !ref.require("columns") || !referenced(*ref.get("table"), *ref.get("columns"), tables, &spec)) return false;
      if (spec.ref_columns.size() != spec.columns.size()) {
        return report(errors_, *ref.get("columns"), fmt::format("expected {} referenced columns, as many as columns", spec.columns.size())), false;
      }
      if (const Item* on_delete = ref.get("on_delete"); on_delete && !one_of(*on_delete, kOnDelete, true, &spec.on_delete)) return false;
    }
    op.name = spec.name;
    op.columns = spec.columns;
    op.constraints.push_back(spec);
    if (!rewrites[0].empty()) {
      op.kind = OperationKind::alter_column;
      op.column = rewrites[0].begin()->first;
      op.up = rewrites[0].begin()->second;
      op.down = rewrites[1].empty() ? fmt::format("\"{}\"", op.column) : rewrites[1].begin()->second;
      op.name.clear();
      op.columns.clear();
    }
    return true;
  }

  bool rename_target(const Item& item, const std::vector<std::string>& columns, std::string* out) {
    if (!to_text(errors_, item, out)) return false;
    if (!is_identifier(*out))
      return report(errors_, item, fmt::format("expected a column name of a-z, 0-9 and '_', got '{}'", *out)), false;
    if (contains(columns, *out)) return report(errors_, item, fmt::format("column '{}' already exists", *out)), false;
    return true;
  }

  bool index_columns(const Item& item, const std::vector<std::string>& columns, std::vector<std::string>* out) {
    const auto items = list_items(errors_, item, "a list of columns", true);
    if (items.empty() && item.node.IsSequence()) report(errors_, item, "needs at least one column");
    bool ok = !items.empty();
    for (const auto& element : items) {
      std::string name;
      if (element.node.IsMap()) {
        // pgroll's create_index column: {column, opclass: {name, params}, sort, nulls, collate};
        // the simulated index orders by the column whatever its operator class and order.
        const Reader c(errors_, element);
        c.check_keys({"column", "opclass", "sort", "nulls", "collate"});
        if (!c.require("column") || !c.text("column", &name)) {
          ok = false;
          continue;
        }
      } else if (!to_text(errors_, element, &name)) {
        ok = false;
        continue;
      }
      if (!contains(columns, name)) {
        report(errors_, element, fmt::format("no column '{}' at this point (columns: {})", name, join(columns)));
        ok = false;
      } else if (contains(*out, name)) {
        report(errors_, element, fmt::format("column '{}' is listed twice", name));
        ok = false;
      } else {
        out->push_back(name);
      }
    }
    return ok;
  }

  // An `up` / `down` expression: it must parse and read only columns that exist at this point.
  bool expression(const Item& item, const std::vector<std::string>& columns, std::string* out) {
    std::string text;
    if (!to_scalar(errors_, item, "an expression", &text)) return false;
    text = without_select(text);
    ExprParseError error;
    const auto expr = parse_expression(text, &error);
    if (!expr) {
      const std::string token = error.token.empty() ? "end of expression" : "'" + error.token + "'";
      report(errors_, item,
             fmt::format("unsupported syntax at position {} ({}): {}", error.position, token, error.message));
      return false;
    }
    bool ok = true;
    for (const auto& c : expr->columns()) {
      if (contains(columns, c)) continue;
      report(errors_, item, fmt::format("unknown column '{}' (columns at this point: {})", c, join(columns)));
      ok = false;
    }
    if (ok) *out = text;
    return ok;
  }

  // -- workload, slo ------------------------------------------------------------------------------

  void load_workload(const Reader& r) {
    r.check_keys({"regions", "tables", "writes_per_s", "reads_per_s", "update_ratio", "hot_rows", "deploy"});
    WorkloadSpec& w = s_.workload;
    if (auto regions = r.get("regions")) load_workload_regions(*regions);
    if (auto tables = r.get("tables")) load_workload_tables(*tables);
    r.number("writes_per_s", &w.writes_per_s, 0, 1e6);
    r.number("reads_per_s", &w.reads_per_s, 0, 1e6);
    r.ratio("update_ratio", &w.update_ratio);
    r.ratio("hot_rows", &w.hot_rows);
    const Reader deploy = r.section("deploy");
    deploy.check_keys({"new_code_after"});
    deploy.enumeration("new_code_after", &w.new_code_after);
  }

  // `workload.tables`: each table's own rates (real-migrations.md).
  void load_workload_tables(const Item& item) {
    std::vector<std::string> names;
    for (const TableSpec* t : all_tables(s_)) names.push_back(t->name);
    for (const Item& element : list_items(errors_, item, "a list of {table, writes_per_s, reads_per_s}")) {
      const Reader r(errors_, element);
      if (!element.node.IsMap()) continue;
      r.check_keys({"table", "writes_per_s", "reads_per_s"});
      TableWorkload w;
      r.number("writes_per_s", &w.writes_per_s, 0, 1e6);
      r.number("reads_per_s", &w.reads_per_s, 0, 1e6);
      if (!r.require("table") || !r.text("table", &w.table)) continue;
      const Item& table = *r.get("table");
      if (!contains(names, w.table)) {
        report(errors_, table, fmt::format("no table '{}'{} (tables: {})", w.table, suggestion(w.table, names), join(names)));
      } else if (std::any_of(s_.workload.tables.begin(), s_.workload.tables.end(), [&](const TableWorkload& x) { return x.table == w.table; })) {
        report(errors_, table, fmt::format("table '{}' is listed twice", w.table));
      } else {
        s_.workload.tables.push_back(w);
      }
    }
  }

  void load_workload_regions(const Item& item) {
    WorkloadSpec& w = s_.workload;
    if (item.node.IsScalar() && item.node.Scalar() == "all") return;
    if (!item.node.IsSequence()) {
      report(errors_, item, "expected `all` or a list of regions, got " + describe(item.node));
      return;
    }
    w.all_regions = false;
    for (const auto& element : list_items(errors_, item, "a list of regions")) {
      std::string name;
      if (!region_value(element, &name)) continue;
      if (contains(w.regions, name))
        report(errors_, element, fmt::format("region '{}' is listed twice", name));
      else
        w.regions.push_back(name);
    }
    if (item.node.size() == 0) report(errors_, item, "expected `all` or at least one region, got an empty list");
  }

  void load_slo(const Reader& r) {
    r.check_keys({"max_stall", "max_error_rate", "max_replica_lag", "count"});
    r.duration("max_stall", &s_.slo.max_stall_us);
    r.ratio("max_error_rate", &s_.slo.max_error_rate);
    r.duration("max_replica_lag", &s_.slo.max_replica_lag_us);
    r.enumeration("count", &s_.slo.count);  // an extension: migration (default) | all
  }

  // -- node names ---------------------------------------------------------------------------------

  // Why `name` is not a node of this topology, or "" when it is one.
  std::string node_problem(const std::string& name) const {
    if (name == "lock" || name == "holder" || find_region(name)) return "";
    if (auto n = numbered(name, "engine-")) {
      if (*n <= s_.engine.instances) return "";
      return fmt::format("no node '{}': engine.instances is {} (engine-1..engine-{})", name, s_.engine.instances,
                         s_.engine.instances);
    }
    if (auto n = numbered(name, "lock-")) {
      const int count = lock_node_count();
      if (*n <= count) return "";
      if (count == 0)
        return fmt::format("no node '{}': the app-database lock has no nodes of its own (use `lock` or db:REGION)",
                           name);
      return fmt::format("no node '{}': the {} lock has {} node(s) (lock-1..lock-{}){}", name,
                         to_string(s_.lock.backend), count, count,
                         s_.lock.backend == LockBackend::redis && count == 1
                             ? "; lock-2 is its replica when lock.replica is true"
                             : "");
    }
    for (const std::string_view prefix : {"db:", "app:"}) {
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string rest = name.substr(prefix.size());
      const auto slash = prefix == "db:" ? rest.find('/') : std::string::npos;
      const RegionSpec* region = find_region(rest.substr(0, slash));
      if (!region)
        return fmt::format("no node '{}': no region '{}' (regions: {})", name, rest.substr(0, slash), region_list());
      const bool no_primary = prefix == "db:" && slash == std::string::npos &&
                              s_.topology.mode == TopologyMode::global && region->name != s_.topology.home;
      if (no_primary)
        return fmt::format("no node '{}': topology.mode is global, so db:{} (the home region's) is the only primary; "
                           "{} has replicas only (db:{}/replica-N)",
                           name, s_.topology.home, region->name, region->name);
      if (slash == std::string::npos) return "";
      const auto n = numbered(std::string_view(rest).substr(slash + 1), "replica-");
      if (n && *n <= region->replicas) return "";
      return fmt::format("no node '{}': region {} has {} replica(s)", name, region->name, region->replicas);
    }
    return fmt::format(
        "unknown node '{}' (nodes are engine-N, lock, lock-N, db:REGION, db:REGION/replica-N, app:REGION, "
        "REGION and holder; regions: {})",
        name, region_list());
  }

  // A list of node names (or one name when `one_ok`).
  std::vector<std::string> node_list(const Item& item, bool many) {
    std::vector<std::string> out;
    const auto items = list_items(errors_, item, many ? "a list of node names" : "a node name", true);
    if (items.empty() && item.node.IsSequence()) report(errors_, item, "needs at least one node");
    if (!many && items.size() > 1) {
      report(errors_, item, fmt::format("takes one node, got {} (write one fault per node)", items.size()));
      return out;
    }
    for (const auto& element : items) {
      std::string name;
      if (!to_scalar(errors_, element, "a node name", &name)) continue;
      if (const std::string problem = node_problem(name); !problem.empty())
        report(errors_, element, problem);
      else
        out.push_back(name);
    }
    return out;
  }

  // -- faults -------------------------------------------------------------------------------------

  void load_faults(const Item& item) {
    if (item.node.IsSequence() && item.node.size() > kMaxFaults) {
      past_limit(item, fmt::format("{} faults is above the limit of {} (for many faults, random_faults draws "
                                   "them from a rate)",
                                   item.node.size(), kMaxFaults));
    }
    for (const auto& element : list_items(errors_, item, "a list of faults", false, true)) {
      if (auto fault = load_fault(element)) s_.faults.push_back(*fault);
    }
  }

  std::optional<FaultSpec> load_fault(const Item& item) {
    const Reader r(errors_, item);
    if (!item.node.IsMap()) return std::nullopt;
    std::vector<const FaultParams*> kinds;
    for (const auto& [key, value] : r.entries()) {
      for (const auto& k : kFaultKinds) {
        if (key.node.Scalar() == to_string(k.kind)) kinds.push_back(&k);
      }
    }
    const bool unknown = check_fault_keys(r, kinds.size() == 1 ? kinds.front() : nullptr);
    if (kinds.size() != 1) {
      std::vector<std::string> names;
      for (const auto* k : kinds) names.push_back(to_string(k->kind));
      if (kinds.size() > 1)
        report(errors_, item, "more than one fault kind (" + join(names) + "); write one fault per entry");
      else if (!unknown)
        report(errors_, item, "missing the fault kind, one of " + join(enum_names<FaultKind>()));
      return std::nullopt;
    }
    FaultSpec f;
    f.kind = kinds.front()->kind;
    f.line = item.line;
    bool ok = r.require("at") && load_fault_at(*r.get("at"), &f);
    for (const auto& p : kinds.front()->required) ok = r.require(p) && ok;
    f.targets = node_list(*r.get(to_string(f.kind)), f.kind == FaultKind::partition);
    ok = !f.targets.empty() && ok;
    if (f.kind == FaultKind::failover) ok = check_failover_target(*r.get("failover"), f.targets) && ok;
    if (auto from = r.get("from")) {
      f.from = node_list(*from, true);
      ok = !f.from.empty() && ok;
    }
    ok = load_fault_params(r, &f) && ok;
    return ok ? std::optional<FaultSpec>(f) : std::nullopt;
  }

  // `failover` promotes the lock store's replica: it names the lock service (`lock`, `lock-N`, a
  // region holding lock nodes) or, for the app-database lock, the lock region's primary.
  bool check_failover_target(const Item& item, const std::vector<std::string>& targets) {
    for (const std::string& target : targets) {
      const bool lock_node = target == "lock" || numbered(target, "lock-").has_value() || find_region(target) != nullptr;
      const bool lock_database = s_.lock.backend == LockBackend::app_database && target == "db:" + s_.lock.region;
      if (lock_node || lock_database) continue;
      report(errors_, item,
             fmt::format("failover applies to the lock service: `lock` or lock-N{} (got '{}')",
                         s_.lock.backend == LockBackend::app_database ? fmt::format(", or db:{} (the lock's database)", s_.lock.region) : "",
                         target));
      return false;
    }
    return true;
  }

  // Reports keys that do not belong in a fault of `kind` (null when the kind is unknown);
  // returns whether there were any that belong to no kind at all.
  bool check_fault_keys(const Reader& r, const FaultParams* kind) {
    std::vector<std::string> allowed = enum_names<FaultKind>();
    allowed.push_back("at");
    if (kind) allowed.insert(allowed.end(), kind->required.begin(), kind->required.end());
    if (kind) allowed.insert(allowed.end(), kind->optional.begin(), kind->optional.end());
    bool unknown = false;
    for (const auto& key : r.unknown_keys(allowed)) {
      if (contains(kFaultParamNames, key.node.Scalar())) {
        if (!kind) continue;  // reported as the missing kind
        std::vector<std::string> params = kind->required;
        params.insert(params.end(), kind->optional.begin(), kind->optional.end());
        const std::string takes = params.empty() ? "takes no parameters" : "takes " + join(params);
        report(errors_, key,
               fmt::format("not a parameter of {} ({} {})", to_string(kind->kind), to_string(kind->kind), takes));
      } else {
        std::vector<std::string> candidates = allowed;
        candidates.insert(candidates.end(), kFaultParamNames.begin(), kFaultParamNames.end());
        report(errors_, key, "unknown key" + suggestion(key.node.Scalar(), candidates));
        unknown = true;
      }
    }
    return unknown;
  }

  // Reads the parameters present; check_fault_keys has made sure they belong to the kind.
  bool load_fault_params(const Reader& r, FaultSpec* f) {
    bool ok = true;
    auto check = [&](std::string_view key, bool read) { ok = (read || !r.has(key)) && ok; };
    check("for", r.duration("for", &f->for_us, true));
    TimeUs restart = 0;
    if (r.duration("restart_after", &restart)) f->restart_after_us = restart;
    check("restart_after", f->restart_after_us.has_value());
    check("oneway", r.boolean("oneway", &f->oneway));
    check("extra", r.duration("extra", &f->extra_us, true));
    check("probability", r.ratio("probability", &f->probability));
    check("by", r.signed_duration("by", &f->by_us));
    check("offset", r.signed_duration("offset", &f->offset_us));
    check("ppm", r.integer("ppm", &f->ppm, -1'000'000, 1'000'000));
    return ok;
  }

  bool load_fault_at(const Item& item, FaultSpec* f) {
    if (!item.node.IsMap()) {
      if (!to_duration(errors_, item, false, &f->at_us)) return false;
      return before_end(item, f->at_us);
    }
    const Reader r(errors_, item);
    r.check_keys({"phase", "region", "after", "statement"});
    PhaseTrigger trigger;
    trigger.region = migrated_regions(s_).front();
    bool ok = r.require("phase") && r.text("phase", &trigger.phase);
    if (ok && !contains(kPhases, trigger.phase)) {
      report(errors_, *r.get("phase"),
             fmt::format("expected one of {}, got '{}'{}", join(kPhases), trigger.phase,
                         suggestion(trigger.phase, kPhases)));
      ok = false;
    }
    if (auto region = r.get("region")) {
      const bool known = region_value(*region, &trigger.region);
      ok = known && ok;
      if (known && s_.topology.mode == TopologyMode::global && trigger.region != s_.topology.home) {
        report(errors_, *region,
               fmt::format("topology.mode is global: the engine migrates only the home region {}, so no phase "
                           "ever starts in {}",
                           s_.topology.home, trigger.region));
        ok = false;
      }
    }
    if (auto after = r.get("after"))
      ok = r.duration("after", &trigger.after_us) && before_end(*after, trigger.after_us) && ok;
    if (auto statement = r.get("statement")) ok = load_statement_trigger(*statement, &trigger) && ok;
    f->at_phase = trigger;
    return ok;
  }

  // `statement: N` of a phase trigger: the Nth statement of a SQL file run as written.
  bool load_statement_trigger(const Item& item, PhaseTrigger* trigger) {
    constexpr std::int64_t kStatementMax = 1000000;
    const std::string expected = "a statement number (1, 2, ...)";
    std::string text;
    if (!to_scalar(errors_, item, expected, &text)) return false;
    const std::optional<std::int64_t> number = parse_int(text);
    if (!number || *number < 1 || *number > kStatementMax) {
      report(errors_, item, fmt::format("expected {}, got '{}'", expected, text));
      return false;
    }
    if (s_.migration.mode != MigrationMode::as_written || s_.migration.sql.empty()) {
      report(errors_, item, "`statement:` times a fault to a statement of a SQL file run as written (migration.from: FILE.sql, mode: as-written)");
      return false;
    }
    if (trigger->phase != "expand") {
      report(errors_, item, fmt::format("a SQL file's statements run in phase expand, not {}", trigger->phase));
      return false;
    }
    trigger->statement = static_cast<int>(*number);
    return true;
  }

  bool before_end(const Item& item, TimeUs at) {
    if (at < s_.duration_us) return true;
    report(errors_, item,
           fmt::format("{} is not before the end of the run (duration {})", duration_text(at, DurationStyle::scenario),
                       duration_text(s_.duration_us, DurationStyle::scenario)));
    return false;
  }

  void load_random_faults(const Reader& r) {
    r.check_keys({"rate", "kinds", "targets", "max_duration", "quiet_after"});
    RandomFaultsSpec spec;
    if (r.require("rate")) r.rate("rate", &spec.rate_per_s);
    if (r.require("kinds")) {
      const Item kinds = *r.get("kinds");
      for (const auto& element : list_items(errors_, kinds, "a list of fault kinds", true)) {
        FaultKind kind{};
        if (to_enum(errors_, element, &kind) &&
            std::find(spec.kinds.begin(), spec.kinds.end(), kind) == spec.kinds.end())
          spec.kinds.push_back(kind);
      }
      if (kinds.node.IsSequence() && kinds.node.size() == 0) report(errors_, kinds, "needs at least one fault kind");
    }
    if (r.require("targets")) spec.targets = target_patterns(*r.get("targets"));
    r.duration("max_duration", &spec.max_duration_us, true);
    TimeUs quiet = 0;
    if (r.duration("quiet_after", &quiet)) spec.quiet_after_us = quiet;
    check_heal_time(r, spec);
    s_.random_faults = spec;
  }

  // Swarm faults must all have ended before `duration`, so liveness is judged on every seed
  // (an extension, docs/scenarios.md): the last may start just before quiet_after (default two
  // thirds of duration) and last max_duration.
  void check_heal_time(const Reader& r, const RandomFaultsSpec& spec) {
    if (s_.duration_us <= 0 || spec.max_duration_us <= 0) return;
    const TimeUs quiet_after = spec.quiet_after_us.value_or(s_.duration_us * 2 / 3);
    const TimeUs healed_by = quiet_after + spec.max_duration_us;
    if (healed_by < s_.duration_us) return;
    const Item* item = r.get("quiet_after") != nullptr ? r.get("quiet_after") : r.get("max_duration");
    report(errors_, item != nullptr ? *item : r.item(),
           fmt::format("faults could last until {} (quiet_after {}{} + max_duration {}), not before the end of the run "
                       "(duration {}): the migration would have no time to finish after the last fault and liveness "
                       "could not be judged; end faults earlier (quiet_after) or run longer (duration)",
                       duration_text(healed_by, DurationStyle::scenario),
                       duration_text(quiet_after, DurationStyle::scenario),
                       spec.quiet_after_us ? "" : ", two thirds of duration by default",
                       duration_text(spec.max_duration_us, DurationStyle::scenario),
                       duration_text(s_.duration_us, DurationStyle::scenario)));
  }

  std::vector<std::string> target_patterns(const Item& item) {
    std::vector<std::string> out;
    const auto items = list_items(errors_, item, "a list of node names or patterns", true);
    if (items.empty() && item.node.IsSequence()) report(errors_, item, "needs at least one target");
    for (const auto& element : items) {
      std::string name;
      if (!to_scalar(errors_, element, "a node name or pattern", &name)) continue;
      std::string problem;
      if (name == "lock-*" && lock_node_count() == 0) {
        problem = "lock-* matches no node: the app-database lock has no nodes of its own";
      } else if (name.find('*') != std::string::npos && !contains(kTargetPatterns, name)) {
        problem =
            fmt::format("unsupported pattern '{}' (patterns: {}; or an exact node name)", name, join(kTargetPatterns));
      } else if (!contains(kTargetPatterns, name)) {
        problem = node_problem(name);
      }
      if (problem.empty())
        out.push_back(name);
      else
        report(errors_, element, problem);
    }
    return out;
  }

  // -- expect ---------------------------------------------------------------------------------

  void load_expect(const Reader& r) {
    r.check_keys({"verdict", "invariants", "within_seeds"});
    ExpectSpec& e = s_.expect;
    r.enumeration("verdict", &e.verdict);
    if (auto invariants = r.get("invariants")) {
      if (e.verdict != Verdict::violation) report(errors_, *invariants, "only used with verdict: violation");
      for (const auto& element : list_items(errors_, *invariants, "a list of invariants", true)) {
        std::string name;
        if (!to_scalar(errors_, element, "an invariant name", &name)) continue;
        if (!contains(kInvariants, name)) {
          report(errors_, element,
                 fmt::format("unknown invariant '{}'{} (invariants: {})", name, suggestion(name, kInvariants),
                             join(kInvariants)));
        } else if (!contains(e.invariants, name)) {
          e.invariants.push_back(name);
        }
      }
    }
    r.integer("within_seeds", &e.within_seeds, 1, 1'000'000'000);
  }

  // A `references:` entry, checked once every table is read.
  struct PendingReference {
    std::string table;
    std::string constraint;
    Item table_item;
    Item to_item;
  };

  Errors& errors_;
  Scenario& s_;
  std::vector<PendingReference> pending_references_;
};

// ---------------------------------------------------------------------------------------------
// Built-in scenarios

struct BuiltinInfo {
  std::string name;  // the `name:` key, or the file stem when it has none
  std::string description;
  const BuiltinScenarioText* source = nullptr;
};

std::string scalar_or(const YAML::Node& map, const char* key, const std::string& fallback) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key && it->second.IsScalar()) return it->second.Scalar();
  }
  return fallback;
}

std::vector<BuiltinInfo> builtin_infos() {
  std::vector<BuiltinInfo> infos;
  for (const auto& b : builtin_scenario_texts()) {
    BuiltinInfo info{b.file_stem, "", &b};
    const YamlDocuments parsed = parse_yaml(b.text);
    if (parsed.error || parsed.documents.empty()) {
      info.description = "(not valid YAML)";
    } else if (const YAML::Node& root = parsed.documents.front(); root.IsMap()) {
      info.name = scalar_or(root, "name", b.file_stem);
      info.description = scalar_or(root, "description", "");
    }
    infos.push_back(std::move(info));
  }
  return infos;
}

// The first line of `text`, cut after its first sentence.
std::string first_sentence(const std::string& text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  std::string line = text.substr(start, text.find('\n', start) - start);
  if (const auto stop = line.find(". "); stop != std::string::npos) line.resize(stop + 1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
  return line;
}

LoadResult file_error(const std::string& file, std::string message) {
  LoadResult result;
  result.errors.push_back(ScenarioError{file, 0, "", std::move(message)});
  return result;
}

}  // namespace

ScenarioError more_errors(const std::string& file, std::size_t not_shown) {
  return ScenarioError{file, 0, "",
                       fmt::format("... and {} more error(s); the first {} are shown", not_shown, kMaxErrorsShown)};
}

namespace {

// `text` with control characters written as escapes (\n, \t, \xNN), cut at 60 characters: a
// name quoted in a message stays on its line.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 60)) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out += c;
  }
  return text.size() > 60 ? out + "..." : out;
}

}  // namespace

bool is_scenario_identifier(std::string_view name) { return is_identifier(name); }

std::string region_name_problem(const std::string& name) {
  if (!is_name(name, "-_")) return fmt::format("expected a region name of a-z, 0-9, '-' and '_', got '{}'", printable(name));
  if (name == "lock" || name == "holder" || numbered(name, "engine-") || numbered(name, "lock-"))
    return fmt::format("'{}' is the name of another node; choose another region name", name);
  return "";
}

namespace {

LoadResult finish(Errors& errors, Scenario& scenario) {
  LoadResult result;
  result.errors = errors.take(&result.errors_not_shown);
  if (result.errors.empty()) result.scenario = std::move(scenario);
  return result;
}

void load_root(Errors& errors, Scenario& scenario, const YAML::Node& root) {
  try {
    ScenarioLoader(errors, scenario).load(Item{root, "", line_of(root, 1)});
  } catch (const std::exception& e) {
    errors.add(0, "", std::string("internal error while loading: ") + e.what());
  }
}

}  // namespace

LoadResult load_scenario_node(const YAML::Node& root, const std::string& file_name) {
  Errors errors(file_name);
  Scenario scenario;
  scenario.source_path = file_name;
  load_root(errors, scenario, root);
  return finish(errors, scenario);
}

LoadResult load_scenario_text(const std::string& text, const std::string& file_name) {
  Errors errors(file_name);
  Scenario scenario;
  scenario.source_path = file_name;
  YamlDocuments parsed;
  if (parsed = parse_yaml(text); parsed.error) {  // UTF-8, size, nesting, syntax
    errors.add(parsed.error->line, "", parsed.error->describe());
  } else {
    const std::vector<YAML::Node>& docs = parsed.documents;
    if (docs.size() > 1) errors.add(line_of(docs[1], 0), "", "more than one YAML document; a scenario file holds one");
    if (docs.empty() || docs[0].IsNull()) {
      errors.add(1, "", "empty scenario: expected a mapping with at least name and description");
    } else {
      load_root(errors, scenario, docs[0]);
    }
  }
  return finish(errors, scenario);
}

LoadResult load_scenario_file(const std::string& path) {
  std::string problem;
  const std::optional<std::string> text = read_yaml_file(path, &problem);
  return text ? load_scenario_text(*text, path) : file_error(path, problem);
}

LoadResult resolve_scenario(const std::string& path_or_name) {
  std::error_code ec;
  if (!path_or_name.empty() && std::filesystem::exists(path_or_name, ec)) return load_scenario_file(path_or_name);
  // A built-in's file stem first (its name is the stem in every built-in): no YAML is parsed
  // to find it. Then the names the built-ins give themselves.
  for (const auto& builtin : builtin_scenario_texts()) {
    if (!path_or_name.empty() && builtin.file_stem == path_or_name) {
      return load_scenario_text(builtin.text, "builtin:" + builtin.file_stem);
    }
  }
  for (const auto& info : builtin_infos()) {
    if (!path_or_name.empty() && (info.name == path_or_name || info.source->file_stem == path_or_name)) {
      return load_scenario_text(info.source->text, "builtin:" + info.name);
    }
  }
  return file_error(
      path_or_name,
      fmt::format("no such file or built-in scenario '{}' (rehearse list shows the built-ins)", path_or_name));
}

std::vector<std::pair<std::string, std::string>> list_builtin_scenarios() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& info : builtin_infos()) out.emplace_back(info.name, first_sentence(info.description));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace rehearse
