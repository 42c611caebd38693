// The simulated Redlock backend (docs/lock-backends.md, "redlock"): N independent Redis masters
// lock-1..lock-N (each a RedisLockStore with its own clock, counter and persistence, no
// replication) and the client algorithm of the Redlock description:
//   - acquire: SET NX PX on every master in parallel with a small per-node timeout; the lock is
//     held when a majority granted it and the validity TTL - elapsed - drift is positive, where
//     drift = drift_factor x TTL + 2 ms; otherwise the client releases on every master;
//   - the fencing token is the maximum of the per-node INCR counters taken under the quorum;
//   - extend: compare-and-PEXPIRE on every master, held while a majority extended;
//   - release: compare-and-delete on every master;
//   - retry after a random delay: the lock session's backoff with jitter;
//   - optional delayed restart (`lock.delayed_restart`): a crashed master stays down for a TTL.
// Each master judges expiry on its own wall clock, so a clock jump on one of them can let a
// second client assemble a majority while the first still holds its own.
// The world builds the service (make_lock_service); engine processes use RedlockClient.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ports.h"
#include "core/random.h"
#include "sim/lock_overload.h"
#include "sim/lock_service.h"
#include "sim/lock_store_redis.h"

namespace rehearse::sim {

class RedlockService final : public LockService {
 public:
  explicit RedlockService(LockServiceContext context);
  std::unique_ptr<LockClient> make_client(Node& engine, const std::string& stream) override;
  // The engine whose value holds the key on a majority of the masters.
  std::optional<std::string> holder() override;
  FailoverOutcome failover() override;
  TimeUs restart_delay(const Node& node, TimeUs requested_us) const override;
  std::vector<Node*> nodes() const override { return context_.nodes; }

  std::size_t size() const { return stores_.size(); }
  std::size_t quorum() const { return stores_.size() / 2 + 1; }
  const LockSpec& spec() const { return context_.spec; }
  Kernel& kernel() { return context_.kernel; }
  Network& network() { return context_.network; }
  // Runs a command that arrived at master `index` (queued when over the limit).
  void serve_at(std::size_t index, std::function<RedisAnswer(RedisLockStore&)> command, Respond<RedisAnswer> respond);
  RedisLockStore& store(std::size_t index) { return *stores_[index]; }

 private:
  LockServiceContext context_;
  std::vector<std::unique_ptr<RedisLockStore>> stores_;
  std::vector<std::unique_ptr<OverloadQueue>> queues_;  // one per node, in node order
};

class RedlockClient final : public LockClient {
 public:
  RedlockClient(RedlockService& service, Node& self, Rng rng);
  // The lease's ttl_us is the Redlock validity measured from the start of the attempt.
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  // Extends on every master; conflict once a majority refused, or once the validity ran out
  // without a successful extension (the client knows it lost the lock).
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;

  // The per-master timeout for a lease of `ttl_us`: small against the TTL (TTL / 20, at least
  // 50 ms), so a dead master costs little of the validity.
  static TimeUs node_timeout(TimeUs ttl_us);

 private:
  std::vector<std::optional<RedisAnswer>> on_every_master(std::function<RedisAnswer(RedisLockStore&)> command,
                                                          TimeUs timeout_us);
  void release_everywhere(const std::string& value);

  RedlockService& service_;
  Node& self_;
  Rng rng_;
  std::string value_;  // the random value of the lease we hold, the same on every master
  std::int64_t token_ = 0;
  TimeUs valid_until_local_us_ = 0;  // start of the last successful acquire / extend + TTL - drift
};

}  // namespace rehearse::sim
