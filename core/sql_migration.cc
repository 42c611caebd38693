// Reading a SQL migration file (core/sql_migration.h). libpg_query turns the file into a JSON
// parse tree, as for a schema file (core/schema_sql.cc); this file walks the statements in order
// and says what PostgreSQL does with each. Clauses it keeps as written (a DEFAULT, a CHECK, a SET
// expression) are cut out of the file's text: a column definition, a constraint or an index is
// read by handing the statement to read_schema_sql after a CREATE TABLE of its table, which
// cuts them the schema reader's way.
#include "core/sql_migration.h"

#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/pg_json.h"
#include "core/schema_sql.h"
#include "core/statements.h"
#include "core/tool_sections.h"
#include "core/utf8.h"

namespace rehearse {

namespace {

using namespace pg_json;  // field, text_field, strings, first_location, ... (core/pg_json.h)

constexpr std::size_t kSqlFileBytesMax = 16u << 20;  // a migration file is a few kilobytes

// `public.x` is `x`; other schemas, pg_catalog too, stay.
std::string qualified(const std::vector<std::string>& parts) {
  return pg_json::qualified(parts, pg_json::ImplicitSchemas::public_only);
}

std::string relation_name(const Json& range_var) {
  return pg_json::relation_name(range_var, pg_json::ImplicitSchemas::public_only);
}

// A relation name as SQL, every part quoted (the schema reader unquotes it the same way).
std::string quoted_relation(const std::string& name) {
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos) return fmt::format("\"{}\"", name);
  return fmt::format("\"{}\".\"{}\"", name.substr(0, dot), name.substr(dot + 1));
}

// Every RangeVar of a parse tree: the relations a statement names. A node's field of type
// RangeVar (DeleteStmt.relation, ClusterStmt.relation, ...) is not wrapped in {"RangeVar": ...}
// as a list item is: it is known by its `relname`.
void range_vars(const Json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const bool unwrapped = it->is_object() && it->contains("relname");
      if ((it.key() == "RangeVar" || unwrapped) && it->is_object()) {
        const std::string name = relation_name(*it);
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      } else if (it->is_structured()) {
        range_vars(*it, out);
      }
    }
  } else if (node.is_array()) {
    for (const Json& item : node) range_vars(item, out);
  }
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Whether ADD COLUMN ... DEFAULT `text` rewrites the table (core/plan.cc has the same list): a
// volatile function is evaluated per row; constants and stable functions (now()) are stored once.
bool volatile_default(const std::string& text) {
  const std::string written = lower(text);
  for (const char* function : {"random(", "nextval(", "clock_timestamp(", "gen_random_uuid(", "uuid_generate_v", "timeofday("}) {
    if (written.find(function) != std::string::npos) return true;
  }
  return false;
}

// `30s`, `500ms`, `1min`, `2h`, `100us`, or a number of milliseconds, as PostgreSQL reads a
// GUC in milliseconds; nullopt when it is none of them.
std::optional<TimeUs> duration_setting(std::string text) {
  text = lower(text);
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const TimeUs number = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
  if (unit.empty() || unit == "ms") return number * kMs;
  if (unit == "us") return number;
  if (unit == "s") return number * kSec;
  if (unit == "min") return number * kMin;
  if (unit == "h") return number * kHour;
  if (unit == "d") return number * 24 * kHour;
  return std::nullopt;
}

// Byte offset -> 1-based line and character column.
struct Position {
  int line = 1;
  int column = 1;
};

Position at_byte(const std::string& text, std::size_t offset) {
  Position p;
  for (std::size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') p.line += 1, p.column = 1;
    else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) p.column += 1;
  }
  return p;
}

Position at_character(const std::string& text, int cursor) {
  Position p;
  int characters = 1;
  for (std::size_t i = 0; i < text.size() && characters < cursor; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    ++characters;
    if (text[i] == '\n') p.line += 1, p.column = 1;
    else p.column += 1;
  }
  return p;
}

// The first byte at or after `offset` that is not a space or inside a comment.
std::size_t skip_space_and_comments(const std::string& text, std::size_t offset) {
  std::size_t i = offset;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.compare(i, 2, "--") == 0) {
      const std::size_t end = text.find('\n', i);
      i = end == std::string::npos ? text.size() : end + 1;
    } else if (text.compare(i, 2, "/*") == 0) {
      const std::size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

// A clause of `text` from `start`: up to the first ',' or ')' outside quotes and parentheses,
// or a keyword in `stops` at depth 0, or `end`; trimmed.
std::string clause(const std::string& text, std::size_t start, std::size_t end, const std::vector<std::string>& stops = {}) {
  end = std::min(end, text.size());
  int depth = 0;
  std::size_t i = start;
  for (; i < end; ++i) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      const std::size_t close = text.find(c, i + 1);
      i = close == std::string::npos ? end : close;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if ((c == ',' || c == ')' || c == ';') && depth == 0) {
      break;
    } else if (depth == 0 && (i == start || !std::isalnum(static_cast<unsigned char>(text[i - 1])))) {
      bool stop = false;
      for (const std::string& word : stops) {
        const std::size_t after = i + word.size();
        if (after <= end && lower(text.substr(i, word.size())) == word &&
            (after == end || !std::isalnum(static_cast<unsigned char>(text[after])))) {
          stop = true;
        }
      }
      if (stop) break;
    }
  }
  std::size_t from = start;
  std::size_t to = i;
  while (from < to && std::isspace(static_cast<unsigned char>(text[from]))) ++from;
  while (to > from && std::isspace(static_cast<unsigned char>(text[to - 1]))) --to;
  return text.substr(from, to - from);
}

// Whether `text` names `table` as a word (case-insensitively; a schema-qualified name by its
// last part too).
bool names_table(const std::string& text_lower, const std::string& table) {
  const std::string name = lower(table);
  for (std::size_t at = text_lower.find(name); at != std::string::npos; at = text_lower.find(name, at + 1)) {
    const bool start = at == 0 || !(std::isalnum(static_cast<unsigned char>(text_lower[at - 1])) || text_lower[at - 1] == '_');
    const std::size_t after = at + name.size();
    const bool end = after >= text_lower.size() || !(std::isalnum(static_cast<unsigned char>(text_lower[after])) || text_lower[after] == '_');
    if (start && end) return true;
  }
  return false;
}

// The statement's name as PostgreSQL's command tag has it.
std::string statement_name(const std::string& node_kind, const Json& node) {
  static const std::map<std::string, std::string> kNames = {
      {"AlterTableStmt", "ALTER TABLE"}, {"IndexStmt", "CREATE INDEX"}, {"CreateStmt", "CREATE TABLE"},
      {"DropStmt", "DROP"}, {"RenameStmt", "ALTER ... RENAME"}, {"CreateTrigStmt", "CREATE TRIGGER"},
      {"UpdateStmt", "UPDATE"}, {"InsertStmt", "INSERT"}, {"DeleteStmt", "DELETE"}, {"SelectStmt", "SELECT"},
      {"TransactionStmt", "BEGIN / COMMIT"}, {"VariableSetStmt", "SET"}, {"VariableShowStmt", "SHOW"},
      {"CommentStmt", "COMMENT"}, {"DoStmt", "DO"}, {"CreateFunctionStmt", "CREATE FUNCTION"},
      {"CallStmt", "CALL"}, {"ExecuteStmt", "EXECUTE"}, {"VacuumStmt", "VACUUM / ANALYZE"},
      {"CreateEnumStmt", "CREATE TYPE ... AS ENUM"}, {"AlterEnumStmt", "ALTER TYPE"}, {"CreateExtensionStmt", "CREATE EXTENSION"},
      {"CreateSchemaStmt", "CREATE SCHEMA"}, {"CreateSeqStmt", "CREATE SEQUENCE"}, {"AlterSeqStmt", "ALTER SEQUENCE"},
      {"GrantStmt", "GRANT / REVOKE"}, {"GrantRoleStmt", "GRANT ROLE"}, {"CreateRoleStmt", "CREATE ROLE"},
      {"CompositeTypeStmt", "CREATE TYPE"}, {"CreateDomainStmt", "CREATE DOMAIN"}, {"DefineStmt", "CREATE"},
      {"ViewStmt", "CREATE VIEW"}, {"AlterOwnerStmt", "ALTER ... OWNER TO"}, {"LockStmt", "LOCK TABLE"},
      {"TruncateStmt", "TRUNCATE"}, {"ReindexStmt", "REINDEX"}, {"ClusterStmt", "CLUSTER"},
      {"CreateTableAsStmt", "CREATE TABLE AS"}, {"RefreshMatViewStmt", "REFRESH MATERIALIZED VIEW"},
      {"CreatePolicyStmt", "CREATE POLICY"}, {"AlterPolicyStmt", "ALTER POLICY"}};
  if (node_kind == "CreateFunctionStmt" && bool_field(node, "is_procedure")) return "CREATE PROCEDURE";
  const auto it = kNames.find(node_kind);
  if (it != kNames.end()) return it->second;
  std::string name = node_kind.substr(0, node_kind.size() >= 4 && node_kind.ends_with("Stmt") ? node_kind.size() - 4 : node_kind.size());
  return name;
}

