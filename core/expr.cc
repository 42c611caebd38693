// The expression language of migrations (core/expr.h; scenario-format.md, "Expressions";
// docs/expressions.md): typing, constant folding, evaluation and rendering back to SQL of the
// syntax tree that core/expr_parse.cc builds with PostgreSQL's own parser. The scenario loader
// parses `up` / `down` once; the simulated databases evaluate them for every backfilled or
// dual-written row; the live runner sends to_sql() to PostgreSQL. The simulator must compute
// what PostgreSQL computes, so the stages follow PostgreSQL's:
//
// - Typing is PostgreSQL's parse analysis for the language's types (integer, bigint, numeric,
//   double precision, text, boolean, timestamp): literals typed as make_const does (digits
//   that fit 32 bits are integer, then bigint, then numeric), operator and function resolution
//   (integer + integer is integer and overflows at 2^31; round, floor and ceil of an integer
//   are double precision; substr takes integer, not bigint), quoted literals and NULL of type
//   "unknown" taking the type of the other side or of the CASE / COALESCE / NULLIF / GREATEST /
//   LEAST (select_common_type), and a literal converted to its resolved type when typed. Type
//   errors are load errors, wherever the expression would reach them (under a NULL, in an
//   untaken CASE branch), as in PostgreSQL.
// - Constant folding is the planner's (eval_const_expressions): constant subexpressions are
//   computed before any row is read, so 1 / 0 fails even in a branch no row takes; CASE, AND,
//   OR and COALESCE stop at a constant that decides them, as PostgreSQL does.
// - Evaluation: SQL NULL propagation, three-valued logic, exact decimals (at most 38
//   significant and 30 fractional digits; beyond: "numeric value out of range"), 64-bit
//   integers range-checked to their static type, IEEE doubles printed as float8out does.
// - Without column types (parse_expression(text, error)) columns are typed by the values they
//   meet when evaluated ("dynamic"): integers as bigint. The simulator passes the types.
// - Text compares by bytes (COLLATE "C"); lower / upper follow Unicode's simple case mapping
//   for the Latin, Greek and Cyrillic letters of the Basic Multilingual Plane's first blocks.
#include "core/expr.h"


#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <span>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "core/expr_node.h"

namespace rehearse {

namespace {

// A strict function's evaluated arguments, as its implementations read them.
using Arguments = std::span<const Value>;

using NodePointer = ExprNodePointer;
using Kind = ExprNode::Kind;
using Operator = ExprNode::Operator;
using Function = ExprNode::Function;
using TypeName = ExprNode::TypeName;
using TypeSpec = ExprNode::TypeSpec;

constexpr std::int64_t kInt4Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t kInt4Max = std::numeric_limits<std::int32_t>::max();

// ---------------------------------------------------------------------------------------------
// Types

const char* type_name(SqlType type) {
  switch (type) {
    case SqlType::dynamic: return "unknown";
    case SqlType::unknown: return "unknown";
    case SqlType::boolean: return "boolean";
    case SqlType::int4: return "integer";
    case SqlType::int8: return "bigint";
    case SqlType::numeric: return "numeric";
    case SqlType::float8: return "double precision";
    case SqlType::text: return "text";
    case SqlType::timestamp: return "timestamp without time zone";
    case SqlType::interval: return "interval";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

SqlType type_of(ColumnType type) {
  switch (type) {
    case ColumnType::bigint: return SqlType::int8;
    case ColumnType::integer: return SqlType::int4;
    case ColumnType::numeric: return SqlType::numeric;
    case ColumnType::text: return SqlType::text;
    case ColumnType::boolean: return SqlType::boolean;
    case ColumnType::timestamp: return SqlType::timestamp;
  }
  REHEARSE_ASSERT(false);
  return SqlType::text;
}

SqlType type_of(const TypeSpec& type) {
  switch (type.name) {
    case TypeName::bigint: return SqlType::int8;
    case TypeName::integer: return SqlType::int4;
    case TypeName::numeric: return SqlType::numeric;
    case TypeName::text:
    case TypeName::varchar: return SqlType::text;
    case TypeName::boolean: return SqlType::boolean;
    case TypeName::timestamp: return SqlType::timestamp;
  }
  REHEARSE_ASSERT(false);
  return SqlType::text;
}

const char* type_name(const TypeSpec& type) {
  return type.name == TypeName::varchar ? "character varying" : type_name(type_of(type));
}

// The static type of a value met where the type is dynamic.
SqlType type_of(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::null: return SqlType::unknown;
    case Value::Kind::boolean: return SqlType::boolean;
    case Value::Kind::integer: return SqlType::int8;
    case Value::Kind::numeric: return SqlType::numeric;
    case Value::Kind::text: return SqlType::text;
    case Value::Kind::timestamp: return SqlType::timestamp;
    case Value::Kind::float8: return SqlType::float8;
  }
  REHEARSE_ASSERT(false);
  return SqlType::unknown;
}

bool is_integer_type(SqlType type) { return type == SqlType::int4 || type == SqlType::int8; }
bool is_number_type(SqlType type) {
  return is_integer_type(type) || type == SqlType::numeric || type == SqlType::float8;
}
bool is_concrete(SqlType type) { return type != SqlType::dynamic && type != SqlType::unknown; }

// PostgreSQL's type categories (pg_type.typcategory) and preferred types, for the language's.
char category_of(SqlType type) {
  if (is_number_type(type)) return 'N';
  if (type == SqlType::text || type == SqlType::unknown) return 'S';
  if (type == SqlType::boolean) return 'B';
  if (type == SqlType::timestamp) return 'D';
  if (type == SqlType::interval) return 'T';
  return 'X';
}
bool is_preferred(SqlType type) { return type == SqlType::float8 || type == SqlType::text; }

// Whether PostgreSQL casts `from` to `to` implicitly (pg_cast, castcontext 'i').
bool implicitly_castable(SqlType from, SqlType to) {
  if (from == to) return true;
  switch (from) {
    case SqlType::int4: return to == SqlType::int8 || to == SqlType::numeric || to == SqlType::float8;
    case SqlType::int8: return to == SqlType::numeric || to == SqlType::float8;
    case SqlType::numeric: return to == SqlType::float8;
    default: return false;
  }
}

// The type two numbers of the given types are computed or compared as: the operators PostgreSQL
// resolves (int4 and int8 have cross-type operators, computing as int8; a numeric makes both
// numeric; a double precision makes both double precision).
SqlType number_domain(SqlType a, SqlType b) {
  REHEARSE_ASSERT(is_number_type(a));
  REHEARSE_ASSERT(is_number_type(b));
  if (a == SqlType::float8 || b == SqlType::float8) return SqlType::float8;
  if (a == SqlType::numeric || b == SqlType::numeric) return SqlType::numeric;
  if (a == SqlType::int8 || b == SqlType::int8) return SqlType::int8;
  return SqlType::int4;
}

// ---------------------------------------------------------------------------------------------
// Values and conversions

EvalResult success(Value value) {
  EvalResult result;
  result.value = std::move(value);
  return result;
}

EvalResult failure(std::string message) {
  EvalResult result;
  result.ok = false;
  result.error = std::move(message);
  return result;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string ascii_lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

bool is_number(const Value& value) {
  return value.kind() == Value::Kind::integer || value.kind() == Value::Kind::numeric;
}

Decimal decimal_of(const Value& value) {
  REHEARSE_ASSERT(is_number(value));
  return value.kind() == Value::Kind::integer ? decimal::from_integer(value.as_int())
                                              : value.as_decimal();
}

// A number as a double: integers converted, numerics as PostgreSQL's numeric_float8 does (the
// decimal text read by strtod, so the nearest double).
double double_of(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::float8: return value.as_double();
    case Value::Kind::integer: return static_cast<double>(value.as_int());
    case Value::Kind::numeric: {
      if (value.is_nan()) return std::numeric_limits<double>::quiet_NaN();
      const std::string text = decimal::to_string(value.as_decimal());
      double result = 0;
      std::from_chars(text.data(), text.data() + text.size(), result);
      return result;
    }
    default: REHEARSE_ASSERT(false);
  }
  return 0;
}

// A number value converted to the type it is computed as. REQUIRES: not NULL.
Value promote(Value value, SqlType type) {
  if (value.is_null()) return value;
  if (type == SqlType::numeric && value.kind() == Value::Kind::integer) {
    return Value::numeric(decimal::from_integer(value.as_int()));
  }
  if (type == SqlType::float8 && is_number(value)) return Value::float8(double_of(value));
  return value;
}

// What CAST(value AS text) gives. REQUIRES: value is not NULL.
std::string text_of(const Value& value) {
  REHEARSE_ASSERT(!value.is_null());
  if (value.kind() == Value::Kind::boolean) return value.as_bool() ? "true" : "false";
  return value.to_string();
}

std::size_t count_characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string_view trim_view(std::string_view text, bool all_whitespace) {
  const auto strip = [all_whitespace](char c) { return all_whitespace ? is_space(c) : c == ' '; };
  while (!text.empty() && strip(text.front())) text.remove_prefix(1);
  while (!text.empty() && strip(text.back())) text.remove_suffix(1);
  return text;
}

std::string invalid_input(std::string_view type, std::string_view text) {
  return fmt::format("invalid input syntax for type {}: \"{}\"", type, text);
}

const char* out_of_range(SqlType type) {
  return type == SqlType::int4 ? "integer out of range" : "bigint out of range";
}

EvalResult integer_in_range(std::int64_t integer, SqlType type) {
  if (type == SqlType::int4 && (integer < kInt4Min || integer > kInt4Max)) {
    return failure(out_of_range(type));
  }
  return success(Value::integer(integer));
}

// PostgreSQL's int8in / int4in: optional spaces, sign and digits only.
EvalResult integer_from_text(std::string_view text, SqlType type) {
  const std::string_view digits = trim_view(text, true);
  std::size_t i = 0;
  const bool negative = !digits.empty() && digits[0] == '-';
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) ++i;
  if (i >= digits.size()) return failure(invalid_input(type_name(type), text));
  const auto range_error = [&text, &type] {
    return fmt::format("value \"{}\" is out of range for type {}", text, type_name(type));
  };
  std::int64_t integer = 0;
  for (; i < digits.size(); ++i) {
    if (!is_digit(digits[i])) return failure(invalid_input(type_name(type), text));
    const int digit = digits[i] - '0';
    if (__builtin_mul_overflow(integer, 10, &integer) ||
        __builtin_add_overflow(integer, negative ? -digit : digit, &integer)) {
      return failure(range_error());
    }
  }
  if (type == SqlType::int4 && (integer < kInt4Min || integer > kInt4Max)) {
    return failure(range_error());
  }
  return success(Value::integer(integer));
}

// float8in: a decimal number with optional exponent, or NaN / Infinity, with spaces around.
EvalResult float8_from_text(std::string_view text) {
  std::string_view trimmed = trim_view(text, true);
  if (!trimmed.empty() && trimmed[0] == '+') trimmed.remove_prefix(1);
  double result = 0;
  const std::from_chars_result read =
      std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), result);
  if (trimmed.empty() || read.ptr != trimmed.data() + trimmed.size()) {
    return failure(invalid_input("double precision", text));
  }
  if (read.ec == std::errc::result_out_of_range) {
    return failure(fmt::format("\"{}\" is out of range for type double precision", text));
  }
  return success(Value::float8(result));
}

EvalResult cast_to_integer(const Value& value, SqlType type) {
  switch (value.kind()) {
    case Value::Kind::integer: return integer_in_range(value.as_int(), type);
    case Value::Kind::numeric: {
      if (value.is_nan()) return failure(fmt::format("cannot convert NaN to {}", type_name(type)));
      const std::optional<std::int64_t> integer = decimal::to_int64(value.as_decimal());
      if (!integer) return failure(out_of_range(type));
      return integer_in_range(*integer, type);
    }
    case Value::Kind::float8: {
      // float8 to integer rounds half to even (rint), as PostgreSQL's dtoi4 / dtoi8.
      const double rounded = std::nearbyint(value.as_double());
      constexpr double kInt8Bound = 9223372036854775808.0;  // 2^63
      if (std::isnan(rounded) || rounded < -kInt8Bound || rounded >= kInt8Bound) {
        return failure(out_of_range(type));
      }
      return integer_in_range(static_cast<std::int64_t>(rounded), type);
    }
    case Value::Kind::text: return integer_from_text(value.as_text(), type);
    case Value::Kind::boolean:
      if (type == SqlType::int4) return success(Value::integer(value.as_bool() ? 1 : 0));
      break;
    case Value::Kind::null:
    case Value::Kind::timestamp: break;
  }
  return failure(fmt::format("cannot cast type {} to {}", type_name(type_of(value)),
                             type_name(type)));
}

// numeric(p, s): rounds to s digits, then at most p - s digits may remain before the point.
EvalResult apply_numeric_modifiers(const Decimal& value, const TypeSpec& type) {
  if (type.precision == 0) return success(Value::numeric(value));
  const std::optional<Decimal> rounded = decimal::round(value, type.scale);
  bool fits = rounded.has_value();
  if (fits && type.precision < 38) {
    Int128 limit = 1;
    for (int i = 0; i < type.precision; ++i) limit *= 10;
    fits = rounded->mantissa < limit && rounded->mantissa > -limit;
  }
  if (!fits) return failure("numeric field overflow");
  return success(Value::numeric(*rounded));
}

