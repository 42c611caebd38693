// One region's PostgreSQL primary (and its replicas) behind the RegionDatabase port: DDL under
// lock_timeout, fenced backfill batches with the checkpoint in the same transaction, checksums
// as SQL aggregates, replication lag from pg_stat_replication, the dual-write trigger, flags,
// and the helpers the live runner needs (schema bootstrap, --prepare, table snapshots).
// Each instance owns its connections and is used by one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/observations.h"
#include "core/plan.h"
#include "core/ports.h"
#include "real_backends/live_ports.h"
#include "real_backends/replica_lag.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#include <pqxx/pqxx>
#pragma GCC diagnostic pop

namespace rehearse::live {

// A connection string with every password=... value replaced by "***".
std::string redact(const std::string& connection_string);

// A failed statement as a Status: lock and statement timeouts, serialization failures and
// deadlocks are timeouts; a lost connection (SQLSTATE classes 08 and 57P) is unavailable and
// sets *lost (the caller reconnects); the rest is invalid. `message` is the Status's text.
Status sql_error_status(const pqxx::sql_error& error, const std::string& message, bool* lost);

struct RegionEndpoints {
  std::string name;
  std::string primary;                // libpq connection string
  std::vector<std::string> replicas;  // libpq connection strings
};

// A lazily (re)connected libpq connection.
class PostgresConnection {
 public:
  explicit PostgresConnection(std::string connection_string);
  ~PostgresConnection();
  // The connection, connecting first when needed. Throws pqxx::broken_connection.
  pqxx::connection& get();
  void reset();
  const std::string& connection_string() const { return connection_string_; }

 private:
  std::string connection_string_;
  std::unique_ptr<pqxx::connection> connection_;
};

class PostgresRegionDatabase final : public RegionDatabase {
 public:
  // `actor` names the engine instance in write events; `plan` gives the dual-write trigger;
  // a statement whose reply has not come `reply_timeout_us` after it was sent fails as a timeout
  // (ReplyDeadline: a partition ends it instead of holding the engine until the heal).
  PostgresRegionDatabase(RegionEndpoints endpoints, std::string actor, const MigrationPlan& plan, LiveHistory& history,
                         const StopSignal& stop, TimeUs reply_timeout_us);
  ~PostgresRegionDatabase() override;
  const std::string& region() const override { return endpoints_.name; }
  Status execute_ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) override;
  Result<std::int64_t> backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence) override;
  Result<RangeChecksum> checksum(const BackfillBatch& range, BackfillSource source) override;
  Result<KeyRange> key_range(const std::string& table) override;
  Result<std::vector<std::string>> columns(const std::string& table) override;
  Result<Checkpoint> read_checkpoint(const CheckpointKey& key) override;
  Status write_checkpoint(const Checkpoint& checkpoint, const Fence& fence) override;
  Result<TimeUs> replication_lag() override;
  // The flag (and, for dual_write, the trigger) under the fence.
  Status set_flag(const std::string& flag, bool on, const Fence& fence);
  Result<bool> get_flag(const std::string& flag);

 private:
  template <typename Work>
  Status guarded(const char* what, Work&& work);
  Status outside_transaction(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence);
  void record_write(bool applied, WriteKind kind, const Fence& fence, const std::string& detail, std::int64_t a = 0,
                    std::int64_t b = 0);
  void sample_flushes();

  RegionEndpoints endpoints_;
  std::string actor_;
  const MigrationPlan& plan_;
  LiveHistory& history_;
  const StopSignal& stop_;
  TimeUs reply_timeout_us_;
  PostgresConnection primary_;
  // replication_lag asks the region's replicas their replay position and times it against the
  // primary's flushes (real_backends/replica_lag.h), recorded from the first batch on.
  std::vector<std::unique_ptr<PostgresConnection>> replicas_;
  std::unique_ptr<FlushSampler> flushes_;
};

// Routes flags to the region's database of the same engine instance.
class PostgresFlagStore final : public FlagStore {
 public:
  explicit PostgresFlagStore(std::function<PostgresRegionDatabase&(const std::string&)> database)
      : database_(std::move(database)) {}
  Status set_flag(const std::string& region, const std::string& flag, bool on, const Fence& fence) override;
  Result<bool> get_flag(const std::string& region, const std::string& flag) override;

