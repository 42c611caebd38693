// Tests of the migration expression language (core/expr.h) and of SQL values (core/value.h).
// The simulator evaluates `up` / `down` with core/expr.cc while a live run sends to_sql() to
// PostgreSQL, so the tables below state PostgreSQL's answer for each expression; the round-trip
// test then checks that the SQL we send means the same thing to our own parser. Hash values are
// hard-coded (and were computed independently from the documented FNV-1a encoding) because
// validation checksums compare them across machines and builds.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "core/expr.h"
#include "core/value.h"

namespace rehearse {
namespace {

std::int64_t timestamp_of(const char* text) {
  const std::optional<std::int64_t> micros = parse_timestamp(text);
  EXPECT_TRUE(micros.has_value()) << text;
  return micros.value_or(0);
}

// The row every evaluation case reads.
const std::map<std::string, Value>& sample_row() {
  static const std::map<std::string, Value> row = {
      {"amount", Value::numeric(Decimal{12345, 3})},  // 12.345
      {"price", Value::numeric(Decimal{1999, 2})},    // 19.99
      {"qty", Value::integer(3)},
      {"big", Value::integer(std::numeric_limits<std::int64_t>::max())},
      {"name", Value::text("Ada Lovelace")},
      {"email", Value::text("  Ada@Example.COM  ")},
      {"city", Value::text("Z\xC3\xBCrich")},  // Zürich: 6 characters, 7 bytes
      {"status", Value::text("paid")},
      {"missing", Value::null()},  // integer
      {"unset", Value::null()},    // boolean
      {"blank", Value::null()},    // text
      {"flag", Value::boolean(true)},
      {"off", Value::boolean(false)},
      {"created", Value::timestamp(timestamp_of("2024-02-29 13:45:00"))},
  };
  return row;
}

// The sample row's column types, as PostgreSQL would have them.
const ColumnTypes& sample_types() {
  static const ColumnTypes types = {
      {"amount", ColumnType::numeric}, {"price", ColumnType::numeric},
      {"qty", ColumnType::bigint},     {"big", ColumnType::bigint},
      {"name", ColumnType::text},      {"email", ColumnType::text},
      {"city", ColumnType::text},      {"status", ColumnType::text},
      {"missing", ColumnType::integer}, {"unset", ColumnType::boolean},
      {"blank", ColumnType::text},     {"flag", ColumnType::boolean},
      {"off", ColumnType::boolean},    {"created", ColumnType::timestamp},
  };
  return types;
}

const Value* lookup_sample(const std::string& column) {
  const auto found = sample_row().find(column);
  return found == sample_row().end() ? nullptr : &found->second;
}

std::string quote_identifier(const std::string& name) { return "\"" + name + "\""; }

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return "boolean";
    case Value::Kind::integer: return "integer";
    case Value::Kind::numeric: return "numeric";
    case Value::Kind::text: return "text";
    case Value::Kind::timestamp: return "timestamp";
    case Value::Kind::float8: return "float8";
  }
  return "?";
}

// "kind:text" of a result ("numeric:12.50", "null:NULL") or "error:message".
std::string describe(const EvalResult& result) {
  if (!result.ok) return "error:" + result.error;
  return std::string(kind_name(result.value.kind())) + ":" + result.value.to_string();
}

std::string evaluate_text(const std::string& text) {
  ExprParseError error;
  const std::optional<Expr> expr = parse_expression(text, sample_types(), &error);
  if (!expr) return "parse error:" + error.message;
  return describe(evaluate(*expr, lookup_sample));
}

struct EvaluationCase {
  const char* expression;
  const char* expected;  // describe() of the result
};