EvalResult numeric_from_text(std::string_view text, const TypeSpec& type) {
  const std::string word = ascii_lower(trim_view(text, true));
  if (word == "nan") return success(Value::numeric_nan());
  if (word == "infinity" || word == "+infinity" || word == "-infinity" || word == "inf" ||
      word == "+inf" || word == "-inf") {
    return failure("numeric Infinity is not supported by the simulator");
  }
  bool range_error = false;
  const std::optional<Decimal> parsed = decimal::parse(text, &range_error);
  if (!parsed) {
    return failure(range_error ? "numeric value out of range" : invalid_input("numeric", text));
  }
  return apply_numeric_modifiers(*parsed, type);
}

EvalResult cast_to_numeric(const Value& value, const TypeSpec& type) {
  if (value.is_nan()) return success(value);  // a typmod leaves NaN as it is
  if (is_number(value)) return apply_numeric_modifiers(decimal_of(value), type);
  if (value.kind() == Value::Kind::float8) {
    const double number = value.as_double();
    if (std::isnan(number)) return success(Value::numeric_nan());
    if (!std::isfinite(number)) return failure("numeric Infinity is not supported by the simulator");
    // float8_numeric: the double printed with 15 significant digits, read as numeric.
    return numeric_from_text(fmt::format("{:.15g}", number), type);
  }
  if (value.kind() == Value::Kind::text) return numeric_from_text(value.as_text(), type);
  return failure(fmt::format("cannot cast type {} to numeric", type_name(type_of(value))));
}

EvalResult cast_to_text(const Value& value, const TypeSpec& type) {
  std::string text = text_of(value);
  if (type.name == TypeName::varchar && type.precision > 0) {
    // An explicit cast to varchar(n) silently keeps the first n characters.
    std::size_t characters = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
      if (characters == static_cast<std::size_t>(type.precision)) {
        text.resize(i);
        break;
      }
      ++characters;
    }
  }
  return success(Value::text(std::move(text)));
}

// PostgreSQL's boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, unique prefixes.
std::optional<bool> boolean_from_text(std::string_view text) {
  const std::string word = ascii_lower(trim_view(text, true));
  if (word.empty()) return std::nullopt;
  const auto prefix_of = [&word](std::string_view full) {
    return full.substr(0, word.size()) == word;
  };
  if (word.size() <= 4 && prefix_of("true")) return true;
  if (word.size() <= 5 && prefix_of("false")) return false;
  if (word.size() <= 3 && prefix_of("yes")) return true;
  if (word.size() <= 2 && prefix_of("no")) return false;
  if (word == "on" || word == "1") return true;
  if (word == "of" || word == "off" || word == "0") return false;
  return std::nullopt;
}

EvalResult cast_to_boolean(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::boolean: return success(value);
    case Value::Kind::integer: return success(Value::boolean(value.as_int() != 0));
    case Value::Kind::text: {
      const std::optional<bool> parsed = boolean_from_text(value.as_text());
      if (!parsed) return failure(invalid_input("boolean", value.as_text()));
      return success(Value::boolean(*parsed));
    }
    default: break;
  }
  return failure(fmt::format("cannot cast type {} to boolean", type_name(type_of(value))));
}

EvalResult cast_to_timestamp(const Value& value) {
  if (value.kind() == Value::Kind::timestamp) return success(value);
  if (value.kind() == Value::Kind::text) {
    const std::optional<std::int64_t> micros = parse_timestamp(value.as_text());
    if (!micros) return failure(invalid_input("timestamp", value.as_text()));
    return success(Value::timestamp(*micros));
  }
  return failure(fmt::format("cannot cast type {} to timestamp without time zone",
                             type_name(type_of(value))));
}

EvalResult cast_value(const Value& value, const TypeSpec& type) {
  if (value.is_null()) return success(Value::null());
  switch (type.name) {
    case TypeName::bigint:
    case TypeName::integer: return cast_to_integer(value, type_of(type));
    case TypeName::numeric: return cast_to_numeric(value, type);
    case TypeName::text:
    case TypeName::varchar: return cast_to_text(value, type);
    case TypeName::boolean: return cast_to_boolean(value);
    case TypeName::timestamp: return cast_to_timestamp(value);
  }
  REHEARSE_ASSERT(false);
  return failure("unreachable");
}

// A value (a quoted literal's text, or anything met where types are dynamic) converted to a
// static type, as PostgreSQL's input functions and implicit casts do.
EvalResult convert(const Value& value, SqlType type) {
  if (value.is_null()) return success(Value::null());
  switch (type) {
    case SqlType::int4:
    case SqlType::int8: return cast_to_integer(value, type);
    case SqlType::numeric: return cast_to_numeric(value, TypeSpec{TypeName::numeric, 0, 0});
    case SqlType::float8:
      if (value.kind() == Value::Kind::text) return float8_from_text(value.as_text());
      if (is_number(value) || value.kind() == Value::Kind::float8) {
        return success(Value::float8(double_of(value)));
      }
      return failure(fmt::format("cannot cast type {} to double precision", type_name(type_of(value))));
    case SqlType::boolean: return cast_to_boolean(value);
    case SqlType::timestamp: return cast_to_timestamp(value);
    case SqlType::text: return cast_to_text(value, TypeSpec{});
    case SqlType::interval:
      return failure("interval literals are not supported by the simulator");
    case SqlType::dynamic:
    case SqlType::unknown: return success(value);
  }
  REHEARSE_ASSERT(false);
  return failure("unreachable");
}

// Whether PostgreSQL has a cast from `from` to the cast's type at all (pg_cast, or I/O
// conversion to and from text); checked when typing.
bool castable(SqlType from, const TypeSpec& to) {
  const SqlType target = type_of(to);
  if (from == SqlType::dynamic || from == SqlType::unknown || from == target) return true;
  if (from == SqlType::text || target == SqlType::text) return true;
  if (is_number_type(from) && is_number_type(target)) return true;
  if (from == SqlType::int4 && target == SqlType::boolean) return true;
  if (from == SqlType::boolean && target == SqlType::int4) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Evaluation: operators

const char* symbol_of(Operator op) {
  switch (op) {
    case Operator::add: return "+";
    case Operator::subtract: return "-";
    case Operator::multiply: return "*";
    case Operator::divide: return "/";
    case Operator::modulo: return "%";
    case Operator::concatenate: return "||";
    case Operator::equal: return "=";
    case Operator::not_equal: return "<>";
    case Operator::less: return "<";
    case Operator::less_equal: return "<=";
    case Operator::greater: return ">";
    case Operator::greater_equal: return ">=";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

bool is_arithmetic(Operator op) {
  return op == Operator::add || op == Operator::subtract || op == Operator::multiply ||
         op == Operator::divide || op == Operator::modulo;
}

std::string no_operator(Operator op, SqlType a, SqlType b) {
  return fmt::format("operator does not exist: {} {} {}", type_name(a), symbol_of(op),
                     type_name(b));
}

// The type two non-NULL values meeting where types are dynamic are computed as; dynamic when
// they are not both numbers.
SqlType runtime_domain(const Value& a, const Value& b) {
  const SqlType type_a = type_of(a);
  const SqlType type_b = type_of(b);
  if (!is_number_type(type_a) || !is_number_type(type_b)) return SqlType::dynamic;
  return number_domain(type_a, type_b);
}

EvalResult integer_arithmetic(Operator op, std::int64_t a, std::int64_t b, SqlType type) {
  std::int64_t result = 0;
  bool overflow = false;
  switch (op) {
    case Operator::add: overflow = __builtin_add_overflow(a, b, &result); break;
    case Operator::subtract: overflow = __builtin_sub_overflow(a, b, &result); break;
    case Operator::multiply: overflow = __builtin_mul_overflow(a, b, &result); break;
    case Operator::divide:
      if (b == 0) return failure("division by zero");
      overflow = a == std::numeric_limits<std::int64_t>::min() && b == -1;
      if (!overflow) result = a / b;  // truncates toward zero, as PostgreSQL
      break;
    case Operator::modulo:
      if (b == 0) return failure("division by zero");
      result = b == -1 ? 0 : a % b;  // sign of the dividend, as PostgreSQL
      break;
    default: REHEARSE_ASSERT(false);
  }
  if (overflow) return failure(out_of_range(type));
  return integer_in_range(result, type);
}

EvalResult decimal_arithmetic(Operator op, const Decimal& a, const Decimal& b) {
  std::optional<Decimal> result;
  switch (op) {
    case Operator::add: result = decimal::add(a, b); break;
    case Operator::subtract: result = decimal::subtract(a, b); break;
    case Operator::multiply: result = decimal::multiply(a, b); break;
    case Operator::divide:
      if (b.mantissa == 0) return failure("division by zero");
      result = decimal::divide(a, b);
      break;
    case Operator::modulo:
      if (b.mantissa == 0) return failure("division by zero");
      result = decimal::remainder(a, b);
      break;
    default: REHEARSE_ASSERT(false);
  }
  if (!result) return failure("numeric value out of range");
  return success(Value::numeric(*result));
}

// PostgreSQL's float8 operators: overflow and underflow are errors, not infinities and zeros.
EvalResult double_arithmetic(Operator op, double a, double b) {
  double result = 0;
  switch (op) {
    case Operator::add: result = a + b; break;
    case Operator::subtract: result = a - b; break;
    case Operator::multiply: result = a * b; break;
    case Operator::divide:
      if (b == 0 && !std::isnan(a)) return failure("division by zero");  // NaN / 0 is NaN
      result = a / b;
      break;
    default:
      return failure(no_operator(op, SqlType::float8, SqlType::float8));
  }
  if (std::isinf(result) && !std::isinf(a) && !std::isinf(b)) {
    return failure("value out of range: overflow");
  }
  if (result == 0 && op == Operator::multiply && a != 0 && b != 0) {
    return failure("value out of range: underflow");
  }
  if (result == 0 && op == Operator::divide && a != 0 && !std::isinf(b)) {
    return failure("value out of range: underflow");
  }
  return success(Value::float8(result));
}

// REQUIRES: neither value is NULL. `type` is the operator's static result type (dynamic when
// unknown: then the values decide).
EvalResult arithmetic(Operator op, const Value& a, const Value& b, SqlType type) {
  const SqlType domain = is_number_type(type) ? type : runtime_domain(a, b);
  switch (domain) {
    case SqlType::int4:
    case SqlType::int8:
      if (a.kind() != Value::Kind::integer || b.kind() != Value::Kind::integer) break;
      return integer_arithmetic(op, a.as_int(), b.as_int(), domain);
    case SqlType::numeric:
      if (!is_number(a) || !is_number(b)) break;
      if (a.is_nan() || b.is_nan()) return success(Value::numeric_nan());  // before division by zero
      return decimal_arithmetic(op, decimal_of(a), decimal_of(b));
    case SqlType::float8: return double_arithmetic(op, double_of(a), double_of(b));
    default: break;
  }
  return failure(no_operator(op, type_of(a), type_of(b)));
}

// text || anything and anything || text concatenate the text forms. REQUIRES: no NULL.
EvalResult concatenate(const Value& a, const Value& b) {
  if (a.kind() != Value::Kind::text && b.kind() != Value::Kind::text) {
    return failure(no_operator(Operator::concatenate, type_of(a), type_of(b)));
  }
  return success(Value::text(text_of(a) + text_of(b)));
}

int sign_of(auto x, auto y) { return (x > y) - (x < y); }

// PostgreSQL's float8 order: NaN above everything and equal to itself.
int order_doubles(double a, double b) {
  if (std::isnan(a)) return std::isnan(b) ? 0 : 1;
  if (std::isnan(b)) return -1;
  return sign_of(a, b);
}

// -1 / 0 / 1 for two non-NULL values compared as `type` (dynamic: as the values' kinds
// suggest); nullopt when there is no such comparison.
std::optional<int> order_values(const Value& a, const Value& b, SqlType type) {
  SqlType domain = type;
  if (!is_concrete(domain)) {
    domain = runtime_domain(a, b);
    if (domain == SqlType::dynamic) {
      if (a.kind() != b.kind()) return std::nullopt;
      domain = type_of(a);
    }
  }
  switch (domain) {
    case SqlType::int4:
    case SqlType::int8:
      if (a.kind() == Value::Kind::integer && b.kind() == Value::Kind::integer) {
        return sign_of(a.as_int(), b.as_int());
      }
      break;
    case SqlType::numeric:
      if (is_number(a) && is_number(b)) {
        if (a.is_nan() || b.is_nan()) return sign_of(a.is_nan(), b.is_nan());  // NaN above all
        return decimal::compare(decimal_of(a), decimal_of(b));
      }
      break;
    case SqlType::float8: return order_doubles(double_of(a), double_of(b));
    case SqlType::text:
      if (a.kind() == Value::Kind::text && b.kind() == Value::Kind::text) {
        return sign_of(a.as_text().compare(b.as_text()), 0);
      }
      break;
    case SqlType::boolean:
      if (a.kind() == Value::Kind::boolean && b.kind() == Value::Kind::boolean) {
        return sign_of(a.as_bool(), b.as_bool());
      }
      break;
    case SqlType::timestamp:
      if (a.kind() == Value::Kind::timestamp && b.kind() == Value::Kind::timestamp) {
        return sign_of(a.as_int(), b.as_int());
      }
      break;
    default: break;
  }
  return std::nullopt;
}

EvalResult compare(Operator op, const Value& a, const Value& b, SqlType type) {
  const std::optional<int> order = order_values(a, b, type);
  if (!order) return failure(no_operator(op, type_of(a), type_of(b)));
  switch (op) {
    case Operator::equal: return success(Value::boolean(*order == 0));
    case Operator::not_equal: return success(Value::boolean(*order != 0));
    case Operator::less: return success(Value::boolean(*order < 0));
    case Operator::less_equal: return success(Value::boolean(*order <= 0));
    case Operator::greater: return success(Value::boolean(*order > 0));
    case Operator::greater_equal: return success(Value::boolean(*order >= 0));
    default: REHEARSE_ASSERT(false);
  }
  return failure("unreachable");
}

// ---------------------------------------------------------------------------------------------
// Evaluation: functions whose arguments are all evaluated and none is NULL

std::string no_function(std::string_view name, const std::vector<SqlType>& arguments) {
  std::string types;
  for (const SqlType argument : arguments) {
    types += (types.empty() ? "" : ", ") + std::string(type_name(argument));
  }
  return fmt::format("function {}({}) does not exist", name, types);
}

std::string no_function(std::string_view name, const Arguments& arguments) {
  std::vector<SqlType> types;
  for (const Value& argument : arguments) types.push_back(type_of(argument));
  return no_function(name, types);
}

// One UTF-8 code point at text[*index] (advancing *index), or the byte itself when malformed.
std::uint32_t next_code_point(std::string_view text, std::size_t* index) {
  const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(*index);
  int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
  if (*index + static_cast<std::size_t>(length) > text.size()) length = 1;
  std::uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
  for (int i = 1; i < length; ++i) code = (code << 6) | (byte(*index + static_cast<std::size_t>(i)) & 0x3F);
  *index += static_cast<std::size_t>(length);
  return code;
}

void append_code_point(std::uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// Unicode's simple case mapping (towupper / towlower of a UTF-8 locale) for Latin-1, Latin
// Extended-A, Greek and Cyrillic; other code points are left as they are.
std::uint32_t change_case(std::uint32_t c, bool upper) {
  const auto shift = [c, upper](std::uint32_t lower_first, std::uint32_t lower_last,
                                std::uint32_t distance) -> std::optional<std::uint32_t> {
    if (upper && c >= lower_first && c <= lower_last) return c - distance;
    if (!upper && c >= lower_first - distance && c <= lower_last - distance) return c + distance;
    return std::nullopt;
  };
  if (c < 0x80) {
    if (upper && c >= 'a' && c <= 'z') return c - 32;
    if (!upper && c >= 'A' && c <= 'Z') return c + 32;
    return c;
  }
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7 && upper) return c - 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7 && !upper) return c + 32;
  if (upper && c == 0xFF) return 0x178;
  if (upper && c == 0xB5) return 0x39C;  // micro sign
  if (!upper && c == 0x130) return 'i';   // dotted capital I
  if (upper && c == 0x131) return 'I';    // dotless small i
  if (upper && c == 0x17F) return 'S';    // long s
  if (!upper && c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    // Latin Extended-A pairs: even/odd from 0x100 to 0x137, odd/even from 0x139 to 0x148 and
    // from 0x179 to 0x17E, even/odd from 0x14A to 0x177.
    const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    const bool is_upper = odd_upper ? (c % 2 == 1) : (c % 2 == 0);
    if (upper && !is_upper) return c - 1;
    if (!upper && is_upper) return c + 1;
    return c;
  }
  if (upper && c == 0x3C2) return 0x3A3;  // final sigma
  if (auto mapped = shift(0x3B1, 0x3C9, 32); mapped && c != 0x3A2 && c != 0x3C2) return *mapped;
  if (auto mapped = shift(0x430, 0x44F, 32)) return *mapped;
  if (auto mapped = shift(0x450, 0x45F, 80)) return *mapped;
  return c;
}

std::string change_text_case(std::string_view text, bool upper) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) append_code_point(change_case(next_code_point(text, &i), upper), &result);
  return result;
}

