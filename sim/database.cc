// The simulated primary database: table data, DDL, fenced backfill, checksums, checkpoints
// and flags.
#include "sim/database.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

namespace {

// Statement costs in simulated time: a statement's duration grows with the rows it touches.
constexpr TimeUs kStatementBaseUs = 300;
constexpr TimeUs kDdlUs = 2 * kMs;
constexpr TimeUs kUpdatePerRowUs = 20;
constexpr TimeUs kScanPerRowUs = 2;

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::int64_t pow10(int exponent) {
  std::int64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

Value generate_in_range(const ColumnSpec& column, std::int64_t low, std::int64_t high, Rng& rng) {
  if (column.type == ColumnType::numeric) {
    const std::int64_t scale = pow10(column.scale);
    return Value::numeric(Decimal{rng.uniform(low * scale, high * scale), column.scale});
  }
  if (column.type == ColumnType::text) return Value::text(std::to_string(rng.uniform(low, high)));
  if (column.type == ColumnType::timestamp) return Value::timestamp(rng.uniform(low, high) * kSec);
  return Value::integer(rng.uniform(low, high));
}

std::vector<std::string> split_choices(const std::string& inside) {
  std::vector<std::string> choices;
  std::string current;
  for (char c : inside) {
    if (c == ',') {
      choices.push_back(current);
      current.clear();
    } else if (c != ' ') {
      current += c;
    }
  }
  choices.push_back(current);
  return choices;
}

Value generate_default(const ColumnSpec& column, Rng& rng) {
  switch (column.type) {
    case ColumnType::bigint:
    case ColumnType::integer: return Value::integer(rng.uniform(0, 1000000));
    case ColumnType::numeric: return generate_in_range(column, 0, 1000, rng);
    case ColumnType::boolean: return Value::boolean(rng.chance(0.5));
    case ColumnType::timestamp: return Value::timestamp(1704067200LL * kSec + rng.uniform(0, 365LL * 86400) * kSec);
    case ColumnType::text: return Value::text(fmt::format("item-{}", rng.uniform(0, 999999)));
  }
  return Value::null();
}

}  // namespace

Value generate_value(const ColumnSpec& column, Rng& rng) {
  if (column.nullable > 0 && rng.chance(column.nullable)) return Value::null();
  const std::string& gen = column.gen;
  if (const auto dots = gen.find(".."); dots != std::string::npos) {
    const auto low = parse_int(std::string_view(gen).substr(0, dots));
    const auto high = parse_int(std::string_view(gen).substr(dots + 2));
    if (low && high && *low <= *high) return generate_in_range(column, *low, *high, rng);
  }
  if (gen == "email") {
    static constexpr const char* kDomains[] = {"example.com", "Example.org", "MAIL.test"};
    return Value::text(fmt::format("User{}@{}", rng.uniform(1, 999999), kDomains[rng.below(3)]));
  }
  if (gen == "uuid") {
    return Value::text(fmt::format("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", rng.next() & 0xffffffffU, rng.next() & 0xffffU,
                                   rng.next() & 0xfffU, rng.next() & 0xfffU, rng.next() & 0xffffffffffffULL));
  }
  if (gen.rfind("one_of(", 0) == 0 && gen.back() == ')') {
    const auto choices = split_choices(gen.substr(7, gen.size() - 8));
    const std::string& choice = choices[rng.below(choices.size())];
    if (column.type == ColumnType::text) return Value::text(choice);
    if (auto number = parse_int(choice)) return Value::integer(*number);
    return Value::text(choice);
  }
  return generate_default(column, rng);
}

SimDatabase::SimDatabase(std::string region, const TableSpec& table, WriteSink sink, Rng rng)
    : region_(std::move(region)), table_name_(table.name), sink_(std::move(sink)) {
  fill_table(table, rng);
}

void SimDatabase::fill_table(const TableSpec& table, Rng& rng) {
  columns_.push_back(Column{"id", ColumnType::bigint, true});
  for (const auto& column : table.columns) columns_.push_back(Column{column.name, column.type, true});
  rows_.resize(static_cast<std::size_t>(table.rows));
  for (std::int64_t i = 0; i < table.rows; ++i) {
    auto& row = rows_[static_cast<std::size_t>(i)];
    row.reserve(columns_.size() + 2);
    row.push_back(Value::integer(i + 1));
    for (const auto& column : table.columns) row.push_back(generate_value(column, rng));
  }
}

int SimDatabase::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].live && columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool SimDatabase::admit(const Fence& fence, WriteKind kind, const std::string& actor, const std::string& detail,
                        std::int64_t a, std::int64_t b) {
  const bool stale = fence.enforce && !ignore_tokens_ && fence.token < highest_token_;
  sink_(Event{.kind = EventKind::write, .outcome = stale ? Outcome::rejected : Outcome::applied, .write = kind,
              .token = fence.token, .actor = actor, .region = region_, .detail = detail, .a = a, .b = b});
  if (stale) return false;
  highest_token_ = std::max(highest_token_, fence.token);
  return true;
}