// The statement kinds that touch no table's rows or locks.
bool catalog_only_kind(const std::string& node_kind) {
  static const std::set<std::string> kKinds = {
      "VariableSetStmt", "VariableShowStmt", "CreateEnumStmt", "AlterEnumStmt", "CreateExtensionStmt", "CreateSchemaStmt",
      "CreateSeqStmt", "AlterSeqStmt", "GrantStmt", "GrantRoleStmt", "CreateRoleStmt", "AlterRoleStmt", "DropRoleStmt",
      "CompositeTypeStmt", "CreateDomainStmt", "DefineStmt", "ViewStmt", "AlterOwnerStmt", "AlterDefaultPrivilegesStmt",
      "CreateCastStmt", "NotifyStmt", "ListenStmt", "AlterExtensionStmt", "CreateConversionStmt", "AlterFunctionStmt"};
  return kKinds.count(node_kind) > 0;
}

// What the reader knows of the schema while it walks the file: each table's columns (with the
// type as PostgreSQL prints it), its indexes and constraints, as the statements so far left them.
struct KnownTable {
  std::map<std::string, std::string> column_types;  // name -> sql type
  std::map<std::string, ConstraintKind> constraints;
  std::map<std::string, std::pair<std::string, bool>> checks;  // CHECK name -> (expression, validated)
};

// Whether CHECK `expression` is `column IS NOT NULL` (spaces, quotes, parentheses and case aside):
// a valid one lets SET NOT NULL skip its scan (PostgreSQL 12+).
bool proves_not_null(const std::string& expression, const std::string& column) {
  std::string compact;
  for (char c : lower(expression)) {
    if (!std::isspace(static_cast<unsigned char>(c)) && c != '"' && c != '(' && c != ')') compact += c;
  }
  return compact == lower(column) + "isnotnull";
}

class Reader {
 public:
  explicit Reader(const Scenario& scenario) : scenario_(scenario) {
    for (const TableSpec* table : all_tables(scenario)) {
      KnownTable& known = tables_[table->name];
      known.column_types["id"] = "bigint";
      for (const ColumnSpec& column : table->columns) known.column_types[column.name] = column.sql_type.empty() ? to_string(column.type) : column.sql_type;
      for (const ConstraintSpec& constraint : table->constraints) {
        known.constraints[constraint.name] = constraint.kind;
        if (constraint.kind == ConstraintKind::check) known.checks[constraint.name] = {constraint.check, constraint.validated};
      }
      for (const IndexSpec& index : table->indexes) index_tables_[index.name] = table->name;
      for (const ConstraintSpec& constraint : table->constraints) {
        if (constraint.kind == ConstraintKind::unique) index_tables_[constraint.name] = table->name;
      }
    }
  }

  // One file; what it does to the schema stays known to the next file read.
  SqlMigration read(const std::string& text, const std::string& file) {
    text_ = text;
    file_ = file;
    out_ = SqlMigration{};
    block_ = 0;
    if (text_.size() > kSqlFileBytesMax) {
      out_.errors.push_back({1, 0, fmt::format("the file is {} bytes, above the limit of {}", text_.size(), kSqlFileBytesMax)});
      return std::move(out_);
    }
    if (text_.find('\0') != std::string::npos) {
      out_.errors.push_back({1, 0, "the file holds a NUL character; expected SQL text"});
      return std::move(out_);
    }
    if (const std::size_t bad = invalid_utf8_offset(text_); bad != std::string_view::npos) {
      const Position p = at_byte(text_, bad);
      out_.errors.push_back({p.line, p.column, fmt::format("invalid byte sequence for encoding \"UTF8\": 0x{:02x}",
                                                           static_cast<unsigned char>(text_[bad]))});
      return std::move(out_);
    }
    const ToolSections tool = blank_down_sections(text_);
    const PgQueryParseResult result = pg_query_parse(text_.c_str());
    if (result.error != nullptr) {
      const Position p = at_character(text_, result.error->cursorpos);
      out_.errors.push_back({p.line, p.column, result.error->message != nullptr ? result.error->message : "syntax error"});
    } else {
      const Json tree = Json::parse(result.parse_tree);  // libpg_query writes valid JSON
      for (const Json& raw : field(tree, "stmts")) statement(raw);
      wrap_in_transactions(tool.transactions);
    }
    pg_query_free_parse_result(result);
    return std::move(out_);
  }

 private:
  void statement(const Json& raw) {
    const Json& stmt = field(raw, "stmt");
    if (!stmt.is_object() || stmt.empty()) return;
    const std::string node_kind = stmt.begin().key();
    const Json& node = stmt.begin().value();
    const auto location = static_cast<std::size_t>(std::max(int_field(raw, "stmt_location", 0), 0));
    const int length = int_field(raw, "stmt_len", 0);
    end_ = length > 0 ? location + static_cast<std::size_t>(length) : text_.size();
    start_ = skip_space_and_comments(text_, location);
    SqlStatement s;
    s.file = file_;
    const Position p = at_byte(text_, start_);
    s.line = p.line;
    s.column = p.column;
    s.text = text_.substr(start_, std::max(start_, end_) - start_);
    while (!s.text.empty() && (std::isspace(static_cast<unsigned char>(s.text.back())) || s.text.back() == ';')) s.text.pop_back();
    s.kind = statement_name(node_kind, node);
    s.block = block_;
    analyse(node_kind, node, s);
    if (s.effect == SqlEffect::begin) {
      s.block = block_ = ++blocks_;
    } else if (s.effect == SqlEffect::commit || s.effect == SqlEffect::rollback) {
      block_ = 0;
    }
    for (DdlStatement& ddl : s.ddl) {
      ddl.as_written = true;
      ddl.file = file_;
      ddl.line = s.line;
      ddl.purpose = "expand";
      if (ddl.sql.empty()) ddl.sql = s.text;
    }
    out_.statements.push_back(std::move(s));
  }

  // The transactions a migration tool runs parts of the file in (ToolSections: an up section, a
  // Liquibase changeset): a BEGIN at the part's marker and a COMMIT after its last statement, as
  // if written; not where the part controls its own transactions.
  void wrap_in_transactions(const std::vector<ToolSections::Transaction>& parts) {
    std::vector<SqlStatement>& statements = out_.statements;
    for (const ToolSections::Transaction& part : parts) {
      auto inside = [&part](const SqlStatement& s) { return s.line >= part.first_line && s.line <= part.last_line; };
      const auto first = std::find_if(statements.begin(), statements.end(), inside);
      if (first == statements.end()) continue;  // a part with no statement
      const auto last = std::find_if(first, statements.end(), [&inside](const SqlStatement& s) { return !inside(s); });
      const bool controls_its_own = std::any_of(first, last, [](const SqlStatement& s) {
        return s.effect == SqlEffect::begin || s.effect == SqlEffect::commit || s.effect == SqlEffect::rollback;
      });
      if (controls_its_own) continue;
      const int block = ++blocks_;
      for (auto it = first; it != last; ++it) it->block = block;
      auto bracket = [&](const char* text, SqlEffect effect, int line) {
        SqlStatement s;
        s.file = file_;
        s.line = line;
        s.column = 1;
        s.text = text;
        s.kind = text;
        s.effect = effect;
        s.block = block;
        return s;
      };
      const int commit_line = std::max(part.last_line, std::prev(last)->line);
      const std::ptrdiff_t begin_at = first - statements.begin();
      const std::ptrdiff_t commit_at = last - statements.begin();  // both taken before the inserts move them
      statements.insert(statements.begin() + commit_at, bracket("COMMIT", SqlEffect::commit, commit_line));
      statements.insert(statements.begin() + begin_at, bracket("BEGIN", SqlEffect::begin, std::max(part.first_line, 1)));
    }
  }

