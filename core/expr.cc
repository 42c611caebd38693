// The expression language of migrations (core/expr.h; scenario-format.md, "Expressions"): a
// lexer, a precedence-climbing recursive-descent parser, an evaluator with SQL semantics and a
// renderer back to PostgreSQL SQL. The scenario loader parses `up` / `down` once; the simulated
// databases evaluate them for every backfilled or dual-written row; the live runner sends
// to_sql() to PostgreSQL. The simulator and PostgreSQL must agree, so the rules below follow
// PostgreSQL; where this file departs from it, the choice is listed here and pinned by
// tests/expr_test.cc.
//
// - Unquoted identifiers fold to lower case; "quoted" ones keep their case. PostgreSQL's
//   reserved keywords are not column names unless quoted.
// - Operators are lexed as PostgreSQL does: a run of operator characters is one token, except
//   that trailing '+' / '-' are split off, so "a ++ b" is a + (+b) and "a*-b" is a * (-b).
//   Comments ("--", "/*") are rejected rather than skipped.
// - Integers are int64 ("bigint out of range"), also where PostgreSQL would use int4.
// - A quoted literal has PostgreSQL's type "unknown": compared with, or in arithmetic with, a
//   non-text value it is cast to that value's type ('5' + 1 = 6, ts > '2024-01-01').
// - Numeric results hold at most 38 significant digits and 30 fractional digits
//   (Decimal::kMaxScale); beyond that: "numeric value out of range". Multiplication keeps
//   scale a + b, rounded to 30. Division uses PostgreSQL's result scale (select_div_scale: at
//   least 16 significant digits, at least either operand's scale), capped at 30, rounded half
//   away from zero: 1 / 3.0 = 0.33333333333333333333 (20 digits), 10 / 4.0 = 2.5000000000000000.
// - Text compares by bytes (COLLATE "C"); lower / upper change ASCII letters only.
// - CASE, coalesce, nullif, greatest and least return numeric when PostgreSQL's resolved type
//   is numeric (some branch is a decimal literal, a numeric cast, ...): integer results are
//   promoted. Column types are unknown when parsing, so only the branches' syntax decides.
// - Booleans cast to text (and in ||) read "true" / "false" as in PostgreSQL.
#include "core/expr.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include "core/assert.h"

namespace rehearse {

// One node of the syntax tree; which fields matter depends on `kind`. Nodes are immutable once
// built and shared between copies of an Expr.
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
    lower, upper, trim, length, substr, coalesce, nullif, abs, round, floor, ceil, greatest, least
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
  };

  Kind kind = Kind::literal;
  Value literal;                  // literal
  bool quoted_literal = false;    // literal: a 'string' (PostgreSQL's type "unknown")
  bool digits_literal = false;    // literal: written as bare digits, so an integer if it fits
  std::string name;               // column: its name; function: its name as written, lower case
  Operator binary_operator = Operator::add;
  Function function = Function::lower;
  bool negated = false;           // is_null: IS NOT NULL
  TypeSpec type;                  // cast
  std::vector<std::shared_ptr<const ExprNode>> arguments;  // operands, function arguments
  std::shared_ptr<const ExprNode> case_operand;  // case_when: the x of CASE x WHEN; may be null
  std::vector<WhenClause> when_clauses;
  std::shared_ptr<const ExprNode> else_result;   // case_when: may be null
  bool yields_numeric = false;    // PostgreSQL would type the result numeric (see header notes)
  int height = 1;                 // levels of the subtree
};

namespace {

using NodePointer = std::shared_ptr<const ExprNode>;
using Kind = ExprNode::Kind;
using Operator = ExprNode::Operator;
using Function = ExprNode::Function;
using TypeName = ExprNode::TypeName;
using TypeSpec = ExprNode::TypeSpec;

// Bounds: the parser, evaluator and renderer recurse once per level, the evaluator on a
// simulated node's fiber stack (256 KB in sim/kernel.cc). At these bounds evaluation takes about
// 40 KB of stack at -O2 and 65 KB in sanitizer builds; real migration expressions are far
// shallower.
constexpr int kExpressionHeightMax = 32;  // levels of the syntax tree
// Nested sub-expressions in the text: parentheses, operands, arguments. to_sql() parenthesises
// every operator, so a tree of height h renders into text nesting up to 2h + 1 levels (a
// parenthesis and an operand per level, e.g. "(-(-x))"); the parser accepts that much, so that
// parse(to_sql(e)) succeeds for every e it returns (the height bound above still applies).
constexpr int kParseDepthMax = 2 * kExpressionHeightMax + 2;
constexpr std::size_t kArgumentsMax = 100;
constexpr int kNumericPrecisionMax = 1000;  // PostgreSQL's NUMERIC_MAX_PRECISION
constexpr int kVarcharLengthMax = 10485760;
constexpr std::int64_t kInt4Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t kInt4Max = std::numeric_limits<std::int32_t>::max();

// ---------------------------------------------------------------------------------------------
// Lexer

struct Token {
  enum class Kind : std::uint8_t {
    identifier, quoted_identifier, integer_number, decimal_number, string, symbol, end
  };
  Kind kind = Kind::end;
  std::string text;   // as written ("" at the end)
  std::string value;  // identifier: lower-cased; quoted: unescaped; symbol: canonical ("<>")
  int position = 0;   // 1-based character offset
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_identifier_char(char c) { return is_identifier_start(c) || is_digit(c) || c == '$'; }
bool is_operator_char(char c) {
  return std::string_view("+-*/<>=~!@#^&|`?%").find(c) != std::string_view::npos;
}

std::string ascii_lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

class Lexer {
 public:
  Lexer(std::string_view text, ExprParseError* error) : text_(text), error_(error) {
    // character_positions_[byte offset] = 1-based character (UTF-8 code point) position.
    int position = 0;
    for (const char c : text_) {
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++position;
      character_positions_.push_back(std::max(position, 1));
    }
    character_positions_.push_back(position + 1);
  }

  // Splits the whole text; false (with *error filled) on a character no token starts with.
  bool run(std::vector<Token>* tokens) {
    while (true) {
      while (index_ < text_.size() && is_space(text_[index_])) ++index_;
      if (index_ >= text_.size()) break;
      if (!lex_token(tokens)) return false;
    }
    tokens->push_back(Token{Token::Kind::end, "", "", character_positions_[text_.size()]});
    return true;
  }

 private:
  bool lex_token(std::vector<Token>* tokens) {
    const char c = text_[index_];
    const char next = index_ + 1 < text_.size() ? text_[index_ + 1] : '\0';
    if (is_identifier_start(c)) return lex_identifier(tokens);
    if (is_digit(c) || (c == '.' && is_digit(next))) return lex_number(tokens);
    if (c == '\'') return lex_quoted(tokens, '\'', Token::Kind::string);
    if (c == '"') return lex_quoted(tokens, '"', Token::Kind::quoted_identifier);
    if (c == '(' || c == ')' || c == ',') {
      add(tokens, Token::Kind::symbol, index_, index_ + 1, std::string(1, c));
      return true;
    }
    if (c == ':' && next == ':') {
      add(tokens, Token::Kind::symbol, index_, index_ + 2, "::");
      return true;
    }
    if (is_operator_char(c)) return lex_operator(tokens);
    const std::size_t length = character_length(index_);
    return fail(index_, std::string(text_.substr(index_, length)),
                fmt::format("unexpected character '{}'", text_.substr(index_, length)));
  }

