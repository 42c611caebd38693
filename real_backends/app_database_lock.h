// The app-database migration lock of live mode (docs/lock-backends.md, "app-database"): the lock
// is a row of `rehearse_lock` in the lock region's primary -- the very database being migrated --
// as sim/lock_store_app_database.cc simulates it:
//   - acquire: INSERT the row if absent (ON CONFLICT DO NOTHING), then one conditional
//     UPDATE ... SET holder = $me, expires_at = clock_timestamp() + ttl, version = version + 1
//     WHERE key = $k AND (holder IS NULL OR expires_at < clock_timestamp()) RETURNING version;
//     the fencing token is the row's version; expiry is judged on the primary's clock;
//   - renew and release compare the holder (and the version: a renew of an older lease of the
//     same client is refused);
//   - every statement runs in a transaction that first takes ACCESS SHARE on the migrated table
//     (LOCK TABLE), so it queues behind a DDL waiting for ACCESS EXCLUSIVE -- and behind whatever
//     that DDL waits for -- as the simulated row does; its wait is bounded by the engine's
//     statement timeout (35 s when the engine has none), not a short lock-store timeout.
// One client per engine process; its calls are serialised by a mutex (the engine thread and
// its keepalive thread share it), each on the client's own libpq connection.
#pragma once

#include <mutex>
#include <string>

#include "core/ports.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

// The lock row's table, created where absent (by the runner before the engines start, and by
// every client on its first statement: CREATE TABLE IF NOT EXISTS, a concurrent creation's
// unique violation retried once).
inline constexpr const char* kLockRowTable = "rehearse_lock";
// The wait for a lock statement when the engine has no statement timeout: the simulator's
// (sim/lock_service.h kLockRowStatementTimeoutUs).
inline constexpr TimeUs kLockRowDefaultTimeoutUs = 35 * kSec;

// Creates rehearse_lock where absent. Throws pqxx errors.
void ensure_lock_row_table(pqxx::connection& connection);

class AppDatabaseLockClient final : public LockClient {
 public:
  // `database`: the lock region's primary (libpq); `table`: the migrated table, whose lock queue
  // every statement joins; `statement_timeout_us`: the bound of each statement (0 = the default
  // above); `key` names the lock (one per migration); `holder` is this client's value.
  // REQUIRES: database and table are not empty; statement_timeout_us >= 0.
  AppDatabaseLockClient(std::string database, std::string table, TimeUs statement_timeout_us, std::string key, std::string holder,
                        const StopSignal& stop);
  // Conflict while another holder's row is unexpired; timeout when the statement timeout ran
  // out (in the table's lock queue, say); unavailable when the database cannot be reached.
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  // Conflict when the row is not this lease's (another holder, another version, or expired).
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  // Frees the row if it is still this lease's; ok when it was not.
  Status release(const Lease& lease) override;
  // Connects and runs SELECT 1 (creates nothing: --dry-run changes nothing).
  Status ping();
  // The row's unexpired holder ("" when free, expired or absent); does not queue for the table.
  Result<std::string> holder_value();

 private:
  template <typename Work>
  Status guarded(const char* what, Work&& work);

  const StopSignal& stop_;
  std::string table_;
  TimeUs statement_timeout_us_;
  std::string key_;
  std::string holder_;
  std::mutex mutex_;
  PostgresConnection connection_;
  bool table_ready_ = false;
};

}  // namespace rehearse::live