  void analyse(const std::string& node_kind, const Json& node, SqlStatement& s) {
    if (node_kind == "TransactionStmt") return transaction(node, s);
    if (node_kind == "VariableSetStmt") return set_variable(node, s);
    if (node_kind == "AlterTableStmt") return alter_table(node, s);
    if (node_kind == "IndexStmt") return create_index(node, s);
    if (node_kind == "CreateStmt") return create_table(node, s);
    if (node_kind == "DropStmt") return drop(node, s);
    if (node_kind == "RenameStmt") return rename(node, s);
    if (node_kind == "CreateTrigStmt") return on_table(DdlStatement::Kind::create_trigger, relation_name(field(node, "relation")), s);
    if (node_kind == "UpdateStmt") return update(node, s);
    if (node_kind == "InsertStmt" || node_kind == "DeleteStmt" || node_kind == "SelectStmt") return dml(node_kind, node, s);
    if (node_kind == "CommentStmt") return comment(node, s);
    if (node_kind == "TruncateStmt") return truncate(node, s);
    if (node_kind == "CreateTableAsStmt") return create_table_as(node, s);
    if (node_kind == "CreatePolicyStmt" || node_kind == "AlterPolicyStmt") {
      return on_table(DdlStatement::Kind::policy, relation_name(field(node, "table")), s);
    }
    if (node_kind == "DoStmt") return opaque_by_text(s, "a DO block's body is not analysed");
    if (node_kind == "CreateFunctionStmt") {
      if (!tables_in_text(s.text).empty()) return opaque_by_text(s, "a function body that names tables is not analysed");
      s.effect = SqlEffect::catalog_only;
      return;
    }
    if (node_kind == "CallStmt" || node_kind == "ExecuteStmt") return opaque_by_text(s, "dynamic SQL and procedure calls are not analysed");
    if (catalog_only_kind(node_kind)) {
      s.effect = SqlEffect::catalog_only;
      return;
    }
    if (node_kind == "VacuumStmt") s.in_transaction = !bool_field(node, "is_vacuumcmd");
    if (node_kind == "ReindexStmt") s.in_transaction = s.text.find("CONCURRENTLY") == std::string::npos && lower(s.text).find("concurrently") == std::string::npos;
    opaque_by_tree(node, s, fmt::format("{} is not modelled", s.kind));
  }

  // ---------------------------------------------------------------------------------------------
  // What PostgreSQL does, statement by statement

  void transaction(const Json& node, SqlStatement& s) {
    const std::string kind = text_field(node, "kind");
    if (kind == "TRANS_STMT_BEGIN" || kind == "TRANS_STMT_START") {
      s.effect = SqlEffect::begin;
    } else if (kind == "TRANS_STMT_COMMIT") {
      s.effect = SqlEffect::commit;
    } else if (kind == "TRANS_STMT_ROLLBACK") {
      s.effect = SqlEffect::rollback;
    } else {
      opaque_by_tree(node, s, "a transaction command other than BEGIN / COMMIT is not modelled");
    }
  }

  void set_variable(const Json& node, SqlStatement& s) {
    s.effect = SqlEffect::catalog_only;
    const std::string name = lower(text_field(node, "name"));
    if (name != "lock_timeout" && name != "statement_timeout") return;
    TimeUs value = -1;  // RESET / DEFAULT: back to the session's (the engine's) setting
    if (text_field(node, "kind") == "VAR_SET_VALUE") {
      const Json& args = field(node, "args");
      const Json& constant = args.is_array() && !args.empty() ? field(args[0], "A_Const") : Json();
      std::string written = text_field(field(constant, "sval"), "sval");
      if (written.empty()) written = std::to_string(int_field(field(constant, "ival"), "ival", 0));
      if (const std::optional<TimeUs> parsed = duration_setting(written)) value = *parsed;
    }
    (name == "lock_timeout" ? s.lock_timeout_us : s.statement_timeout_us) = value;
    if (value < 0) (name == "lock_timeout" ? s.lock_timeout_us : s.statement_timeout_us) = kSqlSettingReset;
  }

  DdlStatement ddl(DdlStatement::Kind kind, const std::string& table, const std::string& column = {}) const {
    DdlStatement statement;
    statement.kind = kind;
    statement.table = table;
    statement.column = column;
    return statement;
  }

  void on_table(DdlStatement::Kind kind, const std::string& table, SqlStatement& s) {
    s.effect = SqlEffect::ddl;
    s.ddl.push_back(ddl(kind, table));
  }

  // The column (or constraint, or index) a clause of this statement adds, read the schema
  // reader's way from `CREATE TABLE <table> (); <statement>`.
  TableSpec read_as_schema(const std::string& table, const std::string& statement_text) const {
    const std::string schema = fmt::format("CREATE TABLE {} ();\n{};", quoted_relation(table), statement_text);
    SchemaSql read = read_schema_sql(schema, file_);
    for (TableSpec& t : read.tables) {
      if (t.name == table) return std::move(t);
    }
    return TableSpec{};
  }

  std::string column_type(const std::string& table, const std::string& column) const {
    const auto t = tables_.find(table);
    if (t == tables_.end()) return "";
    const auto c = t->second.column_types.find(column);
    return c == t->second.column_types.end() ? "" : c->second;
  }

  void alter_table(const Json& node, SqlStatement& s) {
    if (text_field(node, "objtype") != "OBJECT_TABLE") {
      if (text_field(node, "objtype") == "OBJECT_SEQUENCE") {
        s.effect = SqlEffect::catalog_only;
        return;
      }
      return opaque_by_tree(node, s, "ALTER INDEX / VIEW / ... is not modelled");
    }
    const std::string table = relation_name(field(node, "relation"));
    const bool table_if_exists = bool_field(node, "missing_ok");
    const TableSpec added = read_as_schema(table, s.text);
    std::vector<DdlStatement> statements;
    for (const Json& item : field(node, "cmds")) {
      const Json& command = field(item, "AlterTableCmd");
      std::string why;
      if (!alter_command(table, command, added, statements, &why)) return opaque_by_tree(node, s, why);
    }
    s.effect = SqlEffect::ddl;
    s.if_exists = table_if_exists;
    s.idempotent_form = false;
    for (DdlStatement& statement : statements) {
      s.if_exists = s.if_exists || statement.if_exists;
      const auto kind = statement.kind;
      s.idempotent_form = s.idempotent_form || kind == DdlStatement::Kind::add_column || kind == DdlStatement::Kind::drop_column ||
                          kind == DdlStatement::Kind::drop_constraint;
      statement.if_exists = statement.if_exists || table_if_exists;
      s.ddl.push_back(std::move(statement));
    }
  }