  bool lex_identifier(std::vector<Token>* tokens) {
    const std::size_t start = index_;
    std::size_t end = start;
    while (end < text_.size() && is_identifier_char(text_[end])) ++end;
    const std::string_view word = text_.substr(start, end - start);
    if (end < text_.size() && text_[end] == '\'' && word.size() == 1 &&
        std::string_view("eEbBxXnN").find(word[0]) != std::string_view::npos) {
      return fail(start, std::string(word) + "'",
                  "special string literals (E'...', B'...', X'...', N'...') are not supported");
    }
    add(tokens, Token::Kind::identifier, start, end, ascii_lower(word));
    return true;
  }

  bool lex_number(std::vector<Token>* tokens) {
    const std::size_t start = index_;
    std::size_t end = start;
    while (end < text_.size() && is_digit(text_[end])) ++end;
    bool has_point = false;
    if (end < text_.size() && text_[end] == '.') {
      has_point = true;
      ++end;
      while (end < text_.size() && is_digit(text_[end])) ++end;
    }
    if (end < text_.size() && (is_identifier_char(text_[end]) || text_[end] == '.')) {
      std::size_t junk_end = end + 1;
      while (junk_end < text_.size() && is_identifier_char(text_[junk_end])) ++junk_end;
      const bool exponent = text_[end] == 'e' || text_[end] == 'E';
      return fail(start, std::string(text_.substr(start, junk_end - start)),
                  exponent ? "numeric literals with exponents are not supported"
                           : "trailing junk after numeric literal");
    }
    const std::string digits(text_.substr(start, end - start));
    add(tokens, has_point ? Token::Kind::decimal_number : Token::Kind::integer_number, start, end,
        digits);
    return true;
  }

  // 'string' or "identifier"; a doubled quote stands for one quote character.
  bool lex_quoted(std::vector<Token>* tokens, char quote, Token::Kind kind) {
    const std::size_t start = index_;
    std::string value;
    std::size_t i = start + 1;
    while (true) {
      const std::size_t close = text_.find(quote, i);
      if (close == std::string_view::npos) {
        return fail(start, std::string(text_.substr(start)),
                    quote == '\'' ? "unterminated quoted string"
                                  : "unterminated quoted identifier");
      }
      value += text_.substr(i, close - i);
      if (close + 1 < text_.size() && text_[close + 1] == quote) {
        value += quote;
        i = close + 2;
        continue;
      }
      i = close + 1;
      break;
    }
    if (kind == Token::Kind::quoted_identifier && value.empty()) {
      return fail(start, "\"\"", "zero-length delimited identifier");
    }
    add(tokens, kind, start, i, std::move(value));
    return true;
  }

  bool lex_operator(std::vector<Token>* tokens) {
    const std::size_t start = index_;
    std::size_t end = start;
    while (end < text_.size() && is_operator_char(text_[end])) ++end;
    const std::string_view run = text_.substr(start, end - start);
    for (const std::string_view comment : {"--", "/*"}) {
      const std::size_t found = run.find(comment);
      if (found != std::string_view::npos) {
        return fail(start + found, std::string(comment), "comments are not supported");
      }
    }
    // PostgreSQL: a multi-character operator may not end in + or - unless it contains one of
    // ~ ! @ # ^ & | ` ? %; otherwise the trailing signs start the next token.
    std::size_t length = run.size();
    if (length > 1 && (run.back() == '+' || run.back() == '-') &&
        run.find_first_of("~!@#^&|`?%") == std::string_view::npos) {
      while (length > 1 && (run[length - 1] == '+' || run[length - 1] == '-')) --length;
    }
    const std::string_view symbol = run.substr(0, length);
    static constexpr std::string_view kKnown[] = {"+", "-", "*", "/", "%", "||", "=", "<>",
                                                  "!=", "<", "<=", ">", ">="};
    if (std::find(std::begin(kKnown), std::end(kKnown), symbol) == std::end(kKnown)) {
      return fail(start, std::string(symbol), fmt::format("unknown operator '{}'", symbol));
    }
    add(tokens, Token::Kind::symbol, start, start + length,
        symbol == "!=" ? std::string("<>") : std::string(symbol));
    return true;
  }

  void add(std::vector<Token>* tokens, Token::Kind kind, std::size_t start, std::size_t end,
           std::string value) {
    REHEARSE_ASSERT(start < end);
    REHEARSE_ASSERT(end <= text_.size());
    tokens->push_back(Token{kind, std::string(text_.substr(start, end - start)), std::move(value),
                            character_positions_[start]});
    index_ = end;
  }

  std::size_t character_length(std::size_t start) const {
    std::size_t end = start + 1;
    while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    return end - start;
  }

  bool fail(std::size_t offset, std::string token, std::string_view message) {
    error_->position = character_positions_[offset];
    error_->token = std::move(token);
    error_->message = fmt::format("{} at position {}", message, error_->position);
    return false;
  }

