// The app-database lock client of live mode: the lock row's statements, each in a transaction
// that queues for the migrated table's lock first, mapped to the LockClient contract.
#include "real_backends/app_database_lock.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/assert.h"
#include "real_backends/reply_deadline.h"

namespace rehearse::live {

namespace {

// clock_timestamp(), not now(): now() is the transaction's start, which comes before the wait in
// the table's lock queue; the lease is judged on the primary's clock when the row is written.
constexpr const char* kNow = "clock_timestamp()";
constexpr TimeUs kReplyMarginUs = 5 * kSec;

std::string interval_ms(TimeUs us) { return fmt::format("interval '{} milliseconds'", std::max<TimeUs>(us / kMs, 1)); }

// Opens the lock statement's transaction: the statement bounds, then ACCESS SHARE on the
// migrated table, so everything after it waits behind a DDL queued for ACCESS EXCLUSIVE.
void join_table_queue(pqxx::work& tx, const std::string& table, TimeUs statement_timeout_us) {
  tx.exec("SET LOCAL lock_timeout = 0");  // the wait is bounded by the statement timeout, as the engine's statements are
  tx.exec(fmt::format("SET LOCAL statement_timeout = '{}ms'", std::max<TimeUs>(statement_timeout_us / kMs, 1)));
  tx.exec("LOCK TABLE " + tx.conn().quote_name(table) + " IN ACCESS SHARE MODE");
}

}  // namespace

void ensure_lock_row_table(pqxx::connection& connection) {
  const std::string sql = fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, holder text, expires_at timestamptz, version bigint NOT NULL DEFAULT 0)",
      kLockRowTable);
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::work tx(connection);
      tx.exec(sql);
      tx.commit();
      return;
    } catch (const pqxx::unique_violation&) {
      // Two sessions creating the table at once: one of them meets the other's pg_type row.
      if (attempt >= 1) throw;
    }
  }
}

AppDatabaseLockClient::AppDatabaseLockClient(std::string database, std::string table, TimeUs statement_timeout_us, std::string key,
                                             std::string holder, const StopSignal& stop)
    : stop_(stop),
      table_(std::move(table)),
      statement_timeout_us_(statement_timeout_us > 0 ? statement_timeout_us : kLockRowDefaultTimeoutUs),
      key_(std::move(key)),
      holder_(std::move(holder)),
      connection_(std::move(database)) {
  REHEARSE_ASSERT(!connection_.connection_string().empty());
  REHEARSE_ASSERT(!table_.empty());
  REHEARSE_ASSERT(statement_timeout_us >= 0);
}

// Runs `work` on the connection (creating the lock table first, once) and maps libpq failures
// to the contract: the statement timeout is a timeout, a lost connection unavailable.
template <typename Work>
Status AppDatabaseLockClient::guarded(const char* what, Work&& work) {
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  // A reply a partition holds ends as the engine's statements do (reply_deadline.h): the
  // statement timeout plus the 5 s of database_reply_timeout_us.
  std::optional<ReplyDeadline> deadline;
  try {
    pqxx::connection& connection = connection_.get();
    deadline.emplace(connection.sock(), statement_timeout_us_ + kReplyMarginUs);
    if (!table_ready_) {
      ensure_lock_row_table(connection);
      table_ready_ = true;
    }
    return work(connection);
  } catch (const pqxx::broken_connection&) {
    const bool expired = deadline && deadline->expired();
    deadline.reset();
    connection_.reset();
    if (expired) return Status::timeout(fmt::format("lock row ({}): no reply from the lock's database in time", what));
    return Status::unavailable(fmt::format("lock row ({}): the lock's database is unreachable", what));
  } catch (const pqxx::in_doubt_error&) {
    connection_.reset();
    return Status::timeout(fmt::format("lock row ({}): commit in doubt", what));
  } catch (const pqxx::sql_error& error) {
    bool lost = false;
    Status status = sql_error_status(error, fmt::format("lock row ({}): {}", what, redact(error.what())), &lost);
    if (lost) connection_.reset();
    return status;
  } catch (const std::exception& error) {
    connection_.reset();
    return Status::unavailable(fmt::format("lock row ({}): {}", what, redact(error.what())));
  }
}

