// A simulated region database: the primary with its replicas. It behaves like PostgreSQL where
// it matters to a zero-downtime migration:
//   - statements take the table lock (sim/table_lock.h) in the mode PostgreSQL takes for them
//     (core/statements.h): most DDL needs ACCESS EXCLUSIVE, waits behind a long-running
//     transaction, blocks the application while it waits, and gives up after lock_timeout /
//     statement_timeout; CREATE INDEX CONCURRENTLY passes writers and waits for older
//     transactions;
//   - statements cost time that grows with the rows they touch, and the rows a backfill batch
//     updates stay locked until it commits (so an unbatched backfill stalls application writes);
//   - every committed change reaches each replica after a replication delay, applied in order
//     at a finite rate (so a large batch raises replication lag);
//   - protected writes carry a fence; with `fencing: storage` a token lower than the highest
//     accepted is rejected. Each protected write is recorded as applied or rejected.
// Its methods are the server side: they run on the primary's node when a request arrives and
// answer through a Respond callback, possibly later.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/costs.h"
#include "core/gen.h"
#include "core/history.h"
#include "core/observations.h"
#include "core/ports.h"
#include "core/random.h"
#include "core/statements.h"
#include "sim/cpu_host.h"
#include "sim/kernel.h"
#include "sim/network.h"
#include "sim/table.h"
#include "sim/table_lock.h"

namespace rehearse::sim {

// Where the database reports its protected writes (the world appends them to the history).
using WriteSink = std::function<void(Event event)>;

// An application write: a row (0 = insert a new one) and the values the application means for
// the table's original columns. The database turns it into column writes according to the
// code version, the schema in force and the dual-write trigger.
struct AppWrite {
  std::string table;  // empty = the database's first table
  std::int64_t row_id = 0;
  bool new_code = false;
  ColumnValues logical;
};

// What an application request waited on inside the database, for attribution (docs/scenarios.md,
// `slo.count`): time in the table lock queue behind the migration's DDL, or on rows a backfill
// batch holds. The request owns it; the database fills it in as the request progresses.
struct MigrationWaits {
  TimeUs total_us = 0;          // finished waits
  TimeUs waiting_since_us = -1; // a wait in progress (-1: none)
  TimeUs longest_us = 0;
  std::string why;              // the longest wait's obstruction ("on the ACCESS EXCLUSIVE lock ...")
  std::string waiting_on;       // the one in progress
  // The client's statement_timeout as a time (sim::WorldOptions::app_connections): a statement
  // that gets its locks at or after it is cancelled, not run. -1: none.
  TimeUs deadline_us = -1;
  bool past_deadline(TimeUs now) const { return deadline_us >= 0 && now >= deadline_us; }
  void begin(TimeUs now, std::string on) {
    waiting_since_us = now;
    waiting_on = std::move(on);
  }
  void end(TimeUs now);
  // Every wait so far, the one in progress counted up to `now`.
  TimeUs total(TimeUs now) const { return total_us + (waiting_since_us >= 0 ? now - waiting_since_us : 0); }
  // The obstruction of the longest wait, the one in progress counted up to `now`.
  const std::string& longest_why(TimeUs now) const {
    return waiting_since_us >= 0 && now - waiting_since_us >= longest_us ? waiting_on : why;
  }
};

// The columns an application write set: names (in name order, as ColumnValues keeps them) and
// column indexes in the row. Writes committed under one layout and code path share one; the
// database keeps every one it made for the run.
struct WrittenColumns {
  std::vector<std::pair<std::string, int>> columns;
};

// What an application write set, kept without a map per write: the row version it committed
// and which of its cells it set. `fallback` holds the values instead when the same statement
// set one of those cells again (a trigger, an insert's DEFAULT over a written NULL), so that
// the committed cell is not what the write wrote.
struct WrittenCells {
  Row version;
  const WrittenColumns* columns = nullptr;
  ColumnValues fallback;
  bool has_fallback = false;
  // column -> value as written (in the writer's schema).
  ColumnValues values() const;
};

struct AppWriteResult {
  Status status;
  std::int64_t row_id = 0;
  std::uint64_t order = 0;  // commit order at the primary
  WrittenCells written;
};

struct AppReadResult {
  Status status;
  TimeUs staleness_us = 0;
  // How stale the read would have been without injected replication delays (replication_lag
  // faults, BUGGIFY stalls): the lag the migration's own changes (backfill batches) caused.
  TimeUs staleness_without_faults_us = 0;
};

// A foreign key the generated data holds to: the schema's, and those the migration adds (its
// operations assume the rows already satisfy them, as the database they rehearse does). The
// referencing columns of a row (unless all NULL) take the values of a row of the referenced
// table, drawn uniformly: in the initial data and in the application's writes. A reference one
// of whose columns has a `gen` the scenario wrote is left out (its data is as written).
struct DataReference {
  std::string name;  // the constraint's
  std::string table;
  std::vector<std::string> columns;
  std::string ref_table;
  std::vector<std::string> ref_columns;  // never empty: {"id"} for the referenced table's key
};
std::vector<DataReference> data_references(const Scenario& scenario);
// Gives the referencing columns in `values` (by name) the values of a row of `referenced` drawn
// from `rng`; does nothing when they are all NULL, a column is missing or `referenced` is empty.
void draw_reference(const DataReference& reference, const Table& referenced, Rng& rng, ColumnValues* values);

// The table as every region starts it: `spec.rows` rows generated from the run's seed. Its texts
// go to `texts` when given (a run's arena: they must not outlive it), else each to its own box.
Table generate_table(const TableSpec& spec, std::uint64_t seed, TextArena* texts = nullptr);
// Every table of the scenario, the first one first. The first table's data comes from the
// stream the one-table world always used; each other table from its own stream.
std::vector<Table> generate_tables(const Scenario& scenario, std::uint64_t seed, TextArena* texts = nullptr);

class SimDatabase {
 public:
  // The primary and every replica start as copies of `initial` (sharing its rows): one table,
  // or every table of a schema (the first is the one a statement naming no table is about).
  SimDatabase(Kernel& kernel, Node& node, std::string region, const Table& initial, int replicas,
              DurationRange replication_lag, WriteSink sink, std::uint64_t seed);
  SimDatabase(Kernel& kernel, Node& node, std::string region, const std::vector<Table>& initial, int replicas,
              DurationRange replication_lag, WriteSink sink, std::uint64_t seed);

