// PostgreSQL behind the RegionDatabase port (libpqxx 6.4), mirroring sim/database.cc in SQL.
#include "real_backends/postgres.h"

#include <algorithm>
#include <charconv>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/statements.h"
#include "real_backends/reply_deadline.h"

namespace rehearse::live {

namespace {

constexpr const char* kTriggerName = "rehearse_dual_write";
constexpr const char* kConnectTimeout = " connect_timeout=3";

std::string quoted(pqxx::connection& connection, const std::string& name) { return connection.quote_name(name); }

std::string expression_sql(pqxx::connection& connection, const Expr& expr, const std::string& prefix = "") {
  return to_sql(expr, [&](const std::string& column) { return prefix + quoted(connection, column); });
}

std::string limit_ms(TimeUs us) { return fmt::format("'{}ms'", us <= 0 ? 0 : std::max<TimeUs>(us / kMs, 1)); }

bool has_all(const std::vector<std::string>& live, const std::vector<std::string>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& c) { return std::find(live.begin(), live.end(), c) != live.end(); });
}

bool contains(const std::vector<std::string>& live, const std::string& column) {
  return std::find(live.begin(), live.end(), column) != live.end();
}

}  // namespace

std::string live_columns_sql(pqxx::transaction_base& tx, const std::string& table) {
  return "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(format('%I.%I', current_schema(), " + tx.quote(table) +
         ")) AND attnum > 0 AND NOT attisdropped ORDER BY attnum";
}

namespace {

std::vector<std::string> live_columns(pqxx::transaction_base& tx, const std::string& table) {
  const pqxx::result rows = tx.exec(live_columns_sql(tx, table));
  std::vector<std::string> names;
  for (const auto& row : rows) names.push_back(row[0].c_str());
  return names;
}

// The fence row: every protected transaction takes it first and bumps its `writes` counter,
// so the counter is the commit order of the migration's writes in this database (the row lock
// is held until commit). Under storage fencing it also moves `token` to ours unless a larger
// one was seen. Returns the counter, or 0 when the fence refused us.
std::int64_t pass_fence(pqxx::transaction_base& tx, const std::string& migration, const Fence& fence) {
  tx.exec("INSERT INTO rehearse_fence (migration, token) VALUES (" + tx.quote(migration) + ", 0) ON CONFLICT DO NOTHING");
  const std::string sql = fence.enforce
      ? fmt::format("UPDATE rehearse_fence SET token = {0}, writes = writes + 1 WHERE migration = {1} AND token <= {0} RETURNING writes",
                    fence.token, tx.quote(migration))
      : fmt::format("UPDATE rehearse_fence SET writes = writes + 1 WHERE migration = {} RETURNING writes", tx.quote(migration));
  const pqxx::result updated = tx.exec(sql);
  return updated.empty() ? 0 : updated[0][0].as<std::int64_t>();
}

// Writes the checkpoint of checkpoint.key.migration; false (nothing written) when the row there
// belongs to another table or plan digest: a checkpoint never overwrites another plan's.
// `state_since` moves only when the state does.
bool upsert_checkpoint(pqxx::transaction_base& tx, const Checkpoint& checkpoint) {
  const CheckpointKey& key = checkpoint.key;
  const pqxx::result written = tx.exec(fmt::format(
      "INSERT INTO rehearse_checkpoint (migration, state, next_id, token, validated_token, contract_started, tables, "
      "plan_digest, state_since) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, now()) ON CONFLICT (migration) DO UPDATE SET "
      "state = EXCLUDED.state, next_id = EXCLUDED.next_id, token = EXCLUDED.token, "
      "validated_token = EXCLUDED.validated_token, contract_started = EXCLUDED.contract_started, "
      "state_since = CASE WHEN rehearse_checkpoint.state = EXCLUDED.state THEN rehearse_checkpoint.state_since ELSE now() END "
      "WHERE rehearse_checkpoint.tables = EXCLUDED.tables AND rehearse_checkpoint.plan_digest = EXCLUDED.plan_digest",
      tx.quote(key.migration), tx.quote(checkpoint.state), checkpoint.next_id, checkpoint.token,
      checkpoint.validated_token, checkpoint.contract_started ? "true" : "false", tx.quote(key.tables),
      tx.quote(key.plan_digest)));
  return written.affected_rows() == 1;
}

// The statement model's SQL (core/statements.h), identifiers quoted by the server's rules.
std::string ddl_sql(pqxx::connection& connection, const DdlStatement& statement) {
  return statement_sql(statement, [&connection](const std::string& name) { return quoted(connection, name); });
}

bool constraint_exists(pqxx::transaction_base& tx, const std::string& table, const std::string& name) {
  return !tx.exec(fmt::format("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass({}) AND conname = {}", tx.quote(table),
                              tx.quote(name)))
              .empty();
}

bool table_exists(pqxx::transaction_base& tx, const std::string& table) {
  return tx.exec1(fmt::format("SELECT to_regclass({}) IS NOT NULL", tx.quote(table)))[0].as<bool>();
}

// Whether the statement has nothing left to do: a rename that already happened, a constraint
// already added (PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS), after a crash and a re-run.
bool already_done(pqxx::transaction_base& tx, const DdlStatement& statement) {
  if (statement.as_written) return false;  // a SQL file's statement meets what is there as PostgreSQL does
  switch (statement.kind) {
    case DdlStatement::Kind::rename_column: {
      const auto columns = live_columns(tx, statement.table);
      return !contains(columns, statement.column) && contains(columns, statement.to);
    }
    case DdlStatement::Kind::add_check:
    case DdlStatement::Kind::add_foreign_key:
    case DdlStatement::Kind::add_unique_using_index: return constraint_exists(tx, statement.table, statement.constraint);
    case DdlStatement::Kind::rename_constraint:
      return !constraint_exists(tx, statement.table, statement.constraint) && constraint_exists(tx, statement.table, statement.to);
    case DdlStatement::Kind::rename_table: return !table_exists(tx, statement.table) && table_exists(tx, statement.to);
    default: return false;
  }
}

std::string generator_sql(pqxx::connection& connection, const ColumnSpec& column);

std::string range_generator(const ColumnSpec& column, std::int64_t low, std::int64_t high) {
  const std::string draw = fmt::format("({} + floor(random() * {})::bigint)", low, high - low + 1);
  switch (column.type) {
    case ColumnType::numeric:
      return fmt::format("round(({} + random() * {})::numeric, {})", low, high - low, column.scale);
    case ColumnType::text: return draw + "::text";
    case ColumnType::timestamp: return fmt::format("to_timestamp({})::timestamp", draw);
    default: return draw;
  }
}

std::string default_generator(const ColumnSpec& column) {
  switch (column.type) {
    case ColumnType::bigint:
    case ColumnType::integer: return "floor(random() * 1000001)::bigint";
    case ColumnType::numeric: return fmt::format("round((random() * 1000)::numeric, {})", column.scale);
    case ColumnType::boolean: return "(random() < 0.5)";
    case ColumnType::timestamp: return "timestamp '2024-01-01' + floor(random() * 31536000) * interval '1 second'";
    case ColumnType::text: return "'item-' || floor(random() * 1000000)::bigint::text";
  }
  return "NULL";
}

std::string choice_generator(pqxx::connection& connection, const ColumnSpec& column, const std::string& inside) {
  std::vector<std::string> choices;
  std::string current;
  for (char c : inside + ",") {
    if (c == ',') {
      choices.push_back(connection.quote(current));
      current.clear();
    } else if (c != ' ') {
      current += c;
    }
  }
  return fmt::format("(ARRAY[{}])[1 + floor(random() * {})::int]::{}", fmt::join(choices, ", "), choices.size(),
                     sql_type(column.type));
}

std::string generator_sql(pqxx::connection& connection, const ColumnSpec& column) {
  const std::string& gen = column.gen;
  std::string value = default_generator(column);
  static const std::regex kRange(R"(^(-?\d+)\.\.(-?\d+)$)");
  std::smatch match;
  if (std::regex_match(gen, match, kRange)) {
    value = range_generator(column, std::stoll(match[1]), std::stoll(match[2]));
  } else if (gen == "email") {
    value = "'User' || (1 + floor(random() * 999999))::bigint::text || '@' || "
            "(ARRAY['example.com', 'Example.org', 'MAIL.test'])[1 + floor(random() * 3)::int]";
  } else if (gen == "uuid") {
    value = "gen_random_uuid()::text";
  } else if (gen.rfind("one_of(", 0) == 0 && gen.back() == ')') {
    value = choice_generator(connection, column, gen.substr(7, gen.size() - 8));
  }
  if (column.nullable <= 0) return value;
  return fmt::format("CASE WHEN random() < {} THEN NULL ELSE {} END", column.nullable, value);
}

Value parse_cell(const pqxx::field& field, const std::string& type) {
  if (field.is_null()) return Value::null();
  const std::string text = field.c_str();
  if (type == "bigint" || type == "integer" || type == "smallint") return Value::integer(field.as<std::int64_t>());
  if (type == "numeric") {
    auto parsed = decimal::parse(text);
    return parsed ? Value::numeric(*parsed) : Value::text(text);
  }
  if (type == "boolean") return Value::boolean(text == "t");
  if (type.rfind("timestamp", 0) == 0) {
    auto parsed = parse_timestamp(text);
    return parsed ? Value::timestamp(*parsed) : Value::text(text);
  }
  return Value::text(text);
}

}  // namespace

