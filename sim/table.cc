// Table copies: DDL, row storage, expression evaluation over rows, images for the checkers.
#include "sim/table.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/schema_sql.h"

namespace rehearse::sim {

namespace {

// `CAST("column" AS type)`: what an ALTER COLUMN TYPE without USING computes for every row (a
// SQL file's USING, when rehearse's expression subset reads it, instead).
Expr cast_expression(const DdlStatement& statement) {
  ExprParseError error;
  if (!statement.using_sql.empty()) {
    std::optional<Expr> written = parse_expression(fmt::format("CAST(({}) AS {})", statement.using_sql, to_string(statement.type)), &error);
    if (written.has_value()) return std::move(*written);
  }
  std::optional<Expr> cast = parse_expression(fmt::format("CAST(\"{}\" AS {})", statement.column, to_string(statement.type)), &error);
  REHEARSE_ASSERT(cast.has_value());
  return std::move(*cast);
}

// `expr` where no column can be read: a DEFAULT evaluated once, as PostgreSQL stores a
// non-volatile default for the existing rows.
EvalResult evaluate_constant(const Expr& expr) {
  return evaluate(expr, [](const std::string&) -> const Value* { return nullptr; });
}

// The value ADD COLUMN ... DEFAULT gives the rows already there: the default cast to the
// column's type; NULL when rehearse's expression subset cannot read it (docs/scenarios.md).
Value default_value(const DdlStatement& statement) {
  ExprParseError error;
  const std::optional<Expr> expr =
      parse_expression(fmt::format("CAST(({}) AS {})", statement.default_sql, to_string(statement.type)), &error);
  if (!expr || !expr->columns().empty()) return Value::null();
  EvalResult result = evaluate_constant(*expr);
  return result.ok ? std::move(result.value) : Value::null();
}

// A per-row value of a volatile DEFAULT the simulator cannot evaluate (gen_random_uuid(),
// random()): distinct per row and never NULL.
Value volatile_value(ColumnType type, std::int64_t id) {
  switch (type) {
    case ColumnType::text: return Value::text(fmt::format("volatile-{:012d}", id));
    case ColumnType::boolean: return Value::boolean(id % 2 == 0);
    case ColumnType::timestamp: return Value::timestamp(id * 1000);
    default: return Value::integer(id);
  }
}

}  // namespace

Table Table::created(const DdlStatement& create_table) {
  REHEARSE_ASSERT(create_table.kind == DdlStatement::Kind::create_table);
  Table table;
  table.name_ = create_table.table;
  table.primary_key_name_ = create_table.table + "_pkey";
  table.columns_.push_back(Column{"id", ColumnType::bigint, true, true, ""});
  for (const ColumnSpec& column : create_table.table_columns) {
    REHEARSE_ASSERT(column.name != "id");
    table.columns_.push_back(Column{column.name, column.type, true, column.not_null, column.default_sql});
  }
  REHEARSE_ASSERT(table.row_count() == 0);
  return table;
}

Table::Table(const TableSpec& spec) : name_(spec.name), primary_key_name_(primary_key_name(spec)) {
  columns_.push_back(Column{"id", ColumnType::bigint, true, true});
  for (const auto& column : spec.columns) columns_.push_back(Column{column.name, column.type, true, false});
  // The schema's indexes and constraints (a UNIQUE constraint is backed by its unique index of
  // the same name, as in PostgreSQL).
  for (const IndexSpec& index : spec.indexes) {
    indexes_.push_back(index.name);
    if (index.unique) unique_indexes_[index.name] = index.columns;
  }
  for (const ConstraintSpec& constraint : spec.constraints) {
    constraints_.push_back(constraint);
    if (constraint.kind != ConstraintKind::unique) continue;
    indexes_.push_back(constraint.name);
    unique_indexes_[constraint.name] = constraint.columns;
  }
}

int Table::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].live && columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void Table::apply(const DdlStatement& statement) {
  ++layout_version_;
  const int index = column_index(statement.column);
  switch (statement.kind) {
    case DdlStatement::Kind::add_column: {
      if (index >= 0) return;
      columns_.push_back(Column{statement.column, statement.type, true, statement.not_null, statement.default_sql,
                                !statement.default_sql.empty()});
      if (statement.default_sql.empty()) return;
      const Value value = default_value(statement);
      const int added = static_cast<int>(columns_.size()) - 1;
      for (std::int64_t id = 1; id <= row_count(); ++id) {
        // A volatile default outside rehearse's expression subset (gen_random_uuid()): a value
        // per row, never NULL, as the rewrite evaluates it per row.
        set_cell(id, added, value.is_null() && statement.volatile_default ? volatile_value(statement.type, id) : value);
      }
      return;
    }
    case DdlStatement::Kind::drop_column: {
      if (index <= 0) return;  // absent, or `id`
      columns_[static_cast<std::size_t>(index)].live = false;
      // Constraints on the column go with it ("indexes and table constraints involving the
      // column will be automatically dropped").
      const std::string& dropped = statement.column;
      std::erase_if(constraints_, [&dropped](const ConstraintSpec& c) {
        return std::find(c.columns.begin(), c.columns.end(), dropped) != c.columns.end();
      });
      return;
    }
    case DdlStatement::Kind::rename_column:
      if (index <= 0 || column_index(statement.to) >= 0) return;
      columns_[static_cast<std::size_t>(index)].name = statement.to;
      rename_in_constraints(statement.column, statement.to);
      return;
    case DdlStatement::Kind::set_not_null:
      if (index > 0) columns_[static_cast<std::size_t>(index)].not_null = true;
      return;
    case DdlStatement::Kind::create_index:
      if (has_index(statement.column)) return;
      indexes_.push_back(statement.column);
      if (statement.unique) unique_indexes_[statement.column] = statement.columns;
      return;
    case DdlStatement::Kind::drop_index:
      std::erase(indexes_, statement.column);
      std::erase(invalid_indexes_, statement.column);
      unique_indexes_.erase(statement.column);
      return;
    case DdlStatement::Kind::alter_column_type: {
      if (index <= 0) return;
      const Expr cast = cast_expression(statement);
      for (std::int64_t id = 1; id <= row_count(); ++id) set_cell(id, index, evaluate_on(cast, id));  // the rewrite
      columns_[static_cast<std::size_t>(index)].type = statement.type;
      return;
    }
    case DdlStatement::Kind::drop_not_null:
      if (index > 0) columns_[static_cast<std::size_t>(index)].not_null = false;
      return;
    case DdlStatement::Kind::set_default:
    case DdlStatement::Kind::drop_default:
      if (index > 0) {
        columns_[static_cast<std::size_t>(index)].default_sql = statement.default_sql;
        columns_[static_cast<std::size_t>(index)].default_on_insert = !statement.default_sql.empty();
      }
      return;
    case DdlStatement::Kind::add_check:
    case DdlStatement::Kind::add_foreign_key:
    case DdlStatement::Kind::add_unique_using_index:
    case DdlStatement::Kind::validate_constraint:
    case DdlStatement::Kind::drop_constraint:
    case DdlStatement::Kind::rename_constraint: apply_constraint(statement); return;
    case DdlStatement::Kind::set_replica_identity:
      replica_identity_ = statement.identity == "index" ? "index " + statement.index : statement.identity;
      return;
    case DdlStatement::Kind::comment: comments_[statement.column] = statement.comment; return;
    case DdlStatement::Kind::create_table:
    case DdlStatement::Kind::drop_table:
    case DdlStatement::Kind::rename_table:
    case DdlStatement::Kind::opaque_sql:
    case DdlStatement::Kind::create_trigger:
    case DdlStatement::Kind::row_security:
    case DdlStatement::Kind::policy:
    case DdlStatement::Kind::trigger_state:
    case DdlStatement::Kind::alter_constraint:
    case DdlStatement::Kind::catalog:
    case DdlStatement::Kind::transaction: return;  // the database's, or not analysed
    case DdlStatement::Kind::dml: apply_dml(statement); return;
  }
}