  std::string_view text_;
  ExprParseError* error_;
  std::size_t index_ = 0;
  std::vector<int> character_positions_;
};

// ---------------------------------------------------------------------------------------------
// Syntax tree helpers

bool is_arithmetic(Operator op) {
  return op == Operator::add || op == Operator::subtract || op == Operator::multiply ||
         op == Operator::divide || op == Operator::modulo;
}

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

bool any_yields_numeric(const std::vector<NodePointer>& nodes) {
  return std::any_of(nodes.begin(), nodes.end(),
                     [](const NodePointer& node) { return node->yields_numeric; });
}

// Whether PostgreSQL would type the node's result numeric, judged from syntax alone.
bool compute_yields_numeric(const ExprNode& node) {
  switch (node.kind) {
    case Kind::literal: return node.literal.kind() == Value::Kind::numeric;
    case Kind::cast: return node.type.name == TypeName::numeric;
    case Kind::negate:
    case Kind::unary_plus: return node.arguments[0]->yields_numeric;
    case Kind::binary:
      return is_arithmetic(node.binary_operator) && any_yields_numeric(node.arguments);
    case Kind::case_when: {
      bool numeric = node.else_result != nullptr && node.else_result->yields_numeric;
      for (const ExprNode::WhenClause& clause : node.when_clauses) {
        numeric = numeric || clause.result->yields_numeric;
      }
      return numeric;
    }
    case Kind::function:
      switch (node.function) {
        case Function::round:
          return node.arguments.size() == 2 || node.arguments[0]->yields_numeric;
        case Function::abs:
        case Function::floor:
        case Function::ceil:
        case Function::nullif: return node.arguments[0]->yields_numeric;
        case Function::coalesce:
        case Function::greatest:
        case Function::least: return any_yields_numeric(node.arguments);
        default: return false;
      }
    default: return false;
  }
}

int compute_height(const ExprNode& node) {
  int child_height = 0;
  const auto visit = [&child_height](const NodePointer& child) {
    if (child != nullptr) child_height = std::max(child_height, child->height);
  };
  for (const NodePointer& argument : node.arguments) visit(argument);
  visit(node.case_operand);
  for (const ExprNode::WhenClause& clause : node.when_clauses) {
    visit(clause.condition);
    visit(clause.result);
  }
  visit(node.else_result);
  return child_height + 1;
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

// ---------------------------------------------------------------------------------------------
// Parser

// Binding strength of operators, PostgreSQL's table from loosest to tightest.
enum Precedence : int {
  kPrecedenceOr = 1,
  kPrecedenceAnd = 2,
  kPrecedenceNot = 3,
  kPrecedenceIs = 4,
  kPrecedenceComparison = 5,  // non-associative: a < b < c is an error
  kPrecedenceOther = 6,       // ||
  kPrecedenceAdditive = 7,
  kPrecedenceMultiplicative = 8,
  kPrecedenceUnary = 9,  // unary + and -; '::' binds tighter still
};

struct Infix {
  enum class Form : std::uint8_t { binary, logical_and, logical_or, is };
  Form form = Form::binary;
  int precedence = 0;
  Operator op = Operator::add;
};

std::optional<Infix> infix_of(const Token& token) {
  if (token.kind == Token::Kind::identifier) {
    if (token.value == "or") return Infix{Infix::Form::logical_or, kPrecedenceOr, Operator::add};
    if (token.value == "and") return Infix{Infix::Form::logical_and, kPrecedenceAnd, Operator::add};
    if (token.value == "is") return Infix{Infix::Form::is, kPrecedenceIs, Operator::add};
    return std::nullopt;
  }
  if (token.kind != Token::Kind::symbol) return std::nullopt;
  static const std::pair<std::string_view, Infix> kOperators[] = {
      {"+", {Infix::Form::binary, kPrecedenceAdditive, Operator::add}},
      {"-", {Infix::Form::binary, kPrecedenceAdditive, Operator::subtract}},
      {"*", {Infix::Form::binary, kPrecedenceMultiplicative, Operator::multiply}},
      {"/", {Infix::Form::binary, kPrecedenceMultiplicative, Operator::divide}},
      {"%", {Infix::Form::binary, kPrecedenceMultiplicative, Operator::modulo}},
      {"||", {Infix::Form::binary, kPrecedenceOther, Operator::concatenate}},
      {"=", {Infix::Form::binary, kPrecedenceComparison, Operator::equal}},
      {"<>", {Infix::Form::binary, kPrecedenceComparison, Operator::not_equal}},
      {"<", {Infix::Form::binary, kPrecedenceComparison, Operator::less}},
      {"<=", {Infix::Form::binary, kPrecedenceComparison, Operator::less_equal}},
      {">", {Infix::Form::binary, kPrecedenceComparison, Operator::greater}},
      {">=", {Infix::Form::binary, kPrecedenceComparison, Operator::greater_equal}},
  };
  for (const auto& [symbol, infix] : kOperators) {
    if (token.value == symbol) return infix;
  }
  return std::nullopt;
}

struct FunctionSpec {
  std::string_view name;
  Function function;
  std::size_t arguments_min;
  std::size_t arguments_max;  // 0 = any number
};

const FunctionSpec* find_function(std::string_view name) {
  static constexpr FunctionSpec kFunctions[] = {
      {"lower", Function::lower, 1, 1},       {"upper", Function::upper, 1, 1},
      {"trim", Function::trim, 1, 1},         {"length", Function::length, 1, 1},
      {"substr", Function::substr, 2, 3},     {"coalesce", Function::coalesce, 1, 0},
      {"nullif", Function::nullif, 2, 2},     {"abs", Function::abs, 1, 1},
      {"round", Function::round, 1, 2},       {"floor", Function::floor, 1, 1},
      {"ceil", Function::ceil, 1, 1},         {"ceiling", Function::ceil, 1, 1},
      {"greatest", Function::greatest, 1, 0}, {"least", Function::least, 1, 0},
  };
  for (const FunctionSpec& spec : kFunctions) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string describe_arity(const FunctionSpec& spec) {
  if (spec.arguments_max == 0) return fmt::format("at least {}", spec.arguments_min);
  if (spec.arguments_max == spec.arguments_min) return fmt::format("{}", spec.arguments_min);
  return fmt::format("{} or {}", spec.arguments_min, spec.arguments_max);
}

// PostgreSQL's reserved keywords: never a bare column name.
bool is_reserved_keyword(std::string_view word) {
  static const std::set<std::string_view> kReserved = {
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both",
      "case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog",
      "current_date", "current_role", "current_time", "current_timestamp", "current_user",
      "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
      "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially",
      "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
      "null", "offset", "on", "only", "or", "order", "placing", "primary", "references",
      "returning", "select", "session_user", "some", "symmetric", "table", "then", "to",
      "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where",
      "window", "with"};
  return kReserved.count(word) > 0;
}

bool starts_statement(std::string_view word) {
  return word == "select" || word == "with" || word == "values" || word == "table";
}

// Operators and predicates of SQL that the expression language leaves out on purpose.
bool is_unsupported_operator_keyword(std::string_view word) {
  static const std::set<std::string_view> kUnsupported = {
      "like", "ilike", "similar", "between", "in", "isnull", "notnull", "collate", "at",
      "overlaps", "escape"};
  return kUnsupported.count(word) > 0;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, ExprParseError* error)
      : tokens_(std::move(tokens)), error_(error) {
    REHEARSE_ASSERT(!tokens_.empty());
    REHEARSE_ASSERT(tokens_.back().kind == Token::Kind::end);
  }

  // The whole token list as one expression; nullptr (with *error filled) otherwise.
  NodePointer parse_all() {
    if (peek().kind == Token::Kind::end) return fail(peek(), "empty expression");
    NodePointer root = parse_expression(0);
    if (root == nullptr) return nullptr;
    const Token& token = peek();
    if (token.kind == Token::Kind::end) return root;
    if (is_symbol(token, ")")) return fail(token, "unmatched ')'");
    if (token.kind == Token::Kind::identifier && is_unsupported_operator_keyword(token.value)) {
      return fail(token, fmt::format("unsupported keyword '{}'", token.text));
    }
    return fail_unexpected(token, "an operator or the end of the expression");
  }

 private:
  // Precedence climbing: operands joined by infix operators binding at least min_precedence.
  NodePointer parse_expression(int min_precedence) {
    if (depth_ >= kParseDepthMax) {
      return fail(peek(), fmt::format("expression nested too deeply (more than {} levels of "
                                      "parentheses and operands)",
                                      kParseDepthMax));
    }
    ++depth_;
    NodePointer result = parse_infix_chain(min_precedence);
    --depth_;
    return result;
  }

  NodePointer parse_infix_chain(int min_precedence) {
    NodePointer left = parse_prefix();
    bool left_is_comparison = false;
    while (left != nullptr) {
      const Token& token = peek();
      const std::optional<Infix> infix = infix_of(token);
      if (!infix || infix->precedence < min_precedence) break;
      const bool comparison = infix->precedence == kPrecedenceComparison;
      if (comparison && left_is_comparison) {
        return fail(token, fmt::format("comparison operators cannot be chained (add "
                                       "parentheses): '{}'", token.text));
      }
      const Token& operator_token = advance();
      if (infix->form == Infix::Form::is) {
        left = parse_is_null(operator_token, std::move(left));
      } else {
        left = parse_binary_right(operator_token, *infix, std::move(left));
      }
      left_is_comparison = comparison;
    }
    return left;
  }

  NodePointer parse_binary_right(const Token& operator_token, const Infix& infix,
                                 NodePointer left) {
    NodePointer right = parse_expression(infix.precedence + 1);  // left-associative
    if (right == nullptr) return nullptr;
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    node->kind = infix.form == Infix::Form::logical_and  ? Kind::logical_and
                : infix.form == Infix::Form::logical_or ? Kind::logical_or
                                                        : Kind::binary;
    node->binary_operator = infix.op;
    node->arguments = {std::move(left), std::move(right)};
    return build(node, operator_token);
  }

  NodePointer parse_is_null(const Token& is_token, NodePointer operand) {
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    node->kind = Kind::is_null;
    node->negated = accept_keyword("not");
    if (!accept_keyword("null")) {
      return fail_unexpected(peek(), "NULL (only IS NULL and IS NOT NULL are supported)");
    }
    node->arguments = {std::move(operand)};
    return build(node, is_token);
  }

  // NOT, unary + and -, or an operand with its '::' casts.
  NodePointer parse_prefix() {
    const Token& token = peek();
    if (is_keyword(token, "not")) {
      advance();
      NodePointer operand = parse_expression(kPrecedenceNot);  // right-associative
      if (operand == nullptr) return nullptr;
      const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
      node->kind = Kind::logical_not;
      node->arguments = {std::move(operand)};
      return build(node, token);
    }
    if (is_symbol(token, "-") || is_symbol(token, "+")) {
      advance();
      NodePointer operand = parse_expression(kPrecedenceUnary);
      if (operand == nullptr) return nullptr;
      if (token.value == "-" && is_number_literal(*operand)) return negated_literal(*operand);
      const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
      node->kind = token.value == "-" ? Kind::negate : Kind::unary_plus;
      node->arguments = {std::move(operand)};
      return build(node, token);
    }
    return parse_postfix();
  }

  static bool is_number_literal(const ExprNode& node) {
    return node.kind == Kind::literal && !node.quoted_literal &&
           (node.literal.kind() == Value::Kind::integer ||
            node.literal.kind() == Value::Kind::numeric);
  }

  // PostgreSQL folds a minus into the number it precedes (doNegate), so -9223372036854775808
  // is a bigint although 9223372036854775808 alone is numeric.
  static NodePointer negated_literal(const ExprNode& literal) {
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>(literal);
    if (literal.literal.kind() == Value::Kind::integer) {
      const std::int64_t integer = literal.literal.as_int();
      node->literal = integer == std::numeric_limits<std::int64_t>::min()
                         ? Value::numeric(Decimal{-static_cast<Int128>(integer), 0})
                         : Value::integer(-integer);
    } else {
      Decimal decimal = literal.literal.as_decimal();
      decimal.mantissa = -decimal.mantissa;
      node->literal = Value::numeric(decimal);
      const std::optional<std::int64_t> integer = decimal::to_int64(decimal);
      if (literal.digits_literal && decimal.scale == 0 && integer) {
        node->literal = Value::integer(*integer);
      }
    }
    node->yields_numeric = compute_yields_numeric(*node);
    return node;
  }

  NodePointer parse_postfix() {
    NodePointer operand = parse_primary();
    while (operand != nullptr && is_symbol(peek(), "::")) {
      const Token& cast_token = advance();
      const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
      node->kind = Kind::cast;
      if (!parse_type(&node->type)) return nullptr;
      node->arguments = {std::move(operand)};
      operand = build(node, cast_token);
    }
    return operand;
  }

  NodePointer parse_primary() {
    const Token& token = peek();
    switch (token.kind) {
      case Token::Kind::integer_number:
      case Token::Kind::decimal_number: return parse_number();
      case Token::Kind::string: {
        advance();
        const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
        node->literal = Value::text(token.value);
        node->quoted_literal = true;
        return build(node, token);
      }
      case Token::Kind::quoted_identifier:
        advance();
        if (is_symbol(peek(), "(")) return fail(token, "quoted function names are not supported");
        return column_node(token);
      case Token::Kind::identifier: return parse_word();
      case Token::Kind::symbol:
        if (is_symbol(token, "(")) return parse_parenthesized();
        break;
      case Token::Kind::end: break;
    }
    return fail_unexpected(token, "an operand");
  }

  NodePointer parse_parenthesized() {
    advance();  // (
    const Token& first = peek();
    if (first.kind == Token::Kind::identifier && starts_statement(first.value)) {
      return fail(first, fmt::format("statements and subqueries are not supported: '{}'",
                                     first.text));
    }
    NodePointer inner = parse_expression(0);
    if (inner == nullptr || !expect_symbol(")", "')'")) return nullptr;
    return inner;
  }

  NodePointer parse_number() {
    const Token& token = advance();
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    if (token.kind == Token::Kind::integer_number) {
      node->digits_literal = true;
      std::int64_t integer = 0;
      bool fits = true;
      for (const char c : token.text) {
        fits = fits && !__builtin_mul_overflow(integer, 10, &integer) &&
               !__builtin_add_overflow(integer, c - '0', &integer);
      }
      if (fits) {
        node->literal = Value::integer(integer);
        return build(node, token);
      }
    }
    const std::optional<Decimal> decimal = decimal::parse(token.text);
    if (!decimal) {
      return fail(token, fmt::format("numeric literal {} does not fit (at most 38 significant "
                                     "digits and {} decimal places)",
                                     token.text, Decimal::kMaxScale));
    }
    node->literal = Value::numeric(*decimal);
    return build(node, token);
  }

  // An identifier: TRUE / FALSE / NULL, CASE, CAST, a function call or a column.
  NodePointer parse_word() {
    const Token& token = peek();
    const std::string& word = token.value;
    if (word == "true" || word == "false" || word == "null") {
      advance();
      const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
      if (word != "null") node->literal = Value::boolean(word == "true");
      return build(node, token);
    }
    if (word == "case") return parse_case();
    if (word == "cast") return parse_cast();
    if (starts_statement(word)) {
      return fail(token, fmt::format("statements and subqueries are not supported: '{}'",
                                     token.text));
    }
    if (is_reserved_keyword(word)) return fail_unexpected(token, "an operand");
    if (is_symbol(peek(1), "(")) return parse_function_call();
    advance();
    return column_node(token);
  }

  NodePointer column_node(const Token& token) {
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    node->kind = Kind::column;
    node->name = token.value;
    return build(node, token);
  }

  NodePointer parse_function_call() {
    const Token& name_token = advance();
    const FunctionSpec* spec = find_function(name_token.value);
    if (spec == nullptr) {
      return fail(name_token, fmt::format("unknown function '{}'", name_token.text));
    }
    advance();  // (
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    node->kind = Kind::function;
    node->function = spec->function;
    node->name = name_token.value;
    if (!is_symbol(peek(), ")")) {
      while (true) {
        if (node->arguments.size() >= kArgumentsMax) return fail(peek(), "too many arguments");
        NodePointer argument = parse_expression(0);
        if (argument == nullptr) return nullptr;
        node->arguments.push_back(std::move(argument));
        if (!accept_symbol(",")) break;
      }
    }
    if (!expect_symbol(")", "',' or ')'")) return nullptr;
    const std::size_t count = node->arguments.size();
    if (count < spec->arguments_min || (spec->arguments_max != 0 && count > spec->arguments_max)) {
      return fail(name_token, fmt::format("wrong number of arguments to {} (expected {}, got {})",
                                          name_token.text, describe_arity(*spec), count));
    }
    return build(node, name_token);
  }

  // CASE [operand] WHEN x THEN y ... [ELSE z] END
  NodePointer parse_case() {
    const Token& case_token = advance();
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    node->kind = Kind::case_when;
    if (!is_keyword(peek(), "when")) {
      node->case_operand = parse_expression(0);
      if (node->case_operand == nullptr) return nullptr;
    }
    while (accept_keyword("when")) {
      if (node->when_clauses.size() >= kArgumentsMax) return fail(peek(), "too many WHEN clauses");
      ExprNode::WhenClause clause;
      clause.condition = parse_expression(0);
      if (clause.condition == nullptr || !expect_keyword("then")) return nullptr;
      clause.result = parse_expression(0);
      if (clause.result == nullptr) return nullptr;
      node->when_clauses.push_back(std::move(clause));
    }
    if (node->when_clauses.empty()) return fail_unexpected(peek(), "WHEN");
    if (accept_keyword("else")) {
      node->else_result = parse_expression(0);
      if (node->else_result == nullptr) return nullptr;
    }
    if (!expect_keyword("end")) return nullptr;
    return build(node, case_token);
  }

  // CAST(x AS type)
  NodePointer parse_cast() {
    const Token& cast_token = advance();
    if (!expect_symbol("(", "'('")) return nullptr;
    const std::shared_ptr<ExprNode> node = std::make_shared<ExprNode>();
    node->kind = Kind::cast;
    NodePointer operand = parse_expression(0);
    if (operand == nullptr || !expect_keyword("as") || !parse_type(&node->type) ||
        !expect_symbol(")", "')'")) {
      return nullptr;
    }
    node->arguments = {std::move(operand)};
    return build(node, cast_token);
  }

  bool parse_type(TypeSpec* type) {
    static const std::pair<std::string_view, TypeName> kTypes[] = {
        {"bigint", TypeName::bigint},   {"int8", TypeName::bigint},
        {"integer", TypeName::integer}, {"int", TypeName::integer},
        {"int4", TypeName::integer},    {"numeric", TypeName::numeric},
        {"decimal", TypeName::numeric}, {"text", TypeName::text},
        {"varchar", TypeName::varchar}, {"boolean", TypeName::boolean},
        {"bool", TypeName::boolean},    {"timestamp", TypeName::timestamp}};
    const Token& token = peek();
    if (token.kind != Token::Kind::identifier) {
      fail_unexpected(token, "a type name");
      return false;
    }
    const auto found =
        std::find_if(std::begin(kTypes), std::end(kTypes),
                     [&token](const auto& entry) { return entry.first == token.value; });
    if (found == std::end(kTypes)) {
      fail(token, fmt::format("unsupported type '{}'", token.text));
      return false;
    }
    advance();
    type->name = found->second;
    if (type->name == TypeName::numeric && accept_symbol("(")) return parse_numeric_modifiers(type);
    if (type->name == TypeName::varchar && accept_symbol("(")) {
      return parse_type_modifier(1, kVarcharLengthMax, "varchar length", &type->precision) &&
             expect_symbol(")", "')'");
    }
    return true;
  }

  // After "numeric(": p [, s] ).
  bool parse_numeric_modifiers(TypeSpec* type) {
    if (!parse_type_modifier(1, kNumericPrecisionMax, "numeric precision", &type->precision)) {
      return false;
    }
    if (accept_symbol(",")) {
      const Token& scale_token = peek();
      if (!parse_type_modifier(0, Decimal::kMaxScale, "numeric scale", &type->scale)) return false;
      if (type->scale > type->precision) {
        fail(scale_token, fmt::format("numeric scale {} must not exceed precision {}",
                                      type->scale, type->precision));
        return false;
      }
    }
    return expect_symbol(")", "',' or ')'");
  }

  bool parse_type_modifier(int minimum, int maximum, std::string_view what, int* value) {
    const Token& token = peek();
    if (token.kind != Token::Kind::integer_number) {
      fail_unexpected(token, fmt::format("an integer {}", what));
      return false;
    }
    advance();
    const bool in_range = token.text.size() <= 9 && std::stoi(token.text) >= minimum &&
                          std::stoi(token.text) <= maximum;
    if (!in_range) {
      fail(token, fmt::format("{} {} is outside the supported range {}..{}", what, token.text,
                              minimum, maximum));
      return false;
    }
    *value = std::stoi(token.text);
    return true;
  }

  // Finishes a node: derived fields, and the bound on nesting. Nodes are built on the heap
  // because ExprNode is large and the parser recurses once per level (fiber stacks are small).
  NodePointer build(const std::shared_ptr<ExprNode>& node, const Token& token) {
    node->height = compute_height(*node);
    node->yields_numeric = compute_yields_numeric(*node);
    if (node->height > kExpressionHeightMax) {
      return fail(token, fmt::format("expression nested too deeply (more than {} levels)",
                                     kExpressionHeightMax));
    }
    return node;
  }

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() {
    const Token& token = tokens_[index_];
    REHEARSE_ASSERT(token.kind != Token::Kind::end);
    ++index_;
    return token;
  }
  static bool is_keyword(const Token& token, std::string_view word) {
    return token.kind == Token::Kind::identifier && token.value == word;
  }
  static bool is_symbol(const Token& token, std::string_view symbol) {
    return token.kind == Token::Kind::symbol && token.value == symbol;
  }
  bool accept_keyword(std::string_view word) {
    if (!is_keyword(peek(), word)) return false;
    advance();
    return true;
  }
  bool accept_symbol(std::string_view symbol) {
    if (!is_symbol(peek(), symbol)) return false;
    advance();
    return true;
  }
  bool expect_keyword(std::string_view word) {
    if (accept_keyword(word)) return true;
    std::string upper(word);
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    fail_unexpected(peek(), upper);
    return false;
  }
  bool expect_symbol(std::string_view symbol, std::string_view expected) {
    if (accept_symbol(symbol)) return true;
    fail_unexpected(peek(), expected);
    return false;
  }

  // "unexpected 'x' at position N, expected y" or "unexpected end of expression, expected y".
  NodePointer fail_unexpected(const Token& token, std::string_view expected) {
    if (token.kind == Token::Kind::end) {
      return record(token, fmt::format("unexpected end of expression, expected {}", expected));
    }
    const std::string_view what = token.kind == Token::Kind::string ? "string " : "";
    return record(token, fmt::format("unexpected {}{} at position {}, expected {}", what,
                                     token.kind == Token::Kind::string ? token.text
                                                                       : "'" + token.text + "'",
                                     token.position, expected));
  }

  // `message` about `token`, with its position unless the token is the end of the text.
  NodePointer fail(const Token& token, std::string_view message) {
    if (token.kind == Token::Kind::end) return record(token, std::string(message));
    return record(token, fmt::format("{} at position {}", message, token.position));
  }

  // Keeps the first error only: later ones are consequences of it.
  NodePointer record(const Token& token, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_->position = token.position;
      error_->token = token.text;
      error_->message = std::move(message);
    }
    return nullptr;
  }

  std::vector<Token> tokens_;
  std::size_t index_ = 0;
  int depth_ = 0;
  bool failed_ = false;
  ExprParseError* error_;
};

// ---------------------------------------------------------------------------------------------
// Evaluation: values and casts

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

const char* type_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::null: return "unknown";
    case Value::Kind::boolean: return "boolean";
    case Value::Kind::integer: return "bigint";
    case Value::Kind::numeric: return "numeric";
    case Value::Kind::text: return "text";
    case Value::Kind::timestamp: return "timestamp without time zone";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

const char* type_name(const TypeSpec& type) {
  switch (type.name) {
    case TypeName::bigint: return "bigint";
    case TypeName::integer: return "integer";
    case TypeName::numeric: return "numeric";
    case TypeName::text: return "text";
    case TypeName::varchar: return "character varying";
    case TypeName::boolean: return "boolean";
    case TypeName::timestamp: return "timestamp without time zone";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

bool is_number(const Value& value) {
  return value.kind() == Value::Kind::integer || value.kind() == Value::Kind::numeric;
}

Decimal decimal_of(const Value& value) {
  REHEARSE_ASSERT(is_number(value));
  return value.kind() == Value::Kind::integer ? decimal::from_integer(value.as_int())
                                              : value.as_decimal();
}

Value promote_to_numeric(Value value) {
  if (value.kind() != Value::Kind::integer) return value;
  return Value::numeric(decimal::from_integer(value.as_int()));
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

EvalResult integer_in_range(std::int64_t integer, const TypeSpec& type) {
  if (type.name == TypeName::integer && (integer < kInt4Min || integer > kInt4Max)) {
    return failure("integer out of range");
  }
  return success(Value::integer(integer));
}

// PostgreSQL's int8in / int4in: optional spaces, sign and digits only.
EvalResult integer_from_text(std::string_view text, const TypeSpec& type) {
  const std::string_view digits = trim_view(text, true);
  std::size_t i = 0;
  const bool negative = !digits.empty() && digits[0] == '-';
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) ++i;
  if (i >= digits.size()) return failure(invalid_input(type_name(type), text));
  const auto out_of_range = [&text, &type] {
    return fmt::format("value \"{}\" is out of range for type {}", text, type_name(type));
  };
  std::int64_t integer = 0;
  for (; i < digits.size(); ++i) {
    if (!is_digit(digits[i])) return failure(invalid_input(type_name(type), text));
    const int digit = digits[i] - '0';
    if (__builtin_mul_overflow(integer, 10, &integer) ||
        __builtin_add_overflow(integer, negative ? -digit : digit, &integer)) {
      return failure(out_of_range());
    }
  }
  if (type.name == TypeName::integer && (integer < kInt4Min || integer > kInt4Max)) {
    return failure(out_of_range());
  }
  return success(Value::integer(integer));
}

EvalResult cast_to_integer(const Value& value, const TypeSpec& type) {
  switch (value.kind()) {
    case Value::Kind::integer: return integer_in_range(value.as_int(), type);
    case Value::Kind::numeric: {
      const std::optional<std::int64_t> integer = decimal::to_int64(value.as_decimal());
      if (!integer) return failure(fmt::format("{} out of range", type_name(type)));
      return integer_in_range(*integer, type);
    }
    case Value::Kind::text: return integer_from_text(value.as_text(), type);
    case Value::Kind::boolean:
      if (type.name == TypeName::integer) return success(Value::integer(value.as_bool() ? 1 : 0));
      break;
    case Value::Kind::null:
    case Value::Kind::timestamp: break;
  }
  return failure(fmt::format("cannot cast type {} to {}", type_name(value.kind()),
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
  if (!fits) {
    return failure(fmt::format("numeric field overflow: a field with precision {}, scale {} "
                               "cannot hold {}",
                               type.precision, type.scale, decimal::to_string(value)));
  }
  return success(Value::numeric(*rounded));
}

EvalResult cast_to_numeric(const Value& value, const TypeSpec& type) {
  if (is_number(value)) return apply_numeric_modifiers(decimal_of(value), type);
  if (value.kind() == Value::Kind::text) {
    bool out_of_range = false;
    const std::optional<Decimal> parsed = decimal::parse(value.as_text(), &out_of_range);
    if (!parsed) {
      return failure(out_of_range ? "numeric value out of range"
                                  : invalid_input("numeric", value.as_text()));
    }
    return apply_numeric_modifiers(*parsed, type);
  }
  return failure(fmt::format("cannot cast type {} to numeric", type_name(value.kind())));
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
    case Value::Kind::null:
    case Value::Kind::numeric:
    case Value::Kind::timestamp: break;
  }
  return failure(fmt::format("cannot cast type {} to boolean", type_name(value.kind())));
}

EvalResult cast_to_timestamp(const Value& value) {
  if (value.kind() == Value::Kind::timestamp) return success(value);
  if (value.kind() == Value::Kind::text) {
    const std::optional<std::int64_t> micros = parse_timestamp(value.as_text());
    if (!micros) return failure(invalid_input("timestamp", value.as_text()));
    return success(Value::timestamp(*micros));
  }
  return failure(fmt::format("cannot cast type {} to timestamp without time zone",
                             type_name(value.kind())));
}

EvalResult cast_value(const Value& value, const TypeSpec& type) {
  if (value.is_null()) return success(Value::null());
  switch (type.name) {
    case TypeName::bigint:
    case TypeName::integer: return cast_to_integer(value, type);
    case TypeName::numeric: return cast_to_numeric(value, type);
    case TypeName::text:
    case TypeName::varchar: return cast_to_text(value, type);
    case TypeName::boolean: return cast_to_boolean(value);
    case TypeName::timestamp: return cast_to_timestamp(value);
  }
  REHEARSE_ASSERT(false);
  return failure("unreachable");
}

// A quoted literal has PostgreSQL's type "unknown" and takes the type of the value it meets.
EvalResult coerce_quoted_literal(const ExprNode& node, Value value, Value::Kind target) {
  if (!node.quoted_literal || value.is_null()) return success(std::move(value));
  TypeSpec type;
  switch (target) {
    case Value::Kind::integer: type.name = TypeName::bigint; break;
    case Value::Kind::numeric: type.name = TypeName::numeric; break;
    case Value::Kind::boolean: type.name = TypeName::boolean; break;
    case Value::Kind::timestamp: type.name = TypeName::timestamp; break;
    case Value::Kind::null:
    case Value::Kind::text: return success(std::move(value));
  }
  return cast_value(value, type);
}

// ---------------------------------------------------------------------------------------------
// Evaluation: operators

EvalResult integer_arithmetic(Operator op, std::int64_t a, std::int64_t b) {
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
  if (overflow) return failure("bigint out of range");
  return success(Value::integer(result));
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

std::string no_operator(Operator op, const Value& a, const Value& b) {
  return fmt::format("operator does not exist: {} {} {}", type_name(a.kind()), symbol_of(op),
                     type_name(b.kind()));
}

// REQUIRES: neither value is NULL.
EvalResult arithmetic(Operator op, const Value& a, const Value& b) {
  if (!is_number(a) || !is_number(b)) return failure(no_operator(op, a, b));
  if (a.kind() == Value::Kind::integer && b.kind() == Value::Kind::integer) {
    return integer_arithmetic(op, a.as_int(), b.as_int());
  }
  return decimal_arithmetic(op, decimal_of(a), decimal_of(b));
}

// text || anything and anything || text concatenate the text forms. REQUIRES: no NULL.
EvalResult concatenate(const Value& a, const Value& b) {
  if (a.kind() != Value::Kind::text && b.kind() != Value::Kind::text) {
    return failure(no_operator(Operator::concatenate, a, b));
  }
  return success(Value::text(text_of(a) + text_of(b)));
}

// -1 / 0 / 1 for two non-NULL values of comparable types; nullopt when there is no operator.
std::optional<int> order_values(const Value& a, const Value& b) {
  const auto sign = [](auto x, auto y) { return (x > y) - (x < y); };
  if (a.kind() == Value::Kind::integer && b.kind() == Value::Kind::integer) {
    return sign(a.as_int(), b.as_int());
  }
  if (is_number(a) && is_number(b)) return decimal::compare(decimal_of(a), decimal_of(b));
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case Value::Kind::text: return sign(a.as_text().compare(b.as_text()), 0);
    case Value::Kind::boolean: return sign(a.as_bool(), b.as_bool());
    case Value::Kind::timestamp: return sign(a.as_int(), b.as_int());
    default: return std::nullopt;
  }
}

EvalResult compare(Operator op, const Value& a, const Value& b) {
  const std::optional<int> order = order_values(a, b);
  if (!order) return failure(no_operator(op, a, b));
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

std::string no_function(std::string_view name, const std::vector<Value>& arguments) {
  std::string types;
  for (const Value& argument : arguments) {
    types += (types.empty() ? "" : ", ") + std::string(type_name(argument.kind()));
  }
  return fmt::format("function {}({}) does not exist", name, types);
}

EvalResult text_function(Function function, std::string_view text) {
  std::string result(text);
  switch (function) {
    case Function::lower:
      for (char& c : result) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      break;
    case Function::upper:
      for (char& c : result) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      break;
    case Function::trim: result = std::string(trim_view(text, false)); break;
    case Function::length:
      return success(Value::integer(static_cast<std::int64_t>(count_characters(text))));
    default: REHEARSE_ASSERT(false);
  }
  return success(Value::text(std::move(result)));
}

// substr(text, start [, count]): characters start .. start + count - 1, counted from 1; the
// range is clipped to the text as PostgreSQL does (substr('hello', 0, 3) = 'he').
EvalResult substring(const std::string& name, const std::vector<Value>& arguments) {
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

EvalResult absolute(const std::string& name, const std::vector<Value>& arguments) {
  const Value& value = arguments[0];
  if (value.kind() == Value::Kind::integer) {
    if (value.as_int() == std::numeric_limits<std::int64_t>::min()) {
      return failure("bigint out of range");
    }
    return success(Value::integer(value.as_int() < 0 ? -value.as_int() : value.as_int()));
  }
  if (value.kind() != Value::Kind::numeric) return failure(no_function(name, arguments));
  Decimal decimal = value.as_decimal();
  if (decimal.mantissa < 0) decimal.mantissa = -decimal.mantissa;
  return success(Value::numeric(decimal));
}

// round(x) keeps an integer; round(x, n) is numeric with n decimals (n < 0 rounds to tens...).
EvalResult round_number(const std::string& name, const std::vector<Value>& arguments) {
  const Value& value = arguments[0];
  const bool has_places = arguments.size() == 2;
  if (!is_number(value) || (has_places && arguments[1].kind() != Value::Kind::integer)) {
    return failure(no_function(name, arguments));
  }
  if (!has_places && value.kind() == Value::Kind::integer) return success(value);
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

EvalResult floor_or_ceil(Function function, const std::string& name,
                         const std::vector<Value>& arguments) {
  const Value& value = arguments[0];
  if (value.kind() == Value::Kind::integer) return success(value);
  if (value.kind() != Value::Kind::numeric) return failure(no_function(name, arguments));
  return success(Value::numeric(function == Function::floor ? decimal::floor(value.as_decimal())
                                                            : decimal::ceil(value.as_decimal())));
}

EvalResult strict_function(const ExprNode& node, const std::vector<Value>& arguments) {
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
    case Function::abs: return absolute(node.name, arguments);
    case Function::round: return round_number(node.name, arguments);
    case Function::floor:
    case Function::ceil: return floor_or_ceil(node.function, node.name, arguments);
    default: REHEARSE_ASSERT(false);
  }
  return failure("unreachable");
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the tree walk

class Evaluator {
 public:
  explicit Evaluator(const ColumnLookup& lookup) : lookup_(lookup) {}

  EvalResult evaluate(const ExprNode& node) const {
    switch (node.kind) {
      case Kind::literal: return success(node.literal);
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
        return success(Value::boolean(operand.value.is_null() != node.negated));
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

 private:
  EvalResult column(const ExprNode& node) const {
    const Value* value = lookup_(node.name);
    if (value == nullptr) return failure(fmt::format("unknown column '{}'", node.name));
    return success(*value);
  }

  EvalResult sign(const ExprNode& node) const {
    EvalResult operand = evaluate(*node.arguments[0]);
    if (!operand.ok || operand.value.is_null()) return operand;
    const char* symbol = node.kind == Kind::negate ? "-" : "+";
    if (!is_number(operand.value)) {
      return failure(fmt::format("operator does not exist: {} {}", symbol,
                                 type_name(operand.value.kind())));
    }
    if (node.kind == Kind::unary_plus) return operand;
    return arithmetic(Operator::subtract, Value::integer(0), operand.value);
  }

  EvalResult binary(const ExprNode& node) const {
    EvalResult left = evaluate(*node.arguments[0]);
    if (!left.ok) return left;
    EvalResult right = evaluate(*node.arguments[1]);
    if (!right.ok) return right;
    if (left.value.is_null() || right.value.is_null()) return success(Value::null());
    const Operator op = node.binary_operator;
    if (op == Operator::concatenate) return concatenate(left.value, right.value);
    left = coerce_quoted_literal(*node.arguments[0], std::move(left.value), right.value.kind());
    if (!left.ok) return left;
    right = coerce_quoted_literal(*node.arguments[1], std::move(right.value), left.value.kind());
    if (!right.ok) return right;
    if (is_arithmetic(op)) return arithmetic(op, left.value, right.value);
    return compare(op, left.value, right.value);
  }

  // The operand of AND / OR / NOT / WHEN: boolean or NULL.
  EvalResult boolean_operand(const ExprNode& node, std::string_view context) const {
    EvalResult operand = evaluate(node);
    if (!operand.ok) return operand;
    operand = coerce_quoted_literal(node, std::move(operand.value), Value::Kind::boolean);
    if (!operand.ok) return operand;
    const Value::Kind kind = operand.value.kind();
    if (kind != Value::Kind::boolean && kind != Value::Kind::null) {
      return failure(fmt::format("argument of {} must be type boolean, not type {}", context,
                                 type_name(kind)));
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
  EvalResult when_matches(const ExprNode& condition, const Value* operand) const {
    if (operand == nullptr) return boolean_operand(condition, "CASE/WHEN");
    EvalResult candidate = evaluate(condition);
    if (!candidate.ok) return candidate;
    if (operand->is_null() || candidate.value.is_null()) return success(Value::boolean(false));
    candidate = coerce_quoted_literal(condition, std::move(candidate.value), operand->kind());
    if (!candidate.ok) return candidate;
    return compare(Operator::equal, *operand, candidate.value);
  }

  EvalResult case_when(const ExprNode& node) const {
    EvalResult operand;
    if (node.case_operand != nullptr) {
      operand = evaluate(*node.case_operand);
      if (!operand.ok) return operand;
    }
    for (const ExprNode::WhenClause& clause : node.when_clauses) {
      const EvalResult matches =
          when_matches(*clause.condition, node.case_operand != nullptr ? &operand.value : nullptr);
      if (!matches.ok) return matches;
      if (matches.value == Value::boolean(true)) return promoted(node, evaluate(*clause.result));
    }
    if (node.else_result == nullptr) return success(Value::null());
    return promoted(node, evaluate(*node.else_result));
  }

  static EvalResult promoted(const ExprNode& node, EvalResult result) {
    if (result.ok && node.yields_numeric) {
      result.value = promote_to_numeric(std::move(result.value));
    }
    return result;
  }

  EvalResult function(const ExprNode& node) const {
    switch (node.function) {
      case Function::coalesce: return coalesce(node);
      case Function::greatest:
      case Function::least: return extreme(node);
      case Function::nullif: return nullif(node);
      default: break;
    }
    std::vector<Value> arguments;
    bool any_null = false;
    for (const NodePointer& argument : node.arguments) {
      EvalResult value = evaluate(*argument);
      if (!value.ok) return value;
      any_null = any_null || value.value.is_null();
      arguments.push_back(std::move(value.value));
    }
    if (any_null) return success(Value::null());
    return strict_function(node, arguments);
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
    if (!second.ok || first.value.is_null() || second.value.is_null()) {
      return second.ok ? promoted(node, std::move(first)) : second;
    }
    second = coerce_quoted_literal(*node.arguments[1], std::move(second.value), first.value.kind());
    if (!second.ok) return second;
    const EvalResult equal = compare(Operator::equal, first.value, second.value);
    if (!equal.ok) return equal;
    return equal.value.as_bool() ? success(Value::null()) : promoted(node, std::move(first));
  }

  // greatest / least: the extreme non-NULL argument (NULL when all are NULL). Quoted literals
  // take the type of the first other argument, as PostgreSQL resolves "unknown".
  EvalResult extreme(const ExprNode& node) const {
    const bool greatest = node.function == Function::greatest;
    std::vector<std::pair<const ExprNode*, Value>> values;
    std::optional<Value::Kind> target;  // the kind of the first argument that is not quoted
    bool any_numeric = node.yields_numeric;
    for (const NodePointer& argument : node.arguments) {
      EvalResult value = evaluate(*argument);
      if (!value.ok) return value;
      if (value.value.is_null()) continue;
      if (!argument->quoted_literal && !target) target = value.value.kind();
      any_numeric = any_numeric || value.value.kind() == Value::Kind::numeric;
      values.emplace_back(argument.get(), std::move(value.value));
    }
    Value best;
    for (auto& [argument, value] : values) {
      EvalResult coerced =
          coerce_quoted_literal(*argument, std::move(value), target.value_or(Value::Kind::text));
      if (!coerced.ok) return coerced;
      if (best.is_null()) {
        best = std::move(coerced.value);
        continue;
      }
      const std::optional<int> order = order_values(coerced.value, best);
      if (!order) {
        return failure(fmt::format("{} types {} and {} cannot be matched",
                                   greatest ? "GREATEST" : "LEAST", type_name(best.kind()),
                                   type_name(coerced.value.kind())));
      }
      if (greatest ? *order > 0 : *order < 0) best = std::move(coerced.value);
    }
    return success(any_numeric ? promote_to_numeric(std::move(best)) : std::move(best));
  }

  const ColumnLookup& lookup_;
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

}  // namespace

// The one place that builds and opens Expr objects (a friend of Expr).
struct ExprAccess {
  static Expr make(NodePointer root, std::string text) {
    REHEARSE_ASSERT(root != nullptr);
    std::set<std::string> columns;
    collect_columns(*root, &columns);
    Expr expr;
    expr.root_ = std::move(root);
    expr.columns_.assign(columns.begin(), columns.end());
    expr.text_ = std::move(text);
    return expr;
  }

  static const ExprNode& root(const Expr& expr) {
    REHEARSE_ASSERT(!expr.empty());
    return *expr.root_;
  }
};

std::optional<Expr> parse_expression(const std::string& text, ExprParseError* error) {
  REHEARSE_ASSERT(error != nullptr);
  *error = ExprParseError{};
  std::vector<Token> tokens;
  if (!Lexer(text, error).run(&tokens)) return std::nullopt;
  NodePointer root = Parser(std::move(tokens), error).parse_all();
  if (root == nullptr) {
    REHEARSE_ASSERT(error->position > 0);
    REHEARSE_ASSERT(!error->message.empty());
    return std::nullopt;
  }
  return ExprAccess::make(std::move(root), text);
}

EvalResult evaluate(const Expr& expr, const ColumnLookup& lookup) {
  REHEARSE_ASSERT(lookup != nullptr);
  return Evaluator(lookup).evaluate(ExprAccess::root(expr));
}

std::string to_sql(const Expr& expr,
                   const std::function<std::string(const std::string&)>& quote_column) {
  REHEARSE_ASSERT(quote_column != nullptr);
  return render(ExprAccess::root(expr), quote_column);
}

}  // namespace rehearse