  // One action of ALTER TABLE; false (with *why) for one the model does not have.
  bool alter_command(const std::string& table, const Json& command, const TableSpec& added, std::vector<DdlStatement>& out, std::string* why) {
    const std::string subtype = text_field(command, "subtype");
    const std::string name = text_field(command, "name");
    const bool missing_ok = bool_field(command, "missing_ok");
    KnownTable& known = tables_[table];
    if (subtype == "AT_AddColumn") {
      const Json& def = field(field(command, "def"), "ColumnDef");
      DdlStatement add = ddl(DdlStatement::Kind::add_column, table, text_field(def, "colname"));
      const auto column = std::find_if(added.columns.begin(), added.columns.end(), [&add](const ColumnSpec& c) { return c.name == add.column; });
      if (column != added.columns.end()) {
        add.type = column->type;
        add.default_sql = column->default_sql;
        add.not_null = column->not_null;
        known.column_types[add.column] = column->sql_type.empty() ? to_string(column->type) : column->sql_type;
      } else {
        known.column_types[add.column] = "text";  // a type the simulator does not draw: held as text
      }
      add.volatile_default = !add.default_sql.empty() && volatile_default(add.default_sql);
      add.if_exists = missing_ok;
      out.push_back(add);
      // The column's own constraints (REFERENCES, CHECK, UNIQUE), validated as they are added.
      for (const ConstraintSpec& constraint : added.constraints) {
        if (std::find(constraint.columns.begin(), constraint.columns.end(), add.column) != constraint.columns.end()) {
          add_constraint(table, constraint, "", out);
        }
      }
      return true;
    }
    if (subtype == "AT_DropColumn") {
      DdlStatement drop = ddl(DdlStatement::Kind::drop_column, table, name);
      drop.if_exists = missing_ok;
      known.column_types.erase(name);
      out.push_back(drop);
      return true;
    }
    if (subtype == "AT_AlterColumnType") return alter_type(table, name, command, out, why);
    if (subtype == "AT_SetNotNull" || subtype == "AT_DropNotNull") {
      DdlStatement change = ddl(subtype == "AT_SetNotNull" ? DdlStatement::Kind::set_not_null : DdlStatement::Kind::drop_not_null, table, name);
      for (const auto& [check_name, check] : known.checks) {
        change.with_valid_check = change.with_valid_check || (check.second && proves_not_null(check.first, name));
      }
      out.push_back(change);
      return true;
    }
    if (subtype == "AT_ColumnDefault") {
      const Json& def = field(command, "def");
      DdlStatement change = ddl(def.is_object() ? DdlStatement::Kind::set_default : DdlStatement::Kind::drop_default, table, name);
      if (def.is_object()) change.default_sql = clause(text_, static_cast<std::size_t>(std::max(first_location(def), 0)), end_);
      out.push_back(change);
      return true;
    }
    if (subtype == "AT_AddConstraint") {
      const Json& constraint = field(field(command, "def"), "Constraint");
      const std::string index = text_field(constraint, "indexname");
      if (!index.empty()) {  // ADD CONSTRAINT k UNIQUE / PRIMARY KEY USING INDEX i
        DdlStatement attach = ddl(DdlStatement::Kind::add_unique_using_index, table);
        attach.constraint = text_field(constraint, "conname").empty() ? index : text_field(constraint, "conname");
        attach.index = index;
        known.constraints[attach.constraint] = ConstraintKind::unique;
        out.push_back(attach);
        return true;
      }
      const std::string type = text_field(constraint, "contype");
      const std::string constraint_name = text_field(constraint, "conname");
      for (const ConstraintSpec& spec : added.constraints) {
        if (!constraint_name.empty() && spec.name != constraint_name) continue;
        add_constraint(table, spec, "", out);
        return true;
      }
      if (type == "CONSTR_PRIMARY") {
        *why = "ADD PRIMARY KEY is not modelled";
        return false;
      }
      *why = fmt::format("ADD CONSTRAINT of type {} is not modelled", type.substr(type.find('_') + 1));
      return false;
    }
    if (subtype == "AT_ValidateConstraint") {
      DdlStatement validate = ddl(DdlStatement::Kind::validate_constraint, table);
      validate.constraint = name;
      if (auto check = known.checks.find(name); check != known.checks.end()) check->second.second = true;
      const auto found = known.constraints.find(name);
      validate.constraint_kind = found != known.constraints.end() && found->second == ConstraintKind::foreign_key ? ConstraintKind::foreign_key
                                                                                                                 : ConstraintKind::check;
      out.push_back(validate);
      return true;
    }
    if (subtype == "AT_DropConstraint") {
      DdlStatement drop = ddl(DdlStatement::Kind::drop_constraint, table);
      drop.constraint = name;
      drop.if_exists = missing_ok;
      known.constraints.erase(name);
      known.checks.erase(name);
      out.push_back(drop);
      return true;
    }
    if (subtype == "AT_ReplicaIdentity") {
      const Json& identity = field(field(command, "def"), "ReplicaIdentityStmt");
      DdlStatement set = ddl(DdlStatement::Kind::set_replica_identity, table);
      const std::string type = text_field(identity, "identity_type");
      set.identity = type == "f" ? "full" : type == "n" ? "nothing" : type == "i" ? "index" : "default";
      set.index = text_field(identity, "name");
      out.push_back(set);
      return true;
    }
    if (subtype == "AT_EnableRowSecurity" || subtype == "AT_DisableRowSecurity" || subtype == "AT_ForceRowSecurity" ||
        subtype == "AT_NoForceRowSecurity") {
      out.push_back(ddl(DdlStatement::Kind::row_security, table));
      return true;
    }
    if (subtype.rfind("AT_EnableTrig", 0) == 0 || subtype.rfind("AT_DisableTrig", 0) == 0) {  // ALL, USER, or one by name
      out.push_back(ddl(DdlStatement::Kind::trigger_state, table));
      return true;
    }
    if (subtype == "AT_AlterConstraint") {
      DdlStatement alter = ddl(DdlStatement::Kind::alter_constraint, table);
      alter.constraint = text_field(field(field(command, "def"), "Constraint"), "conname");
      out.push_back(alter);
      return true;
    }
    *why = fmt::format("ALTER TABLE action {} is not modelled", subtype.substr(subtype.find('_') + 1));
    return false;
  }

  // A CHECK or FOREIGN KEY as written (NOT VALID or not); a UNIQUE constraint builds its unique
  // index under the statement's ACCESS EXCLUSIVE lock, then becomes the constraint.
  void add_constraint(const std::string& table, const ConstraintSpec& spec, const std::string& /*unused*/, std::vector<DdlStatement>& out) {
    KnownTable& known = tables_[table];
    known.constraints[spec.name] = spec.kind;
    if (spec.kind == ConstraintKind::check) known.checks[spec.name] = {spec.check, spec.validated};
    if (spec.kind == ConstraintKind::unique) {
      DdlStatement index = ddl(DdlStatement::Kind::create_index, table, spec.name);
      index.columns = spec.columns;
      index.unique = true;
      index.concurrently = false;
      out.push_back(index);
      DdlStatement attach = ddl(DdlStatement::Kind::add_unique_using_index, table);
      attach.constraint = spec.name;
      attach.index = spec.name;
      attach.columns = spec.columns;
      out.push_back(attach);
      index_tables_[spec.name] = table;
      return;
    }
    DdlStatement add = ddl(spec.kind == ConstraintKind::check ? DdlStatement::Kind::add_check : DdlStatement::Kind::add_foreign_key, table);
    add.constraint = spec.name;
    add.columns = spec.columns;
    add.check = spec.check;
    add.ref_table = spec.ref_table;
    add.ref_columns = spec.ref_columns;
    add.on_delete = spec.on_delete;
    add.not_valid = !spec.validated;
    out.push_back(add);
  }

  // ALTER COLUMN TYPE: binary-coercible (no rewrite) when the new type only widens the old one
  // (varchar(n) to varchar(m >= n) or text, numeric(p, s) to numeric(q >= p, s) or numeric, the
  // same type) and no USING is written; otherwise a rewrite.
  bool alter_type(const std::string& table, const std::string& column, const Json& command, std::vector<DdlStatement>& out, std::string* why) {
    const Json& def = field(field(command, "def"), "ColumnDef");
    const Json& type_name = field(def, "typeName");
    const auto type_start = static_cast<std::size_t>(std::max(first_location(type_name), 0));
    const std::string written = clause(text_, type_start, end_, {"using", "collate"});
    std::string problem;
    const std::optional<SimulatedType> type = simulated_type(written, scenario_.enum_types, &problem);
    DdlStatement change = ddl(DdlStatement::Kind::alter_column_type, table, column);
    change.type = type ? type->type : ColumnType::text;
    if (const Json& using_expr = field(def, "raw_default"); using_expr.is_object()) {
      change.using_sql = clause(text_, static_cast<std::size_t>(std::max(first_location(using_expr), 0)), end_);
    }
    const std::string old_type = column_type(table, column);
    const std::string new_type = type ? type->sql_type : written;
    change.rewrites = !change.using_sql.empty() || !binary_coercible(old_type, new_type);
    tables_[table].column_types[column] = new_type;
    out.push_back(change);
    (void)why;
    return true;
  }

  static bool binary_coercible(const std::string& from, const std::string& to) {
    if (from.empty()) return false;  // unknown: assume the rewrite
    if (from == to) return true;
    auto length = [](const std::string& type, const char* base) -> int {
      int n = 0;
      char rest = 0;
      return std::sscanf(type.c_str(), (std::string(base) + "(%d)%c").c_str(), &n, &rest) == 1 ? n : -1;
    };
    const bool from_varchar = from == "character varying" || from.rfind("character varying(", 0) == 0;
    if (from_varchar && (to == "text" || to == "character varying")) return true;
    if (from_varchar && to.rfind("character varying(", 0) == 0) {
      const int old_length = length(from, "character varying");
      return old_length > 0 && length(to, "character varying") >= old_length;
    }
    if (from == "text" && to == "character varying") return true;
    int p = 0, s = 0, q = 0, t = 0;
    char rest = 0;
    if (std::sscanf(from.c_str(), "numeric(%d,%d)%c", &p, &s, &rest) == 2) {
      if (to == "numeric") return true;
      return std::sscanf(to.c_str(), "numeric(%d,%d)%c", &q, &t, &rest) == 2 && t == s && q >= p;
    }
    return false;
  }

