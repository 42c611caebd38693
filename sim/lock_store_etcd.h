// The simulated etcd backend at its v3 API level (docs/lock-backends.md, "etcd"): a cluster of
// `lock.nodes` members lock-1..lock-N with a Raft leader (sim/consensus_group.h), leases and a
// lock key attached to a lease, as clientv3's concurrency package uses them:
//   - LeaseGrant(TTL): a lease of at least the minimum TTL (2 s); LeaseKeepAlive refreshes it;
//   - the lock: a transaction that creates the lock key with the lease when it does not exist;
//     the fencing token is the key's create revision (the cluster's revision never goes back);
//   - writes (grant, lock, revoke) are committed through the leader on a majority; a member cut
//     off from the quorum serves nothing;
//   - the leader expires leases on its own monotonic clock (a clock jump does not move it);
//   - a new leader extends every lease by an election timeout (etcd's lessor Promote), so a
//     lease can outlive its TTL across a leader change;
//   - the client knows a deadline per lease (last keepalive sent + TTL): one cut off from the
//     majority learns that its lease is gone only at that deadline.
// The world builds the cluster (make_lock_service); engine processes use EtcdLockClient.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ports.h"
#include "core/random.h"
#include "sim/consensus_group.h"
#include "sim/lock_overload.h"
#include "sim/lock_service.h"

namespace rehearse::sim {

struct EtcdRequest {
  enum class Kind { grant, keep_alive, lock, revoke };
  Kind kind = Kind::grant;
  std::string holder;       // grant, lock
  std::int64_t lease = 0;   // keep_alive, lock, revoke
  TimeUs ttl_us = 0;        // grant
};

struct EtcdAnswer {
  Status status;
  std::int64_t lease = 0;
  TimeUs ttl_us = 0;          // grant, keep_alive: the lease's TTL
  std::int64_t revision = 0;  // lock: the key's create revision
};

class EtcdCluster final : public LockService {
 public:
  static constexpr TimeUs kMinimumTtlUs = 2 * kSec;
  static constexpr TimeUs kHeartbeatUs = 100 * kMs;        // etcd's default heartbeat interval
  static constexpr TimeUs kElectionTimeoutUs = 1 * kSec;   // etcd's default election timeout

  explicit EtcdCluster(LockServiceContext context);
  std::unique_ptr<LockClient> make_client(Node& engine, const std::string& stream) override;
  std::optional<std::string> holder() override;
  FailoverOutcome failover() override;
  std::vector<Node*> nodes() const override { return context_.nodes; }

  // Serves a request that arrived at member `via` (queued when over max_ops_per_s,
  // sim/lock_overload.h).
  void handle(std::size_t via, const EtcdRequest& request, Respond<EtcdAnswer> respond);
  ConsensusGroup& group() { return group_; }
  Network& network() { return context_.network; }
  // The lease's expiry on the leader's monotonic clock, for tests; nullopt when it is gone.
  std::optional<TimeUs> lease_expiry(std::int64_t lease) const;
  TimeUs leader_clock() const;
  std::int64_t revision() const { return revision_; }

 private:
  struct Lease {
    std::string holder;
    TimeUs ttl_us = 0;
    TimeUs expires_at_us = 0;  // the leader's monotonic clock
  };
  struct LockKey {
    std::string holder;
    std::int64_t lease = 0;
    std::int64_t create_revision = 0;
  };

  // A request at the head of member `via`'s queue: keepalive by the lessor, the rest committed.
  void serve(std::size_t via, const EtcdRequest& request, Respond<EtcdAnswer> respond);
  EtcdAnswer apply(const EtcdRequest& request);
  EtcdAnswer grant(const std::string& holder, TimeUs ttl_us);
  EtcdAnswer keep_alive(std::int64_t lease);
  EtcdAnswer lock(std::int64_t lease, const std::string& holder);
  EtcdAnswer revoke(std::int64_t lease, bool expired);
  void expire_leases();
  void extend_leases();
  void emit(Event event);

  LockServiceContext context_;
  ConsensusGroup group_;
  std::vector<std::unique_ptr<OverloadQueue>> queues_;  // one per node, in node order
  std::map<std::int64_t, Lease> leases_;
  std::optional<LockKey> key_;
  std::int64_t revision_ = 1;
  std::int64_t next_lease_ = 1;
};

class EtcdLockClient final : public LockClient {
 public:
  EtcdLockClient(EtcdCluster& cluster, Node& self, Rng rng);
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  // One LeaseKeepAlive; after a failed one, conflict once the client's own deadline passed.
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;

 private:
  std::optional<EtcdAnswer> call(const EtcdRequest& request);

  EtcdCluster& cluster_;
  Node& self_;
  Rng rng_;
  std::size_t endpoint_ = 0;      // the member this client talks to; the next one after a failure
  std::int64_t lease_ = 0;        // our lease (0 = none)
  TimeUs deadline_local_us_ = 0;  // when our lease is gone by our own reckoning
  std::int64_t token_ = 0;
};

}  // namespace rehearse::sim
