// The simulated etcd backend: leases, the lock key and their expiry at the leader, and the
// engine's client.
#include "sim/lock_store_etcd.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

namespace {

ConsensusGroup::Options etcd_options() {
  return ConsensusGroup::Options{"etcd", EtcdCluster::kHeartbeatUs, EtcdCluster::kElectionTimeoutUs};
}

}  // namespace

// ---- EtcdCluster ----

EtcdCluster::EtcdCluster(LockServiceContext context)
    : context_(std::move(context)),
      group_(context_.kernel, context_.network, context_.nodes, etcd_options(), Rng(context_.seed, "etcd-elections"),
             context_.append) {
  for (std::size_t i = 0; i < context_.nodes.size(); ++i) {
    queues_.push_back(std::make_unique<OverloadQueue>(context_.kernel, *context_.nodes[i], context_.spec.max_ops_per_s));
  }
  group_.start([this] { expire_leases(); }, [this] { extend_leases(); });
}

std::unique_ptr<LockClient> EtcdCluster::make_client(Node& engine, const std::string& stream) {
  return std::make_unique<EtcdLockClient>(*this, engine, Rng(context_.seed, stream));
}

std::optional<std::string> EtcdCluster::holder() {
  if (!key_) return std::nullopt;
  return key_->holder;
}

FailoverOutcome EtcdCluster::failover() {
  const auto old_leader = group_.step_down();
  if (!old_leader) return {false, "the etcd cluster has no leader to fail over"};
  return {true, fmt::format("{} stepped down; a new leader is elected after an election timeout", *old_leader)};
}

TimeUs EtcdCluster::leader_clock() const {
  const auto leader = group_.leader();
  return leader ? group_.member(*leader).monotonic_now() : 0;
}

std::optional<TimeUs> EtcdCluster::lease_expiry(std::int64_t lease) const {
  auto it = leases_.find(lease);
  if (it == leases_.end()) return std::nullopt;
  return it->second.expires_at_us;
}

void EtcdCluster::emit(Event event) {
  const auto leader = group_.leader();
  event.node = leader ? group_.member(*leader).name() : "etcd";
  context_.append(std::move(event));
}

void EtcdCluster::handle(std::size_t via, const EtcdRequest& request, Respond<EtcdAnswer> respond) {
  REHEARSE_ASSERT(via < queues_.size());
  OverloadQueue& queue = *queues_[via];
  if (!queue.limited()) {
    serve(via, request, std::move(respond));
    return;
  }
  if (!queue.enqueue([this, via, request, respond] { serve(via, request, respond); })) {
    respond(EtcdAnswer{Status::unavailable("etcdserver: too many requests")});
  }
}

void EtcdCluster::serve(std::size_t via, const EtcdRequest& request, Respond<EtcdAnswer> respond) {
  if (request.kind == EtcdRequest::Kind::keep_alive) {  // served by the leader's lessor, not the log
    if (!group_.serving(via)) {
      respond(EtcdAnswer{Status::unavailable("etcdserver: no leader")});
      return;
    }
    EtcdAnswer answer = keep_alive(request.lease);
    context_.kernel.after(kLockCommandUs, [respond, answer] { respond(answer); });
    return;
  }
  group_.commit<EtcdAnswer>(via, [this, request] { return apply(request); },
                            EtcdAnswer{Status::unavailable("etcdserver: no leader")}, std::move(respond));
}

EtcdAnswer EtcdCluster::apply(const EtcdRequest& request) {
  switch (request.kind) {
    case EtcdRequest::Kind::grant: return grant(request.holder, request.ttl_us);
    case EtcdRequest::Kind::keep_alive: return keep_alive(request.lease);
    case EtcdRequest::Kind::lock: return lock(request.lease, request.holder);
    case EtcdRequest::Kind::revoke: return revoke(request.lease, false);
  }
  return EtcdAnswer{Status::invalid("unknown request")};
}

EtcdAnswer EtcdCluster::grant(const std::string& holder, TimeUs ttl_us) {
  const TimeUs ttl = std::max(ttl_us, kMinimumTtlUs);
  const std::int64_t id = next_lease_++;
  leases_[id] = Lease{holder, ttl, leader_clock() + ttl};
  return EtcdAnswer{Status::ok(), id, ttl, 0};
}

EtcdAnswer EtcdCluster::keep_alive(std::int64_t lease) {
  auto it = leases_.find(lease);
  if (it == leases_.end()) return EtcdAnswer{Status::conflict("etcdserver: requested lease not found")};
  it->second.expires_at_us = leader_clock() + it->second.ttl_us;
  return EtcdAnswer{Status::ok(), lease, it->second.ttl_us, 0};
}

// Txn(If(CreateRevision(key) == 0), Then(Put(key, holder, WithLease(lease)))).
EtcdAnswer EtcdCluster::lock(std::int64_t lease, const std::string& holder) {
  if (leases_.count(lease) == 0) return EtcdAnswer{Status::conflict("etcdserver: requested lease not found")};
  if (key_) {
    if (key_->lease == lease) return EtcdAnswer{Status::ok(), lease, 0, key_->create_revision};
    return EtcdAnswer{Status::conflict(fmt::format("the lock key is held by {}", key_->holder))};
  }
  key_ = LockKey{holder, lease, ++revision_};
  emit(Event{.kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = key_->create_revision, .actor = holder});
  return EtcdAnswer{Status::ok(), lease, 0, key_->create_revision};
}

