// The differential test of the expression language (issue 13): seeded, generated expressions
// over the whole documented language (scenario-format.md, "Expressions"; docs/expressions.md)
// evaluated by PostgreSQL 15 and by the simulator (core/expr.h) on the same typed rows, compared
// as PostgreSQL prints values (its text output) and errors as "both fail". It prints the
// agreement and a histogram of the classes of disagreement with examples, and fails below
// kAgreementMin.
//
// It runs against a PostgreSQL someone else started: REHEARSE_EXPR_DSN (a libpq connection
// string), by default scripts/live-up's primary on this checkout's port (tests/live_ports.h). When no server answers there, the suite starts
// live-up's servers and stops them at its end (as LiveShapeTest does); it is skipped with a
// message only when they cannot be started. It never restarts a running server. Knobs:
// REHEARSE_EXPR_SEED (1), REHEARSE_EXPR_CASES (20000), REHEARSE_EXPR_DUMP=FILE lists every
// disagreement. Run alone:
//   build/release/rehearse_tests --gtest_filter=LiveExpressionTest.*
//
// PostgreSQL evaluates each case as `SELECT (expr) FROM expr_rows WHERE id = K` over a temporary
// table, so that columns are per-row values as in a migration's UPDATE (an inline one-row VALUES
// list would let the planner fold the whole expression into a constant). The cases go to the
// server in libpq pipelines of kPipelineCases queries, each followed by a sync, so that one
// failing case aborts nothing but itself and a chunk costs one round trip.
#include <libpq-fe.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "core/expr.h"
#include "core/value.h"
#include "tests/live_ports.h"

namespace rehearse {
namespace {

// The agreement the test requires, in percent of cases: issue 13's acceptance (measured: 99.97%
// with seed 1; docs/expressions.md).
constexpr double kAgreementMin = 99.5;
constexpr int kRowsCount = 64;
constexpr int kPipelineCases = 200;      // queries in flight per round trip
constexpr int kDepthMax = 4;             // levels of generated operators above the leaves
constexpr int kExamplesPerClass = 2;
constexpr int kClassesShownMax = 40;
constexpr std::size_t kMessageKeyLengthMax = 90;

std::string env_text(const char* name, const char* fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? text : fallback;
}

// SplitMix64: the test's only source of randomness, the same sequence on every machine.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int below(int bound) { return static_cast<int>(next() % static_cast<std::uint64_t>(bound)); }
  bool percent(int chance) { return below(100) < chance; }
  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) { return items[below(static_cast<int>(N))]; }