EvalResult text_function(Function function, std::string_view text) {
  switch (function) {
    case Function::lower: return success(Value::text(change_text_case(text, false)));
    case Function::upper: return success(Value::text(change_text_case(text, true)));
    case Function::trim: return success(Value::text(std::string(trim_view(text, false))));
    case Function::length:
      return success(Value::integer(static_cast<std::int64_t>(count_characters(text))));
    default: REHEARSE_ASSERT(false);
  }
  return failure("unreachable");
}

// substr(text, start [, count]): characters start .. start + count - 1, counted from 1; the
// range is clipped to the text as PostgreSQL does (substr('hello', 0, 3) = 'he').
EvalResult substring(const std::string& name, const Arguments& arguments) {
  const bool has_count = arguments.size() == 3;
  if (arguments[0].kind() != Value::Kind::text || arguments[1].kind() != Value::Kind::integer ||
      (has_count && arguments[2].kind() != Value::Kind::integer)) {
    return failure(no_function(name, arguments));
  }
  const std::string_view text = arguments[0].as_text();
  std::vector<std::size_t> starts;  // byte offset of each character, then the end
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  const Int128 characters = static_cast<Int128>(starts.size()) - 1;
  const Int128 start = arguments[1].as_int();
  Int128 end = characters + 1;  // exclusive, 1-based
  if (has_count) {
    if (arguments[2].as_int() < 0) return failure("negative substring length not allowed");
    end = std::min(end, start + arguments[2].as_int());
  }
  const Int128 first = std::max(start, static_cast<Int128>(1));
  if (first >= end) return success(Value::text(""));
  const std::size_t from = starts[static_cast<std::size_t>(first - 1)];
  const std::size_t to = starts[static_cast<std::size_t>(end - 1)];
  return success(Value::text(std::string(text.substr(from, to - from))));
}

EvalResult absolute(const std::string& name, const Value& value, SqlType type) {
  switch (value.kind()) {
    case Value::Kind::integer: {
      if (value.as_int() == std::numeric_limits<std::int64_t>::min()) {
        return failure(out_of_range(SqlType::int8));
      }
      const SqlType integer_type = is_integer_type(type) ? type : SqlType::int8;
      return integer_in_range(value.as_int() < 0 ? -value.as_int() : value.as_int(), integer_type);
    }
    case Value::Kind::numeric: {
      if (value.is_nan()) return success(value);
      Decimal decimal = value.as_decimal();
      if (decimal.mantissa < 0) decimal.mantissa = -decimal.mantissa;
      return success(Value::numeric(decimal));
    }
    case Value::Kind::float8: return success(Value::float8(std::fabs(value.as_double())));
    default: return failure(no_function(name, Arguments(&value, 1)));
  }
}

// round(x): double precision for an integer or double (rounding half to even, rint), numeric
// for a numeric; round(x, n) is numeric with n decimals (n < 0 rounds to tens...).
EvalResult round_number(const std::string& name, const Arguments& arguments) {
  const Value& value = arguments[0];
  const bool has_places = arguments.size() == 2;
  if (!has_places && value.kind() == Value::Kind::float8) {
    return success(Value::float8(std::nearbyint(value.as_double())));
  }
  if (!has_places && value.kind() == Value::Kind::integer) return success(promote(value, SqlType::float8));
  if (!is_number(value) || (has_places && arguments[1].kind() != Value::Kind::integer)) {
    return failure(no_function(name, arguments));
  }
  if (value.is_nan()) return success(value);
  constexpr std::int64_t kPlacesMin = -100;  // rounds every representable value to 0
  const std::int64_t places = has_places ? std::max(arguments[1].as_int(), kPlacesMin) : 0;
  if (places > Decimal::kMaxScale) {
    return failure(fmt::format("round to {} decimal places exceeds the supported maximum of {}",
                               places, Decimal::kMaxScale));
  }
  const std::optional<Decimal> rounded =
      decimal::round(decimal_of(value), static_cast<int>(places));
  if (!rounded) return failure("numeric value out of range");
  return success(Value::numeric(*rounded));
}

EvalResult floor_or_ceil(Function function, const std::string& name, const Value& value) {
  const bool floor = function == Function::floor;
  switch (value.kind()) {
    case Value::Kind::integer: return success(promote(value, SqlType::float8));
    case Value::Kind::float8:
      return success(Value::float8(floor ? std::floor(value.as_double()) : std::ceil(value.as_double())));
    case Value::Kind::numeric:
      if (value.is_nan()) return success(value);
      return success(Value::numeric(floor ? decimal::floor(value.as_decimal())
                                          : decimal::ceil(value.as_decimal())));
    default: return failure(no_function(name, Arguments(&value, 1)));
  }
}

// lpad / rpad(text, length [, fill]): the text cut to `length` characters or filled to it with
// `fill` (a space by default) repeated on the left / right; no fill leaves it as cut.
EvalResult pad(const ExprNode& node, const Arguments& arguments) {
  if (arguments[0].kind() != Value::Kind::text || arguments[1].kind() != Value::Kind::integer ||
      (arguments.size() == 3 && arguments[2].kind() != Value::Kind::text)) {
    return failure(no_function(node.name, arguments));
  }
  const std::string_view text = arguments[0].as_text();
  const std::string fill = arguments.size() == 3 ? std::string(arguments[2].as_text()) : " ";
  const std::int64_t length = std::clamp<std::int64_t>(arguments[1].as_int(), 0, 10485760);
  std::vector<std::string> characters, fills;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t start = i;
    next_code_point(text, &i);
    characters.emplace_back(text.substr(start, i - start));
  }
  for (std::size_t i = 0; i < fill.size();) {
    const std::size_t start = i;
    next_code_point(fill, &i);
    fills.emplace_back(fill.substr(start, i - start));
  }
  const auto have = static_cast<std::int64_t>(characters.size());
  if (have >= length || fills.empty()) {
    std::string cut;
    for (std::int64_t i = 0; i < std::min(have, length); ++i) cut += characters[static_cast<std::size_t>(i)];
    return success(Value::text(cut));
  }
  std::string padding;
  for (std::int64_t i = 0; i < length - have; ++i) padding += fills[static_cast<std::size_t>(i) % fills.size()];
  return success(Value::text(node.function == Function::lpad ? padding + std::string(text) : std::string(text) + padding));
}

