// The simulated ZooKeeper backend: sessions and their expiry at the leader, the lock znodes and
// their watches, and the engine's client with its pinging library.
#include "sim/lock_store_zookeeper.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

namespace {

constexpr TimeUs kLeaderCheckUs = 200 * kMs;
constexpr int kPingsMax = 1'000'000;  // bound of one session's pinging loop

ConsensusGroup::Options zookeeper_options() {
  return ConsensusGroup::Options{"zookeeper", kLeaderCheckUs, 2 * ZooKeeperEnsemble::kTickUs};
}

using Connection = ZooKeeperLockClient::SessionState::Connection;

void sleep_local(Kernel& kernel, Node& node, TimeUs local_us) {
  kernel.sleep_until(kernel.now() + node.clock().true_duration(local_us));
}

}  // namespace

// ---- ZooKeeperEnsemble ----

ZooKeeperEnsemble::ZooKeeperEnsemble(LockServiceContext context)
    : context_(std::move(context)),
      group_(context_.kernel, context_.network, context_.nodes, zookeeper_options(),
             Rng(context_.seed, "zookeeper-elections"), context_.append) {
  for (std::size_t i = 0; i < context_.nodes.size(); ++i) {
    queues_.push_back(std::make_unique<OverloadQueue>(context_.kernel, *context_.nodes[i], context_.spec.max_ops_per_s));
  }
  group_.start([this] { expire_sessions(); }, [this] { rearm_sessions(); });
}

std::unique_ptr<LockClient> ZooKeeperEnsemble::make_client(Node& engine, const std::string& stream) {
  return std::make_unique<ZooKeeperLockClient>(*this, engine, Rng(context_.seed, stream));
}

TimeUs ZooKeeperEnsemble::negotiate(TimeUs requested_us) {
  return std::clamp(requested_us, 2 * kTickUs, 20 * kTickUs);
}

bool ZooKeeperEnsemble::session_alive(std::int64_t session) const { return sessions_.count(session) > 0; }

std::optional<std::string> ZooKeeperEnsemble::holder() {
  if (lock_nodes_.empty()) return std::nullopt;
  return lock_nodes_.begin()->second.holder;
}

FailoverOutcome ZooKeeperEnsemble::failover() {
  const auto old_leader = group_.step_down();
  if (!old_leader) return {false, "the ZooKeeper ensemble has no leader to fail over"};
  return {true, fmt::format("{} stepped down; a new leader is elected after an election timeout", *old_leader)};
}

TimeUs ZooKeeperEnsemble::leader_clock() const {
  const auto leader = group_.leader();
  return leader ? group_.member(*leader).monotonic_now() : 0;
}

void ZooKeeperEnsemble::emit(Event event) {
  const auto leader = group_.leader();
  event.node = leader ? group_.member(*leader).name() : "zookeeper";
  context_.append(std::move(event));
}

void ZooKeeperEnsemble::handle(std::size_t via, const ZooKeeperRequest& request, Respond<ZooKeeperAnswer> respond) {
  REHEARSE_ASSERT(via < queues_.size());
  OverloadQueue& queue = *queues_[via];
  if (!queue.limited()) {
    serve(via, request, std::move(respond));
    return;
  }
  if (!queue.enqueue([this, via, request, respond] { serve(via, request, respond); })) {
    respond(ZooKeeperAnswer{Status::unavailable("too many requests: the server's queue is full")});
  }
}

void ZooKeeperEnsemble::serve(std::size_t via, const ZooKeeperRequest& request, Respond<ZooKeeperAnswer> respond) {
  const bool write = request.kind == ZooKeeperRequest::Kind::connect || request.kind == ZooKeeperRequest::Kind::create ||
                     request.kind == ZooKeeperRequest::Kind::remove || request.kind == ZooKeeperRequest::Kind::close;
  if (write) {
    group_.commit<ZooKeeperAnswer>(via, [this, request] { return apply(request); },
                                   ZooKeeperAnswer{Status::unavailable("ConnectionLoss: no quorum")}, std::move(respond));
    return;
  }
  if (!group_.serving(via)) {  // a server out of the quorum drops its clients
    respond(ZooKeeperAnswer{Status::unavailable("ConnectionLoss: the server is not in a quorum")});
    return;
  }
  ZooKeeperAnswer answer = read(via, request);
  context_.kernel.after(kLockCommandUs, [respond, answer] { respond(answer); });
}

