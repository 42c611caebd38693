// The front end of the expression language (core/expr_node.h): PostgreSQL's own parser
// (libpg_query, the PostgreSQL 15 grammar) reads `SELECT <text>`, and its parse tree (JSON) is
// converted into the language's syntax tree. Syntax errors, and their positions, are therefore
// PostgreSQL's: its cursor position is mapped back to a 1-based character position in the
// expression text, with the token it names. A construct PostgreSQL parses but the language
// leaves out (a subquery, LIKE, IN, a qualified column, an unknown function, ...) is an error
// naming the construct at its position.
//
// What the parse tree already does as PostgreSQL does, and the hand-written parser had to copy:
// identifiers folded to lower case unless quoted, keywords, operator lexing ("a ++ b" is
// a + (+b)), a minus folded into the number it precedes (-2147483648 is an integer), comments,
// E'...' and dollar-quoted strings, precedence and the non-associative comparisons.
#include <pg_query.h>

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "core/expr_node.h"
#include "core/utf8.h"

namespace rehearse {

namespace {

using Json = nlohmann::json;
using Kind = ExprNode::Kind;
using Operator = ExprNode::Operator;
using Function = ExprNode::Function;
using TypeName = ExprNode::TypeName;

constexpr std::string_view kStatementPrefix = "SELECT ";
constexpr int kNumericPrecisionMax = 1000;  // PostgreSQL's NUMERIC_MAX_PRECISION
constexpr int kVarcharLengthMax = 10485760;
constexpr std::size_t kTextLengthMax = 1 << 20;  // bytes of one expression
constexpr std::int64_t kInt4Magnitude = 2147483648;  // |INT32_MIN|

struct FunctionSpec {
  std::string_view name;
  Function function;
  std::size_t arguments_min;
  std::size_t arguments_max;
};

const FunctionSpec* find_function(std::string_view name) {
  static constexpr FunctionSpec kFunctions[] = {
      {"lower", Function::lower, 1, 1},   {"upper", Function::upper, 1, 1},
      {"btrim", Function::trim, 1, 1},    {"length", Function::length, 1, 1},
      {"substr", Function::substr, 2, 3}, {"abs", Function::abs, 1, 1},
      {"round", Function::round, 1, 2},   {"floor", Function::floor, 1, 1},
      {"ceil", Function::ceil, 1, 1},     {"ceiling", Function::ceil, 1, 1},
      {"lpad", Function::lpad, 2, 3},     {"rpad", Function::rpad, 2, 3},
      {"random", Function::random, 0, 0},
  };
  for (const FunctionSpec& spec : kFunctions) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// The binary operators the language reads, by PostgreSQL's operator name.
std::optional<Operator> find_operator(std::string_view symbol) {
  static constexpr std::pair<std::string_view, Operator> kOperators[] = {
      {"+", Operator::add},           {"-", Operator::subtract},
      {"*", Operator::multiply},      {"/", Operator::divide},
      {"%", Operator::modulo},        {"||", Operator::concatenate},
      {"=", Operator::equal},         {"<>", Operator::not_equal},
      {"<", Operator::less},          {"<=", Operator::less_equal},
      {">", Operator::greater},       {">=", Operator::greater_equal},
  };
  for (const auto& [name, op] : kOperators) {
    if (name == symbol) return op;
  }
  return std::nullopt;
}

bool is_comparison(Operator op) { return op >= Operator::equal; }

std::string describe_arity(std::size_t minimum, std::size_t maximum) {
  if (maximum == minimum) return fmt::format("{}", minimum);
  if (maximum == 0) return fmt::format("at least {}", minimum);
  return fmt::format("{} or {}", minimum, maximum);
}

// What PostgreSQL's parse-tree node types the language leaves out are, for error messages.
std::string_view construct_name(std::string_view node_type) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"SubLink", "a subquery"},
      {"ParamRef", "a parameter ($n)"},
      {"A_Indirection", "a subscript or field selection"},
      {"A_Indices", "a subscript"},
      {"CollateClause", "COLLATE"},
      {"BooleanTest", "IS TRUE / IS FALSE / IS UNKNOWN"},
      {"SQLValueFunction", "a SQL value function (CURRENT_DATE, CURRENT_USER, ...)"},
      {"A_ArrayExpr", "ARRAY[...]"},
      {"RowExpr", "ROW(...)"},
      {"XmlExpr", "an XML expression"},
      {"XmlSerialize", "XMLSERIALIZE"},
      {"GroupingFunc", "GROUPING"},
      {"SetToDefault", "DEFAULT"},
      {"MultiAssignRef", "a multiple assignment"},
      {"A_Star", "*"},
  };
  for (const auto& [type, name] : kNames) {
    if (type == node_type) return name;
  }
  return node_type;
}