// Each row is what PostgreSQL returns for the same expression over the sample row (column types:
// numeric, bigint, text, boolean, timestamp), except where a comment says otherwise.
const EvaluationCase kEvaluationCases[] = {
    // NULL propagates through operators, functions and casts.
    {"missing + 1", "null:NULL"},
    {"missing * 0", "null:NULL"},
    {"missing / 0", "null:NULL"},
    {"missing || 'x'", "null:NULL"},
    {"missing = missing", "null:NULL"},
    {"missing <> 1", "null:NULL"},
    {"-missing", "null:NULL"},
    {"lower(blank)", "null:NULL"},
    {"substr(name, missing)", "null:NULL"},
    {"round(amount, missing)", "null:NULL"},
    {"CAST(missing AS integer)", "null:NULL"},
    {"missing IS NULL", "boolean:t"},
    {"missing IS NOT NULL", "boolean:f"},
    {"NULL IS NULL", "boolean:t"},
    {"qty IS NULL", "boolean:f"},
    // Three-valued logic; AND / OR stop once the result is known, left to right.
    {"unset AND false", "boolean:f"},
    {"unset AND true", "null:NULL"},
    {"unset OR true", "boolean:t"},
    {"unset OR false", "null:NULL"},
    {"NOT unset", "null:NULL"},
    {"off OR unset", "null:NULL"},
    {"flag AND NOT off", "boolean:t"},
    {"NOT flag = off", "boolean:t"},  // NOT binds looser than =
    {"flag = true AND qty > 2 OR off", "boolean:t"},
    {"false AND 1 / 0 = 1", "boolean:f"},
    {"true OR 1 / 0 = 1", "boolean:t"},
    {"unset AND 1 / 0 = 1", "parse error:division by zero"},  // folded by the planner,
    {"qty AND true", "parse error:argument of AND must be type boolean, not type bigint"},
    {"NOT 'yes'", "boolean:f"},  // a quoted literal is cast to boolean
    // Exact decimals.
    {"round(amount * 100)", "numeric:1235"},
    {"amount * 100", "numeric:1234.500"},
    {"0.1 + 0.2", "numeric:0.3"},
    {"0.1 + 0.2 = 0.3", "boolean:t"},
    {"1.50 = 1.5", "boolean:t"},
    {"3 = 3.00", "boolean:t"},
    {"price * qty", "numeric:59.97"},
    {"price - 20", "numeric:-0.01"},
    {"amount + qty", "numeric:15.345"},
    {"12.345 * 0.01", "numeric:0.12345"},
    {"1 / 3.0", "numeric:0.33333333333333333333"},
    {"1.0 / 3", "numeric:0.33333333333333333333"},
    {"2 / 3.0", "numeric:0.66666666666666666667"},
    {"10 / 4.0", "numeric:2.5000000000000000"},
    {"100.0 / 3", "numeric:33.3333333333333333"},
    {"amount / 2", "numeric:6.1725000000000000"},
    {"-1 / 3.0", "numeric:-0.33333333333333333333"},
    {"5.5 % 2", "numeric:1.5"},
    {"-5.5 % 2", "numeric:-1.5"},
    {"1.5 / 0", "parse error:division by zero"},
    {"amount / 0.0", "error:division by zero"},
    {"amount % 0", "error:division by zero"},
    {"99999999999999999999999999999999999999 * 10", "parse error:numeric value out of range"},
    {"round(12.345, 2)", "numeric:12.35"},
    {"round(-12.345, 2)", "numeric:-12.35"},
    {"round(2.5)", "numeric:3"},
    {"round(-2.5)", "numeric:-3"},
    {"round(1234.5, -2)", "numeric:1200"},
    {"round(1.5, 3)", "numeric:1.500"},
    {"round(qty, 2)", "numeric:3.00"},
    {"round(qty)", "float8:3"},  // double precision
    {"round(amount, 31)", "error:round to 31 decimal places exceeds the supported maximum of 30"},
    {"floor(-1.5)", "numeric:-2"},
    {"ceil(-1.5)", "numeric:-1"},
    {"ceiling(1.2)", "numeric:2"},
    {"floor(12.000)", "numeric:12"},
    {"floor(qty)", "float8:3"},
    {"abs(-3.50)", "numeric:3.50"},
    {"abs(-qty)", "integer:3"},
    {"abs(-big - 1)", "error:bigint out of range"},
    {"-amount", "numeric:-12.345"},
    {"+amount", "numeric:12.345"},
    // Integers: int64, truncating division, PostgreSQL's %.
    {"7 / 2", "integer:3"},
    {"-7 / 2", "integer:-3"},
    {"7 % 3", "integer:1"},
    {"-7 % 3", "integer:-1"},
    {"7 % -3", "integer:1"},
    {"qty / 0", "error:division by zero"},
    {"qty % 0", "error:division by zero"},
    {"big + 1", "error:bigint out of range"},
    {"-big - 2", "error:bigint out of range"},
    {"big * 2", "error:bigint out of range"},
    {"(-big - 1) / -1", "error:bigint out of range"},
    {"(-big - 1) % -1", "integer:0"},
    {"2 + 3 * 4", "integer:14"},
    {"(2 + 3) * 4", "integer:20"},
    {"2 - 3 - 4", "integer:-5"},
    {"-2 * 3", "integer:-6"},
    {"qty - -1", "integer:4"},
    {"qty ++ 1", "integer:4"},  // PostgreSQL lexes "++" as "+" "+": qty + (+1)
    {"qty*-2", "integer:-6"},
    {"9223372036854775807", "integer:9223372036854775807"},
    {"9223372036854775808", "numeric:9223372036854775808"},
    {"-9223372036854775808", "integer:-9223372036854775808"},
    {"QTY", "integer:3"},  // unquoted names fold to lower case
    // Text.
    {"lower(email)", "text:  ada@example.com  "},
    {"upper(name)", "text:ADA LOVELACE"},
    {"trim(email)", "text:Ada@Example.COM"},
    {"lower(trim(email))", "text:ada@example.com"},
    {"length(name)", "integer:12"},
    {"length(city)", "integer:6"},
    {"upper(city)", "text:Z\xC3\x9CRICH"},  // Unicode case mapping (C.UTF-8)
    {"substr('hello', 2, 3)", "text:ell"},
    {"substr('hello', 2)", "text:ello"},
    {"substr('hello', 0, 3)", "text:he"},
    {"substr('hello', -1)", "text:hello"},
    {"substr('hello', 10)", "text:"},
    {"substr(city, 2, 1)", "text:\xC3\xBC"},
    {"substr('hello', 2, -1)", "parse error:negative substring length not allowed"},  // folded
    {"name || ' <' || trim(email) || '>'", "text:Ada Lovelace <Ada@Example.COM>"},
    {"qty || ' items'", "text:3 items"},
    {"'total: ' || amount", "text:total: 12.345"},
    {"flag || ''", "text:true"},
    {"'it''s'", "text:it's"},
    {"'a' < 'b'", "boolean:t"},
    {"'Z' < 'a'", "boolean:t"},  // byte order (COLLATE "C")
    {"name = 'Ada Lovelace'", "boolean:t"},
    {"status <> 'paid'", "boolean:f"},
    {"1 || 2", "parse error:operator does not exist: integer || integer"},
    {"lower(qty)", "parse error:function lower(bigint) does not exist"},
    {"name + 1", "parse error:operator does not exist: text + integer"},
    {"name = 5", "parse error:operator does not exist: text = integer"},
    // CASE.
    {"CASE WHEN qty > 2 THEN 'many' ELSE 'few' END", "text:many"},
    {"CASE WHEN unset THEN 1 ELSE 2 END", "integer:2"},
    {"CASE WHEN unset THEN 1 END", "null:NULL"},
    {"CASE status WHEN 'new' THEN 1 WHEN 'paid' THEN 2 END", "integer:2"},
    {"CASE missing WHEN NULL THEN 1 ELSE 0 END", "integer:0"},
    {"CASE WHEN qty = 3 THEN 1 ELSE 2.5 END", "numeric:1"},  // resolved type numeric
    {"CASE WHEN false THEN 1 / 0 ELSE 0 END", "integer:0"},
    {"CASE WHEN qty THEN 1 END", "parse error:argument of CASE/WHEN must be type boolean, not type bigint"},
    {"case when QTY > 1 then 'many' eLsE 'one' END", "text:many"},
    // CAST and ::.
    {"CAST('42' AS integer)", "integer:42"},
    {"' 42 '::bigint", "integer:42"},
    {"'4x'::integer", "parse error:invalid input syntax for type integer: \"4x\""},
    {"'12.5'::integer", "parse error:invalid input syntax for type integer: \"12.5\""},
    {"'3000000000'::integer", "parse error:value \"3000000000\" is out of range for type integer"},
    {"CAST(3000000000 AS integer)", "parse error:integer out of range"},
    {"CAST(amount AS integer)", "integer:12"},
    {"2.5::bigint", "integer:3"},
    {"(-2.5)::bigint", "integer:-3"},
    {"-2.5::bigint", "integer:-3"},
    {"'12.345'::numeric(5,2)", "numeric:12.35"},
    {"amount::numeric(4,2)", "numeric:12.35"},
    {"amount::numeric(3,2)",
     "error:numeric field overflow"},
    {"qty::numeric(10,2)", "numeric:3.00"},
    {"CAST(qty AS decimal)", "numeric:3"},
    {"'abc'::numeric", "parse error:invalid input syntax for type numeric: \"abc\""},
    {"'1.5e3'::numeric", "numeric:1500"},
    {"' -0.50 '::numeric", "numeric:-0.50"},
    {"qty::text", "text:3"},
    {"amount::text", "text:12.345"},
    {"CAST(flag AS text)", "text:true"},
    {"'t'::boolean", "boolean:t"},
    {"'FALSE'::bool", "boolean:f"},
    {"'maybe'::boolean", "parse error:invalid input syntax for type boolean: \"maybe\""},
    {"flag::varchar(2)", "text:tr"},
    {"name::varchar(3)", "text:Ada"},
    {"qty::text::integer + 1", "integer:4"},
    {"CAST('2024-01-02 03:04:05.25' AS timestamp)", "timestamp:2024-01-02 03:04:05.25"},
    {"created::text", "text:2024-02-29 13:45:00"},
    {"'2023-02-29'::timestamp", "parse error:invalid input syntax for type timestamp: \"2023-02-29\""},
    {"flag::numeric", "parse error:cannot cast type boolean to numeric"},
    {"created::integer", "parse error:cannot cast type timestamp without time zone to integer"},
    // Quoted literals take the type of the value they meet ("unknown" in PostgreSQL).
    {"'5' + 1", "integer:6"},
    {"amount > '12.3'", "boolean:t"},
    {"created > '2024-01-01'", "boolean:t"},
    {"'x' + 1", "parse error:invalid input syntax for type integer: \"x\""},
    // coalesce, nullif, greatest, least.
    {"coalesce(missing, qty, 0)", "integer:3"},
    {"coalesce(missing, 0.0)", "numeric:0.0"},
    {"coalesce(missing, missing)", "null:NULL"},
    {"coalesce(qty, 1 / 0)", "parse error:division by zero"},  // the planner folds 1 / 0
    {"coalesce(missing, 5, 1.5)", "numeric:5"},
    {"nullif(qty, 3)", "null:NULL"},
    {"nullif(qty, 4)", "integer:3"},
    {"nullif(missing, 1)", "null:NULL"},
    {"nullif(status, '')", "text:paid"},
    {"greatest(1, 2.5, missing)", "numeric:2.5"},
    {"greatest(qty, 1)", "integer:3"},
    {"least(3, 1, 2)", "integer:1"},
    {"least(qty, 2.50)", "numeric:2.50"},
    {"least(missing, missing)", "null:NULL"},
    {"greatest('apple', 'banana')", "text:banana"},
    {"greatest(created, '2025-01-01')", "timestamp:2025-01-01 00:00:00"},
    {"greatest(qty, name)", "parse error:GREATEST types bigint and text cannot be matched"},
    // PostgreSQL's types: integer arithmetic overflows at 2^31, round/floor/ceil of an integer
    // are double precision, an unknown literal takes the preferred type of its category.
    {"length(name) * 2147483647", "error:integer out of range"},
    {"'5' + 2147483647", "parse error:integer out of range"},  // folded
    {"round(qty) / 4", "float8:0.75"},
    {"floor(qty) * 1e20", "float8:3e+20"},
    {"round(qty) % 2", "parse error:operator does not exist: double precision % integer"},
    {"abs('-5')", "float8:5"},
    {"+'5'", "float8:5"},
    {"CASE WHEN flag THEN round(qty) ELSE 1 END", "float8:3"},
    // NaN, intervals, typed literals whose modifiers apply later, CASE folded away.
    {"'NaN'::numeric + amount", "numeric:NaN"},
    {"'NaN'::numeric > amount", "boolean:t"},
    {"CAST('NaN'::numeric AS integer)", "parse error:cannot convert NaN to integer"},
    {"created - '2024-01-01'::timestamp", "text:59 days 13:45:00"},
    {"'2024-01-01'::timestamp - created", "text:-59 days -13:45:00"},
    {"created - created", "text:00:00:00"},
    {"CASE WHEN false THEN CAST('123456' AS numeric(3)) ELSE 1 END", "numeric:1"},
    {"CAST('123456' AS numeric(3))", "parse error:numeric field overflow"},
    {"CASE NULL::integer WHEN qty THEN 1 ELSE 2 END", "integer:2"},
    {"CASE qty WHEN NULL THEN substr(name, 1 / 0) ELSE 'x' END", "text:x"},  // arm dropped unread
    // Columns.
    {"nope + 1", "parse error:column \"nope\" does not exist"},
    {"\"Qty\"", "parse error:column \"Qty\" does not exist"},
    {"\"qty\" + 1", "integer:4"},
};

