// The syntax tree of the expression language, shared by its three stages (internal to core/):
// core/expr_parse.cc builds it from PostgreSQL's own parse tree (libpg_query),
// core/expr.cc types it as PostgreSQL's parse analysis does, folds its constants as the
// planner does, evaluates it and renders it back to SQL. Callers use core/expr.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expr.h"
#include "core/value.h"

namespace rehearse {

// The static types of PostgreSQL the language computes with. `unknown` is PostgreSQL's type of
// a quoted literal or NULL before it meets a typed value; `dynamic` is a column whose type the
// caller did not give (parse_expression without column types): such nodes are typed by the
// values they meet at evaluation, the way the language worked before issue 13.
// `interval` is only the result of timestamp - timestamp: it may be printed, cast to text,
// concatenated, tested for NULL and passed through CASE / COALESCE; its value is held as the
// text PostgreSQL prints.
enum class SqlType : std::uint8_t {
  dynamic, unknown, boolean, int4, int8, numeric, float8, text, timestamp, interval
};

struct ExprNode {
  enum class Kind : std::uint8_t {
    literal, column, negate, unary_plus, binary, logical_and, logical_or, logical_not, is_null,
    case_when, cast, function
  };
  enum class Operator : std::uint8_t {
    add, subtract, multiply, divide, modulo, concatenate,
    equal, not_equal, less, less_equal, greater, greater_equal
  };
  enum class Function : std::uint8_t {
    lower, upper, trim, length, substr, coalesce, nullif, abs, round, floor, ceil, greatest, least, lpad, rpad, random,
    like  // a WHERE's [NOT] LIKE / ILIKE (parse_condition only): name "LIKE" or "ILIKE", `negated` for NOT
  };
  enum class TypeName : std::uint8_t {
    bigint, integer, numeric, text, varchar, boolean, timestamp
  };
  struct TypeSpec {
    TypeName name = TypeName::text;
    int precision = 0;  // numeric(p, s) and varchar(n); 0 = written without a modifier
    int scale = 0;
  };
  struct WhenClause {
    std::shared_ptr<const ExprNode> condition;  // simple CASE: the value compared with
    std::shared_ptr<const ExprNode> result;
    SqlType compare_type = SqlType::dynamic;     // simple CASE: how operand and value compare
  };

  Kind kind = Kind::literal;
  Value literal;                  // literal
  bool quoted_literal = false;    // literal: a 'string' or NULL (PostgreSQL's type "unknown")
  bool digits_literal = false;    // literal: written as bare digits, so an integer if it fits
  std::string name;               // column: its name; function: its name as written, lower case
  Operator binary_operator = Operator::add;
  Function function = Function::lower;
  bool negated = false;           // is_null: IS NOT NULL; like: NOT LIKE
  TypeSpec type;                  // cast
  std::vector<std::shared_ptr<const ExprNode>> arguments;  // operands, function arguments
  std::shared_ptr<const ExprNode> case_operand;  // case_when: the x of CASE x WHEN; may be null
  std::vector<WhenClause> when_clauses;
  std::shared_ptr<const ExprNode> else_result;   // case_when: may be null
  int height = 1;                 // levels of the subtree
  int position = 1;               // 1-based character position in the text (load errors)

  // Set by typing (core/expr.cc): the node's result type, and for comparisons, NULLIF, simple
  // CASE, GREATEST and LEAST the type both sides are compared as.
  SqlType result_type = SqlType::dynamic;
  SqlType operand_type = SqlType::dynamic;
  // A quoted literal or NULL once typed: its value converted to result_type (PostgreSQL
  // converts such a literal when it types it, so a bad one is a load error).
  Value coerced;
};

using ExprNodePointer = std::shared_ptr<const ExprNode>;

// Bounds: the evaluator and renderer recurse once per level, the evaluator on a simulated node's
// fiber stack (256 KB in sim/kernel.cc); real migration expressions are far shallower.
constexpr int kExpressionHeightMax = 32;  // levels of the syntax tree
constexpr std::size_t kArgumentsMax = 100;

// The untyped tree of `text` from PostgreSQL's parser, or nullptr with *error filled: a syntax
// error where PostgreSQL reports it, or a construct outside the language, named, at its
// position. Every node's height is set; types are not (core/expr.cc does that).
// `conditions`: a SQL file's WHERE (parse_condition), which also reads [NOT] BETWEEN and
// [NOT] IN (list) as the comparisons PostgreSQL defines them by.
ExprNodePointer parse_syntax(const std::string& text, ExprParseError* error, bool conditions = false);

// The height of a node from its children's.
int compute_height(const ExprNode& node);

// The word, number or symbol of `text` at a 1-based character position ("" past the end), for
// the token of an error.
std::string token_at(const std::string& text, int position);

}  // namespace rehearse