  void create_index(const Json& node, SqlStatement& s) {
    const std::string table = relation_name(field(node, "relation"));
    const TableSpec read = read_as_schema(table, s.text);
    DdlStatement index = ddl(DdlStatement::Kind::create_index, table);
    if (!read.indexes.empty()) {
      const IndexSpec& spec = read.indexes.front();
      index.column = spec.name;
      index.columns = spec.columns;
      index.method = spec.method;
      index.predicate = spec.predicate;
    }
    index.unique = bool_field(node, "unique");
    index.concurrently = bool_field(node, "concurrent");
    index.if_exists = bool_field(node, "if_not_exists");
    index_tables_[index.column] = table;
    s.effect = SqlEffect::ddl;
    s.in_transaction = !index.concurrently;
    s.if_exists = index.if_exists;
    s.idempotent_form = true;
    s.ddl.push_back(index);
  }

  void create_table(const Json& node, SqlStatement& s) {
    const std::string table = relation_name(field(node, "relation"));
    SchemaSql read = read_schema_sql(s.text + ";", file_);
    DdlStatement create = ddl(DdlStatement::Kind::create_table, table);
    KnownTable& known = tables_[table];
    known.column_types["id"] = "bigint";
    for (const TableSpec& t : read.tables) {
      if (t.name != table) continue;
      create.table_columns = t.columns;
      for (const ColumnSpec& column : t.columns) known.column_types[column.name] = column.sql_type.empty() ? to_string(column.type) : column.sql_type;
      for (const ConstraintSpec& constraint : t.constraints) known.constraints[constraint.name] = constraint.kind;
    }
    create.if_exists = bool_field(node, "if_not_exists");
    s.effect = SqlEffect::ddl;
    s.if_exists = create.if_exists;
    s.idempotent_form = true;
    s.ddl.push_back(create);
  }

  void drop(const Json& node, SqlStatement& s) {
    std::string type = text_field(node, "removeType");
    const bool missing_ok = bool_field(node, "missing_ok");
    const bool concurrent = bool_field(node, "concurrent");
    if (type == "OBJECT_MATVIEW" && created_here(node)) type = "OBJECT_TABLE";  // one create_table_as made
    const bool on_a_table = type == "OBJECT_TRIGGER" || type == "OBJECT_POLICY";  // DROP TRIGGER / POLICY x ON t
    if (type != "OBJECT_INDEX" && type != "OBJECT_TABLE" && !on_a_table) {
      s.effect = SqlEffect::catalog_only;  // a type, function, sequence, view, schema, extension
      return;
    }
    s.effect = SqlEffect::ddl;
    s.if_exists = missing_ok;
    s.idempotent_form = true;
    s.in_transaction = !concurrent;
    for (const Json& object : field(node, "objects")) {
      const std::vector<std::string> parts = strings(field(field(object, "List"), "items"));
      if (parts.empty()) continue;
      if (on_a_table) {  // ACCESS EXCLUSIVE on t: a trigger's as an opaque statement would, a policy's as policy.c
        std::vector<std::string> relation(parts.begin(), parts.end() - 1);
        DdlStatement drop = ddl(type == "OBJECT_POLICY" ? DdlStatement::Kind::policy : DdlStatement::Kind::opaque_sql, qualified(relation));
        drop.if_exists = missing_ok;
        s.ddl.push_back(drop);
        continue;
      }
      const std::string name = qualified(parts);
      if (type == "OBJECT_TABLE") {
        DdlStatement drop = ddl(DdlStatement::Kind::drop_table, name);
        drop.if_exists = missing_ok;
        tables_.erase(name);
        s.ddl.push_back(drop);
        continue;
      }
      const auto table = index_tables_.find(name);
      if (table == index_tables_.end()) {
        // An index the schema does not show: nothing to drop in the simulation (PostgreSQL
        // would say it does not exist unless IF EXISTS).
        s.effect = missing_ok ? SqlEffect::catalog_only : SqlEffect::opaque;
        s.why = fmt::format("index {} is not in the schema", name);
        if (!missing_ok) s.tables = all_table_names();
        s.ddl.clear();
        return;
      }
      DdlStatement drop = ddl(DdlStatement::Kind::drop_index, table->second, name);
      drop.concurrently = concurrent;
      drop.if_exists = missing_ok;
      s.ddl.push_back(drop);
    }
  }

  void rename(const Json& node, SqlStatement& s) {
    const std::string type = text_field(node, "renameType");
    const std::string table = relation_name(field(node, "relation"));
    const std::string subname = text_field(node, "subname");
    const std::string newname = text_field(node, "newname");
    s.if_exists = bool_field(node, "missing_ok");
    if (type == "OBJECT_COLUMN") {
      DdlStatement rename = ddl(DdlStatement::Kind::rename_column, table, subname);
      rename.to = newname;
      KnownTable& known = tables_[table];
      if (const auto it = known.column_types.find(subname); it != known.column_types.end()) {
        known.column_types[newname] = it->second;
        known.column_types.erase(subname);
      }
      s.ddl.push_back(rename);
    } else if (type == "OBJECT_TABLE") {
      DdlStatement rename = ddl(DdlStatement::Kind::rename_table, table);
      rename.to = newname;
      if (auto it = tables_.find(table); it != tables_.end()) {
        tables_[newname] = it->second;
        tables_.erase(table);
      }
      s.ddl.push_back(rename);
    } else if (type == "OBJECT_TABCONSTRAINT") {
      DdlStatement rename = ddl(DdlStatement::Kind::rename_constraint, table);
      rename.constraint = subname;
      rename.to = newname;
      s.ddl.push_back(rename);
    } else {
      s.effect = SqlEffect::catalog_only;  // an index, a type, a function, ...
      return;
    }
    s.effect = SqlEffect::ddl;
  }

  // The text of an expression of the statement, up to `stops`. Its first token may follow
  // parentheses that open it (`(a + 1) * 2`, `(a = 1) OR b`): they are its own.
  std::string expression_text(const Json& expression, const std::vector<std::string>& stops) const {
    std::size_t at = static_cast<std::size_t>(std::max(first_location(expression), 0));
    for (std::size_t before = at; before > start_;) {
      const char c = text_[--before];
      if (c == '(') at = before;
      else if (!std::isspace(static_cast<unsigned char>(c))) break;
    }
    return clause(text_, at, end_, stops);
  }

  void update(const Json& node, SqlStatement& s) {
    DdlStatement update = ddl(DdlStatement::Kind::dml, relation_name(field(node, "relation")));
    update.dml = "UPDATE";
    for (const Json& target : field(node, "targetList")) {
      const Json& res = field(target, "ResTarget");
      update.assignments.emplace_back(text_field(res, "name"), expression_text(field(res, "val"), {"where", "from", "returning"}));
    }
    where(node, update);
    s.effect = SqlEffect::ddl;
    s.ddl.push_back(update);
  }

  // An UPDATE's or DELETE's WHERE: its text (the simulator evaluates it per row when rehearse's
  // expression subset reads it) and the id range it bounds, if it does.
  void where(const Json& node, DdlStatement& statement) const {
    const Json& condition = field(node, "whereClause");
    if (!condition.is_object() || condition.empty()) return;
    statement.where_sql = expression_text(condition, {"returning"});
    id_range(condition, statement);
  }

  // CREATE MATERIALIZED VIEW v AS SELECT ... / CREATE TABLE v AS SELECT ...: a new relation the
  // later statements can index, refresh and drop (in the simulation a table of no rows and no
  // column but `id`: what its query returns is not known), and ACCESS SHARE on every table its
  // query reads, as PostgreSQL's SELECT takes -- not the ACCESS EXCLUSIVE an opaque statement
  // is assumed to take.
  void create_table_as(const Json& node, SqlStatement& s) {
    const std::string table = relation_name(field(field(node, "into"), "rel"));
    DdlStatement create = ddl(DdlStatement::Kind::create_table, table);
    create.if_exists = bool_field(node, "if_not_exists");
    tables_[table].column_types["id"] = "bigint";
    as_created_.insert(table);
    s.ddl.push_back(create);
    std::vector<std::string> read;
    range_vars(field(node, "query"), read);
    std::erase(read, table);
    known_tables(read);
    select_from(read, s);
    s.effect = SqlEffect::ddl;
    s.if_exists = create.if_exists;
    s.idempotent_form = true;
  }