// The rows a SQL file's UPDATE or DELETE takes: its id range, narrowed by its WHERE when
// rehearse's expression subset reads the condition (a row is taken when it is TRUE, as in
// PostgreSQL: NULL and FALSE leave it; parse_condition: BETWEEN and IN lists too). `known` is
// false when the subset does not read the condition (a subquery, another table's column, LIKE,
// ...): `rows` is then the whole id range.
Table::DmlRows Table::dml_rows(const DdlStatement& statement) const {
  const bool ranged = statement.high_id >= statement.low_id;
  const std::int64_t low = ranged ? std::max<std::int64_t>(1, statement.low_id) : 1;
  const std::int64_t high = ranged ? std::min(row_count(), statement.high_id) : row_count();
  std::optional<Expr> condition;
  DmlRows taken;
  if (!statement.where_sql.empty()) {
    ExprParseError error;
    const ColumnTypes types = live_column_types();
    condition = parse_condition(fmt::format("CAST(({}) AS boolean)", statement.where_sql), &types, &error);
    taken.known = condition.has_value();
  }
  for (std::int64_t id = low; id <= high; ++id) {
    if (condition) {
      const EvalResult where = evaluate_checked(*condition, id);
      if (!where.ok || where.value.is_null() || !where.value.as_bool()) continue;
    }
    taken.rows.push_back(id);
  }
  return taken;
}

