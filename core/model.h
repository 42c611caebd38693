// The scenario model: plain data describing one rehearsal, as written in a scenario file
// (../shared/spec/scenario-format.md). The loader in scenarios/ fills it and validates it;
// the simulated world (sim/) and the engine (core/) read it. Nothing here does any work.
//
// Units: every time and duration is an integer number of microseconds (suffix `_us`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/costs.h"

namespace rehearse {

using TimeUs = std::int64_t;

constexpr TimeUs kUs = 1;
constexpr TimeUs kMs = 1000;
constexpr TimeUs kSec = 1000 * kMs;
constexpr TimeUs kMin = 60 * kSec;
constexpr TimeUs kHour = 60 * kMin;

// A `LOW..HIGH` duration range, drawn uniformly per use. A plain duration is LOW == HIGH.
struct DurationRange {
  TimeUs low_us = 0;
  TimeUs high_us = 0;
};

enum class TopologyMode { per_region, global };
enum class LockBackend { redis, redlock, etcd, zookeeper, app_database };
enum class Fencing { none, client, storage };
enum class Jitter { full, equal, none };
enum class Rollout { region_by_region, all_at_once };
enum class OnFailure { rollback, halt };
enum class BackfillSource { primary, replica };
enum class ColumnType { bigint, integer, numeric, text, boolean, timestamp };
enum class DeployAfter { expand, backfill, validate };
enum class Verdict { pass, violation };
// What `availability` and `replica-staleness` judge (an extension, docs/scenarios.md): the
// requests the migration caused to fail, stall or read stale data, or every such request.
enum class SloCount { migration, all };

struct RegionSpec {
  std::string name;
  int replicas = 0;
};

struct ClockSpec {
  TimeUs max_skew_us = 0;
  std::int64_t max_drift_ppm = 0;
};

struct Topology {
  TopologyMode mode = TopologyMode::per_region;
  std::string home;  // global mode: the writer region
  std::vector<RegionSpec> regions;
  DurationRange intra_region{500, 2 * kMs};
  DurationRange inter_region{40 * kMs, 120 * kMs};
  DurationRange replication_lag{20 * kMs, 300 * kMs};
  ClockSpec clocks;
};

struct LockSpec {
  LockBackend backend = LockBackend::redis;
  int nodes = 1;
  std::string region;  // empty = the first region
  TimeUs ttl_us = 10 * kSec;
  TimeUs renew_every_us = 3 * kSec;  // 0 = never renew
  Fencing fencing = Fencing::storage;
  double drift_factor = 0.01;
  bool persistence = true;
  bool replica = false;
  std::int64_t max_ops_per_s = 0;  // 0 = unlimited
  bool delayed_restart = false;    // redlock: a crashed master stays down for at least a TTL
};

struct Backoff {
  TimeUs base_us = 100 * kMs;
  TimeUs max_us = 10 * kSec;
  Jitter jitter = Jitter::full;
};

struct HealthGate {
  TimeUs soak_us = 30 * kSec;
  double max_error_rate = 0.01;
  TimeUs max_replication_lag_us = 5 * kSec;
};

struct EngineSpec {
  int instances = 1;
  std::string region;  // empty = the first region
  DurationRange start_jitter{0, 0};
  std::int64_t batch_size = 1000;  // 0 = one unbatched statement
  TimeUs batch_pause_us = 50 * kMs;
  BackfillSource backfill_source = BackfillSource::primary;
  TimeUs max_replication_lag_us = 2 * kSec;  // 0 = never pause
  TimeUs lock_timeout_us = 2 * kSec;         // 0 = wait forever
  TimeUs statement_timeout_us = 30 * kSec;   // 0 = no limit
  int ddl_retries = 10;
  // Retries of any other call that timed out or found its server unavailable, with exponential
  // backoff (gh-ost's --default-retries); past them the engine steps aside, backs off and
  // resumes from the checkpoint instead of halting (an extension, docs/scenarios.md).
  int retries = 20;
  // Times an instance whose acquire_timeout passed tries again (after a backoff) while the
  // migration is unfinished; 0 = give up at the first (the spec's behaviour). An extension.
  int acquire_retries = 10;
  TimeUs acquire_timeout_us = 1 * kMin;
  Backoff backoff;
  Rollout rollout = Rollout::region_by_region;
  std::vector<std::string> order;  // empty = topology order
  HealthGate health_gate;
  bool validate = true;
  OnFailure on_failure = OnFailure::rollback;
};

// How long the engine's database client waits for a statement's reply before it gives up (a
// timeout): the statement_timeout (60 s where it is 0) plus 5 s for the way there and back. The
// simulated client (sim/world.cc) and the live one (real_backends/reply_deadline.h) both use it,
// so a partition that holds a statement ends it at the same time in both worlds.
inline TimeUs database_reply_timeout_us(const EngineSpec& engine) {
  const TimeUs statement = engine.statement_timeout_us;
  return (statement > 0 ? statement : 60 * kSec) + 5 * kSec;
}

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::text;
  std::string gen;  // how values are drawn: "LOW..HIGH", "email", "one_of(a,b)", "uuid"
  int scale = 0;    // numeric: digits after the decimal point
  double nullable = 0.0;  // share of NULLs
  // Many tables (real-migrations.md "Schema"): the column as its schema declares it.
  bool not_null = false;
  std::string default_sql;  // the DEFAULT expression as written; empty = none
  std::string sql_type;     // the declared type as PostgreSQL prints it ("varchar(20)", "mood"); empty = to_string(type)
  int line = 0;
  bool gen_written = false;  // `gen` was written in the scenario (not a type's default draw)
};