  // Whether every relation a DROP names was made by a CREATE ... AS of the file.
  bool created_here(const Json& node) const {
    for (const Json& object : field(node, "objects")) {
      const std::vector<std::string> parts = strings(field(field(object, "List"), "items"));
      if (parts.empty() || as_created_.count(qualified(parts)) == 0) return false;
    }
    return true;
  }

  // TRUNCATE t [, u ...]: every table it names loses its rows, under ACCESS EXCLUSIVE.
  void truncate(const Json& node, SqlStatement& s) {
    std::vector<std::string> tables;
    range_vars(field(node, "relations"), tables);
    for (const std::string& table : tables) {
      DdlStatement statement = ddl(DdlStatement::Kind::dml, table);
      statement.dml = "TRUNCATE";
      s.ddl.push_back(statement);
    }
    s.effect = SqlEffect::ddl;
  }

  // `WHERE id BETWEEN a AND b` (or id >= a AND id <= / < b): the rows an UPDATE batch touches.
  static void id_range(const Json& where, DdlStatement& statement) {
    auto constant = [](const Json& node) -> std::optional<std::int64_t> {
      const Json& value = field(node, "A_Const");
      if (!value.is_object() || !field(value, "ival").is_object()) return std::nullopt;
      return int_field(field(value, "ival"), "ival", 0);
    };
    auto is_id = [](const Json& node) {
      const std::vector<std::string> fields = strings(field(field(node, "ColumnRef"), "fields"));
      return !fields.empty() && fields.back() == "id";
    };
    const Json& between = field(where, "A_Expr");
    if (text_field(between, "kind") == "AEXPR_BETWEEN" && is_id(field(between, "lexpr"))) {
      const Json& items = field(field(field(between, "rexpr"), "List"), "items");
      if (items.is_array() && items.size() == 2) {
        const auto low = constant(items[0]);
        const auto high = constant(items[1]);
        if (low && high) statement.low_id = *low, statement.high_id = *high;
      }
      return;
    }
    const Json& both = field(where, "BoolExpr");
    if (text_field(both, "boolop") != "AND_EXPR") return;
    std::optional<std::int64_t> low, high;
    for (const Json& arg : field(both, "args")) {
      const Json& compare = field(arg, "A_Expr");
      if (!is_id(field(compare, "lexpr"))) continue;
      if (text_field(compare, "kind") == "AEXPR_BETWEEN") {  // id BETWEEN a AND b AND c IS NULL
        DdlStatement inner;
        id_range(arg, inner);
        if (inner.high_id >= inner.low_id) low = inner.low_id, high = inner.high_id;
        continue;
      }
      const std::vector<std::string> op = strings(field(compare, "name"));
      const auto value = constant(field(compare, "rexpr"));
      if (op.empty() || !value) continue;
      if (op[0] == ">=") low = *value;
      if (op[0] == ">") low = *value + 1;
      if (op[0] == "<=") high = *value;
      if (op[0] == "<") high = *value - 1;
    }
    if (low && high) statement.low_id = *low, statement.high_id = *high;
  }

  void dml(const std::string& node_kind, const Json& node, SqlStatement& s) {
    std::vector<std::string> tables;
    // The target of an INSERT or DELETE is its `relation`, a RangeVar the parse tree does not
    // wrap (range_vars finds only the wrapped ones: FROM, USING, subqueries).
    if (const Json& target = field(node, "relation"); target.is_object() && !target.empty()) tables.push_back(relation_name(target));
    range_vars(node, tables);
    const std::string target = tables.empty() ? "" : tables.front();
    known_tables(tables);
    if (tables.empty()) {  // SELECT set_config(...), SELECT pg_sleep(1), a view: no table of the schema
      s.effect = SqlEffect::catalog_only;
      return;
    }
    s.effect = SqlEffect::ddl;
    if (node_kind != "SelectStmt" && tables.front() == target) {  // not an INSERT into a view
      DdlStatement statement = ddl(DdlStatement::Kind::dml, target);
      statement.dml = node_kind == "InsertStmt" ? "INSERT" : "DELETE";
      if (statement.dml == "DELETE") where(node, statement);
      s.ddl.push_back(statement);
      tables.erase(tables.begin());
    }
    // What it reads: a SELECT's tables, the others of INSERT ... SELECT / DELETE ... USING.
    select_from(tables, s);
  }

  // Leaves out of `tables` what the schema does not show as a table (a view, say): it takes no
  // lock of the simulation.
  void known_tables(std::vector<std::string>& tables) const {
    std::erase_if(tables, [this](const std::string& table) { return tables_.count(table) == 0; });
  }

  // A SELECT's ACCESS SHARE on each of `tables`.
  void select_from(const std::vector<std::string>& tables, SqlStatement& s) const {
    for (const std::string& table : tables) {
      DdlStatement select = ddl(DdlStatement::Kind::dml, table);
      select.dml = "SELECT";
      s.ddl.push_back(select);
    }
  }

  void comment(const Json& node, SqlStatement& s) {
    const std::string type = text_field(node, "objtype");
    const std::vector<std::string> parts = strings(field(field(field(node, "object"), "List"), "items"));
    if ((type != "OBJECT_TABLE" && type != "OBJECT_COLUMN") || parts.empty()) {
      s.effect = SqlEffect::catalog_only;
      return;
    }
    DdlStatement comment = ddl(DdlStatement::Kind::comment, "");
    if (type == "OBJECT_COLUMN") {
      comment.column = parts.back();
      comment.table = qualified(std::vector<std::string>(parts.begin(), parts.end() - 1));
    } else {
      comment.table = qualified(parts);
    }
    comment.comment = text_field(node, "comment");
    s.effect = SqlEffect::ddl;
    s.ddl.push_back(comment);
  }

  // ---------------------------------------------------------------------------------------------
  // Opaque statements

  std::vector<std::string> all_table_names() const {
    std::vector<std::string> names;
    for (const auto& [name, known] : tables_) names.push_back(name);
    return names;
  }

  std::vector<std::string> tables_in_text(const std::string& text) const {
    const std::string written = lower(text);
    std::vector<std::string> named;
    for (const auto& [name, known] : tables_) {
      if (names_table(written, name)) named.push_back(name);
    }
    return named;
  }

  void opaque(SqlStatement& s, std::vector<std::string> tables, std::string why) {
    s.effect = SqlEffect::opaque;
    s.ddl.clear();
    s.why = std::move(why);
    std::vector<std::string> known;
    for (const std::string& table : tables) {
      if (tables_.count(table) > 0) known.push_back(table);
    }
    s.tables = known.empty() ? all_table_names() : known;
    for (const std::string& table : s.tables) {
      DdlStatement statement = ddl(DdlStatement::Kind::opaque_sql, table);
      s.ddl.push_back(statement);
    }
  }

  void opaque_by_tree(const Json& node, SqlStatement& s, std::string why) {
    std::vector<std::string> tables;
    range_vars(node, tables);
    opaque(s, tables, std::move(why));
  }

  void opaque_by_text(SqlStatement& s, std::string why) { opaque(s, tables_in_text(s.text), std::move(why)); }

  std::string text_;
  std::string file_;
  const Scenario& scenario_;
  SqlMigration out_;
  std::map<std::string, KnownTable> tables_;
  std::map<std::string, std::string> index_tables_;  // index -> its table
  std::set<std::string> as_created_;  // relations a CREATE [MATERIALIZED VIEW | TABLE] ... AS of the file made
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  int block_ = 0;
  int blocks_ = 0;
};

}  // namespace

const char* to_string(SqlEffect effect) {
  switch (effect) {
    case SqlEffect::ddl: return "ddl";
    case SqlEffect::catalog_only: return "catalog-only";
    case SqlEffect::opaque: return "opaque";
    case SqlEffect::begin: return "begin";
    case SqlEffect::commit: return "commit";
    case SqlEffect::rollback: return "rollback";
  }
  return "?";
}

SqlMigration read_sql_migration(const std::string& text, const std::string& file, const Scenario& scenario) {
  return Reader(scenario).read(text, file);
}

Result<std::vector<SqlStatement>> sql_statements(const Scenario& scenario) {
  Reader reader(scenario);
  std::vector<SqlStatement> statements;
  for (const SqlFile& file : scenario.migration.sql) {
    SqlMigration read = reader.read(file.text, file.path);
    if (!read.errors.empty()) {
      const SqlFileError& error = read.errors.front();
      return Status::invalid(fmt::format("{}:{}:{}: {}", file.path, error.line, error.column, error.message));
    }
    for (SqlStatement& statement : read.statements) statements.push_back(std::move(statement));
  }
  return statements;
}