TEST(ExprEvaluate, MatchesPostgreSQLOnTheSampleRow) {
  // Each expression is parsed and evaluated over sample_row(); the result's kind and text output
  // must be exactly what the table says.
  for (const EvaluationCase& test : kEvaluationCases) {
    SCOPED_TRACE(test.expression);
    EXPECT_EQ(evaluate_text(test.expression), test.expected);
  }
}

// The plain-number steps run in 64 bits when their operands and result fit (core/expr.cc's
// small_arithmetic, small_round) and fall back to the 128-bit path when they do not: both sides
// of that edge give PostgreSQL's answer (big is 2^63 - 1).
TEST(ExprEvaluate, SixtyFourBitStepsAgreeAtTheirEdges) {
  const EvaluationCase cases[] = {
      {"amount * price", "numeric:246.77655"},
      {"amount + price", "numeric:32.335"},
      {"amount - price", "numeric:-7.645"},
      {"round(amount)", "numeric:12"},
      {"round(-amount * 100)", "numeric:-1235"},
      {"(amount * 100)::bigint", "integer:1235"},
      {"(-amount * 100)::integer", "integer:-1235"},
      {"big::numeric * 10", "numeric:92233720368547758070"},
      {"big::numeric + 1", "numeric:9223372036854775808"},
      {"big::numeric + 0.5", "numeric:9223372036854775807.5"},
      {"-big::numeric - 2", "numeric:-9223372036854775809"},
      {"round(big::numeric * 1.5)", "numeric:13835058055282163711"},
      {"round((-big - 1)::numeric * 0.1)", "numeric:-922337203685477581"},
      {"((-big - 1)::numeric * 0.1)::bigint", "integer:-922337203685477581"},
      {"(big::numeric * 100)::bigint", "error:bigint out of range"},
      {"(amount * 1000000000)::integer", "error:integer out of range"},
      // Whole programs over plain numbers (ExprProgram::plain), on both sides of 64 bits: an
      // operand or result past them leaves the plain program for the steps.
      {"(amount * price)::bigint", "integer:247"},
      {"round(amount * 100)::integer", "integer:1235"},
      {"big * 10.0", "numeric:92233720368547758070.0"},
      {"big + 0.5", "numeric:9223372036854775807.5"},
      {"round(big * 1.0)", "numeric:9223372036854775807"},
      {"(big * 1.0)::bigint", "integer:9223372036854775807"},
      {"(big * 1.0 + 1)::bigint", "error:bigint out of range"},
  };
  for (const EvaluationCase& test : cases) {
    SCOPED_TRACE(test.expression);
    EXPECT_EQ(evaluate_text(test.expression), test.expected);
  }
}

TEST(ExprToSql, RoundTripMeansTheSame) {
  // For every table expression: parse(to_sql(e)) evaluates to the same kind and value (or the
  // same error), and rendering it again gives the same SQL (to_sql is a fixpoint).
  for (const EvaluationCase& test : kEvaluationCases) {
    if (std::string_view(test.expected).rfind("parse error:", 0) == 0) continue;
    SCOPED_TRACE(test.expression);
    ExprParseError error;
    const std::optional<Expr> original = parse_expression(test.expression, sample_types(), &error);
    ASSERT_TRUE(original.has_value()) << error.message;
    const std::string sql = to_sql(*original, quote_identifier);
    SCOPED_TRACE(sql);
    EXPECT_EQ(sql.find("--"), std::string::npos);
    const std::optional<Expr> reparsed = parse_expression(sql, sample_types(), &error);
    ASSERT_TRUE(reparsed.has_value()) << error.message;
    EXPECT_EQ(describe(evaluate(*reparsed, lookup_sample)),
              describe(evaluate(*original, lookup_sample)));
    EXPECT_EQ(to_sql(*reparsed, quote_identifier), sql);
    EXPECT_EQ(reparsed->columns(), original->columns());
  }
}

