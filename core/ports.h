// The ports: the only ways the engine in core/ reaches the outside world. sim/ implements
// them deterministically on Boost.Fiber; real_backends/ implements them with real servers.
// Every method documents what it returns on failure and what it REQUIRES. Implementations
// are used from one engine process only and need not be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/buggify.h"
#include "core/expr.h"
#include "core/history.h"
#include "core/model.h"
#include "core/probes.h"
#include "core/random.h"
#include "core/status.h"

namespace rehearse {

// This node's local clock: it may be offset from true time, drift, and jump.
class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;
  // Local time in microseconds. Not monotonic: an NTP step may move it backwards.
  virtual TimeUs now() = 0;
  // Blocks the caller for `duration_us` of local time. REQUIRES: duration_us >= 0.
  virtual void sleep_for(TimeUs duration_us) = 0;
};

// The only source of randomness the engine may use (backoff jitter, sampling).
class Random {
 public:
  Random() = default;
  Random(const Random&) = delete;
  Random& operator=(const Random&) = delete;
  virtual ~Random() = default;
  virtual std::uint64_t next_u64() = 0;
  // Uniform in [low, high]. REQUIRES: low <= high.
  std::int64_t uniform(std::int64_t low, std::int64_t high);
};

// A Random over one named stream of the run's seed (core/random.h): an engine process's, named
// by engine_stream_name in simulation and live mode alike.
class StreamRandom final : public Random {
 public:
  explicit StreamRandom(Rng rng) : rng_(rng) {}
  std::uint64_t next_u64() override { return rng_.next(); }

 private:
  Rng rng_;
};

// The Random of engine `engine` (engine-1, ...), instance number `instance` (1, ...) and
// incarnation (1, ...) for `seed`: the stream engine_stream_name names, in simulation and live
// mode alike.
inline StreamRandom engine_random(std::uint64_t seed, std::string_view engine, int instance, int incarnation) {
  return StreamRandom(Rng(seed, engine_stream_name(engine, instance, incarnation)));
}

// Runs work concurrently with the caller inside the same engine process (the lease keepalive).
// A spawned task dies with its process (crash) and must poll its own stop condition.
class Tasks {
 public:
  Tasks() = default;
  Tasks(const Tasks&) = delete;
  Tasks& operator=(const Tasks&) = delete;
  virtual ~Tasks() = default;
  virtual void spawn(const std::string& name, std::function<void()> task) = 0;
};

struct Lease {
  std::int64_t token = 0;          // fencing token: larger for every later holder
  TimeUs requested_local_us = 0;   // holder's local time when it sent the acquire/renew
  TimeUs ttl_us = 0;               // valid this long from requested_local_us (0 = as requested)
};

// One lock store at its API level; each call is one attempt (retries belong to the caller).
class LockClient {
 public:
  LockClient() = default;
  LockClient(const LockClient&) = delete;
  LockClient& operator=(const LockClient&) = delete;
  virtual ~LockClient() = default;
  // Tries once to take the migration lock for `ttl_us`. Returns the lease with its fencing
  // token; conflict when another holder has it; unavailable / timeout when the store could not
  // be reached (a timed-out acquire may have succeeded at the store).
  virtual Result<Lease> try_acquire(TimeUs ttl_us) = 0;
  // Extends `lease` by `ttl_us` from now. Returns conflict when the lease is no longer ours.
  virtual Status renew(const Lease& lease, TimeUs ttl_us) = 0;
  // Releases `lease` if it is still ours (compare-and-delete); ok when it was already gone.
  virtual Status release(const Lease& lease) = 0;
  // The engine process is exiting: end the client's session with the store, if it keeps one
  // (ZooKeeper: closeSession, which deletes the session's ephemeral znodes -- a waiter's queue
  // node too). Stores without sessions need nothing: their keys expire by TTL.
  virtual void close() {}
};

// The fencing carried by every protected write.
struct Fence {
  std::int64_t token = 0;   // the holder's lease token
  bool enforce = false;     // fencing: storage -- the database rejects stale tokens
};

