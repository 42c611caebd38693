// Protocol tests of the simulated lock backends (sim/lock_store_*.h), driving the kernel
// directly: for each backend grant, contention, expiry, renewal and token monotonicity, and the
// failure its practitioners documented -- the Redis failover whose token goes backwards, the
// Redlock clock jump, the etcd lease extended on a leader change and the client that learns of
// its expiry only at its own deadline, the ZooKeeper session whose expiry is noticed only on
// reconnect, and the app-database lock row that queues behind DDL and is lost on failover.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ports.h"
#include "sim/database.h"
#include "sim/kernel.h"
#include "sim/lock_overload.h"
#include "sim/lock_service.h"
#include "sim/lock_store_etcd.h"
#include "sim/lock_store_redlock.h"
#include "sim/lock_store_zookeeper.h"
#include "sim/network.h"

namespace rehearse::sim {
namespace {

constexpr TimeUs kTtl = 10 * kSec;

// What one client call returned, kept by the test.
struct Outcome {
  bool done = false;
  Status status;
  Lease lease;
};

class LockStoreTest : public ::testing::Test {
 protected:
  // Unwinds fibers blocked in calls while the service and clients they reference still exist.
  ~LockStoreTest() override { kernel.shutdown(); }

  std::vector<Event> events;  // declared before the kernel: the service appends while unwinding
  Kernel kernel{7};
  Node& engine1 = kernel.add_node("engine-1", "eu");
  Node& engine2 = kernel.add_node("engine-2", "eu");
  Node& db = kernel.add_node("db:eu", "eu");
  Network network{kernel, 7, DurationRange{1 * kMs, 2 * kMs}, DurationRange{40 * kMs, 120 * kMs}};
  std::vector<Node*> lock_nodes;
  std::unique_ptr<SimDatabase> database;
  std::unique_ptr<LockService> service;
  std::vector<std::unique_ptr<LockClient>> clients;

  static LockSpec spec(LockBackend backend, int nodes = 1) {
    LockSpec lock;
    lock.backend = backend;
    lock.nodes = nodes;
    lock.ttl_us = kTtl;
    return lock;
  }

  void build(const LockSpec& lock, int nodes) {
    for (int i = 1; i <= nodes; ++i) lock_nodes.push_back(&kernel.add_node("lock-" + std::to_string(i), "eu"));
    LockServiceContext context{kernel, network, lock, lock_nodes, nullptr, nullptr, 7, [this](Event event) {
                                 event.time_us = kernel.now();
                                 events.push_back(std::move(event));
                               }};
    if (lock.backend == LockBackend::app_database) {
      TableSpec table;
      table.rows = 10;
      database = std::make_unique<SimDatabase>(kernel, db, "eu", generate_table(table, 7), 0, DurationRange{kMs, kMs}, [](Event) {}, 7);
      context.database_node = &db;
      context.database = database.get();
    }
    service = make_lock_service(std::move(context));
  }

  LockClient& client(Node& engine) {
    clients.push_back(service->make_client(engine, "test-" + engine.name() + std::to_string(clients.size())));
    return *clients.back();
  }

  // Starts `call` as a fiber on `node` now; its result lands in the returned slot.
  std::shared_ptr<Outcome> start(Node& node, std::function<Outcome()> call) {
    auto slot = std::make_shared<Outcome>();
    kernel.spawn(node, "test-call", [slot, call] { *slot = call(); });
    return slot;
  }