ZooKeeperAnswer ZooKeeperEnsemble::apply(const ZooKeeperRequest& request) {
  switch (request.kind) {
    case ZooKeeperRequest::Kind::connect: return connect(request.holder, request.timeout_us);
    case ZooKeeperRequest::Kind::create: return create(request.session);
    case ZooKeeperRequest::Kind::remove: {
      auto it = lock_nodes_.find(request.sequence);
      if (it != lock_nodes_.end() && it->second.session == request.session) remove(request.sequence);
      return ZooKeeperAnswer{Status::ok()};
    }
    case ZooKeeperRequest::Kind::close:
      close_session(request.session, false);
      return ZooKeeperAnswer{Status::ok()};
    case ZooKeeperRequest::Kind::ping:
    case ZooKeeperRequest::Kind::check: break;
  }
  REHEARSE_ASSERT(false);
  return ZooKeeperAnswer{Status::invalid("not a write")};
}

// Pings and the lock check are served by the member the client is connected to; both touch
// the session (the member forwards the touch to the leader).
ZooKeeperAnswer ZooKeeperEnsemble::read(std::size_t via, const ZooKeeperRequest& request) {
  auto session = sessions_.find(request.session);
  if (session == sessions_.end()) return ZooKeeperAnswer{Status::conflict("Session expired")};
  touch(session->second);
  if (request.kind == ZooKeeperRequest::Kind::ping) return ZooKeeperAnswer{Status::ok(), request.session};
  return check(via, request);
}

ZooKeeperAnswer ZooKeeperEnsemble::connect(const std::string& holder, TimeUs timeout_us) {
  const std::int64_t id = next_session_++;
  Session& session = sessions_[id];
  session = Session{holder, negotiate(timeout_us), 0};
  touch(session);
  return ZooKeeperAnswer{Status::ok(), id, session.timeout_us, 0};
}

// create("/lock/lock-", EPHEMERAL_SEQUENTIAL), or the znode this session already made.
ZooKeeperAnswer ZooKeeperEnsemble::create(std::int64_t session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return ZooKeeperAnswer{Status::conflict("Session expired")};
  touch(it->second);
  for (const auto& [sequence, node] : lock_nodes_) {
    if (node.session == session) return ZooKeeperAnswer{Status::ok(), session, 0, sequence};
  }
  const std::int64_t sequence = next_sequence_++;
  lock_nodes_[sequence] = LockNode{session, it->second.holder};
  return ZooKeeperAnswer{Status::ok(), session, 0, sequence};
}

// getChildren("/lock"): the lowest holds the lock; any other sets a watch on its predecessor.
ZooKeeperAnswer ZooKeeperEnsemble::check(std::size_t via, const ZooKeeperRequest& request) {
  auto mine = lock_nodes_.find(request.sequence);
  if (mine == lock_nodes_.end()) return ZooKeeperAnswer{Status::conflict("our lock znode is gone")};
  if (mine == lock_nodes_.begin()) {
    emit(Event{.kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = mine->first, .actor = mine->second.holder});
    return ZooKeeperAnswer{Status::ok(), request.session, 0, 0};
  }
  const std::int64_t predecessor = std::prev(mine)->first;
  watches_[predecessor].push_back(Watch{via, request.client, request.notify});
  return ZooKeeperAnswer{Status::ok(), request.session, 0, predecessor};
}

void ZooKeeperEnsemble::remove(std::int64_t sequence) {
  lock_nodes_.erase(sequence);
  auto watched = watches_.find(sequence);
  if (watched == watches_.end()) return;
  for (const Watch& watch : watched->second) {
    context_.network.send(group_.member(watch.via), *watch.client, watch.notify);
  }
  watches_.erase(watched);
}

void ZooKeeperEnsemble::close_session(std::int64_t session, bool expired) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  std::vector<std::int64_t> owned;
  for (const auto& [sequence, node] : lock_nodes_) {
    if (node.session == session) owned.push_back(sequence);
  }
  for (std::int64_t sequence : owned) {
    if (expired && sequence == lock_nodes_.begin()->first) {
      emit(Event{.kind = EventKind::lock_expire, .token = sequence, .actor = it->second.holder,
                 .detail = "session expired: the ensemble deleted the holder's ephemeral znode"});
    }
    remove(sequence);
  }
  sessions_.erase(it);
}