std::string column_generator_sql(pqxx::connection& connection, const ColumnSpec& column) {
  return generator_sql(connection, column);
}

std::string redact(const std::string& connection_string) {
  static const std::regex kPassword(R"((password\s*=\s*)('[^']*'|\S+))", std::regex::icase);
  static const std::regex kUrlPassword(R"((://[^:/@\s]+:)[^@\s]+@)");
  return std::regex_replace(std::regex_replace(connection_string, kPassword, "$1***"), kUrlPassword, "$1***@");
}

const char* sql_type(ColumnType type) { return to_string(type); }

Status sql_error_status(const pqxx::sql_error& error, const std::string& message, bool* lost) {
  const std::string state = error.sqlstate();
  *lost = false;
  if (state == "55P03" || state == "57014" || state == "40001" || state == "40P01") return Status::timeout(message);
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {
    *lost = true;
    return Status::unavailable(message);
  }
  return Status::invalid(message);
}

PostgresConnection::PostgresConnection(std::string connection_string) : connection_string_(std::move(connection_string)) {
  // An empty string would connect to libpq's default server: some other database than the
  // config's (a global topology's region without a primary has none to hand out).
  REHEARSE_ASSERT(!connection_string_.empty());
}
PostgresConnection::~PostgresConnection() = default;

pqxx::connection& PostgresConnection::get() {
  if (!connection_ || !connection_->is_open()) connection_ = std::make_unique<pqxx::connection>(connection_string_ + kConnectTimeout);
  return *connection_;
}

void PostgresConnection::reset() { connection_.reset(); }

PostgresRegionDatabase::PostgresRegionDatabase(RegionEndpoints endpoints, std::string actor, const MigrationPlan& plan,
                                               LiveHistory& history, const StopSignal& stop, TimeUs reply_timeout_us)
    : endpoints_(std::move(endpoints)),
      actor_(std::move(actor)),
      plan_(plan),
      history_(history),
      stop_(stop),
      reply_timeout_us_(reply_timeout_us),
      primary_(endpoints_.primary) {
  REHEARSE_ASSERT(reply_timeout_us_ > 0);
  for (const std::string& replica : endpoints_.replicas) replicas_.push_back(std::make_unique<PostgresConnection>(replica));
}