  // Runs the world in 1 ms steps until the call returned (at most 10 s).
  void finish(const Outcome& slot) {
    for (int step = 0; step < 10'000 && !slot.done; ++step) kernel.run_until(kernel.now() + kMs);
    EXPECT_TRUE(slot.done);
  }

  Outcome acquire(Node& node, LockClient& lock, TimeUs ttl_us = kTtl) {
    auto slot = start(node, [&lock, ttl_us] {
      Result<Lease> granted = lock.try_acquire(ttl_us);
      return Outcome{true, granted.status(), granted.is_ok() ? granted.value() : Lease{}};
    });
    finish(*slot);
    return *slot;
  }

  Status renew(Node& node, LockClient& lock, const Lease& lease, TimeUs ttl_us = kTtl) {
    auto slot = start(node, [&lock, lease, ttl_us] { return Outcome{true, lock.renew(lease, ttl_us), lease}; });
    finish(*slot);
    return slot->status;
  }

  Status release(Node& node, LockClient& lock, const Lease& lease) {
    auto slot = start(node, [&lock, lease] { return Outcome{true, lock.release(lease), lease}; });
    finish(*slot);
    return slot->status;
  }

  void advance(TimeUs by_us) { kernel.run_until(kernel.now() + by_us); }

  std::vector<const Node*> lock_side() const { return {lock_nodes.begin(), lock_nodes.end()}; }

  int count(EventKind kind) const {
    int seen = 0;
    for (const Event& event : events) seen += event.kind == kind ? 1 : 0;
    return seen;
  }
};

// ---- redis ----

TEST_F(LockStoreTest, RedisGrantsOneHolderAndTokensGrowAcrossHolders) {
  // Proves grant, contention and monotonic tokens: A gets token 1, B is refused; after A's
  // release B gets token 2; A's stale renewal is refused.
  build(spec(LockBackend::redis), 1);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome first = acquire(engine1, a);
  ASSERT_TRUE(first.status.is_ok()) << first.status.to_string();
  EXPECT_EQ(first.lease.token, 1);
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  EXPECT_EQ(service->holder(), "engine-1");
  EXPECT_TRUE(release(engine1, a, first.lease).is_ok());
  const Outcome second = acquire(engine2, b);
  ASSERT_TRUE(second.status.is_ok());
  EXPECT_EQ(second.lease.token, 2);
  EXPECT_TRUE(renew(engine1, a, first.lease).is_conflict());
}

TEST_F(LockStoreTest, RedisRenewalKeepsTheKeyAndExpiryFreesIt) {
  // Proves renewal and expiry: renewed every 4 s the 10 s key outlives 20 s; left alone it
  // expires on the store's clock and B takes it with a larger token.
  build(spec(LockBackend::redis), 1);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  for (int i = 0; i < 4; ++i) {
    advance(4 * kSec);
    EXPECT_TRUE(renew(engine1, a, held.lease).is_ok());
  }
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  advance(kTtl);
  const Outcome taken = acquire(engine2, b);
  ASSERT_TRUE(taken.status.is_ok());
  EXPECT_GT(taken.lease.token, held.lease.token);
  EXPECT_EQ(count(EventKind::lock_expire), 1);
}

TEST_F(LockStoreTest, RedisClockJumpOnTheNodeExpiresTheKeyEarly) {
  // Proves expiry on the node's own wall clock: a +15 s step on lock-1 two seconds into a 10 s
  // lease frees the key at once.
  build(spec(LockBackend::redis), 1);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  ASSERT_TRUE(acquire(engine1, a).status.is_ok());
  lock_nodes[0]->clock().step(kernel.now(), 15 * kSec);
  EXPECT_TRUE(acquire(engine2, b).status.is_ok());
}

TEST_F(LockStoreTest, RedisRestartWithoutPersistenceComesBackEmptyAndTokensGoBack) {
  // Proves `persistence: false`: after a crash and restart the key and the counter are gone,
  // so the next holder gets token 1 again.
  LockSpec lock = spec(LockBackend::redis);
  lock.persistence = false;
  build(lock, 1);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  ASSERT_EQ(acquire(engine1, a).lease.token, 1);
  kernel.crash(*lock_nodes[0]);
  kernel.restart(*lock_nodes[0]);
  const Outcome again = acquire(engine2, b);
  ASSERT_TRUE(again.status.is_ok());
  EXPECT_EQ(again.lease.token, 1);
}

TEST_F(LockStoreTest, RedisFailoverKeepsAReplicatedLock) {
  // Proves asynchronous replication: once the replica received the keyspace, a failover keeps
  // A's lock (B is refused by the promoted lock-2) and the counter.
  LockSpec lock = spec(LockBackend::redis);
  lock.replica = true;
  build(lock, 2);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  ASSERT_TRUE(acquire(engine1, a).status.is_ok());
  ASSERT_TRUE(service->failover().applied);
  EXPECT_EQ(service->holder(), "engine-1");
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
}

TEST_F(LockStoreTest, RedisFailoverLosesAnUnreplicatedLockAndTheTokenGoesBackwards) {
  // Proves the documented failure: with the replication link cut, A's lock and its INCR never
  // reach lock-2; after the failover B gets the lock with A's token again, so storage fencing
  // cannot tell the two holders apart; A's renewal on the new master is refused.
  LockSpec lock = spec(LockBackend::redis);
  lock.replica = true;
  build(lock, 2);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  network.add_partition({lock_nodes[0]}, {lock_nodes[1]}, false);
  const Outcome first = acquire(engine1, a);
  ASSERT_EQ(first.lease.token, 1);
  const FailoverOutcome failover = service->failover();
  ASSERT_TRUE(failover.applied);
  EXPECT_NE(failover.detail.find("tokens go backwards"), std::string::npos) << failover.detail;
  const Outcome second = acquire(engine2, b);
  ASSERT_TRUE(second.status.is_ok());
  EXPECT_EQ(second.lease.token, first.lease.token);
  EXPECT_TRUE(renew(engine1, a, first.lease).is_conflict());
}

TEST_F(LockStoreTest, RedisQueuesRequestsOverMaxOpsPerSecondInArrivalOrder) {
  // Proves the overload queue: at max_ops_per_s 100 (10 ms a command, 50 ms with a new
  // connection's setup) two acquisitions arriving together are both served, one after the
  // other: the first is granted, the second waits its turn and is refused; nothing is shed.
  LockSpec lock = spec(LockBackend::redis);
  lock.max_ops_per_s = 100;
  build(lock, 1);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  auto first = start(engine1, [&a] { auto r = a.try_acquire(kTtl); return Outcome{true, r.status(), {}}; });
  auto second = start(engine2, [&b] { auto r = b.try_acquire(kTtl); return Outcome{true, r.status(), {}}; });
  advance(60 * kMs);  // one new-connection request served, the other still queued
  EXPECT_EQ(first->done + second->done, 1);
  advance(kSec);
  ASSERT_TRUE(first->done && second->done);
  EXPECT_EQ(first->status.is_ok() + second->status.is_ok(), 1);
  EXPECT_EQ(first->status.is_conflict() + second->status.is_conflict(), 1);
}

TEST_F(LockStoreTest, RedisOverloadedStoreGrantsTheLockToAClientThatGaveUp) {
  // Proves the metastable part of overload: at max_ops_per_s 5 a request on a new connection
  // costs the store 1 s, so A's acquisition times out at A, yet the store still runs it and the
  // key is A's -- a holder that does not know it holds the lock. A's retry, on another new
  // connection (it closed the timed-out one), times out again and is refused by its own key;
  // B is refused until the key's TTL ends.
  LockSpec lock = spec(LockBackend::redis);
  lock.max_ops_per_s = 5;
  build(lock, 1);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  EXPECT_TRUE(acquire(engine1, a).status.is_timeout());
  EXPECT_EQ(service->holder(), "engine-1");
  EXPECT_EQ(count(EventKind::lock_grant), 1);
  EXPECT_TRUE(acquire(engine1, a).status.is_timeout());
  EXPECT_EQ(count(EventKind::lock_grant), 1);
  advance(2 * kSec);
  const Outcome refused = acquire(engine2, b);
  EXPECT_FALSE(refused.status.is_ok());
  advance(kTtl);
  EXPECT_EQ(service->holder(), std::nullopt);
}

TEST_F(LockStoreTest, OverloadQueueServesInOrderRejectsBeyondItsBoundAndDiesWithItsNode) {
  // Proves the queue itself: at 10 ops/s requests run 100 ms apart in arrival order; a new
  // connection costs its setup first; past kQueueWorkMaxUs of work a request is rejected at
  // once; a crash drops what was queued.
  Node& store = kernel.add_node("store", "eu");
  OverloadQueue queue(kernel, store, 10);
  ASSERT_TRUE(queue.limited());
  EXPECT_EQ(queue.service_us(), 100 * kMs);
  std::vector<std::pair<int, TimeUs>> ran;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(queue.enqueue([this, &ran, i] { ran.emplace_back(i, kernel.now()); }));
  }
  ASSERT_TRUE(queue.enqueue([this, &ran] { ran.emplace_back(3, kernel.now()); }, "client-1", false));
  advance(kSec);
  ASSERT_EQ(ran.size(), 4u);
  EXPECT_EQ(ran[0], std::make_pair(0, TimeUs{0}));
  EXPECT_EQ(ran[1], std::make_pair(1, 100 * kMs));
  EXPECT_EQ(ran[2], std::make_pair(2, 200 * kMs));
  EXPECT_EQ(ran[3].second, 300 * kMs + OverloadQueue::kConnectCommands * 100 * kMs);  // after its setup
  EXPECT_EQ(queue.cost_us("client-1", false), 100 * kMs);  // connected now
  EXPECT_EQ(queue.cost_us("client-1", true), (1 + OverloadQueue::kConnectCommands) * 100 * kMs);
  int accepted = 0;
  while (queue.enqueue([] {}) && accepted < 1000) ++accepted;
  EXPECT_EQ(accepted, OverloadQueue::kQueueWorkMaxUs / (100 * kMs));
  EXPECT_EQ(queue.rejected(), 1);
  const std::int64_t served = queue.served();
  kernel.crash(store);
  advance(10 * kSec);
  EXPECT_EQ(queue.served(), served);  // the queued work died with the process
  kernel.restart(store);
  EXPECT_EQ(queue.backlog_us(), 0);
}

// ---- redlock ----

TEST_F(LockStoreTest, RedlockGrantsOnAMajorityWithTheMaximumCounterAndItsValidity) {
  // Proves the quorum acquire: on 3 of 3 masters A holds with token = max of the counters and a
  // validity of TTL - drift (drift_factor x TTL + 2 ms) from the start; B is refused.
  build(spec(LockBackend::redlock, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok()) << held.status.to_string();
  EXPECT_EQ(held.lease.token, 1);
  EXPECT_EQ(held.lease.ttl_us, kTtl - (kTtl / 100 + 2 * kMs));
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  EXPECT_EQ(service->holder(), "engine-1");
  EXPECT_TRUE(release(engine1, a, held.lease).is_ok());
  const Outcome next = acquire(engine2, b);
  ASSERT_TRUE(next.status.is_ok());
  EXPECT_EQ(next.lease.token, 2);
}

TEST_F(LockStoreTest, RedlockWithoutAMajorityFailsAndReleasesWhatItGot) {
  // Proves "release everywhere on failure": with two masters cut off, A's single grant is not
  // a lock and A deletes it again, so once the partition heals B can lock.
  build(spec(LockBackend::redlock, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const int cut = network.add_partition({&engine1}, {lock_nodes[1], lock_nodes[2]}, false);
  const Outcome failed = acquire(engine1, a);
  EXPECT_TRUE(failed.status.is_unavailable()) << failed.status.to_string();
  EXPECT_EQ(static_cast<RedlockService&>(*service).store(0).holder(), std::nullopt);
  network.remove_partition(cut);
  EXPECT_TRUE(acquire(engine2, b).status.is_ok());
}

TEST_F(LockStoreTest, RedlockExtensionKeepsTheLockAndExpiryEndsIt) {
  // Proves renewal (extend on every master) and expiry: extended every 4 s the lock outlives
  // its TTL; without extension it expires on the masters and B's token is larger.
  build(spec(LockBackend::redlock, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  for (int i = 0; i < 3; ++i) {
    advance(4 * kSec);
    EXPECT_TRUE(renew(engine1, a, held.lease).is_ok());
  }
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  advance(kTtl);
  const Outcome taken = acquire(engine2, b);
  ASSERT_TRUE(taken.status.is_ok());
  EXPECT_GT(taken.lease.token, held.lease.token);
}

TEST_F(LockStoreTest, RedlockClockJumpOnOneMasterGivesTheLockToTwoClients) {
  // Proves the documented failure: A holds a bare majority {lock-1, lock-2} (lock-3 cut off
  // from A); lock-2's clock jumps 30 s, its key expires early, and B assembles {lock-2, lock-3}
  // while A still believes it holds the lock. B's token (max of the counters) is larger.
  build(spec(LockBackend::redlock, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  network.add_partition({&engine1}, {lock_nodes[2]}, false);
  network.add_partition({&engine2}, {lock_nodes[0]}, false);
  const Outcome first = acquire(engine1, a);
  ASSERT_TRUE(first.status.is_ok());
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  lock_nodes[1]->clock().step(kernel.now(), 30 * kSec);
  const Outcome second = acquire(engine2, b);
  ASSERT_TRUE(second.status.is_ok()) << second.status.to_string();
  EXPECT_GT(second.lease.token, first.lease.token);
  EXPECT_FALSE(renew(engine1, a, first.lease).is_ok());  // A finds out only at its next extension
}

TEST_F(LockStoreTest, RedlockDelayedRestartKeepsACrashedMasterDownForATtl) {
  // Proves `delayed_restart`: a master restarted after 1 s is kept down for the TTL instead.
  LockSpec lock = spec(LockBackend::redlock, 3);
  lock.delayed_restart = true;
  build(lock, 3);
  EXPECT_EQ(service->restart_delay(*lock_nodes[0], 1 * kSec), kTtl);
  EXPECT_EQ(service->restart_delay(*lock_nodes[0], 20 * kSec), 20 * kSec);
}

// ---- etcd ----

TEST_F(LockStoreTest, EtcdLockTokenIsTheKeysCreateRevision) {
  // Proves grant, contention and monotonic tokens: the lock key's create revision is the token;
  // B is refused while A's lease lives; after A's revoke B's revision is larger.
  build(spec(LockBackend::etcd, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok()) << held.status.to_string();
  EXPECT_GT(held.lease.token, 0);
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  EXPECT_TRUE(release(engine1, a, held.lease).is_ok());
  const Outcome next = acquire(engine2, b);
  ASSERT_TRUE(next.status.is_ok());
  EXPECT_GT(next.lease.token, held.lease.token);
}

TEST_F(LockStoreTest, EtcdKeepaliveKeepsTheLeaseAndTheLeaderExpiresItOtherwise) {
  // Proves renewal and expiry: keepalives every 3 s keep a 10 s lease past 20 s; without them
  // the leader revokes it (deleting the key) and B locks.
  build(spec(LockBackend::etcd, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  for (int i = 0; i < 7; ++i) {
    advance(3 * kSec);
    EXPECT_TRUE(renew(engine1, a, held.lease).is_ok());
  }
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  advance(kTtl + kSec);
  EXPECT_EQ(count(EventKind::lock_expire), 1);
  EXPECT_TRUE(acquire(engine2, b).status.is_ok());
}

TEST_F(LockStoreTest, EtcdGrantsAtLeastTheMinimumTtl) {
  // Proves the minimum TTL: a 500 ms lease is granted for 2 s.
  build(spec(LockBackend::etcd, 1), 1);
  LockClient& a = client(engine1);
  const Outcome held = acquire(engine1, a, 500 * kMs);
  ASSERT_TRUE(held.status.is_ok());
  EXPECT_EQ(held.lease.ttl_us, EtcdCluster::kMinimumTtlUs);
}

TEST_F(LockStoreTest, EtcdNewLeaderExtendsEveryLeaseByAnElectionTimeout) {
  // Proves the documented lease extension: the leader crashes 3 s into a 10 s lease; the new
  // leader, elected an election timeout later, restarts the lease at TTL + election timeout on
  // its own clock, so the key outlives its TTL by more than the outage.
  build(spec(LockBackend::etcd, 3), 3);
  auto& cluster = static_cast<EtcdCluster&>(*service);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok());
  advance(3 * kSec);
  const std::size_t old_leader = *cluster.group().leader();
  kernel.crash(cluster.group().member(old_leader));
  advance(2 * kSec);
  ASSERT_TRUE(cluster.group().leader().has_value());
  ASSERT_NE(*cluster.group().leader(), old_leader);
  const std::optional<TimeUs> expiry = cluster.lease_expiry(1);
  ASSERT_TRUE(expiry.has_value());
  // 5 s after the grant, about 10 s left instead of 5: TTL + election timeout from the election.
  EXPECT_GT(*expiry - cluster.leader_clock(), kTtl - 100 * kMs);
  advance(6 * kSec);  // 11 s after the grant: past the TTL, the key is still there
  EXPECT_EQ(cluster.holder(), "engine-1");
  EXPECT_EQ(count(EventKind::lock_expire), 0);
  advance(5 * kSec);  // 16 s: past the election (4 s) + TTL + election timeout: revoked
  EXPECT_EQ(count(EventKind::lock_expire), 1);
  EXPECT_TRUE(acquire(engine2, b).status.is_ok() || acquire(engine2, b).status.is_ok());
}

TEST_F(LockStoreTest, EtcdClientCutOffFromTheMajorityLearnsOnlyAtItsDeadline) {
  // Proves the client-side deadline: cut off from every member, A's keepalives fail with a
  // timeout (A still believes) until its own deadline, then renew reports the lease gone.
  build(spec(LockBackend::etcd, 3), 3);
  LockClient& a = client(engine1);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok());
  network.add_partition({&engine1}, lock_side(), false);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_timeout());  // answered at ~2 s: before the deadline
  advance(7 * kSec);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_conflict());  // answered at ~11 s: past the 10 s deadline
}

TEST_F(LockStoreTest, EtcdWithoutAMajorityServesNothing) {
  // Proves that requests need a leader with a majority: with 2 of 3 members down, no leader is
  // elected and a lock request fails.
  build(spec(LockBackend::etcd, 3), 3);
  LockClient& a = client(engine1);
  kernel.crash(*lock_nodes[0]);
  kernel.crash(*lock_nodes[1]);
  advance(3 * kSec);
  EXPECT_FALSE(acquire(engine1, a).status.is_ok());
}

TEST_F(LockStoreTest, EtcdQueuesRequestsOverMaxOpsPerSecondInsteadOfShedding) {
  // Proves the overload queue on a cluster member: at max_ops_per_s 10 two clients' grants and
  // lock transactions (100 ms of the member's time each) arriving together are all served in
  // turn -- one client holds the lock, the other is refused, nobody is told "too many
  // requests" -- and the second answer comes at least a service time after the first.
  LockSpec lock = spec(LockBackend::etcd, 3);
  lock.max_ops_per_s = 10;
  build(lock, 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  std::vector<TimeUs> answered;
  auto first = start(engine1, [this, &a, &answered] {
    auto r = a.try_acquire(kTtl);
    answered.push_back(kernel.now());
    return Outcome{true, r.status(), {}};
  });
  auto second = start(engine2, [this, &b, &answered] {
    auto r = b.try_acquire(kTtl);
    answered.push_back(kernel.now());
    return Outcome{true, r.status(), {}};
  });
  advance(3 * kSec);
  ASSERT_TRUE(first->done && second->done);
  EXPECT_EQ(first->status.is_ok() + second->status.is_ok(), 1);
  EXPECT_EQ(first->status.is_conflict() + second->status.is_conflict(), 1);
  ASSERT_EQ(answered.size(), 2u);
  EXPECT_GE(answered[1] - answered[0], 100 * kMs);
}

// ---- zookeeper ----

TEST_F(LockStoreTest, ZooKeeperNegotiatesTheSessionTimeoutIntoTwoToTwentyTicks) {
  // Proves the negotiation bounds with tickTime 2 s: 1 s -> 4 s, 10 s -> 10 s, 2 min -> 40 s.
  EXPECT_EQ(ZooKeeperEnsemble::negotiate(1 * kSec), 4 * kSec);
  EXPECT_EQ(ZooKeeperEnsemble::negotiate(10 * kSec), 10 * kSec);
  EXPECT_EQ(ZooKeeperEnsemble::negotiate(2 * kMin), 40 * kSec);
}

TEST_F(LockStoreTest, ZooKeeperLowestZnodeHoldsAndTheWaiterIsNotifiedByItsWatch) {
  // Proves grant, contention, the predecessor watch and monotonic tokens: A's znode is lowest;
  // B's attempt waits on a watch and is refused; when A releases, B's watch fires and B's next
  // attempt holds with a larger sequence number.
  build(spec(LockBackend::zookeeper, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok()) << held.status.to_string();
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  auto waiting = start(engine2, [&b] {
    auto r = b.try_acquire(kTtl);
    return Outcome{true, r.status(), r.is_ok() ? r.value() : Lease{}};
  });
  advance(100 * kMs);
  EXPECT_TRUE(release(engine1, a, held.lease).is_ok());
  advance(100 * kMs);
  ASSERT_TRUE(waiting->done);  // woken by the watch, well before its 3.3 s wait ran out
  ASSERT_TRUE(waiting->status.is_ok()) << waiting->status.to_string();
  EXPECT_GT(waiting->lease.token, held.lease.token);
  EXPECT_EQ(waiting->lease.ttl_us, 2 * kTtl / 3);
}

TEST_F(LockStoreTest, ZooKeeperPingsKeepTheSessionAndItsLock) {
  // Proves renewal by the library's pings: 30 s later A still holds and renew says so.
  build(spec(LockBackend::zookeeper, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  advance(30 * kSec);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_ok());
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
}

TEST_F(LockStoreTest, ZooKeeperClientLearnsOfExpiryOnlyOnReconnect) {
  // Proves the documented late notice: cut off from the ensemble, A is Disconnected after two
  // thirds of its 10 s session (renew: timeout, not lost); the leader expires the session and
  // B gets the lock; A learns that its session Expired only once it reaches a server again.
  build(spec(LockBackend::zookeeper, 3), 3);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok());
  const int cut = network.add_partition({&engine1}, lock_side(), false);
  advance(3 * kSec);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_ok());  // still within two thirds of the timeout
  advance(5 * kSec);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_timeout());  // Disconnected
  advance(10 * kSec);
  const Outcome taken = acquire(engine2, b);
  ASSERT_TRUE(taken.status.is_ok()) << taken.status.to_string();
  EXPECT_GT(taken.lease.token, held.lease.token);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_timeout());  // still no news while cut off
  network.remove_partition(cut);
  advance(10 * kSec);  // the next ping reaches a server
  EXPECT_TRUE(renew(engine1, a, held.lease).is_conflict());
}

// ---- app-database ----

TEST_F(LockStoreTest, AppDatabaseLockRowVersionIsTheToken) {
  // Proves grant, contention, expiry on the database's clock, renewal and the version token.
  build(spec(LockBackend::app_database), 0);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok());
  EXPECT_EQ(held.lease.token, 1);
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());
  advance(6 * kSec);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_ok());
  advance(6 * kSec);
  EXPECT_TRUE(acquire(engine2, b).status.is_conflict());  // renewed: 12 s and still held
  advance(kTtl);
  const Outcome taken = acquire(engine2, b);
  ASSERT_TRUE(taken.status.is_ok());
  EXPECT_EQ(taken.lease.token, 2);
  EXPECT_TRUE(renew(engine1, a, held.lease).is_conflict());
}

TEST_F(LockStoreTest, AppDatabaseLockRowQueuesBehindADdlWaitingForTheTable) {
  // Proves the shared lock queue: a long transaction holds the table, a DDL waits for it, and
  // the lock row's renewal waits behind the DDL until the transaction ends.
  build(spec(LockBackend::app_database), 0);
  LockClient& a = client(engine1);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(held.status.is_ok());
  database->hold_table_lock(20 * kSec);
  advance(kMs);
  std::optional<Status> ddl;
  database->ddl(DdlStatement{DdlStatement::Kind::add_column, "orders", "x"}, DdlLimits{}, Fence{}, "engine-1",
                [&ddl](Status status) { ddl = status; });
  auto renewal = start(engine1, [&a, held] { return Outcome{true, a.renew(held.lease, kTtl), held.lease}; });
  advance(10 * kSec);
  EXPECT_FALSE(ddl.has_value());
  EXPECT_FALSE(renewal->done);  // stuck behind the DDL
  advance(15 * kSec);
  ASSERT_TRUE(ddl.has_value());
  ASSERT_TRUE(renewal->done);
  EXPECT_TRUE(renewal->status.is_conflict());  // by then the 10 s lease had expired
}

TEST_F(LockStoreTest, AppDatabaseFailoverLosesTheRowAndItsVersionGoesBack) {
  // Proves the failover loss: the row's last acquisition is gone, so the next holder gets the
  // previous holder's version again.
  build(spec(LockBackend::app_database), 0);
  LockClient& a = client(engine1);
  LockClient& b = client(engine2);
  const Outcome held = acquire(engine1, a);
  ASSERT_TRUE(service->failover().applied);
  EXPECT_EQ(service->holder(), std::nullopt);
  const Outcome taken = acquire(engine2, b);
  ASSERT_TRUE(taken.status.is_ok());
  EXPECT_EQ(taken.lease.token, held.lease.token);
}

}  // namespace
}  // namespace rehearse::sim
