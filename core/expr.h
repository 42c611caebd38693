// The expression language of migrations (`up` / `down`): a small deterministic subset of SQL
// value expressions (scenario-format.md, "Expressions"; docs/expressions.md). Parsed once when a
// scenario loads, with PostgreSQL's own parser (libpg_query), typed as PostgreSQL types it,
// evaluated by the simulated databases and compiled to SQL for live PostgreSQL.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/callback.h"
#include "core/value.h"

namespace rehearse {

struct ExprNode;     // defined in expr.cc
struct ExprProgram;  // the folded tree in evaluation order, defined in expr.cc

class Expr {
 public:
  Expr() = default;
  bool empty() const { return root_ == nullptr; }
  // The column names the expression reads, sorted, without duplicates.
  const std::vector<std::string>& columns() const { return columns_; }
  const std::string& text() const { return text_; }

 private:
  friend struct ExprAccess;
  std::shared_ptr<const ExprNode> root_;    // as written (typed): what to_sql() renders
  // The tree with its constants computed, compiled into its evaluation order (it owns that tree).
  std::shared_ptr<const ExprProgram> program_;
  std::vector<std::string> columns_;
  std::string text_;
};

// Why an expression does not load: a syntax error (PostgreSQL's message and position), a
// construct outside the language, a type error, or a constant part that fails (as PostgreSQL's
// planner computes constants before reading a row: `CASE WHEN x THEN 1 / 0 END`).
struct ExprParseError {
  int position = 0;   // 1-based character offset of the offending token in the text
  std::string token;  // the offending token ("" at end of input)
  std::string message;
};

// The types of the columns an expression may read.
using ColumnTypes = std::map<std::string, ColumnType>;

// Parses, types and folds `text` with the columns' types, as PostgreSQL would in
// `UPDATE t SET c = <text>`. On success returns the expression; on failure fills *error and
// returns std::nullopt. Anything outside the spec's subset (unknown function, subquery, ...),
// a column not in `columns`, or a type error is an error.
std::optional<Expr> parse_expression(const std::string& text, const ColumnTypes& columns, ExprParseError* error);

// The same without column types: columns are typed by the values they hold when evaluated
// (integers as bigint), which is how PostgreSQL would see them only when every column is of
// the type its values suggest. For checking syntax, and for callers that know no types.
std::optional<Expr> parse_expression(const std::string& text, ExprParseError* error);

// A SQL file's UPDATE / DELETE condition (its WHERE) or SET value, as parse_expression reads an
// expression (typed with `columns`, or dynamically when nullptr) and also [NOT] BETWEEN, [NOT]
// IN (list) and `op ANY / SOME / ALL (ARRAY[...])`, read as the comparisons PostgreSQL defines
// them by, [NOT] LIKE / ILIKE, and a cast
// to a user type (an enum) or to uuid / json / jsonb / citext, read as text (the simulator holds
// those as text). Not part of the scenario expression language (scenario-format.md): a
// migration's up / down rejects them.
std::optional<Expr> parse_condition(const std::string& text, const ColumnTypes* columns, ExprParseError* error);

// pgroll writes an expression as a query without FROM (`SELECT CASE ... END`), which is the
// expression itself: `text` without its leading SELECT keyword (a FROM or anything else after it
// stays a parse error). The parsers read every text through it.
std::string without_select(const std::string& text);

// Looks up a column by name; returns nullptr when the row has no such column. A Callback, not a
// std::function: the lookups of a simulated write capture a few references, held inline.
using ColumnLookup = Callback<const Value*(const std::string& column)>;

struct EvalResult {
  bool ok = true;
  Value value;
  std::string error;  // when !ok: division by zero, bad cast, unknown column, ...
};

// Evaluates with SQL semantics (NULL propagation, three-valued logic, exact decimals).
EvalResult evaluate(const Expr& expr, const ColumnLookup& lookup);
// The same with the columns found beforehand: `columns[i]` is the value of expr.columns()[i]
// (nullptr when the row has none), what a scan binds once and fills row by row. `lookup` must
// answer the same for those names: the parts evaluated by walking the tree (CASE, AND / OR,
// random()'s `id`) still find their columns through it.
EvalResult evaluate(const Expr& expr, const Value* const* columns, const ColumnLookup& lookup);

// The `columns` of that form for one row: `size` pointers, up to eight held inline (more columns
// than any expression a scan evaluates), so binding a row allocates nothing.
class BoundColumns {
 public:
  explicit BoundColumns(std::size_t size) : size_(size), heap_(size > kInline ? size : 0) {}
  const Value** data() { return size_ > kInline ? heap_.data() : inline_.data(); }

 private:
  static constexpr std::size_t kInline = 8;
  std::size_t size_;
  std::array<const Value*, kInline> inline_{};
  std::vector<const Value*> heap_;
};

// The expression as PostgreSQL SQL, with every column reference passed through
// `quote_column` (so callers can qualify or quote identifiers).
std::string to_sql(const Expr& expr, const std::function<std::string(const std::string&)>& quote_column);

}  // namespace rehearse