struct IndexSpec {
  std::string name;
  std::vector<std::string> columns;  // or expressions, as written
  bool unique = false;
  std::string method;     // btree when empty
  std::string predicate;  // a partial index's WHERE, as written; empty = none
  int line = 0;
};

enum class ConstraintKind { check, unique, foreign_key };

struct ConstraintSpec {
  ConstraintKind kind = ConstraintKind::check;
  std::string name;
  std::vector<std::string> columns;      // unique, foreign_key: the constrained columns
  std::string check;                     // check: the expression as written
  std::string ref_table;                 // foreign_key: the referenced table
  std::vector<std::string> ref_columns;  // foreign_key: its columns (its primary key when empty)
  std::string on_delete;                 // foreign_key: "cascade", "set null", ...; empty = no action
  bool validated = true;                 // false: added NOT VALID and not validated since
  int line = 0;
};

struct TableSpec {
  std::string name = "orders";
  std::int64_t rows = 10000;
  std::vector<ColumnSpec> columns;  // in file order; `id bigint primary key` is implicit
  // Many tables: the table's primary key columns (empty = the implicit `id bigint`), its
  // indexes and constraints (a column's REFERENCES and a table's FOREIGN KEY are both
  // foreign_key constraints).
  std::vector<std::string> primary_key;
  // The PRIMARY KEY constraint's name; empty = `<name>_pkey` (PostgreSQL keeps a constraint's
  // name when its table is renamed: the reader sets it then).
  std::string primary_key_name;
  std::vector<IndexSpec> indexes;
  std::vector<ConstraintSpec> constraints;
  std::string file;  // where it was declared (a schema file or the scenario), for messages
  int line = 0;
};

// A user enum type (`CREATE TYPE mood AS ENUM (...)`).
struct EnumTypeSpec {
  std::string name;
  std::vector<std::string> labels;
};

// The first six are rehearse's own; the others are pgroll's, with pgroll's names (issue 13,
// real-migrations.md "Migration sources"). add_not_null is rehearse's only.
enum class OperationKind {
  add_column,
  drop_column,
  alter_column,
  rename_column,
  add_not_null,
  create_index,
  create_table,
  drop_table,
  rename_table,
  drop_index,
  create_constraint,
  drop_constraint,
  drop_multicolumn_constraint,
  rename_constraint,
  set_replica_identity,
  sql,
};

