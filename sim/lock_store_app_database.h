// The simulated app-database lock backend (docs/lock-backends.md, "app-database"): the
// migration lock is a row in the lock region's primary, the very database being migrated
// (the anti-pattern of the article):
//   - acquire = UPDATE lock SET holder = $me, expires_at = now() + ttl, version = version + 1
//     WHERE holder IS NULL OR expires_at < now() RETURNING version; the fencing token is the
//     row's version; renew and release are compare-and-set on the holder;
//   - expiry is judged on the database node's clock (now());
//   - every statement on the row queues for the migrated table's lock (SimDatabase::
//     run_in_table_lock_queue), so a DDL waiting for its exclusive lock blocks the lock's own
//     renewals, and so does a long transaction ahead of it;
//   - it is unavailable whenever that primary is (down, paused, partitioned);
//   - `failover` promotes a replica that never received the last acquisition: the row loses its
//     holder and its version goes back by one (the next holder gets the previous holder's token).
// The world builds the service (make_lock_service); engine processes use AppDatabaseLockClient.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ports.h"
#include "core/random.h"
#include "sim/lock_service.h"

namespace rehearse::sim {

struct LockRowStatement {
  enum class Kind { acquire, renew, release };
  Kind kind = Kind::acquire;
  std::string value;  // "HOLDER:NONCE"
  TimeUs ttl_us = 0;
};

class AppDatabaseLockService final : public LockService {
 public:
  explicit AppDatabaseLockService(LockServiceContext context);
  std::unique_ptr<LockClient> make_client(Node& engine, const std::string& stream) override;
  std::optional<std::string> holder() override;
  FailoverOutcome failover() override;
  std::vector<Node*> nodes() const override { return {context_.database_node}; }

  // Runs a statement that arrived at the primary, in the table's lock queue.
  void handle(const LockRowStatement& statement, Respond<Result<std::int64_t>> respond);
  Node& database_node() { return *context_.database_node; }
  Network& network() { return context_.network; }
  std::int64_t version() const { return row_.version; }

 private:
  struct Row {
    std::optional<std::string> value;  // the holder's value; nullopt = free
    TimeUs expires_at_local_us = 0;    // on the database node's clock
    std::int64_t version = 0;
    std::int64_t version_before = 0;   // before the last acquisition (what a replica may still have)
  };

  Result<std::int64_t> execute(const LockRowStatement& statement);
  bool expired() const;
  void emit(Event event);

  LockServiceContext context_;
  Row row_;
};

class AppDatabaseLockClient final : public LockClient {
 public:
  AppDatabaseLockClient(AppDatabaseLockService& service, Node& self, Rng rng);
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;

 private:
  std::optional<Result<std::int64_t>> run(const LockRowStatement& statement);

  AppDatabaseLockService& service_;
  Node& self_;
  Rng rng_;
  std::string value_;
  std::int64_t token_ = 0;
};

}  // namespace rehearse::sim