struct DdlStatement {
  // alter_column_type is the in-place type change that rewrites the table under ACCESS
  // EXCLUSIVE (what expand/contract avoids): the compiled plans do not emit it; the simulated
  // and the live databases run and cost it. The kinds after it are pgroll's operations done the
  // safe way (core/plan.cc): constraints NOT VALID then VALIDATE, UNIQUE through a unique index
  // built CONCURRENTLY, NOT NULL through a validated CHECK. opaque_sql is a `sql` operation's
  // statement, which rehearse does not analyse.
  enum class Kind {
    add_column,
    drop_column,
    rename_column,
    set_not_null,
    create_index,
    drop_index,
    alter_column_type,
    drop_not_null,
    set_default,
    drop_default,
    add_check,
    add_foreign_key,
    add_unique_using_index,
    validate_constraint,
    drop_constraint,
    rename_constraint,
    create_table,
    drop_table,
    rename_table,
    set_replica_identity,
    comment,
    opaque_sql,
    // A SQL migration file's statements run as written (core/sql_migration.h) add these:
    create_trigger,  // CREATE TRIGGER ... ON table (SHARE ROW EXCLUSIVE)
    row_security,    // ALTER TABLE ... ENABLE | DISABLE | [NO] FORCE ROW LEVEL SECURITY (ACCESS EXCLUSIVE)
    policy,          // CREATE | ALTER | DROP POLICY ... ON table (ACCESS EXCLUSIVE)
    trigger_state,   // ALTER TABLE ... ENABLE | DISABLE TRIGGER ... (SHARE ROW EXCLUSIVE)
    alter_constraint,  // ALTER TABLE ... ALTER CONSTRAINT k [NOT] DEFERRABLE ... (ACCESS EXCLUSIVE)
    dml,             // an UPDATE / INSERT / DELETE / TRUNCATE / SELECT of the file (`dml` says which)
    catalog,         // a statement that locks no table (SET, CREATE TYPE / EXTENSION / FUNCTION, GRANT, ...)
    transaction,     // a BEGIN ... COMMIT block (or one statement of several actions): `steps` in one transaction
  };
  Kind kind = Kind::add_column;
  std::string table;
  std::string column;                 // create_index / drop_index: the index name
  ColumnType type = ColumnType::text;  // add_column, alter_column_type: the column's (new) type
  std::string to;                     // rename_column, rename_table, rename_constraint: the new name
  std::vector<std::string> columns;   // create_index, add_foreign_key, unique: the columns
  std::string purpose;                // the phase it belongs to: expand | contract | rollback
  // The constraint (add_check, add_foreign_key, add_unique_using_index, validate_constraint,
  // drop_constraint, rename_constraint), or the index of add_unique_using_index and of
  // set_replica_identity's `index`.
  std::string constraint;
  std::string index;
  ConstraintKind constraint_kind = ConstraintKind::check;  // validate_constraint: which it is
  std::string check;                   // add_check: the expression, as written
  bool not_valid = true;               // add_check, add_foreign_key: NOT VALID (plans always add so)
  std::string ref_table;               // add_foreign_key: the referenced table
  std::vector<std::string> ref_columns;  // add_foreign_key: its columns
  std::string on_delete;               // add_foreign_key: "CASCADE", ...; empty = NO ACTION
  std::string default_sql;             // add_column (a DEFAULT), set_default: the expression
  bool volatile_default = false;       // add_column: the DEFAULT is not a constant (a rewrite)
  bool unique = false;                 // create_index: CREATE UNIQUE INDEX
  std::string method;                  // create_index: USING method; empty = btree
  std::string predicate;               // create_index: WHERE predicate
  std::string storage_parameters;      // create_index: WITH (...)
  bool with_valid_check = false;       // set_not_null: a valid CHECK (c IS NOT NULL) exists: no scan
  std::vector<ColumnSpec> table_columns;  // create_table: the columns after `id bigint PRIMARY KEY`
  std::string identity;                // set_replica_identity: FULL | DEFAULT | NOTHING | USING INDEX (index)
  std::string comment;                 // comment: on `column`, or on the table when column is empty
  std::string sql;                     // opaque_sql: the statement as written; as_written: what runs
  // SQL migration files run as written (core/sql_migration.h). The compiled expand/contract plans
  // leave these at their defaults.
  bool as_written = false;             // `sql` runs as written: without IF [NOT] EXISTS it fails on what is there
  bool if_exists = false;              // written with IF [NOT] EXISTS (or ALTER TABLE IF EXISTS)
  bool concurrently = true;            // create_index, drop_index: CONCURRENTLY (the compiled plans always are)
  bool not_null = false;               // add_column: NOT NULL
  bool rewrites = true;                // alter_column_type: false when the change is binary-coercible
  std::string using_sql;               // alter_column_type: USING expression as written; empty = a plain cast
  std::string dml;                     // dml: UPDATE | INSERT | DELETE | TRUNCATE | SELECT
  std::string where_sql;               // dml UPDATE / DELETE: its WHERE condition as written; empty = none (every row)
  std::vector<std::pair<std::string, std::string>> assignments;  // dml UPDATE: column = expression, as written
  std::int64_t low_id = 0;             // dml: WHERE id BETWEEN low_id AND high_id; high_id < low_id = every row
  std::int64_t high_id = -1;
  TimeUs lock_timeout_us = -1;         // the file's SET lock_timeout in force; -1 = the engine's
  TimeUs statement_timeout_us = -1;    // the file's SET statement_timeout in force; -1 = the engine's
  std::vector<DdlStatement> steps;     // transaction: its statements, in order
  bool rolled_back = false;            // transaction: the file ends it with ROLLBACK (nothing applies)
  std::string file;                    // where it was written (file and 1-based line); empty = compiled
  int line = 0;
};