ColumnTypes Table::live_column_types() const {
  ColumnTypes types;
  for (const Column& column : columns_) {
    if (column.live) types[column.name] = column.type;
  }
  return types;
}

// A SQL file's DML, its data effect:
// - UPDATE: each assignment evaluated on every row its WHERE takes, when the subset reads the
//   SET expression; otherwise, and when the subset does not read its WHERE (a subquery, LIKE,
//   IN, ...), the rows stay as they are: which rows such a statement changes is not known, and
//   changing every row of its range would overwrite the application's writes a real run keeps
//   (its locks and its cost still cover the range: dml_rows). Lint `sql-where-not-evaluated`.
// - TRUNCATE, and a DELETE whose rows are known: the rows go when they are every row, or the
//   table's last ones (ids stay dense: a row from the middle stays, the simulated table has no
//   holes); a DELETE whose WHERE the subset does not read removes nothing.
// - INSERT and SELECT change no row of the simulated table.
void Table::apply_dml(const DdlStatement& statement) {
  if (statement.dml == "TRUNCATE") {
    rows_.clear();
    return;
  }
  if (statement.dml != "UPDATE" && statement.dml != "DELETE") return;
  const DmlRows taken = dml_rows(statement);
  if (statement.dml == "DELETE") {
    if (!taken.known || taken.rows.empty()) return;
    // Rows k..n, all of them: the table keeps rows 1..k-1.
    const std::int64_t first = taken.rows.front();
    if (taken.rows.back() == row_count() && static_cast<std::int64_t>(taken.rows.size()) == row_count() - first + 1) {
      rows_.resize(static_cast<std::size_t>(first - 1));
    }
    return;
  }
  if (!taken.known) return;
  // Every SET expression reads the row as it was before the statement (SET a = b, b = a swaps).
  const ColumnTypes types = live_column_types();
  std::vector<std::pair<int, Expr>> sets;
  for (const auto& [column, text] : statement.assignments) {
    const int target = column_index(column);
    if (target <= 0) continue;
    ExprParseError error;
    std::optional<Expr> expr =
        parse_condition(fmt::format("CAST(({}) AS {})", text, to_string(columns_[static_cast<std::size_t>(target)].type)), &types, &error);
    if (expr) sets.emplace_back(target, std::move(*expr));
  }
  std::vector<std::pair<int, Value>> values;
  for (const std::int64_t id : taken.rows) {
    values.clear();
    for (const auto& [target, expr] : sets) {
      EvalResult result = evaluate_checked(expr, id);
      if (result.ok) values.emplace_back(target, std::move(result.value));
    }
    for (auto& [target, value] : values) set_cell(id, target, std::move(value));
  }
}

