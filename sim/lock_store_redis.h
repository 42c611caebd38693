// The simulated Redis lock backend at its API level (docs/lock-backends.md, "redis"):
//   - RedisLockStore is one Redis server's lock keyspace: acquire = one script (SET key value NX
//     PX ttl, then INCR the token counter beside the key), renew = compare-and-PEXPIRE, release =
//     compare-and-delete. The expiry is an absolute time of the node's own wall clock (Redis
//     replicates it as PEXPIREAT), so a clock jump on the node expires a lease early. Without
//     persistence a restarted node comes back empty, its counter at zero. Redlock reuses it.
//   - RedisLockService is the `redis` backend: one master (lock-1) and, with `replica: true`, an
//     asynchronous replica (lock-2) that receives the keyspace after every write over the
//     simulated network and is promoted by `failover` with whatever it had received: an
//     unreplicated lock is lost and the INCR counter can go backwards. Clients find the master
//     the way Sentinel tells them, at every request; the demoted node answers READONLY.
//   - RedisLockClient is an engine process's client (core's LockClient port).
// The world builds the service (make_lock_service); the stores' methods run on their node when
// a request arrives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/history.h"
#include "core/ports.h"
#include "core/random.h"
#include "sim/kernel.h"
#include "sim/lock_overload.h"
#include "sim/lock_service.h"
#include "sim/network.h"

namespace rehearse::sim {

class RedisLockStore {
 public:
  using Sink = std::function<void(Event event)>;
  // The whole keyspace, as a replica receives it.
  struct Keyspace {
    std::optional<std::string> value;  // "HOLDER:NONCE" while the key exists
    TimeUs expires_at_us = 0;          // wall-clock time of the node that set it (PEXPIREAT)
    std::int64_t counter = 0;          // the INCR token counter beside the key
  };

  RedisLockStore(Node& node, bool persistence, Sink sink);

  // Returns the fencing token (the counter after INCR, >= 1) when the key was free and is now
  // `value`'s, 0 when another value holds it.
  std::int64_t acquire(const std::string& value, TimeUs ttl_us);
  // Compare-and-PEXPIRE: true when `value` still holds the key.
  bool renew(const std::string& value, TimeUs ttl_us);
  // Compare-and-delete: true when `value` held the key and it is now deleted.
  bool release(const std::string& value);
  // The engine whose value holds the key now (expiring it first if due), or nullopt.
  std::optional<std::string> holder();
  std::optional<std::string> value();
  std::int64_t counter() const { return keyspace_.counter; }

  // Replication. A replica neither expires keys nor serves writes; `load` replaces its keyspace.
  const Keyspace& keyspace() const { return keyspace_; }
  void load(const Keyspace& keyspace) { keyspace_ = keyspace; }
  void set_replica(bool replica) { replica_ = replica; }
  bool replica() const { return replica_; }
  // Called after every change of the keyspace (the master replicates from here).
  void set_on_write(std::function<void()> on_write) { on_write_ = std::move(on_write); }

  // After a crash: without persistence the restarted node comes back empty.
  void on_restart();
  Node& node() { return node_; }

  // The engine named in a value "HOLDER:NONCE".
  static std::string holder_of(const std::string& value);

 private:
  void expire_if_due();
  void wrote();

  Node& node_;
  bool persistence_;
  Sink sink_;
  Keyspace keyspace_;
  bool replica_ = false;
  std::function<void()> on_write_;
};

// A command's answer: the token (acquire) or 1 (renew, release), or why not.
using RedisAnswer = Result<std::int64_t>;

class RedisLockService final : public LockService {
 public:
  explicit RedisLockService(LockServiceContext context);
  std::unique_ptr<LockClient> make_client(Node& engine, const std::string& stream) override;
  std::optional<std::string> holder() override;
  FailoverOutcome failover() override;
  std::vector<Node*> nodes() const override { return context_.nodes; }

  // The master as Sentinel reports it now.
  Node& master_node() { return stores_[master_]->node(); }
  // Runs a command that arrived at `node`: READONLY on a replica; with max_ops_per_s it waits its
  // turn in the node's queue (sim/lock_overload.h).
  // `client` names the client's connection and `dropped` says it dropped it after a timeout
  // (a new connection costs the limited server its setup).
  void serve_at(Node& node, std::function<RedisAnswer(RedisLockStore&)> command, Respond<RedisAnswer> respond,
                const std::string& client = "", bool dropped = false);
  RedisLockStore& store(std::size_t index) { return *stores_[index]; }
  Network& network() { return context_.network; }

 private:
  void replicate();

  LockServiceContext context_;
  std::vector<std::unique_ptr<RedisLockStore>> stores_;  // lock-1, then the replica lock-2
  std::vector<std::unique_ptr<OverloadQueue>> queues_;  // one per node, in node order
  std::size_t master_ = 0;
  std::uint64_t replication_sent_ = 0;     // offset of the last keyspace sent to the replica
  std::uint64_t replication_applied_ = 0;  // offset of the last one it applied
};

class RedisLockClient final : public LockClient {
 public:
  // `connection` names this process's connection to the store (one per engine incarnation).
  RedisLockClient(RedisLockService& service, Node& self, Rng rng, std::string connection);
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;

 private:
  std::optional<RedisAnswer> request(std::function<RedisAnswer(RedisLockStore&)> command);

  RedisLockService& service_;
  Node& self_;
  Rng rng_;
  std::string value_;  // the value of the lease we hold
  std::int64_t token_ = 0;
  std::string connection_;
  bool dropped_ = false;  // the last request timed out: the client closed its connection
};

}  // namespace rehearse::sim
