// The statement model's table. Each lock mode is PostgreSQL 15's, as its documentation gives it
// (13.3.1 "Table-Level Locks"; ALTER TABLE's page, which names the lock of each subform; CREATE
// INDEX, DROP INDEX, CREATE TRIGGER, COMMENT) and as AlterTableGetLockLevel in tablecmds.c
// decides it; LiveTest.StatementLocksMatchPgLocks checks every row against pg_locks.
#include "core/statements.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"

namespace rehearse {

namespace {

using K = StatementKind;
using R = RelationRole;
using W = TableWork;
constexpr LockMode kAccessShare = LockMode::access_share;
constexpr LockMode kRowShare = LockMode::row_share;
constexpr LockMode kRowExclusive = LockMode::row_exclusive;
constexpr LockMode kShareUpdateExclusive = LockMode::share_update_exclusive;
constexpr LockMode kShare = LockMode::share;
constexpr LockMode kShareRowExclusive = LockMode::share_row_exclusive;
constexpr LockMode kAccessExclusive = LockMode::access_exclusive;

StatementModel on_table(K kind, const char* name, LockMode mode, W work, const char* cost_key, const char* per_row = "") {
  return StatementModel{kind, name, {{R::table, mode}}, work, true, false, cost_key, per_row};
}

// Most ALTER TABLE forms: ACCESS EXCLUSIVE on the table ("An ACCESS EXCLUSIVE lock is acquired
// unless explicitly noted"); a scan or rewrite priced per row.
StatementModel alter(K kind, const char* name, W work = W::catalog_only) {
  const char* per_row = work == W::scan ? "scan_per_row_us" : work == W::rewrite ? "table_rewrite_per_row_us" : "";
  return on_table(kind, name, kAccessExclusive, work, "ddl_us", per_row);
}

std::vector<StatementModel> build_models() {
  std::vector<StatementModel> models = {
      alter(K::add_column_nullable, "ADD COLUMN (nullable)"),
      alter(K::add_column_constant_default, "ADD COLUMN ... DEFAULT constant"),
      alter(K::add_column_volatile_default, "ADD COLUMN ... DEFAULT volatile()", W::rewrite),
      alter(K::drop_column, "DROP COLUMN"),
      alter(K::alter_column_type_rewrite, "ALTER COLUMN TYPE (rewrite)", W::rewrite),
      alter(K::alter_column_type_binary_coercible, "ALTER COLUMN TYPE (binary-coercible)"),
      alter(K::set_not_null, "SET NOT NULL", W::scan),
      alter(K::set_not_null_with_valid_check, "SET NOT NULL (valid CHECK (c IS NOT NULL) in place)"),
      alter(K::drop_not_null, "DROP NOT NULL"),
      alter(K::set_default, "SET DEFAULT"),
      alter(K::drop_default, "DROP DEFAULT"),
      alter(K::add_check, "ADD CONSTRAINT CHECK", W::scan),
      alter(K::add_check_not_valid, "ADD CONSTRAINT CHECK NOT VALID"),
      // "ADD FOREIGN KEY requires only a SHARE ROW EXCLUSIVE lock ... also on the referenced table".
      StatementModel{K::add_foreign_key, "ADD CONSTRAINT FOREIGN KEY",
                     {{R::table, kShareRowExclusive}, {R::referenced_table, kShareRowExclusive}}, W::scan, true, false,
                     "ddl_us", "scan_per_row_us"},
      StatementModel{K::add_foreign_key_not_valid, "ADD CONSTRAINT FOREIGN KEY NOT VALID",
                     {{R::table, kShareRowExclusive}, {R::referenced_table, kShareRowExclusive}}, W::catalog_only, true,
                     false, "ddl_us", ""},
      // "VALIDATE CONSTRAINT ... SHARE UPDATE EXCLUSIVE on the table being altered. If the
      // constraint is a foreign key then a ROW SHARE lock is also required on the table referenced".
      on_table(K::validate_check, "VALIDATE CONSTRAINT (CHECK)", kShareUpdateExclusive, W::scan, "ddl_us", "scan_per_row_us"),
      StatementModel{K::validate_foreign_key, "VALIDATE CONSTRAINT (FOREIGN KEY)",
                     {{R::table, kShareUpdateExclusive}, {R::referenced_table, kRowShare}}, W::scan, true, false, "ddl_us",
                     "scan_per_row_us"},
      // CREATE INDEX: SHARE on the table, the new index ACCESS EXCLUSIVE until commit. Its build
      // is priced by index_build_per_row_us, measured on CREATE INDEX CONCURRENTLY (one pass
      // there too once the waits are over; no profile key of its own).
      StatementModel{K::create_index, "CREATE INDEX", {{R::table, kShare}, {R::index, kAccessExclusive}}, W::index_build,
                     true, false, "ddl_us", "index_build_per_row_us"},
      // CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the table as a session lock across its three
      // transactions, waiting for older transactions between them; the index itself is locked
      // only inside the short build and validate transactions, never while it waits.
      StatementModel{K::create_index_concurrently, "CREATE INDEX CONCURRENTLY", {{R::table, kShareUpdateExclusive}},
                     W::index_build, false, true, "ddl_us", "index_build_per_row_us"},
      StatementModel{K::drop_index, "DROP INDEX", {{R::table, kAccessExclusive}, {R::index, kAccessExclusive}},
                     W::catalog_only, true, false, "ddl_us", ""},
      // SHARE UPDATE EXCLUSIVE on both while it waits for every transaction using the table;
      // ACCESS EXCLUSIVE on the (by then unused) index only for the final unlink.
      StatementModel{K::drop_index_concurrently, "DROP INDEX CONCURRENTLY",
                     {{R::table, kShareUpdateExclusive}, {R::index, kShareUpdateExclusive}}, W::catalog_only, false, true,
                     "ddl_us", ""},
      alter(K::rename_column, "RENAME COLUMN"),
      alter(K::rename_table, "RENAME TABLE"),
      alter(K::rename_constraint, "RENAME CONSTRAINT"),
      alter(K::create_table, "CREATE TABLE"),  // the new table, ACCESS EXCLUSIVE until commit
      alter(K::drop_table, "DROP TABLE"),
      StatementModel{K::create_function, "CREATE FUNCTION", {}, W::catalog_only, true, false, "ddl_us", ""},
      on_table(K::create_trigger, "CREATE TRIGGER", kShareRowExclusive, W::catalog_only, "ddl_us"),
      alter(K::drop_trigger, "DROP TRIGGER"),
      on_table(K::update, "UPDATE", kRowExclusive, W::rows_written, "statement_base_us", "update_per_row_us"),
      on_table(K::select, "SELECT", kAccessShare, W::rows_read, "app_read_us"),
      on_table(K::insert, "INSERT", kRowExclusive, W::rows_written, "statement_base_us", "insert_per_row_us"),
      // A DELETE visits the rows an UPDATE would (priced as one); TRUNCATE swaps the table's
      // files under ACCESS EXCLUSIVE without reading a row.
      on_table(K::delete_rows, "DELETE", kRowExclusive, W::rows_written, "statement_base_us", "update_per_row_us"),
      alter(K::truncate, "TRUNCATE"),
      alter(K::set_replica_identity, "SET REPLICA IDENTITY"),
      on_table(K::comment_on_table, "COMMENT ON TABLE", kShareUpdateExclusive, W::catalog_only, "ddl_us"),
      on_table(K::comment_on_column, "COMMENT ON COLUMN", kShareUpdateExclusive, W::catalog_only, "ddl_us"),
      // ADD CONSTRAINT ... USING INDEX is an ADD CONSTRAINT UNIQUE (AT_AddIndexConstraint):
      // ACCESS EXCLUSIVE, but the index exists already, so it neither scans nor builds.
      alter(K::add_constraint_using_index, "ADD CONSTRAINT UNIQUE USING INDEX"),
      // DROP CONSTRAINT: ACCESS EXCLUSIVE on the table (a foreign key's referenced table is
      // locked too; the model does not know which kind a name is, so it leaves that out).
      alter(K::drop_constraint, "DROP CONSTRAINT"),
      // AT_EnableRowSecurity and its kin (AlterTableGetLockLevel: ACCESS EXCLUSIVE); CREATE,
      // ALTER and DROP POLICY open the table ACCESS EXCLUSIVE (policy.c). Catalog changes only.
      alter(K::row_security, "ROW LEVEL SECURITY"),
      alter(K::policy, "CREATE / ALTER / DROP POLICY"),
      // "Enabling and disabling triggers acquires a SHARE ROW EXCLUSIVE lock" (ALTER TABLE).
      on_table(K::trigger_state, "ENABLE / DISABLE TRIGGER", kShareRowExclusive, W::catalog_only, "ddl_us"),
      alter(K::alter_constraint, "ALTER CONSTRAINT"),
      // Not analysed (real-migrations.md: opaque statements): the strongest lock is assumed.
      alter(K::opaque_sql, "SQL (opaque: ACCESS EXCLUSIVE assumed)"),
      // A SQL file's statements that change no table (SET, CREATE TYPE, GRANT, ...).
      StatementModel{K::catalog_only, "catalog only (no table lock)", {}, W::catalog_only, true, false, "ddl_us", ""},
  };
  for (std::size_t i = 0; i < models.size(); ++i) {
    REHEARSE_ASSERT(static_cast<std::size_t>(models[i].kind) == i);  // in the order of the enum
  }
  return models;
}

const std::vector<StatementModel>& models() {
  static const std::vector<StatementModel> table = build_models();
  return table;
}

double cost_value(const CostProfile& costs, const char* key, std::int64_t rows) {
  if (*key == '\0') return 0;
  if (std::string(key) == "update_per_row_us") return costs.update_per_row_us_at(rows);
  CostProfile copy = costs;  // cost_field gives a pointer into a mutable profile
  const double* field = cost_field(copy, key);
  REHEARSE_ASSERT(field != nullptr);
  return *field;
}

}  // namespace

const char* to_string(RelationRole role) {
  switch (role) {
    case RelationRole::table: return "table";
    case RelationRole::referenced_table: return "referenced table";
    case RelationRole::index: return "index";
  }
  return "?";
}

const char* to_string(TableWork work) {
  switch (work) {
    case TableWork::catalog_only: return "catalog only";
    case TableWork::scan: return "scans the table";
    case TableWork::rewrite: return "rewrites the table";
    case TableWork::index_build: return "builds the index from every row";
    case TableWork::rows_read: return "reads its rows";
    case TableWork::rows_written: return "writes its rows";
  }
  return "?";
}

const StatementModel& statement_model(StatementKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  REHEARSE_ASSERT(index < models().size());
  const StatementModel& model = models()[index];
  REHEARSE_ASSERT(model.kind == kind);
  return model;
}

const std::vector<StatementKind>& statement_kinds() {
  static const std::vector<StatementKind> kinds = [] {
    std::vector<StatementKind> all;
    for (const StatementModel& model : models()) all.push_back(model.kind);
    return all;
  }();
  return kinds;
}

std::optional<LockMode> lock_on(const StatementModel& model, RelationRole role) {
  for (const RelationLock& lock : model.locks) {
    if (lock.role == role) return lock.mode;
  }
  return std::nullopt;
}

TimeUs statement_cost_us(const CostProfile& costs, StatementKind kind, std::int64_t rows) {
  REHEARSE_ASSERT(rows >= 0);
  const StatementModel& model = statement_model(kind);
  const TimeUs fixed = CostProfile::total_us(cost_value(costs, model.cost_key, rows), 1);
  if (model.work == TableWork::catalog_only) return fixed;
  return fixed + CostProfile::total_us(cost_value(costs, model.per_row_cost_key, rows), rows);
}

std::string describe_locks(const StatementModel& model, const std::function<std::string(RelationRole)>& relation_name) {
  std::vector<std::string> parts;
  for (const RelationLock& lock : model.locks) parts.push_back(fmt::format("{} on {}", sql_name(lock.mode), relation_name(lock.role)));
  if (parts.empty()) parts.emplace_back("no table lock");
  std::string text = fmt::format("{}", fmt::join(parts, ", "));
  if (model.waits_for_older_transactions) text += ", waits for older transactions";
  if (model.work == TableWork::scan || model.work == TableWork::rewrite || model.work == TableWork::index_build) {
    text += fmt::format("; {}", to_string(model.work));
  }
  if (!model.in_transaction) text += "; outside a transaction";
  return text;
}

StatementKind statement_kind(const DdlStatement& statement) {
  using D = DdlStatement::Kind;
  switch (statement.kind) {
    case D::add_column:
      if (statement.default_sql.empty()) return StatementKind::add_column_nullable;
      return statement.volatile_default ? StatementKind::add_column_volatile_default : StatementKind::add_column_constant_default;
    case D::drop_column: return StatementKind::drop_column;
    case D::rename_column: return StatementKind::rename_column;
    case D::set_not_null: return statement.with_valid_check ? StatementKind::set_not_null_with_valid_check : StatementKind::set_not_null;
    case D::create_index: return statement.concurrently ? StatementKind::create_index_concurrently : StatementKind::create_index;
    case D::drop_index: return statement.concurrently ? StatementKind::drop_index_concurrently : StatementKind::drop_index;
    case D::alter_column_type:
      return statement.rewrites ? StatementKind::alter_column_type_rewrite : StatementKind::alter_column_type_binary_coercible;
    case D::drop_not_null: return StatementKind::drop_not_null;
    case D::set_default: return StatementKind::set_default;
    case D::drop_default: return StatementKind::drop_default;
    case D::add_check: return statement.not_valid ? StatementKind::add_check_not_valid : StatementKind::add_check;
    case D::add_foreign_key: return statement.not_valid ? StatementKind::add_foreign_key_not_valid : StatementKind::add_foreign_key;
    case D::add_unique_using_index: return StatementKind::add_constraint_using_index;
    case D::validate_constraint:
      // Only CHECK and FOREIGN KEY constraints can be NOT VALID, so only they are validated.
      REHEARSE_ASSERT(statement.constraint_kind != ConstraintKind::unique);
      return statement.constraint_kind == ConstraintKind::foreign_key ? StatementKind::validate_foreign_key
                                                                      : StatementKind::validate_check;
    case D::drop_constraint: return StatementKind::drop_constraint;
    case D::rename_constraint: return StatementKind::rename_constraint;
    case D::create_table: return StatementKind::create_table;
    case D::drop_table: return StatementKind::drop_table;
    case D::rename_table: return StatementKind::rename_table;
    case D::set_replica_identity: return StatementKind::set_replica_identity;
    case D::comment: return statement.column.empty() ? StatementKind::comment_on_table : StatementKind::comment_on_column;
    case D::opaque_sql: return StatementKind::opaque_sql;
    case D::create_trigger: return StatementKind::create_trigger;
    case D::row_security: return StatementKind::row_security;
    case D::policy: return StatementKind::policy;
    case D::trigger_state: return StatementKind::trigger_state;
    case D::alter_constraint: return StatementKind::alter_constraint;
    case D::dml:
      if (statement.dml == "SELECT") return StatementKind::select;
      if (statement.dml == "DELETE") return StatementKind::delete_rows;
      if (statement.dml == "TRUNCATE") return StatementKind::truncate;
      return statement.dml == "INSERT" ? StatementKind::insert : StatementKind::update;
    case D::catalog:
    case D::transaction: return StatementKind::catalog_only;
  }
  REHEARSE_ASSERT(false);
  return StatementKind::select;
}

std::string string_literal(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

std::string sql_columns(const std::vector<std::string>& columns, const QuoteName& quote_name) {
  std::vector<std::string> quoted;
  for (const std::string& column : columns) quoted.push_back(quote_name(column));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

std::string column_sql(const ColumnSpec& column, const QuoteName& quote_name) {
  std::string text = fmt::format("{} {}", quote_name(column.name), column.sql_type.empty() ? to_string(column.type) : column.sql_type);
  if (column.not_null) text += " NOT NULL";
  if (column.default_sql == kIdentityDefaultSql) text += " GENERATED BY DEFAULT AS IDENTITY";
  else if (column.default_sql.rfind("GENERATED ", 0) == 0) text += " " + column.default_sql;
  else if (!column.default_sql.empty()) text += " DEFAULT " + column.default_sql;
  return text;
}

std::string foreign_key_sql(const DdlStatement& statement, const QuoteName& quote_name, const QuoteName& quote_relation) {
  std::string sql = fmt::format("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}", quote_relation(statement.table),
                                quote_name(statement.constraint), sql_columns(statement.columns, quote_name),
                                quote_relation(statement.ref_table));
  if (!statement.ref_columns.empty()) sql += fmt::format(" ({})", sql_columns(statement.ref_columns, quote_name));
  if (!statement.on_delete.empty()) sql += " ON DELETE " + statement.on_delete;
  return statement.not_valid ? sql + " NOT VALID" : sql;
}

namespace {

std::string create_index_sql(const DdlStatement& statement, const QuoteName& quote_name) {
  std::string sql = fmt::format("CREATE {}INDEX CONCURRENTLY IF NOT EXISTS {} ON {}", statement.unique ? "UNIQUE " : "",
                                quote_name(statement.column), quote_name(statement.table));
  if (!statement.method.empty()) sql += " USING " + statement.method;
  sql += fmt::format(" ({})", sql_columns(statement.columns, quote_name));
  if (!statement.storage_parameters.empty()) sql += fmt::format(" WITH ({})", statement.storage_parameters);
  if (!statement.predicate.empty()) sql += fmt::format(" WHERE {}", statement.predicate);
  return sql;
}

std::string create_table_sql(const DdlStatement& statement, const QuoteName& quote_name) {
  std::vector<std::string> columns = {fmt::format("{} bigint PRIMARY KEY", quote_name("id"))};
  for (const ColumnSpec& column : statement.table_columns) columns.push_back(column_sql(column, quote_name));
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", quote_name(statement.table), fmt::join(columns, ", "));
}

std::string replica_identity_sql(const DdlStatement& statement, const QuoteName& quote_name) {
  std::string identity = "USING INDEX " + quote_name(statement.index);
  if (statement.identity == "full") identity = "FULL";
  if (statement.identity == "default") identity = "DEFAULT";
  if (statement.identity == "nothing") identity = "NOTHING";
  return fmt::format("ALTER TABLE {} REPLICA IDENTITY {}", quote_name(statement.table), identity);
}

}  // namespace

const char* to_string(DdlStatement::Kind kind) {
  switch (kind) {
    case DdlStatement::Kind::add_column: return "add column";
    case DdlStatement::Kind::drop_column: return "drop column";
    case DdlStatement::Kind::rename_column: return "rename column";
    case DdlStatement::Kind::set_not_null: return "set not null";
    case DdlStatement::Kind::create_index: return "create index";
    case DdlStatement::Kind::drop_index: return "drop index";
    case DdlStatement::Kind::alter_column_type: return "alter column type";
    case DdlStatement::Kind::drop_not_null: return "drop not null";
    case DdlStatement::Kind::set_default: return "set default";
    case DdlStatement::Kind::drop_default: return "drop default";
    case DdlStatement::Kind::add_check: return "add check constraint";
    case DdlStatement::Kind::add_foreign_key: return "add foreign key";
    case DdlStatement::Kind::add_unique_using_index: return "add unique constraint";
    case DdlStatement::Kind::validate_constraint: return "validate constraint";
    case DdlStatement::Kind::drop_constraint: return "drop constraint";
    case DdlStatement::Kind::rename_constraint: return "rename constraint";
    case DdlStatement::Kind::create_table: return "create table";
    case DdlStatement::Kind::drop_table: return "drop table";
    case DdlStatement::Kind::rename_table: return "rename table";
    case DdlStatement::Kind::set_replica_identity: return "set replica identity";
    case DdlStatement::Kind::comment: return "comment";
    case DdlStatement::Kind::opaque_sql: return "sql";
    case DdlStatement::Kind::create_trigger: return "create trigger";
    case DdlStatement::Kind::row_security: return "row level security";
    case DdlStatement::Kind::policy: return "policy";
    case DdlStatement::Kind::trigger_state: return "trigger state";
    case DdlStatement::Kind::alter_constraint: return "alter constraint";
    case DdlStatement::Kind::dml: return "dml";
    case DdlStatement::Kind::catalog: return "catalog";
    case DdlStatement::Kind::transaction: return "transaction";
  }
  return "?";
}

std::string statement_sql(const DdlStatement& statement, const std::function<std::string(const std::string&)>& quote_name) {
  using D = DdlStatement::Kind;
  if (statement.as_written) return statement.sql;  // a SQL file's statement runs as its file has it
  const std::string table = quote_name(statement.table);
  const std::string column = quote_name(statement.column);
  const std::string constraint = quote_name(statement.constraint);
  switch (statement.kind) {
    case D::add_column: {
      std::string sql = fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}", table, column, to_string(statement.type));
      return statement.default_sql.empty() ? sql : sql + " DEFAULT " + statement.default_sql;
    }
    case D::drop_column: return fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", table, column);
    case D::rename_column:
      return fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", table, column, quote_name(statement.to));
    case D::set_not_null: return fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", table, column);
    case D::create_index: return create_index_sql(statement, quote_name);
    case D::drop_index: return fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", column);
    case D::alter_column_type:
      return fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}", table, column, to_string(statement.type), column,
                         to_string(statement.type));
    case D::drop_not_null: return fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL", table, column);
    case D::set_default: return fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", table, column, statement.default_sql);
    case D::drop_default: return fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", table, column);
    case D::add_check:
      return fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}){}", table, constraint, statement.check,
                         statement.not_valid ? " NOT VALID" : "");
    case D::add_foreign_key: return foreign_key_sql(statement, quote_name, quote_name);
    case D::add_unique_using_index:
      return fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}", table, constraint, quote_name(statement.index));
    case D::validate_constraint: return fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", table, constraint);
    case D::drop_constraint: return fmt::format("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}", table, constraint);
    case D::rename_constraint:
      return fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", table, constraint, quote_name(statement.to));
    case D::create_table: return create_table_sql(statement, quote_name);
    case D::drop_table: return fmt::format("DROP TABLE IF EXISTS {}", table);
    case D::rename_table: return fmt::format("ALTER TABLE {} RENAME TO {}", table, quote_name(statement.to));
    case D::set_replica_identity: return replica_identity_sql(statement, quote_name);
    case D::comment:
      if (statement.column.empty()) return fmt::format("COMMENT ON TABLE {} IS {}", table, string_literal(statement.comment));
      return fmt::format("COMMENT ON COLUMN {}.{} IS {}", table, column, string_literal(statement.comment));
    case D::opaque_sql:
    case D::create_trigger:
    case D::row_security:
    case D::policy:
    case D::trigger_state:
    case D::alter_constraint:
    case D::dml:
    case D::catalog:
    case D::transaction: return statement.sql;
  }
  REHEARSE_ASSERT(false);
  return "";
}

}  // namespace rehearse