struct Operation {
  OperationKind kind = OperationKind::add_column;
  std::string column;
  std::optional<ColumnType> type;
  std::string up;    // expression text; empty = none (sql: the statement run in expand)
  std::string down;  // expression text; empty = none (sql: the statement run on rollback)
  std::string to;    // rename_column, rename_table, rename_constraint, alter_column's `name`: the new name
  std::vector<std::string> columns;  // create_index, create_constraint
  std::string table;  // the table it changes; empty = the scenario's `table`
  int line = 0;
  // pgroll's fields. `name`: create_table / drop_table's table, rename_table / rename_constraint's
  // old name, create_index / drop_index's index, the constraints' name, set_replica_identity's
  // index; empty = a name derived from the table and columns where pgroll derives one.
  std::string name;
  std::optional<bool> nullable;            // add_column, alter_column: false = NOT NULL
  std::optional<std::string> default_sql;  // add_column, alter_column; "" = DROP DEFAULT (`default: null`)
  std::optional<std::string> comment;      // add_column, alter_column, create_table
  // add_column / alter_column: the column's unique, check and references constraints (columns =
  // the column); create_constraint: its one constraint.
  std::vector<ConstraintSpec> constraints;
  std::vector<ColumnSpec> table_columns;  // create_table: its columns after the implicit id
  bool unique = false;                    // create_index
  std::string method;                     // create_index: btree when empty
  std::string predicate;                  // create_index: a partial index's WHERE
  std::string storage_parameters;         // create_index: "fillfactor=70", as written
  std::string identity;                   // set_replica_identity: full | default | nothing | index
  bool on_complete = false;               // sql: run `up` in contract instead of expand
};

// How a migration read `from:` files runs (real-migrations.md "Migration sources").
enum class MigrationMode {
  expand_contract,  // operations through the expand/contract engine (pgroll files, inline operations)
  as_written,       // a SQL file's statements in order, as Flyway would run them (core/sql_migration.h)
};

// A SQL migration file as read: its resolved path and its text (parsed by core/sql_migration.h).
struct SqlFile {
  std::string path;
  std::string text;
};

struct MigrationSpec {
  std::string name = "migration";
  std::vector<Operation> operations;
  // `from:` (real-migrations.md): the pgroll files the operations were read from, in order, as
  // resolved paths; empty when they are written inline under `operations:`.
  std::vector<std::string> from;
  // SQL files of `from:`, in order. as_written: the plan runs their statements; expand_contract:
  // `operations` holds them mapped to operations.
  std::vector<SqlFile> sql;
  MigrationMode mode = MigrationMode::expand_contract;
};

// One table's share of the application's traffic (`workload.tables`, real-migrations.md).
struct TableWorkload {
  std::string table;
  double writes_per_s = 0;
  double reads_per_s = 0;
};

struct WorkloadSpec {
  // Per table; empty = the scenario's `table` at writes_per_s / reads_per_s below.
  std::vector<TableWorkload> tables;
  bool all_regions = true;
  std::vector<std::string> regions;
  double writes_per_s = 0;
  double reads_per_s = 0;
  double update_ratio = 0.7;
  double hot_rows = 0.01;
  DeployAfter new_code_after = DeployAfter::validate;
};

struct SloSpec {
  TimeUs max_stall_us = 1 * kSec;
  double max_error_rate = 0.001;
  TimeUs max_replica_lag_us = 10 * kSec;
  SloCount count = SloCount::migration;
};

enum class FaultKind {
  pause,
  crash,
  partition,
  delay,
  drop,
  clock_jump,
  clock_skew,
  clock_drift,
  replication_lag,
  long_transaction,
  failover,
};

struct PhaseTrigger {
  std::string phase;   // expand | dual_write | backfill | validate | switch_reads | contract
  std::string region;
  TimeUs after_us = 0;
  // > 0 (phase expand of a SQL file run as written): when the engine starts that statement of the
  // file, counted as `plan` lists them (a BEGIN ... COMMIT block is one). The engine marks each
  // start with a phase event named "statement N" (statement_phase).
  int statement = 0;
};