// What PostgreSQL says when a SQL file's statement meets what is already there (or is not): the
// statement written without IF [NOT] EXISTS fails. "" when it runs.
std::string Table::as_written_error(const DdlStatement& statement) const {
  if (!statement.as_written) return "";
  const int index = column_index(statement.column);
  switch (statement.kind) {
    case DdlStatement::Kind::add_column:
      if (index >= 0) {
        return statement.if_exists ? "" : fmt::format("column \"{}\" of relation \"{}\" already exists", statement.column, name_);
      }
      if (statement.not_null && statement.default_sql.empty() && row_count() > 0) {
        return fmt::format("column \"{}\" of relation \"{}\" contains null values", statement.column, name_);
      }
      return "";
    case DdlStatement::Kind::drop_column:
    case DdlStatement::Kind::set_not_null:
    case DdlStatement::Kind::drop_not_null:
    case DdlStatement::Kind::set_default:
    case DdlStatement::Kind::drop_default:
    case DdlStatement::Kind::rename_column:
    case DdlStatement::Kind::alter_column_type:
      if (index < 0 && !(statement.kind == DdlStatement::Kind::drop_column && statement.if_exists)) {
        return fmt::format("column \"{}\" of relation \"{}\" does not exist", statement.column, name_);
      }
      if (statement.kind == DdlStatement::Kind::rename_column && column_index(statement.to) >= 0) {
        return fmt::format("column \"{}\" of relation \"{}\" already exists", statement.to, name_);
      }
      if (statement.kind == DdlStatement::Kind::set_not_null && index > 0) {
        for (std::int64_t id = 1; id <= row_count(); ++id) {
          if (cell(id, index).is_null()) return fmt::format("column \"{}\" of relation \"{}\" contains null values", statement.column, name_);
        }
      }
      return "";
    case DdlStatement::Kind::create_index:
      return has_index(statement.column) && !statement.if_exists ? fmt::format("relation \"{}\" already exists", statement.column) : "";
    case DdlStatement::Kind::drop_index:
      return !has_index(statement.column) && !statement.if_exists ? fmt::format("index \"{}\" does not exist", statement.column) : "";
    case DdlStatement::Kind::add_check:
    case DdlStatement::Kind::add_foreign_key:
    case DdlStatement::Kind::add_unique_using_index:
      return constraint(statement.constraint) != nullptr
                 ? fmt::format("constraint \"{}\" for relation \"{}\" already exists", statement.constraint, name_)
                 : "";
    case DdlStatement::Kind::drop_constraint:
    case DdlStatement::Kind::rename_constraint:
      return constraint(statement.constraint) == nullptr && statement.constraint != primary_key_name_ && !statement.if_exists
                 ? fmt::format("constraint \"{}\" of relation \"{}\" does not exist", statement.constraint, name_)
                 : "";
    default: return "";
  }
}

void Table::fill_defaults(std::int64_t id) {
  for (std::size_t i = 1; i < columns_.size(); ++i) {
    const Column& column = columns_[i];
    if (!column.live || !column.default_on_insert || !cell(id, static_cast<int>(i)).is_null()) continue;
    DdlStatement as_added;
    as_added.default_sql = column.default_sql;
    as_added.type = column.type;
    const Value value = default_value(as_added);
    set_cell(id, static_cast<int>(i), value.is_null() ? volatile_value(column.type, id) : value);
  }
}

void Table::mark_index_invalid(const std::string& index) {
  if (!has_index(index)) indexes_.push_back(index);
  if (std::find(invalid_indexes_.begin(), invalid_indexes_.end(), index) == invalid_indexes_.end()) invalid_indexes_.push_back(index);
}