TEST(ExprToSql, RendersParenthesisedPostgreSQL) {
  // The exact text sent to PostgreSQL for a few shapes: every operator parenthesised, casts as
  // CAST(x AS type), strings quoted with '' and columns passed through quote_column.
  const auto sql_of = [](const char* text) {
    ExprParseError error;
    const std::optional<Expr> expr = parse_expression(text, &error);
    EXPECT_TRUE(expr.has_value()) << text << ": " << error.message;
    return expr ? to_sql(*expr, [](const std::string& name) { return "t.\"" + name + "\""; })
                : std::string();
  };
  EXPECT_EQ(sql_of("round(amount * 100)"), "round((t.\"amount\" * 100))");
  EXPECT_EQ(sql_of("a::numeric(10,2) + -1.50"), "(CAST(t.\"a\" AS numeric(10,2)) + (-1.50))");
  EXPECT_EQ(sql_of("CASE WHEN a IS NULL THEN 'it''s' ELSE lower(b) END"),
            "CASE WHEN (t.\"a\" IS NULL) THEN 'it''s' ELSE lower(t.\"b\") END");
  EXPECT_EQ(sql_of("CASE a WHEN 1 THEN TRUE END"), "CASE t.\"a\" WHEN 1 THEN TRUE END");
  EXPECT_EQ(sql_of("NOT a AND b OR c IS NOT NULL"),
            "(((NOT t.\"a\") AND t.\"b\") OR (t.\"c\" IS NOT NULL))");
  EXPECT_EQ(sql_of("a != b"), "(t.\"a\" <> t.\"b\")");
  EXPECT_EQ(sql_of("a || 'x' || NULL"), "((t.\"a\" || 'x') || NULL)");
  EXPECT_EQ(sql_of("5."), "5.");  // numeric, not integer
  EXPECT_EQ(sql_of("- - a"), "(-(-t.\"a\"))");
  EXPECT_EQ(sql_of("x ++ 1"), "(t.\"x\" + (+1))");
  EXPECT_EQ(sql_of("coalesce(a, b, 0)"), "coalesce(t.\"a\", t.\"b\", 0)");
  EXPECT_EQ(sql_of("\"Mixed Case\"::int"), "CAST(t.\"Mixed Case\" AS integer)");
  EXPECT_EQ(sql_of("x::varchar(5)::timestamp"), "CAST(CAST(t.\"x\" AS varchar(5)) AS timestamp)");
}

struct ParseErrorCase {
  const char* text;
  int position;
  const char* token;
  const char* message;
};

// Syntax errors are PostgreSQL's own (libpg_query), with its message and position; constructs
// outside the language, type errors and failing constants are the simulator's, named.
const ParseErrorCase kParseErrorCases[] = {
    {"amount +", 9, "", "syntax error at end of input"},
    {"now()", 1, "now", "unknown function 'now'"},
    {"amount + now()", 10, "now", "unknown function 'now'"},
    {"count(*)", 1, "count", "unknown function 'count'"},
    {"select", 1, "select", "syntax error at or near \"select\""},
    {"amount + (SELECT 1)", 10, "(", "a subquery is not part of the expression language"},
    {"(amount + 1", 12, "", "syntax error at end of input"},
    {"lower(amount", 13, "", "syntax error at end of input"},
    {"amount 1", 8, "1", "syntax error at or near \"1\""},
    {"amount + 1)", 11, ")", "syntax error at or near \")\""},
    {"a AND", 3, "AND", "an alias (AS and) is not part of the expression"},  // `a AS "and"`
    {"x = = 1", 5, "=", "syntax error at or near \"=\""},
    {"end + 1", 1, "end", "syntax error at or near \"end\""},
    {"1 < 2 < 3", 7, "<", "syntax error at or near \"<\""},
    {"'abc", 1, "'abc", "unterminated quoted string at or near \"'abc\""},
    {"a + \"abc", 5, "\"abc", "unterminated quoted identifier at or near \"\"abc\""},
    {"\"\" + 1", 1, "\"\"", "zero-length delimited identifier at or near \"\"\"\""},
    {"12abc", 1, "12a", "trailing junk after numeric literal at or near \"12a\""},
    {"amount total", 8, "total", "an alias (AS total) is not part of the expression"},
    {"a ^ 2", 3, "^", "operator ^ is not part of the expression language"},
    {"1 +* 2", 3, "+*", "operator +* is not part of the expression language"},
    {"name||-1", 5, "||-", "operator ||- is not part of the expression language"},
    {"a ; b", 5, "b", "syntax error at or near \"b\""},
    {"a; select 2", 12, "", "one expression is expected, not several statements"},
    {"a.b", 1, "a.b", "qualified column names (a.b) are not part of the expression language"},
    {"$1", 1, "$", "a parameter ($n) is not part of the expression language"},
    {"x IN (1, 2)", 3, "IN", "IN (...) is not part of the expression language"},
    {"x LIKE 'a%'", 3, "LIKE", "LIKE is not part of the expression language"},
    {"x IS TRUE", 3, "IS", "IS TRUE / IS FALSE / IS UNKNOWN is not part of the expression language"},
    {"CAST(x AS double precision)", 11, "double",
     "type pg_catalog.float8 is not part of the expression language (bigint, integer, numeric, "
     "text, varchar, boolean, timestamp)"},
    {"CAST(x, integer)", 7, ",", "syntax error at or near \",\""},
    {"CAST(x AS numeric(10, 40))", 11, "numeric",
     "NUMERIC scale 40 is outside what the simulator supports (0 to the precision, at most 30)"},
    {"x::numeric(2, 3)", 4, "numeric",
     "NUMERIC scale 3 is outside what the simulator supports (0 to the precision, at most 30)"},
    {"x::", 4, "", "syntax error at end of input"},
    {"CASE WHEN x THEN 1", 19, "", "syntax error at end of input"},
    {"CASE x END", 8, "END", "syntax error at or near \"END\""},
    {"CASE WHEN x 1 END", 13, "1", "syntax error at or near \"1\""},
    {"substr(name)", 1, "substr", "wrong number of arguments to substr (expected 2 or 3, got 1)"},
    {"coalesce()", 10, ")", "syntax error at or near \")\""},
    {"", 1, "", "empty expression"},
    {"   ", 1, "", "empty expression"},
    {"'\xC3\xA9' + now()", 7, "now", "unknown function 'now'"},  // 'é': characters
    {"999999999999999999999999999999999999999", 1, "999999999999999999999999999999999999999",
     "numeric literal 999999999999999999999999999999999999999 does not fit (at most 38 "
     "significant digits and 30 decimal places)"},
    {"x 'abc'", 1, "x",  // PostgreSQL's typed literal: type x, value 'abc'
     "type x is not part of the expression language (bigint, integer, numeric, text, varchar, "
     "boolean, timestamp)"},
    // Types, as PostgreSQL's parse analysis finds them (the sample row's types).
    {"qty || 1", 5, "||", "operator does not exist: bigint || integer"},
    {"CASE WHEN flag THEN qty ELSE 'abc' END", 30, "'abc'", "invalid input syntax for type bigint: \"abc\""},
    {"substr(name, qty)", 1, "substr", "function substr(text, bigint) does not exist"},
    {"round(round(qty), 2)", 1, "round", "function round(double precision, integer) does not exist"},
    {"nope + 1", 1, "nope", "column \"nope\" does not exist"},
    // Constants PostgreSQL's planner computes before reading a row.
    {"CASE WHEN flag THEN 1 / 0 ELSE 0 END", 23, "/", "division by zero"},
    {"2147483647 + 1", 12, "+", "integer out of range"},
};