std::string_view a_expr_construct(std::string_view kind) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"AEXPR_OP_ANY", "ANY / SOME (...)"},   {"AEXPR_OP_ALL", "ALL (...)"},
      {"AEXPR_DISTINCT", "IS DISTINCT FROM"}, {"AEXPR_NOT_DISTINCT", "IS NOT DISTINCT FROM"},
      {"AEXPR_IN", "IN (...)"},               {"AEXPR_LIKE", "LIKE"},
      {"AEXPR_ILIKE", "ILIKE"},               {"AEXPR_SIMILAR", "SIMILAR TO"},
      {"AEXPR_BETWEEN", "BETWEEN"},           {"AEXPR_NOT_BETWEEN", "NOT BETWEEN"},
      {"AEXPR_BETWEEN_SYM", "BETWEEN SYMMETRIC"},
      {"AEXPR_NOT_BETWEEN_SYM", "NOT BETWEEN SYMMETRIC"},
  };
  for (const auto& [type, name] : kNames) {
    if (type == kind) return name;
  }
  return kind;
}

// The members of a node object the conversion reads; anything else present is a construct
// the language leaves out (JSON omits fields at their defaults).
bool only_members(const Json& object, std::initializer_list<std::string_view> allowed,
                  std::string* extra) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      *extra = key;
      return false;
    }
  }
  return true;
}

class Converter {
 public:
  Converter(const std::string& text, ExprParseError* error, bool conditions) : text_(text), error_(error), conditions_(conditions) {
    // character_positions_[byte offset] = 1-based character (UTF-8 code point) position.
    int position = 0;
    for (const char c : text_) {
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++position;
      character_positions_.push_back(std::max(position, 1));
    }
    character_positions_.push_back(position + 1);
  }

  // The one expression of the statement; nullptr (with *error filled) otherwise.
  ExprNodePointer statement(const Json& tree) {
    const Json& statements = tree.value("stmts", Json::array());
    if (statements.size() != 1) {
      return fail_at_end("one expression is expected, not several statements");
    }
    const Json& raw = statements[0].value("stmt", Json::object());
    if (!raw.contains("SelectStmt")) return fail_at_end("one expression is expected");
    const Json& select = raw["SelectStmt"];
    std::string extra;
    if (!only_members(select, {"targetList", "limitOption", "op"}, &extra) ||
        select.value("op", "SETOP_NONE") != "SETOP_NONE") {
      return fail_at_end(fmt::format("one expression is expected (the text adds {} to it)",
                                     extra.empty() ? "a set operation" : extra));
    }
    const Json& targets = select.value("targetList", Json::array());
    if (targets.empty()) return fail(1, "", "empty expression");
    if (targets.size() != 1) {
      const Json& second = targets[1].value("ResTarget", Json::object());
      return fail(position_of(second), token_at(position_of(second)),
                  "one expression is expected, not a list");
    }
    const Json& target = targets[0].value("ResTarget", Json::object());
    if (target.contains("name") || target.contains("indirection")) {
      // PostgreSQL reads `a AND` as `a AS "and"`: point at the alias, its last occurrence.
      const std::string alias = target.value("name", "");
      std::string folded = text_;
      for (char& c : folded) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      const std::size_t found = alias.empty() ? std::string::npos : folded.rfind(alias);
      const int position = found == std::string::npos ? 1 : character_positions_[found];
      return fail(position, token_at(position),
                  fmt::format("an alias (AS {}) is not part of the expression", alias.empty() ? "..." : alias));
    }
    return node(target.value("val", Json::object()), 0);
  }

 private:
  ExprNodePointer node(const Json& wrapper, int depth) {
    if (depth > kExpressionHeightMax) {
      return fail(1, "", fmt::format("expression nested too deeply (more than {} levels)",
                                     kExpressionHeightMax));
    }
    if (!wrapper.is_object() || wrapper.size() != 1) return fail(1, "", "empty expression");
    const std::string& type = wrapper.begin().key();
    const Json& body = wrapper.begin().value();
    ExprNodePointer result;
    if (type == "A_Const") result = constant(body);
    else if (type == "ColumnRef") result = column(body);
    else if (type == "A_Expr") result = a_expr(body, depth);
    else if (type == "BoolExpr") result = bool_expr(body, depth);
    else if (type == "NullTest") result = null_test(body, depth);
    else if (type == "CaseExpr") result = case_expr(body, depth);
    else if (type == "TypeCast") result = type_cast(body, depth);
    else if (type == "FuncCall") result = func_call(body, depth);
    else if (type == "CoalesceExpr") result = variadic(body, depth, Function::coalesce, "coalesce");
    else if (type == "MinMaxExpr") {
      const bool greatest = body.value("op", "IS_GREATEST") == "IS_GREATEST";
      result = variadic(body, depth, greatest ? Function::greatest : Function::least,
                        greatest ? "greatest" : "least");
    } else {
      const int position = position_of(body);
      return fail(position, token_at(position),
                  fmt::format("{} is not part of the expression language", construct_name(type)));
    }
    return result;
  }