Result<Lease> AppDatabaseLockClient::try_acquire(TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  std::lock_guard<std::mutex> guard(mutex_);
  std::int64_t version = 0;
  Status done = guarded("acquire", [&](pqxx::connection& connection) {
    pqxx::work tx(connection);
    join_table_queue(tx, table_, statement_timeout_us_);
    tx.exec(fmt::format("INSERT INTO {} (key, version) VALUES ({}, 0) ON CONFLICT DO NOTHING", kLockRowTable, tx.quote(key_)));
    const pqxx::result granted = tx.exec(fmt::format(
        "UPDATE {0} SET holder = {1}, expires_at = {2} + {3}, version = version + 1 "
        "WHERE key = {4} AND (holder IS NULL OR expires_at < {2}) RETURNING version",
        kLockRowTable, tx.quote(holder_), kNow, interval_ms(ttl_us), tx.quote(key_)));
    tx.commit();
    if (granted.empty()) return Status::conflict("the lock row is held");
    version = granted[0][0].as<std::int64_t>();
    return Status::ok();
  });
  if (!done.is_ok()) return done;
  REHEARSE_ASSERT(version > 0);
  return Lease{version, 0, ttl_us};
}

Status AppDatabaseLockClient::renew(const Lease& lease, TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  std::lock_guard<std::mutex> guard(mutex_);
  return guarded("renew", [&](pqxx::connection& connection) {
    pqxx::work tx(connection);
    join_table_queue(tx, table_, statement_timeout_us_);
    const pqxx::result renewed = tx.exec(fmt::format(
        "UPDATE {0} SET expires_at = {1} + {2} WHERE key = {3} AND holder = {4} AND version = {5} AND expires_at >= {1} "
        "RETURNING version",
        kLockRowTable, kNow, interval_ms(ttl_us), tx.quote(key_), tx.quote(holder_), lease.token));
    tx.commit();
    return renewed.empty() ? Status::conflict("the lock row is no longer ours") : Status::ok();
  });
}

Status AppDatabaseLockClient::release(const Lease& lease) {
  std::lock_guard<std::mutex> guard(mutex_);
  return guarded("release", [&](pqxx::connection& connection) {
    pqxx::work tx(connection);
    join_table_queue(tx, table_, statement_timeout_us_);
    tx.exec(fmt::format("UPDATE {} SET holder = NULL, expires_at = NULL WHERE key = {} AND holder = {} AND version = {}",
                        kLockRowTable, tx.quote(key_), tx.quote(holder_), lease.token));
    tx.commit();
    return Status::ok();  // a row that is no longer ours is nothing to release
  });
}

Status AppDatabaseLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  try {
    pqxx::nontransaction(connection_.get()).exec("SELECT 1");
    return Status::ok();
  } catch (const std::exception& error) {
    connection_.reset();
    return Status::unavailable(fmt::format("cannot reach the lock's database '{}': {}", redact(connection_.connection_string()),
                                           redact(error.what())));
  }
}

Result<std::string> AppDatabaseLockClient::holder_value() {
  std::lock_guard<std::mutex> guard(mutex_);
  try {
    pqxx::read_transaction tx(connection_.get());
    if (tx.exec1(fmt::format("SELECT to_regclass('{}') IS NULL", kLockRowTable))[0].as<bool>()) return std::string();
    const pqxx::result row = tx.exec(fmt::format("SELECT holder FROM {} WHERE key = {} AND holder IS NOT NULL AND expires_at >= {}",
                                                 kLockRowTable, tx.quote(key_), kNow));
    return row.empty() ? std::string() : std::string(row[0][0].c_str());
  } catch (const std::exception& error) {
    connection_.reset();
    return Status::unavailable(fmt::format("lock row (holder): {}", redact(error.what())));
  }
}

}  // namespace rehearse::live