bool Table::index_valid(const std::string& index) const {
  return has_index(index) && std::find(invalid_indexes_.begin(), invalid_indexes_.end(), index) == invalid_indexes_.end();
}

void Table::apply_constraint(const DdlStatement& statement) {
  auto found = std::find_if(constraints_.begin(), constraints_.end(),
                            [&statement](const ConstraintSpec& c) { return c.name == statement.constraint; });
  const bool rename = statement.kind == DdlStatement::Kind::rename_constraint;
  if (found == constraints_.end() && !primary_key_name_.empty() && statement.constraint == primary_key_name_ &&
      (rename || statement.kind == DdlStatement::Kind::drop_constraint)) {
    primary_key_name_ = rename ? statement.to : "";  // the implicit `id` stays the rows' key in the simulator
    return;
  }
  switch (statement.kind) {
    case DdlStatement::Kind::add_check:
    case DdlStatement::Kind::add_foreign_key: {
      if (found != constraints_.end()) return;
      const bool check = statement.kind == DdlStatement::Kind::add_check;
      constraints_.push_back(ConstraintSpec{.kind = check ? ConstraintKind::check : ConstraintKind::foreign_key,
                                            .name = statement.constraint, .columns = statement.columns, .check = statement.check,
                                            .ref_table = statement.ref_table, .ref_columns = statement.ref_columns,
                                            .on_delete = statement.on_delete, .validated = !statement.not_valid});
      return;
    }
    case DdlStatement::Kind::add_unique_using_index: {
      const auto index = unique_indexes_.find(statement.index);
      if (found != constraints_.end() || index == unique_indexes_.end()) return;
      // The index becomes the constraint's and takes its name, as PostgreSQL renames it.
      const std::vector<std::string> columns = index->second;
      unique_indexes_.erase(index);
      unique_indexes_[statement.constraint] = columns;
      std::replace(indexes_.begin(), indexes_.end(), statement.index, statement.constraint);
      constraints_.push_back(ConstraintSpec{.kind = ConstraintKind::unique, .name = statement.constraint, .columns = columns});
      return;
    }
    case DdlStatement::Kind::validate_constraint:
      if (found != constraints_.end()) found->validated = true;
      return;
    case DdlStatement::Kind::drop_constraint:
      if (found == constraints_.end()) return;
      if (found->kind == ConstraintKind::unique) {  // its index goes with it
        std::erase(indexes_, found->name);
        unique_indexes_.erase(found->name);
      }
      constraints_.erase(found);
      return;
    case DdlStatement::Kind::rename_constraint:
      if (found == constraints_.end() || constraint(statement.to) != nullptr) return;
      if (found->kind == ConstraintKind::unique) {  // and so is its index
        std::replace(indexes_.begin(), indexes_.end(), found->name, statement.to);
        auto node = unique_indexes_.extract(found->name);
        node.key() = statement.to;
        unique_indexes_.insert(std::move(node));
      }
      found->name = statement.to;
      return;
    default: REHEARSE_ASSERT(false);
  }
}

// A renamed column keeps its constraints: their column lists and CHECK expressions follow it.
void Table::rename_in_constraints(const std::string& from, const std::string& to) {
  for (ConstraintSpec& c : constraints_) {
    std::replace(c.columns.begin(), c.columns.end(), from, to);
    if (c.kind != ConstraintKind::check) continue;
    ExprParseError error;
    const std::optional<Expr> expr = parse_expression(c.check, &error);
    if (!expr) continue;  // outside rehearse's subset: never evaluated, so its text stays
    c.check = to_sql(*expr, [&from, &to](const std::string& name) { return fmt::format("\"{}\"", name == from ? to : name); });
  }
  for (auto& [name, columns] : unique_indexes_) std::replace(columns.begin(), columns.end(), from, to);
}