struct DdlLimits {
  TimeUs lock_timeout_us = 0;       // 0 = wait forever for the table lock
  TimeUs statement_timeout_us = 0;  // 0 = no limit
};

// What a checkpoint is the progress of: a migration's name, the table(s) it migrates and a
// digest of its plan (core/plan.h checkpoint_key). A database keeps one checkpoint per migration
// name; one whose tables or digest differ belongs to another plan under the same name and is
// never taken for this plan's progress (read_checkpoint answers conflict).
struct CheckpointKey {
  std::string migration;
  std::string tables;       // the migrated table(s), comma-separated
  std::string plan_digest;  // 16 hex digits; empty: written before checkpoints carried one
  bool operator==(const CheckpointKey& other) const = default;
};

// The conflict message for a checkpoint of `found` where `wanted` was asked for: names the
// migration, the table the checkpoint is for, and what to do about it.
std::string checkpoint_conflict(const CheckpointKey& wanted, const CheckpointKey& found);

// A region's persisted migration progress, stored in that region's database.
struct Checkpoint {
  bool exists = false;
  CheckpointKey key;
  std::string state = "pending";  // a region state of cli.md
  std::int64_t next_id = 0;       // backfill cursor: the lowest id not yet backfilled
  std::int64_t token = 0;         // the token that wrote it
  std::int64_t validated_token = 0;  // the token whose validation passed (0 = not validated)
  bool contract_started = false;  // the first contract DDL may have run: no rollback after this
  std::string since;  // read only: when `state` was reached, as the database tells it ("" = unknown)
};

// One new column and the expression that computes it from the old row.
struct ColumnFill {
  std::string column;
  Expr up;
};

struct BackfillBatch {
  std::string table;
  std::vector<ColumnFill> fills;
  std::int64_t low_id = 0;
  std::int64_t high_id = 0;  // inclusive
  bool overwrite = false;    // re-backfill after a failed validation: rewrite non-NULL values too
  BackfillSource source = BackfillSource::primary;  // where the old values are read from
  std::vector<std::string> not_null;  // checksum: also count rows where any of these is NULL
};

struct RangeChecksum {
  std::int64_t rows = 0;
  std::int64_t mismatched_rows = 0;
  std::uint64_t expected = 0;  // sum of hashes of up(old row)
  std::uint64_t actual = 0;    // sum of hashes of the new column
  std::int64_t null_rows = 0;  // rows with a NULL in one of the window's not_null columns
};

struct KeyRange {
  std::int64_t min_id = 0;
  std::int64_t max_id = -1;  // max < min: empty table
};