TEST(ExprParse, RejectsWithPositionTokenAndMessage) {
  // Anything outside the language is an error naming the 1-based character position of the
  // offending token (one past the end for a premature end), the token and what was expected.
  for (const ParseErrorCase& test : kParseErrorCases) {
    SCOPED_TRACE(test.text);
    ExprParseError error;
    EXPECT_FALSE(parse_expression(test.text, sample_types(), &error).has_value());
    EXPECT_EQ(error.position, test.position);
    EXPECT_EQ(error.token, test.token);
    EXPECT_EQ(error.message, test.message);
  }
}

TEST(ExprParse, NestingIsBounded) {
  // The evaluator recurses once per level on a simulated node's fiber stack, so trees deeper
  // than 32 levels are refused when loading. Parentheses add no level (PostgreSQL's parser
  // reads them), and hostile nesting is PostgreSQL's parser's to refuse, without a crash.
  const auto parses = [](const std::string& text) {
    ExprParseError error;
    const bool ok = parse_expression(text, &error).has_value();
    if (!ok) {
      EXPECT_EQ(error.message, "expression nested too deeply (more than 32 levels)") << text;
    }
    return ok;
  };
  std::string sum = "x";
  for (int i = 0; i < 31; ++i) sum += " + 1";
  EXPECT_TRUE(parses(sum));  // 31 additions over a leaf: 32 levels
  EXPECT_FALSE(parses(sum + " + 1"));
  std::string parenthesised = "x";
  for (int i = 0; i < 200; ++i) parenthesised = "(" + parenthesised + ")";
  EXPECT_TRUE(parses(parenthesised));
  std::string calls = "x";
  for (int i = 0; i < 31; ++i) calls = "lower(" + calls + ")";
  EXPECT_TRUE(parses(calls));
  EXPECT_FALSE(parses("lower(" + calls + ")"));
  std::string negations;
  for (int i = 0; i < 10000; ++i) negations += "- ";
  ExprParseError error;
  EXPECT_FALSE(parse_expression(negations + "x", &error).has_value());
  EXPECT_GE(error.position, 1);
  EXPECT_FALSE(parse_expression(std::string(10000, '('), &error).has_value());
  EXPECT_GE(error.position, 1);
}

// Bytes that are not UTF-8 are refused with PostgreSQL's message, before its parser sees them
// (the fuzzer found that the parser's JSON output then is not JSON).
TEST(ExprParse, RefusesBytesThatAreNotUtf8) {
  ExprParseError error;
  EXPECT_FALSE(parse_expression("\x93\x96\x8c/ 0", &error).has_value());
  EXPECT_EQ(error.message, "invalid byte sequence for encoding \"UTF8\": 0x93");
  EXPECT_EQ(error.position, 1);
  EXPECT_FALSE(parse_expression("x || '\xc3\xa9\xff'", &error).has_value());
  EXPECT_EQ(error.message, "invalid byte sequence for encoding \"UTF8\": 0xff");
  EXPECT_EQ(error.position, 8);
  EXPECT_TRUE(parse_expression("x || '\xc3\xa9'", &error).has_value());
}

TEST(ExprToSql, RoundTripsAtTheNestingLimit) {
  // to_sql() parenthesises every operator, so its text nests deeper than the text it came from
  // (31 additions render as 31 nested parentheses). Whatever parses must render into SQL the
  // same parser accepts (a live run sends it to PostgreSQL, and plan.cc re-parses a rendered
  // `down`): at the height limit of 32, in every shape of tree.
  const auto repeat = [](const std::string& text, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += text;
    return out;
  };
  std::string calls = "x";
  for (int i = 0; i < 31; ++i) calls = "lower(" + calls + ")";
  std::string cases = "1";
  for (int i = 0; i < 15; ++i) cases = "CASE WHEN qty > -1 THEN -(" + cases + ") ELSE -1 END";
  std::string right = "qty";
  for (int i = 0; i < 15; ++i) right = "-1 - (-2 * " + right + ")";
  const std::vector<std::string> deepest = {
      "x" + repeat(" || 'a'", 31),
      "qty" + repeat(" - -1", 31),
      repeat("- ", 31) + "qty",
      repeat("NOT ", 31) + "flag",
      "x" + repeat("::text", 31),
      "flag" + repeat(" IS NULL", 31),
      calls,
      cases,
      right,
      repeat("NOT (qty = -1 OR ", 10) + "flag" + repeat(")", 10),
  };
  for (const std::string& text : deepest) {
    SCOPED_TRACE(text);
    ExprParseError error;
    const std::optional<Expr> original = parse_expression(text, &error);
    ASSERT_TRUE(original.has_value()) << error.message;
    const std::string sql = to_sql(*original, quote_identifier);
    SCOPED_TRACE(sql);
    const std::optional<Expr> reparsed = parse_expression(sql, &error);
    ASSERT_TRUE(reparsed.has_value()) << error.message << " at " << error.position;
    EXPECT_EQ(to_sql(*reparsed, quote_identifier), sql);
  }
}

TEST(ExprParse, ListsColumnsSortedAndUniqueAndKeepsText) {
  ExprParseError error;
  const std::optional<Expr> expr =
      parse_expression("coalesce(b, a) || B || \"C\" || lower(a) || 'z'", &error);
  ASSERT_TRUE(expr.has_value()) << error.message;
  EXPECT_EQ(expr->columns(), (std::vector<std::string>{"C", "a", "b"}));
  EXPECT_EQ(expr->text(), "coalesce(b, a) || B || \"C\" || lower(a) || 'z'");
  EXPECT_FALSE(expr->empty());
  EXPECT_TRUE(Expr().empty());
  const std::optional<Expr> constant = parse_expression("1 + 2", &error);
  ASSERT_TRUE(constant.has_value());
  EXPECT_TRUE(constant->columns().empty());
}

TEST(ExprEvaluate, CopiesShareTheParsedTree) {
  // An Expr is a value: copies evaluate alike after the original is gone.
  ExprParseError error;
  std::optional<Expr> original = parse_expression("qty * 2", &error);
  ASSERT_TRUE(original.has_value());
  const Expr copy = *original;
  original.reset();
  EXPECT_EQ(describe(evaluate(copy, lookup_sample)), "integer:6");
}

// ---- Values ----

Value numeric(Int128 mantissa, int scale) { return Value::numeric(Decimal{mantissa, scale}); }