 private:
  std::uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// The typed rows

struct ColumnDef {
  const char* name;
  ColumnType type;
  const char* sql_type;
};

const ColumnDef kColumns[] = {
    {"qty", ColumnType::integer, "integer"},  {"cnt", ColumnType::integer, "integer"},
    {"big", ColumnType::bigint, "bigint"},    {"amount", ColumnType::numeric, "numeric"},
    {"price", ColumnType::numeric, "numeric"}, {"name", ColumnType::text, "text"},
    {"code", ColumnType::text, "text"},       {"flag", ColumnType::boolean, "boolean"},
    {"created", ColumnType::timestamp, "timestamp"},
};

// Stored values, written as PostgreSQL's input (and the simulator's) reads them.
const char* const kIntegerValues[] = {"0", "1", "-1", "3", "7", "42", "100", "-250", "65536",
                                      "46341", "2147483647", "-2147483648", "1000000"};
const char* const kBigintValues[] = {"0", "5", "-5", "9000000000", "9223372036854775807",
                                     "-9223372036854775808", "123456789012", "2", "4294967296"};
const char* const kNumericValues[] = {"12.50", "0.00", "-3.75", "1234567.89", "0.01", "99.99",
                                      "-0.5", "2.5", "3", "0.333", "100000000000.125",
                                      "-2147483648.5"};
// "Stra\xC3\x9F\x65" is "Strasse" with a sharp s: the e as \x65, since a hex escape takes every
// hex digit after it ("\x9Fe" would be one character).
const char* const kTextValues[] = {"hello", "", "  pad ", "\xC3\x9Cn\xC3\xAF", "12", "A B C",
                                   "1.5", "t", "Stra\xC3\x9F\x65", "-7", "2024-01-01", "x'y"};
const char* const kTimestampValues[] = {"2024-01-01 00:00:00", "2024-06-01 12:00:00",
                                        "2025-12-31 23:59:59.5", "1999-02-28 08:30:00",
                                        "2024-02-29 13:45:00.000123", "1970-01-01 00:00:00"};

struct Row {
  int id = 0;
  std::map<std::string, Value> values;
  std::vector<std::string> sql;  // per column: a SQL literal of the value
};

std::string quote_literal(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

// One value of `column`'s type: NULL one time in seven.
void add_value(Random& random, const ColumnDef& column, Row* row) {
  if (random.below(7) == 0) {
    row->values[column.name] = Value::null();
    row->sql.push_back(fmt::format("NULL::{}", column.sql_type));
    return;
  }
  std::string text;
  Value value;
  switch (column.type) {
    case ColumnType::integer:
      text = random.pick(kIntegerValues);
      value = Value::integer(std::stoll(text));
      break;
    case ColumnType::bigint:
      text = random.pick(kBigintValues);
      value = Value::integer(std::stoll(text));
      break;
    case ColumnType::numeric:
      text = random.pick(kNumericValues);
      value = Value::numeric(*decimal::parse(text));
      break;
    case ColumnType::text:
      text = random.pick(kTextValues);
      value = Value::text(text);
      break;
    case ColumnType::boolean:
      text = random.percent(50) ? "true" : "false";
      value = Value::boolean(text == "true");
      break;
    case ColumnType::timestamp:
      text = random.pick(kTimestampValues);
      value = Value::timestamp(*parse_timestamp(text));
      break;
  }
  row->values[column.name] = value;
  row->sql.push_back(fmt::format("{}::{}", quote_literal(text), column.sql_type));
}

std::vector<Row> make_rows(Random& random) {
  std::vector<Row> rows;
  for (int id = 0; id < kRowsCount; ++id) {
    Row row;
    row.id = id;
    for (const ColumnDef& column : kColumns) add_value(random, column, &row);
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The expressions: every operator, function, CASE form, cast and literal form of the language,
// mostly well typed (PostgreSQL would run them), a few deliberately not.

const char* const kIntegerLiterals[] = {"0", "1", "2", "3", "5", "7", "10", "100", "-1", "-3",
                                        "12", "99999", "2147483647", "-2147483648", "2147483648",
                                        "46341", "9223372036854775807", "9223372036854775808",
                                        "-9223372036854775808", "1000000000000"};
const char* const kDecimalLiterals[] = {"0.5", "1.25", "12.345", "-2.5", "0.005", "100.00",
                                        "3.14159", "-0.49", "2.5", "0.0", "1.0", "7.", ".5",
                                        "1e3", "2.5e-3", "123456789.123456789"};
const char* const kNumberStrings[] = {"'5'", "'-7'", "'3.5'", "' 42 '", "'1e2'", "'abc'",
                                      "'2147483648'", "'NaN'", "''", "'0.001'"};
const char* const kTextLiterals[] = {"'abc'", "'  Hi There  '", "''", "'\xC3\x84\xC3\x96 x'",
                                     "'42'", "'3.5'", "'true'", "'MiXeD'", "'a b'", "'-7'",
                                     "'it''s'", "'\xC3\xA9t\xC3\xA9'", "'2024-01-01'"};
const char* const kBooleanStrings[] = {"'true'", "'f'", "'yes'", "'no'", "'on'", "'off'",
                                       "'1'", "'0'", "' t '", "'maybe'", "'TRUE'"};
const char* const kTimestampStrings[] = {
    "'2024-01-01'", "'2024-06-01 12:00:00'", "'2024-01-01T08:30'", "'2025-12-31 23:59:59.999999'",
    "'Jan 1 2024'", "'epoch'", "'infinity'", "'-infinity'", "'2024-01-01 12:00:00+02'",
    "'2024-01-01 BC'", "'2024-01-01 00:00:00.1234567'", "'2023-02-29'", "'20240101'",
    "'2024-01-01 24:00:00'", "'1999-12-31 23:59:59.9999995'", "'June 5, 2024 3pm'"};
const char* const kNumericTypes[] = {"integer", "int", "int4", "bigint", "int8", "numeric",
                                     "decimal", "numeric(10,2)", "numeric(5,1)", "numeric(3)"};
const char* const kTextTypes[] = {"text", "varchar", "varchar(3)", "varchar(10)"};
const char* const kArithmetic[] = {"+", "-", "*", "/", "%"};
const char* const kComparisons[] = {"=", "<>", "!=", "<", "<=", ">", ">="};

class Generator {
 public:
  explicit Generator(Random& random) : random_(random) {}

  std::string expression() {
    const int depth = 1 + random_.below(kDepthMax);
    const int which = random_.below(100);
    if (which < 38) return number(depth);
    if (which < 62) return text(depth);
    if (which < 88) return boolean(depth);
    if (which < 97) return timestamp(depth);
    return mismatch(depth);
  }

 private:
  // An operand of some other type than expected, for the cases PostgreSQL must reject.
  std::string mismatch(int depth) {
    switch (random_.below(6)) {
      case 0: return number(depth - 1) + " || " + number(depth - 1);
      case 1: return "lower(" + number(depth - 1) + ")";
      case 2: return "(" + text(depth - 1) + " + " + number(depth - 1) + ")";
      case 3: return "(" + boolean(depth - 1) + " AND " + number(depth - 1) + ")";
      case 4: return "(created - created)";
      default:
        return "CASE WHEN " + boolean(depth - 1) + " THEN " + number(depth - 1) + " ELSE " +
               text(depth - 1) + " END";
    }
  }

  std::string number_leaf() {
    switch (random_.below(12)) {
      case 0:
      case 1: return random_.pick(kIntegerLiterals);
      case 2:
      case 3: return random_.pick(kDecimalLiterals);
      case 4: return "qty";
      case 5: return "cnt";
      case 6: return "big";
      case 7: return "amount";
      case 8: return "price";
      case 9: return random_.percent(50) ? "NULL" : random_.pick(kNumberStrings);
      default: return random_.pick(kColumnsNumeric);
    }
  }

  std::string number(int depth) {
    if (depth <= 0 || random_.percent(20)) return number_leaf();
    const int d = depth - 1;
    switch (random_.below(24)) {
      case 0:
      case 1:
      case 2:
      case 3: return "(" + number(d) + " " + random_.pick(kArithmetic) + " " + number(d) + ")";
      case 4: return "-" + number(d);
      case 5: return "+" + number(d);
      case 6: return "abs(" + number(d) + ")";
      case 7: return "round(" + number(d) + ")";
      case 8: return "round(" + number(d) + ", " + std::to_string(random_.below(6) - 2) + ")";
      case 9: return random_.pick(kFloorCeil) + std::string("(") + number(d) + ")";
      case 10: return "length(" + text(d) + ")";
      case 11: return "coalesce(" + list(d, &Generator::number) + ")";
      case 12: return "nullif(" + number(d) + ", " + number(d) + ")";
      case 13:
        return std::string(random_.percent(50) ? "greatest(" : "least(") +
               list(d, &Generator::number) + ")";
      case 14:
        return "CASE WHEN " + boolean(d) + " THEN " + number(d) + " ELSE " + number(d) + " END";
      case 15:
        return "CASE WHEN " + boolean(d) + " THEN " + number(d) + " WHEN " + boolean(d) +
               " THEN " + number(d) + " END";
      case 16:
        return "CASE " + number(d) + " WHEN " + number(d) + " THEN " + number(d) + " ELSE " +
               number(d) + " END";
      case 17: return "CAST(" + number(d) + " AS " + random_.pick(kNumericTypes) + ")";
      case 18: return "(" + number(d) + ")::" + random_.pick(kNumericTypes);
      case 19:
        return "CAST(" +
               (random_.percent(50) ? std::string(random_.pick(kNumberStrings)) : text(d)) +
               " AS " + random_.pick(kNumericTypes) + ")";
      case 20: return "(" + number(d) + " " + random_.pick(kArithmetic) + " " +
                      random_.pick(kNumberStrings) + ")";
      case 21: return "substr(" + text(d) + ", " + number(d) + ")::" + random_.pick(kNumericTypes);
      case 22: return "CAST(" + boolean(d) + " AS integer)";
      default: return "(" + number(d) + " * " + number(d) + " - " + number(d) + ")";
    }
  }

  std::string text_leaf() {
    switch (random_.below(4)) {
      case 0: return "name";
      case 1: return "code";
      case 2: return random_.percent(90) ? random_.pick(kTextLiterals) : "NULL";
      default: return random_.pick(kTextLiterals);
    }
  }

  std::string text(int depth) {
    if (depth <= 0 || random_.percent(20)) return text_leaf();
    const int d = depth - 1;
    switch (random_.below(20)) {
      case 0: return "lower(" + text(d) + ")";
      case 1: return "upper(" + text(d) + ")";
      case 2: return "trim(" + text(d) + ")";
      case 3: return "substr(" + text(d) + ", " + std::to_string(random_.below(6) - 1) + ")";
      case 4:
        return "substr(" + text(d) + ", " + number(d) + ", " + std::to_string(random_.below(5) - 1) +
               ")";
      case 5:
      case 6: return "(" + text(d) + " || " + text(d) + ")";
      case 7: return "(" + text(d) + " || " + number(d) + ")";
      case 8: return "(" + number(d) + " || " + text(d) + ")";
      case 9: return "(" + text(d) + " || " + (random_.percent(50) ? boolean(d) : timestamp(d)) + ")";
      case 10: return "CAST(" + number(d) + " AS " + random_.pick(kTextTypes) + ")";
      case 11: return "(" + text(d) + ")::" + random_.pick(kTextTypes);
      case 12: return "CAST(" + boolean(d) + " AS text)";
      case 13: return "CAST(" + timestamp(d) + " AS text)";
      case 14: return "coalesce(" + list(d, &Generator::text) + ")";
      case 15: return "nullif(" + text(d) + ", " + text(d) + ")";
      case 16:
        return std::string(random_.percent(50) ? "greatest(" : "least(") +
               list(d, &Generator::text) + ")";
      case 17:
        return "CASE WHEN " + boolean(d) + " THEN " + text(d) + " ELSE " + text(d) + " END";
      case 18:
        return "CASE " + text(d) + " WHEN " + text(d) + " THEN " + text(d) + " WHEN " + text(d) +
               " THEN " + text(d) + " END";
      default: return "CASE WHEN " + boolean(d) + " THEN " + text(d) + " END";
    }
  }

  std::string boolean_leaf() {
    switch (random_.below(6)) {
      case 0: return "TRUE";
      case 1: return "FALSE";
      case 2: return "NULL";
      default: return "flag";
    }
  }

  std::string boolean(int depth) {
    if (depth <= 0 || random_.percent(15)) return boolean_leaf();
    const int d = depth - 1;
    switch (random_.below(20)) {
      case 0:
      case 1:
      case 2: return "(" + number(d) + " " + random_.pick(kComparisons) + " " + number(d) + ")";
      case 3: return "(" + text(d) + " " + random_.pick(kComparisons) + " " + text(d) + ")";
      case 4: return "(" + timestamp(d) + " " + random_.pick(kComparisons) + " " + timestamp(d) + ")";
      case 5: return "(" + boolean(d) + " " + random_.pick(kComparisons) + " " + boolean(d) + ")";
      case 6: return "(" + boolean(d) + " AND " + boolean(d) + ")";
      case 7: return "(" + boolean(d) + " OR " + boolean(d) + ")";
      case 8: return "NOT " + boolean(d);
      case 9: return "(" + any(d) + " IS NULL)";
      case 10: return "(" + any(d) + " IS NOT NULL)";
      case 11: return "CAST(" + std::string(random_.pick(kBooleanStrings)) + " AS boolean)";
      case 12: return "(" + text(d) + ")::" + (random_.percent(50) ? "boolean" : "bool");
      case 13: return "coalesce(" + list(d, &Generator::boolean) + ")";
      case 14: return "nullif(" + boolean(d) + ", " + boolean(d) + ")";
      case 15: return "(flag = " + std::string(random_.pick(kBooleanStrings)) + ")";
      case 16:
        return "CASE WHEN " + boolean(d) + " THEN " + boolean(d) + " ELSE " + boolean(d) + " END";
      case 17: return "(" + number(d) + " " + random_.pick(kComparisons) + " " + random_.pick(kNumberStrings) + ")";
      case 18: return "CAST(" + number(d) + " AS boolean)";
      default:
        return std::string(random_.percent(50) ? "greatest(" : "least(") +
               list(d, &Generator::boolean) + ")";
    }
  }

  std::string timestamp_leaf() {
    switch (random_.below(4)) {
      case 0:
      case 1: return "created";
      case 2: return "CAST(" + std::string(random_.pick(kTimestampStrings)) + " AS timestamp)";
      default: return std::string(random_.pick(kTimestampStrings)) + "::timestamp";
    }
  }

  std::string timestamp(int depth) {
    if (depth <= 0 || random_.percent(25)) return timestamp_leaf();
    const int d = depth - 1;
    switch (random_.below(7)) {
      case 0:
        return std::string(random_.percent(50) ? "greatest(" : "least(") + timestamp(d) + ", " +
               random_.pick(kTimestampStrings) + ")";
      case 1: return "coalesce(" + timestamp(d) + ", " + random_.pick(kTimestampStrings) + ")";
      case 2: return "nullif(" + timestamp(d) + ", " + random_.pick(kTimestampStrings) + ")";
      case 3:
        return "CASE WHEN " + boolean(d) + " THEN " + timestamp(d) + " ELSE " +
               random_.pick(kTimestampStrings) + " END";
      case 4: return "CAST(" + text(d) + " AS timestamp)";
      case 5: return "(" + text(d) + ")::timestamp";
      default: return "CASE WHEN " + boolean(d) + " THEN " + timestamp(d) + " END";
    }
  }

  std::string any(int depth) {
    switch (random_.below(4)) {
      case 0: return number(depth);
      case 1: return text(depth);
      case 2: return boolean(depth);
      default: return timestamp(depth);
    }
  }

  // Two or three arguments of one kind.
  std::string list(int depth, std::string (Generator::*make)(int)) {
    std::string arguments = (this->*make)(depth) + ", " + (this->*make)(depth);
    if (random_.percent(30)) arguments += ", " + (this->*make)(depth);
    return arguments;
  }

  static constexpr const char* kFloorCeil[] = {"floor", "ceil", "ceiling"};
  static constexpr const char* kColumnsNumeric[] = {"qty", "big", "amount"};
  Random& random_;
};

// ---------------------------------------------------------------------------------------------
// Outcomes and their comparison

struct Outcome {
  bool error = false;
  bool null = false;
  std::string text;   // the value as PostgreSQL prints it, or the error message
  std::string type;   // the result's type (PostgreSQL) or value kind (simulator)
};

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return "boolean";
    case Value::Kind::integer: return "integer";
    case Value::Kind::numeric: return "numeric";
    case Value::Kind::text: return "text";
    case Value::Kind::timestamp: return "timestamp";
    case Value::Kind::float8: return "double precision";
  }
  return "?";
}

// The rows' column types, as the simulator is given them.
const ColumnTypes& column_types() {
  static const ColumnTypes types = [] {
    ColumnTypes made;
    for (const ColumnDef& column : kColumns) made[column.name] = column.type;
    return made;
  }();
  return types;
}

Outcome simulate(const std::string& text, const Row& row) {
  Outcome outcome;
  ExprParseError error;
  const std::optional<Expr> expr = parse_expression(text, column_types(), &error);
  if (!expr) {
    outcome.error = true;
    outcome.text = "load: " + error.message;
    return outcome;
  }
  const EvalResult result = evaluate(*expr, [&row](const std::string& column) -> const Value* {
    const auto found = row.values.find(column);
    return found == row.values.end() ? nullptr : &found->second;
  });
  if (!result.ok) {
    outcome.error = true;
    outcome.text = result.error;
    return outcome;
  }
  outcome.null = result.value.is_null();
  outcome.text = result.value.to_string();
  outcome.type = kind_name(result.value.kind());
  return outcome;
}

std::string type_of_oid(Oid oid) {
  switch (oid) {
    case 16: return "boolean";
    case 20: return "bigint";
    case 21: return "smallint";
    case 23: return "integer";
    case 25: return "text";
    case 700: return "real";
    case 701: return "double precision";
    case 1043: return "varchar";
    case 1114: return "timestamp";
    case 1184: return "timestamptz";
    case 1186: return "interval";
    case 1700: return "numeric";
    default: return fmt::format("oid {}", oid);
  }
}

// A message with its particulars (quoted text, numbers) blanked, so that one class of error
// makes one key.
std::string message_key(std::string_view message) {
  std::string key;
  bool quoted = false;
  for (const char c : message) {
    if (c == '"') {
      quoted = !quoted;
      key += quoted ? "\"…" : "\"";
      continue;
    }
    if (quoted) continue;
    if (c >= '0' && c <= '9') {
      if (key.empty() || key.back() != '#') key += '#';
      continue;
    }
    key += c;
  }
  if (key.size() > kMessageKeyLengthMax) key.resize(kMessageKeyLengthMax);
  return key;
}

// "" when the outcomes agree, else the class of the disagreement.
std::string disagreement(const Outcome& simulator, const Outcome& postgres) {
  if (simulator.error && postgres.error) return "";
  if (!simulator.error && !postgres.error) {
    if (simulator.null && postgres.null) return "";
    if (!simulator.null && !postgres.null && simulator.text == postgres.text) return "";
    if (simulator.null != postgres.null) {
      return fmt::format("NULL in one only (PostgreSQL {})", postgres.null ? "NULL" : postgres.type);
    }
    return fmt::format("different values: PostgreSQL {} / simulator {}", postgres.type,
                       simulator.type);
  }
  if (simulator.error) return "simulator fails, PostgreSQL does not: " + message_key(simulator.text);
  return "PostgreSQL fails, simulator does not: " + message_key(postgres.text);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

using Connection = std::unique_ptr<PGconn, void (*)(PGconn*)>;
using Result = std::unique_ptr<PGresult, void (*)(PGresult*)>;

Result wrap(PGresult* result) { return Result(result, PQclear); }

std::string first_line(const char* message) {
  std::string text = message == nullptr ? "" : message;
  if (text.rfind("ERROR:  ", 0) == 0) text = text.substr(8);
  const std::size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

// Runs one statement outside a pipeline; "" or the error.
std::string execute(PGconn* connection, const std::string& sql) {
  const Result result = wrap(PQexec(connection, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return "";
  return first_line(PQerrorMessage(connection));
}

std::string create_rows(PGconn* connection, const std::vector<Row>& rows) {
  std::string columns = "id integer";
  for (const ColumnDef& column : kColumns) columns += fmt::format(", {} {}", column.name, column.sql_type);
  std::string error = execute(connection,
                              "SET datestyle = 'ISO, MDY'; SET extra_float_digits = 1; "
                              "SET intervalstyle = 'postgres'; SET timezone = 'UTC'; "
                              "DROP TABLE IF EXISTS pg_temp.expr_rows; "
                              "CREATE TEMP TABLE expr_rows (" + columns + ")");
  if (!error.empty()) return error;
  std::string insert = "INSERT INTO expr_rows VALUES ";
  for (const Row& row : rows) {
    insert += fmt::format("{}({}, {})", row.id == 0 ? "" : ", ", row.id, fmt::join(row.sql, ", "));
  }
  return execute(connection, insert);
}

struct Case {
  std::string expression;
  int row = 0;
};

// Evaluates `cases` in one pipeline; one outcome per case, or an error of the connection.
std::string evaluate_in_postgres(PGconn* connection, const std::vector<Case>& cases,
                                 std::vector<Outcome>* outcomes) {
  if (PQenterPipelineMode(connection) != 1) return first_line(PQerrorMessage(connection));
  for (const Case& test : cases) {
    const std::string sql = fmt::format("SELECT ({}) FROM expr_rows WHERE id = {}", test.expression, test.row);
    if (PQsendQueryParams(connection, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
        PQpipelineSync(connection) != 1) {
      return first_line(PQerrorMessage(connection));
    }
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    Outcome outcome;
    // The query's result, the end of its results (nullptr), then its sync.
    for (PGresult* raw = PQgetResult(connection); raw != nullptr; raw = PQgetResult(connection)) {
      const Result result = wrap(raw);
      const ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_TUPLES_OK) {
        if (PQntuples(raw) != 1 || PQnfields(raw) != 1) return "a case did not return one value";
        outcome.null = PQgetisnull(raw, 0, 0) == 1;
        outcome.text = outcome.null ? "NULL" : PQgetvalue(raw, 0, 0);
        outcome.type = type_of_oid(PQftype(raw, 0));
      } else if (status == PGRES_FATAL_ERROR) {
        outcome.error = true;
        outcome.text = first_line(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY));
      } else {
        return fmt::format("unexpected result status {}", PQresStatus(status));
      }
    }
    const Result sync = wrap(PQgetResult(connection));
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) return "a case's sync is missing";
    outcomes->push_back(std::move(outcome));
  }
  if (PQexitPipelineMode(connection) != 1) return first_line(PQerrorMessage(connection));
  return "";
}

// ---------------------------------------------------------------------------------------------
// The test

struct Tally {
  int cases = 0;
  int agreed = 0;
  int postgres_values = 0;  // cases where PostgreSQL returned a value (not an error)
  std::map<std::string, std::pair<int, std::vector<std::string>>> classes;
};

void report(const Tally& tally, std::uint64_t seed) {
  std::printf("expression differential test: seed %llu, %d cases, %d agree (%.2f%%); PostgreSQL "
              "returned a value in %d\n",
              static_cast<unsigned long long>(seed), tally.cases, tally.agreed,
              100.0 * tally.agreed / std::max(tally.cases, 1), tally.postgres_values);
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [name, entry] : tally.classes) order.emplace_back(entry.first, name);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  int shown = 0;
  for (const auto& [count, name] : order) {
    if (++shown > kClassesShownMax) {
      std::printf("... and %zu more classes\n", order.size() - kClassesShownMax);
      break;
    }
    std::printf("\n[%d] %s\n", count, name.c_str());
    for (const std::string& example : tally.classes.at(name).second) std::printf("%s", example.c_str());
  }
  std::fflush(stdout);
}

bool server_answers(const std::string& dsn) {
  const Connection connection(PQconnectdb(dsn.c_str()), PQfinish);
  return PQstatus(connection.get()) == CONNECTION_OK;
}

class LiveExpressionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!server_answers(dsn()) && std::getenv("REHEARSE_EXPR_DSN") == nullptr) {
      started_servers_ = testing::run_live_script("live-up");
    }
  }
  static void TearDownTestSuite() {
    if (started_servers_) {
      testing::run_live_script("live-down");
      started_servers_ = false;
    }
  }
  static std::string dsn() {
    return env_text("REHEARSE_EXPR_DSN", testing::live_pg_dsn("PG_US_EAST_1").c_str());
  }
  static inline bool started_servers_ = false;
};

