// Compiles migration operations into the expand / backfill / validate / contract steps of a
// plan, the expand/contract way:
//   add_column     expand: ADD COLUMN c            backfill c = up(row)
//   drop_column                                     contract: DROP COLUMN c
//   alter_column   expand: ADD COLUMN c__new       backfill c__new = up(row)
//                  contract: DROP COLUMN c, RENAME c__new TO c        (down for old code)
//   rename_column  expand: ADD COLUMN to           backfill to = c    contract: DROP COLUMN c
//   add_not_null   validate: no NULL in c          contract: SET NOT NULL
//   create_index   expand: CREATE INDEX CONCURRENTLY (no exclusive lock)
// and pgroll's operations the way pgroll runs them (docs/scenarios.md has the table):
// constraints are added NOT VALID in expand and VALIDATEd in contract (SHARE UPDATE EXCLUSIVE
// while it scans); UNIQUE is a unique index built CONCURRENTLY in expand, attached with ADD
// CONSTRAINT ... USING INDEX in contract; NOT NULL is CHECK (c IS NOT NULL) NOT VALID, VALIDATE,
// then SET NOT NULL (no scan with the valid check in place) and the check dropped; new tables in
// expand; drops and renames in contract, where no old code is left to break.
#include "core/plan.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/history.h"
#include "core/sql_migration.h"

namespace rehearse {

namespace {

// PostgreSQL's own names for a constraint it is not given one for: orders_email_key,
// orders_amount_check, orders_customer_id_fkey.
std::string default_constraint_name(const std::string& table, const std::vector<std::string>& columns, ConstraintKind kind) {
  const char* suffix = kind == ConstraintKind::unique ? "key" : kind == ConstraintKind::check ? "check" : "fkey";
  return fmt::format("{}_{}_{}", table, fmt::join(columns, "_"), suffix);
}

// Whether ADD COLUMN ... DEFAULT `text` rewrites the table: PostgreSQL 11+ stores a default it
// can evaluate once (constants, and stable functions such as now()) without a rewrite; a
// volatile function is evaluated per row. The volatile functions migrations use are named here.
bool is_volatile_default(const std::string& text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* function : {"random(", "nextval(", "clock_timestamp(", "gen_random_uuid(", "uuid_generate_v", "timeofday("}) {
    if (lower.find(function) != std::string::npos) return true;
  }
  return false;
}

struct Compiler {
  const Scenario& scenario;
  MigrationPlan& plan;
  std::map<std::string, ColumnType> columns;  // live columns as operations are applied
  std::string current_table;                  // the table of the operation being compiled

  // Parses, types (with the column types of `types`) and folds an expression.
  Status parse(const Operation& op, const std::string& text, const char* key, const ColumnTypes& types, Expr* out) {
    ExprParseError error;
    auto expr = parse_expression(text, types, &error);
    if (!expr) return Status::invalid(fmt::format("line {}: {}: {} at position {}", op.line, key, error.message, error.position));
    *out = *expr;
    return Status::ok();
  }

  DdlStatement ddl(DdlStatement::Kind kind, const std::string& column, const char* purpose) {
    DdlStatement statement;
    statement.kind = kind;
    statement.table = current_table;
    statement.column = column;
    statement.purpose = purpose;
    return statement;
  }

  // ADD COLUMN `column` filled by `up_text` (cast to the column's type, as PostgreSQL's
  // assignment does); registers the derived column for the app and the checkers.
  Status add_derived(const Operation& op, const std::string& column, ColumnType type, const std::string& up_text,
                     const std::string& source, const std::string& final_name) {
    DdlStatement add = ddl(DdlStatement::Kind::add_column, column, "expand");
    add.type = type;
    plan.expand.push_back(add);
    plan.rollback.insert(plan.rollback.begin(), ddl(DdlStatement::Kind::drop_column, column, "rollback"));
    columns[column] = type;
    if (up_text.empty()) return Status::ok();
    DerivedColumn derived{column, final_name, source, Expr{}, Expr{}};
    // A newline ends a `-- comment` of the text before the cast closes (only then: the text is
    // part of the plan's fingerprint).
    const char* comment_end = up_text.find("--") != std::string::npos ? "\n" : "";
    Status status = parse(op, fmt::format("CAST(({}{}) AS {})", up_text, comment_end, to_string(type)), "up", columns, &derived.up);
    if (!status.is_ok()) return status;
    if (!op.down.empty() && !source.empty()) {
      // `down` is written in the new schema's names: while both columns exist, the new
      // version of the column lives in `column` (the shadow of an altered column).
      Expr written;
      ColumnTypes new_schema = columns;  // `down` reads the new version under its final name
      new_schema[final_name] = type;
      status = parse(op, op.down, "down", new_schema, &written);
      if (!status.is_ok()) return status;
      const std::string renamed = to_sql(written, [&](const std::string& name) {
        return fmt::format("\"{}\"", name == final_name ? column : name);
      });
      status = parse(op, fmt::format("CAST(({}) AS {})", renamed, to_string(columns.at(source))), "down", columns, &derived.down);
      if (!status.is_ok()) return status;
    }
    plan.fills.push_back(ColumnFill{column, derived.up});
    plan.derived.push_back(derived);
    return Status::ok();
  }