void ZooKeeperEnsemble::touch(Session& session) {
  const TimeUs deadline = leader_clock() + session.timeout_us;
  session.expires_at_us = (deadline + kTickUs - 1) / kTickUs * kTickUs;  // expiry buckets: the next tick
}

void ZooKeeperEnsemble::expire_sessions() {
  if (!group_.leader_can_commit()) return;
  const TimeUs now = leader_clock();
  std::vector<std::int64_t> expired;
  for (const auto& [id, session] : sessions_) {
    if (session.expires_at_us <= now) expired.push_back(id);
  }
  for (std::int64_t id : expired) close_session(id, true);
}

void ZooKeeperEnsemble::rearm_sessions() {
  for (auto& [id, session] : sessions_) touch(session);
}

// ---- ZooKeeperLockClient ----

ZooKeeperLockClient::ZooKeeperLockClient(ZooKeeperEnsemble& ensemble, Node& self, Rng rng)
    : ensemble_(ensemble), self_(self), rng_(rng) {}

ZooKeeperLockClient::~ZooKeeperLockClient() {
  if (session_) session_->alive = false;
}

std::optional<ZooKeeperAnswer> ZooKeeperLockClient::call(ZooKeeperRequest request) {
  ZooKeeperEnsemble& ensemble = ensemble_;
  const std::shared_ptr<SessionState> session = session_;
  const std::size_t via = session->server;
  auto answer = ensemble.network().call_async<ZooKeeperAnswer>(
      self_, ensemble.group().member(via), kClusterRequestTimeoutUs,
      [&ensemble, via, request](Respond<ZooKeeperAnswer> respond) { ensemble.handle(via, request, std::move(respond)); });
  if (!answer || answer->status.is_unavailable()) {
    session->server = (session->server + 1) % ensemble.group().size();
    return answer;
  }
  session->last_heard_local_us = self_.local_now();
  session->connection = answer->status.is_conflict() ? Connection::expired : Connection::connected;
  return answer;
}

Status ZooKeeperLockClient::connect(TimeUs ttl_us) {
  session_ = std::make_shared<SessionState>();
  session_->server = rng_.below(ensemble_.group().size());
  auto answer = call(ZooKeeperRequest{.kind = ZooKeeperRequest::Kind::connect, .holder = self_.name(), .timeout_us = ttl_us});
  if (!answer) return Status::timeout("connect: no answer from the ensemble");
  if (!answer->status.is_ok()) return answer->status;
  session_->id = answer->session;
  session_->timeout_us = answer->timeout_us;
  start_pinging();
  return Status::ok();
}

// The library's pinging thread: a ping every third of the timeout; Disconnected after two thirds
// without an answer; Expired when a server says so.
void ZooKeeperLockClient::start_pinging() {
  ZooKeeperEnsemble& ensemble = ensemble_;
  Node& self = self_;
  std::shared_ptr<SessionState> session = session_;
  ensemble.kernel().spawn(self, "zookeeper-pings", [&ensemble, &self, session] {
    for (int ping = 0; ping < kPingsMax; ++ping) {
      sleep_local(ensemble.kernel(), self, session->timeout_us / 3);
      if (!session->alive || session->connection == Connection::expired) return;
      const std::size_t via = session->server;
      const ZooKeeperRequest request{.kind = ZooKeeperRequest::Kind::ping, .session = session->id};
      auto answer = ensemble.network().call_async<ZooKeeperAnswer>(
          self, ensemble.group().member(via), session->timeout_us / 3,
          [&ensemble, via, request](Respond<ZooKeeperAnswer> respond) { ensemble.handle(via, request, std::move(respond)); });
      if (!session->alive) return;
      if (answer && (answer->status.is_ok() || answer->status.is_conflict())) {
        session->last_heard_local_us = self.local_now();
        session->connection = answer->status.is_ok() ? Connection::connected : Connection::expired;
        continue;
      }
      if (self.local_now() - session->last_heard_local_us >= 2 * session->timeout_us / 3) {
        session->connection = Connection::disconnected;
      }
      session->server = (session->server + 1) % ensemble.group().size();  // try the next server
    }
  });
}