std::string Table::rewrite_error(const DdlStatement& statement) const {
  switch (statement.kind) {
    case DdlStatement::Kind::add_check:
      if (statement.not_valid) return "";
      return check_error(ConstraintSpec{.kind = ConstraintKind::check, .name = statement.constraint, .check = statement.check},
                         statement.table);
    case DdlStatement::Kind::validate_constraint: {
      const ConstraintSpec* check = constraint(statement.constraint);
      if (check == nullptr) return fmt::format("constraint \"{}\" of relation \"{}\" does not exist", statement.constraint, statement.table);
      return check->kind == ConstraintKind::check ? check_error(*check, statement.table) : "";
    }
    case DdlStatement::Kind::create_index:
      return statement.unique && !has_index(statement.column) ? duplicate_error(statement.column, statement.columns, statement.predicate) : "";
    case DdlStatement::Kind::add_unique_using_index: {
      if (constraint(statement.constraint) != nullptr) return "";
      const auto index = unique_indexes_.find(statement.index);
      if (index == unique_indexes_.end()) {
        return has_index(statement.index) ? fmt::format("\"{}\" is not a unique index", statement.index)
                                          : fmt::format("index \"{}\" does not exist", statement.index);
      }
      return duplicate_error(statement.index, index->second, "");
    }
    default: break;
  }
  const int index = column_index(statement.column);
  if (statement.kind != DdlStatement::Kind::alter_column_type || index <= 0) return "";
  const Expr cast = cast_expression(statement);
  for (std::int64_t id = 1; id <= row_count(); ++id) {
    const EvalResult result = evaluate_checked(cast, id);
    if (!result.ok) return fmt::format("row {}: {}", id, result.error);
  }
  return "";
}

// PostgreSQL's error for a CHECK that a row makes FALSE (NULL satisfies a CHECK). A check outside
// rehearse's expression subset is not evaluated (docs/scenarios.md).
std::string Table::check_error(const ConstraintSpec& check, const std::string& table) const {
  ExprParseError error;
  const std::optional<Expr> expr = parse_expression(check.check, &error);
  if (!expr) return "";
  for (const std::string& column : expr->columns()) {
    if (column_index(column) < 0) return fmt::format("column \"{}\" does not exist", column);
  }
  for (std::int64_t id = 1; id <= row_count(); ++id) {
    const EvalResult result = evaluate_checked(*expr, id);
    if (!result.ok) return fmt::format("row {}: {}", id, result.error);
    if (result.value.kind() == Value::Kind::boolean && !result.value.as_bool()) {
      return fmt::format("row {}: check constraint \"{}\" of relation \"{}\" is violated by some row", id, check.name, table);
    }
  }
  return "";
}

// PostgreSQL's error for a unique index over duplicated values: rows where any key column is
// NULL never collide; a partial index covers only the rows its predicate holds for.
std::string Table::duplicate_error(const std::string& index, const std::vector<std::string>& columns,
                                   const std::string& predicate) const {
  std::vector<int> slots;
  for (const std::string& column : columns) {
    const int slot = column_index(column);
    if (slot < 0) return fmt::format("column \"{}\" does not exist", column);
    slots.push_back(slot);
  }
  ExprParseError error;
  const std::optional<Expr> where = predicate.empty() ? std::nullopt : parse_expression(predicate, &error);
  std::unordered_map<std::uint64_t, std::vector<std::int64_t>> seen;  // key hash -> rows
  for (std::int64_t id = 1; id <= row_count(); ++id) {
    if (where) {
      const Value covered = evaluate_on(*where, id);
      if (covered.kind() != Value::Kind::boolean || !covered.as_bool()) continue;
    }
    std::uint64_t hash = 0;
    bool has_null = false;
    for (int slot : slots) {
      const Value value = cell(id, slot);
      has_null = has_null || value.is_null();
      hash = key_hash_step(hash, value);
    }
    if (has_null) continue;
    for (std::int64_t other : seen[hash]) {
      bool equal = true;
      for (int slot : slots) equal = equal && cell(id, slot) == cell(other, slot);
      if (equal) return fmt::format("row {}: could not create unique index \"{}\": rows {} and {} hold the same key", id, index, other, id);
    }
    seen[hash].push_back(id);
  }
  return "";
}

