// Reading a schema file with PostgreSQL's parser (core/schema_sql.h). libpg_query turns the file
// into a JSON parse tree (as core/expr_parse.cc does for expressions); this file walks the
// statements in order and builds the tables. Text that the model keeps "as written" (a DEFAULT,
// a CHECK, an index's expression or WHERE) is cut out of the file at the positions the parse
// tree gives: the tree says where each clause starts, and the clause ends at the first comma or
// closing parenthesis outside quotes and parentheses.
#include "core/schema_sql.h"

#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/pg_json.h"
#include "core/statements.h"
#include "core/table_shape.h"
#include "core/utf8.h"

namespace rehearse {

namespace {

// The longest schema file read; a pg_dump of a few thousand tables is a few megabytes.
constexpr std::size_t kSchemaBytesMax = 64u << 20;
// The longest type name a scenario may write (`character varying(255)` is 22).
constexpr std::size_t kTypeNameBytesMax = 200;

using namespace pg_json;  // field, text_field, strings, first_location, ... (core/pg_json.h)

// `public.x` is `x` (the schema a pg_dump'ed search_path resolves to), and so is `pg_catalog.x`
// (a type such as pg_catalog.int4); other schemas stay.
std::string qualified(const std::vector<std::string>& parts) {
  return pg_json::qualified(parts, pg_json::ImplicitSchemas::public_and_pg_catalog);
}

std::string relation_name(const Json& range_var) {
  return pg_json::relation_name(range_var, pg_json::ImplicitSchemas::public_and_pg_catalog);
}

// An integer constant of a type modifier (`varchar(20)`); libpg_query leaves zero out.
int const_int(const Json& node) { return int_field(field(field(node, "A_Const"), "ival"), "ival", 0); }

// ---------------------------------------------------------------------------------------------
// Types

std::string with_modifiers(const std::string& base, const std::vector<int>& modifiers) {
  if (modifiers.empty()) return base;
  std::string out = base + "(";
  for (std::size_t i = 0; i < modifiers.size(); ++i) out += (i ? "," : "") + std::to_string(modifiers[i]);
  return out + ")";
}

// PostgreSQL's spelling of a TypeName node, as format_type() prints it.
std::string type_spelling(const Json& type_name, bool* array) {
  const std::vector<std::string> names = strings(field(type_name, "names"));
  std::vector<int> modifiers;
  if (const Json& mods = field(type_name, "typmods"); mods.is_array()) {
    for (const Json& mod : mods) modifiers.push_back(const_int(mod));
  }
  *array = field(type_name, "arrayBounds").is_array();
  if (names.empty()) return "";
  const std::string& name = names.back();
  // The grammar qualifies the types it has keywords for (`int`, `varchar`, `timestamp with time
  // zone`); their internal names written plainly (`int4`, `timestamptz`) come unqualified.
  if ((names.size() == 2 && names.front() == "pg_catalog") || names.size() == 1) {
    static const std::map<std::string, std::string> kCatalog = {
        {"int2", "smallint"}, {"int4", "integer"}, {"int8", "bigint"}, {"float4", "real"},
        {"float8", "double precision"}, {"bool", "boolean"}, {"varchar", "character varying"},
        {"bpchar", "character"}, {"numeric", "numeric"}, {"interval", "interval"}, {"bit", "bit"},
        {"varbit", "bit varying"}, {"decimal", "numeric"}};
    if (name == "timestamp" || name == "timestamptz" || name == "time" || name == "timetz") {
      const bool zone = name.back() == 'z';
      const std::string base = name.substr(0, zone ? name.size() - 2 : name.size());
      return with_modifiers(base, modifiers) + (zone ? " with time zone" : " without time zone");
    }
    if (const auto it = kCatalog.find(name); it != kCatalog.end()) return with_modifiers(it->second, modifiers);
  }
  return with_modifiers(qualified(names), modifiers);
}

// The digits of `n` nines: the largest value of n decimal digits.
std::int64_t all_nines(int digits) {
  std::int64_t value = 0;
  for (int i = 0; i < digits; ++i) value = value * 10 + 9;
  return value;
}

// Whether `label` can be one of one_of(...)'s choices as written (core/gen.h drops spaces and
// splits at commas).
bool gen_safe(const std::string& label) {
  return !label.empty() && label.find_first_of(", ()") == std::string::npos;
}

// A user type's name as format_type() prints it: each part of `schema.name` in double quotes
// when it needs them (capitals, spaces, quotes: Prisma's `"LinksRouteTo"`), so the schema file
// rehearse writes reads back as the same type.
std::string type_name_sql(const std::string& name) {
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos) return sql_name_part(name);
  return sql_name_part(name.substr(0, dot)) + "." + sql_name_part(name.substr(dot + 1));
}

std::optional<SimulatedType> from_spelling(const std::string& spelling, bool array,
                                           const std::vector<EnumTypeSpec>& enums, std::string* why) {
  SimulatedType t{ColumnType::text, 0, spelling, "", ""};
  if (array) {
    *why = fmt::format("type {}[] cannot be simulated (arrays are not drawn or compared)", spelling);
    return std::nullopt;
  }
  int a = 0, b = 0;
  char rest = 0;
  const char* s = spelling.c_str();
  if (spelling == "bigint" || spelling == "integer") {
    t.type = spelling == "bigint" ? ColumnType::bigint : ColumnType::integer;
  } else if (spelling == "smallint") {
    t.type = ColumnType::integer;
    t.default_gen = "0..32767";
    t.approximation = "smallint simulated as integer";
  } else if (spelling == "real" || spelling == "double precision") {
    t.type = ColumnType::numeric;
    t.approximation = spelling + " simulated as numeric (exact decimal arithmetic, drawn as whole numbers)";
  } else if (spelling == "numeric") {
    t.type = ColumnType::numeric;
  } else if (std::sscanf(s, "numeric(%d,%d)%c", &a, &b, &rest) == 2 || std::sscanf(s, "numeric(%d)%c", &a, &rest) == 1) {
    t.type = ColumnType::numeric;
    t.scale = std::clamp(b, 0, 30);
    // The default draw reaches 1000; a narrower precision gets a range that fits it.
    if (a - b < 4) t.default_gen = fmt::format("0..{}", all_nines(std::max(a - b, 0)));
  } else if (spelling == "text" || spelling == "character varying" || spelling == "character" ||
             spelling == "citext") {
    t.type = ColumnType::text;
    if (spelling == "character" || spelling == "character varying")
      t.approximation = spelling + " simulated as text (no length limit)";
  } else if (std::sscanf(s, "character varying(%d)%c", &a, &rest) == 1 || std::sscanf(s, "character(%d)%c", &a, &rest) == 1) {
    t.type = ColumnType::text;
    // The default draw is `item-NNNNNN` (11 characters); shorter columns draw digits that fit.
    if (a < 11) t.default_gen = fmt::format("0..{}", all_nines(std::min(a, 18)));
    t.approximation = spelling.rfind("character(", 0) == 0 ? spelling + " simulated as text (not blank-padded)" : "";
  } else if (spelling == "boolean") {
    t.type = ColumnType::boolean;
  } else if (spelling.rfind("timestamp", 0) == 0 && spelling.find(" without time zone") != std::string::npos) {
    t.type = ColumnType::timestamp;
  } else if (spelling.rfind("timestamp", 0) == 0 && spelling.find(" with time zone") != std::string::npos) {
    t.type = ColumnType::timestamp;
    t.approximation = "timestamp with time zone simulated as timestamp (UTC)";
  } else if (spelling.rfind("time", 0) == 0 && spelling.rfind("timestamp", 0) != 0) {
    t.type = ColumnType::timestamp;
    t.approximation = spelling + " simulated as timestamp (a time of day drawn with a date)";
  } else if (spelling == "date") {
    t.type = ColumnType::timestamp;
    t.approximation = "date simulated as timestamp (values carry a time of day)";
  } else if (spelling == "uuid") {
    t.default_gen = "uuid";
    t.approximation = "uuid simulated as text";
  } else if (spelling == "json" || spelling == "jsonb" || spelling == "bytea") {
    t.approximation = spelling + " simulated as text (values are not " + (spelling == "bytea" ? "bytes)" : "JSON)");
  } else if (const auto e = std::find_if(enums.begin(), enums.end(), [&](const EnumTypeSpec& x) { return x.name == spelling; });
             e != enums.end()) {
    t.sql_type = type_name_sql(e->name);
    const bool safe = !e->labels.empty() && std::all_of(e->labels.begin(), e->labels.end(), gen_safe);
    if (safe) t.default_gen = fmt::format("one_of({})", fmt::join(e->labels, ","));
    t.approximation = "enum simulated as text" + std::string(safe ? " drawn from its labels" : " (its labels hold commas, spaces or parentheses: drawn as other text)");
  } else {
    *why = fmt::format("type {} cannot be simulated (the simulator draws and compares smallint, integer, bigint, "
                       "real, double precision, numeric, text, character varying, character, boolean, timestamp, "
                       "timestamp with time zone, date, time, uuid, json, jsonb, bytea and the schema's enum types)",
                       spelling);
    return std::nullopt;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Positions and text as written

// Byte offset -> 1-based line and character column.
struct Position {
  int line = 1;
  int column = 1;
};

class SourceText {
 public:
  explicit SourceText(const std::string& text) : text_(text) {}
  const std::string& text() const { return text_; }

  Position at_byte(int offset) const {
    Position p;
    const std::size_t end = std::min<std::size_t>(static_cast<std::size_t>(std::max(offset, 0)), text_.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (text_[i] == '\n') p.line += 1, p.column = 1;
      else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) p.column += 1;
    }
    return p;
  }

  // PostgreSQL's error cursor counts characters from 1.
  Position at_character(int cursor) const {
    Position p;
    int characters = 1;
    for (std::size_t i = 0; i < text_.size() && characters < cursor; ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) == 0x80) continue;
      ++characters;
      if (text_[i] == '\n') p.line += 1, p.column = 1;
      else p.column += 1;
    }
    return p;
  }