TEST_F(LiveExpressionTest, AgreesWithPostgreSQL) {
  // Generates the rows and the cases from the seed, evaluates every case in PostgreSQL (in
  // pipelines) and in the simulator, and requires the agreement to reach kAgreementMin; the
  // histogram of disagreements is printed whatever the outcome.
  const Connection connection(PQconnectdb(dsn().c_str()), PQfinish);
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    GTEST_SKIP() << "no PostgreSQL at " << dsn() << ": " << first_line(PQerrorMessage(connection.get()));
  }
  const std::uint64_t seed = std::stoull(env_text("REHEARSE_EXPR_SEED", "1"));
  const int cases_count = std::stoi(env_text("REHEARSE_EXPR_CASES", "20000"));
  Random random(seed);
  const std::vector<Row> rows = make_rows(random);
  const std::string created = create_rows(connection.get(), rows);
  ASSERT_EQ(created, "");
  Generator generator(random);
  std::vector<Case> cases;
  for (int i = 0; i < cases_count; ++i) cases.push_back(Case{generator.expression(), random.below(kRowsCount)});

  FILE* dump = std::getenv("REHEARSE_EXPR_DUMP") != nullptr ? std::fopen(std::getenv("REHEARSE_EXPR_DUMP"), "w") : nullptr;
  Tally tally;
  for (std::size_t start = 0; start < cases.size(); start += kPipelineCases) {
    const std::vector<Case> chunk(cases.begin() + static_cast<std::ptrdiff_t>(start),
                                  cases.begin() + static_cast<std::ptrdiff_t>(std::min(cases.size(), start + kPipelineCases)));
    std::vector<Outcome> outcomes;
    const std::string failed = evaluate_in_postgres(connection.get(), chunk, &outcomes);
    ASSERT_EQ(failed, "");
    ASSERT_EQ(outcomes.size(), chunk.size());
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const Outcome& postgres = outcomes[i];
      const Outcome simulator = simulate(chunk[i].expression, rows[static_cast<std::size_t>(chunk[i].row)]);
      ++tally.cases;
      tally.postgres_values += postgres.error ? 0 : 1;
      const std::string name = disagreement(simulator, postgres);
      if (name.empty()) {
        ++tally.agreed;
        continue;
      }
      const auto describe = [](const Outcome& outcome) {
        return outcome.error ? "ERROR " + outcome.text : outcome.text + " (" + outcome.type + ")";
      };
      const std::string example = fmt::format("    {}\n      row {}: {}\n      PostgreSQL: {}\n      simulator:  {}\n",
                                              chunk[i].expression, chunk[i].row,
                                              fmt::join(rows[static_cast<std::size_t>(chunk[i].row)].sql, ", "),
                                              describe(postgres), describe(simulator));
      auto& entry = tally.classes[name];
      ++entry.first;
      if (entry.second.size() < kExamplesPerClass) entry.second.push_back(example);
      if (dump != nullptr) std::fprintf(dump, "[%s]\n%s", name.c_str(), example.c_str());
    }
  }
  if (dump != nullptr) std::fclose(dump);
  report(tally, seed);
  const double agreement = 100.0 * tally.agreed / std::max(tally.cases, 1);
  EXPECT_GE(agreement, kAgreementMin);
}

}  // namespace
}  // namespace rehearse