std::string Table::foreign_key_error(const DdlStatement& statement, const Table& referenced) const {
  const ConstraintSpec* recorded = constraint(statement.constraint);
  const bool validates = statement.kind == DdlStatement::Kind::validate_constraint && recorded != nullptr &&
                         recorded->kind == ConstraintKind::foreign_key;
  const bool adds_valid = statement.kind == DdlStatement::Kind::add_foreign_key && !statement.not_valid;
  if (!validates && !adds_valid) return "";
  const std::vector<std::string>& columns = validates ? recorded->columns : statement.columns;
  std::vector<std::string> targets = validates ? recorded->ref_columns : statement.ref_columns;
  if (targets.empty()) targets = {"id"};  // the referenced table's primary key
  REHEARSE_ASSERT(columns.size() == targets.size());
  std::vector<int> from;
  std::vector<int> to;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    from.push_back(column_index(columns[i]));
    to.push_back(referenced.column_index(targets[i]));
    if (from.back() < 0 || to.back() < 0) return fmt::format("column \"{}\" does not exist", from.back() < 0 ? columns[i] : targets[i]);
  }
  std::unordered_map<std::uint64_t, std::vector<std::int64_t>> keys;  // the referenced rows by key hash
  auto key_hash = [](const Table& table, std::int64_t id, const std::vector<int>& slots) {
    std::uint64_t hash = 0;
    for (int slot : slots) hash = key_hash_step(hash, table.cell(id, slot));
    return hash;
  };
  for (std::int64_t id = 1; id <= referenced.row_count(); ++id) keys[key_hash(referenced, id, to)].push_back(id);
  for (std::int64_t id = 1; id <= row_count(); ++id) {
    bool has_null = false;
    for (int slot : from) has_null = has_null || cell(id, slot).is_null();
    if (has_null) continue;  // MATCH SIMPLE: a NULL in the key is not checked
    bool found = false;
    for (std::int64_t candidate : keys[key_hash(*this, id, from)]) {
      bool equal = true;
      for (std::size_t i = 0; i < from.size(); ++i) equal = equal && cell(id, from[i]) == referenced.cell(candidate, to[i]);
      found = found || equal;
    }
    if (!found) {
      return fmt::format("row {}: insert or update on table \"{}\" violates foreign key constraint \"{}\"", id, statement.table,
                         statement.constraint);
    }
  }
  return "";
}

std::int64_t Table::insert(Row row) {
  rows_.push_back(std::move(row));
  return row_count();
}

Value Table::cell(std::int64_t id, int column) const {
  if (column == 0) return Value::integer(id);
  return rows_[index(id)][static_cast<std::size_t>(column - 1)];
}

void Table::set_cell(std::int64_t id, int column, Value value) {
  REHEARSE_ASSERT(column > 0);
  rows_[index(id)].set(static_cast<std::size_t>(column - 1), std::move(value));
}

std::vector<std::string> Table::live_column_names() const {
  std::vector<std::string> names;
  for (const auto& column : columns_) {
    if (column.live) names.push_back(column.name);
  }
  return names;
}

bool Table::has_index(const std::string& name) const {
  return std::find(indexes_.begin(), indexes_.end(), name) != indexes_.end();
}