  // The clause that starts at `start`: up to the first ',' or ')' outside quotes and
  // parentheses, or `end`; trimmed.
  // Comments are skipped (a comma in one ends nothing) and left out of the text.
  std::string clause(std::size_t start, std::size_t end) const {
    end = std::min(end, text_.size());
    int depth = 0;
    std::size_t i = start;
    std::vector<std::pair<std::size_t, std::size_t>> comments;  // [from, to) of each
    for (; i < end; ++i) {
      const char c = text_[i];
      if (const std::size_t after = comment_end(i, end); after > i) {
        comments.emplace_back(i, after);
        i = after - 1;
      } else if (c == '\'' || c == '"') {
        i = closing_quote(i, c);
      } else if (c == '$' && dollar_tag(i).size() > 0) {
        const std::string tag = dollar_tag(i);
        const std::size_t close = text_.find(tag, i + tag.size());
        i = close == std::string::npos ? end : close + tag.size() - 1;
      } else if (c == '(' || c == '[') {
        ++depth;
      } else if ((c == ')' || c == ']') && depth > 0) {
        --depth;
      } else if ((c == ',' || c == ')' || c == ';') && depth == 0) {
        break;
      }
    }
    if (comments.empty()) return trimmed(start, std::min(i, end));
    std::string text;
    std::size_t from = start;
    for (const auto& [comment, after] : comments) {
      text += text_.substr(from, comment - from) + " ";
      from = after;
    }
    if (from < i) text += text_.substr(from, std::min(i, end) - from);
    while (!text.empty() && is_space_or_semicolon(text.back())) text.pop_back();
    const std::size_t first = text.find_first_not_of(" \t\r\n;");
    return first == std::string::npos ? std::string() : text.substr(first);
  }

  // Where the comment that starts at `at` ends (past a `--` comment's line or a `/* */` comment,
  // nested as PostgreSQL nests them); `at` when none starts there.
  std::size_t comment_end(std::size_t at, std::size_t end) const {
    if (at + 1 >= end) return at;
    if (text_[at] == '-' && text_[at + 1] == '-') {
      const std::size_t line_end = text_.find('\n', at);
      return line_end == std::string::npos ? end : std::min(line_end, end);
    }
    if (text_[at] != '/' || text_[at + 1] != '*') return at;
    int depth = 0;
    for (std::size_t k = at; k + 1 < end; ++k) {
      if (text_[k] == '/' && text_[k + 1] == '*') {
        ++depth;
        ++k;
      } else if (text_[k] == '*' && text_[k + 1] == '/') {
        ++k;
        if (--depth == 0) return k + 1;
      }
    }
    return end;
  }

  // The text inside the first parenthesis at or after `start` (a CHECK's expression).
  std::string parenthesized(std::size_t start, std::size_t end) const {
    for (std::size_t i = start; i < std::min(end, text_.size()); ++i) {
      if (text_[i] == '"') i = closing_quote(i, '"');
      else if (text_[i] == '(') return clause(i + 1, end);
    }
    return "";
  }