// PostgreSQL's LIKE: `%` any run of characters, `_` one character, a backslash takes the next
// pattern character as itself; matched by characters (code points). ILIKE compares both lower
// cased. nullopt when matching reaches an escape character that ends the pattern while text
// remains (PostgreSQL's error then; 'a' LIKE 'a\\' is false, 'ab' LIKE 'a\\' the error).
std::optional<bool> like_matches(std::string_view text, std::string_view pattern, bool fold_case) {
  std::vector<std::uint32_t> t;
  std::vector<std::uint32_t> p;
  for (std::size_t i = 0; i < text.size();) t.push_back(fold_case ? change_case(next_code_point(text, &i), false) : next_code_point(text, &i));
  for (std::size_t i = 0; i < pattern.size();) p.push_back(fold_case ? change_case(next_code_point(pattern, &i), false) : next_code_point(pattern, &i));
  std::size_t ti = 0;
  std::size_t pi = 0;
  std::size_t star = std::string_view::npos;  // the pattern position after the last `%`
  std::size_t star_text = 0;                  // the text position that `%` stands at
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star = ++pi;
      star_text = ti;
      continue;
    }
    if (pi < p.size()) {
      const bool escaped = p[pi] == '\\';
      if (escaped && pi + 1 == p.size()) return std::nullopt;  // met while text remains, as PostgreSQL's MatchText
      const std::uint32_t c = escaped ? p[pi + 1] : p[pi];
      if ((!escaped && c == '_') || c == t[ti]) {
        ++ti;
        pi += escaped ? 2 : 1;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    pi = star;
    ti = ++star_text;
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

EvalResult like(const ExprNode& node, const Arguments& arguments) {
  if (arguments[0].kind() != Value::Kind::text || arguments[1].kind() != Value::Kind::text) return failure(no_function(node.name, arguments));
  const std::optional<bool> matched = like_matches(arguments[0].as_text(), arguments[1].as_text(), node.name == "ILIKE");
  if (!matched) return failure("LIKE pattern must not end with escape character");
  return success(Value::boolean(*matched != node.negated));
}

EvalResult strict_function(const ExprNode& node, const Arguments& arguments) {
  switch (node.function) {
    case Function::lower:
    case Function::upper:
    case Function::trim:
    case Function::length:
      if (arguments[0].kind() != Value::Kind::text) {
        return failure(no_function(node.name, arguments));
      }
      return text_function(node.function, arguments[0].as_text());
    case Function::substr: return substring(node.name, arguments);
    case Function::lpad:
    case Function::rpad: return pad(node, arguments);
    case Function::abs: return absolute(node.name, arguments[0], node.result_type);
    case Function::round: return round_number(node.name, arguments);
    case Function::floor:
    case Function::ceil: return floor_or_ceil(node.function, node.name, arguments[0]);
    case Function::like: return like(node, arguments);
    default: REHEARSE_ASSERT(false);
  }
  return failure("unreachable");
}

// ---------------------------------------------------------------------------------------------
// Typing: PostgreSQL's parse analysis (transformExpr, make_op, func_select_candidate,
// select_common_type) for the language's types

bool is_unknown_literal(const ExprNode& node) {
  return node.kind == Kind::literal && node.quoted_literal && node.result_type == SqlType::unknown;
}

class Typer {
 public:
  Typer(const std::string& text, const ColumnTypes* columns, ExprParseError* error)
      : text_(text), columns_(columns), error_(error) {}

  // The typed copy of `node`, or nullptr with *error filled.
  NodePointer type(const ExprNode& node) {
    switch (node.kind) {
      case Kind::literal: return literal(node);
      case Kind::column: return column(node);
      case Kind::negate:
      case Kind::unary_plus: return sign(node);
      case Kind::binary: return binary(node);
      case Kind::logical_and:
      case Kind::logical_or:
      case Kind::logical_not: return logical(node);
      case Kind::is_null: {
        std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
        if (!type_arguments(typed.get())) return nullptr;
        typed->result_type = SqlType::boolean;
        return typed;
      }
      case Kind::case_when: return case_when(node);
      case Kind::cast: return cast(node);
      case Kind::function: return function(node);
    }
    REHEARSE_ASSERT(false);
    return nullptr;
  }

  // An unknown literal typed as `target` (converted now, as PostgreSQL does), or the node.
  NodePointer coerce(const NodePointer& node, SqlType target) {
    if (!is_unknown_literal(*node) || !is_concrete(target)) return node;
    const EvalResult converted = convert(node->literal, target);
    if (!converted.ok) return fail(*node, converted.error);
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(*node);
    typed->result_type = target;
    typed->coerced = converted.value;
    return typed;
  }

  NodePointer fail(const ExprNode& node, const std::string& message) {
    if (!failed_) {
      failed_ = true;
      error_->position = node.position;
      error_->token = token_at(text_, node.position);
      error_->message = message;
    }
    return nullptr;
  }

 private:
  bool type_arguments(ExprNode* node) {
    for (NodePointer& argument : node->arguments) {
      argument = type(*argument);
      if (argument == nullptr) return false;
    }
    return true;
  }

  NodePointer literal(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    switch (node.literal.kind()) {
      case Value::Kind::integer:
        typed->result_type = node.literal.as_int() >= kInt4Min && node.literal.as_int() <= kInt4Max
                                 ? SqlType::int4
                                 : SqlType::int8;
        break;
      case Value::Kind::numeric: typed->result_type = SqlType::numeric; break;
      case Value::Kind::boolean: typed->result_type = SqlType::boolean; break;
      case Value::Kind::null:
      case Value::Kind::text: typed->result_type = SqlType::unknown; break;
      default: REHEARSE_ASSERT(false);
    }
    return typed;
  }

  NodePointer column(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    if (columns_ == nullptr) return typed;  // dynamic
    const auto found = columns_->find(node.name);
    if (found == columns_->end()) return fail(node, fmt::format("column \"{}\" does not exist", node.name));
    typed->result_type = type_of(found->second);
    return typed;
  }

  NodePointer sign(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    if (!type_arguments(typed.get())) return nullptr;
    const SqlType operand = typed->arguments[0]->result_type;
    const char* symbol = node.kind == Kind::negate ? "-" : "+";
    if (operand == SqlType::unknown && node.kind == Kind::unary_plus) {
      // Every prefix + is numeric: the unknown takes the category's preferred type.
      typed->arguments[0] = coerce(typed->arguments[0], SqlType::float8);
      if (typed->arguments[0] == nullptr) return nullptr;
      typed->result_type = SqlType::float8;
      return typed;
    }
    if (operand == SqlType::unknown) {  // - also applies to intervals: two categories
      return fail(node, fmt::format("operator is not unique: {} unknown", symbol));
    }
    if (operand != SqlType::dynamic && !is_number_type(operand)) {
      return fail(node, fmt::format("operator does not exist: {} {}", symbol, type_name(operand)));
    }
    typed->result_type = operand;
    return typed;
  }

  // Both sides of a binary operator typed, an unknown literal taking the other side's type.
  bool type_operands(ExprNode* node, SqlType* left, SqlType* right) {
    if (!type_arguments(node)) return false;
    *left = node->arguments[0]->result_type;
    *right = node->arguments[1]->result_type;
    return true;
  }

  NodePointer binary(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    SqlType left = SqlType::dynamic;
    SqlType right = SqlType::dynamic;
    if (!type_operands(typed.get(), &left, &right)) return nullptr;
    const Operator op = node.binary_operator;
    if (left == SqlType::dynamic || right == SqlType::dynamic) {
      typed->result_type = is_arithmetic(op) ? SqlType::dynamic
                           : op == Operator::concatenate ? SqlType::text : SqlType::boolean;
      return typed;
    }
    if (op == Operator::concatenate) return concatenation(typed, left, right);
    if (left == SqlType::unknown && right == SqlType::unknown) {
      if (is_arithmetic(op)) return fail(node, fmt::format("operator is not unique: unknown {} unknown", symbol_of(op)));
      left = right = SqlType::text;
    } else if (left == SqlType::unknown) {
      left = right;
    } else if (right == SqlType::unknown) {
      right = left;
    }
    SqlType domain = left == right ? left : SqlType::dynamic;
    if (is_number_type(left) && is_number_type(right)) domain = number_domain(left, right);
    if (is_arithmetic(op)) {
      if (left == SqlType::timestamp && right == SqlType::timestamp && op == Operator::subtract) {
        typed->arguments[0] = coerce(typed->arguments[0], left);
        if (typed->arguments[0] == nullptr) return nullptr;
        typed->arguments[1] = coerce(typed->arguments[1], right);
        if (typed->arguments[1] == nullptr) return nullptr;
        typed->operand_type = SqlType::timestamp;
        typed->result_type = SqlType::interval;
        return typed;
      }
      if (!is_number_type(domain) || (domain == SqlType::float8 && op == Operator::modulo)) {
        return fail(node, no_operator(op, typed->arguments[0]->result_type == SqlType::unknown ? SqlType::unknown : left,
                                      typed->arguments[1]->result_type == SqlType::unknown ? SqlType::unknown : right));
      }
    } else if (domain == SqlType::dynamic) {
      return fail(node, no_operator(op, left, right));
    } else if (domain == SqlType::interval) {
      return fail(node, "comparing interval values is not supported by the simulator");
    }
    typed->arguments[0] = coerce(typed->arguments[0], left);
    if (typed->arguments[0] == nullptr) return nullptr;
    typed->arguments[1] = coerce(typed->arguments[1], right);
    if (typed->arguments[1] == nullptr) return nullptr;
    typed->operand_type = domain;
    typed->result_type = is_arithmetic(op) ? domain : SqlType::boolean;
    return typed;
  }

  // text || anything, anything || text (anytextcat, textanycat); an unknown side is text.
  NodePointer concatenation(const std::shared_ptr<ExprNode>& typed, SqlType left, SqlType right) {
    const bool text_left = left == SqlType::text || left == SqlType::unknown;
    const bool text_right = right == SqlType::text || right == SqlType::unknown;
    if (!text_left && !text_right) return fail(*typed, no_operator(Operator::concatenate, left, right));
    for (NodePointer& argument : typed->arguments) {
      argument = coerce(argument, SqlType::text);
      if (argument == nullptr) return nullptr;
    }
    typed->result_type = SqlType::text;
    typed->operand_type = SqlType::text;
    return typed;
  }

  NodePointer as_boolean(const NodePointer& node, std::string_view context) {
    if (node->result_type == SqlType::unknown) return coerce(node, SqlType::boolean);
    if (node->result_type != SqlType::boolean && node->result_type != SqlType::dynamic) {
      return fail(*node, fmt::format("argument of {} must be type boolean, not type {}", context,
                                     type_name(node->result_type)));
    }
    return node;
  }

  NodePointer logical(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    if (!type_arguments(typed.get())) return nullptr;
    const char* context = node.kind == Kind::logical_and ? "AND" : node.kind == Kind::logical_or ? "OR" : "NOT";
    for (NodePointer& argument : typed->arguments) {
      argument = as_boolean(argument, context);
      if (argument == nullptr) return nullptr;
    }
    typed->result_type = SqlType::boolean;
    return typed;
  }

  // select_common_type: the first typed input's type, moved to a later one that it casts to
  // implicitly (and not back) unless it is its category's preferred type; all unknown: text.
  // Dynamic inputs are left out; only dynamic ones make the result dynamic.
  bool common_type(const std::vector<NodePointer>& inputs, std::string_view context, SqlType* out) {
    SqlType common = SqlType::unknown;
    bool any_dynamic = false;
    for (const NodePointer& input : inputs) {
      const SqlType next = input->result_type;
      if (next == SqlType::dynamic) any_dynamic = true;
      if (!is_concrete(next) || next == common) continue;
      if (common == SqlType::unknown) {
        common = next;
      } else if (category_of(next) != category_of(common)) {
        fail(*input, fmt::format("{} types {} and {} cannot be matched", context, type_name(common), type_name(next)));
        return false;
      } else if (!is_preferred(common) && implicitly_castable(common, next) && !implicitly_castable(next, common)) {
        common = next;
      }
    }
    *out = common == SqlType::unknown ? (any_dynamic ? SqlType::dynamic : SqlType::text) : common;
    return true;
  }

  // Every input coerced to the common type: unknown literals converted; typed inputs must cast
  // to it implicitly.
  bool to_common_type(std::vector<NodePointer*> inputs, SqlType common, std::string_view context) {
    for (NodePointer* input : inputs) {
      const SqlType from = (*input)->result_type;
      if (is_concrete(from) && is_concrete(common) && !implicitly_castable(from, common)) {
        fail(**input, fmt::format("{} could not convert type {} to {}", context, type_name(from), type_name(common)));
        return false;
      }
      *input = coerce(*input, common);
      if (*input == nullptr) return false;
    }
    return true;
  }

  NodePointer case_when(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    if (typed->case_operand != nullptr) {
      typed->case_operand = type(*typed->case_operand);
      if (typed->case_operand == nullptr) return nullptr;
      typed->case_operand = coerce(typed->case_operand, SqlType::text);  // unknown: text
      if (typed->case_operand == nullptr) return nullptr;
    }
    for (ExprNode::WhenClause& clause : typed->when_clauses) {
      clause.condition = type(*clause.condition);
      if (clause.condition == nullptr) return nullptr;
      if (typed->case_operand == nullptr) {
        clause.condition = as_boolean(clause.condition, "CASE/WHEN");
      } else {
        clause.condition = case_value(typed->case_operand, clause.condition, &clause.compare_type);
      }
      if (clause.condition == nullptr) return nullptr;
      clause.result = type(*clause.result);
      if (clause.result == nullptr) return nullptr;
    }
    if (typed->else_result != nullptr) {
      typed->else_result = type(*typed->else_result);
      if (typed->else_result == nullptr) return nullptr;
    }
    // The ELSE (NULL when absent) first: PostgreSQL resolves CASE from its default result.
    std::vector<NodePointer> results;
    if (typed->else_result != nullptr) results.push_back(typed->else_result);
    for (const ExprNode::WhenClause& clause : typed->when_clauses) results.push_back(clause.result);
    SqlType common = SqlType::text;
    if (!common_type(results, "CASE", &common)) return nullptr;
    std::vector<NodePointer*> inputs;
    if (typed->else_result != nullptr) inputs.push_back(&typed->else_result);
    for (ExprNode::WhenClause& clause : typed->when_clauses) inputs.push_back(&clause.result);
    if (!to_common_type(inputs, common, "CASE")) return nullptr;
    typed->result_type = common;
    return typed;
  }

  // CASE x WHEN v: x = v resolved as the operator would be.
  NodePointer case_value(const NodePointer& operand, const NodePointer& value, SqlType* compare_type) {
    SqlType left = operand->result_type;
    SqlType right = value->result_type;
    if (left == SqlType::dynamic || right == SqlType::dynamic) {
      *compare_type = SqlType::dynamic;
      return value;
    }
    if (right == SqlType::unknown) right = left;
    SqlType domain = left == right ? left : SqlType::dynamic;
    if (is_number_type(left) && is_number_type(right)) domain = number_domain(left, right);
    if (domain == SqlType::dynamic) return fail(*value, no_operator(Operator::equal, left, right));
    if (domain == SqlType::interval) return fail(*value, "comparing interval values is not supported by the simulator");
    *compare_type = domain;
    return coerce(value, right);
  }

  NodePointer cast(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    if (!type_arguments(typed.get())) return nullptr;
    const NodePointer& operand = typed->arguments[0];
    typed->result_type = type_of(node.type);
    if (is_unknown_literal(*operand)) {
      // A typed literal: PostgreSQL runs the type's input function now, without the modifiers
      // (numeric(p, s), varchar(n)): those apply as a cast the planner folds, or not, later.
      TypeSpec base = node.type;
      base.precision = 0;
      base.scale = 0;
      const EvalResult converted = cast_value(operand->literal, base);
      if (!converted.ok) return fail(*operand, converted.error);
      std::shared_ptr<ExprNode> literal = std::make_shared<ExprNode>(*operand);
      literal->result_type = typed->result_type;
      literal->coerced = converted.value;
      typed->arguments[0] = literal;
      return typed;
    }
    if (!castable(operand->result_type, node.type)) {
      return fail(node, fmt::format("cannot cast type {} to {}", type_name(operand->result_type), type_name(node.type)));
    }
    return typed;
  }

  NodePointer function(const ExprNode& node) {
    std::shared_ptr<ExprNode> typed = std::make_shared<ExprNode>(node);
    if (!type_arguments(typed.get())) return nullptr;
    switch (node.function) {
      case Function::coalesce:
      case Function::greatest:
      case Function::least: {
        const std::string context = node.function == Function::coalesce ? "COALESCE"
                                    : node.function == Function::greatest ? "GREATEST" : "LEAST";
        SqlType common = SqlType::text;
        if (!common_type(typed->arguments, context, &common)) return nullptr;
        std::vector<NodePointer*> inputs;
        for (NodePointer& argument : typed->arguments) inputs.push_back(&argument);
        if (!to_common_type(inputs, common, context)) return nullptr;
        if (common == SqlType::interval && node.function != Function::coalesce) {
          return fail(node, "comparing interval values is not supported by the simulator");
        }
        typed->result_type = common;
        typed->operand_type = common;
        return typed;
      }
      case Function::nullif: return nullif(typed);
      default: return strict_function_type(typed);
    }
  }

  // NULLIF(a, b) is a = b resolved as an operator; its type is a's once coerced to the
  // operator's input (integer types have cross-type operators, so they stay as they are).
  NodePointer nullif(const std::shared_ptr<ExprNode>& typed) {
    SqlType left = typed->arguments[0]->result_type;
    SqlType right = typed->arguments[1]->result_type;
    if (left == SqlType::dynamic || right == SqlType::dynamic) {
      typed->result_type = left == SqlType::unknown ? SqlType::dynamic : left;
      return typed;
    }
    if (left == SqlType::unknown && right == SqlType::unknown) left = right = SqlType::text;
    else if (left == SqlType::unknown) left = right;
    else if (right == SqlType::unknown) right = left;
    SqlType domain = left == right ? left : SqlType::dynamic;
    if (is_number_type(left) && is_number_type(right)) domain = number_domain(left, right);
    if (domain == SqlType::dynamic) return fail(*typed, no_operator(Operator::equal, left, right));
    if (domain == SqlType::interval) return fail(*typed, "comparing interval values is not supported by the simulator");
    typed->arguments[0] = coerce(typed->arguments[0], left);
    if (typed->arguments[0] == nullptr) return nullptr;
    typed->arguments[1] = coerce(typed->arguments[1], right);
    if (typed->arguments[1] == nullptr) return nullptr;
    typed->operand_type = domain;
    typed->result_type = is_integer_type(left) && is_integer_type(right) ? left : domain;
    return typed;
  }

  // Function resolution for the language's functions; unknown arguments take the candidate's
  // type (text for text functions, integer for substr's positions, double precision where
  // both double precision and numeric fit, that being the numeric category's preferred type).
  NodePointer strict_function_type(const std::shared_ptr<ExprNode>& typed) {
    std::vector<SqlType> types;
    bool any_dynamic = false;
    for (const NodePointer& argument : typed->arguments) {
      types.push_back(argument->result_type);
      any_dynamic = any_dynamic || argument->result_type == SqlType::dynamic;
    }
    const auto missing = [&] { return fail(*typed, no_function(typed->name, types)); };
    const auto accept = [](SqlType type, std::initializer_list<SqlType> allowed) {
      return type == SqlType::dynamic || type == SqlType::unknown ||
             std::find(allowed.begin(), allowed.end(), type) != allowed.end();
    };
    SqlType result = SqlType::dynamic;
    std::vector<SqlType> targets = types;
    switch (typed->function) {
      case Function::lower:
      case Function::upper:
      case Function::trim:
      case Function::length:
        if (!accept(types[0], {SqlType::text})) return missing();
        targets[0] = SqlType::text;
        result = typed->function == Function::length ? SqlType::int4 : SqlType::text;
        break;
      case Function::substr:
        if (!accept(types[0], {SqlType::text})) return missing();
        for (std::size_t i = 1; i < types.size(); ++i) {
          if (!accept(types[i], {SqlType::int4})) return missing();
          targets[i] = SqlType::int4;
        }
        targets[0] = SqlType::text;
        result = SqlType::text;
        break;
      case Function::lpad:
      case Function::rpad:
        if (!accept(types[0], {SqlType::text}) || !accept(types[1], {SqlType::int4}) || (types.size() == 3 && !accept(types[2], {SqlType::text}))) {
          return missing();
        }
        targets[0] = SqlType::text;
        targets[1] = SqlType::int4;
        if (types.size() == 3) targets[2] = SqlType::text;
        result = SqlType::text;
        break;
      case Function::random: result = SqlType::float8; break;
      case Function::like:
        if (!accept(types[0], {SqlType::text}) || !accept(types[1], {SqlType::text})) return missing();
        targets = {SqlType::text, SqlType::text};
        result = SqlType::boolean;
        break;
      case Function::abs:
        if (!accept(types[0], {SqlType::int4, SqlType::int8, SqlType::numeric, SqlType::float8})) return missing();
        result = types[0] == SqlType::unknown ? SqlType::float8 : types[0];  // the preferred type
        targets[0] = result;
        break;
      case Function::round:
        if (types.size() == 2) {
          if (!accept(types[0], {SqlType::int4, SqlType::int8, SqlType::numeric}) ||
              !accept(types[1], {SqlType::int4})) {
            return missing();
          }
          targets = {SqlType::numeric, SqlType::int4};
          result = SqlType::numeric;
          break;
        }
        [[fallthrough]];
      case Function::floor:
      case Function::ceil:
        if (!accept(types[0], {SqlType::int4, SqlType::int8, SqlType::numeric, SqlType::float8})) return missing();
        result = types[0] == SqlType::numeric ? SqlType::numeric : SqlType::float8;
        targets[0] = result;
        if (types[0] == SqlType::dynamic) result = SqlType::dynamic;
        break;
      default: REHEARSE_ASSERT(false);
    }
    for (std::size_t i = 0; i < typed->arguments.size(); ++i) {
      typed->arguments[i] = coerce(typed->arguments[i], targets[i]);
      if (typed->arguments[i] == nullptr) return nullptr;
    }
    typed->result_type = any_dynamic && result != SqlType::text && result != SqlType::int4 ? SqlType::dynamic : result;
    return typed;
  }

  const std::string& text_;
  const ColumnTypes* columns_;
  ExprParseError* error_;
  bool failed_ = false;
};

// timestamp - timestamp: PostgreSQL's timestamp_mi (the difference in microseconds, whole days
// split off by interval_justify_hours) printed as its interval output does (IntervalStyle
// postgres): "1 day 02:00:00", "-151 days -11:59:59.5", "00:00:00". Held as text.
EvalResult timestamp_difference(const Value& a, const Value& b) {
  REHEARSE_ASSERT(a.kind() == Value::Kind::timestamp);
  REHEARSE_ASSERT(b.kind() == Value::Kind::timestamp);
  constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000;
  const auto infinite = [](std::int64_t t) { return t == kTimestampInfinity || t == kTimestampMinusInfinity; };
  if (infinite(a.as_int()) || infinite(b.as_int())) return failure("cannot subtract infinite timestamps");
  std::int64_t time = 0;
  if (__builtin_sub_overflow(a.as_int(), b.as_int(), &time)) return failure("interval out of range");
  std::int64_t days = time / kMicrosPerDay;  // truncated toward zero, as TMODULO
  time -= days * kMicrosPerDay;
  if (days > 0 && time < 0) {
    time += kMicrosPerDay;
    --days;
  } else if (days < 0 && time > 0) {
    time -= kMicrosPerDay;
    ++days;
  }
  std::string text;
  if (days != 0) text = fmt::format("{} day{}", days, days == 1 || days == -1 ? "" : "s");
  if (days == 0 || time != 0) {
    const std::int64_t magnitude = time < 0 ? -time : time;
    const std::int64_t seconds = magnitude / 1000000;
    const std::int64_t fraction = magnitude % 1000000;
    text += fmt::format("{}{}{:02}:{:02}:{:02}", days == 0 ? "" : " ", time < 0 ? "-" : (days < 0 ? "+" : ""),
                        seconds / 3600, seconds / 60 % 60, seconds % 60);
    if (fraction != 0) {
      std::string digits = fmt::format("{:06}", fraction);
      while (digits.back() == '0') digits.pop_back();
      text += "." + digits;
    }
  }
  return success(Value::text(std::move(text)));
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the tree walk

// Values being evaluated: a function's arguments, run_program's stack. Up to eight inline (more
// than any strict function's arguments, and than the stack of `round(amount * 100)`, two), more
// on the heap.
class ValueStack {
 public:
  // Only `depth` values are made (and destroyed): an evaluation's stack is two or three deep.
  explicit ValueStack(std::size_t depth) : depth_(depth), heap_(depth > kInline ? depth : 0) {
    if (depth_ <= kInline) std::uninitialized_value_construct_n(inline_values(), depth_);
  }
  ~ValueStack() {
    if (depth_ <= kInline) std::destroy_n(inline_values(), depth_);
  }
  ValueStack(const ValueStack&) = delete;
  ValueStack& operator=(const ValueStack&) = delete;
  Value* data() { return depth_ > kInline ? heap_.data() : inline_values(); }

 private:
  static constexpr std::size_t kInline = 8;
  Value* inline_values() { return std::launder(reinterpret_cast<Value*>(inline_.data())); }
  std::size_t depth_;
  alignas(Value) std::array<std::byte, kInline * sizeof(Value)> inline_;
  std::vector<Value> heap_;
};

class Evaluator {
 public:
  explicit Evaluator(const ColumnLookup& lookup) : lookup_(lookup) {}

  EvalResult evaluate(const ExprNode& node) const {
    switch (node.kind) {
      case Kind::literal: return success(literal_value(node));
      case Kind::column: return column(node);
      case Kind::negate:
      case Kind::unary_plus: return sign(node);
      case Kind::binary: return binary(node);
      case Kind::logical_and:
      case Kind::logical_or: return logical(node);
      case Kind::logical_not: return logical_not(node);
      case Kind::is_null: {
        const EvalResult operand = evaluate(*node.arguments[0]);
        if (!operand.ok) return operand;
        return apply_is_null(node, operand.value);
      }
      case Kind::case_when: return case_when(node);
      case Kind::cast: {
        const EvalResult operand = evaluate(*node.arguments[0]);
        if (!operand.ok) return operand;
        return cast_value(operand.value, node.type);
      }
      case Kind::function: return function(node);
    }
    REHEARSE_ASSERT(false);
    return failure("unreachable");
  }

  // What a node computes once its operands are evaluated, for the nodes that evaluate every
  // operand first (strict): shared by the tree walk and the compiled program (Program below).
  static const Value& literal_value(const ExprNode& node) {
    const bool typed = node.quoted_literal && node.result_type != SqlType::unknown && node.result_type != SqlType::dynamic;
    return typed ? node.coerced : node.literal;
  }

  static EvalResult apply_is_null(const ExprNode& node, const Value& operand) {
    return success(Value::boolean(operand.is_null() != node.negated));
  }

  static EvalResult apply_sign(const ExprNode& node, Value operand) {
    if (operand.is_null()) return success(std::move(operand));
    const char* symbol = node.kind == Kind::negate ? "-" : "+";
    if (!is_number(operand) && operand.kind() != Value::Kind::float8) {
      return failure(fmt::format("operator does not exist: {} {}", symbol, type_name(type_of(operand))));
    }
    if (node.kind == Kind::unary_plus) return success(std::move(operand));
    if (operand.kind() == Value::Kind::float8) return success(Value::float8(-operand.as_double()));
    const SqlType type = is_integer_type(node.result_type) ? node.result_type : SqlType::int8;
    return arithmetic(Operator::subtract, Value::integer(0), operand,
                      operand.kind() == Value::Kind::integer ? type : SqlType::numeric);
  }

  static EvalResult apply_binary(const ExprNode& node, Value left_value, Value right_value) {
    if (left_value.is_null() || right_value.is_null()) return success(Value::null());
    const Operator op = node.binary_operator;
    if (op == Operator::concatenate) return concatenate(left_value, right_value);
    // Only a quoted literal is coerced to the other side's type (coerce_dynamic): tested here
    // first, the operands of every other binary node go through as they are.
    if (node.arguments[0]->quoted_literal) {
      EvalResult left = coerce_dynamic(*node.arguments[0], std::move(left_value), right_value);
      if (!left.ok) return left;
      left_value = std::move(left.value);
    }
    if (node.arguments[1]->quoted_literal) {
      EvalResult right = coerce_dynamic(*node.arguments[1], std::move(right_value), left_value);
      if (!right.ok) return right;
      right_value = std::move(right.value);
    }
    if (node.result_type == SqlType::interval) return timestamp_difference(left_value, right_value);
    if (is_arithmetic(op)) return arithmetic(op, left_value, right_value, node.result_type);
    return compare(op, left_value, right_value, node.operand_type);
  }

  // A strict function of its evaluated arguments: NULL when one is NULL.
  static EvalResult apply_function(const ExprNode& node, Arguments arguments) {
    for (const Value& argument : arguments) {
      if (argument.is_null()) return success(Value::null());
    }
    return strict_function(node, arguments);
  }

  // Whether the node evaluates every operand before its own work, and nothing else: the nodes
  // the compiled program runs itself (AND / OR / NOT, CASE and the functions that do not
  // evaluate every argument, or draw from the row, run as a subtree of the tree walk).
  static bool strict(const ExprNode& node) {
    switch (node.kind) {
      case Kind::literal:
      case Kind::column:
      case Kind::negate:
      case Kind::unary_plus:
      case Kind::binary:
      case Kind::is_null:
      case Kind::cast: return true;
      case Kind::function:
        return node.function != Function::coalesce && node.function != Function::greatest && node.function != Function::least &&
               node.function != Function::nullif && node.function != Function::random;
      case Kind::logical_and:
      case Kind::logical_or:
      case Kind::logical_not:
      case Kind::case_when: return false;
    }
    return false;
  }

  // A column's value, or the error that names it.
  EvalResult column(const ExprNode& node) const {
    const Value* value = lookup_(node.name);
    if (value == nullptr) return failure(fmt::format("unknown column '{}'", node.name));
    return success(*value);
  }

 private:
  EvalResult sign(const ExprNode& node) const {
    EvalResult operand = evaluate(*node.arguments[0]);
    if (!operand.ok) return operand;
    return apply_sign(node, std::move(operand.value));
  }

  // A quoted literal met where types are dynamic takes the type of the value it meets.
  static EvalResult coerce_dynamic(const ExprNode& node, Value value, const Value& other) {
    if (!node.quoted_literal || value.is_null() || node.result_type != SqlType::unknown) return success(std::move(value));
    const SqlType target = type_of(other);
    if (!is_concrete(target) || target == SqlType::text) return success(std::move(value));
    return convert(value, target);
  }

  EvalResult binary(const ExprNode& node) const {
    EvalResult left = evaluate(*node.arguments[0]);
    if (!left.ok) return left;
    EvalResult right = evaluate(*node.arguments[1]);
    if (!right.ok) return right;
    return apply_binary(node, std::move(left.value), std::move(right.value));
  }

  // The operand of AND / OR / NOT / WHEN: boolean or NULL.
  EvalResult boolean_operand(const ExprNode& node, std::string_view context) const {
    EvalResult operand = evaluate(node);
    if (!operand.ok) return operand;
    if (node.quoted_literal && operand.value.kind() == Value::Kind::text) {
      operand = convert(operand.value, SqlType::boolean);
      if (!operand.ok) return operand;
    }
    const Value::Kind kind = operand.value.kind();
    if (kind != Value::Kind::boolean && kind != Value::Kind::null) {
      return failure(fmt::format("argument of {} must be type boolean, not type {}", context,
                                 type_name(type_of(operand.value))));
    }
    return operand;
  }

  // Three-valued AND / OR, evaluated left to right and stopping once the result is known.
  EvalResult logical(const ExprNode& node) const {
    const bool is_and = node.kind == Kind::logical_and;
    const char* context = is_and ? "AND" : "OR";
    const Value decisive = Value::boolean(!is_and);  // false decides AND, true decides OR
    const EvalResult left = boolean_operand(*node.arguments[0], context);
    if (!left.ok || left.value == decisive) return left;
    const EvalResult right = boolean_operand(*node.arguments[1], context);
    if (!right.ok || right.value == decisive) return right;
    if (left.value.is_null() || right.value.is_null()) return success(Value::null());
    return success(Value::boolean(is_and));
  }

  EvalResult logical_not(const ExprNode& node) const {
    const EvalResult operand = boolean_operand(*node.arguments[0], "NOT");
    if (!operand.ok || operand.value.is_null()) return operand;
    return success(Value::boolean(!operand.value.as_bool()));
  }

  // Whether a WHEN clause applies; a NULL condition (or comparison with NULL) does not.
  EvalResult when_matches(const ExprNode::WhenClause& clause, const Value* operand) const {
    if (operand == nullptr) return boolean_operand(*clause.condition, "CASE/WHEN");
    EvalResult candidate = evaluate(*clause.condition);
    if (!candidate.ok) return candidate;
    if (operand->is_null() || candidate.value.is_null()) return success(Value::boolean(false));
    candidate = coerce_dynamic(*clause.condition, std::move(candidate.value), *operand);
    if (!candidate.ok) return candidate;
    return compare(Operator::equal, *operand, candidate.value, clause.compare_type);
  }

  EvalResult case_when(const ExprNode& node) const {
    EvalResult operand;
    if (node.case_operand != nullptr) {
      operand = evaluate(*node.case_operand);
      if (!operand.ok) return operand;
    }
    for (const ExprNode::WhenClause& clause : node.when_clauses) {
      const EvalResult matches =
          when_matches(clause, node.case_operand != nullptr ? &operand.value : nullptr);
      if (!matches.ok) return matches;
      if (matches.value == Value::boolean(true)) return promoted(node, evaluate(*clause.result));
    }
    if (node.else_result == nullptr) return success(Value::null());
    return promoted(node, evaluate(*node.else_result));
  }

  // A result converted to the node's static type (integer to numeric or double precision).
  static EvalResult promoted(const ExprNode& node, EvalResult result) {
    if (result.ok) result.value = promote(std::move(result.value), node.result_type);
    return result;
  }

  // random(): PostgreSQL draws a new value per call. The simulation draws it from the row's key
  // (a hash of `id` into [0, 1)), so that the backfill, the application's dual write and the
  // checkers that recompute a column agree on a row, and a run stays reproducible.
  EvalResult random_value() const {
    const Value* id = lookup_("id");
    std::uint64_t x = id != nullptr && id->kind() == Value::Kind::integer ? static_cast<std::uint64_t>(id->as_int()) : 0;
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return success(Value::float8(static_cast<double>(x >> 11) / 9007199254740992.0));
  }

  // strict() decides, for both ways of evaluating, which functions evaluate every argument first.
  EvalResult function(const ExprNode& node) const {
    if (!strict(node)) return lazy_function(node);
    const std::size_t count = node.arguments.size();
    ValueStack slots(count);  // inline: evaluating a derived column in a simulated write allocates nothing
    for (std::size_t i = 0; i < count; ++i) {
      EvalResult value = evaluate(*node.arguments[i]);
      if (!value.ok) return value;
      slots.data()[i] = std::move(value.value);
    }
    return apply_function(node, Arguments(slots.data(), count));
  }

  // The functions that do not evaluate every argument first, or read the row themselves.
  EvalResult lazy_function(const ExprNode& node) const {
    switch (node.function) {
      case Function::coalesce: return coalesce(node);
      case Function::greatest:
      case Function::least: return extreme(node);
      case Function::nullif: return nullif(node);
      case Function::random: return random_value();
      default: break;
    }
    REHEARSE_ASSERT(false);  // strict() lists every function above, and only those
    return failure("unreachable");
  }

  // The first non-NULL argument; later arguments are not evaluated.
  EvalResult coalesce(const ExprNode& node) const {
    for (const NodePointer& argument : node.arguments) {
      EvalResult value = evaluate(*argument);
      if (!value.ok || !value.value.is_null()) return promoted(node, std::move(value));
    }
    return success(Value::null());
  }

  EvalResult nullif(const ExprNode& node) const {
    EvalResult first = evaluate(*node.arguments[0]);
    if (!first.ok) return first;
    EvalResult second = evaluate(*node.arguments[1]);
    if (!second.ok) return second;
    if (first.value.is_null() || second.value.is_null()) return promoted(node, std::move(first));
    second = coerce_dynamic(*node.arguments[1], std::move(second.value), first.value);
    if (!second.ok) return second;
    const EvalResult equal = compare(Operator::equal, first.value, second.value, node.operand_type);
    if (!equal.ok) return equal;
    return equal.value.as_bool() ? success(Value::null()) : promoted(node, std::move(first));
  }

  // greatest / least: the extreme non-NULL argument (NULL when all are NULL), compared as the
  // arguments' common type.
  EvalResult extreme(const ExprNode& node) const {
    const bool greatest = node.function == Function::greatest;
    Value best;
    const Value* first_typed = nullptr;
    std::vector<std::pair<const ExprNode*, Value>> values;
    for (const NodePointer& argument : node.arguments) {
      EvalResult value = evaluate(*argument);
      if (!value.ok) return value;
      if (value.value.is_null()) continue;
      values.emplace_back(argument.get(), promote(std::move(value.value), node.result_type));
    }
    for (const auto& [argument, value] : values) {
      if (!(argument->quoted_literal && argument->result_type == SqlType::unknown)) {
        first_typed = &value;
        break;
      }
    }
    for (auto& [argument, value] : values) {
      EvalResult coerced = first_typed != nullptr ? coerce_dynamic(*argument, value, *first_typed) : success(value);
      if (!coerced.ok) return coerced;
      if (best.is_null()) {
        best = std::move(coerced.value);
        continue;
      }
      const std::optional<int> order = order_values(coerced.value, best, node.operand_type);
      if (!order) {
        return failure(fmt::format("{} types {} and {} cannot be matched", greatest ? "GREATEST" : "LEAST",
                                   type_name(type_of(best)), type_name(type_of(coerced.value))));
      }
      if (greatest ? *order > 0 : *order < 0) best = std::move(coerced.value);
    }
    return success(std::move(best));
  }

  const ColumnLookup& lookup_;
};

// ---------------------------------------------------------------------------------------------
// Evaluation: the compiled program

}  // namespace

// The folded tree compiled once, when the expression loads, into its evaluation order: each
// strict node (Evaluator::strict) one step that takes its operands from the top of a stack of
// values and pushes its result -- in postorder a node's operands are the top of the stack, in
// order -- and each other node one step that runs its subtree with the tree walk (which keeps
// their order of evaluation: AND / OR and CASE stop early, COALESCE evaluates no further).
// Evaluating walks the steps: no recursion, no result copied from level to level. Both ways
// compute with the same functions (Evaluator::apply_*), so they agree by construction.
struct ExprProgram {
  struct Step {
    const ExprNode* node = nullptr;
    bool subtree = false;    // run by the tree walk
    std::size_t column = 0;  // a column step's: its position in Expr::columns()
  };
  NodePointer root;  // owns the nodes the steps point into
  std::vector<Step> steps;
  std::size_t depth = 0;  // the most values on the stack at once
  // The same steps over plain numbers (integers and inline numerics as int64 mantissa and
  // scale), when every step is one fast_step computes in 64 bits (a column, a numeric literal,
  // + - * with a numeric result, round(x), the cast to bigint / integer): `round(amount * 100)`
  // cast to bigint with no Value on a stack. Empty when some step is not. Run first; any operand
  // it cannot take (NULL, a boxed numeric, an overflow of 64 bits) sends the evaluation to
  // `steps`, which compute the same where both can.
  struct Plain {
    enum class Op : std::uint8_t { column, literal, arithmetic, round, to_bigint, to_integer };
    Op op = Op::column;
    Operator arithmetic = Operator::add;
    std::size_t column = 0;     // a column's position in Expr::columns()
    const std::string* name = nullptr;  // and its name (for evaluations without bound columns)
    std::int64_t mantissa = 0;  // a literal's
    int scale = 0;
    bool numeric = false;       // a literal's kind: numeric, else integer
  };
  static constexpr std::size_t kPlainDepth = 8;
  std::vector<Plain> plain;
};

namespace {

// Appends `node`'s steps; `base` values are on the stack below its operands.
void compile_steps(const ExprNode& node, std::size_t base, ExprProgram* program) {
  const bool subtree = !Evaluator::strict(node);
  if (!subtree) {
    for (std::size_t i = 0; i < node.arguments.size(); ++i) compile_steps(*node.arguments[i], base + i, program);
  }
  program->steps.push_back(ExprProgram::Step{&node, subtree});
  program->depth = std::max(program->depth, base + 1);
}

// The step of `step` in the plain-number program, or nullopt when fast_step does not compute
// it in 64 bits (see ExprProgram::plain).
std::optional<ExprProgram::Plain> plain_step(const ExprProgram::Step& step) {
  using Plain = ExprProgram::Plain;
  if (step.subtree) return std::nullopt;
  const ExprNode& node = *step.node;
  Plain plain;
  switch (node.kind) {
    case Kind::column:
      plain.op = Plain::Op::column;
      plain.column = step.column;
      plain.name = &node.name;
      return plain;
    case Kind::literal: {
      const Value& value = Evaluator::literal_value(node);
      if (!value.small_decimal(&plain.mantissa, &plain.scale)) return std::nullopt;
      plain.op = Plain::Op::literal;
      plain.numeric = value.kind() == Value::Kind::numeric;
      return plain;
    }
    case Kind::binary: {
      const Operator op = node.binary_operator;
      if (node.result_type != SqlType::numeric || node.arguments[0]->quoted_literal || node.arguments[1]->quoted_literal ||
          (op != Operator::add && op != Operator::subtract && op != Operator::multiply)) {
        return std::nullopt;
      }
      plain.op = Plain::Op::arithmetic;
      plain.arithmetic = op;
      return plain;
    }
    case Kind::function:
      if (node.function != Function::round || node.arguments.size() != 1) return std::nullopt;
      plain.op = Plain::Op::round;
      return plain;
    case Kind::cast:
      if (node.type.name == TypeName::bigint) plain.op = Plain::Op::to_bigint;
      else if (node.type.name == TypeName::integer) plain.op = Plain::Op::to_integer;
      else return std::nullopt;
      return plain;
    default: return std::nullopt;
  }
}

void compile_plain(ExprProgram* program) {
  if (program->depth > ExprProgram::kPlainDepth) return;
  std::vector<ExprProgram::Plain> plain;
  for (const ExprProgram::Step& step : program->steps) {
    const std::optional<ExprProgram::Plain> compiled = plain_step(step);
    if (!compiled) return;
    plain.push_back(*compiled);
  }
  program->plain = std::move(plain);
}

// `columns`: the expression's, sorted (Expr::columns()); the folded tree reads a subset of them.
std::shared_ptr<const ExprProgram> compile_program(NodePointer root, const std::vector<std::string>& columns) {
  auto program = std::make_shared<ExprProgram>();
  compile_steps(*root, 0, program.get());
  for (ExprProgram::Step& step : program->steps) {
    if (step.subtree || step.node->kind != Kind::column) continue;
    const auto found = std::lower_bound(columns.begin(), columns.end(), step.node->name);
    REHEARSE_ASSERT(found != columns.end());
    REHEARSE_ASSERT(*found == step.node->name);
    step.column = static_cast<std::size_t>(found - columns.begin());
  }
  compile_plain(program.get());
  program->root = std::move(root);
  return program;
}

// A step's result onto the stack; false (with *error set) when it failed.
bool push(EvalResult&& result, Value* slot, EvalResult* error) {
  if (!result.ok) {
    *error = std::move(result);
    return false;
  }
  *slot = std::move(result.value);
  return true;
}

// 10^n for n in [0, 18]: the powers of ten a 64-bit mantissa holds.
constexpr int kSmallPowersOfTen = 18;
constexpr std::array<std::int64_t, kSmallPowersOfTen + 1> kSmallPowers = [] {
  std::array<std::int64_t, kSmallPowersOfTen + 1> powers{};
  powers[0] = 1;
  for (std::size_t n = 1; n < powers.size(); ++n) powers[n] = powers[n - 1] * 10;
  return powers;
}();
std::int64_t small_power_of_ten(int n) {
  REHEARSE_ASSERT(n >= 0);
  REHEARSE_ASSERT(n <= kSmallPowersOfTen);
  return kSmallPowers[static_cast<std::size_t>(n)];
}

// `m` / 10^scale rounded half away from zero to an integer, in 64 bits, as decimal::round(_, 0)
// computes it. REQUIRES: 0 <= scale <= kSmallPowersOfTen.
std::int64_t small_round(std::int64_t m, int scale) {
  if (scale == 0) return m;
  const auto divisor = static_cast<std::uint64_t>(small_power_of_ten(scale));
  const std::uint64_t magnitude = m < 0 ? 0 - static_cast<std::uint64_t>(m) : static_cast<std::uint64_t>(m);
  const std::uint64_t remainder = magnitude % divisor;
  const std::uint64_t quotient = magnitude / divisor + (remainder >= divisor - remainder ? 1 : 0);
  // |m| <= 2^63 and divisor >= 10: the quotient fits an int64 either way.
  return m < 0 ? -static_cast<std::int64_t>(quotient) : static_cast<std::int64_t>(quotient);
}

// x / 10^x_scale op y / 10^y_scale (op: + - *) as *result / 10^*scale when the exact result fits
// 64 bits: the value decimal::add / subtract / multiply give, without 128-bit mantissas. False
// otherwise (the Decimal path decides: an overflow of 64 bits is not an error).
bool small_arithmetic(Operator op, std::int64_t x, int x_scale, std::int64_t y, int y_scale, std::int64_t* result,
                      int* scale) {
  if (op == Operator::multiply) {
    *scale = x_scale + y_scale;
    return *scale <= Decimal::kMaxScale && !__builtin_mul_overflow(x, y, result);
  }
  *scale = std::max(x_scale, y_scale);
  if (*scale - std::min(x_scale, y_scale) > kSmallPowersOfTen) return false;
  if (__builtin_mul_overflow(x, small_power_of_ten(*scale - x_scale), &x)) return false;
  if (__builtin_mul_overflow(y, small_power_of_ten(*scale - y_scale), &y)) return false;
  return !(op == Operator::subtract ? __builtin_sub_overflow(x, y, result) : __builtin_add_overflow(x, y, result));
}
// fast_step's arithmetic when both operands are small decimals (Value::small_decimal) and the
// exact result is one too.
bool small_arithmetic(Operator op, const Value& a, const Value& b, Value* out) {
  std::int64_t x = 0, y = 0;
  int x_scale = 0, y_scale = 0;
  if (!a.small_decimal(&x, &x_scale) || !b.small_decimal(&y, &y_scale)) return false;
  std::int64_t result = 0;
  int scale = 0;
  if (!small_arithmetic(op, x, x_scale, y, y_scale, &result, &scale)) return false;
  *out = Value::small_numeric(result, scale);
  return true;
}

// The steps every backfilled row takes (`round(amount * 100)` cast to bigint, `a + b`, ...)
// computed straight into the stack slot when their operands are plain numbers: the same
// functions the general path calls (decimal::add / multiply / round, to_int64), without its
// layers of EvalResult. False: the general path decides (NULL, NaN, text, quoted literals,
// other types, an overflow to report).
bool fast_step(const ExprNode& node, const Value* operand, Value* out) {
  switch (node.kind) {
    case Kind::binary: {
      if (node.result_type != SqlType::numeric || node.arguments[0]->quoted_literal || node.arguments[1]->quoted_literal) {
        return false;
      }
      const Value& a = operand[0];
      const Value& b = operand[1];
      const Operator op = node.binary_operator;
      if ((op == Operator::add || op == Operator::subtract || op == Operator::multiply) && small_arithmetic(op, a, b, out)) {
        return true;
      }
      if (!is_number(a) || !is_number(b) || a.is_nan() || b.is_nan()) return false;
      std::optional<Decimal> result;
      switch (node.binary_operator) {
        case Operator::add: result = decimal::add(decimal_of(a), decimal_of(b)); break;
        case Operator::subtract: result = decimal::subtract(decimal_of(a), decimal_of(b)); break;
        case Operator::multiply: result = decimal::multiply(decimal_of(a), decimal_of(b)); break;
        default: return false;
      }
      if (!result) return false;
      *out = Value::numeric(*result);
      return true;
    }
    case Kind::function: {
      if (node.function != Function::round || node.arguments.size() != 1) return false;
      const Value& value = operand[0];
      if (value.kind() != Value::Kind::numeric || value.is_nan()) return false;
      std::int64_t mantissa = 0;
      int scale = 0;
      if (value.small_decimal(&mantissa, &scale) && scale <= kSmallPowersOfTen) {
        *out = Value::small_numeric(small_round(mantissa, scale), 0);
        return true;
      }
      const std::optional<Decimal> rounded = decimal::round(value.as_decimal(), 0);
      if (!rounded) return false;
      *out = Value::numeric(*rounded);
      return true;
    }
    case Kind::cast: {
      if (node.type.name != TypeName::bigint && node.type.name != TypeName::integer) return false;
      const Value& value = operand[0];
      std::optional<std::int64_t> integer;
      std::int64_t mantissa = 0;
      int scale = 0;
      if (value.small_decimal(&mantissa, &scale) && scale <= kSmallPowersOfTen) {
        integer = small_round(mantissa, scale);
      } else if (value.kind() == Value::Kind::numeric && !value.is_nan()) {
        integer = decimal::to_int64(value.as_decimal());
      }
      if (!integer) return false;
      if (node.type.name == TypeName::integer && (*integer < kInt4Min || *integer > kInt4Max)) return false;
      *out = Value::integer(*integer);
      return true;
    }
    default: return false;
  }
}

// ExprProgram::plain, its columns read as run_program reads them: true with *out set to what
// `steps` compute, false when an operand or result is not a plain number (the steps then decide).
bool run_plain(const ExprProgram& program, const Value* const* bound, const ColumnLookup& lookup, Value* out) {
  using Plain = ExprProgram::Plain;
  struct Number {
    std::int64_t mantissa;
    int scale;
    bool numeric;  // else an integer
  };
  std::array<Number, ExprProgram::kPlainDepth> stack;
  std::size_t top = 0;
  for (const Plain& step : program.plain) {
    switch (step.op) {
      case Plain::Op::column: {
        const Value* value = bound != nullptr ? bound[step.column] : lookup(*step.name);
        Number& number = stack[top++];
        if (value == nullptr || !value->small_decimal(&number.mantissa, &number.scale)) return false;
        number.numeric = value->kind() == Value::Kind::numeric;
        break;
      }
      case Plain::Op::literal: stack[top++] = Number{step.mantissa, step.scale, step.numeric}; break;
      case Plain::Op::arithmetic: {
        --top;
        Number& a = stack[top - 1];
        const Number& b = stack[top];
        if (!small_arithmetic(step.arithmetic, a.mantissa, a.scale, b.mantissa, b.scale, &a.mantissa, &a.scale)) return false;
        a.numeric = true;
        break;
      }
      case Plain::Op::round: {
        Number& a = stack[top - 1];
        if (!a.numeric || a.scale > kSmallPowersOfTen) return false;
        a.mantissa = small_round(a.mantissa, a.scale);
        a.scale = 0;
        break;
      }
      case Plain::Op::to_bigint:
      case Plain::Op::to_integer: {
        Number& a = stack[top - 1];
        if (a.scale > kSmallPowersOfTen) return false;
        a.mantissa = small_round(a.mantissa, a.scale);
        if (step.op == Plain::Op::to_integer && (a.mantissa < kInt4Min || a.mantissa > kInt4Max)) return false;
        a = Number{a.mantissa, 0, false};
        break;
      }
    }
  }
  REHEARSE_ASSERT(top == 1);
  *out = stack[0].numeric ? Value::small_numeric(stack[0].mantissa, stack[0].scale) : Value::integer(stack[0].mantissa);
  return true;
}

// `bound`: the values of Expr::columns() in order, for the column steps (nullptr: each column is
// found through `lookup`, which the tree walk of a subtree always uses).
EvalResult run_program(const ExprProgram& program, const Value* const* bound, const ColumnLookup& lookup) {
  if (!program.plain.empty()) {
    EvalResult plain;
    if (run_plain(program, bound, lookup, &plain.value)) return plain;
  }
  const Evaluator walk(lookup);
  ValueStack values(program.depth);
  Value* const stack = values.data();
  std::size_t top = 0;
  EvalResult error;
  for (const ExprProgram::Step& step : program.steps) {
    const ExprNode& node = *step.node;
    if (step.subtree) {
      if (!push(walk.evaluate(node), &stack[top++], &error)) return error;
      continue;
    }
    const std::size_t operands = node.arguments.size();
    top -= operands;  // the operands are stack[top], stack[top + 1], ...; the result replaces them
    Value* const operand = stack + top;
    if (operands > 0 && fast_step(node, operand, &stack[top])) {
      ++top;
      continue;
    }
    bool ok = true;
    switch (node.kind) {
      case Kind::literal: stack[top] = Evaluator::literal_value(node); break;
      case Kind::column: {
        const Value* value = bound != nullptr ? bound[step.column] : lookup(node.name);
        if (value == nullptr) return walk.column(node);  // its error
        stack[top] = *value;
        break;
      }
      case Kind::negate:
      case Kind::unary_plus: ok = push(Evaluator::apply_sign(node, std::move(operand[0])), &stack[top], &error); break;
      case Kind::is_null: ok = push(Evaluator::apply_is_null(node, operand[0]), &stack[top], &error); break;
      case Kind::cast: ok = push(cast_value(operand[0], node.type), &stack[top], &error); break;
      case Kind::binary:
        ok = push(Evaluator::apply_binary(node, std::move(operand[0]), std::move(operand[1])), &stack[top], &error);
        break;
      case Kind::function: ok = push(Evaluator::apply_function(node, Arguments(operand, operands)), &stack[top], &error); break;
      case Kind::logical_and:
      case Kind::logical_or:
      case Kind::logical_not:
      case Kind::case_when: REHEARSE_ASSERT(false); break;
    }
    if (!ok) return error;
    ++top;
  }
  REHEARSE_ASSERT(top == 1);
  return success(std::move(stack[0]));
}

// ---------------------------------------------------------------------------------------------
// Constant folding: the planner's eval_const_expressions, run once when the expression loads so
// that what PostgreSQL computes (and fails on) before reading a row fails here too.

struct Folded {
  bool constant = false;
  Value value;        // when constant
  NodePointer node;   // what is evaluated per row: the node with its constant parts computed
};

class Folder {
 public:
  Folder(const std::string& text, ExprParseError* error) : text_(text), error_(error) {}

  // Folds `node` into out->node; false (with *error filled) when a constant part fails.
  bool fold(const NodePointer& node, Folded* out) {
    *out = Folded{};
    out->node = node;
    switch (node->kind) {
      case Kind::literal:
        // The literal itself stays: a quoted one meeting a dynamic type is converted per row.
        out->constant = true;
        out->value = Evaluator(no_columns()).evaluate(*node).value;
        return true;
      case Kind::column: return true;
      case Kind::logical_and:
      case Kind::logical_or: return fold_logical(node, out);
      case Kind::case_when: return fold_case(node, out);
      case Kind::function:
        if (node->function == Function::coalesce) return fold_coalesce(node, out);
        if (node->function == Function::nullif) return fold_nullif(node, out);
        if (node->function == Function::random) return true;  // a value per row, never a constant
        if (node->function == Function::greatest || node->function == Function::least) {
          return fold_generic(node, false, out);
        }
        return fold_generic(node, true, out);
      case Kind::is_null: return fold_generic(node, false, out);
      default: return fold_generic(node, true, out);
    }
  }

 private:
  static const ColumnLookup& no_columns() {
    static const ColumnLookup kNone = [](const std::string&) -> const Value* { return nullptr; };
    return kNone;
  }

  // Casts to and from timestamp and || with a timestamp go through the timestamp type's
  // stable input and output functions, which the planner does not run early.
  static bool immutable(const ExprNode& node) {
    const auto timestamp_argument = [&node] {
      return std::any_of(node.arguments.begin(), node.arguments.end(),
                         [](const NodePointer& argument) { return argument->result_type == SqlType::timestamp; });
    };
    if (node.kind == Kind::cast) {
      const bool to_timestamp = node.type.name == TypeName::timestamp && node.arguments[0]->result_type != SqlType::timestamp;
      const bool from_timestamp = node.arguments[0]->result_type == SqlType::timestamp && type_of(node.type) == SqlType::text;
      return !to_timestamp && !from_timestamp;
    }
    if (node.kind == Kind::binary && node.binary_operator == Operator::concatenate) return !timestamp_argument();
    return true;
  }

  // A constant: the value, and a literal of it to evaluate.
  static bool constant(const ExprNode& original, Value value, Folded* out) {
    std::shared_ptr<ExprNode> literal = std::make_shared<ExprNode>();
    literal->literal = value;
    literal->result_type = original.result_type;
    literal->position = original.position;
    out->constant = true;
    out->value = std::move(value);
    out->node = literal;
    return true;
  }

  // All arguments folded; constant when all are (or, for a strict operation, when one is a
  // constant NULL), computed on the constants.
  bool fold_generic(const NodePointer& node, bool strict, Folded* out) {
    std::shared_ptr<ExprNode> folded = std::make_shared<ExprNode>(*node);
    bool all_constant = true;
    bool null_argument = false;
    for (NodePointer& argument : folded->arguments) {
      Folded result;
      if (!fold(argument, &result)) return false;
      all_constant = all_constant && result.constant;
      null_argument = null_argument || (result.constant && result.value.is_null());
      argument = result.node;
    }
    if (strict && null_argument) return constant(*node, Value::null(), out);
    out->node = folded;
    if (!all_constant || !immutable(*node)) return true;
    const EvalResult result = Evaluator(no_columns()).evaluate(*folded);
    if (!result.ok) return fail(*node, result.error);
    return constant(*node, result.value, out);
  }

  // simplify_and_arguments / simplify_or_arguments: a constant false (true) decides at once;
  // constant true (false) operands drop out.
  bool fold_logical(const NodePointer& node, Folded* out) {
    const bool is_and = node->kind == Kind::logical_and;
    std::shared_ptr<ExprNode> folded = std::make_shared<ExprNode>(*node);
    bool all_constant = true;
    bool any_null = false;
    for (NodePointer& argument : folded->arguments) {
      Folded result;
      if (!fold(argument, &result)) return false;
      argument = result.node;
      if (!result.constant) {
        all_constant = false;
      } else if (result.value.is_null()) {
        any_null = true;
      } else if (result.value.kind() == Value::Kind::boolean && result.value.as_bool() != is_and) {
        return constant(*node, Value::boolean(!is_and), out);
      }
    }
    if (all_constant) return constant(*node, any_null ? Value::null() : Value::boolean(is_and), out);
    out->node = folded;
    return true;
  }

  // COALESCE: constant NULLs drop out, a constant non-NULL ends the list (what follows is
  // never looked at).
  bool fold_coalesce(const NodePointer& node, Folded* out) {
    std::shared_ptr<ExprNode> folded = std::make_shared<ExprNode>(*node);
    folded->arguments.clear();
    for (const NodePointer& argument : node->arguments) {
      Folded result;
      if (!fold(argument, &result)) return false;
      if (result.constant && result.value.is_null()) continue;
      if (result.constant && folded->arguments.empty()) {
        return constant(*node, promote(result.value, node->result_type), out);
      }
      folded->arguments.push_back(result.node);
      if (result.constant) break;  // later arguments are dropped
    }
    if (folded->arguments.empty()) return constant(*node, Value::null(), out);
    out->node = folded;
    return true;
  }

  // NULLIF with a constant NULL argument is its first argument; all constant: computed.
  bool fold_nullif(const NodePointer& node, Folded* out) {
    std::shared_ptr<ExprNode> folded = std::make_shared<ExprNode>(*node);
    bool all_constant = true;
    bool null_argument = false;
    bool first_constant = false;
    for (NodePointer& argument : folded->arguments) {
      Folded result;
      if (!fold(argument, &result)) return false;
      first_constant = &argument == &folded->arguments.front() ? result.constant : first_constant;
      all_constant = all_constant && result.constant;
      null_argument = null_argument || (result.constant && result.value.is_null());
      argument = result.node;
    }
    if (null_argument) {
      std::shared_ptr<ExprNode> null_literal = std::make_shared<ExprNode>();
      null_literal->result_type = folded->arguments[1]->result_type;
      folded->arguments[1] = null_literal;  // NULLIF(a, NULL) is a, and so is NULLIF(NULL, b)
      if (!first_constant) {
        out->node = folded;
        return true;
      }
    } else if (!all_constant) {
      out->node = folded;
      return true;
    }
    const EvalResult result = Evaluator(no_columns()).evaluate(*folded);
    if (!result.ok) return fail(*node, result.error);
    return constant(*node, result.value, out);
  }

  // CASE: arms whose condition folds to false or NULL are dropped unvisited; an arm whose
  // condition folds to true ends the CASE (what follows is never looked at) and becomes its
  // default.
  bool fold_case(const NodePointer& node, Folded* out) {
    std::shared_ptr<ExprNode> folded = std::make_shared<ExprNode>(*node);
    folded->when_clauses.clear();
    Folded operand;
    operand.constant = true;
    if (node->case_operand != nullptr) {
      if (!fold(node->case_operand, &operand)) return false;
      folded->case_operand = operand.node;
    }
    bool default_found = false;
    Folded default_result;
    default_result.constant = true;  // a missing ELSE is NULL
    for (const ExprNode::WhenClause& clause : node->when_clauses) {
      Folded condition;
      if (!fold(clause.condition, &condition)) return false;
      std::optional<bool> taken;
      if (node->case_operand != nullptr && ((operand.constant && operand.value.is_null()) ||
                                            (condition.constant && condition.value.is_null()))) {
        taken = false;  // NULL = x is NULL: CASE NULL WHEN ..., CASE x WHEN NULL never apply
      } else if (condition.constant && operand.constant) {
        if (node->case_operand == nullptr) {
          taken = condition.value.kind() == Value::Kind::boolean && condition.value.as_bool();
        } else if (operand.value.is_null() || condition.value.is_null()) {
          taken = false;
        } else {
          const EvalResult equal = compare(Operator::equal, operand.value, condition.value, clause.compare_type);
          if (!equal.ok) return fail(*clause.condition, equal.error);
          taken = equal.value.as_bool();
        }
      }
      if (taken && !*taken) continue;
      Folded result;
      if (!fold(clause.result, &result)) return false;
      if (taken && *taken) {
        folded->else_result = result.node;
        default_result = result;
        default_found = true;
        break;
      }
      folded->when_clauses.push_back(ExprNode::WhenClause{condition.node, result.node, clause.compare_type});
    }
    if (!default_found && node->else_result != nullptr) {
      if (!fold(node->else_result, &default_result)) return false;
      folded->else_result = default_result.node;
    }
    if (folded->when_clauses.empty() && default_result.constant) {
      return constant(*node, promote(default_result.value, node->result_type), out);
    }
    if (folded->when_clauses.empty()) folded->case_operand = nullptr;  // the default alone remains
    out->node = folded;
    return true;
  }

  bool fail(const ExprNode& node, const std::string& message) {
    error_->position = node.position;
    error_->token = token_at(text_, node.position);
    error_->message = message;
    return false;
  }

  const std::string& text_;
  ExprParseError* error_;
};
// ---------------------------------------------------------------------------------------------
// Rendering as PostgreSQL SQL

using QuoteColumn = std::function<std::string(const std::string&)>;

std::string quote_string(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

// Literals render so that PostgreSQL types them as the parser did: a scale-0 numeric not
// written as bare digits keeps a trailing point ("5." is numeric, "5" is an integer).
std::string render_literal(const ExprNode& node) {
  const Value& value = node.literal;
  std::string text;
  switch (value.kind()) {
    case Value::Kind::null: return "NULL";
    case Value::Kind::boolean: return value.as_bool() ? "TRUE" : "FALSE";
    case Value::Kind::text: return quote_string(value.as_text());
    case Value::Kind::timestamp:
      return "CAST(" + quote_string(value.to_string()) + " AS timestamp)";
    case Value::Kind::float8: return "CAST(" + quote_string(value.to_string()) + " AS double precision)";
    case Value::Kind::integer: text = value.to_string(); break;
    case Value::Kind::numeric:
      text = value.to_string();
      if (value.as_decimal().scale == 0 && !node.digits_literal) text += ".";
      break;
  }
  return text[0] == '-' ? "(" + text + ")" : text;
}

std::string render_type(const TypeSpec& type) {
  switch (type.name) {
    case TypeName::bigint: return "bigint";
    case TypeName::integer: return "integer";
    case TypeName::numeric:
      if (type.precision == 0) return "numeric";
      return fmt::format("numeric({},{})", type.precision, type.scale);
    case TypeName::text: return "text";
    case TypeName::varchar:
      return type.precision == 0 ? "varchar" : fmt::format("varchar({})", type.precision);
    case TypeName::boolean: return "boolean";
    case TypeName::timestamp: return "timestamp";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

std::string render(const ExprNode& node, const QuoteColumn& quote_column);

std::string render_case(const ExprNode& node, const QuoteColumn& quote_column) {
  std::string sql = "CASE";
  if (node.case_operand != nullptr) sql += " " + render(*node.case_operand, quote_column);
  for (const ExprNode::WhenClause& clause : node.when_clauses) {
    sql += " WHEN " + render(*clause.condition, quote_column) + " THEN " +
           render(*clause.result, quote_column);
  }
  if (node.else_result != nullptr) sql += " ELSE " + render(*node.else_result, quote_column);
  return sql + " END";
}

std::string render(const ExprNode& node, const QuoteColumn& quote_column) {
  const auto argument = [&](std::size_t i) { return render(*node.arguments[i], quote_column); };
  switch (node.kind) {
    case Kind::literal: return render_literal(node);
    case Kind::column: return quote_column(node.name);
    case Kind::negate:
    case Kind::unary_plus: {
      const std::string operand = argument(0);
      const char* symbol = node.kind == Kind::negate ? "-" : "+";
      // A space keeps "- -x" from reading as a comment.
      return fmt::format("({}{}{})", symbol, operand[0] == '-' || operand[0] == '+' ? " " : "",
                         operand);
    }
    case Kind::binary:
      return fmt::format("({} {} {})", argument(0), symbol_of(node.binary_operator), argument(1));
    case Kind::logical_and: return fmt::format("({} AND {})", argument(0), argument(1));
    case Kind::logical_or: return fmt::format("({} OR {})", argument(0), argument(1));
    case Kind::logical_not: return fmt::format("(NOT {})", argument(0));
    case Kind::is_null:
      return fmt::format("({} IS {}NULL)", argument(0), node.negated ? "NOT " : "");
    case Kind::case_when: return render_case(node, quote_column);
    case Kind::cast: return fmt::format("CAST({} AS {})", argument(0), render_type(node.type));
    case Kind::function: {
      if (node.function == Function::like) return fmt::format("({} {}{} {})", argument(0), node.negated ? "NOT " : "", node.name, argument(1));
      std::string sql = node.name + "(";
      for (std::size_t i = 0; i < node.arguments.size(); ++i) {
        sql += (i == 0 ? "" : ", ") + argument(i);
      }
      return sql + ")";
    }
  }
  REHEARSE_ASSERT(false);
  return "";
}

void collect_columns(const ExprNode& node, std::set<std::string>* columns) {
  if (node.kind == Kind::column) columns->insert(node.name);
  const auto visit = [columns](const NodePointer& child) {
    if (child != nullptr) collect_columns(*child, columns);
  };
  for (const NodePointer& argument : node.arguments) visit(argument);
  visit(node.case_operand);
  for (const ExprNode::WhenClause& clause : node.when_clauses) {
    visit(clause.condition);
    visit(clause.result);
  }
  visit(node.else_result);
}

}  // namespace

// The one place that builds and opens Expr objects (a friend of Expr).
struct ExprAccess {
  static Expr make(NodePointer root, NodePointer folded, std::string text) {
    REHEARSE_ASSERT(root != nullptr);
    REHEARSE_ASSERT(folded != nullptr);
    std::set<std::string> columns;
    collect_columns(*root, &columns);
    Expr expr;
    expr.root_ = std::move(root);
    expr.columns_.assign(columns.begin(), columns.end());
    expr.program_ = compile_program(std::move(folded), expr.columns_);
    expr.text_ = std::move(text);
    return expr;
  }

  static const ExprNode& root(const Expr& expr) {
    REHEARSE_ASSERT(!expr.empty());
    return *expr.root_;
  }

  static EvalResult run(const Expr& expr, const Value* const* bound, const ColumnLookup& lookup) {
    REHEARSE_ASSERT(!expr.empty());
    return run_program(*expr.program_, bound, lookup);
  }
};

namespace {

// Parses, types (with `columns`, or dynamically when nullptr) and folds `text`.
std::optional<Expr> load_expression(const std::string& text, const ColumnTypes* columns, ExprParseError* error,
                                    bool conditions = false) {
  REHEARSE_ASSERT(error != nullptr);
  *error = ExprParseError{};
  const NodePointer syntax = parse_syntax(text, error, conditions);
  if (syntax == nullptr) return std::nullopt;
  NodePointer typed = Typer(text, columns, error).type(*syntax);
  if (typed == nullptr) return std::nullopt;
  Folded folded;
  if (!Folder(text, error).fold(typed, &folded)) return std::nullopt;
  return ExprAccess::make(std::move(typed), std::move(folded.node), text);
}

}  // namespace

std::optional<Expr> parse_expression(const std::string& text, ExprParseError* error) {
  return load_expression(text, nullptr, error);
}

std::optional<Expr> parse_expression(const std::string& text, const ColumnTypes& columns, ExprParseError* error) {
  return load_expression(text, &columns, error);
}

std::optional<Expr> parse_condition(const std::string& text, const ColumnTypes* columns, ExprParseError* error) {
  return load_expression(text, columns, error, true);
}

EvalResult evaluate(const Expr& expr, const ColumnLookup& lookup) {
  REHEARSE_ASSERT(lookup != nullptr);
  return ExprAccess::run(expr, nullptr, lookup);
}

EvalResult evaluate(const Expr& expr, const Value* const* columns, const ColumnLookup& lookup) {
  REHEARSE_ASSERT(columns != nullptr || expr.columns().empty());
  REHEARSE_ASSERT(lookup != nullptr);
  static const Value* const kNoColumns[1] = {nullptr};
  return ExprAccess::run(expr, columns != nullptr ? columns : kNoColumns, lookup);
}

std::string to_sql(const Expr& expr,
                   const std::function<std::string(const std::string&)>& quote_column) {
  REHEARSE_ASSERT(quote_column != nullptr);
  return render(ExprAccess::root(expr), quote_column);
}

}  // namespace rehearse