  // A finished node: its height, bounded.
  ExprNodePointer build(const std::shared_ptr<ExprNode>& made) {
    made->height = compute_height(*made);
    if (made->height > kExpressionHeightMax) {
      return fail(made->position, token_at(made->position),
                  fmt::format("expression nested too deeply (more than {} levels)",
                              kExpressionHeightMax));
    }
    return made;
  }

  std::shared_ptr<ExprNode> make(Kind kind, const Json& body) {
    const std::shared_ptr<ExprNode> made = std::make_shared<ExprNode>();
    made->kind = kind;
    made->position = position_of(body);
    return made;
  }

  ExprNodePointer constant(const Json& body) {
    const std::shared_ptr<ExprNode> made = make(Kind::literal, body);
    if (body.value("isnull", false)) {
      made->quoted_literal = true;  // NULL has PostgreSQL's type "unknown" as a string does
      return build(made);
    }
    if (body.contains("ival")) {
      made->digits_literal = true;
      made->literal = Value::integer(integer_constant(body));
      return build(made);
    }
    if (body.contains("fval")) return number(made, body["fval"].value("fval", ""));
    if (body.contains("sval")) {
      made->literal = Value::text(body["sval"].value("sval", ""));
      made->quoted_literal = true;
      return build(made);
    }
    if (body.contains("boolval")) {
      made->literal = Value::boolean(body["boolval"].value("boolval", false));
      return build(made);
    }
    return fail(made->position, token_at(made->position),
                "bit-string literals (B'...', X'...') are not part of the expression language");
  }

  // The value of an integer constant. libpg_query 15-4.0 writes only positive values into its
  // JSON (0 and negative ones alike come out empty), so those are read back from the text at
  // the constant's location: PostgreSQL folded the minus signs before it (doNegate) and puts
  // the location on the first of them; each one, with parentheses and spaces between, negates.
  std::int64_t integer_constant(const Json& body) const {
    const int written = body.value("ival", Json::object()).value("ival", 0);
    if (written != 0) return written;
    const std::int64_t location = body.value("location", -1) - static_cast<std::int64_t>(kStatementPrefix.size());
    if (location < 0) return 0;
    std::size_t index = static_cast<std::size_t>(location);
    bool negative = false;
    while (index < text_.size()) {
      const char c = text_[index];
      if (c == '-' && index + 1 < text_.size() && text_[index + 1] == '-') {  // a comment
        while (index < text_.size() && text_[index] != '\n') ++index;
      } else if (c == '/' && index + 1 < text_.size() && text_[index + 1] == '*') {
        const std::size_t end = text_.find("*/", index + 2);
        index = end == std::string::npos ? text_.size() : end + 2;
      } else if (c == '-') {
        negative = !negative;
        ++index;
      } else if (c == '(' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++index;
      } else {
        break;
      }
    }
    std::int64_t magnitude = 0;
    while (index < text_.size() && text_[index] >= '0' && text_[index] <= '9') {
      magnitude = magnitude * 10 + (text_[index] - '0');
      if (magnitude > kInt4Magnitude) return 0;  // not an int4 constant: a broken assumption
      ++index;
    }
    return negative ? -magnitude : magnitude;
  }

  // A number PostgreSQL's lexer did not make an int4: digits that may fit int8, or a decimal.
  ExprNodePointer number(const std::shared_ptr<ExprNode>& made, const std::string& digits) {
    const bool integral = digits.find_first_not_of("-0123456789") == std::string::npos;
    if (integral) {
      made->digits_literal = true;
      std::int64_t integer = 0;
      bool fits = !digits.empty();
      const bool negative = digits[0] == '-';
      for (std::size_t i = negative ? 1 : 0; i < digits.size(); ++i) {
        const int digit = digits[i] - '0';
        fits = fits && !__builtin_mul_overflow(integer, 10, &integer) &&
               !__builtin_add_overflow(integer, negative ? -digit : digit, &integer);
      }
      if (fits) {
        made->literal = Value::integer(integer);
        return build(made);
      }
    }
    const std::optional<Decimal> decimal = decimal::parse(digits);
    if (!decimal) {
      return fail(made->position, token_at(made->position),
                  fmt::format("numeric literal {} does not fit (at most 38 significant digits "
                              "and {} decimal places)",
                              digits, Decimal::kMaxScale));
    }
    made->literal = Value::numeric(*decimal);
    return build(made);
  }