  std::string trimmed(std::size_t start, std::size_t end) const {
    end = std::min(end, text_.size());
    while (start < end && is_space_or_semicolon(text_[start])) ++start;
    while (end > start && is_space_or_semicolon(text_[end - 1])) --end;
    return text_.substr(start, end - start);
  }

  // Whether the word before `offset` (skipping spaces and opening parentheses) is `word`,
  // case-insensitively; where it starts in *word_start.
  bool preceded_by(std::size_t offset, std::string_view word, std::size_t* after_word) const {
    std::size_t i = std::min(offset, text_.size());
    while (i > 0 && (std::isspace(static_cast<unsigned char>(text_[i - 1])) || text_[i - 1] == '(')) --i;
    if (i < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(text_[i - word.size() + k])) != word[k]) return false;
    }
    *after_word = i;
    return true;
  }

 private:
  static bool is_space_or_semicolon(char c) { return std::isspace(static_cast<unsigned char>(c)) || c == ';'; }

  std::size_t closing_quote(std::size_t open, char quote) const {
    for (std::size_t i = open + 1; i < text_.size(); ++i) {
      if (text_[i] != quote) continue;
      if (i + 1 < text_.size() && text_[i + 1] == quote) ++i;  // a doubled quote stands for itself
      else return i;
    }
    return text_.size();
  }

  // `$tag$` starting at `i`, or "".
  std::string dollar_tag(std::size_t i) const {
    std::size_t j = i + 1;
    while (j < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_')) ++j;
    return j < text_.size() && text_[j] == '$' ? text_.substr(i, j - i + 1) : "";
  }

  const std::string& text_;
};

// ---------------------------------------------------------------------------------------------
// The reader

const char* on_delete_action(const std::string& code) {
  if (code == "r") return "restrict";
  if (code == "c") return "cascade";
  if (code == "n") return "set null";
  if (code == "d") return "set default";
  return "";  // "a": no action
}

// `text` with what is not SQL blanked to spaces, so that positions stay those of the file: psql
// meta-commands (a line starting with a backslash: pg_dump 17.6 and later write `\restrict KEY`
// / `\unrestrict KEY` around a dump) and the rows of `COPY ... FROM stdin;` up to their `\.`
// (a dump with data). How many lines were blanked in *count.
std::string without_psql_lines(const std::string& text, int* count) {
  std::string out = text;
  bool in_copy_data = false;
  std::size_t line = 0;
  while (line < out.size()) {
    const std::size_t end = std::min(out.find('\n', line), out.size());
    const std::size_t first = std::min(out.find_first_not_of(" \t", line), end);
    std::size_t last = end;
    while (last > first && std::isspace(static_cast<unsigned char>(out[last - 1]))) --last;
    const std::string_view content(out.data() + first, last - first);
    const bool copy_from_stdin = content.rfind("COPY ", 0) == 0 && content.size() > 11 &&
                                 content.substr(content.size() - 11) == "FROM stdin;";
    if (in_copy_data || (!content.empty() && content.front() == '\\')) {
      in_copy_data = in_copy_data && content != "\\.";
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(first), out.begin() + static_cast<std::ptrdiff_t>(end), ' ');
      ++*count;
    } else if (copy_from_stdin) {
      in_copy_data = true;
    }
    line = end + 1;
  }
  return out;
}

// The integer type a serial type stands for (`serial` is `integer`), or `spelling` itself.
const std::string& serial_base(const std::string& spelling) {
  static const std::map<std::string, std::string> kSerial = {
      {"smallserial", "smallint"}, {"serial2", "smallint"}, {"serial", "integer"}, {"serial4", "integer"},
      {"bigserial", "bigint"}, {"serial8", "bigint"}};
  const auto serial = kSerial.find(spelling);
  return serial != kSerial.end() ? serial->second : spelling;
}

}  // namespace

std::string primary_key_name(const TableSpec& table) {
  return table.primary_key_name.empty() ? table.name + "_pkey" : table.primary_key_name;
}

namespace {

// The name PostgreSQL gives an unnamed constraint (ChooseConstraintName, makeObjectName): the
// table, every column joined by '_' (UNIQUE and FOREIGN KEY; a CHECK names one), and the label,
// the longer of the first two clipped until the name fits NAMEDATALEN - 1 = 63 bytes.
std::string constraint_name(const std::string& table, const std::vector<std::string>& columns, const std::string& label) {
  std::string joined;
  for (const std::string& column : columns) joined += (joined.empty() ? "" : "_") + column;
  std::size_t name1 = table.size();
  std::size_t name2 = joined.size();
  const std::size_t overhead = label.size() + 1 + (joined.empty() ? 0 : 1);
  const std::size_t available = overhead < 63 ? 63 - overhead : 0;
  while (name1 + name2 > available && name1 + name2 > 0) {
    if (name1 > name2) --name1;
    else --name2;
  }
  std::string name = table.substr(0, name1);
  if (!joined.empty()) name += "_" + joined.substr(0, name2);
  return name + "_" + label;
}

class SchemaReader {
 public:
  SchemaReader(const std::string& text, const std::string& file, bool lenient)
      : sanitized_(without_psql_lines(text, &psql_lines_)), source_(sanitized_), file_(file), lenient_(lenient) {
    if (psql_lines_ > 0) out_.skipped.push_back({"psql meta-command or COPY data line", psql_lines_});
  }

  SchemaSql read() {
    if (source_.text().size() > kSchemaBytesMax) {
      out_.errors.push_back({1, 0, fmt::format("the file is {} bytes, above the limit of {}", source_.text().size(), kSchemaBytesMax)});
      return std::move(out_);
    }
    if (source_.text().find('\0') != std::string::npos) {
      out_.errors.push_back({1, 0, "the file holds a NUL character; expected SQL text"});
      return std::move(out_);
    }
    if (const std::size_t bad = invalid_utf8_offset(source_.text()); bad != std::string_view::npos) {
      // PostgreSQL refuses the file's bytes the same way (its parser would hand them on as is).
      const std::string_view before(source_.text().data(), bad);
      const auto line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
      out_.errors.push_back({line, 0, fmt::format("invalid byte sequence for encoding \"UTF8\": 0x{:02x}",
                                                  static_cast<unsigned char>(source_.text()[bad]))});
      return std::move(out_);
    }
    const PgQueryParseResult result = pg_query_parse(source_.text().c_str());
    if (result.error != nullptr) {
      const Position p = source_.at_character(result.error->cursorpos);
      out_.errors.push_back({p.line, p.column, result.error->message != nullptr ? result.error->message : "syntax error"});
    } else {
      // libpg_query writes valid JSON; a failure to read it is a broken dependency.
      const Json tree = Json::parse(result.parse_tree);
      for (const Json& raw : field(tree, "stmts")) statement(raw);
      check_references();
    }
    pg_query_free_parse_result(result);
    return std::move(out_);
  }