Status SimDatabase::ddl(const DdlStatement& statement, const Fence& fence, const std::string& actor, TimeUs* busy_us) {
  *busy_us = kDdlUs;
  const bool add = statement.kind == DdlStatement::Kind::add_column;
  const std::string detail = fmt::format("{} {}", add ? "add column" : "drop column", statement.column);
  if (!admit(fence, WriteKind::ddl, actor, detail)) {
    return Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_));
  }
  const int index = column_index(statement.column);
  if (add && index < 0) {
    columns_.push_back(Column{statement.column, statement.type, true});
    for (auto& row : rows_) row.emplace_back();
  } else if (!add && index > 0) {
    columns_[static_cast<std::size_t>(index)].live = false;
    for (auto& row : rows_) row[static_cast<std::size_t>(index)] = Value::null();  // storage reclaimed
  }
  return Status::ok();
}

Value SimDatabase::evaluate_fill(std::size_t row, const ColumnFill& fill) const {
  const auto& values = rows_[row];
  EvalResult result = evaluate(fill.up, [this, &values](const std::string& name) -> const Value* {
    const int index = column_index(name);
    return index < 0 ? nullptr : &values[static_cast<std::size_t>(index)];
  });
  return result.ok ? result.value : Value::null();
}

bool SimDatabase::fill_row(std::size_t row, const BackfillBatch& batch) {
  bool changed = false;
  for (const auto& fill : batch.fills) {
    const int index = column_index(fill.column);
    if (index < 0) continue;
    Value& target = rows_[row][static_cast<std::size_t>(index)];
    if (!batch.overwrite && !target.is_null()) continue;
    Value computed = evaluate_fill(row, fill);
    if (!(computed == target)) {
      target = std::move(computed);
      changed = true;
    }
  }
  return changed;
}

Result<std::int64_t> SimDatabase::backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence,
                                           const std::string& actor, TimeUs* busy_us) {
  const KeyRange range = key_range();
  const std::int64_t low = std::max(batch.low_id, range.min_id);
  const std::int64_t high = std::min(batch.high_id, range.max_id);
  const std::int64_t touched = high >= low ? high - low + 1 : 0;
  *busy_us = kStatementBaseUs + touched * kUpdatePerRowUs;
  if (!admit(fence, WriteKind::backfill, actor, fmt::format("backfill ids {}..{}", batch.low_id, batch.high_id),
             batch.low_id, batch.high_id)) {
    return Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_));
  }
  std::int64_t updated = 0;
  for (std::int64_t id = low; id <= high; ++id) {
    if (fill_row(static_cast<std::size_t>(id - 1), batch)) ++updated;
  }
  rows_backfilled_ += updated;
  checkpoints_[then.migration] = then;  // committed in the same transaction as the batch
  checkpoints_[then.migration].exists = true;
  return updated;
}

RangeChecksum SimDatabase::checksum(const BackfillBatch& window, TimeUs* busy_us) const {
  RangeChecksum sums;
  const KeyRange range = key_range();
  const std::int64_t low = std::max(window.low_id, range.min_id);
  const std::int64_t high = std::min(window.high_id, range.max_id);
  for (std::int64_t id = low; id <= high; ++id) {
    const auto row = static_cast<std::size_t>(id - 1);
    ++sums.rows;
    bool row_matches = true;
    for (const auto& fill : window.fills) {
      const int index = column_index(fill.column);
      const Value expected = evaluate_fill(row, fill);
      const Value& actual = index < 0 ? Value() : rows_[row][static_cast<std::size_t>(index)];
      sums.expected += expected.hash();
      sums.actual += actual.hash();
      if (index < 0 || !(expected == actual)) row_matches = false;
    }
    if (!row_matches) ++sums.mismatched_rows;
  }
  *busy_us = kStatementBaseUs + sums.rows * kScanPerRowUs;
  return sums;
}

KeyRange SimDatabase::key_range() const {
  return KeyRange{1, static_cast<std::int64_t>(rows_.size()), static_cast<std::int64_t>(rows_.size())};
}

std::vector<std::string> SimDatabase::column_names() const {
  std::vector<std::string> names;
  for (const auto& column : columns_) {
    if (column.live) names.push_back(column.name);
  }
  return names;
}

Checkpoint SimDatabase::checkpoint(const std::string& migration) const {
  auto it = checkpoints_.find(migration);
  return it == checkpoints_.end() ? Checkpoint{} : it->second;
}

Status SimDatabase::write_checkpoint(const Checkpoint& checkpoint, const Fence& fence, const std::string& actor) {
  if (!admit(fence, WriteKind::checkpoint, actor, fmt::format("checkpoint {}", checkpoint.state))) {
    return Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_));
  }
  checkpoints_[checkpoint.migration] = checkpoint;
  checkpoints_[checkpoint.migration].exists = true;
  return Status::ok();
}

Status SimDatabase::set_flag(const std::string& flag, bool on, const Fence& fence, const std::string& actor) {
  if (!admit(fence, WriteKind::flag, actor, fmt::format("{} = {}", flag, on ? "on" : "off"))) {
    return Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_));
  }
  flags_[flag] = on;
  return Status::ok();
}

bool SimDatabase::flag(const std::string& flag) const {
  auto it = flags_.find(flag);
  return it != flags_.end() && it->second;
}

const Value* SimDatabase::cell(std::int64_t id, const std::string& column) const {
  const int index = column_index(column);
  if (index < 0 || id < 1 || id > static_cast<std::int64_t>(rows_.size())) return nullptr;
  return &rows_[static_cast<std::size_t>(id - 1)][static_cast<std::size_t>(index)];
}

}  // namespace rehearse::sim