  ExprNodePointer column(const Json& body) {
    const std::shared_ptr<ExprNode> made = make(Kind::column, body);
    const Json& fields = body.value("fields", Json::array());
    if (fields.size() != 1 || !fields[0].contains("String")) {
      const bool star = !fields.empty() && fields.back().contains("A_Star");
      return fail(made->position, token_at(made->position),
                  star ? std::string("* is not part of the expression language")
                       : std::string("qualified column names (a.b) are not part of the "
                                     "expression language"));
    }
    made->name = fields[0]["String"].value("sval", "");
    return build(made);
  }

  ExprNodePointer a_expr(const Json& body, int depth) {
    const std::string kind = body.value("kind", "AEXPR_OP");
    const std::shared_ptr<ExprNode> made = make(Kind::binary, body);
    if (kind == "AEXPR_NULLIF") {
      made->kind = Kind::function;
      made->function = Function::nullif;
      made->name = "nullif";
      return with_operands(made, body, depth);
    }
    const Json& names = body.value("name", Json::array());
    std::string symbol = names.empty() ? "" : names.back().value("String", Json::object()).value("sval", "");
    if (conditions_ && (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN")) return between(body, kind != "AEXPR_BETWEEN", depth);
    if (conditions_ && kind == "AEXPR_IN" && (symbol == "=" || symbol == "<>")) {
      const Json& items = body.value("rexpr", Json::object()).value("List", Json::object()).value("items", Json::array());
      return in_list(body, items, "IN (...)", symbol == "<>" ? Operator::not_equal : Operator::equal, symbol == "<>", depth);
    }
    if (conditions_ && (kind == "AEXPR_OP_ANY" || kind == "AEXPR_OP_ALL") && names.size() == 1 &&
        body.value("rexpr", Json::object()).contains("A_ArrayExpr")) {
      return array_comparison(body, symbol, kind == "AEXPR_OP_ALL", depth);
    }
    if (conditions_ && (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") && (symbol == "~~" || symbol == "!~~" || symbol == "~~*" || symbol == "!~~*")) {
      made->kind = Kind::function;
      made->function = Function::like;
      made->name = kind == "AEXPR_LIKE" ? "LIKE" : "ILIKE";
      made->negated = symbol.front() == '!';
      return with_operands(made, body, depth);  // an ESCAPE clause is like_escape(), not read
    }
    if (kind != "AEXPR_OP") {
      return fail(made->position, token_at(made->position),
                  fmt::format("{} is not part of the expression language", a_expr_construct(kind)));
    }
    if (names.size() != 1) {
      return fail(made->position, token_at(made->position),
                  "OPERATOR(schema.op) is not part of the expression language");
    }
    if (!body.contains("lexpr")) {
      if (symbol != "-" && symbol != "+") return unknown_operator(made->position, symbol);
      made->kind = symbol == "-" ? Kind::negate : Kind::unary_plus;
      ExprNodePointer operand = node(body.value("rexpr", Json::object()), depth + 1);
      if (operand == nullptr) return nullptr;
      made->arguments = {std::move(operand)};
      return build(made);
    }
    const std::optional<Operator> found = find_operator(symbol);
    if (!found) return unknown_operator(made->position, symbol);
    made->binary_operator = *found;
    return with_operands(made, body, depth);
  }

  // `x BETWEEN a AND b` is `x >= a AND x <= b`, NOT BETWEEN `x < a OR x > b` (PostgreSQL's own
  // definition; x is read twice, which changes nothing in a language without side effects).
  ExprNodePointer between(const Json& body, bool negated, int depth) {
    ExprNodePointer operand = node(body.value("lexpr", Json::object()), depth + 1);
    const Json& bounds = body.value("rexpr", Json::object()).value("List", Json::object()).value("items", Json::array());
    if (operand == nullptr) return nullptr;
    if (bounds.size() != 2) return fail(position_of(body), "", "BETWEEN takes two bounds");
    ExprNodePointer low = node(bounds[0], depth + 1);
    if (low == nullptr) return nullptr;
    ExprNodePointer high = node(bounds[1], depth + 1);
    if (high == nullptr) return nullptr;
    ExprNodePointer above = comparison(body, operand, negated ? Operator::less : Operator::greater_equal, std::move(low));
    ExprNodePointer below = comparison(body, operand, negated ? Operator::greater : Operator::less_equal, std::move(high));
    return joined(body, negated ? Kind::logical_or : Kind::logical_and, std::move(above), std::move(below));
  }

  // `x IN (a, b)` is `x = a OR x = b`, NOT IN `x <> a AND x <> b`: the same three-valued result.
  // `x op ANY (ARRAY[a, b])` is `x op a OR x op b`, `x op ALL (ARRAY[...])` the same joined by
  // AND (PostgreSQL's definition, NULLs included). The tests are joined pairwise (a balanced
  // tree), so a list of 100 stays within the height.
  ExprNodePointer in_list(const Json& body, const Json& items, std::string_view construct, Operator op, bool all, int depth) {
    ExprNodePointer operand = node(body.value("lexpr", Json::object()), depth + 1);
    if (operand == nullptr) return nullptr;
    if (items.empty() || items.size() > kArgumentsMax) {
      return fail(position_of(body), "", fmt::format("{} takes 1 to {} values", construct, kArgumentsMax));
    }
    std::vector<ExprNodePointer> tests;
    for (const Json& item : items) {
      ExprNodePointer value = node(item, depth + 1);
      if (value == nullptr) return nullptr;
      tests.push_back(comparison(body, operand, op, std::move(value)));
      if (tests.back() == nullptr) return nullptr;
    }
    while (tests.size() > 1) {
      std::vector<ExprNodePointer> pairs;
      for (std::size_t i = 0; i < tests.size(); i += 2) {
        pairs.push_back(i + 1 < tests.size() ? joined(body, all ? Kind::logical_and : Kind::logical_or, tests[i], tests[i + 1]) : tests[i]);
        if (pairs.back() == nullptr) return nullptr;
      }
      tests = std::move(pairs);
    }
    return tests.front();
  }

  ExprNodePointer array_comparison(const Json& body, const std::string& symbol, bool all, int depth) {
    const std::optional<Operator> found = find_operator(symbol);
    if (!found || !is_comparison(*found)) return unknown_operator(position_of(body), symbol);
    const Json& items = body.value("rexpr", Json::object()).value("A_ArrayExpr", Json::object()).value("elements", Json::array());
    return in_list(body, items, all ? "ALL (ARRAY[...])" : "ANY (ARRAY[...])", *found, all, depth);
  }

  ExprNodePointer comparison(const Json& body, ExprNodePointer left, Operator op, ExprNodePointer right) {
    const std::shared_ptr<ExprNode> made = make(Kind::binary, body);
    made->binary_operator = op;
    made->arguments = {std::move(left), std::move(right)};
    return build(made);
  }

  ExprNodePointer joined(const Json& body, Kind kind, ExprNodePointer left, ExprNodePointer right) {
    if (left == nullptr || right == nullptr) return nullptr;
    const std::shared_ptr<ExprNode> made = make(kind, body);
    made->arguments = {std::move(left), std::move(right)};
    return build(made);
  }

  ExprNodePointer unknown_operator(int position, const std::string& symbol) {
    return fail(position, token_at(position),
                fmt::format("operator {} is not part of the expression language", symbol));
  }

  ExprNodePointer with_operands(const std::shared_ptr<ExprNode>& made, const Json& body, int depth) {
    ExprNodePointer left = node(body.value("lexpr", Json::object()), depth + 1);
    if (left == nullptr) return nullptr;
    ExprNodePointer right = node(body.value("rexpr", Json::object()), depth + 1);
    if (right == nullptr) return nullptr;
    made->arguments = {std::move(left), std::move(right)};
    return build(made);
  }

  // AND / OR with n operands (PostgreSQL flattens a AND b AND c) become a left-deep chain.
  ExprNodePointer bool_expr(const Json& body, int depth) {
    const std::string op = body.value("boolop", "AND_EXPR");
    const Json& arguments = body.value("args", Json::array());
    if (op == "NOT_EXPR") {
      const std::shared_ptr<ExprNode> made = make(Kind::logical_not, body);
      if (arguments.size() != 1) return fail(made->position, "", "NOT takes one operand");
      ExprNodePointer operand = node(arguments[0], depth + 1);
      if (operand == nullptr) return nullptr;
      made->arguments = {std::move(operand)};
      return build(made);
    }
    if (arguments.size() < 2) return fail(position_of(body), "", "AND / OR takes two operands");
    ExprNodePointer chain = node(arguments[0], depth + 1);
    for (std::size_t i = 1; i < arguments.size() && chain != nullptr; ++i) {
      ExprNodePointer right = node(arguments[i], depth + 1);
      if (right == nullptr) return nullptr;
      const std::shared_ptr<ExprNode> made =
          make(op == "AND_EXPR" ? Kind::logical_and : Kind::logical_or, body);
      made->arguments = {std::move(chain), std::move(right)};
      chain = build(made);
    }
    return chain;
  }

  ExprNodePointer null_test(const Json& body, int depth) {
    const std::shared_ptr<ExprNode> made = make(Kind::is_null, body);
    made->negated = body.value("nulltesttype", "IS_NULL") == "IS_NOT_NULL";
    ExprNodePointer operand = node(body.value("arg", Json::object()), depth + 1);
    if (operand == nullptr) return nullptr;
    made->arguments = {std::move(operand)};
    return build(made);
  }

  ExprNodePointer case_expr(const Json& body, int depth) {
    const std::shared_ptr<ExprNode> made = make(Kind::case_when, body);
    if (body.contains("arg")) {
      made->case_operand = node(body["arg"], depth + 1);
      if (made->case_operand == nullptr) return nullptr;
    }
    for (const Json& wrapper : body.value("args", Json::array())) {
      if (made->when_clauses.size() >= kArgumentsMax) {
        return fail(made->position, "CASE", "too many WHEN clauses");
      }
      const Json& when = wrapper.value("CaseWhen", Json::object());
      ExprNode::WhenClause clause;
      clause.condition = node(when.value("expr", Json::object()), depth + 1);
      if (clause.condition == nullptr) return nullptr;
      clause.result = node(when.value("result", Json::object()), depth + 1);
      if (clause.result == nullptr) return nullptr;
      made->when_clauses.push_back(std::move(clause));
    }
    if (body.contains("defresult")) {
      made->else_result = node(body["defresult"], depth + 1);
      if (made->else_result == nullptr) return nullptr;
    }
    return build(made);
  }

  ExprNodePointer type_cast(const Json& body, int depth) {
    const std::shared_ptr<ExprNode> made = make(Kind::cast, body);
    if (!type_name(body.value("typeName", Json::object()), &made->type)) return nullptr;
    ExprNodePointer operand = node(body.value("arg", Json::object()), depth + 1);
    if (operand == nullptr) return nullptr;
    made->arguments = {std::move(operand)};
    return build(made);
  }

  bool type_name(const Json& body, ExprNode::TypeSpec* type) {
    const int position = position_of(body);
    std::vector<std::string> names;
    for (const Json& name : body.value("names", Json::array())) {
      names.push_back(name.value("String", Json::object()).value("sval", ""));
    }
    const bool qualified_ok = names.size() == 1 || (names.size() == 2 && names[0] == "pg_catalog");
    static const std::pair<std::string_view, TypeName> kTypes[] = {
        {"int8", TypeName::bigint},       {"int4", TypeName::integer},
        {"numeric", TypeName::numeric},   {"text", TypeName::text},
        {"varchar", TypeName::varchar},   {"bool", TypeName::boolean},
        {"timestamp", TypeName::timestamp}};
    const std::string last = names.empty() ? "" : names.back();
    auto found = std::find_if(std::begin(kTypes), std::end(kTypes), [&last](const auto& entry) { return entry.first == last; });
    // A SQL file's statement (parse_condition) casts to the schema's own types too ('default'::
    // "ContactAttributeType"): a user type (enum, domain) and the built-ins the simulator holds
    // as text are text there, as the simulated columns of those types are.
    static const std::string_view kBuiltinNotText[] = {"date", "timestamptz", "time", "timetz", "interval", "float4", "float8",
                                                        "int2", "bytea", "inet", "cidr", "money", "bit", "varbit", "xml",
                                                        "oid", "regclass", "tsvector", "point", "char"};
    const bool user_or_text = found == std::end(kTypes) && names.size() <= 2 && !names.empty() && names[0] != "pg_catalog" &&
                              std::find(std::begin(kBuiltinNotText), std::end(kBuiltinNotText), last) == std::end(kBuiltinNotText) &&
                              !body.contains("typmods");
    if (conditions_ && user_or_text) found = std::find_if(std::begin(kTypes), std::end(kTypes), [](const auto& entry) { return entry.first == "text"; });
    if ((!qualified_ok && !(conditions_ && user_or_text)) || found == std::end(kTypes) || body.contains("arrayBounds") ||
        body.value("setof", false) || body.value("pct_type", false)) {
      fail(position, token_at(position),
           fmt::format("type {} is not part of the expression language (bigint, integer, "
                       "numeric, text, varchar, boolean, timestamp)",
                       fmt::join(names, ".")));
      return false;
    }
    type->name = found->second;
    std::vector<std::int64_t> modifiers;
    for (const Json& modifier : body.value("typmods", Json::array())) {
      const Json& value = modifier.value("A_Const", Json::object());
      if (!value.contains("ival")) {
        fail(position, token_at(position), "type modifiers must be integer constants");
        return false;
      }
      modifiers.push_back(integer_constant(value));
    }
    return type_modifiers(position, modifiers, type);
  }

  bool type_modifiers(int position, const std::vector<std::int64_t>& modifiers,
                      ExprNode::TypeSpec* type) {
    if (modifiers.empty()) return true;
    const std::string token = token_at(position);
    if (type->name == TypeName::varchar && modifiers.size() == 1) {
      if (modifiers[0] < 1 || modifiers[0] > kVarcharLengthMax) {
        fail(position, token, fmt::format("length for type varchar must be between 1 and {}",
                                          kVarcharLengthMax));
        return false;
      }
      type->precision = static_cast<int>(modifiers[0]);
      return true;
    }
    if (type->name != TypeName::numeric || modifiers.size() > 2) {
      fail(position, token, "this type modifier is not part of the expression language");
      return false;
    }
    if (modifiers[0] < 1 || modifiers[0] > kNumericPrecisionMax) {
      fail(position, token, fmt::format("NUMERIC precision {} must be between 1 and {}",
                                        modifiers[0], kNumericPrecisionMax));
      return false;
    }
    const std::int64_t scale = modifiers.size() == 2 ? modifiers[1] : 0;
    if (scale < 0 || scale > Decimal::kMaxScale || scale > modifiers[0]) {
      fail(position, token, fmt::format("NUMERIC scale {} is outside what the simulator "
                                        "supports (0 to the precision, at most {})",
                                        scale, Decimal::kMaxScale));
      return false;
    }
    type->precision = static_cast<int>(modifiers[0]);
    type->scale = static_cast<int>(scale);
    return true;
  }

  ExprNodePointer func_call(const Json& body, int depth) {
    const std::shared_ptr<ExprNode> made = make(Kind::function, body);
    std::vector<std::string> names;
    for (const Json& name : body.value("funcname", Json::array())) {
      names.push_back(name.value("String", Json::object()).value("sval", ""));
    }
    const std::string written = fmt::format("{}", fmt::join(names, "."));
    const bool qualified_ok = names.size() == 1 || (names.size() == 2 && names[0] == "pg_catalog");
    const FunctionSpec* spec = qualified_ok ? find_function(names.back()) : nullptr;
    if (spec == nullptr) {
      return fail(made->position, token_at(made->position),
                  fmt::format("unknown function '{}'", written));
    }
    std::string extra;
    if (!only_members(body, {"funcname", "args", "funcformat", "location"}, &extra)) {
      return fail(made->position, token_at(made->position),
                  fmt::format("{} in a function call is not part of the expression language", extra));
    }
    made->function = spec->function;
    made->name = spec->function == Function::trim ? "trim" : names.back();
    for (const Json& argument : body.value("args", Json::array())) {
      if (made->arguments.size() >= kArgumentsMax) return fail(made->position, "", "too many arguments");
      ExprNodePointer converted = node(argument, depth + 1);
      if (converted == nullptr) return nullptr;
      made->arguments.push_back(std::move(converted));
    }
    const std::size_t count = made->arguments.size();
    if (count < spec->arguments_min || count > spec->arguments_max) {
      return fail(made->position, token_at(made->position),
                  fmt::format("wrong number of arguments to {} (expected {}, got {})", made->name,
                              describe_arity(spec->arguments_min, spec->arguments_max), count));
    }
    return build(made);
  }

  // COALESCE, GREATEST, LEAST: keywords of the grammar with an argument list.
  ExprNodePointer variadic(const Json& body, int depth, Function function, const char* name) {
    const std::shared_ptr<ExprNode> made = make(Kind::function, body);
    made->function = function;
    made->name = name;
    for (const Json& argument : body.value("args", Json::array())) {
      if (made->arguments.size() >= kArgumentsMax) return fail(made->position, "", "too many arguments");
      ExprNodePointer converted = node(argument, depth + 1);
      if (converted == nullptr) return nullptr;
      made->arguments.push_back(std::move(converted));
    }
    return build(made);
  }

  // 1-based character position in the text of a node's "location" (a byte offset into the
  // statement); 1 when PostgreSQL gives none.
  int position_of(const Json& body) const {
    const std::int64_t location = body.is_object() ? body.value("location", -1) : -1;
    const std::int64_t offset = location - static_cast<std::int64_t>(kStatementPrefix.size());
    if (offset < 0) return 1;
    return character_positions_[std::min(static_cast<std::size_t>(offset), text_.size())];
  }

  std::string token_at(int position) const { return rehearse::token_at(text_, position); }

  ExprNodePointer fail_at_end(std::string message) {
    return fail(character_positions_.back(), "", std::move(message));
  }

  ExprNodePointer fail(int position, std::string token, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_->position = std::max(position, 1);
      error_->token = std::move(token);
      error_->message = std::move(message);
    }
    return nullptr;
  }

  const std::string& text_;
  ExprParseError* error_;
  bool conditions_;  // [NOT] BETWEEN and [NOT] IN (list) read too (parse_condition)
  std::vector<int> character_positions_;
  bool failed_ = false;
};

// PostgreSQL's syntax error, mapped from the statement to the expression text.
void syntax_error(const std::string& text, const PgQueryError& pg_error, ExprParseError* error) {
  std::string message = pg_error.message != nullptr ? pg_error.message : "syntax error";
  // The token PostgreSQL names: `... at or near "TOKEN"` ("" at the end of the input).
  const std::string_view marker = " at or near \"";
  const std::size_t near = message.find(marker);
  if (near != std::string::npos && message.back() == '"') {
    error->token = message.substr(near + marker.size(), message.size() - near - marker.size() - 1);
  }
  const int characters = static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
  const int position = pg_error.cursorpos - static_cast<int>(kStatementPrefix.size());
  error->position = std::clamp(position, 1, characters + 1);
  error->message = std::move(message);
}

}  // namespace

std::string token_at(const std::string& text, int position) {
  int character = 0;
  std::size_t begin = 0;
  for (; begin < text.size(); ++begin) {
    if ((static_cast<unsigned char>(text[begin]) & 0xC0) != 0x80 && ++character == position) break;
  }
  if (begin >= text.size()) return "";
  const auto word_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || static_cast<unsigned char>(c) >= 0x80;
  };
  std::size_t end = begin + 1;
  if (text[begin] == '\'') {
    while (end < text.size() && text[end] != '\'') ++end;
    end = std::min(end + 1, text.size());
  } else if (word_char(text[begin])) {
    while (end < text.size() && word_char(text[end])) ++end;
  } else {
    const std::string_view operators = "+-*/<>=~!@#^&|`?%:";
    while (end < text.size() && operators.find(text[begin]) != std::string_view::npos &&
           operators.find(text[end]) != std::string_view::npos) {
      ++end;
    }
  }
  return text.substr(begin, end - begin);
}