 private:
  void error_at(int byte_offset, std::string message) {
    if (lenient_) return skip("left out: " + message);
    const Position p = source_.at_byte(byte_offset);
    out_.errors.push_back({p.line, p.column, std::move(message)});
  }
  // A problem found once the file is read (check_references).
  void error_on_line(int line, std::string message) {
    if (lenient_) return skip("left out: " + message);
    out_.errors.push_back({line, 0, std::move(message)});
  }

  void skip(const std::string& kind) {
    for (SkippedStatements& s : out_.skipped) {
      if (s.kind == kind) return void(++s.count);
    }
    out_.skipped.push_back({kind, 1});
  }

  TableSpec* table(const std::string& name) {
    for (TableSpec& t : out_.tables) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  // The table a statement names, or an error at `location`.
  TableSpec* existing_table(const Json& range_var, const char* statement) {
    const std::string name = relation_name(range_var);
    TableSpec* t = table(name);
    if (t == nullptr) error_at(int_field(range_var, "location", 0), fmt::format("{} names table {}, which no CREATE TABLE before it creates", statement, name));
    return t;
  }

  void statement(const Json& raw) {
    const Json& stmt = field(raw, "stmt");
    if (!stmt.is_object() || stmt.empty()) return;
    const std::string kind = stmt.begin().key();
    const Json& node = stmt.begin().value();
    const int start = int_field(raw, "stmt_location", 0);
    const int length = int_field(raw, "stmt_len", 0);
    start_ = start;
    end_ = length > 0 ? static_cast<std::size_t>(start + length) : source_.text().size();
    if (kind == "CreateStmt") create_table(node);
    else if (kind == "IndexStmt") create_index(node);
    else if (kind == "AlterTableStmt") alter_table(node);
    else if (kind == "CreateEnumStmt") create_enum(node);
    else if (kind == "AlterEnumStmt") alter_enum(node);
    else if (kind == "DropStmt") drop(node);
    else if (kind == "RenameStmt") rename(node);
    else skip(skipped_kind(kind, node));
  }

  static std::string skipped_kind(const std::string& kind, const Json& node) {
    static const std::map<std::string, std::string> kKinds = {
        {"VariableSetStmt", "SET"}, {"SelectStmt", "SELECT"}, {"CreateExtensionStmt", "CREATE EXTENSION"},
        {"CreateSeqStmt", "CREATE SEQUENCE"}, {"AlterSeqStmt", "ALTER SEQUENCE"},
        {"AlterOwnerStmt", "ALTER ... OWNER TO"}, {"CommentStmt", "COMMENT"}, {"CreateFunctionStmt", "CREATE FUNCTION"},
        {"CreateTrigStmt", "CREATE TRIGGER"}, {"ViewStmt", "CREATE VIEW"}, {"CreateSchemaStmt", "CREATE SCHEMA"},
        {"CreateTableAsStmt", "CREATE MATERIALIZED VIEW"}, {"AlterFunctionStmt", "ALTER FUNCTION"},
        {"CreatePolicyStmt", "CREATE POLICY"}, {"RuleStmt", "CREATE RULE"}, {"CreateDomainStmt", "CREATE DOMAIN"},
        {"CompositeTypeStmt", "CREATE TYPE ... AS (...)"}, {"TransactionStmt", "BEGIN / COMMIT"},
        {"AlterDefaultPrivilegesStmt", "ALTER DEFAULT PRIVILEGES"}, {"CopyStmt", "COPY"}, {"DefineStmt", "CREATE AGGREGATE / OPERATOR"}};
    if (kind == "GrantStmt") return bool_field(node, "is_grant") ? "GRANT" : "REVOKE";
    const auto it = kKinds.find(kind);
    return it != kKinds.end() ? it->second : kind;
  }

  void create_enum(const Json& node) {
    EnumTypeSpec e{qualified(strings(field(node, "typeName"))), strings(field(node, "vals"))};
    out_.enum_types.push_back(std::move(e));
  }

  void create_table(const Json& node) {
    const Json& relation = field(node, "relation");
    TableSpec t;
    t.name = relation_name(relation);
    t.file = file_;
    t.line = source_.at_byte(int_field(relation, "location", 0)).line;
    t.rows = 0;
    if (table(t.name) != nullptr && bool_field(node, "if_not_exists")) return;
    if (table(t.name) != nullptr) {
      error_at(int_field(relation, "location", 0), fmt::format("table {} is created twice", t.name));
      return;
    }
    if (field(node, "inhRelations").is_array() || field(node, "partbound").is_object()) skip("CREATE TABLE ... INHERITS / PARTITION OF (read as a table of its own columns)");
    out_.tables.push_back(std::move(t));
    const std::size_t index = out_.tables.size() - 1;
    const Json& elements = field(node, "tableElts");
    if (!elements.is_array()) return;
    for (std::size_t i = 0; i < elements.size(); ++i) {
      // An element's text ends where the next begins (or at the statement's end).
      const std::size_t bound = i + 1 < elements.size() ? static_cast<std::size_t>(std::max(first_location(elements[i + 1]), 0)) : end_;
      const Json& element = elements[i];
      if (const Json& column = field(element, "ColumnDef"); column.is_object()) {
        column_def(out_.tables[index], column, bound);
      } else if (const Json& constraint = field(element, "Constraint"); constraint.is_object()) {
        add_constraint(out_.tables[index], constraint, {}, bound);
      } else {
        skip("CREATE TABLE ... LIKE");
      }
    }
  }

  void column_def(TableSpec& t, const Json& node, std::size_t bound) {
    ColumnSpec c;
    c.name = text_field(node, "colname");
    const int location = int_field(node, "location", 0);
    c.line = source_.at_byte(location).line;
    bool array = false;
    const std::string spelling = type_spelling(field(node, "typeName"), &array);
    std::string why;
    // serial types are integer columns whose default is their sequence's next value.
    const std::string& base = serial_base(spelling);
    const auto type = from_spelling(base, array, out_.enum_types, &why);
    if (&base != &spelling) {
      c.not_null = true;
      c.default_sql = fmt::format("nextval('{}_{}_seq'::regclass)", t.name, c.name);
    }
    if (!type) {
      error_at(int_field(field(node, "typeName"), "location", location), fmt::format("{}.{}: {}", t.name, c.name, why));
      unsimulated_.insert(t.name + "." + c.name);  // reported once: what names it later is not
      return;
    }
    c.type = type->type;
    c.scale = type->scale;
    c.sql_type = type->sql_type;
    c.gen = type->default_gen;
    const Json& constraints = field(node, "constraints");
    if (constraints.is_array()) {
      for (std::size_t i = 0; i < constraints.size(); ++i) {
        const std::size_t next = i + 1 < constraints.size()
                                     ? static_cast<std::size_t>(std::max(int_field(field(constraints[i + 1], "Constraint"), "location", 0), 0))
                                     : bound;
        column_constraint(t, c, field(constraints[i], "Constraint"), next);
      }
    }
    if (bool_field(node, "is_not_null")) c.not_null = true;
    if (c.name == "id") return;  // the implicit key of the simulated table (core/model.h)
    t.columns.push_back(std::move(c));
  }

  void column_constraint(TableSpec& t, ColumnSpec& c, const Json& node, std::size_t bound) {
    const std::string type = text_field(node, "contype");
    const int location = int_field(node, "location", 0);
    if (type == "CONSTR_NOTNULL") {
      c.not_null = true;
    } else if (type == "CONSTR_NULL") {
      c.not_null = false;
    } else if (type == "CONSTR_DEFAULT") {
      // The constraint starts at its DEFAULT keyword; the expression follows it.
      c.default_sql = source_.clause(static_cast<std::size_t>(location) + std::string_view("default").size(), bound);
    } else if (type == "CONSTR_PRIMARY") {
      c.not_null = true;
      t.primary_key = {c.name};
    } else if (type == "CONSTR_IDENTITY") {
      c.default_sql = kIdentityDefaultSql;
    } else if (type == "CONSTR_GENERATED") {
      c.default_sql = fmt::format("GENERATED ALWAYS AS ({}) STORED", source_.parenthesized(static_cast<std::size_t>(location), bound));
    } else {
      add_constraint(t, node, {c.name}, bound);
    }
  }

  // A CHECK, UNIQUE, PRIMARY KEY or FOREIGN KEY of a table; `column` names the column it is
  // written on, when it is a column constraint.
  void add_constraint(TableSpec& t, const Json& node, const std::vector<std::string>& column, std::size_t bound) {
    const std::string type = text_field(node, "contype");
    const int location = int_field(node, "location", 0);
    ConstraintSpec c;
    c.name = text_field(node, "conname");
    c.line = source_.at_byte(location).line;
    c.validated = !bool_field(node, "skip_validation");
    std::vector<std::string> keys = strings(field(node, type == "CONSTR_FOREIGN" ? "fk_attrs" : "keys"));
    if (const std::string index = text_field(node, "indexname"); !index.empty() && keys.empty()) {
      // ADD CONSTRAINT ... UNIQUE / PRIMARY KEY USING INDEX: the index becomes the constraint's.
      auto [owner, it] = find_index(index);
      if (owner == &t) {
        keys = it->columns;
        t.indexes.erase(it);
      }
    }
    if (keys.empty()) keys = column;
    if (type == "CONSTR_PRIMARY") {
      t.primary_key = keys;
      t.primary_key_name = c.name;
      return;
    }
    c.columns = keys;
    if (type == "CONSTR_CHECK") {
      c.kind = ConstraintKind::check;
      c.check = source_.parenthesized(static_cast<std::size_t>(location), bound);
      if (c.name.empty()) c.name = constraint_name(t.name, keys.empty() ? std::vector<std::string>{} : std::vector<std::string>{keys.front()}, "check");
    } else if (type == "CONSTR_UNIQUE") {
      c.kind = ConstraintKind::unique;
      if (c.name.empty()) c.name = constraint_name(t.name, keys, "key");
    } else if (type == "CONSTR_FOREIGN") {
      c.kind = ConstraintKind::foreign_key;
      c.ref_table = relation_name(field(node, "pktable"));
      c.ref_columns = strings(field(node, "pk_attrs"));
      c.on_delete = on_delete_action(text_field(node, "fk_del_action"));
      if (c.name.empty()) c.name = constraint_name(t.name, keys, "fkey");
    } else {
      skip(fmt::format("constraint {}", type));
      return;
    }
    t.constraints.push_back(std::move(c));
  }

  void create_index(const Json& node) {
    TableSpec* t = existing_table(field(node, "relation"), "CREATE INDEX");
    if (t == nullptr) return;
    IndexSpec index;
    index.name = text_field(node, "idxname");
    if (bool_field(node, "if_not_exists") && find_index(index.name).first != nullptr) return;
    index.unique = bool_field(node, "unique");
    index.method = text_field(node, "accessMethod");
    if (index.method == "btree") index.method.clear();
    const int relation = int_field(field(node, "relation"), "location", 0);
    index.line = source_.at_byte(relation).line;
    for (const Json& param : field(node, "indexParams")) {
      const Json& element = field(param, "IndexElem");
      if (const std::string name = text_field(element, "name"); !name.empty()) {
        if (name != "id" && !has_column(*t, name)) {
          error_at(relation, fmt::format("CREATE INDEX{} names column {}, which table {} does not have",
                                         index.name.empty() ? "" : " " + index.name, name, t->name));
        }
        index.columns.push_back(name);
      } else {
        index.columns.push_back(index_expression(source_.clause(static_cast<std::size_t>(std::max(first_location(field(element, "expr")), 0)), end_), element));
      }
    }
    if (const Json& where = field(node, "whereClause"); where.is_object()) {
      std::size_t after = 0;
      const std::size_t first = static_cast<std::size_t>(std::max(first_location(where), 0));
      index.predicate = source_.preceded_by(first, "where", &after) ? source_.trimmed(after, end_) : source_.trimmed(first, end_);
    }
    if (index.name.empty()) index.name = fmt::format("{}_{}_idx", t->name, index.columns.empty() ? "expr" : index.columns.front());
    t->indexes.push_back(std::move(index));
  }

  // An index element's expression without what follows it in the element: COLLATE, an operator
  // class, ASC / DESC, NULLS FIRST / LAST (the clause of an unparenthesised expression runs to the
  // element's comma). Each word goes only where the parse tree has it and the text ends with it.
  static std::string index_expression(std::string text, const Json& element) {
    auto drop_last_word = [&text](std::string word) {
      for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t end = text.size();
      while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
      std::size_t start = end;
      while (start > 0 && !std::isspace(static_cast<unsigned char>(text[start - 1])) && text[start - 1] != ')') --start;
      std::string last = text.substr(start, end - start);
      std::string bare;
      for (const char c : last) {
        if (c != '"') bare += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (start == 0 || word.empty() || (bare != word && bare.substr(bare.rfind('.') + 1) != word)) return false;
      text.resize(start);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      return true;
    };
    const std::string nulls = text_field(element, "nulls_ordering");
    if (nulls == "SORTBY_NULLS_FIRST" || nulls == "SORTBY_NULLS_LAST") {
      if (drop_last_word(nulls == "SORTBY_NULLS_FIRST" ? "first" : "last")) drop_last_word("nulls");
    }
    const std::string ordering = text_field(element, "ordering");
    if (ordering == "SORTBY_ASC" || ordering == "SORTBY_DESC") drop_last_word(ordering == "SORTBY_ASC" ? "asc" : "desc");
    if (const std::vector<std::string> opclass = strings(field(element, "opclass")); !opclass.empty()) drop_last_word(opclass.back());
    if (const std::vector<std::string> collation = strings(field(element, "collation")); !collation.empty()) {
      if (drop_last_word(collation.back())) drop_last_word("collate");
    }
    return text;
  }

  // The index named `name` in any table (index names are the schema's, as PostgreSQL has them).
  std::pair<TableSpec*, std::vector<IndexSpec>::iterator> find_index(const std::string& name) {
    for (TableSpec& t : out_.tables) {
      const auto it = std::find_if(t.indexes.begin(), t.indexes.end(), [&](const IndexSpec& i) { return i.name == name; });
      if (it != t.indexes.end()) return {&t, it};
    }
    return {nullptr, {}};
  }

  void alter_enum(const Json& node) {
    const std::string name = qualified(strings(field(node, "typeName")));
    const std::string value = text_field(node, "newVal");
    for (EnumTypeSpec& e : out_.enum_types) {
      if (e.name != name || value.empty()) continue;
      if (std::find(e.labels.begin(), e.labels.end(), value) == e.labels.end()) e.labels.push_back(value);
      return;
    }
    skip(value.empty() ? "ALTER TYPE ... RENAME VALUE" : "ALTER TYPE ... ADD VALUE");
  }

  // DROP TABLE / INDEX / TYPE: what the statement names leaves the schema (a table with the
  // foreign keys that reference it, as CASCADE drops them); a name that does not exist is an
  // error unless IF EXISTS is written.
  void drop(const Json& node) {
    const std::string type = text_field(node, "removeType");
    if (type != "OBJECT_TABLE" && type != "OBJECT_INDEX" && type != "OBJECT_TYPE") return skip("DROP " + type.substr(type.find('_') + 1));
    const bool missing_ok = bool_field(node, "missing_ok");
    for (const Json& object : field(node, "objects")) {
      const std::string name = type == "OBJECT_TYPE" ? qualified(strings(field(field(object, "TypeName"), "names")))
                                                     : qualified(strings(field(field(object, "List"), "items")));
      bool found = false;
      if (type == "OBJECT_TABLE") {
        const auto it = std::find_if(out_.tables.begin(), out_.tables.end(), [&](const TableSpec& t) { return t.name == name; });
        if ((found = it != out_.tables.end())) {
          out_.tables.erase(it);
          for (TableSpec& t : out_.tables) std::erase_if(t.constraints, [&](const ConstraintSpec& c) { return c.kind == ConstraintKind::foreign_key && c.ref_table == name; });
        }
      } else if (type == "OBJECT_INDEX") {
        auto [t, it] = find_index(name);
        if ((found = t != nullptr)) t->indexes.erase(it);
      } else {
        const auto it = std::find_if(out_.enum_types.begin(), out_.enum_types.end(), [&](const EnumTypeSpec& e) { return e.name == name; });
        if ((found = it != out_.enum_types.end())) out_.enum_types.erase(it);
      }
      if (!found && !missing_ok) error_at(start_, fmt::format("DROP names {}, which does not exist at this point", name));
    }
  }

  // RENAME of a table, column, constraint or index; the keys, indexes, constraints and foreign
  // keys that name it follow.
  void rename(const Json& node) {
    const std::string type = text_field(node, "renameType");
    const std::string from = text_field(node, "subname");
    const std::string to = text_field(node, "newname");
    const Json& relation = field(node, "relation");
    if (type == "OBJECT_INDEX") {
      auto [t, it] = find_index(relation_name(relation));
      if (t != nullptr) it->name = to;
      else if (!bool_field(node, "missing_ok")) error_at(int_field(relation, "location", 0), fmt::format("ALTER INDEX names index {}, which does not exist at this point", relation_name(relation)));
      return;
    }
    if (type != "OBJECT_TABLE" && type != "OBJECT_COLUMN" && type != "OBJECT_TABCONSTRAINT") return skip("ALTER ... RENAME " + type.substr(type.find('_') + 1));
    if (bool_field(node, "missing_ok") && table(relation_name(relation)) == nullptr) return;
    TableSpec* t = existing_table(relation, "ALTER TABLE ... RENAME");
    if (t == nullptr) return;
    if (type == "OBJECT_TABLE") {
      for (TableSpec& other : out_.tables) {
        for (ConstraintSpec& c : other.constraints) {
          if (c.ref_table == t->name) c.ref_table = to;
        }
      }
      t->primary_key_name = primary_key_name(*t);  // the constraint keeps its name
      t->name = to;
    } else if (type == "OBJECT_COLUMN") {
      if (ColumnSpec* column = find_column(*t, from)) column->name = to;
      else return error_at(int_field(relation, "location", 0), fmt::format("RENAME COLUMN names column {}, which table {} does not have", from, t->name));
      const auto follow = [&](std::vector<std::string>& names) { std::replace(names.begin(), names.end(), from, to); };
      follow(t->primary_key);
      for (IndexSpec& i : t->indexes) follow(i.columns);
      for (ConstraintSpec& c : t->constraints) follow(c.columns);
      for (TableSpec& other : out_.tables) {
        for (ConstraintSpec& c : other.constraints) {
          if (c.ref_table == t->name) follow(c.ref_columns);
        }
      }
    } else {
      for (ConstraintSpec& c : t->constraints) {
        if (c.name == from) c.name = to;
      }
      if (from == primary_key_name(*t)) t->primary_key_name = to;
    }
  }

  void alter_table(const Json& node) {
    if (const std::string object = text_field(node, "objtype"); object != "OBJECT_TABLE") {
      // ALTER SEQUENCE / VIEW / INDEX ... written with ALTER TABLE's grammar (OWNER TO, SET ...).
      for (const Json& command : field(node, "cmds")) {
        skip(alter_kind(object.substr(object.find('_') + 1), text_field(field(command, "AlterTableCmd"), "subtype")));
      }
      return;
    }
    const Json& relation = field(node, "relation");
    const Json& commands = field(node, "cmds");
    // pg_dump changes a sequence's owner with ALTER TABLE: only what shapes a table needs one.
    bool shapes = false;
    for (const Json& command : commands) {
      const std::string subtype = text_field(field(command, "AlterTableCmd"), "subtype");
      shapes = shapes || subtype == "AT_AddConstraint" || subtype == "AT_ValidateConstraint" || subtype == "AT_ColumnDefault" ||
               subtype == "AT_SetNotNull" || subtype == "AT_AddColumn" || subtype == "AT_DropColumn" ||
               subtype == "AT_AlterColumnType" || subtype == "AT_DropNotNull" || subtype == "AT_DropConstraint";
    }
    if (!shapes) {
      for (const Json& command : commands) skip(alter_kind("TABLE", text_field(field(command, "AlterTableCmd"), "subtype")));
      return;
    }
    if (bool_field(node, "missing_ok") && table(relation_name(relation)) == nullptr) return;  // ALTER TABLE IF EXISTS
    TableSpec* t = existing_table(relation, "ALTER TABLE");
    if (t == nullptr) return;
    for (const Json& command : commands) alter_command(*t, field(command, "AlterTableCmd"));
  }

  // "ALTER TABLE ... OWNER TO", "ALTER TABLE ... ReplicaIdentity": the object and the subcommand.
  static std::string alter_kind(const std::string& object, const std::string& subtype) {
    if (subtype == "AT_ChangeOwner") return "ALTER " + object + " ... OWNER TO";
    return "ALTER " + object + " ... " + subtype.substr(subtype.find('_') + 1);
  }

  void alter_command(TableSpec& t, const Json& command) {
    const std::string subtype = text_field(command, "subtype");
    const std::string column_name = text_field(command, "name");
    if (subtype == "AT_AddConstraint") {
      add_constraint(t, field(field(command, "def"), "Constraint"), {}, end_);
    } else if (subtype == "AT_ValidateConstraint") {
      for (ConstraintSpec& c : t.constraints) {
        if (c.name == column_name) c.validated = true;
      }
    } else if (subtype == "AT_AddColumn") {
      const Json& def = field(field(command, "def"), "ColumnDef");
      if (bool_field(command, "missing_ok") && has_column(t, text_field(def, "colname"))) return;  // ADD COLUMN IF NOT EXISTS
      column_def(t, def, end_);
    } else if (subtype == "AT_DropColumn") {
      drop_column(t, column_name, bool_field(command, "missing_ok"));
    } else if (subtype == "AT_DropConstraint") {
      const auto before = t.constraints.size();
      std::erase_if(t.constraints, [&](const ConstraintSpec& c) { return c.name == column_name; });
      if (column_name == primary_key_name(t)) t.primary_key.clear();
      else if (before == t.constraints.size() && !bool_field(command, "missing_ok"))
        error_at(start_, fmt::format("DROP CONSTRAINT names constraint {}, which table {} does not have", column_name, t.name));
    } else if (subtype == "AT_AlterColumnType") {
      ColumnSpec* column = find_column(t, column_name);
      if (column == nullptr) return;  // the implicit key, or a column refused for its type
      ColumnSpec changed;
      changed.name = column->name;
      const Json& def = field(field(command, "def"), "ColumnDef");
      TableSpec scratch;
      scratch.name = t.name;
      Json bare = def;
      bare.erase("raw_default");  // USING: how the rows convert, not the column's default
      bare["colname"] = column->name;
      column_def(scratch, bare, end_);
      if (scratch.columns.empty()) return;
      scratch.columns.front().not_null = column->not_null;
      scratch.columns.front().default_sql = column->default_sql;
      scratch.columns.front().line = column->line;
      *column = scratch.columns.front();
    } else if (subtype == "AT_ColumnDefault" || subtype == "AT_SetNotNull" || subtype == "AT_DropNotNull") {
      ColumnSpec* column = find_column(t, column_name);
      if (column_name == "id") return;  // the implicit key
      if (column == nullptr) {
        error_at(int_field(field(command, "def"), "location", 0), fmt::format("ALTER TABLE {} names column {}, which it does not have", t.name, column_name));
        return;
      }
      if (subtype == "AT_SetNotNull" || subtype == "AT_DropNotNull") {
        column->not_null = subtype == "AT_SetNotNull";
      } else {
        const int expr = first_location(field(command, "def"));
        std::size_t after = 0;
        column->default_sql = expr < 0 ? "" : source_.preceded_by(static_cast<std::size_t>(expr), "default", &after) ? source_.clause(after, end_) : source_.clause(static_cast<std::size_t>(expr), end_);
      }
    } else {
      skip(alter_kind("TABLE", subtype));
    }
  }

  // DROP COLUMN takes the indexes and constraints that name the column with it.
  void drop_column(TableSpec& t, const std::string& name, bool missing_ok) {
    const auto it = std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
    if (it == t.columns.end()) {
      if (!missing_ok && !has_column(t, name)) error_at(start_, fmt::format("DROP COLUMN names column {}, which table {} does not have", name, t.name));
      return;
    }
    t.columns.erase(it);
    const auto names = [&](const std::vector<std::string>& columns) { return std::find(columns.begin(), columns.end(), name) != columns.end(); };
    std::erase_if(t.indexes, [&](const IndexSpec& i) { return names(i.columns); });
    std::erase_if(t.constraints, [&](const ConstraintSpec& c) { return names(c.columns); });
    if (names(t.primary_key)) t.primary_key.clear();
  }

  static ColumnSpec* find_column(TableSpec& t, const std::string& name) {
    for (ColumnSpec& c : t.columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
  bool has_column(const TableSpec& t, const std::string& name) const {
    return name == "id" || unsimulated_.count(t.name + "." + name) != 0 || std::any_of(t.columns.begin(), t.columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
  }

  // Keys, unique and foreign-key columns name columns of their tables, and foreign keys tables
  // of the file.
  void check_references() {
    for (const TableSpec& t : out_.tables) {
      for (const std::string& key : t.primary_key) {
        if (!has_column(t, key)) error_on_line(t.line, fmt::format("the primary key of {} names column {}, which it does not have", t.name, key));
      }
      for (const ConstraintSpec& c : t.constraints) {
        for (const std::string& name : c.columns) {
          if (!has_column(t, name)) error_on_line(c.line, fmt::format("constraint {} names column {}, which table {} does not have", c.name, name, t.name));
        }
        if (c.kind != ConstraintKind::foreign_key) continue;
        const TableSpec* referenced = table(c.ref_table);
        if (referenced == nullptr) {
          error_on_line(c.line, fmt::format("foreign key {} references table {}, which the file does not create", c.name, c.ref_table));
          continue;
        }
        for (const std::string& name : c.ref_columns) {
          if (!has_column(*referenced, name)) error_on_line(c.line, fmt::format("foreign key {} references column {}.{}, which does not exist", c.name, c.ref_table, name));
        }
      }
    }
  }

  std::set<std::string> unsimulated_;  // "table.column" of columns refused for their type
  int psql_lines_ = 0;
  std::string sanitized_;  // the file without its psql lines (without_psql_lines); source_ reads it
  SourceText source_;
  std::string file_;
  bool lenient_ = false;  // problems are skipped statements, not errors (read_schema_sql)
  SchemaSql out_;
  int start_ = 0;         // where the statement being read starts
  std::size_t end_ = 0;  // where the statement being read ends
};

}  // namespace

std::optional<SimulatedType> simulated_type(const std::string& type_name, const std::vector<EnumTypeSpec>& enums,
                                            std::string* why) {
  REHEARSE_ASSERT(why != nullptr);
  if (type_name.empty() || type_name.size() > kTypeNameBytesMax || type_name.find_first_of(";\0", 0, 2) != std::string::npos) {
    *why = fmt::format("expected a type name, got '{}'", type_name.substr(0, 60));
    return std::nullopt;
  }
  // PostgreSQL's parser reads the name as a column's type, so every spelling it accepts
  // (varchar(20), int4, timestamptz, "double precision") is the type format_type() prints.
  const std::string statement = "CREATE TABLE t (c " + type_name + ")";
  const PgQueryParseResult result = pg_query_parse(statement.c_str());
  std::optional<SimulatedType> type;
  if (result.error != nullptr) {
    *why = fmt::format("expected a PostgreSQL type name, got '{}' ({})", type_name, result.error->message);
  } else {
    const Json tree = Json::parse(result.parse_tree);
    const Json& stmts = field(tree, "stmts");
    const Json& elements = stmts.size() == 1 ? field(field(field(stmts[0], "stmt"), "CreateStmt"), "tableElts") : Json();
    const Json& column = elements.is_array() && elements.size() == 1 ? field(elements[0], "ColumnDef") : Json();
    if (!column.is_object() || field(column, "constraints").is_array() || field(column, "collClause").is_object()) {
      *why = fmt::format("expected a PostgreSQL type name, got '{}'", type_name);
    } else {
      bool array = false;
      const std::string spelling = type_spelling(field(column, "typeName"), &array);  // sets `array` first
      type = from_spelling(serial_base(spelling), array, enums, why);  // a pgroll column's `serial`
    }
  }
  pg_query_free_parse_result(result);
  return type;
}

SchemaSql read_schema_sql(const std::string& text, const std::string& file, bool lenient) {
  return SchemaReader(text, file, lenient).read();
}

namespace {

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (const char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// `audit.events` -> "audit"."events"; a name of the public schema as it is.
std::string quote_relation(const std::string& name) {
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos) return quote_identifier(name);
  return quote_identifier(name.substr(0, dot)) + "." + quote_identifier(name.substr(dot + 1));
}

std::string quoted_columns(const std::vector<std::string>& columns) { return sql_columns(columns, quote_identifier); }

}  // namespace

std::string schema_sql_text(const SchemaSql& schema) {
  std::string text;
  for (const EnumTypeSpec& e : schema.enum_types) {
    std::vector<std::string> labels;
    for (const std::string& label : e.labels) labels.push_back(string_literal(label));
    text += fmt::format("CREATE TYPE {} AS ENUM ({});\n", quote_relation(e.name), fmt::join(labels, ", "));
  }
  const auto has = [](const TableSpec& t, const std::string& column) {
    return column == "id" || std::any_of(t.columns.begin(), t.columns.end(), [&](const ColumnSpec& c) { return c.name == column; });
  };
  const auto all_in = [&](const TableSpec& t, const std::vector<std::string>& columns) {
    return std::all_of(columns.begin(), columns.end(), [&](const std::string& c) { return has(t, c); });
  };
  for (const TableSpec& t : schema.tables) {
    std::vector<std::string> elements = {"\"id\" bigint"};
    for (const ColumnSpec& c : t.columns) elements.push_back(column_sql(c, quote_identifier));
    const std::vector<std::string> key = t.primary_key.empty() ? std::vector<std::string>{"id"} : t.primary_key;
    if (all_in(t, key)) {
      const std::string name = primary_key_name(t);
      elements.push_back(fmt::format("{}PRIMARY KEY ({})", name == t.name + "_pkey" ? "" : "CONSTRAINT " + quote_identifier(name) + " ",
                                     quoted_columns(key)));
    }
    text += fmt::format("CREATE TABLE {} (\n  {}\n);\n", quote_relation(t.name), fmt::join(elements, ",\n  "));
  }
  const auto table = [&](const std::string& name) {
    return std::find_if(schema.tables.begin(), schema.tables.end(), [&](const TableSpec& t) { return t.name == name; });
  };
  for (const TableSpec& t : schema.tables) {
    for (const ConstraintSpec& c : t.constraints) {
      if (!all_in(t, c.columns)) continue;
      if (c.kind == ConstraintKind::foreign_key) {
        const auto referenced = table(c.ref_table);
        if (referenced == schema.tables.end() || !all_in(*referenced, c.ref_columns)) continue;
        const DdlStatement key{.kind = DdlStatement::Kind::add_foreign_key, .table = t.name, .columns = c.columns, .constraint = c.name,
                               .not_valid = !c.validated, .ref_table = c.ref_table, .ref_columns = c.ref_columns, .on_delete = c.on_delete};
        text += foreign_key_sql(key, quote_identifier, quote_relation) + ";\n";
        continue;
      }
      const std::string body = c.kind == ConstraintKind::check ? fmt::format("CHECK ({})", c.check)
                                                               : fmt::format("UNIQUE ({})", quoted_columns(c.columns));
      text += fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {}{};\n", quote_relation(t.name), quote_identifier(c.name), body,
                          c.validated || c.kind == ConstraintKind::unique ? "" : " NOT VALID");
    }
    for (const IndexSpec& i : t.indexes) {
      std::vector<std::string> columns;
      for (const std::string& c : i.columns) columns.push_back(has(t, c) ? quote_identifier(c) : "(" + c + ")");
      text += fmt::format("CREATE {}INDEX {} ON {}{} ({}){};\n", i.unique ? "UNIQUE " : "", quote_identifier(i.name), quote_relation(t.name),
                          i.method.empty() ? "" : " USING " + i.method, fmt::join(columns, ", "), i.predicate.empty() ? "" : " WHERE " + i.predicate);
    }
  }
  return text;
}

}  // namespace rehearse