PostgresRegionDatabase::~PostgresRegionDatabase() = default;

// Runs `work` and maps libpq failures to Status values: lock and statement timeouts and
// serialization failures are timeouts, and so is a reply that did not come within the reply
// timeout (the deadline closed the connection); lost connections are unavailable; the rest invalid.
template <typename Work>
Status PostgresRegionDatabase::guarded(const char* what, Work&& work) {
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  sample_flushes();
  std::optional<ReplyDeadline> deadline;
  try {
    pqxx::connection& connection = primary_.get();
    deadline.emplace(connection.sock(), reply_timeout_us_);
    return work(connection);
  } catch (const pqxx::broken_connection& error) {
    const bool expired = deadline && deadline->expired();
    deadline.reset();
    primary_.reset();
    if (expired) {
      return Status::timeout(fmt::format("{}: no reply from db:{} within {}: the connection was closed", what,
                                         endpoints_.name, duration_text(reply_timeout_us_, DurationStyle::compound)));
    }
    return Status::unavailable(fmt::format("{}: db:{} unreachable", what, endpoints_.name));
  } catch (const pqxx::in_doubt_error& error) {
    primary_.reset();
    return Status::timeout(fmt::format("{}: commit in doubt", what));
  } catch (const pqxx::sql_error& error) {
    bool lost = false;
    Status status = sql_error_status(error, fmt::format("{}: {}", what, error.what()), &lost);
    if (lost) primary_.reset();
    return status;
  } catch (const std::exception& error) {
    primary_.reset();
    return Status::unavailable(fmt::format("{}: {}", what, error.what()));
  }
}

void PostgresRegionDatabase::record_write(bool applied, WriteKind kind, const Fence& fence, const std::string& detail,
                                          std::int64_t a, std::int64_t b) {
  history_.append(Event{.node = "db:" + endpoints_.name, .kind = EventKind::write,
                        .outcome = applied ? Outcome::applied : Outcome::rejected, .write = kind, .token = fence.token,
                        .actor = actor_, .region = endpoints_.name, .detail = detail, .a = a, .b = b});
}

namespace {

// The engine's schema changes commit synchronously whatever the server's synchronous_commit. A
// standby replays a change's ACCESS EXCLUSIVE lock when the WAL holding it arrives and holds it,
// blocking its readers of the table, until it replays the commit. With synchronous_commit = off
// the commit's WAL leaves at a later WAL writer round (up to 3 x wal_writer_delay) when the
// lock's page was flushed earlier, the likely reason conform's (a) once saw three replica reads
// wait until one instant, 64 ms, behind an ADD COLUMN that had committed on the primary 10 ms
// before the first was sent. A synchronous commit flushes the lock and the commit together.
void commit_at_once(pqxx::work& tx) { tx.exec("SET LOCAL synchronous_commit = on"); }

}  // namespace

Status PostgresRegionDatabase::execute_ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) {
  pause_point();  // a requested pause lands here: after the lease check, before the write
  // CREATE / DROP INDEX CONCURRENTLY cannot run inside a transaction block.
  if (!statement_model(statement_kind(statement)).in_transaction) return outside_transaction(statement, limits, fence);
  const std::string detail = fmt::format("{}: {} {}{}", statement.purpose, to_string(statement.kind), statement.column,
                                         statement.to.empty() ? "" : " to " + statement.to);
  return guarded("ddl", [&](pqxx::connection& connection) {
    pqxx::work tx(connection);
    commit_at_once(tx);
    tx.exec("SET LOCAL lock_timeout = " + limit_ms(limits.lock_timeout_us));
    tx.exec("SET LOCAL statement_timeout = " + limit_ms(limits.statement_timeout_us));
    const std::int64_t seq = pass_fence(tx, plan_.name, fence);
    if (seq == 0) {
      tx.abort();
      record_write(false, WriteKind::ddl, fence, detail);
      return Status::stale_token(fmt::format("token {} is older than the fence", fence.token));
    }
    // The trigger reads columns that contract/rollback drop: rebuilt over what is left.
    const bool had_trigger = statement.purpose != "expand" && !tx.exec(fmt::format(
        "SELECT 1 FROM pg_trigger WHERE tgname = {} AND tgrelid = to_regclass({})", tx.quote(kTriggerName),
        tx.quote(quoted(connection, statement.table)))).empty();
    if (had_trigger) tx.exec(fmt::format("DROP TRIGGER IF EXISTS {} ON {}", kTriggerName, quoted(connection, statement.table)));
    if (!already_done(tx, statement)) tx.exec(ddl_sql(connection, statement));
    if (had_trigger && statement.purpose == "contract") {
      for (const std::string& sql : dual_write_trigger_sql(connection, plan_, live_columns(tx, statement.table))) tx.exec(sql);
    }
    tx.commit();
    history_.append(Event{.node = "db:" + endpoints_.name, .kind = EventKind::write, .outcome = Outcome::applied,
                    .write = WriteKind::ddl, .token = fence.token, .actor = actor_,
                    .region = endpoints_.name, .detail = detail}, seq);
    return Status::ok();
  });
}

// A statement the model says cannot run in a transaction (CREATE / DROP INDEX CONCURRENTLY):
// the fence is checked (and committed) first, then the statement runs on the same session under
// the limits.
Status PostgresRegionDatabase::outside_transaction(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) {
  const std::string detail = fmt::format("{}: {} {}", statement.purpose, to_string(statement.kind), statement.column);
  return guarded(to_string(statement.kind), [&](pqxx::connection& connection) {
    std::int64_t seq = 0;
    {
      pqxx::work tx(connection);
      seq = pass_fence(tx, plan_.name, fence);
      if (seq == 0) {
        tx.abort();
        record_write(false, WriteKind::ddl, fence, detail);
        return Status::stale_token(fmt::format("token {} is older than the fence", fence.token));
      }
      tx.commit();
    }
    pqxx::nontransaction session(connection);
    session.exec("SET lock_timeout = " + limit_ms(limits.lock_timeout_us));
    session.exec("SET statement_timeout = " + limit_ms(limits.statement_timeout_us));
    session.exec("SET synchronous_commit = on");  // as commit_at_once
    session.exec(ddl_sql(connection, statement));
    session.exec("RESET lock_timeout");
    session.exec("RESET statement_timeout");
    session.exec("RESET synchronous_commit");
    history_.append(Event{.node = "db:" + endpoints_.name, .kind = EventKind::write, .outcome = Outcome::applied,
                          .write = WriteKind::ddl, .token = fence.token, .actor = actor_, .region = endpoints_.name,
                          .detail = detail}, seq);
    return Status::ok();
  });
}