// ---------------------------------------------------------------------------------------------
// expand-contract: statements as operations

namespace {

std::string where(const SqlStatement& s) { return fmt::format("{}:{}", s.file, s.line); }

Status unmappable(const SqlStatement& s, const std::string& why) {
  std::string text = s.text.substr(0, 80);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return Status::invalid(fmt::format("{}: `{}{}` cannot run expand-contract: {}", where(s), text, s.text.size() > 80 ? "..." : "", why));
}

Operation operation(OperationKind kind, const SqlStatement& s, const DdlStatement& d) {
  Operation op;
  op.kind = kind;
  op.table = d.table;
  op.column = d.column;
  op.line = s.line;
  return op;
}

// One DdlStatement of a statement as an operation; `next` is the statement's DdlStatement after
// it (ADD CONSTRAINT UNIQUE is a unique index and its attach). Returns the operations to add.
Result<std::vector<Operation>> map_ddl(const SqlStatement& s, const DdlStatement& d, const DdlStatement* previous) {
  using D = DdlStatement::Kind;
  std::vector<Operation> out;
  switch (d.kind) {
    case D::add_column: {
      Operation op = operation(OperationKind::add_column, s, d);
      op.type = d.type;
      if (d.not_null) op.nullable = false;
      if (!d.default_sql.empty()) op.default_sql = d.default_sql;
      out.push_back(op);
      break;
    }
    case D::drop_column: out.push_back(operation(OperationKind::drop_column, s, d)); break;
    case D::alter_column_type: {
      Operation op = operation(OperationKind::alter_column, s, d);
      op.type = d.type;
      op.up = d.using_sql;
      out.push_back(op);
      break;
    }
    case D::set_not_null:
    case D::drop_not_null: {
      Operation op = operation(OperationKind::alter_column, s, d);
      op.nullable = d.kind == D::drop_not_null;
      out.push_back(op);
      break;
    }
    case D::set_default:
    case D::drop_default: {
      Operation op = operation(OperationKind::alter_column, s, d);
      op.default_sql = d.kind == D::set_default ? d.default_sql : "";
      out.push_back(op);
      break;
    }
    case D::add_check:
    case D::add_foreign_key: {
      Operation op = operation(OperationKind::create_constraint, s, d);
      op.column.clear();
      op.name = d.constraint;
      op.constraints.push_back(ConstraintSpec{.kind = d.kind == D::add_check ? ConstraintKind::check : ConstraintKind::foreign_key,
                                              .name = d.constraint, .columns = d.columns, .check = d.check,
                                              .ref_table = d.ref_table, .ref_columns = d.ref_columns, .on_delete = d.on_delete});
      op.columns = d.columns;
      out.push_back(op);
      break;
    }
    case D::add_unique_using_index: {
      // ADD CONSTRAINT k UNIQUE (c): the index just before it was its own; USING INDEX of an
      // index built earlier is the step expand-contract takes itself.
      if (previous == nullptr || previous->kind != D::create_index || previous->column != d.index) {
        return unmappable(s, "ADD CONSTRAINT ... USING INDEX attaches an index built earlier; write ADD CONSTRAINT ... UNIQUE (columns)");
      }
      Operation op = operation(OperationKind::create_constraint, s, d);
      op.column.clear();
      op.name = d.constraint;
      op.columns = d.columns;
      op.constraints.push_back(ConstraintSpec{.kind = ConstraintKind::unique, .name = d.constraint, .columns = d.columns});
      out.push_back(op);
      break;
    }
    case D::validate_constraint: break;  // expand-contract validates what it adds NOT VALID itself
    case D::drop_constraint: {
      Operation op = operation(OperationKind::drop_constraint, s, d);
      op.name = d.constraint;
      out.push_back(op);
      break;
    }
    case D::create_index: {
      Operation op = operation(OperationKind::create_index, s, d);
      op.name = d.column;
      op.column.clear();
      op.columns = d.columns;
      op.unique = d.unique;
      op.method = d.method;
      op.predicate = d.predicate;
      out.push_back(op);
      break;
    }
    case D::drop_index: {
      Operation op = operation(OperationKind::drop_index, s, d);
      op.name = d.column;
      op.column.clear();
      out.push_back(op);
      break;
    }
    case D::rename_column: {
      Operation op = operation(OperationKind::rename_column, s, d);
      op.to = d.to;
      out.push_back(op);
      break;
    }
    case D::rename_table:
    case D::rename_constraint: {
      Operation op = operation(d.kind == D::rename_table ? OperationKind::rename_table : OperationKind::rename_constraint, s, d);
      op.name = d.kind == D::rename_table ? d.table : d.constraint;
      op.to = d.to;
      out.push_back(op);
      break;
    }
    case D::create_table: {
      Operation op = operation(OperationKind::create_table, s, d);
      op.name = d.table;
      op.table_columns = d.table_columns;
      out.push_back(op);
      break;
    }
    case D::drop_table: {
      Operation op = operation(OperationKind::drop_table, s, d);
      op.name = d.table;
      out.push_back(op);
      break;
    }
    case D::dml:
      return unmappable(s, d.dml == "UPDATE" ? "expand-contract backfills a column itself from its `up`: drop the UPDATE and "
                                              "write the new column's computation as the ALTER COLUMN TYPE ... USING, or run the file as-written"
                                            : "DML has no expand-contract operation");
    default: return unmappable(s, fmt::format("{} has no expand-contract operation", s.kind));
  }
  return out;
}

}  // namespace

Result<std::vector<Operation>> sql_operations(const std::vector<SqlStatement>& statements) {
  std::vector<Operation> operations;
  for (const SqlStatement& s : statements) {
    switch (s.effect) {
      case SqlEffect::begin:
      case SqlEffect::commit: continue;  // expand-contract runs its own transactions
      case SqlEffect::rollback: return unmappable(s, "a block the file rolls back has no expand-contract operations");
      case SqlEffect::opaque: return unmappable(s, fmt::format("it is opaque ({})", s.why));
      case SqlEffect::catalog_only: {
        if (s.kind == "SET" || s.kind == "SHOW") continue;  // the engine sets its own limits
        Operation op;
        op.kind = OperationKind::sql;  // pgroll's `sql`: run as it is, in expand
        op.up = s.text;
        op.line = s.line;
        operations.push_back(op);
        continue;
      }
      case SqlEffect::ddl: break;
    }
    for (std::size_t i = 0; i < s.ddl.size(); ++i) {
      Result<std::vector<Operation>> mapped = map_ddl(s, s.ddl[i], i > 0 ? &s.ddl[i - 1] : nullptr);
      if (!mapped.is_ok()) return mapped.status();
      for (Operation& op : mapped.value()) {
        // ADD CONSTRAINT UNIQUE: its index is the constraint's (the attach maps to both).
        if (op.kind == OperationKind::create_index && i + 1 < s.ddl.size() && s.ddl[i + 1].kind == DdlStatement::Kind::add_unique_using_index) continue;
        operations.push_back(std::move(op));
      }
    }
  }
  return operations;
}

// ---------------------------------------------------------------------------------------------
// Lint of a SQL file run as written

namespace {

struct SqlLinter {
  const Scenario& scenario;
  std::vector<LintFinding>& findings;
  std::set<std::string> created;  // tables this migration created: empty, nothing to block
  bool lock_timeout_set = false;
  std::set<std::pair<std::string, std::string>> added_columns;  // (table, column) the file added: no old code uses them

  void add(const SqlStatement& s, const char* id, LintSeverity severity, std::string message) {
    findings.push_back(LintFinding{id, severity, fmt::format("{}:{}: {}", s.file, s.line, message), s.file, s.line});
  }

  std::int64_t rows(const std::string& table) const {
    const TableSpec* spec = find_table(scenario, table);
    return spec == nullptr ? 0 : spec->rows;
  }

  bool existing(const std::string& table) const { return created.count(table) == 0; }

  // An UPDATE / DELETE whose WHERE is outside the expression subset: the simulator cannot tell
  // which rows it changes, so it changes none (sim/table.cc apply_dml).
  void where_not_evaluated(const SqlStatement& s) {
    for (const DdlStatement& d : s.ddl) {
      if (d.kind != DdlStatement::Kind::dml || (d.dml != "UPDATE" && d.dml != "DELETE") || d.where_sql.empty()) continue;
      ExprParseError error;
      if (parse_condition(fmt::format("CAST(({}) AS boolean)", d.where_sql), nullptr, &error)) continue;
      add(s, "sql-where-not-evaluated", LintSeverity::warning,
          fmt::format("{}'s WHERE is not evaluated ({}): its rows keep their values in the rehearsal, and its locks and cost "
                      "cover every row of {}",
                      d.dml, error.message, d.table));
    }
  }

