// Compiles migration operations into the expand / backfill / validate / contract steps of a
// plan, the expand/contract way:
//   add_column     expand: ADD COLUMN c            backfill c = up(row)
//   drop_column                                     contract: DROP COLUMN c
//   alter_column   expand: ADD COLUMN c__new       backfill c__new = up(row)
//                  contract: DROP COLUMN c, RENAME c__new TO c        (down for old code)
//   rename_column  expand: ADD COLUMN to           backfill to = c    contract: DROP COLUMN c
//   add_not_null   validate: no NULL in c          contract: SET NOT NULL
//   create_index   expand: CREATE INDEX CONCURRENTLY (no exclusive lock)
#include "core/plan.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/history.h"

namespace rehearse {

namespace {

struct Compiler {
  const Scenario& scenario;
  MigrationPlan& plan;
  std::map<std::string, ColumnType> columns;  // live columns as operations are applied

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
    statement.table = plan.table;
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

  Status require_column(const Operation& op) {
    if (columns.count(op.column) == 0) return Status::invalid(fmt::format("line {}: no column '{}' at this point", op.line, op.column));
    return Status::ok();
  }

  Status add(const Operation& op);
};

Status Compiler::add(const Operation& op) {
  switch (op.kind) {
    case OperationKind::add_column:
      if (!op.type) return Status::invalid(fmt::format("line {}: add_column {} needs a type", op.line, op.column));
      return add_derived(op, op.column, *op.type, op.up, "", op.column);
    case OperationKind::drop_column: {
      Status status = require_column(op);
      if (!status.is_ok()) return status;
      plan.contract.push_back(ddl(DdlStatement::Kind::drop_column, op.column, "contract"));
      columns.erase(op.column);
      return Status::ok();
    }
    case OperationKind::alter_column: {
      Status status = require_column(op);
      if (!status.is_ok()) return status;
      const ColumnType type = op.type.value_or(columns.at(op.column));
      const std::string up = op.up.empty() ? fmt::format("\"{}\"", op.column) : op.up;
      status = add_derived(op, shadow_column(op.column), type, up, op.column, op.column);
      if (!status.is_ok()) return status;
      plan.contract.push_back(ddl(DdlStatement::Kind::drop_column, op.column, "contract"));
      DdlStatement rename = ddl(DdlStatement::Kind::rename_column, shadow_column(op.column), "contract");
      rename.to = op.column;
      plan.contract.push_back(rename);
      columns[op.column] = type;
      columns.erase(shadow_column(op.column));
      return Status::ok();
    }
    case OperationKind::rename_column: {
      Status status = require_column(op);
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
    case OperationKind::create_index: {
      DdlStatement index = ddl(DdlStatement::Kind::create_index, fmt::format("{}_{}_idx", plan.table, fmt::join(op.columns, "_")), "expand");
      index.columns = op.columns;
      plan.expand.push_back(index);
      DdlStatement drop = ddl(DdlStatement::Kind::drop_index, index.column, "rollback");
      plan.rollback.insert(plan.rollback.begin(), drop);
      return Status::ok();
    }
  }
  return Status::invalid("unknown operation");
}

// The catalog claims of `contracted` (the columns after every operation, NOT NULL where the
// plan sets it, the indexes it creates; every other column it added or dropped absent) and of
// `rolled_back` (the table's own columns; none it added, none of its indexes).
void claim_schemas(const Scenario& scenario, const std::map<std::string, ColumnType>& final_columns, MigrationPlan& plan) {
  std::set<std::string> touched;
  for (const DdlStatement& s : plan.expand) {
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
    if (s.kind == DdlStatement::Kind::drop_column || s.kind == DdlStatement::Kind::rename_column) touched.insert(s.column);
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

}  // namespace

std::string shadow_column(const std::string& column) { return column + "__new"; }

Result<MigrationPlan> compile_plan(const Scenario& scenario) {
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

int region_state_rank(const std::string& state) {
  int rank = 0;
  for (const char* name : kRegionStates) {
    if (state == name) return rank;
    ++rank;
  }
  return -1;
}

}  // namespace rehearse
