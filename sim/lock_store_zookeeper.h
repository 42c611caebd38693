// The simulated ZooKeeper backend at its API level (docs/lock-backends.md, "zookeeper"): an
// ensemble of `lock.nodes` members lock-1..lock-N with a Zab leader (sim/consensus_group.h),
// sessions, and the lock recipe of the ZooKeeper documentation:
//   - a session's timeout is negotiated into 2..20 ticks (tickTime 2 s); the leader expires a
//     session that sent nothing for its timeout (at tick boundaries, on its monotonic clock) and
//     deletes its ephemeral znodes; a new leader re-arms every session's full timeout;
//   - lock: create an ephemeral sequential znode under /lock (once per session: a retried create
//     finds the one it made, like Curator's protected mode); the lowest sequence holds the
//     lock; each waiter watches only its predecessor and is notified when it goes;
//   - the fencing token is the znode's sequence number (the parent's counter never goes back);
//   - the client library pings every third of the timeout; without an answer for two thirds of
//     it the client is Disconnected (renew answers timeout, not lost), and it learns that the
//     session Expired only when it reaches a server again.
// The world builds the ensemble (make_lock_service); engine processes use ZooKeeperLockClient.
#pragma once

#include <cstdint>
#include <functional>
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

struct ZooKeeperRequest {
  enum class Kind { connect, ping, create, check, remove, close };
  Kind kind = Kind::connect;
  std::string holder;         // connect
  TimeUs timeout_us = 0;      // connect: the requested session timeout
  std::int64_t session = 0;   // all but connect
  std::int64_t sequence = 0;  // check, remove
  Node* client = nullptr;     // check: where the watch notification goes
  std::function<void()> notify;  // check: runs at the client when the predecessor is deleted
};

struct ZooKeeperAnswer {
  Status status;               // conflict: the session expired
  std::int64_t session = 0;    // connect
  TimeUs timeout_us = 0;       // connect: the negotiated timeout
  std::int64_t sequence = 0;   // create: our znode; check: the predecessor (0 = we are lowest)
};

class ZooKeeperEnsemble final : public LockService {
 public:
  static constexpr TimeUs kTickUs = 2 * kSec;  // ZooKeeper's default tickTime

  explicit ZooKeeperEnsemble(LockServiceContext context);
  std::unique_ptr<LockClient> make_client(Node& engine, const std::string& stream) override;
  std::optional<std::string> holder() override;
  FailoverOutcome failover() override;
  std::vector<Node*> nodes() const override { return context_.nodes; }

  // Serves a request that arrived at member `via` (queued when over max_ops_per_s,
  // sim/lock_overload.h).
  void handle(std::size_t via, const ZooKeeperRequest& request, Respond<ZooKeeperAnswer> respond);
  ConsensusGroup& group() { return group_; }
  Kernel& kernel() { return context_.kernel; }
  Network& network() { return context_.network; }
  static TimeUs negotiate(TimeUs requested_us);
  bool session_alive(std::int64_t session) const;

 private:
  struct Session {
    std::string holder;
    TimeUs timeout_us = 0;
    TimeUs expires_at_us = 0;  // the leader's monotonic clock, rounded up to a tick
  };
  struct LockNode {
    std::int64_t session = 0;
    std::string holder;
  };
  struct Watch {
    std::size_t via = 0;
    Node* client = nullptr;
    std::function<void()> notify;
  };

  // A request at the head of member `via`'s queue: writes committed, the rest read there.
  void serve(std::size_t via, const ZooKeeperRequest& request, Respond<ZooKeeperAnswer> respond);
  ZooKeeperAnswer apply(const ZooKeeperRequest& request);
  ZooKeeperAnswer read(std::size_t via, const ZooKeeperRequest& request);
  ZooKeeperAnswer connect(const std::string& holder, TimeUs timeout_us);
  ZooKeeperAnswer create(std::int64_t session);
  ZooKeeperAnswer check(std::size_t via, const ZooKeeperRequest& request);
  void remove(std::int64_t sequence);
  void close_session(std::int64_t session, bool expired);
  void touch(Session& session);
  void expire_sessions();
  void rearm_sessions();
  TimeUs leader_clock() const;
  void emit(Event event);

  LockServiceContext context_;
  ConsensusGroup group_;
  std::vector<std::unique_ptr<OverloadQueue>> queues_;  // one per node, in node order
  std::map<std::int64_t, Session> sessions_;
  std::map<std::int64_t, LockNode> lock_nodes_;      // by sequence number, lowest first
  std::map<std::int64_t, std::vector<Watch>> watches_;  // by the watched sequence number
  std::int64_t next_session_ = 1;
  std::int64_t next_sequence_ = 1;
};

class ZooKeeperLockClient final : public LockClient {
 public:
  ZooKeeperLockClient(ZooKeeperEnsemble& ensemble, Node& self, Rng rng);
  ~ZooKeeperLockClient() override;
  // Creates (once) our znode and waits up to a third of the session timeout for the lock.
  // The lease's ttl_us is two thirds of the session timeout: when the client would be
  // Disconnected without an answer.
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  // No request: the session's state as the pinging library knows it.
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  void close() override;

  // What the library pings and remembers; shared with the pinging fiber.
  struct SessionState {
    enum class Connection { connected, disconnected, expired };
    bool alive = true;  // false once the client is gone
    std::int64_t id = 0;
    TimeUs timeout_us = 0;
    TimeUs last_heard_local_us = 0;
    Connection connection = Connection::connected;
    std::size_t server = 0;
    std::int64_t sequence = 0;  // our lock znode (0 = none)
  };

 private:
  Status connect(TimeUs ttl_us);
  std::optional<ZooKeeperAnswer> call(ZooKeeperRequest request);
  Result<std::int64_t> check(bool wait);
  void start_pinging();

  ZooKeeperEnsemble& ensemble_;
  Node& self_;
  Rng rng_;
  std::shared_ptr<SessionState> session_;
  std::int64_t token_ = 0;
};

}  // namespace rehearse::sim
