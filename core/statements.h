// The statement model: for every kind of statement a migration or its application runs, what
// PostgreSQL 15 does with it -- the table lock mode it takes on each relation it involves, whether
// it scans or rewrites the table, whether it may run inside a transaction block, whether it waits
// for older transactions (the CONCURRENTLY forms), and which keys of the cost profile
// (core/costs.h) price it. The simulated database takes its locks and charges its time from
// here, `rehearse plan` prints it, lint reads it, and the PostgreSQL backend runs the engine's
// DDL as statement_sql() writes it and inside a transaction exactly when the model allows, so
// the four cannot disagree. The live suite checks every kind against pg_locks
// (tests/live_test.cc, LiveTest.StatementLocksMatchPgLocks).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/costs.h"
#include "core/pg_locks.h"
#include "core/ports.h"

namespace rehearse {

enum class StatementKind {
  add_column_nullable,                 // ALTER TABLE t ADD COLUMN c int
  add_column_constant_default,         // ... ADD COLUMN c int DEFAULT 0 (no rewrite since PostgreSQL 11)
  add_column_volatile_default,         // ... ADD COLUMN c float8 DEFAULT random() (rewrites)
  drop_column,                         // ... DROP COLUMN c
  alter_column_type_rewrite,           // ... ALTER COLUMN c TYPE bigint (int -> bigint rewrites)
  alter_column_type_binary_coercible,  // ... ALTER COLUMN c TYPE varchar(20) from varchar(10): no rewrite
  set_not_null,                        // ... ALTER COLUMN c SET NOT NULL (scans for a NULL)
  set_not_null_with_valid_check,       // the same with a valid CHECK (c IS NOT NULL) in place: no scan
  drop_not_null,                       // ... ALTER COLUMN c DROP NOT NULL
  set_default,                         // ... ALTER COLUMN c SET DEFAULT 0
  drop_default,                        // ... ALTER COLUMN c DROP DEFAULT
  add_check,                           // ... ADD CONSTRAINT k CHECK (...) (scans)
  add_check_not_valid,                 // ... ADD CONSTRAINT k CHECK (...) NOT VALID
  add_foreign_key,                     // ... ADD CONSTRAINT k FOREIGN KEY (c) REFERENCES p (scans)
  add_foreign_key_not_valid,           // ... the same NOT VALID
  validate_check,                      // ... VALIDATE CONSTRAINT k (a CHECK)
  validate_foreign_key,                // ... VALIDATE CONSTRAINT k (a FOREIGN KEY)
  create_index,                        // CREATE INDEX i ON t (c)
  create_index_concurrently,           // CREATE INDEX CONCURRENTLY i ON t (c)
  drop_index,                          // DROP INDEX i
  drop_index_concurrently,             // DROP INDEX CONCURRENTLY i
  rename_column,                       // ALTER TABLE t RENAME COLUMN c TO d
  rename_table,                        // ALTER TABLE t RENAME TO u
  rename_constraint,                   // ALTER TABLE t RENAME CONSTRAINT k TO l
  create_table,                        // CREATE TABLE t (...)
  drop_table,                          // DROP TABLE t
  create_function,                     // CREATE OR REPLACE FUNCTION f() ... (no table lock)
  create_trigger,                      // CREATE TRIGGER g BEFORE INSERT OR UPDATE ON t ...
  drop_trigger,                        // DROP TRIGGER g ON t
  update,                              // UPDATE t SET ... WHERE id BETWEEN ... (a backfill batch, an application write)
  select,                              // SELECT ... FROM t (an application read, a checksum window)
  insert,                              // INSERT INTO t ...
  delete_rows,                         // DELETE FROM t [WHERE ...]
  truncate,                            // TRUNCATE t
  set_replica_identity,                // ALTER TABLE t REPLICA IDENTITY FULL
  comment_on_table,                    // COMMENT ON TABLE t IS '...'
  comment_on_column,                   // COMMENT ON COLUMN t.c IS '...'
  add_constraint_using_index,          // ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX i
  drop_constraint,                     // ALTER TABLE t DROP CONSTRAINT k
  row_security,                        // ALTER TABLE t ENABLE ROW LEVEL SECURITY (DISABLE, [NO] FORCE)
  policy,                              // CREATE POLICY p ON t ... (ALTER POLICY, DROP POLICY)
  trigger_state,                       // ALTER TABLE t DISABLE TRIGGER ALL (ENABLE, USER, a trigger's name)
  alter_constraint,                    // ALTER TABLE t ALTER CONSTRAINT k DEFERRABLE
  opaque_sql,                          // a `sql` operation's statement: not analysed, assumed ACCESS EXCLUSIVE
  catalog_only,                        // SET, CREATE TYPE / EXTENSION / SCHEMA, GRANT ... of a SQL file: no table lock
};

// The relations a statement involves: the table it is about, the table a foreign key references,
// and the index a CREATE / DROP INDEX is about.
enum class RelationRole { table, referenced_table, index };
const char* to_string(RelationRole role);

// What a statement does to the table's rows while it holds its locks.
enum class TableWork {
  catalog_only,  // the catalog only
  scan,          // reads every row (a constraint or NOT NULL check)
  rewrite,       // writes a new copy of every row
  index_build,   // reads every row into a new index
  rows_read,     // the rows its WHERE picks (a query)
  rows_written,  // the rows it writes (INSERT, UPDATE)
};
const char* to_string(TableWork work);

struct RelationLock {
  RelationRole role = RelationRole::table;
  LockMode mode = LockMode::access_share;
};

struct StatementModel {
  StatementKind kind = StatementKind::select;
  const char* name = "";              // "ADD COLUMN (nullable)"
  std::vector<RelationLock> locks;    // at most one per role; a role not listed is not locked
  TableWork work = TableWork::catalog_only;
  bool in_transaction = true;         // may run inside BEGIN ... COMMIT (CONCURRENTLY may not)
  // CREATE INDEX CONCURRENTLY waits, once its lock is granted, for the transactions that could
  // still write the table without seeing the index, then for every transaction older than its
  // reference snapshot; DROP INDEX CONCURRENTLY waits for every transaction using the table.
  bool waits_for_older_transactions = false;
  const char* cost_key = "";          // the profile key of its fixed cost (core/costs.h)
  const char* per_row_cost_key = "";  // the profile key it pays per row of its work; "" = none
};

// The model of `kind`. Every kind has one.
const StatementModel& statement_model(StatementKind kind);
// Every kind, in the order of the enum.
const std::vector<StatementKind>& statement_kinds();
// The mode `model` takes on the relation in `role`; nullopt when it takes none there.
std::optional<LockMode> lock_on(const StatementModel& model, RelationRole role);
// What a statement of `kind` costs once it holds its locks, `rows` being the rows of its work
// (the table's rows for a scan, rewrite or index build; ignored for catalog_only): the fixed key
// plus rows x the per-row key (update_per_row_us at `rows` for an UPDATE).
TimeUs statement_cost_us(const CostProfile& costs, StatementKind kind, std::int64_t rows);
// "ACCESS EXCLUSIVE on orders; scans" -- the locks, named by `relation_name(role)`, and the work.
std::string describe_locks(const StatementModel& model, const std::function<std::string(RelationRole)>& relation_name);

// The engine's DDL (core/ports.h DdlStatement) as statement kinds: ADD COLUMN adds a nullable
// column (with a DEFAULT when it has one: a rewrite when that default is volatile); CREATE / DROP
// INDEX run CONCURRENTLY unless `concurrently` is false (a SQL file's plain CREATE INDEX); a
// transaction block is catalog_only here (its steps are each their own kind); a type change rewrites; a CHECK or FOREIGN KEY is added NOT VALID unless
// the statement says otherwise; SET NOT NULL scans unless a valid CHECK (c IS NOT NULL) exists.
StatementKind statement_kind(const DdlStatement& statement);
// The statement's kind in words ("add column", "add check constraint"): history details and
// attribution texts, the same in both worlds.
const char* to_string(DdlStatement::Kind kind);
// The SQL the PostgreSQL backend runs for `statement` and `rehearse plan` prints, identifiers
// passed through `quote_name` (the backend quotes them; plan prints them as they are). Written
// to be re-runnable after a crash (IF [NOT] EXISTS where PostgreSQL has it).
std::string statement_sql(const DdlStatement& statement, const std::function<std::string(const std::string&)>& quote_name);

// The pieces of SQL statement_sql writes with, which the schema writer (core/schema_sql.h,
// schema_sql_text) writes with too. Names pass through `quote_name` as for statement_sql.
using QuoteName = std::function<std::string(const std::string&)>;
// A SQL string literal: quotes doubled, as standard_conforming_strings (on since 9.1) reads it.
std::string string_literal(const std::string& text);
// `a, b`: the columns through `quote_name`.
std::string sql_columns(const std::vector<std::string>& columns, const QuoteName& quote_name);
// ColumnSpec::default_sql of an identity column read from a schema file (core/schema_sql.cc):
// column_sql writes it as GENERATED BY DEFAULT AS IDENTITY.
inline constexpr char kIdentityDefaultSql[] = "GENERATED AS IDENTITY";
// A column of a CREATE TABLE: its name, its declared type (to_string(type) when it has none),
// NOT NULL, then its generation (kIdentityDefaultSql as above; any other GENERATED ... as
// written) or its DEFAULT.
std::string column_sql(const ColumnSpec& column, const QuoteName& quote_name);
// An add_foreign_key statement: ALTER TABLE t ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES p (b)
// [ON DELETE ...] [NOT VALID], the two tables through `quote_relation` and the other names through
// `quote_name` (statement_sql passes its quote_name as both).
std::string foreign_key_sql(const DdlStatement& statement, const QuoteName& quote_name, const QuoteName& quote_relation);

}  // namespace rehearse