Result<std::int64_t> PostgresRegionDatabase::backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence) {
  pause_point();  // a requested pause lands here: after the lease check, before the write
  std::int64_t updated = 0;
  const std::string detail = fmt::format("backfill ids {}..{}", batch.low_id, batch.high_id);
  Status status = guarded("backfill", [&](pqxx::connection& connection) {
    Checkpoint saved = then;
    saved.key = checkpoint_key(plan_);
    const BatchTransaction done = run_batch_transaction(
        connection, plan_.name, fence, batch.table, saved, [&](pqxx::work& tx, const std::vector<std::string>& columns) {
          std::int64_t rows = 0;
          for (const ColumnFill& fill : batch.fills) {
            if (!contains(columns, fill.column) || !has_all(columns, fill.up.columns())) continue;
            const std::string target = quoted(connection, fill.column);
            const std::string up = expression_sql(connection, fill.up);
            const std::string condition = batch.overwrite ? fmt::format("{} IS DISTINCT FROM ({})", target, up) : target + " IS NULL";
            rows += tx.exec(fmt::format("UPDATE {} SET {} = ({}) WHERE id BETWEEN {} AND {} AND {}", quoted(connection, batch.table),
                                        target, up, batch.low_id, batch.high_id, condition))
                        .affected_rows();
          }
          return rows;
        });
    switch (done.outcome) {
      case BatchTransaction::Outcome::fenced_off:
        record_write(false, WriteKind::backfill, fence, detail, batch.low_id, batch.high_id);
        return Status::stale_token(fmt::format("token {} is older than the fence", fence.token));
      case BatchTransaction::Outcome::checkpoint_refused:
        return Status::conflict(checkpoint_conflict(saved.key, read_checkpoint_row(connection, saved.key.migration).key));
      case BatchTransaction::Outcome::committed:
        break;
    }
    updated = done.updated;
    history_.append(Event{.node = "db:" + endpoints_.name, .kind = EventKind::write, .outcome = Outcome::applied,
                    .write = WriteKind::backfill, .token = fence.token, .actor = actor_,
                    .region = endpoints_.name, .detail = detail, .a = batch.low_id, .b = batch.high_id}, done.seq, updated);
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  return updated;
}

Result<RangeChecksum> PostgresRegionDatabase::checksum(const BackfillBatch& range, BackfillSource /*source*/) {
  RangeChecksum sums;
  Status status = guarded("checksum", [&](pqxx::connection& connection) {
    pqxx::read_transaction tx(connection);
    const auto columns = live_columns(tx, range.table);
    std::vector<std::string> mismatch, expected, actual, nulls;
    for (const ColumnFill& fill : range.fills) {
      if (!contains(columns, fill.column) || !has_all(columns, fill.up.columns())) continue;
      const std::string target = quoted(connection, fill.column);
      const std::string up = expression_sql(connection, fill.up);
      mismatch.push_back(fmt::format("({} IS DISTINCT FROM ({}))", target, up));
      expected.push_back(fmt::format("hashtext(coalesce(({})::text, '<null>'))::bigint", up));
      actual.push_back(fmt::format("hashtext(coalesce({}::text, '<null>'))::bigint", target));
    }
    for (const auto& column : range.not_null) {
      if (contains(columns, column)) nulls.push_back(quoted(connection, column) + " IS NULL");
    }
    auto any = [](const std::vector<std::string>& terms) { return terms.empty() ? std::string("false") : fmt::format("{}", fmt::join(terms, " OR ")); };
    auto total = [](const std::vector<std::string>& terms) { return terms.empty() ? std::string("0") : fmt::format("{}", fmt::join(terms, " + ")); };
    const pqxx::row row = tx.exec1(fmt::format(
        "SELECT count(*), count(*) FILTER (WHERE {}), coalesce(sum({}), 0)::bigint, coalesce(sum({}), 0)::bigint, "
        "count(*) FILTER (WHERE {}) FROM {} WHERE id BETWEEN {} AND {}",
        any(mismatch), total(expected), total(actual), any(nulls), quoted(connection, range.table), range.low_id, range.high_id));
    sums.rows = row[0].as<std::int64_t>();
    sums.mismatched_rows = row[1].as<std::int64_t>();
    sums.expected = static_cast<std::uint64_t>(row[2].as<std::int64_t>());
    sums.actual = static_cast<std::uint64_t>(row[3].as<std::int64_t>());
    sums.null_rows = row[4].as<std::int64_t>();
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  return sums;
}

Result<KeyRange> PostgresRegionDatabase::key_range(const std::string& table) {
  KeyRange range;
  Status status = guarded("key range", [&](pqxx::connection& connection) {
    pqxx::read_transaction tx(connection);
    // min and max only, from the primary key's index: a count(*) here scanned the whole table
    // twice a region (4-6 ms at 50,000 rows, minutes at a production table's size).
    const pqxx::row row = tx.exec1("SELECT coalesce(min(id), 1), coalesce(max(id), 0) FROM " + quoted(connection, table));
    range = KeyRange{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  return range;
}

Result<std::vector<std::string>> PostgresRegionDatabase::columns(const std::string& table) {
  std::vector<std::string> names;
  Status status = guarded("columns", [&](pqxx::connection& connection) {
    pqxx::read_transaction tx(connection);
    names = live_columns(tx, table);
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  return names;
}

Result<Checkpoint> PostgresRegionDatabase::read_checkpoint(const CheckpointKey& key) {
  Checkpoint checkpoint;
  Status status = guarded("read checkpoint", [&](pqxx::connection& connection) {
    checkpoint = read_checkpoint_row(connection, key.migration);
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  if (checkpoint.exists && !(checkpoint.key == key)) return Status::conflict(checkpoint_conflict(key, checkpoint.key));
  return checkpoint;
}

Status PostgresRegionDatabase::write_checkpoint(const Checkpoint& checkpoint, const Fence& fence) {
  pause_point();  // a requested pause lands here: after the lease check, before the write
  const std::string detail = fmt::format("checkpoint {}", checkpoint.state);
  return guarded("write checkpoint", [&](pqxx::connection& connection) {
    pqxx::work tx(connection);
    const std::int64_t seq = pass_fence(tx, plan_.name, fence);
    if (seq == 0) {
      tx.abort();
      record_write(false, WriteKind::checkpoint, fence, detail);
      return Status::stale_token(fmt::format("token {} is older than the fence", fence.token));
    }
    if (!upsert_checkpoint(tx, checkpoint)) {
      tx.abort();
      return Status::conflict(checkpoint_conflict(checkpoint.key, read_checkpoint_row(connection, checkpoint.key.migration).key));
    }
    tx.commit();
    history_.append(Event{.node = "db:" + endpoints_.name, .kind = EventKind::write, .outcome = Outcome::applied,
                    .write = WriteKind::checkpoint, .token = fence.token, .actor = actor_,
                    .region = endpoints_.name, .detail = detail}, seq);
    return Status::ok();
  });
}

namespace {
// A replica's replay position is a quick read; one that does not answer within this is not
// waited for (the primary's pg_stat_replication view is used instead).
constexpr TimeUs kReplicaPositionTimeoutUs = 1 * kSec;
// How often FlushSampler reads the primary's flushed position: the precision of the lag read
// (the backfill throttle's limits are tens of milliseconds and up).
constexpr TimeUs kFlushSampleEveryUs = 5 * kMs;
}  // namespace

// The record of the primary's flushes that replication_lag reads, from the engine's first
// statement on. Begun at the first batch, it missed the migration's DDL and flag writes: a
// replica cut before the first batch was behind the first position recorded, its lag read as
// the standby's silence (pg_stat_replication) and the throttle held the first batch for the
// whole cut, where the simulated replica's lag counts from that DDL (conform's (e),
// docs/calibration.md).
void PostgresRegionDatabase::sample_flushes() {
  if (!flushes_ && !replicas_.empty()) flushes_ = std::make_unique<FlushSampler>(endpoints_.primary, kFlushSampleEveryUs);
}

// How far behind the primary the region's replicas are, as the simulated database reports it
// (from the flush of the oldest change not replayed; real_backends/replica_lag.h works it out
// from a record of the primary's flushed position read every 5 ms, each replica's replay
// position and the time of the last commit it replayed, asked of the replica itself).
//
// pg_stat_replication.replay_lag alone is not that: it is re-measured only when a standby
// replies, and a standby replies when WAL arrives, which with synchronous_commit = off is every
// WAL writer round on a busy primary, each reply carrying the replay position of the WAL before
// it. A replica milliseconds behind read 50-200 ms behind after a batch, and a backfill
// throttled at 50 ms waited seconds for a reply that happened to read lower (conform's (e),
// docs/calibration.md). It is still what counts where the servers cannot say more: a replica
// that cannot be asked, a primary that streams to replicas the region does not list (a global
// topology's other regions), and a replica behind the first position recorded.
Result<TimeUs> PostgresRegionDatabase::replication_lag() {
  sample_flushes();
  struct Standby {
    TimeUs replay_lag_us = 0;
    TimeUs silent_us = 0;
  };
  std::vector<Standby> standbys;
  FlushSample now;
  bool primary = true;
  Status status = guarded("replication lag", [&](pqxx::connection& connection) {
    pqxx::read_transaction tx(connection);
    const pqxx::result rows = tx.exec(
        "SELECT pg_is_in_recovery(), "
        "CASE WHEN pg_is_in_recovery() THEN 0 ELSE pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint END, "
        "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint, r.pid IS NOT NULL, "
        "coalesce(extract(epoch FROM r.replay_lag) * 1000000, 0)::bigint, "
        "CASE WHEN r.replay_lsn < r.sent_lsn AND r.reply_time IS NOT NULL "
        "THEN (extract(epoch FROM clock_timestamp() - r.reply_time) * 1000000)::bigint ELSE 0 END "
        "FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication AS r ON true");
    for (const pqxx::row& row : rows) {
      primary = !row[0].as<bool>();
      now = FlushSample{row[1].as<std::int64_t>(), row[2].as<std::int64_t>()};
      if (row[3].as<bool>()) standbys.push_back(Standby{row[4].as<std::int64_t>(), row[5].as<std::int64_t>()});
    }
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  TimeUs reported = 0;  // the primary's own view
  for (const Standby& standby : standbys) reported = std::max({reported, standby.replay_lag_us, standby.silent_us});
  // A listed replica the primary no longer streams to (its WAL sender ended: a cut longer than
  // wal_sender_timeout, a restart) is still asked: it falls behind all the same.
  if (!primary || replicas_.empty() || standbys.size() > replicas_.size()) return reported;
  flushes_->record(now);
  TimeUs lag = 0;
  std::int64_t slowest = now.lsn;
  bool every_replica_said = true;  // else the record keeps what a silent one may need when it answers again
  for (const auto& replica : replicas_) {
    std::optional<std::int64_t> replayed;
    std::optional<TimeUs> replayed_commit;
    try {
      pqxx::connection& connection = replica->get();
      const ReplyDeadline deadline(connection.sock(), std::min<TimeUs>(reply_timeout_us_, kReplicaPositionTimeoutUs));
      pqxx::nontransaction tx(connection);
      const pqxx::row row = tx.exec1(
          "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint, "
          "(extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000000)::bigint");
      if (!row[0].is_null()) replayed = row[0].as<std::int64_t>();  // null: promoted, or not replaying yet
      if (!row[1].is_null()) replayed_commit = row[1].as<std::int64_t>();
    } catch (const std::exception&) {
      replica->reset();
    }
    if (!replayed) {  // cannot say: the primary's view counts for it, and the others still do
      lag = std::max(lag, reported);
      every_replica_said = false;
      continue;
    }
    slowest = std::min(slowest, *replayed);
    lag = std::max(lag, flushes_->lag(*replayed, replayed_commit, now.at_us, reported));
  }
  if (every_replica_said) flushes_->forget_replayed(slowest);
  return lag;
}

Status PostgresRegionDatabase::set_flag(const std::string& flag, bool on, const Fence& fence) {
  pause_point();  // a requested pause lands here: after the lease check, before the write
  const std::string detail = fmt::format("{} = {}", flag, on ? "on" : "off");
  return guarded("set flag", [&](pqxx::connection& connection) {
    pqxx::work tx(connection);
    const std::int64_t seq = pass_fence(tx, plan_.name, fence);
    if (seq == 0) {
      tx.abort();
      record_write(false, WriteKind::flag, fence, detail);
      return Status::stale_token(fmt::format("token {} is older than the fence", fence.token));
    }
    tx.exec(fmt::format("DELETE FROM rehearse_flag WHERE region = {} AND flag = {}", tx.quote(endpoints_.name), tx.quote(flag)));
    tx.exec(fmt::format("INSERT INTO rehearse_flag (region, flag, \"on\") VALUES ({}, {}, {})", tx.quote(endpoints_.name),
                        tx.quote(flag), on ? "true" : "false"));
    if (flag == "dual_write") {
      commit_at_once(tx);  // DROP TRIGGER takes an ACCESS EXCLUSIVE lock, which standbys replay
      // The trigger's DDL waits for (and holds to the commit) the table's lock, as the simulated
      // step does (SimDatabase::set_dual_write).
      const auto columns = live_columns(tx, plan_.table);
      if (on) {
        for (const std::string& sql : dual_write_trigger_sql(connection, plan_, columns)) tx.exec(sql);
      } else {
        tx.exec(fmt::format("DROP TRIGGER IF EXISTS {} ON {}", kTriggerName, quoted(connection, plan_.table)));
      }
    }
    tx.commit();
    history_.append(Event{.node = "db:" + endpoints_.name, .kind = EventKind::write, .outcome = Outcome::applied,
                    .write = WriteKind::flag, .token = fence.token, .actor = actor_,
                    .region = endpoints_.name, .detail = detail}, seq);
    return Status::ok();
  });
}

Result<bool> PostgresRegionDatabase::get_flag(const std::string& flag) {
  bool on = false;
  Status status = guarded("get flag", [&](pqxx::connection& connection) {
    pqxx::read_transaction tx(connection);
    const pqxx::result rows = tx.exec(fmt::format("SELECT \"on\" FROM rehearse_flag WHERE region = {} AND flag = {}",
                                                  tx.quote(endpoints_.name), tx.quote(flag)));
    on = !rows.empty() && rows[0][0].as<bool>();
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  return on;
}

Status PostgresFlagStore::set_flag(const std::string& region, const std::string& flag, bool on, const Fence& fence) {
  return database_(region).set_flag(flag, on, fence);
}

Result<bool> PostgresFlagStore::get_flag(const std::string& region, const std::string& flag) {
  return database_(region).get_flag(flag);
}

std::vector<std::string> dual_write_trigger_sql(pqxx::connection& connection, const MigrationPlan& plan,
                                                const std::vector<std::string>& live) {
  std::string body;
  for (const DerivedColumn& derived : plan.derived) {
    if (!contains(live, derived.column) || !has_all(live, derived.up.columns())) continue;
    const std::string target = "NEW." + quoted(connection, derived.column);
    const std::string compute_up = fmt::format("{} := {};", target, expression_sql(connection, derived.up, "NEW."));
    const bool has_down = !derived.down.empty() && contains(live, derived.source) && has_all(live, derived.down.columns());
    if (!has_down) {
      body += compute_up + "\n";
      continue;
    }
    const std::string old_target = "OLD." + quoted(connection, derived.column);
    body += fmt::format(
        "IF (TG_OP = 'INSERT' AND {0} IS NOT NULL) OR (TG_OP = 'UPDATE' AND {0} IS DISTINCT FROM {1}) THEN\n"
        "  NEW.{2} := {3};\nELSE\n  {4}\nEND IF;\n",
        target, old_target, quoted(connection, derived.source), expression_sql(connection, derived.down, "NEW."), compute_up);
  }
  const std::string function = quoted(connection, "rehearse_dual_write_" + plan.table);
  return {
      fmt::format("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n"
                  "IF current_setting('rehearse.backfill', true) = 'on' THEN RETURN NEW; END IF;\n{}RETURN NEW;\nEND\n$body$",
                  function, body),
      // CREATE OR REPLACE TRIGGER takes SHARE ROW EXCLUSIVE (writers wait, readers pass), where a
      // DROP TRIGGER IF EXISTS before a CREATE would take ACCESS EXCLUSIVE, blocking readers too.
      fmt::format("CREATE OR REPLACE TRIGGER {} BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()", kTriggerName,
                  quoted(connection, plan.table), function),
  };
}

Checkpoint read_checkpoint_row(pqxx::connection& connection, const std::string& migration) {
  pqxx::read_transaction tx(connection);
  const pqxx::result rows = tx.exec(
      "SELECT state, next_id, token, validated_token, contract_started, coalesce(tables, ''), coalesce(plan_digest, ''), "
      "coalesce(to_char(state_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', '') "
      "FROM rehearse_checkpoint WHERE migration = " + tx.quote(migration));
  Checkpoint checkpoint;
  checkpoint.key.migration = migration;
  if (rows.empty()) return checkpoint;
  checkpoint.exists = true;
  checkpoint.state = rows[0][0].c_str();
  checkpoint.next_id = rows[0][1].as<std::int64_t>();
  checkpoint.token = rows[0][2].as<std::int64_t>();
  checkpoint.validated_token = rows[0][3].as<std::int64_t>();
  checkpoint.contract_started = rows[0][4].as<bool>();
  checkpoint.key.tables = rows[0][5].c_str();
  checkpoint.key.plan_digest = rows[0][6].c_str();
  checkpoint.since = rows[0][7].c_str();
  return checkpoint;
}

BatchTransaction run_batch_transaction(
    pqxx::connection& connection, const std::string& migration, const Fence& fence, const std::string& table,
    const Checkpoint& saved, const std::function<std::int64_t(pqxx::work&, const std::vector<std::string>&)>& updates) {
  BatchTransaction done;
  pqxx::work tx(connection);
  done.seq = pass_fence(tx, migration, fence);
  if (done.seq == 0) {
    tx.abort();
    done.outcome = BatchTransaction::Outcome::fenced_off;
    return done;
  }
  tx.exec("SET LOCAL rehearse.backfill = 'on'");  // the dual-write trigger stands aside
  done.updated = updates(tx, live_columns(tx, table));
  if (!upsert_checkpoint(tx, saved)) {
    tx.abort();
    done.outcome = BatchTransaction::Outcome::checkpoint_refused;
    return done;
  }
  tx.commit();
  return done;
}

void bootstrap_schema(pqxx::connection& connection) {
  pqxx::work tx(connection);
  // One checkpoint per migration name; `tables` and `plan_digest` say what it migrates
  // (core/ports.h CheckpointKey). Tables made before they existed get the columns added: their
  // rows keep NULL there, and a run refuses to take such a row for its own (docs/live.md).
  tx.exec("CREATE TABLE IF NOT EXISTS rehearse_checkpoint (migration text PRIMARY KEY, state text NOT NULL, "
          "next_id bigint NOT NULL, token bigint NOT NULL, validated_token bigint NOT NULL, contract_started bool NOT NULL, "
          "tables text, plan_digest text, state_since timestamptz)");
  const bool keyed = !tx.exec("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND "
                              "table_name = 'rehearse_checkpoint' AND column_name = 'state_since'").empty();
  if (!keyed) {
    tx.exec("ALTER TABLE rehearse_checkpoint ADD COLUMN IF NOT EXISTS tables text, "
            "ADD COLUMN IF NOT EXISTS plan_digest text, ADD COLUMN IF NOT EXISTS state_since timestamptz");
  }
  tx.exec("CREATE TABLE IF NOT EXISTS rehearse_fence (migration text PRIMARY KEY, token bigint NOT NULL, "
          "writes bigint NOT NULL DEFAULT 0)");
  tx.exec("CREATE TABLE IF NOT EXISTS rehearse_flag (region text NOT NULL, flag text NOT NULL, \"on\" bool NOT NULL, "
          "PRIMARY KEY (region, flag))");
  // The commit order of the live application's writes of one row (live_traffic.cc): drawn in
  // the write's own statement, after its row lock was granted.
  tx.exec("CREATE SEQUENCE IF NOT EXISTS rehearse_app_order");
  tx.commit();
}

bool table_exists(pqxx::connection& connection, const std::string& table) {
  pqxx::read_transaction tx(connection);
  return !tx.exec("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = " +
                  tx.quote(table))
              .empty();
}

namespace {

// The type a live table's column is created with: its declared type (ColumnSpec::sql_type) when
// the values drawn for its simulated type convert to it on assignment (numbers, lengths, time
// zones, dates); otherwise (uuid, json, jsonb, bytea, an enum the live database lacks) the
// simulated type, whose values the generators draw.
std::string live_column_type(const ColumnSpec& column) {
  const std::string& declared = column.sql_type;
  const bool assignable = declared == "smallint" || declared == "real" || declared == "double precision" ||
                          declared.rfind("numeric(", 0) == 0 || declared.rfind("character varying", 0) == 0 ||
                          declared.rfind("character(", 0) == 0 || declared == "date" ||
                          declared.rfind("timestamp", 0) == 0;
  return assignable ? declared : sql_type(column.type);
}

// CREATE TABLE for `table`: `id bigint` identity primary key, then its columns.
void create_table(pqxx::work& tx, pqxx::connection& connection, const TableSpec& table) {
  std::vector<std::string> definitions{"id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"};
  for (const ColumnSpec& column : table.columns) {
    definitions.push_back(fmt::format("{} {}", quoted(connection, column.name), live_column_type(column)));
  }
  tx.exec(fmt::format("CREATE TABLE {} ({})", quoted(connection, table.name), fmt::join(definitions, ", ")));
}

void set_identity(pqxx::work& tx, const std::string& table, std::int64_t rows) {
  tx.exec(fmt::format("SELECT setval(pg_get_serial_sequence({}, 'id'), greatest({}, 1))", tx.quote(table), rows));
}

// A table rehearse just filled, vacuumed and analyzed: its rows in the state of a table in
// service (hint bits set, pages all-visible, statistics current), not one an autovacuum may
// reach in the middle of the migration (the first UPDATE of a freshly loaded page also writes
// its hint bits: a backfill's batches ran up to twice as long, by when autovacuum came).
void settle_table(pqxx::connection& connection, const std::string& table) {
  pqxx::nontransaction(connection).exec("VACUUM (ANALYZE) " + quoted(connection, table));
}

}  // namespace

void prepare_table(pqxx::connection& connection, const TableSpec& table) {
  pqxx::work tx(connection);
  create_table(tx, connection, table);
  std::vector<std::string> names{"id"};
  std::vector<std::string> generators{"g"};
  for (const ColumnSpec& column : table.columns) {
    names.push_back(quoted(connection, column.name));
    generators.push_back(generator_sql(connection, column));
  }
  tx.exec("SELECT setseed(0.25)");
  tx.exec(fmt::format("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) AS g", quoted(connection, table.name),
                      fmt::join(names, ", "), fmt::join(generators, ", "), table.rows));
  set_identity(tx, table.name, table.rows);
  tx.commit();
  settle_table(connection, table.name);
}

void create_table_with_rows(pqxx::connection& connection, const TableSpec& table, const TableImage& rows, const std::string& comment) {
  pqxx::work tx(connection);
  create_table(tx, connection, table);
  std::vector<std::string> names{"id"};
  std::vector<int> columns{rows.column_index("id")};
  std::vector<ColumnType> types{ColumnType::bigint};
  for (const ColumnSpec& column : table.columns) {
    names.push_back(quoted(connection, column.name));
    columns.push_back(rows.column_index(column.name));
    types.push_back(column.type);
  }
  const std::string insert = fmt::format("INSERT INTO {} ({}) VALUES ", quoted(connection, table.name), fmt::join(names, ", "));
  constexpr std::size_t kRowsPerStatement = 2000;
  std::string values;
  std::vector<std::string> cells;
  for (std::size_t row = 0; row < rows.row_count(); ++row) {
    cells.clear();
    for (std::size_t c = 0; c < columns.size(); ++c) cells.push_back(sql_literal(connection, rows.at(row, columns[c]), types[c]));
    values += fmt::format("{}({})", values.empty() ? "" : ", ", fmt::join(cells, ", "));
    if ((row + 1) % kRowsPerStatement == 0 || row + 1 == rows.row_count()) {
      tx.exec(insert + values);
      values.clear();
    }
  }
  set_identity(tx, table.name, static_cast<std::int64_t>(rows.row_count()));
  tx.exec(fmt::format("COMMENT ON TABLE {} IS {}", quoted(connection, table.name), tx.quote(comment)));
  tx.commit();
  settle_table(connection, table.name);
}

std::optional<std::string> table_comment(pqxx::connection& connection, const std::string& table) {
  pqxx::read_transaction tx(connection);
  const pqxx::result rows = tx.exec("SELECT obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                    "c.relnamespace WHERE n.nspname = current_schema() AND c.relname = " + tx.quote(table));
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return std::string(rows[0][0].c_str());
}

TableCatalog read_catalog(pqxx::connection& connection, const std::string& table) {
  pqxx::read_transaction tx(connection);
  TableCatalog catalog;
  catalog.known = true;
  const pqxx::result columns = tx.exec(
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() "
      "AND table_name = " + tx.quote(table) + " ORDER BY ordinal_position");
  for (const auto& row : columns) {
    std::string type = row[1].c_str();
    if (type == "timestamp without time zone") type = "timestamp";
    catalog.columns.push_back(CatalogColumn{row[0].c_str(), type, std::string(row[2].c_str()) == "NO"});
  }
  const pqxx::result indexes = tx.exec(
      "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = " + tx.quote(table) +
      " ORDER BY indexname");
  for (const auto& row : indexes) catalog.indexes.push_back(row[0].c_str());
  return catalog;
}

TableImage snapshot_table(pqxx::connection& connection, const std::string& table) {
  pqxx::read_transaction tx(connection);
  const pqxx::result described = tx.exec(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND "
      "table_name = " + tx.quote(table) + " ORDER BY (column_name <> 'id'), ordinal_position");
  TableImage image;
  std::vector<std::string> types, quoted_names;
  for (const auto& row : described) {
    image.columns.push_back(row[0].c_str());
    types.push_back(row[1].c_str());
    quoted_names.push_back(quoted(connection, row[0].c_str()));
  }
  if (image.columns.empty()) return image;
  const pqxx::result rows = tx.exec(fmt::format("SELECT {} FROM {} ORDER BY id", fmt::join(quoted_names, ", "), quoted(connection, table)));
  image.rows.reserve(rows.size());
  std::vector<Value> values;
  for (const auto& row : rows) {
    values.clear();
    for (std::size_t c = 0; c < types.size(); ++c) values.push_back(parse_cell(row[static_cast<int>(c)], types[c]));
    image.add_row(values, Writer::initial);
  }
  return image;
}

void flush_wal(pqxx::connection& primary) {
  // A transaction with an xid that commits synchronously flushes the WAL up to its commit
  // record, and with it every earlier commit made with synchronous_commit = off.
  pqxx::work tx(primary);
  tx.exec("SET LOCAL synchronous_commit = on");
  tx.exec("SELECT txid_current()");
  tx.commit();
}

std::int64_t replica_behind_bytes(pqxx::connection& primary, pqxx::connection& replica) {
  std::string target;
  {
    pqxx::nontransaction tx(primary);
    target = tx.exec1("SELECT pg_current_wal_lsn()::text")[0].c_str();
  }
  pqxx::nontransaction tx(replica);
  return tx.exec1(fmt::format("SELECT greatest(pg_wal_lsn_diff({}::pg_lsn, coalesce(pg_last_wal_replay_lsn(), '0/0'::pg_lsn)), 0)::bigint",
                              tx.quote(target)))[0].as<std::int64_t>();
}

std::string sql_literal(pqxx::connection& connection, const Value& value, ColumnType type) {
  if (value.is_null()) return "NULL";
  return fmt::format("{}::{}", connection.quote(value.to_string()), sql_type(type));
}

}  // namespace rehearse::live