  void statement(const SqlStatement& s) {
    if (s.lock_timeout_us > 0) lock_timeout_set = true;
    if (s.lock_timeout_us == 0 || s.lock_timeout_us == kSqlSettingReset) lock_timeout_set = false;
    if (s.effect == SqlEffect::opaque) {
      add(s, "sql-opaque", LintSeverity::warning,
          fmt::format("{} is not analysed ({}): assumed to take ACCESS EXCLUSIVE on {} for as long as it runs", s.kind, s.why,
                      fmt::join(s.tables, ", ")));
    }
    if (!s.in_transaction && s.block > 0) {
      add(s, "sql-concurrently-in-transaction", LintSeverity::error,
          fmt::format("{} cannot run inside a transaction block (BEGIN ... COMMIT): PostgreSQL refuses it and the whole block fails",
                      s.kind));
    }
    const bool retried = s.block == 0 && scenario.engine.ddl_retries > 0;
    if (retried && s.idempotent_form && !s.if_exists) {
      add(s, "sql-not-idempotent", LintSeverity::warning,
          fmt::format("{} without IF [NOT] EXISTS outside a transaction: re-run after a crash or a retry, it fails on what the "
                      "first run left (write IF [NOT] EXISTS)", s.kind));
    }
    for (std::size_t i = 0; i < s.ddl.size(); ++i) ddl(s, s.ddl[i], i + 1 < s.ddl.size() ? &s.ddl[i + 1] : nullptr);
    where_not_evaluated(s);
    blocking_without_timeout(s);
    for (const DdlStatement& d : s.ddl) {
      if (d.kind == DdlStatement::Kind::create_table) created.insert(d.table);
    }
  }

  // A statement whose lock the application's reads or writes queue behind, with no
  // lock_timeout set by the file before it.
  void blocking_without_timeout(const SqlStatement& s) {
    if (lock_timeout_set) return;
    for (const DdlStatement& d : s.ddl) {
      if (!existing(d.table) || d.kind == DdlStatement::Kind::create_table) continue;
      const StatementModel& model = statement_model(statement_kind(d));
      const std::optional<LockMode> mode = lock_on(model, RelationRole::table);
      if (!mode || !conflicts(*mode, LockMode::row_exclusive)) continue;
      add(s, "sql-no-lock-timeout", LintSeverity::warning,
          fmt::format("{} takes {} on {} with no SET lock_timeout earlier in the file: while it waits behind a long transaction, "
                      "every {} of the table queues behind it (only the runner's lock_timeout bounds the wait)",
                      s.kind, sql_name(*mode), d.table, conflicts(*mode, LockMode::access_share) ? "read and write" : "write"));
      return;
    }
  }

  void ddl(const SqlStatement& s, const DdlStatement& d, const DdlStatement* next) {
    using D = DdlStatement::Kind;
    const bool old_table = existing(d.table);
    switch (d.kind) {
      case D::add_column:
        added_columns.insert({d.table, d.column});
        if (d.not_null && d.default_sql.empty() && old_table) {
          add(s, "sql-not-null-without-default", LintSeverity::error,
              fmt::format("ADD COLUMN {} NOT NULL without a DEFAULT: it fails on a table with rows ({} has {}); add it nullable, "
                          "backfill, then SET NOT NULL through a validated CHECK", d.column, d.table, rows(d.table)));
        }
        if (d.volatile_default && old_table) {
          add(s, "sql-volatile-default-rewrites", LintSeverity::warning,
              fmt::format("ADD COLUMN {} DEFAULT {} is volatile: PostgreSQL rewrites all {} rows of {} under ACCESS EXCLUSIVE; add "
                          "the column without it, SET DEFAULT, and backfill in batches", d.column, d.default_sql, rows(d.table), d.table));
        }
        break;
      case D::create_index:
        if (!d.concurrently && old_table && !(next != nullptr && next->kind == D::add_unique_using_index)) {
          add(s, "sql-index-not-concurrent", LintSeverity::warning,
              fmt::format("CREATE INDEX {} without CONCURRENTLY: SHARE on {} blocks every write while it reads {} rows; use CREATE "
                          "INDEX CONCURRENTLY IF NOT EXISTS outside a transaction", d.column, d.table, rows(d.table)));
        }
        if (next != nullptr && next->kind == D::add_unique_using_index && old_table) {
          add(s, "sql-unique-without-index", LintSeverity::warning,
              fmt::format("ADD CONSTRAINT {} UNIQUE builds its index under ACCESS EXCLUSIVE on {} ({} rows); build a unique index "
                          "CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX", d.column, d.table, rows(d.table)));
        }
        break;
      case D::drop_index:
        if (!d.concurrently && old_table) {
          add(s, "sql-index-not-concurrent", LintSeverity::warning,
              fmt::format("DROP INDEX {} without CONCURRENTLY: ACCESS EXCLUSIVE on {}; use DROP INDEX CONCURRENTLY IF EXISTS",
                          d.column, d.table));
        }
        break;
      case D::add_check:
      case D::add_foreign_key:
        if (!d.not_valid && old_table) {
          add(s, "sql-constraint-validated", LintSeverity::warning,
              fmt::format("ADD CONSTRAINT {} without NOT VALID scans all {} rows of {} under {}; add it NOT VALID, then VALIDATE "
                          "CONSTRAINT (SHARE UPDATE EXCLUSIVE)", d.constraint, rows(d.table), d.table,
                          d.kind == D::add_check ? "ACCESS EXCLUSIVE" : "SHARE ROW EXCLUSIVE"));
        }
        break;
      case D::alter_column_type:
        if (d.rewrites && old_table) {
          add(s, "sql-type-change-rewrites", LintSeverity::warning,
              fmt::format("ALTER COLUMN {} TYPE rewrites all {} rows of {} under ACCESS EXCLUSIVE; add a new column, backfill it "
                          "and switch over (expand-contract)", d.column, rows(d.table), d.table));
        }
        break;
      case D::rename_column:
      case D::rename_table:
      case D::drop_column:
      case D::drop_table:
        if (d.kind == D::rename_column && added_columns.count({d.table, d.column}) > 0) added_columns.insert({d.table, d.to});
        if ((d.kind == D::rename_column || d.kind == D::drop_column) && added_columns.count({d.table, d.column}) > 0) break;
        if (old_table) {
          const bool rename = d.kind == D::rename_column || d.kind == D::rename_table;
          const std::string what = d.kind == D::rename_column || d.kind == D::drop_column ? "column " + d.column + " of " + d.table : "table " + d.table;
          add(s, "sql-breaks-old-code", LintSeverity::warning,
              fmt::format("{} {} breaks the application code still running that uses it; {} only once no running code "
                          "reads or writes it (expand-contract does this in contract)",
                          rename ? "renaming" : "dropping", what, rename ? "add the new name, copy, and drop the old one" : "drop it"));
        }
        break;
      case D::set_not_null:
        if (old_table && !d.with_valid_check) {
          add(s, "sql-set-not-null-scans", LintSeverity::warning,
              fmt::format("SET NOT NULL on {}.{} scans all {} rows under ACCESS EXCLUSIVE unless a valid CHECK ({} IS NOT NULL) "
                          "exists; add that CHECK NOT VALID and VALIDATE it first", d.table, d.column, rows(d.table), d.column));
        }
        break;
      case D::dml:
        if (d.dml == "UPDATE" && d.high_id < d.low_id && old_table && rows(d.table) > scenario.engine.batch_size) {
          add(s, "sql-unbatched-update", LintSeverity::warning,
              fmt::format("UPDATE of every row of {} ({} rows) in one statement holds their row locks until it commits; update in "
                          "id-range batches (WHERE id BETWEEN ...)", d.table, rows(d.table)));
        }
        break;
      default: break;
    }
  }
};

}  // namespace

std::vector<LintFinding> lint_sql(const Scenario& scenario, const std::vector<SqlStatement>& statements) {
  std::vector<LintFinding> findings;
  SqlLinter linter{scenario, findings, {}, false, {}};
  for (const SqlStatement& s : statements) linter.statement(s);
  return findings;
}

}  // namespace rehearse