 private:
  std::function<PostgresRegionDatabase&(const std::string&)> database_;
};

// Creates rehearse_checkpoint, rehearse_fence and rehearse_flag when absent, and adds the key
// columns (tables, plan_digest, state_since) to a rehearse_checkpoint of an older rehearse.
// Throws pqxx errors.
void bootstrap_schema(pqxx::connection& connection);
// One backfill batch's transaction as the engine runs it (PostgresRegionDatabase::backfill): the
// fence of `migration`, the dual-write trigger stood aside (rehearse.backfill), `table`'s live
// columns, `updates` (the batch's UPDATEs given those columns; returns the rows they changed),
// and the checkpoint `saved`. Committed when the fence and the checkpoint passed, rolled back
// otherwise. `rehearse calibrate` times it with UPDATEs that touch no row (batch_overhead_us).
// Throws pqxx errors.
struct BatchTransaction {
  enum class Outcome { committed, fenced_off, checkpoint_refused };
  Outcome outcome = Outcome::committed;
  std::int64_t seq = 0;      // the fence's write sequence (0: fenced off)
  std::int64_t updated = 0;  // rows the UPDATEs changed
};
BatchTransaction run_batch_transaction(
    pqxx::connection& connection, const std::string& migration, const Fence& fence, const std::string& table,
    const Checkpoint& saved, const std::function<std::int64_t(pqxx::work&, const std::vector<std::string>&)>& updates);
// The checkpoint row of `migration` as stored, whatever table or plan it is for (key.tables /
// key.plan_digest empty for a row of an older rehearse; exists = false when there is none).
Checkpoint read_checkpoint_row(pqxx::connection& connection, const std::string& migration);
// The table's catalog: columns (information_schema: type, NOT NULL) and indexes (pg_indexes).
TableCatalog read_catalog(pqxx::connection& connection, const std::string& table);
// Whether `table` exists.
bool table_exists(pqxx::connection& connection, const std::string& table);
// CREATE TABLE and fill it with `rows` rows drawn from the columns' generators (--prepare).
void prepare_table(pqxx::connection& connection, const TableSpec& table);
// The SQL expression drawing one value of `column` from its gen and null share, as --prepare
// fills a table (INSERT ... SELECT over generate_series; random() after setseed).
std::string column_generator_sql(pqxx::connection& connection, const ColumnSpec& column);
// Creates `table` holding exactly `rows` (an image with `id` and the table's columns, e.g. the
// simulator's generated table) and sets `comment` as its COMMENT (rehearse conform's mark).
void create_table_with_rows(pqxx::connection& connection, const TableSpec& table, const TableImage& rows, const std::string& comment);
// The table's COMMENT, or nullopt when it has none (or does not exist).
std::optional<std::string> table_comment(pqxx::connection& connection, const std::string& table);
// The SQL type of a column type: its name, to_string(type) (core/model.h).
const char* sql_type(ColumnType type);
// Every row of `table` (ordered by id), converted to Values by the columns' SQL types.
TableImage snapshot_table(pqxx::connection& connection, const std::string& table);
// Flushes the primary's WAL (commits made with synchronous_commit = off included); call once
// before waiting with replica_behind_bytes.
void flush_wal(pqxx::connection& primary);
// The WAL written (primary, pg_current_wal_lsn) minus replayed (replica), in bytes.
std::int64_t replica_behind_bytes(pqxx::connection& primary, pqxx::connection& replica);
// The SQL literal of a value with its type cast, e.g. '12.50'::numeric.
std::string sql_literal(pqxx::connection& connection, const Value& value, ColumnType type);
// The query listing `table`'s columns (in the current schema) in their order, from pg_attribute:
// information_schema.columns took 5 ms a call here, which the engine paid per batch and the
// live application per write (conform counted it as the database's latency).
std::string live_columns_sql(pqxx::transaction_base& tx, const std::string& table);
// The quoted trigger SQL: CREATE FUNCTION + CREATE TRIGGER for the plan's derived columns.
std::vector<std::string> dual_write_trigger_sql(pqxx::connection& connection, const MigrationPlan& plan,
                                                const std::vector<std::string>& live_columns);

}  // namespace rehearse::live