TEST(Value, EqualityIsSqlValueEqualityWithNullEqualToNull) {
  EXPECT_EQ(numeric(150, 2), numeric(15, 1));  // 1.50 = 1.5
  EXPECT_EQ(Value::integer(3), numeric(300, 2));
  EXPECT_EQ(numeric(-300, 2), Value::integer(-3));
  EXPECT_EQ(Value::null(), Value::null());
  EXPECT_EQ(Value::text("a"), Value::text("a"));
  EXPECT_EQ(Value::timestamp(5), Value::timestamp(5));
  EXPECT_FALSE(Value::null() == Value::integer(0));
  EXPECT_FALSE(Value::text("3") == Value::integer(3));
  EXPECT_FALSE(Value::timestamp(3) == Value::integer(3));
  EXPECT_FALSE(Value::boolean(true) == Value::integer(1));
  EXPECT_FALSE(numeric(151, 2) == numeric(15, 1));
  EXPECT_FALSE(Value::boolean(true) == Value::boolean(false));
}

TEST(Value, EqualValuesHashEqually) {
  EXPECT_EQ(numeric(150, 2).hash(), numeric(15, 1).hash());
  EXPECT_EQ(Value::integer(3).hash(), numeric(300, 2).hash());
  EXPECT_EQ(Value::integer(0).hash(), numeric(0, 5).hash());
  EXPECT_EQ(Value::integer(-7).hash(), numeric(-7000, 3).hash());
  EXPECT_NE(Value::text("3").hash(), Value::integer(3).hash());
  EXPECT_NE(Value::timestamp(3).hash(), Value::integer(3).hash());
  EXPECT_NE(Value::null().hash(), Value::integer(0).hash());
  EXPECT_NE(numeric(15, 1).hash(), numeric(15, 2).hash());
}

TEST(Value, HashIsStableAcrossMachinesAndBuilds) {
  // FNV-1a 64 over: a kind tag byte, then for numbers the normalised mantissa (16 bytes, two's
  // complement, little-endian) and scale (1 byte), for text the length (8 bytes) and bytes, for
  // timestamps the micros (8 bytes). Changing these values invalidates stored checksums.
  EXPECT_EQ(Value::null().hash(), 0xaf63bd4c8601b7dfULL);
  EXPECT_EQ(Value::boolean(true).hash(), 0x082f2307b4e88e77ULL);
  EXPECT_EQ(Value::boolean(false).hash(), 0x082f2207b4e88cc4ULL);
  EXPECT_EQ(Value::integer(0).hash(), 0x17e659f3ae7fadffULL);
  EXPECT_EQ(Value::integer(42).hash(), 0x073780b589f89cddULL);
  EXPECT_EQ(Value::integer(-1).hash(), 0x876b8510a21a4ecfULL);
  EXPECT_EQ(numeric(1250, 2).hash(), 0x16f7e7562784ebdbULL);
  EXPECT_EQ(Value::text("").hash(), 0x796ed797b92b1fd2ULL);
  EXPECT_EQ(Value::text("hello").hash(), 0xaa03414da3fc1ccdULL);
  EXPECT_EQ(Value::timestamp(0).hash(), 0x985b2cc3d2245173ULL);
  EXPECT_EQ(Value::timestamp(1700000000123456).hash(), 0x791526d54ac1b5b1ULL);
}