  // A deliberately broken store for checker tests: accepts every token.
  void set_ignore_tokens(bool ignore) { ignore_tokens_ = ignore; }
  // The migration's derived columns, for the dual-write trigger and new-code writes (each on
  // its DerivedColumn::table).
  void set_derived(const std::vector<DerivedColumn>& derived);
  // What statements, requests and replicated rows cost (the scenario's `costs:`).
  void set_costs(const CostProfile& costs) { costs_ = costs; }
  const CostProfile& costs() const { return costs_; }
  // The host whose processors this database's statements share with other servers' (rehearse
  // conform's servers on one machine); none: every statement runs at its profile cost.
  void set_cpu_host(CpuHost* host) { cpu_host_ = host; }

  // The engine's statements.
  // `client_alive` (none: always) says whether the engine that sent the statement is still
  // connected: a statement run in a transaction (every one but the CONCURRENTLY forms, whose
  // work commits on its own) whose client is gone when its work ends is rolled back, as
  // PostgreSQL rolls back a transaction whose COMMIT never comes -- the live engine sends COMMIT
  // after the statement (real_backends/postgres.cc), and a killed engine never does.
  void ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence, const std::string& actor,
           Respond<Status> respond, std::function<bool()> client_alive = {});
  void backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence, const std::string& actor,
                Respond<Result<std::int64_t>> respond);
  void checksum(const BackfillBatch& window, Respond<Result<RangeChecksum>> respond);
  // `table` empty: the first table. REQUIRES: has_table(table).
  KeyRange key_range(const std::string& table = {}) const;
  std::vector<std::string> column_names(const std::string& table = {}) const { return this->table(table).live_column_names(); }
  bool has_table(const std::string& table) const;
  std::vector<std::string> table_names() const;
  // The first table's name: what a statement naming no table is about (it may have been dropped).
  const std::string& first_table_name() const { return first_table_; }
  // The checkpoint of key.migration; conflict when it was written for another table or plan.
  Result<Checkpoint> checkpoint(const CheckpointKey& key) const;
  Status write_checkpoint(const Checkpoint& checkpoint, const Fence& fence, const std::string& actor);
  // Stores `checkpoint` unfenced (a commit's own checkpoint, or one an earlier run left).
  void store_checkpoint(const Checkpoint& checkpoint);
  // A flag that is not dual_write: the flag row only, no lock.
  Status set_flag(const std::string& flag, bool on, const Fence& fence, const std::string& actor);
  // The dual_write step's transaction (the PostgreSQL backend's set_flag): the fence and the flag
  // row, then on each migrated table CREATE OR REPLACE TRIGGER (on: SHARE ROW EXCLUSIVE, which
  // writers wait for and readers pass) or DROP TRIGGER (off: ACCESS EXCLUSIVE), each in the
  // table's lock queue and held to the commit; the trigger is there from the commit.
  void set_dual_write(bool on, const Fence& fence, const std::string& actor, Respond<Status> respond);
  bool flag(const std::string& flag) const;
  TimeUs replication_lag() const;
  // WorldOptions::commit_flush: a commit's WAL waits for the WAL writer's next round, the rounds
  // high_us / 2 .. high_us apart (wal_writer_round).
  void set_commit_flush(DurationRange flush) { commit_flush_ = flush; }

  // The application's statements. `replica` 0 reads the primary, N the N-th replica. `waits`
  // (may be null) learns what the request waited on.
  void app_write(std::shared_ptr<const AppWrite> write, Respond<AppWriteResult> respond,
                 std::shared_ptr<MigrationWaits> waits = nullptr);
  void app_write(const AppWrite& write, Respond<AppWriteResult> respond, std::shared_ptr<MigrationWaits> waits = nullptr);
  void app_read(int replica, Respond<AppReadResult> respond, std::shared_ptr<MigrationWaits> waits = nullptr,
                const std::string& table = {});
  // A read of replica `replica` (1-based) that arrives at `arrives_us` (>= now), answered now,
  // in a world no fault can touch (sim/app.h, closed-form reads): what app_read would answer
  // then, and how long its statement takes. Its staleness is judged by the changes pending now
  // (each replays at a time already fixed); a change committed during the message's flight is
  // not seen. nullopt: app_read must answer it (no such table, or a host's processors decide
  // the statement's time).
  struct ReplicaReadQuote {
    AppReadResult result;
    TimeUs duration_us = 0;
  };
  std::optional<ReplicaReadQuote> replica_read_at(int replica, TimeUs arrives_us, const std::string& table);

  // A short statement on the app-database migration lock's row (sim/lock_store_app_database):
  // it queues for the migrated table's lock like any other statement, so it waits behind a
  // DDL that waits for its exclusive lock. `work` runs once granted; the lock is then released.
  void run_in_table_lock_queue(std::function<void()> work);

  // Faults.
  void hold_table_lock(TimeUs duration_us, const std::string& table = {});  // a long-running transaction
  void add_replication_lag(TimeUs extra_us, TimeUs until_us);
  // The same for one replica only (1-based): changes committed before `until_us` reach it
  // `extra_us` later. The larger of this and the database-wide lag applies.
  void add_replica_lag(int replica, TimeUs extra_us, TimeUs until_us);
  // A partition cuts the replica (1-based) off its primary until `until_us`: what is shipped
  // meanwhile reaches it no earlier than the heal (streaming replication is a TCP link like any
  // other: live, it passes the runner's proxy and the cut holds its WAL).
  void cut_replica(int replica, TimeUs until_us);
  // Global topology: each replica's extra one-way delay for changes shipped to it from another
  // region (drawn per change; an all-zero range = the same region, nothing drawn).
  // REQUIRES: one range per replica.
  void set_replica_transit(const std::vector<DurationRange>& transit);
  void on_crash();                                       // connections and locks are gone

  const std::string& region() const { return region_; }
  // The primary's copy of `table` (empty: the first). REQUIRES: has_table(table).
  const Table& table(const std::string& table = {}) const;
  int replica_count() const { return static_cast<int>(replicas_.size()); }
  TimeUs replica_lag(int replica) const;                 // 1-based
  TimeUs replica_lag_without_faults(int replica) const;  // the same without injected replication delays
  // Both at true time `at_us` >= now, from the changes pending now.
  TimeUs replica_lag_at(int replica, TimeUs at_us) const;
  TimeUs replica_lag_without_faults_at(int replica, TimeUs at_us) const;
  // A replica's copy of `table` (empty: the first): its image and catalog; an empty image and
  // an unknown catalog when the table has not reached it.
  TableImage replica_image(int replica, const std::string& table = {}) const;
  TableCatalog replica_catalog(int replica, const std::string& table = {}) const;
  std::int64_t rows_backfilled() const { return rows_backfilled_; }
  std::int64_t highest_token() const { return highest_token_; }
  TimeUs last_crash_us() const { return last_crash_us_; }  // -1 = never crashed

 private:
  // A replica's tables by name.
  using Tables = std::map<std::string, Table>;
  // What a change does at a replica: a function of its tables (DDL, a batch: shared by every
  // replica), or one row's committed version (the application's writes: no closure per write).
  struct ChangeBody {
    std::shared_ptr<const std::function<void(Tables&)>> apply;  // null: the row version below
    std::string table;  // the row version's table
    std::int64_t row_id = 0;
    Row version;
    void apply_to(Tables& tables) const;
  };
  struct Change {
    TimeUs commit_us;
    TimeUs shipped_us;  // when its WAL left the primary (commit_us + the commit flush delay)
    ChangeBody body;
    TimeUs apply_without_faults_us = 0;  // when it would apply without injected replication delays
    TimeUs apply_us = 0;                 // when it replays
    std::uint64_t sequence = 0;          // its replay's place among the events of apply_us (replayed)
  };
  struct Replica {
    Tables tables;
    std::deque<Change, PoolAllocator<Change>> pending;  // its chunks recycled (core/block_pool.h)
    TimeUs last_apply_us = 0;
    TimeUs last_apply_without_faults_us = 0;
    DurationRange transit{0, 0};  // cross-region shipping delay (global topology)
    TimeUs extra_lag_us = 0;      // a replication_lag fault on this replica alone
    TimeUs extra_lag_until_us = 0;
    TimeUs cut_until_us = 0;      // a partition from its primary (cut_replica)
  };
  // A backfill batch's rows: its UPDATE walks them in id order, locking row `low` at first_us
  // and each next one per_row_us later, and holds every lock it took until its commit (a row it
  // has not reached yet is not locked). A row it reaches while an application write holds it
  // (AppRowHold) stops the walk until that write commits, as PostgreSQL's UPDATE waits for the
  // transaction holding a row it meets: every later row comes `stalled_us` later, and a walk
  // that ends while such a write still holds its row commits after it.
  struct RowRange {
    std::uint64_t id;
    std::int64_t low;
    std::int64_t high;
    TimeUs first_us = 0;
    double per_row_us = 0;
    TimeUs stalled_us = 0;   // how long its walk waited on application writes' row locks so far
    TimeUs walked_us = -1;   // when its UPDATE's work ended (every row reached); -1 while it walks
    TimeUs commit_at_us = 0; // its commit, once no application write it reached holds its row
    Callback<void()> commit; // set while its finished UPDATE waits on an application write
    // When the walk reaches row `id` (the pace, delayed by the waits so far; at most its end).
    TimeUs reaches_us(std::int64_t id) const;
  };
  // A row an application write holds locked, from its statement's start to its commit.
  struct AppRowHold {
    std::uint64_t id;
    std::int64_t row;
    TimeUs since_us;
  };
  // One table of the primary: its rows, its lock queue, the row locks its backfill batches hold,
  // and the application's sessions' caches of it (PostgreSQL's relation cache is per relation).
  // An application write's work on a table, bound to its layout (apply_app_write): the column
  // each written value sets and each derived column's step. Valid while the table's layout, its
  // derived columns and the dual-write flag are those it was bound under.
  struct WriteBinding {
    std::uint64_t layout_version = 0;
    std::uint64_t derived_version = 0;
    bool dual_write = false;
    bool new_code = false;               // the write is the new code's, and that code is live
    std::vector<std::string> names;      // the written (logical) columns, in their order
    std::vector<int> sets;               // per name: the column it sets (0: none)
    struct Step {
      const DerivedColumn* derived = nullptr;
      const std::string* target = nullptr;  // the column the step sets
      int index = 0;                         // its column index
      bool computed = false;                 // new code computes `up` from what it writes ...
      std::vector<int> up_bound;             // ... (Table::bind_with)
      int down_index = 0;                    // ... and the trigger derives `down` into this (0: none)
    };
    std::vector<Step> steps;
    // The cells such a write sets, when none is set twice (the same for every such write).
    const WrittenColumns* written = nullptr;
  };
  struct TableState {
    Table data;
    TableLock lock;
    std::vector<RowRange> locked_rows;
    std::vector<AppRowHold> app_row_holds;  // rows the application's writes in flight hold
    std::vector<std::pair<std::int64_t, Callback<void()>>> row_waiters;
    std::vector<DerivedColumn> derived;  // the migration's columns derived on this table
    // The application's sessions (kAppConnections per kind) that have not run a statement on
    // it since a DDL changed it: each one's next statement pays catalog_reload_us.
    int stale_write_sessions = 0;
    int trigger_cold_sessions = 0;  // write sessions not through the trigger since it was created
    bool engine_trigger_cold = false;  // the engine's session has not fired the trigger since it was created
    int stale_read_sessions = 0;
    std::vector<const WrittenColumns*> written_columns;  // every set of written columns met on it
    // How the application's writes map onto the table, one per (layout, trigger, code path,
    // written names) met: bound on the first such write, not by name on every one.
    std::vector<std::unique_ptr<WriteBinding>> write_bindings;
    std::uint64_t derived_version = 0;  // changes with `derived`
    std::string ddl_in_queue;   // the latest DDL that asked for its lock ("ADD COLUMN x")
    int long_transactions = 0;  // long_transaction faults holding its lock now
  };
  // `table` (empty: the first); nullptr when the database has none of that name.
  TableState* find_state(const std::string& table);
  const TableState* find_state(const std::string& table) const;
  TableState& state(const std::string& table);

  bool admit(const Fence& fence, WriteKind kind, const std::string& actor, const std::string& detail,
             std::int64_t a = 0, std::int64_t b = 0);
  // When a statement began writing its rows, and where each replica's replay queue stood then
  // (with and without injected delays).
  struct StreamStart {
    TimeUs since_us = 0;
    std::vector<TimeUs> replayed_by_us;
    std::vector<TimeUs> replayed_without_faults_by_us;
  };
  StreamStart stream_start() const;
  // Ships a change of `rows` rows committed now to every replica. With `streamed` (a backfill
  // batch): a streaming replica replays a statement's WAL as the primary writes it, so the rows
  // replay from the statement's start (after what was queued then), not after the changes
  // committed while it ran; the change is visible once they are replayed and its commit and every
  // earlier one has been.
  void replicate(std::int64_t rows, const std::string& table, std::function<void(Table&)> apply,
                 const StreamStart* streamed = nullptr);
  // The same for a change to the replicas' set of tables.
  void replicate_tables(std::int64_t rows, std::function<void(Tables&)> apply, const StreamStart* streamed = nullptr);
  // One row's committed version (an application write), as replicate(1, table, ...) would ship it.
  void replicate_row(const std::string& table, std::int64_t row_id, Row version);
  void ship(std::int64_t rows, const ChangeBody& body, const StreamStart* streamed);
  TimeUs wal_writer_round(TimeUs now);
  // Many tables: CREATE TABLE (no lock: the relation is new), DROP TABLE and RENAME TO.
  void create_table(const DdlStatement& statement, const Fence& fence, const std::string& actor, const Respond<Status>& respond);
  Status change_table_set(TableState& table, const DdlStatement& statement);
  static std::string referenced_table(const Table& table, const std::string& constraint);
  // Runs `work` under the table lock in `mode` once granted, with the lock's id; `gave_up` when
  // `wait_limit_us` (0 = none) passed first. `work` must release the lock itself.
  void with_table_lock(TableState& table, LockMode mode, TimeUs wait_limit_us, Callback<void(std::uint64_t lock)> work,
                       Callback<void()> gave_up);
  // The mode a statement of `kind` takes on its table (core/statements.h).
  static LockMode statement_lock(StatementKind kind);
  // The CONCURRENTLY forms once their lock `lock` is granted: their waits for older
  // transactions around their work of `busy`; `finish` at the end, `gave_up` (holding the lock)
  // when a wait outlasted `wait_limit_us`.
  void run_concurrently(TableState& table, const DdlStatement& statement, std::uint64_t lock, TimeUs busy, TimeUs wait_limit_us,
                        std::function<void()> finish, std::function<void()> gave_up);
  // Runs `then` once every transaction holding the table lock now (but `self`) in a mode that
  // `matters` has released it -- at once when there is none; `gave_up` when `wait_limit_us`
  // (0 = none) passed first.
  void wait_for_older_transactions(TableState& table, std::uint64_t self, std::function<bool(LockMode)> matters, TimeUs wait_limit_us,
                                   std::function<void()> then, std::function<void()> gave_up);
  // A SQL file's statements run as written (core/sql_migration.h): one that locks no table, and a
  // BEGIN ... COMMIT block, whose steps take their locks in order and hold them to its end, and
  // whose effects apply all at commit or not at all.
  struct SqlTransaction;
  void catalog_statement(const DdlStatement& statement, const Fence& fence, const std::string& actor, const Respond<Status>& respond);
  void run_transaction(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence, const std::string& actor,
                       const Respond<Status>& respond, std::function<bool()> client_alive);
  void transaction_step(const std::shared_ptr<SqlTransaction>& transaction);
  void end_transaction(const std::shared_ptr<SqlTransaction>& transaction, Status status);
  // The steps' effects tried on copies of the tables: the first error, or ok.
  Status transaction_error(const DdlStatement& transaction) const;
  void apply_committed(const DdlStatement& step);
  // The rows a statement's work touches: a DML's id range, else every row.
  static std::int64_t work_rows(const DdlStatement& statement, const Table& table);
  void finish_ddl(TableState& table, const DdlStatement& statement, const Fence& fence, const std::string& actor, const Respond<Status>& respond,
                  std::uint64_t lock);
  void after_if_alive(TimeUs delay_us, Callback<void()> work);
  // Whether the engine that sent a statement is gone (client_alive says no) at its commit: then
  // answered as rolled back (the answer reaches no one) and true; the caller applies nothing.
  bool client_gone(const std::function<bool()>& client_alive, const Respond<Status>& respond);
  // A statement's work of `cost_us`: on the shared host when there is one (it takes longer
  // beside others), else after_if_alive(cost_us). `migration`: the engine's statement.
  void run_statement(TimeUs cost_us, Callback<void()> work, bool migration);
  void run_migration_statement(TimeUs cost_us, Callback<void()> work) { run_statement(cost_us, std::move(work), true); }
  // A backfill batch's UPDATE has walked its rows: `commit` runs once no application write it
  // reached still holds its row, after the time its walk waited on such rows.
  void finish_walk(TableState& table, std::uint64_t range_id, Callback<void()> commit);
  // An application write's row lock, taken and released (released: a batch that reached the row
  // while it was held waited until now).
  std::uint64_t hold_app_row(TableState& table, std::int64_t row);
  void release_app_row(TableState& table, std::uint64_t hold_id);
  bool walk_blocked(const TableState& table, const RowRange& range) const;
  // An application request's statement: on a shared host while a migration statement runs, it
  // first waits for a processor (a draw of CostProfile::busy_host_wait), then runs.
  void run_app_statement(TimeUs cost_us, Callback<void()> work);
  // Takes the table lock of an application statement of `kind` (a SELECT: ACCESS SHARE; an
  // UPDATE or INSERT: ROW EXCLUSIVE), noting in `waits` a wait behind the migration's DDL.
  void app_table_lock(TableState& table, StatementKind kind, Callback<void(std::uint64_t lock)> work,
                      const std::shared_ptr<MigrationWaits>& waits);
  // What a statement asking for `mode` now waits on ("" = nothing): the migration's DDL holding
  // or queued for a mode that conflicts with it.
  std::string table_lock_obstruction(const TableState& table, LockMode mode) const;
  bool trigger_installed(const TableState& table) const;
  struct DualWriteStep;
  // Takes the next table's trigger lock of `step` (its statement's cost once granted), or, all
  // held, commits: the flag set, the locks released.
  void dual_write_step(const std::shared_ptr<DualWriteStep>& step);
  TimeUs app_write_cost_us(const TableState& table, const AppWrite& write) const;
  bool row_locked(const TableState& table, std::int64_t id) const;
  // A DDL changed the table: every application session reloads it on its next statement.
  static void invalidate_sessions(TableState& table);
  // catalog_reload_us if one of `stale_sessions` is left (and it is no longer), else 0.
  TimeUs reload_cost(int& stale_sessions);
  // A write's session cost: trigger_first_call_us on a session's first write through a new
  // trigger, else reload_cost.
  TimeUs write_session_cost(TableState& table);
  void release_rows(TableState& table, std::uint64_t range_id);
  void apply_app_write(TableState& table, const AppWrite& write, AppWriteResult& result);
  WriteBinding& write_binding(TableState& table, const AppWrite& write, bool dual_write, bool new_code);
  // The cells an application write set (name, column index), without an allocation.
  struct SetCells {
    std::array<std::pair<std::string_view, int>, 16> cells;
    std::size_t size = 0;
    bool contains(int index) const {
      return std::any_of(cells.begin(), cells.begin() + size, [index](const auto& cell) { return cell.second == index; });
    }
    bool add(std::string_view name, int index) {  // false when full
      if (size == cells.size()) return false;
      cells[size++] = {name, index};
      return true;
    }
  };
  // The shared WrittenColumns equal to `cells` (sorted here into name order), made when none is.
  const WrittenColumns* written_columns(TableState& table, SetCells& cells);
  void commit_backfill(TableState& table, const BackfillBatch& batch, const Checkpoint& then, const Fence& fence, const std::string& actor,
                       const Respond<Result<std::int64_t>>& respond, const StreamStart& streamed);
  const Table& source_table(const TableState& table, BackfillSource source) const;
  static bool reads_live_columns(const Table& table, const Expr& expr);

  Kernel& kernel_;
  Node& node_;
  std::string region_;
  WriteSink sink_;
  Rng rng_;
  DurationRange replication_lag_;
  DurationRange commit_flush_{0, 0};
  TimeUs next_wal_round_us_ = 0;  // the WAL writer's next round (wal_writer_round)
  std::map<std::string, TableState> tables_;  // the primary's tables by name
  // The table find_state found last, by name (every application request asks for its table):
  // forgotten when a table leaves tables_ (change_table_set). Never an ordering key.
  mutable std::string found_name_;
  mutable TableState* found_state_ = nullptr;
  mutable bool found_first_ = false;  // found_name_ is first_table_ (both change only with found_state_ reset)
  std::string first_table_;                    // the table a statement naming none is about
  std::vector<std::map<std::string, TableState>::node_type> dropped_tables_;  // DROP TABLE: kept alive
  // Replays cost no event: a change's place in the order of events is reserved when it ships,
  // and it is applied where that event would have run (Kernel::has_run), by replayed(), which
  // everything that reads a replica's tables or queue calls first. Changes replay in the order
  // they shipped (apply_us never goes backwards along a queue). Mutable: what has replayed by
  // now is the replica's state whoever asks, a const reader included.
  mutable std::vector<Replica> replicas_;
  // Applies the changes of `replica` whose replay would have run by now.
  Replica& replayed(std::size_t replica) const;
  CpuHost* cpu_host_ = nullptr;
  CostProfile costs_ = builtin_cost_profile();
  std::map<std::string, Checkpoint> checkpoints_;
  std::map<std::string, bool> flags_;
  bool dual_write_ = false;  // flags_'s two the application's writes read, kept apart
  bool read_new_ = false;
  std::int64_t highest_token_ = 0;
  std::int64_t rows_backfilled_ = 0;
  std::uint64_t commit_order_ = 0;
  std::deque<WrittenColumns> written_columns_;  // what TableState::written_columns points to
  std::uint64_t next_range_id_ = 1;
  std::uint64_t next_hold_id_ = 1;
  TimeUs extra_lag_us_ = 0;
  TimeUs extra_lag_until_us_ = 0;
  bool ignore_tokens_ = false;
  TimeUs last_crash_us_ = -1;
};

// Draws a value for a column from its `gen` rule (ranges, email, one_of(...), uuid); `form` is
// parse_gen(column.gen), read once per column by callers that draw many values. A text goes to
// `texts` when given (as generate_table's).
Value generate_value(const ColumnSpec& column, const GenForm& form, Rng& rng, TextArena* texts = nullptr);

// The keys PostgreSQL keeps unique in `spec`: of each unique index without a predicate, UNIQUE
// constraint and the primary key (the implicit `id` aside). generate_table draws its rows so
// that no two share a key: a table PostgreSQL holds never breaks its unique indexes.
std::vector<std::vector<std::string>> unique_keys(const TableSpec& spec);
// The columns that are a unique key alone. An application's text written to one is a new value
// (AppServer appends its name and a count), not a collision PostgreSQL would refuse.
std::vector<std::string> unique_columns(const TableSpec& spec);

// `value` drawn for a unique column, made distinct by `tag` (a text gets "-tag"; an integer
// 2,000,000,000 + tag); other kinds and NULL stay as drawn.
Value made_distinct(const Value& value, std::int64_t tag);

}  // namespace rehearse::sim