// The migration operations one region's database offers. Protected calls carry a Fence and
// return stale_token when storage fencing rejects them; any call may return unavailable or
// timeout (the effect of a timed-out protected call is unknown).
class RegionDatabase {
 public:
  RegionDatabase() = default;
  RegionDatabase(const RegionDatabase&) = delete;
  RegionDatabase& operator=(const RegionDatabase&) = delete;
  virtual ~RegionDatabase() = default;
  virtual const std::string& region() const = 0;
  // Idempotent DDL (ADD COLUMN IF NOT EXISTS / DROP COLUMN IF EXISTS) under the limits;
  // timeout when the table lock was not granted within lock_timeout.
  virtual Status execute_ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) = 0;
  // UPDATE table SET column = up(row) WHERE id BETWEEN low AND high AND column IS NULL (for
  // every fill), and the checkpoint `then`, in one transaction. Returns the rows updated.
  virtual Result<std::int64_t> backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence) = 0;
  // Checksums of up(old row) and of the new column over [low_id, high_id], read from `source`.
  virtual Result<RangeChecksum> checksum(const BackfillBatch& range, BackfillSource source) = 0;
  virtual Result<KeyRange> key_range(const std::string& table) = 0;
  virtual Result<std::vector<std::string>> columns(const std::string& table) = 0;
  // The checkpoint of key.migration (exists = false when there is none); conflict (with
  // checkpoint_conflict's message) when it was written for another table or plan digest.
  virtual Result<Checkpoint> read_checkpoint(const CheckpointKey& key) = 0;
  virtual Status write_checkpoint(const Checkpoint& checkpoint, const Fence& fence) = 0;
  // The largest replication lag among this region's replicas (0 without replicas).
  virtual Result<TimeUs> replication_lag() = 0;
};

// Per-region feature flags read by the application: `dual_write` and `read_new`.
class FlagStore {
 public:
  FlagStore() = default;
  FlagStore(const FlagStore&) = delete;
  FlagStore& operator=(const FlagStore&) = delete;
  virtual ~FlagStore() = default;
  // A protected write: stale_token under storage fencing when a later holder set flags.
  virtual Status set_flag(const std::string& region, const std::string& flag, bool on, const Fence& fence) = 0;
  virtual Result<bool> get_flag(const std::string& region, const std::string& flag) = 0;
};

// Where the engine reports what it did. The implementation stamps time and node.
class Recorder {
 public:
  Recorder() = default;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  virtual ~Recorder() = default;
  virtual void record(Event event) = 0;
  // Counts that the engine reached a coverage probe (core/probes.h). Not an event: it never
  // enters the history or its hash. The default ignores it (live runs do not count probes).
  virtual void probe(Probe probe) { (void)probe; }
};

// The engine's BUGGIFY fault points (core/buggify.h). The simulator switches sites on per run
// from the seed; live, nothing ever fires (FaultPoints::never()).
class FaultPoints {
 public:
  FaultPoints() = default;
  FaultPoints(const FaultPoints&) = delete;
  FaultPoints& operator=(const FaultPoints&) = delete;
  virtual ~FaultPoints() = default;
  // Whether `site` misbehaves this time it is passed. Always false when buggify is off.
  virtual bool fires(FaultSite site) = 0;
  // A duration in [low_us, high_us] for a site that fired, from that site's own stream.
  // REQUIRES: 0 <= low_us <= high_us.
  virtual TimeUs draw_us(FaultSite site, TimeUs low_us, TimeUs high_us) = 0;
  // The implementation for live runs: never fires.
  static FaultPoints& never();
};

// The application's requests in one region so far, as its monitoring counts them (finished
// requests and the failed among them). Cumulative: the health gate takes the difference over
// its soak.
struct RequestCounts {
  std::int64_t requests = 0;
  std::int64_t failed = 0;
};

// Where the health gate reads the application's error rate: in simulation the simulated
// application servers, live the traffic the runner drives (real_backends/live_traffic.h). A
// monitor that cannot tell (none(), or an unavailable answer) leaves the gate judging the
// replication lag alone.
class ApplicationMonitor {
 public:
  ApplicationMonitor() = default;
  ApplicationMonitor(const ApplicationMonitor&) = delete;
  ApplicationMonitor& operator=(const ApplicationMonitor&) = delete;
  virtual ~ApplicationMonitor() = default;
  virtual Result<RequestCounts> requests(const std::string& region) = 0;
  // Knows no application: every answer is unavailable.
  static ApplicationMonitor& none();
};

}  // namespace rehearse