EtcdAnswer EtcdCluster::revoke(std::int64_t lease, bool expired) {
  auto it = leases_.find(lease);
  if (it == leases_.end()) return EtcdAnswer{Status::ok(), lease};
  leases_.erase(it);
  if (key_ && key_->lease == lease) {
    if (expired) {
      emit(Event{.kind = EventKind::lock_expire, .token = key_->create_revision, .actor = key_->holder,
                 .detail = "lease expired on the leader's monotonic clock"});
    }
    key_.reset();
    ++revision_;  // the delete is a revision too
  }
  return EtcdAnswer{Status::ok(), lease};
}

// On every tick: a leader that can commit revokes the leases that expired on its clock.
void EtcdCluster::expire_leases() {
  if (!group_.leader_can_commit()) return;
  const TimeUs now = leader_clock();
  std::vector<std::int64_t> expired;
  for (const auto& [id, lease] : leases_) {
    if (lease.expires_at_us <= now) expired.push_back(id);
  }
  for (std::int64_t id : expired) revoke(id, true);
}

// A new leader does not know when the old one last heard a keepalive: it restarts every lease
// at a full TTL plus an election timeout on its own clock.
void EtcdCluster::extend_leases() {
  const TimeUs now = leader_clock();
  for (auto& [id, lease] : leases_) lease.expires_at_us = now + lease.ttl_us + kElectionTimeoutUs;
  if (key_) {
    emit(Event{.kind = EventKind::message, .token = key_->create_revision, .actor = key_->holder,
               .detail = "new leader: every lease extended by a TTL plus an election timeout"});
  }
}

// ---- EtcdLockClient ----

EtcdLockClient::EtcdLockClient(EtcdCluster& cluster, Node& self, Rng rng) : cluster_(cluster), self_(self), rng_(rng) {
  const auto& members = cluster_.group().members();
  endpoint_ = rng_.below(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i]->region() == self_.region()) {
      endpoint_ = i;  // the nearest member first
      break;
    }
  }
}

std::optional<EtcdAnswer> EtcdLockClient::call(const EtcdRequest& request) {
  EtcdCluster& cluster = cluster_;
  const std::size_t via = endpoint_;
  auto answer = cluster.network().call_async<EtcdAnswer>(
      self_, cluster.group().member(via), kClusterRequestTimeoutUs,
      [&cluster, via, request](Respond<EtcdAnswer> respond) { cluster.handle(via, request, std::move(respond)); });
  if (!answer || answer->status.is_unavailable()) endpoint_ = (endpoint_ + 1) % cluster_.group().size();
  return answer;
}

Result<Lease> EtcdLockClient::try_acquire(TimeUs ttl_us) {
  const TimeUs start = self_.local_now();
  auto granted = call(EtcdRequest{EtcdRequest::Kind::grant, self_.name(), 0, ttl_us});
  if (!granted) return Status::timeout("lease grant: no answer from etcd");
  if (!granted->status.is_ok()) return granted->status;
  lease_ = granted->lease;
  deadline_local_us_ = start + granted->ttl_us;
  auto locked = call(EtcdRequest{EtcdRequest::Kind::lock, self_.name(), lease_, 0});
  if (!locked) return Status::timeout("lock: no answer from etcd");
  if (!locked->status.is_ok()) return locked->status;  // held: our key-less lease simply expires
  token_ = locked->revision;
  return Lease{token_, 0, granted->ttl_us};
}

Status EtcdLockClient::renew(const Lease& lease, TimeUs ttl_us) {
  (void)ttl_us;  // the lease keeps the TTL it was granted with
  if (lease.token != token_ || lease_ == 0) return Status::conflict("not the lease this client holds");
  const TimeUs sent = self_.local_now();
  auto answer = call(EtcdRequest{EtcdRequest::Kind::keep_alive, "", lease_, 0});
  if (answer && answer->status.is_ok()) {
    deadline_local_us_ = sent + answer->ttl_us;
    return Status::ok();
  }
  if (answer && answer->status.is_conflict()) return answer->status;
  if (self_.local_now() >= deadline_local_us_) {
    lease_ = 0;
    return Status::conflict("no keepalive answered before the lease's deadline: the lease is gone");
  }
  return answer ? answer->status : Status::timeout("keepalive: no answer from etcd");
}

Status EtcdLockClient::release(const Lease& lease) {
  if (lease.token != token_ || lease_ == 0) return Status::ok();
  auto answer = call(EtcdRequest{EtcdRequest::Kind::revoke, "", lease_, 0});
  lease_ = 0;
  token_ = 0;
  if (!answer) return Status::timeout("revoke: no answer from etcd");
  return answer->status;
}

}  // namespace rehearse::sim