TEST(Value, ToStringIsPostgreSQLTextOutput) {
  EXPECT_EQ(Value::null().to_string(), "NULL");
  EXPECT_EQ(Value::boolean(true).to_string(), "t");  // boolout; CAST(b AS text) is "true"
  EXPECT_EQ(Value::boolean(false).to_string(), "f");
  EXPECT_EQ(Value::integer(-42).to_string(), "-42");
  EXPECT_EQ(numeric(1250, 2).to_string(), "12.50");
  EXPECT_EQ(numeric(-5, 1).to_string(), "-0.5");
  EXPECT_EQ(numeric(5, 3).to_string(), "0.005");
  EXPECT_EQ(numeric(0, 2).to_string(), "0.00");
  EXPECT_EQ(numeric(7, 0).to_string(), "7");
  EXPECT_EQ(Value::text("x y").to_string(), "x y");
  EXPECT_EQ(Value::timestamp(0).to_string(), "1970-01-01 00:00:00");
  EXPECT_EQ(Value::timestamp(1500000).to_string(), "1970-01-01 00:00:01.5");
  EXPECT_EQ(Value::timestamp(-1).to_string(), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(Value::timestamp(timestamp_of("2024-02-29 23:59:58.000123")).to_string(),
            "2024-02-29 23:59:58.000123");
  // Year 1 BC is proleptic year 0: 1970 years and 366 + 365 * ... days before the epoch.
  const std::int64_t day_micros = 86400LL * 1000000;
  EXPECT_EQ(Value::timestamp(timestamp_of("0001-01-01") - day_micros).to_string(),
            "0001-12-31 00:00:00 BC");
}

TEST(Value, Float8PrintsAsPostgreSQL) {
  // float8out with extra_float_digits = 1: the shortest text that reads back exactly, in
  // exponent form below 1e-4 and from 1e15 (each checked against PostgreSQL 15).
  EXPECT_EQ(Value::float8(3).to_string(), "3");
  EXPECT_EQ(Value::float8(0.1 + 0.2).to_string(), "0.30000000000000004");
  EXPECT_EQ(Value::float8(1e15).to_string(), "1e+15");
  EXPECT_EQ(Value::float8(123456789012345.0).to_string(), "123456789012345");
  EXPECT_EQ(Value::float8(0.0001).to_string(), "0.0001");
  EXPECT_EQ(Value::float8(0.00001).to_string(), "1e-05");
  EXPECT_EQ(Value::float8(1152921504606846976.0).to_string(), "1.152921504606847e+18");
  EXPECT_EQ(Value::float8(-1.5).to_string(), "-1.5");
  // Halfway between two doubles, 4.611686016279904e+18 would read back only by rounding half to
  // even; PostgreSQL prints a 17th digit.
  EXPECT_EQ(Value::float8(-4611686016279904256.0).to_string(), "-4.6116860162799043e+18");
  EXPECT_EQ(Value::float8(std::numeric_limits<double>::quiet_NaN()).to_string(), "NaN");
  EXPECT_EQ(Value::float8(-std::numeric_limits<double>::infinity()).to_string(), "-Infinity");
  EXPECT_EQ(Value::numeric_nan().to_string(), "NaN");
  EXPECT_EQ(Value::numeric_nan(), Value::numeric_nan());
  EXPECT_FALSE(Value::numeric_nan() == Value::integer(0));
  EXPECT_NE(Value::numeric_nan().hash(), Value::integer(0).hash());
  EXPECT_EQ(Value::float8(0.0).hash(), Value::float8(-0.0).hash());
}

// ---- Decimals and timestamps ----

TEST(Decimal, ParsesAndPrintsWithScale) {
  const auto round_trip = [](const char* text) {
    const std::optional<Decimal> value = decimal::parse(text);
    return value ? decimal::to_string(*value) : std::string("invalid");
  };
  EXPECT_EQ(round_trip("12.50"), "12.50");
  EXPECT_EQ(round_trip(" -0.5 "), "-0.5");
  EXPECT_EQ(round_trip(".5"), "0.5");
  EXPECT_EQ(round_trip("5."), "5");
  EXPECT_EQ(round_trip("+007"), "7");
  EXPECT_EQ(round_trip("1.5e3"), "1500");
  EXPECT_EQ(round_trip("15e-3"), "0.015");
  EXPECT_EQ(round_trip(""), "invalid");
  EXPECT_EQ(round_trip("."), "invalid");
  EXPECT_EQ(round_trip("1.2.3"), "invalid");
  EXPECT_EQ(round_trip("NaN"), "invalid");
  bool out_of_range = false;
  EXPECT_FALSE(decimal::parse("1e40", &out_of_range).has_value());
  EXPECT_TRUE(out_of_range);
  EXPECT_FALSE(decimal::parse("0.0000000000000000000000000000001", &out_of_range).has_value());
  EXPECT_TRUE(out_of_range);
  EXPECT_FALSE(decimal::parse("x", &out_of_range).has_value());
  EXPECT_FALSE(out_of_range);
}

TEST(Decimal, DivisionScaleFollowsPostgreSQL) {
  // select_div_scale: 16 significant digits from the quotient's leading base-10000 digit.
  const auto scale_of = [](const char* a, const char* b) {
    return decimal::divide_scale(*decimal::parse(a), *decimal::parse(b));
  };
  EXPECT_EQ(scale_of("1", "3"), 20);
  EXPECT_EQ(scale_of("10", "3"), 16);
  EXPECT_EQ(scale_of("100000", "3"), 12);
  EXPECT_EQ(scale_of("12345678901234567890", "7"), 0);
  EXPECT_EQ(scale_of("1", "0.001"), 16);  // the divisor's leading base-10000 digit is 10
  EXPECT_EQ(scale_of("0.001", "1"), 20);
  EXPECT_EQ(scale_of("1.000000000000000000000000", "3"), 24);  // at least the operands' scales
  EXPECT_EQ(scale_of("0.0000000000000001", "10000000"), 30);   // capped at kMaxScale
  const std::optional<Decimal> quotient =
      decimal::divide(*decimal::parse("12345678901234567890"), *decimal::parse("7"));
  ASSERT_TRUE(quotient.has_value());
  EXPECT_EQ(decimal::to_string(*quotient), "1763668414462081127");
}

TEST(Decimal, WideIntermediatesAndOverflow) {
  // Products and scaled dividends may exceed 128 bits on the way; only results must fit.
  // third^2 has scale 40 before rounding to 30, third^3 scale 50 (checked with Python's
  // decimal module, ROUND_HALF_UP at each step).
  const Decimal third = *decimal::divide(*decimal::parse("1"), *decimal::parse("3"));
  EXPECT_EQ(decimal::to_string(third), "0.33333333333333333333");
  const std::optional<Decimal> square = decimal::multiply(third, third);
  ASSERT_TRUE(square.has_value());
  EXPECT_EQ(decimal::to_string(*square), "0.111111111111111111108888888889");
  const std::optional<Decimal> cube = decimal::multiply(*square, third);
  ASSERT_TRUE(cube.has_value());
  EXPECT_EQ(decimal::to_string(*cube), "0.037037037037037037035925925926");
  const std::optional<Decimal> wide_quotient =
      decimal::divide(*decimal::parse("12345678901234567.890123456789012"),
                      *decimal::parse("0.000000000000000000000000000007"));
  EXPECT_FALSE(wide_quotient.has_value());  // 1.7e45 does not fit
  EXPECT_FALSE(decimal::multiply(*decimal::parse("1e20"), *decimal::parse("1e20")).has_value());
  EXPECT_FALSE(decimal::add(*decimal::parse("100000000000000000000000000000000000000"),
                            *decimal::parse("100000000000000000000000000000000000000"))
                   .has_value());
  EXPECT_EQ(decimal::compare(*decimal::parse("99999999999999999999999999999999999999"),
                             *decimal::parse("0.000000000000000000000000000001")),
            1);
  EXPECT_EQ(decimal::compare(*decimal::parse("-2"), *decimal::parse("1.5")), -1);
  EXPECT_EQ(decimal::compare(*decimal::parse("2.000"), *decimal::parse("2")), 0);
  EXPECT_EQ(decimal::to_int64(*decimal::parse("-2.5")), -3);
  EXPECT_FALSE(decimal::to_int64(*decimal::parse("9223372036854775807.5")).has_value());
}

TEST(Timestamp, ParsesPostgreSQLInputForms) {
  EXPECT_EQ(parse_timestamp("1970-01-01"), 0);
  EXPECT_EQ(parse_timestamp(" 1970-01-01 00:00:01 "), 1000000);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:01"), 60000000);
  // Fractions are rounded to microseconds as PostgreSQL does: rint(strtod(fraction) * 10^6).
  EXPECT_EQ(parse_timestamp("1970-01-01 00:00:00.0000005"), 0);
  EXPECT_EQ(parse_timestamp("1999-12-31 23:59:59.9999995"), parse_timestamp("2000-01-01"));
  EXPECT_EQ(parse_timestamp("1969-12-31 23:59:59.999999"), -1);
  EXPECT_FALSE(parse_timestamp("2023-02-29").has_value());
  EXPECT_FALSE(parse_timestamp("2024-13-01").has_value());
  EXPECT_EQ(parse_timestamp("2024-01-01 24:00"), parse_timestamp("2024-01-02"));
  EXPECT_FALSE(parse_timestamp("2024-01-01 24:00:01").has_value());
  // The other forms PostgreSQL reads (each checked against PostgreSQL 15 with DateStyle ISO, MDY).
  EXPECT_EQ(parse_timestamp("Jan 1 2024"), parse_timestamp("2024-01-01"));
  EXPECT_EQ(parse_timestamp("June 5, 2024"), parse_timestamp("2024-06-05"));
  EXPECT_EQ(parse_timestamp("Mon Jan 1 2024"), parse_timestamp("2024-01-01"));
  EXPECT_EQ(parse_timestamp("Jan 1 2024 3:15 PM"), parse_timestamp("2024-01-01 15:15"));
  EXPECT_EQ(parse_timestamp("2024-01-01 12:00:00+02"), parse_timestamp("2024-01-01 12:00"));
  EXPECT_EQ(parse_timestamp("20240101"), parse_timestamp("2024-01-01"));
  EXPECT_EQ(parse_timestamp("1/2/2024"), parse_timestamp("2024-01-02"));
  EXPECT_EQ(parse_timestamp("2024-Jan-01"), parse_timestamp("2024-01-01"));
  EXPECT_EQ(parse_timestamp("01-Jan-2024"), parse_timestamp("2024-01-01"));
  EXPECT_EQ(parse_timestamp("epoch"), 0);
  EXPECT_EQ(parse_timestamp("infinity"), kTimestampInfinity);
  EXPECT_EQ(format_timestamp(kTimestampMinusInfinity), "-infinity");
  EXPECT_EQ(format_timestamp(*parse_timestamp("2024-01-01 BC")), "2024-01-01 00:00:00 BC");
  EXPECT_FALSE(parse_timestamp("June 5, 2024 3pm").has_value());
  EXPECT_FALSE(parse_timestamp("2024-01-01 12").has_value());
  EXPECT_FALSE(parse_timestamp("yesterday").has_value());
}

}  // namespace
}  // namespace rehearse

