// SQL migration files (real-migrations.md "Migration sources"): a file of PostgreSQL statements,
// as Flyway, golang-migrate or `sqlmigrate` write them, read with PostgreSQL's own parser
// (libpg_query, the PostgreSQL 15 grammar) into an ordered list of statements, each with where it
// was written, whether it may run in a transaction block, whether the file runs it inside one
// (BEGIN ... COMMIT), and what it does: the DdlStatement(s) PostgreSQL runs for it (the lock modes
// and costs follow from core/statements.h), a statement that locks no table, or an opaque one (a
// DO block, a function body, dynamic SQL, anything not modelled), assumed to take ACCESS
// EXCLUSIVE on every table it names, or on every table of the schema when it names none.
//
// The scenario loader reads files with it (errors at file, line and column), compile_plan turns
// them into the as-written plan (core/plan.cc) and into operations for expand-contract
// (sql_operations), `rehearse plan` prints them and lint_sql checks them.
#pragma once

#include <string>
#include <vector>

#include "core/lint.h"
#include "core/model.h"
#include "core/ports.h"
#include "core/status.h"

namespace rehearse {

constexpr TimeUs kSqlSettingReset = -2;

enum class SqlEffect {
  ddl,           // modelled: `ddl` holds what PostgreSQL runs (several for ALTER TABLE a, b)
  catalog_only,  // locks no table: SET, CREATE TYPE / EXTENSION / SCHEMA / SEQUENCE, COMMENT ON a type, GRANT, ...
  opaque,        // not analysed: ACCESS EXCLUSIVE assumed on `tables`
  begin,         // BEGIN / START TRANSACTION
  commit,        // COMMIT / END
  rollback,      // ROLLBACK / ABORT: the block's statements take their locks and leave nothing
};
const char* to_string(SqlEffect effect);

struct SqlStatement {
  std::string file;
  int line = 0;    // 1-based, of the statement's first token
  int column = 0;  // 1-based, in characters
  std::string text;  // as written, without the closing semicolon
  std::string kind;  // PostgreSQL's name of the statement: "ALTER TABLE", "CREATE INDEX", "DO", ...
  SqlEffect effect = SqlEffect::opaque;
  bool in_transaction = true;  // may run inside a transaction block (CONCURRENTLY, VACUUM may not)
  int block = 0;               // the BEGIN ... COMMIT block of the file it is in (1-based); 0 = none
  bool if_exists = false;      // written with IF [NOT] EXISTS
  bool idempotent_form = false;  // PostgreSQL has an IF [NOT] EXISTS form of it (ADD COLUMN, CREATE INDEX, ...)
  std::vector<DdlStatement> ddl;   // effect ddl: in order
  std::vector<std::string> tables;  // effect opaque: the tables assumed locked ACCESS EXCLUSIVE
  std::string why;                  // effect opaque: why it is not analysed
  // SET [LOCAL] lock_timeout / statement_timeout: the value in microseconds (0 = none);
  // kSqlSettingReset for RESET / SET ... TO DEFAULT (the runner's setting again); -1 when the
  // statement sets neither.
  TimeUs lock_timeout_us = -1;
  TimeUs statement_timeout_us = -1;
};

struct SqlFileError {
  int line = 0;
  int column = 0;
  std::string message;
};

struct SqlMigration {
  std::vector<SqlStatement> statements;
  std::vector<SqlFileError> errors;  // empty when the file was read whole
};

// Reads `text`, the contents of `file`, against `scenario`'s tables (the tables an opaque
// statement may name, the index a DROP INDEX names, the column types a change starts from). A
// file PostgreSQL's parser rejects gives one error at its line and column with PostgreSQL's
// message; a file that is not UTF-8 is refused before it is parsed, as PostgreSQL would.
SqlMigration read_sql_migration(const std::string& text, const std::string& file, const Scenario& scenario);

// Every statement of the scenario's `migration.sql` files, in order (the files were read whole
// by the loader; a file that no longer parses gives invalid).
Result<std::vector<SqlStatement>> sql_statements(const Scenario& scenario);

// expand-contract for SQL files: each statement as an operation of core/model.h (ADD COLUMN,
// ALTER COLUMN TYPE ... USING, SET / DROP NOT NULL, SET / DROP DEFAULT, ADD / DROP CONSTRAINT,
// CREATE / DROP INDEX, RENAME, CREATE / DROP TABLE). invalid naming the statement (file:line)
// and why when one cannot be mapped.
Result<std::vector<Operation>> sql_operations(const std::vector<SqlStatement>& statements);

// The lint findings of a SQL migration run as written (docs/scenarios.md "SQL migration files"
// lists the ids), each at its statement's file and line.
std::vector<LintFinding> lint_sql(const Scenario& scenario, const std::vector<SqlStatement>& statements);

}  // namespace rehearse