Result<std::int64_t> ZooKeeperLockClient::check(bool wait) {
  struct Watcher {
    SimFiber* waiter = nullptr;
    std::uint64_t generation = 0;
    bool fired = false;
  };
  Kernel& kernel = ensemble_.kernel();
  auto watcher = std::make_shared<Watcher>();
  auto answer = call(ZooKeeperRequest{.kind = ZooKeeperRequest::Kind::check, .session = session_->id,
                                      .sequence = session_->sequence, .client = &self_,
                                      .notify = [&kernel, watcher] {
                                        watcher->fired = true;
                                        if (watcher->waiter != nullptr) kernel.wake(watcher->waiter, watcher->generation);
                                      }});
  if (!answer) return Status::timeout("getChildren: no answer from the ensemble");
  if (!answer->status.is_ok()) return answer->status;
  if (answer->sequence == 0) return session_->sequence;
  if (!wait) return Status::conflict(fmt::format("waiting behind znode {}", answer->sequence));
  if (!watcher->fired) {
    struct StopWaiting {
      Watcher* watcher;
      ~StopWaiting() { watcher->waiter = nullptr; }
    } stop_waiting{watcher.get()};
    watcher->waiter = kernel.current();
    watcher->generation = kernel.wait_generation();
    kernel.block_until(kernel.now() + self_.clock().true_duration(session_->timeout_us / 3));
  }
  return check(false);
}

Result<Lease> ZooKeeperLockClient::try_acquire(TimeUs ttl_us) {
  if (!session_ || session_->connection == Connection::expired) {
    const Status connected = connect(ttl_us);
    if (!connected.is_ok()) return connected;
  }
  if (session_->connection == Connection::disconnected) return Status::unavailable("disconnected from the ensemble");
  if (session_->sequence == 0) {
    auto created = call(ZooKeeperRequest{.kind = ZooKeeperRequest::Kind::create, .session = session_->id});
    if (!created) return Status::timeout("create: no answer from the ensemble");
    if (!created->status.is_ok()) return created->status;
    session_->sequence = created->sequence;
  }
  const Result<std::int64_t> held = check(true);
  if (!held.is_ok()) {
    if (session_->connection == Connection::expired) session_->sequence = 0;
    return held.status();
  }
  token_ = held.value();
  return Lease{token_, 0, 2 * session_->timeout_us / 3};
}

Status ZooKeeperLockClient::renew(const Lease& lease, TimeUs ttl_us) {
  (void)ttl_us;  // the session's timeout was negotiated at connect
  if (!session_ || lease.token != token_ || session_->sequence != token_) return Status::conflict("not our lock znode");
  if (session_->connection == Connection::expired) return Status::conflict("session expired: our lock znode is gone");
  if (self_.local_now() - session_->last_heard_local_us >= 2 * session_->timeout_us / 3) {
    session_->connection = Connection::disconnected;
  }
  if (session_->connection == Connection::disconnected) return Status::timeout("disconnected from the ensemble");
  return Status::ok();
}

Status ZooKeeperLockClient::release(const Lease& lease) {
  if (!session_ || lease.token != token_ || session_->sequence == 0) return Status::ok();
  auto answer = call(ZooKeeperRequest{.kind = ZooKeeperRequest::Kind::remove, .session = session_->id,
                                      .sequence = session_->sequence});
  session_->sequence = 0;
  token_ = 0;
  if (!answer) return Status::timeout("delete: no answer from the ensemble");
  return answer->status.is_conflict() ? Status::ok() : answer->status;
}

// closeSession: one attempt (an exiting process does not retry); the pinging stops either way, so
// a close that did not arrive ends in the session's expiry.
void ZooKeeperLockClient::close() {
  if (!session_ || !session_->alive) return;
  if (session_->connection != Connection::expired) {
    call(ZooKeeperRequest{.kind = ZooKeeperRequest::Kind::close, .session = session_->id});
  }
  session_->alive = false;
  session_->sequence = 0;
  token_ = 0;
}

}  // namespace rehearse::sim