namespace rehearse {
namespace {

// A SQL file's WHERE (parse_condition) reads [NOT] BETWEEN and [NOT] IN (list) as PostgreSQL
// defines them, with the same NULL results; a migration's expression (parse_expression) still
// refuses them (scenario-format.md), and a list of 100 values stays within the height limit.
TEST(ExprTest, ConditionsReadBetweenAndInLists) {
  const ColumnTypes types{{"n", ColumnType::bigint}};
  const ColumnTypes texts{{"t", ColumnType::text}};
  ExprParseError error;
  // The condition's value with its one column holding `value` (n a bigint, t a text).
  const auto value_of = [](const std::string& text, const ColumnTypes& columns, const Value& value) {
    ExprParseError problem;
    const std::optional<Expr> condition = parse_condition(text, &columns, &problem);
    EXPECT_TRUE(condition.has_value()) << text << ": " << problem.message;
    if (!condition) return std::string("error");
    const EvalResult result = evaluate(*condition, [&value](const std::string&) { return &value; });
    return result.ok ? result.value.to_string() : "error: " + result.error;
  };
  const auto truth = [&](const std::string& text, const Value& n) { return value_of(text, types, n); };
  const auto like = [&](const std::string& text, const Value& t) { return value_of(text, texts, t); };
  EXPECT_EQ(truth("n BETWEEN 2 AND 4", Value::integer(2)), "t");
  EXPECT_EQ(truth("n BETWEEN 2 AND 4", Value::integer(5)), "f");
  EXPECT_EQ(truth("n NOT BETWEEN 2 AND 4", Value::integer(5)), "t");
  EXPECT_EQ(truth("n BETWEEN 2 AND 4", Value::null()), "NULL");
  EXPECT_EQ(truth("n IN (1, 2, 3)", Value::integer(2)), "t");
  EXPECT_EQ(truth("n IN (1, NULL)", Value::integer(2)), "NULL");  // x = NULL is NULL, as PostgreSQL's IN
  EXPECT_EQ(truth("n NOT IN (1, 3)", Value::integer(2)), "t");
  EXPECT_EQ(truth("n NOT IN (1, NULL)", Value::integer(2)), "NULL");
  // op ANY / ALL over an ARRAY[...]: the comparisons joined by OR / AND, NULLs as PostgreSQL's.
  EXPECT_EQ(truth("n = ANY (ARRAY[1, 2, 3])", Value::integer(2)), "t");
  EXPECT_EQ(truth("n = ANY (ARRAY[1, 3])", Value::integer(2)), "f");
  EXPECT_EQ(truth("n = SOME (ARRAY[1, NULL])", Value::integer(2)), "NULL");
  EXPECT_EQ(truth("n = ANY (ARRAY[2, NULL])", Value::integer(2)), "t");
  EXPECT_EQ(truth("n <> ALL (ARRAY[1, 3])", Value::integer(2)), "t");
  EXPECT_EQ(truth("n <> ALL (ARRAY[1, 2])", Value::integer(2)), "f");
  EXPECT_EQ(truth("n > ALL (ARRAY[1, NULL])", Value::integer(2)), "NULL");
  EXPECT_EQ(truth("n < ANY (ARRAY[1, 5])", Value::integer(2)), "t");
  EXPECT_EQ(truth("n = ANY (ARRAY[1, 2])", Value::null()), "NULL");
  EXPECT_EQ(like("t = ANY (ARRAY['a', 'b'])", Value::text("b")), "t");
  EXPECT_FALSE(parse_condition("n = ANY ('{1,2}')", &types, &error).has_value());  // an array literal is not read
  EXPECT_FALSE(parse_condition("n + ANY (ARRAY[1])", &types, &error).has_value());
  EXPECT_FALSE(parse_expression("n = ANY (ARRAY[1, 2])", types, &error).has_value());  // not in up / down
  // LIKE and ILIKE, by characters, with the backslash escape; NULL in, NULL out.
  EXPECT_EQ(like("t LIKE 'http%'", Value::text("https://x")), "t");
  EXPECT_EQ(like("t NOT LIKE 'http%'", Value::text("item-4")), "t");
  EXPECT_EQ(like("t LIKE '%/%'", Value::text("Europe/Paris")), "t");
  EXPECT_EQ(like("t LIKE 'Etc/%'", Value::text("Europe/Paris")), "f");
  EXPECT_EQ(like("t LIKE '_é_'", Value::text("aéb")), "t");  // one character, not one byte
  EXPECT_EQ(like("t LIKE 'a%b%c'", Value::text("axxbyyc")), "t");
  EXPECT_EQ(like("t LIKE 'a%b%c'", Value::text("axxbyy")), "f");
  EXPECT_EQ(like("t LIKE '100\\%'", Value::text("100%")), "t");
  EXPECT_EQ(like("t LIKE '100\\%'", Value::text("1000")), "f");
  EXPECT_EQ(like("t ILIKE 'HTTP%'", Value::text("http://x")), "t");
  EXPECT_EQ(like("t LIKE 'HTTP%'", Value::text("http://x")), "f");
  EXPECT_EQ(like("t LIKE 'a%'", Value::null()), "NULL");
  EXPECT_EQ(like("t LIKE 'a\\'", Value::text("ab")), "error: LIKE pattern must not end with escape character");
  EXPECT_EQ(like("t LIKE 'a\\'", Value::text("a")), "f");  // PostgreSQL: the text ends before the escape is met
  EXPECT_EQ(like("t LIKE '%\\'", Value::text("x")), "error: LIKE pattern must not end with escape character");
  EXPECT_FALSE(parse_expression("t LIKE 'a%'", texts, &error).has_value());
  // A cast to the schema's own type (an enum) is a cast to text, as its simulated column is;
  // the built-ins the simulator does not hold as text stay outside.
  EXPECT_EQ(like("CASE WHEN t = 'automatic' THEN 'default'::\"ContactAttributeType\" ELSE 'custom'::public.kind END = 'default'",
                 Value::text("automatic")), "t");
  EXPECT_EQ(like("t::uuid = 'x'", Value::text("x")), "t");
  EXPECT_FALSE(parse_condition("t::date IS NULL", &texts, &error).has_value());
  EXPECT_FALSE(parse_condition("t::pg_catalog.int2 IS NULL", &texts, &error).has_value());
  EXPECT_FALSE(parse_expression("'default'::mood = t", texts, &error).has_value());
  std::string hundred = "n IN (";
  for (int i = 1; i <= 100; ++i) hundred += std::to_string(i) + (i < 100 ? ", " : ")");
  EXPECT_EQ(truth(hundred, Value::integer(100)), "t");
  EXPECT_FALSE(parse_expression("n BETWEEN 2 AND 4", types, &error).has_value());
  EXPECT_NE(error.message.find("BETWEEN is not part of the expression language"), std::string::npos) << error.message;
  EXPECT_FALSE(parse_expression("n IN (1, 2)", types, &error).has_value());
}

}  // namespace
}  // namespace rehearse
