// libFuzzer target: an expression of a migration's `up` / `down` (core/expr.h). Parsed; when it
// parses, rendered as SQL (to_sql, as live mode sends it to PostgreSQL and as the plan rewrites
// `down`), the SQL parsed again and rendered again, and both expressions evaluated on one row.
// Properties: no crash, hang, leak or sanitizer report; a parse error points inside the text;
// the rendered SQL parses; rendering is stable (render(parse(render(e))) == render(e)); the
// original and the re-parsed expression evaluate to the same value or both fail.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/expr.h"
#include "fuzz/fuzz_check.h"

namespace {

using rehearse::Decimal;
using rehearse::Value;

std::string quote(const std::string& column) {
  std::string quoted = "\"";
  for (const char c : column) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// The row: every column the expression reads gets a value of a kind chosen by its name, so that
// inputs can reach every kind (and NULL) through their column names.
Value value_of(const std::string& column) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const char c : column) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  switch (hash % 7) {
    case 0: return Value::null();
    case 1: return Value::boolean(hash % 2 == 0);
    case 2: return Value::integer(static_cast<std::int64_t>(hash >> 40) - (1LL << 23));
    case 3: return Value::numeric(Decimal{static_cast<rehearse::Int128>(hash % 100000) - 50000, 2});
    case 4: return Value::text(column);
    case 5: return Value::timestamp(static_cast<std::int64_t>(hash % 4'000'000'000ULL) * 1'000'000);
    default: return Value::integer(0);
  }
}

rehearse::EvalResult evaluate_on_row(const rehearse::Expr& expr) {
  std::map<std::string, Value> row;
  for (const std::string& column : expr.columns()) row.emplace(column, value_of(column));
  return rehearse::evaluate(expr, [&row](const std::string& column) -> const Value* {
    const auto found = row.find(column);
    return found == row.end() ? nullptr : &found->second;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  rehearse::ExprParseError error;
  const std::optional<rehearse::Expr> expr = rehearse::parse_expression(text, &error);
  if (!expr) {
    rehearse::fuzz::check(!error.message.empty(), "a parse error has a message");
    rehearse::fuzz::check(error.position >= 1 && static_cast<std::size_t>(error.position) <= text.size() + 1,
                          "a parse error points inside the text", error.message);
    return 0;
  }
  const std::string sql = rehearse::to_sql(*expr, quote);
  rehearse::ExprParseError reparse_error;
  const std::optional<rehearse::Expr> reparsed = rehearse::parse_expression(sql, &reparse_error);
  rehearse::fuzz::check(reparsed.has_value(), "the SQL rendering of an expression parses",
                        text + "\n  renders as\n" + sql + "\n  rejected: " + reparse_error.message);
  const std::string sql_again = rehearse::to_sql(*reparsed, quote);
  rehearse::fuzz::check(sql_again == sql, "rendering is stable", sql + "\n  renders again as\n" + sql_again);
  const rehearse::EvalResult first = evaluate_on_row(*expr);
  const rehearse::EvalResult second = evaluate_on_row(*reparsed);
  rehearse::fuzz::check(first.ok == second.ok && (!first.ok || first.value == second.value),
                        "the rendered SQL evaluates as the expression",
                        text + "\n  = " + (first.ok ? first.value.to_string() : "error: " + first.error) + "\n" + sql +
                            "\n  = " + (second.ok ? second.value.to_string() : "error: " + second.error));
  return 0;
}