  // The scenario's table, whose columns `columns` follows; the columns of other tables are
  // checked by the loader only.
  bool on_scenario_table() const { return current_table == plan.table; }

  Status require_column(const Operation& op) {
    if (on_scenario_table() && columns.count(op.column) == 0) return Status::invalid(fmt::format("line {}: no column '{}' at this point", op.line, op.column));
    return Status::ok();
  }

  Status add(const Operation& op);
  Status add_pgroll(const Operation& op);
  Status add_column(const Operation& op);
  Status alter_column(const Operation& op);
  Status create_index(const Operation& op);
  void add_constraint(const ConstraintSpec& constraint, const std::string& column, bool in_expand);
  void not_null_via_check(const std::string& column, bool in_expand);
  void column_changes(const Operation& op, const std::string& column, bool in_expand);
  // Appends `statement` to expand (its undo, when given, to the front of rollback) or to contract.
  void emit(DdlStatement statement, bool in_expand, const DdlStatement* undo = nullptr) {
    if (!in_expand) {
      statement.purpose = "contract";
      plan.contract.push_back(std::move(statement));
      return;
    }
    statement.purpose = "expand";
    plan.expand.push_back(std::move(statement));
    if (undo != nullptr) plan.rollback.insert(plan.rollback.begin(), *undo);
  }
  // Backfills run on the scenario's table only (the simulated database holds one table today).
  Status needs_scenario_table(const Operation& op, const char* what) const {
    if (on_scenario_table()) return Status::ok();
    return Status::invalid(fmt::format("line {}: {} on table '{}': backfills run on the scenario's table '{}' only", op.line, what,
                                       current_table, plan.table));
  }
};

Status Compiler::add(const Operation& op) {
  current_table = operation_table(scenario, op);
  switch (op.kind) {
    case OperationKind::add_column: return add_column(op);
    case OperationKind::drop_column: {
      Status status = require_column(op);
      if (!status.is_ok()) return status;
      plan.contract.push_back(ddl(DdlStatement::Kind::drop_column, op.column, "contract"));
      if (on_scenario_table()) columns.erase(op.column);
      return Status::ok();
    }
    case OperationKind::alter_column: return alter_column(op);
    case OperationKind::rename_column: {
      Status status = require_column(op);
      if (!status.is_ok()) return status;
      status = needs_scenario_table(op, "rename_column");
      if (!status.is_ok()) return status;
      Operation identity = op;
      identity.down = fmt::format("\"{}\"", op.to);
      status = add_derived(identity, op.to, columns.at(op.column), fmt::format("\"{}\"", op.column), op.column, op.to);
      if (!status.is_ok()) return status;
      plan.contract.push_back(ddl(DdlStatement::Kind::drop_column, op.column, "contract"));
      columns.erase(op.column);
      return Status::ok();
    }
    case OperationKind::add_not_null: {
      Status status = require_column(op);
      if (!status.is_ok()) return status;
      plan.not_null.push_back(op.column);
      plan.contract.push_back(ddl(DdlStatement::Kind::set_not_null, op.column, "contract"));
      return Status::ok();
    }
    case OperationKind::create_index: return create_index(op);
    default: return add_pgroll(op);
  }
}

Status Compiler::add_column(const Operation& op) {
  if (!op.type) return Status::invalid(fmt::format("line {}: add_column {} needs a type", op.line, op.column));
  if (!op.up.empty() || op.nullable == false) {
    Status status = needs_scenario_table(op, "add_column with up or nullable: false");
    if (!status.is_ok()) return status;
  }
  const std::size_t at = plan.expand.size();
  const std::map<std::string, ColumnType> before = columns;
  Status status = add_derived(op, op.column, *op.type, op.up, "", op.column);
  if (!status.is_ok()) return status;
  if (!on_scenario_table()) columns = before;  // add_derived recorded it as the scenario table's
  if (op.default_sql && !op.default_sql->empty()) {
    plan.expand[at].default_sql = *op.default_sql;
    plan.expand[at].volatile_default = is_volatile_default(*op.default_sql);
  }
  column_changes(op, op.column, true);
  return Status::ok();
}

// alter_column: a type change, `up` or `down` (or no change at all: today's form) rebuilds the
// column as a shadow that contract renames into place; a new `name` alone copies the column
// under it; everything else changes the column where it is. A constraint on a shadow is added
// in contract, after the rename, so it names the column by its final name.
Status Compiler::alter_column(const Operation& op) {
  Status status = require_column(op);
  if (!status.is_ok()) return status;
  const bool other_changes = op.nullable.has_value() || op.default_sql.has_value() || op.comment.has_value() ||
                             !op.constraints.empty() || !op.to.empty();
  const bool reshapes = op.type.has_value() || !op.up.empty() || !op.down.empty() || !other_changes;
  const std::string final_name = op.to.empty() ? op.column : op.to;
  if (!reshapes && op.to.empty()) {
    column_changes(op, op.column, true);
    return Status::ok();
  }
  status = needs_scenario_table(op, "alter_column with type, up, down or name");
  if (!status.is_ok()) return status;
  if (!reshapes) {  // a rename: the copy keeps its name from expand on
    Operation identity = op;
    identity.down = fmt::format("\"{}\"", op.to);
    status = add_derived(identity, op.to, columns.at(op.column), fmt::format("\"{}\"", op.column), op.column, op.to);
    if (!status.is_ok()) return status;
    plan.contract.push_back(ddl(DdlStatement::Kind::drop_column, op.column, "contract"));
    columns.erase(op.column);
    column_changes(op, op.to, true);
    return Status::ok();
  }
  const ColumnType type = op.type.value_or(columns.at(op.column));
  const std::string up = op.up.empty() ? fmt::format("\"{}\"", op.column) : op.up;
  status = add_derived(op, shadow_column(op.column), type, up, op.column, final_name);
  if (!status.is_ok()) return status;
  plan.contract.push_back(ddl(DdlStatement::Kind::drop_column, op.column, "contract"));
  DdlStatement rename = ddl(DdlStatement::Kind::rename_column, shadow_column(op.column), "contract");
  rename.to = final_name;
  plan.contract.push_back(rename);
  columns.erase(op.column);
  columns[final_name] = type;
  columns.erase(shadow_column(op.column));
  if (op.nullable == false) plan.not_null.push_back(shadow_column(op.column));  // validated before the rename
  column_changes(op, final_name, false);
  return Status::ok();
}

// pgroll's column settings on `column`: in expand when the column has its final name there,
// else in contract.
void Compiler::column_changes(const Operation& op, const std::string& column, bool in_expand) {
  if (op.default_sql) {
    DdlStatement change = ddl(op.default_sql->empty() ? DdlStatement::Kind::drop_default : DdlStatement::Kind::set_default, column, "");
    change.default_sql = *op.default_sql;
    // On an existing column the default is changed where it is (add_column puts it in ADD COLUMN).
    if (op.kind == OperationKind::alter_column) emit(change, in_expand);
  }
  if (op.comment) {
    DdlStatement comment = ddl(DdlStatement::Kind::comment, column, "");
    comment.comment = *op.comment;
    emit(comment, in_expand);
  }
  for (const ConstraintSpec& constraint : op.constraints) add_constraint(constraint, column, in_expand);
  if (op.nullable == true && op.kind == OperationKind::alter_column) emit(ddl(DdlStatement::Kind::drop_not_null, column, ""), in_expand);
  if (op.nullable == false) {
    if (in_expand) plan.not_null.push_back(column);
    not_null_via_check(column, in_expand);
  }
}

// A constraint the safe way: UNIQUE through a unique index built CONCURRENTLY and attached in
// contract; CHECK and FOREIGN KEY added NOT VALID (no scan) and VALIDATEd in contract, where the
// scan holds SHARE UPDATE EXCLUSIVE, which the application's reads and writes pass.
void Compiler::add_constraint(const ConstraintSpec& constraint, const std::string& column, bool in_expand) {
  const std::vector<std::string> on = constraint.columns.empty() ? std::vector<std::string>{column} : constraint.columns;
  const std::string name = constraint.name.empty() ? default_constraint_name(current_table, on, constraint.kind) : constraint.name;
  if (constraint.kind == ConstraintKind::unique) {
    DdlStatement index = ddl(DdlStatement::Kind::create_index, name, "");
    index.columns = on;
    index.unique = true;
    const DdlStatement undo = ddl(DdlStatement::Kind::drop_index, name, "rollback");
    emit(index, in_expand, &undo);
    DdlStatement attach = ddl(DdlStatement::Kind::add_unique_using_index, "", "contract");
    attach.constraint = name;
    attach.index = name;
    attach.columns = on;
    plan.contract.push_back(attach);
    return;
  }
  DdlStatement add = ddl(constraint.kind == ConstraintKind::check ? DdlStatement::Kind::add_check : DdlStatement::Kind::add_foreign_key,
                         "", "");
  add.constraint = name;
  add.columns = on;
  add.check = constraint.check;
  add.ref_table = constraint.ref_table;
  add.ref_columns = constraint.ref_columns;
  add.on_delete = constraint.on_delete;
  DdlStatement undo = ddl(DdlStatement::Kind::drop_constraint, "", "rollback");
  undo.constraint = name;
  emit(add, in_expand, &undo);
  DdlStatement validate = ddl(DdlStatement::Kind::validate_constraint, "", "contract");
  validate.constraint = name;
  validate.constraint_kind = constraint.kind;
  plan.contract.push_back(validate);
}

// NOT NULL without a scan under ACCESS EXCLUSIVE: CHECK (c IS NOT NULL) NOT VALID, VALIDATE under
// SHARE UPDATE EXCLUSIVE, SET NOT NULL (PostgreSQL skips its scan: the valid check proves it),
// then the check dropped as redundant.
void Compiler::not_null_via_check(const std::string& column, bool in_expand) {
  const std::string name = fmt::format("{}_{}_not_null", current_table, column);
  add_constraint(ConstraintSpec{.kind = ConstraintKind::check, .name = name, .columns = {column},
                                .check = fmt::format("{} IS NOT NULL", column)},
                 column, in_expand);
  DdlStatement set = ddl(DdlStatement::Kind::set_not_null, column, "contract");
  set.with_valid_check = true;
  plan.contract.push_back(set);
  DdlStatement drop = ddl(DdlStatement::Kind::drop_constraint, "", "contract");
  drop.constraint = name;
  plan.contract.push_back(drop);
}

Status Compiler::create_index(const Operation& op) {
  const std::string name = op.name.empty() ? fmt::format("{}_{}_idx", current_table, fmt::join(op.columns, "_")) : op.name;
  DdlStatement index = ddl(DdlStatement::Kind::create_index, name, "expand");
  index.columns = op.columns;
  index.unique = op.unique;
  index.method = op.method;
  index.predicate = op.predicate;
  index.storage_parameters = op.storage_parameters;
  plan.expand.push_back(index);
  DdlStatement drop = ddl(DdlStatement::Kind::drop_index, index.column, "rollback");
  plan.rollback.insert(plan.rollback.begin(), drop);
  return Status::ok();
}

// The operations that only pgroll's form has.
Status Compiler::add_pgroll(const Operation& op) {
  switch (op.kind) {
    case OperationKind::create_table: {
      current_table = op.name;
      DdlStatement create = ddl(DdlStatement::Kind::create_table, "", "");
      create.table_columns = op.table_columns;
      const DdlStatement undo = ddl(DdlStatement::Kind::drop_table, "", "rollback");
      emit(create, true, &undo);
      if (op.comment) {
        DdlStatement comment = ddl(DdlStatement::Kind::comment, "", "");
        comment.comment = *op.comment;
        emit(comment, true);
      }
      for (const ConstraintSpec& constraint : op.constraints) add_constraint(constraint, "", true);
      return Status::ok();
    }
    case OperationKind::drop_table:
      current_table = op.name;
      emit(ddl(DdlStatement::Kind::drop_table, "", ""), false);
      return Status::ok();
    case OperationKind::rename_table: {
      current_table = op.name;
      DdlStatement rename = ddl(DdlStatement::Kind::rename_table, "", "");
      rename.to = op.to;
      emit(rename, false);
      return Status::ok();
    }
    case OperationKind::drop_index:
      emit(ddl(DdlStatement::Kind::drop_index, op.name, ""), false);
      return Status::ok();
    case OperationKind::create_constraint:
      for (const ConstraintSpec& constraint : op.constraints) add_constraint(constraint, "", true);
      return Status::ok();
    case OperationKind::drop_constraint:
    case OperationKind::drop_multicolumn_constraint: {
      DdlStatement drop = ddl(DdlStatement::Kind::drop_constraint, "", "");
      drop.constraint = op.name;
      emit(drop, false);
      return Status::ok();
    }
    case OperationKind::rename_constraint: {
      DdlStatement rename = ddl(DdlStatement::Kind::rename_constraint, "", "");
      rename.constraint = op.name;
      rename.to = op.to;
      emit(rename, false);
      return Status::ok();
    }
    case OperationKind::set_replica_identity: {
      DdlStatement identity = ddl(DdlStatement::Kind::set_replica_identity, "", "");
      identity.identity = op.identity;
      identity.index = op.name;
      emit(identity, true);
      return Status::ok();
    }
    case OperationKind::sql: {
      DdlStatement up = ddl(DdlStatement::Kind::opaque_sql, "", "");
      up.sql = op.up;
      DdlStatement down = ddl(DdlStatement::Kind::opaque_sql, "", "rollback");
      down.sql = op.down;
      emit(up, !op.on_complete, op.down.empty() ? nullptr : &down);
      return Status::ok();
    }
    default: break;
  }
  return Status::invalid(fmt::format("line {}: unknown operation", op.line));
}

// The catalog claims of `contracted` (the columns after every operation, NOT NULL where the
// plan sets it, the indexes it creates; every other column it added or dropped absent) and of
// `rolled_back` (the table's own columns; none it added, none of its indexes).
void claim_schemas(const Scenario& scenario, const std::map<std::string, ColumnType>& final_columns, MigrationPlan& plan) {
  std::set<std::string> touched;
  for (const DdlStatement& s : plan.expand) {
    if (s.table != plan.table) continue;  // the claims are about the scenario's table
    if (s.kind == DdlStatement::Kind::add_column) {
      touched.insert(s.column);
      plan.old_schema.absent.push_back(s.column);
    }
    if (s.kind == DdlStatement::Kind::create_index) {
      plan.contracted_schema.indexes.push_back(s.column);
      plan.old_schema.absent_indexes.push_back(s.column);
    }
  }
  for (const DdlStatement& s : plan.contract) {
    if (s.table != plan.table) continue;
    if (s.kind == DdlStatement::Kind::drop_column || s.kind == DdlStatement::Kind::rename_column) touched.insert(s.column);
    if (s.kind == DdlStatement::Kind::drop_index) plan.contracted_schema.absent_indexes.push_back(s.column);
  }
  for (const auto& [name, type] : final_columns) {
    const bool not_null = std::find(plan.not_null.begin(), plan.not_null.end(), name) != plan.not_null.end();
    if (touched.count(name) > 0 || not_null) plan.contracted_schema.present.push_back(CatalogColumn{name, to_string(type), not_null});
  }
  for (const std::string& name : touched) {
    if (final_columns.count(name) == 0) plan.contracted_schema.absent.push_back(name);
  }
  for (const auto& column : scenario.table.columns) {
    plan.old_schema.present.push_back(CatalogColumn{column.name, to_string(column.type), false});
  }
}

// Every DdlStatement field after `purpose`, as one string for plan_digest.
std::string pgroll_fields(const DdlStatement& s) {
  std::string text = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", s.constraint, s.index,
                                 static_cast<int>(s.constraint_kind), s.check, s.not_valid, s.ref_table, fmt::join(s.ref_columns, ","),
                                 s.on_delete, s.default_sql, s.volatile_default, s.unique, s.method, s.predicate,
                                 s.storage_parameters, s.with_valid_check, s.identity, s.comment, s.sql);
  for (const ColumnSpec& column : s.table_columns) {
    text += fmt::format("|{} {} {} {} {}", column.name, to_string(column.type), column.sql_type, column.not_null, column.default_sql);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// SQL files as written (core/sql_migration.h): the statements in order in `expand`, each with the
// file's lock_timeout / statement_timeout in force; a BEGIN ... COMMIT block (and a statement of
// several actions, or an opaque one naming several tables) as one transaction.

struct AsWritten {
  MigrationPlan& plan;
  TimeUs lock_timeout_us = -1;
  TimeUs statement_timeout_us = -1;
  std::optional<DdlStatement> block;  // the open BEGIN ... COMMIT
  std::vector<std::string> block_texts;

  void limits(const SqlStatement& s) {
    if (s.lock_timeout_us != -1) lock_timeout_us = s.lock_timeout_us == kSqlSettingReset ? -1 : s.lock_timeout_us;
    if (s.statement_timeout_us != -1) statement_timeout_us = s.statement_timeout_us == kSqlSettingReset ? -1 : s.statement_timeout_us;
  }

  static DdlStatement transaction(const SqlStatement& s) {
    DdlStatement group;
    group.kind = DdlStatement::Kind::transaction;
    group.as_written = true;
    group.purpose = "expand";
    group.file = s.file;
    group.line = s.line;
    return group;
  }

  void emit(DdlStatement statement) {
    statement.lock_timeout_us = lock_timeout_us;
    statement.statement_timeout_us = statement_timeout_us;
    plan.expand.push_back(std::move(statement));
  }

  // The statement's DdlStatements: into the open block, or run on their own.
  void statement(const SqlStatement& s) {
    std::vector<DdlStatement> steps = s.ddl;
    if (s.effect == SqlEffect::catalog_only) {
      DdlStatement catalog;
      catalog.kind = DdlStatement::Kind::catalog;
      catalog.as_written = true;
      catalog.purpose = "expand";
      catalog.sql = s.text;
      catalog.file = s.file;
      catalog.line = s.line;
      steps = {catalog};
    }
    if (block) {
      for (DdlStatement& step : steps) block->steps.push_back(std::move(step));
      block_texts.push_back(s.text);
      return;
    }
    if (steps.size() == 1) return emit(std::move(steps.front()));
    DdlStatement group = transaction(s);
    group.sql = s.text;
    group.steps = std::move(steps);
    emit(std::move(group));
  }

  void add(const SqlStatement& s) {
    limits(s);
    switch (s.effect) {
      case SqlEffect::begin:
        if (!block) block = transaction(s);
        return;
      case SqlEffect::commit:
      case SqlEffect::rollback:
        if (block) {
          block->sql = fmt::format("{}", fmt::join(block_texts, ";\n"));
          // ROLLBACK: the block runs (its locks are taken and held to its end) and leaves nothing.
          if (s.effect == SqlEffect::rollback) block->sql += ";\nROLLBACK";
          block->rolled_back = s.effect == SqlEffect::rollback;
          if (!block->steps.empty()) emit(std::move(*block));
          block.reset();
          block_texts.clear();
        }
        return;
      default: statement(s);
    }
  }
};

// What the scenario's table looks like once every statement ran: the claims the checkers judge.
void claim_as_written(const Scenario& scenario, MigrationPlan& plan) {
  std::map<std::string, CatalogColumn> present;
  std::set<std::string> absent, indexes, absent_indexes;
  auto visit = [&](const DdlStatement& d, auto& self) -> void {
    for (const DdlStatement& step : d.steps) self(step, self);
    if (d.table != plan.table) return;
    switch (d.kind) {
      case DdlStatement::Kind::add_column:
        present[d.column] = CatalogColumn{d.column, to_string(d.type), d.not_null};
        absent.erase(d.column);
        break;
      case DdlStatement::Kind::drop_column:
        present.erase(d.column);
        absent.insert(d.column);
        break;
      case DdlStatement::Kind::create_index:
        indexes.insert(d.column);
        absent_indexes.erase(d.column);
        break;
      case DdlStatement::Kind::drop_index:
        indexes.erase(d.column);
        absent_indexes.insert(d.column);
        break;
      case DdlStatement::Kind::rename_column:
        if (auto it = present.find(d.column); it != present.end()) {
          CatalogColumn renamed = it->second;
          renamed.name = d.to;
          present.erase(it);
          present[d.to] = renamed;
        }
        absent.insert(d.column);
        absent.erase(d.to);
        break;
      case DdlStatement::Kind::add_unique_using_index:  // the index takes the constraint's name
        if (indexes.erase(d.index) > 0) indexes.insert(d.constraint);
        break;
      case DdlStatement::Kind::alter_column_type:
        if (auto it = present.find(d.column); it != present.end()) it->second.type = to_string(d.type);
        break;
      default: break;
    }
  };
  for (const DdlStatement& d : plan.expand) visit(d, visit);
  for (const auto& [name, column] : present) plan.contracted_schema.present.push_back(column);
  plan.contracted_schema.absent.assign(absent.begin(), absent.end());
  plan.contracted_schema.indexes.assign(indexes.begin(), indexes.end());
  plan.contracted_schema.absent_indexes.assign(absent_indexes.begin(), absent_indexes.end());
  for (const auto& column : scenario.table.columns) {
    plan.old_schema.present.push_back(CatalogColumn{column.name, to_string(column.type), false});
  }
}

Result<MigrationPlan> compile_as_written(const Scenario& scenario) {
  MigrationPlan plan;
  plan.name = scenario.migration.name;
  plan.table = scenario.table.name;
  plan.as_written = true;
  Result<std::vector<SqlStatement>> statements = sql_statements(scenario);
  if (!statements.is_ok()) return statements.status();
  AsWritten compiler{plan};
  for (const SqlStatement& s : statements.value()) compiler.add(s);
  if (compiler.block) {  // a BEGIN without COMMIT: psql commits nothing; Flyway's file ends the transaction
    compiler.block->sql = fmt::format("{}", fmt::join(compiler.block_texts, ";\n"));
    if (!compiler.block->steps.empty()) compiler.emit(std::move(*compiler.block));
  }
  claim_as_written(scenario, plan);
  return plan;
}

}  // namespace

std::string shadow_column(const std::string& column) { return column + "__new"; }

Result<MigrationPlan> compile_plan(const Scenario& scenario) {
  if (scenario.migration.mode == MigrationMode::as_written && !scenario.migration.sql.empty()) return compile_as_written(scenario);
  MigrationPlan plan;
  plan.name = scenario.migration.name;
  plan.table = scenario.table.name;
  Compiler compiler{scenario, plan, {}};
  compiler.columns["id"] = ColumnType::bigint;
  for (const auto& column : scenario.table.columns) compiler.columns[column.name] = column.type;
  for (const Operation& op : scenario.migration.operations) {
    Status status = compiler.add(op);
    if (!status.is_ok()) return status;
  }
  claim_schemas(scenario, compiler.columns, plan);
  return plan;
}

std::string plan_digest(const MigrationPlan& plan) {
  std::uint64_t hash = 0x6a09e667f3bcc908ULL;
  auto add = [&hash](const std::string& text) { hash = hash_string(hash, text); };
  auto add_ddl = [&](const char* step, const std::vector<DdlStatement>& statements) {
    add(step);
    for (const DdlStatement& s : statements) {
      add(fmt::format("{}|{}|{}|{}|{}|{}", static_cast<int>(s.kind), s.table, s.column, to_string(s.type), s.to,
                      fmt::join(s.columns, ",")));
      // The fields pgroll's operations added; left out when all are unset, so the digests (and
      // checkpoint keys) of the plans that existed before them do not change.
      static const std::string kUnset = pgroll_fields(DdlStatement{});
      if (const std::string fields = pgroll_fields(s); fields != kUnset) add(fields);
    }
  };
  add(plan.table);
  add_ddl("expand", plan.expand);
  add_ddl("contract", plan.contract);
  add_ddl("rollback", plan.rollback);
  for (const ColumnFill& fill : plan.fills) add(fmt::format("fill|{}|{}", fill.column, fill.up.text()));
  for (const std::string& column : plan.not_null) add("not_null|" + column);
  for (const DerivedColumn& d : plan.derived) {
    add(fmt::format("derived|{}|{}|{}|{}|{}", d.column, d.final_name, d.source, d.up.text(), d.down.text()));
  }
  return fmt::format("{:016x}", hash);
}

CheckpointKey checkpoint_key(const MigrationPlan& plan) { return CheckpointKey{plan.name, plan.table, plan_digest(plan)}; }

}  // namespace rehearse