const ConstraintSpec* Table::constraint(const std::string& name) const {
  for (const ConstraintSpec& c : constraints_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Table::comment(const std::string& column) const {
  const auto found = comments_.find(column);
  return found == comments_.end() ? "" : found->second;
}

EvalResult Table::evaluate_checked(const Expr& expr, std::int64_t id) const {
  static const ColumnValues kNothingGiven;
  return evaluate_with(expr, id, kNothingGiven);
}

namespace {
// A column by name: `given` first, then `row` of `table` (column 0: `id_value`).
auto given_then_row(const Table& table, const Row& row, const Value& id_value, const ColumnValues& given) {
  return [&table, &row, &id_value, &given](const std::string& name) -> const Value* {
    if (auto it = given.find(name); it != given.end()) return &it->second;
    const int column = table.column_index(name);
    if (column < 0) return nullptr;
    return column == 0 ? &id_value : &row[static_cast<std::size_t>(column - 1)];
  };
}
}  // namespace

EvalResult Table::evaluate_with(const Expr& expr, std::int64_t id, const ColumnValues& given) const {
  const Row& row = rows_[index(id)];
  const Value id_value = Value::integer(id);
  return evaluate(expr, given_then_row(*this, row, id_value, given));
}

std::vector<int> Table::bind_with(const Expr& expr, const ColumnValues& given) const {
  std::vector<int> bound;
  bound.reserve(expr.columns().size());
  for (const std::string& name : expr.columns()) {
    const auto it = given.find(name);
    if (it != given.end()) {
      bound.push_back(static_cast<int>(it - given.begin()));
    } else {
      const int column = column_index(name);
      bound.push_back(column < 0 ? -1 : -2 - column);
    }
  }
  return bound;
}

EvalResult Table::evaluate_with_bound(const Expr& expr, const std::vector<int>& bound, std::int64_t id,
                                      const ColumnValues& given) const {
  REHEARSE_ASSERT(bound.size() == expr.columns().size());
  const Row& row = rows_[index(id)];
  const Value id_value = Value::integer(id);
  BoundColumns values(bound.size());
  for (std::size_t i = 0; i < bound.size(); ++i) {
    const int at = bound[i];
    const Value* value = nullptr;
    if (at >= 0) {
      value = &(given.begin() + at)->second;
    } else if (at <= -2) {
      const int column = -2 - at;
      value = column == 0 ? &id_value : &row[static_cast<std::size_t>(column - 1)];
    }
    values.data()[i] = value;
  }
  return evaluate(expr, values.data(), given_then_row(*this, row, id_value, given));
}

std::vector<int> Table::bind(const Expr& expr) const {
  std::vector<int> bound;
  bound.reserve(expr.columns().size());
  for (const std::string& name : expr.columns()) bound.push_back(column_index(name));
  return bound;
}

EvalResult Table::evaluate_bound(const Expr& expr, const std::vector<int>& bound, std::int64_t id) const {
  REHEARSE_ASSERT(bound.size() == expr.columns().size());
  const Row& row = rows_[index(id)];
  const Value id_value = Value::integer(id);
  const auto at = [&row, &id_value](int column) -> const Value* {
    if (column < 0) return nullptr;
    return column == 0 ? &id_value : &row[static_cast<std::size_t>(column - 1)];
  };
  BoundColumns values(bound.size());
  for (std::size_t i = 0; i < bound.size(); ++i) values.data()[i] = at(bound[i]);
  return evaluate(expr, values.data(), [this, &at](const std::string& name) { return at(column_index(name)); });
}

Value Table::evaluate_on(const Expr& expr, std::int64_t id) const {
  EvalResult result = evaluate_checked(expr, id);
  return result.ok ? std::move(result.value) : Value();
}

TableCatalog Table::catalog() const {
  TableCatalog catalog;
  catalog.known = true;
  for (const Column& column : columns_) {
    if (column.live) catalog.columns.push_back(CatalogColumn{column.name, to_string(column.type), column.not_null});
  }
  for (const std::string& index : indexes_) {
    // An INVALID index is in pg_index but not used: the catalog claims judge it absent.
    if (std::find(invalid_indexes_.begin(), invalid_indexes_.end(), index) == invalid_indexes_.end()) catalog.indexes.push_back(index);
  }
  for (const ConstraintSpec& c : constraints_) catalog.constraints.push_back(c.name);
  return catalog;
}

TableImage Table::image() const {
  TableImage image;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (!columns_[i].live) continue;
    image.columns.push_back(columns_[i].name);
    image.slots.push_back(i == 0 ? TableImage::kRowPosition : static_cast<int>(i) - 1);
  }
  image.rows = rows_;
  return image;
}

}  // namespace rehearse::sim