int compute_height(const ExprNode& node) {
  int child_height = 0;
  const auto visit = [&child_height](const ExprNodePointer& child) {
    if (child != nullptr) child_height = std::max(child_height, child->height);
  };
  for (const ExprNodePointer& argument : node.arguments) visit(argument);
  visit(node.case_operand);
  for (const ExprNode::WhenClause& clause : node.when_clauses) {
    visit(clause.condition);
    visit(clause.result);
  }
  visit(node.else_result);
  return child_height + 1;
}

std::string without_select(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text.size() <= first + 6) return text;
  std::string keyword = text.substr(first, 6);
  for (char& c : keyword) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const char after = text[first + 6];
  const bool separated = after == ' ' || after == '\t' || after == '\n' || after == '\r' || after == '(';
  return keyword == "select" && separated ? text.substr(first + 6) : text;
}

ExprNodePointer parse_syntax(const std::string& text, ExprParseError* error, bool conditions) {
  REHEARSE_ASSERT(error != nullptr);
  if (text.find('\0') != std::string::npos || text.size() > kTextLengthMax) {
    error->position = 1;
    error->message = text.size() > kTextLengthMax ? "expression too long" : "NUL character in the expression";
    return nullptr;
  }
  if (const std::size_t bad = invalid_utf8_offset(text); bad != std::string_view::npos) {
    // PostgreSQL's own words for it (its client encoding here is UTF8).
    error->position = 1 + static_cast<int>(std::count_if(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad),
                                                         [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    error->message = fmt::format("invalid byte sequence for encoding \"UTF8\": 0x{:02x}", static_cast<unsigned char>(text[bad]));
    return nullptr;
  }
  const std::string body = without_select(text);
  const std::string statement = std::string(kStatementPrefix) + body;
  const PgQueryParseResult result = pg_query_parse(statement.c_str());
  ExprNodePointer root;
  if (result.error != nullptr) {
    syntax_error(body, *result.error, error);
  } else {
    // libpg_query writes valid JSON; a failure to read it is a broken dependency.
    const Json tree = Json::parse(result.parse_tree, nullptr, false);
    REHEARSE_ASSERT(!tree.is_discarded());
    root = Converter(body, error, conditions).statement(tree);
  }
  pg_query_free_parse_result(result);
  REHEARSE_ASSERT(root != nullptr || !error->message.empty());
  return root;
}

}  // namespace rehearse
