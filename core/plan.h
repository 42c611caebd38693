// The migration plan: a scenario's operations compiled into the steps of the expand/contract
// pattern that the engine runs in every region (expand DDL, the columns to backfill and their
// `up` expressions, what to validate, contract DDL, and how to undo the expansion). Built once
// before a run; read-only afterwards.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"
#include "core/observations.h"
#include "core/ports.h"
#include "core/region_state.h"
#include "core/status.h"

namespace rehearse {

struct MigrationPlan {
  std::string name;
  std::string table;
  std::vector<DdlStatement> expand;     // ADD COLUMN / CREATE INDEX, in order
  std::vector<ColumnFill> fills;        // what backfill and validation compute
  std::vector<std::string> not_null;    // columns validation must find without NULLs
  std::vector<DdlStatement> contract;   // DROP / RENAME COLUMN, SET NOT NULL, in order
  std::vector<DdlStatement> rollback;   // undoes `expand`, in order
  std::vector<DerivedColumn> derived;   // for the application's dual writes and the checkers
  // What the table's catalog must show once contracted, and once rolled back (or untouched).
  SchemaClaim contracted_schema;
  SchemaClaim old_schema;
  // A SQL migration file run as written (core/sql_migration.h): `expand` holds its statements in
  // order; nothing is backfilled, validated or contracted, and nothing is rolled back.
  bool as_written = false;
};

// A digest of what the plan does to its table: every operation's DDL, up and down (16 hex
// digits). Any change to the plan changes it; the migration's name does not enter it.
std::string plan_digest(const MigrationPlan& plan);
// The key of the plan's checkpoints: its name, its table and plan_digest.
CheckpointKey checkpoint_key(const MigrationPlan& plan);

// The column that holds an altered column's new version until contract renames it back.
std::string shadow_column(const std::string& column);

// Compiles the scenario's migration. Returns invalid (with the operation's line) for an
// expression that does not parse or an operation that names an unknown column.
Result<MigrationPlan> compile_plan(const Scenario& scenario);

}  // namespace rehearse