// The phase event a trigger waits for: "statement N" for a statement, else the phase's name.
std::string statement_phase(int statement);
inline std::string trigger_phase(const PhaseTrigger& trigger) {
  return trigger.statement > 0 ? statement_phase(trigger.statement) : trigger.phase;
}

struct FaultSpec {
  FaultKind kind = FaultKind::pause;
  int line = 0;  // where it was written, for messages
  TimeUs at_us = 0;
  std::optional<PhaseTrigger> at_phase;  // when set, at_us is unused
  std::vector<std::string> targets;      // node names; partition: a list, others: one
  std::vector<std::string> from;         // partition: the other side; empty = everyone else
  bool oneway = false;                   // partition: only targets -> from is cut
  TimeUs for_us = 0;                     // 0 = instantaneous kinds (jump, skew, failover) or forever
  std::optional<TimeUs> restart_after_us;  // crash
  TimeUs extra_us = 0;                   // delay, replication_lag
  double probability = 0;                // drop
  TimeUs by_us = 0;                      // clock_jump (signed)
  TimeUs offset_us = 0;                  // clock_skew (signed)
  std::int64_t ppm = 0;                  // clock_drift
};

struct RandomFaultsSpec {
  double rate_per_s = 0;
  std::vector<FaultKind> kinds;
  std::vector<std::string> targets;  // patterns: engine-*, lock-*, db:*
  TimeUs max_duration_us = 20 * kSec;
  std::optional<TimeUs> quiet_after_us;
};

struct ExpectSpec {
  Verdict verdict = Verdict::pass;
  std::vector<std::string> invariants;
  int within_seeds = 0;  // 0 = not given
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source_path;  // the file it was loaded from (or "builtin:NAME")
  std::uint64_t seed = 1;
  TimeUs duration_us = 1 * kHour;
  Topology topology;
  LockSpec lock;
  EngineSpec engine;
  TableSpec table;  // the one-table form, or the first table of `tables:` / `schema:`
  // Many tables (`tables:` / `schema:`): every table after the first, in declaration order,
  // and the schema's enum types. Empty in the one-table form.
  std::vector<TableSpec> more_tables;
  std::vector<EnumTypeSpec> enum_types;
  std::string schema_path;  // `schema:` as resolved; empty = none
  // The statement kinds of the schema file that shape no table and were skipped, with their
  // counts ("SET (11)", "COMMENT (2)"), for `plan` to mention (core/schema_sql.h).
  std::vector<std::string> schema_skipped;
  MigrationSpec migration;
  WorkloadSpec workload;
  SloSpec slo;
  std::vector<FaultSpec> faults;
  std::optional<RandomFaultsSpec> random_faults;
  ExpectSpec expect;
  bool buggify = false;  // an extension (docs/scenarios.md): BUGGIFY fault points on (core/buggify.h)
  CostProfile costs;      // `costs:` (calibration.md); the built-in profile when absent
};

// Every table of the scenario: `table` then `more_tables`.
std::vector<const TableSpec*> all_tables(const Scenario& scenario);
// The table named `name`; nullptr when there is none.
const TableSpec* find_table(const Scenario& scenario, const std::string& name);
// The table an operation changes (its `table`, else the scenario's `table`).
const std::string& operation_table(const Scenario& scenario, const Operation& op);

// Names used in files, JSON and messages.
const char* to_string(TopologyMode v);
const char* to_string(LockBackend v);
const char* to_string(Fencing v);
const char* to_string(Jitter v);
const char* to_string(Rollout v);
const char* to_string(OnFailure v);
const char* to_string(BackfillSource v);
const char* to_string(ColumnType v);
const char* to_string(DeployAfter v);
const char* to_string(Verdict v);
const char* to_string(SloCount v);
const char* to_string(OperationKind v);
const char* to_string(FaultKind v);
// When a fault is due, for messages: "phase backfill in us-east-1 +1s" or "at 5s".
std::string describe_trigger(const FaultSpec& fault);

}  // namespace rehearse
