// The simulated Redis lock backend: one node's commands and key expiry, asynchronous
// replication to the replica and its promotion, and the engine's client.
#include "sim/lock_store_redis.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

// ---- RedisLockStore ----

RedisLockStore::RedisLockStore(Node& node, bool persistence, Sink sink)
    : node_(node), persistence_(persistence), sink_(std::move(sink)) {}

std::string RedisLockStore::holder_of(const std::string& value) {
  const auto colon = value.rfind(':');
  return colon == std::string::npos ? value : value.substr(0, colon);
}

void RedisLockStore::wrote() {
  if (on_write_) on_write_();
}

void RedisLockStore::expire_if_due() {
  if (replica_ || !keyspace_.value || node_.local_now() < keyspace_.expires_at_us) return;
  sink_(Event{.kind = EventKind::lock_expire, .actor = holder_of(*keyspace_.value),
              .detail = "key expired on the store's clock"});
  keyspace_.value.reset();
  wrote();  // the master replicates the DEL of an expired key
}

std::int64_t RedisLockStore::acquire(const std::string& value, TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  REHEARSE_ASSERT(!replica_);
  expire_if_due();
  if (keyspace_.value) return 0;
  const std::int64_t token = ++keyspace_.counter;
  keyspace_.value = value;
  keyspace_.expires_at_us = node_.local_now() + ttl_us;
  sink_(Event{.kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = token, .actor = holder_of(value)});
  wrote();
  REHEARSE_ASSERT(token >= 1);
  return token;
}

bool RedisLockStore::renew(const std::string& value, TimeUs ttl_us) {
  REHEARSE_ASSERT(!replica_);
  expire_if_due();
  if (!keyspace_.value || *keyspace_.value != value) return false;
  keyspace_.expires_at_us = node_.local_now() + ttl_us;
  wrote();
  return true;
}

bool RedisLockStore::release(const std::string& value) {
  REHEARSE_ASSERT(!replica_);
  expire_if_due();
  if (!keyspace_.value || *keyspace_.value != value) return false;
  keyspace_.value.reset();
  wrote();
  return true;
}

std::optional<std::string> RedisLockStore::value() {
  expire_if_due();
  return keyspace_.value;
}

std::optional<std::string> RedisLockStore::holder() {
  const auto current = value();
  if (!current) return std::nullopt;
  return holder_of(*current);
}

void RedisLockStore::on_restart() {
  if (persistence_) return;
  keyspace_ = Keyspace{};  // the token counter is lost too: tokens can go backwards
  wrote();                 // an empty master wipes its replica on the next sync
}

// ---- RedisLockService ----

RedisLockService::RedisLockService(LockServiceContext context) : context_(std::move(context)) {
  REHEARSE_ASSERT(!context_.nodes.empty());
  REHEARSE_ASSERT(context_.nodes.size() == (context_.spec.replica ? 2u : 1u));
  for (Node* node : context_.nodes) {
    const std::string name = node->name();
    auto sink = [this, name](Event event) {
      event.node = name;
      context_.append(std::move(event));
    };
    stores_.push_back(std::make_unique<RedisLockStore>(*node, context_.spec.persistence, sink));
    queues_.push_back(std::make_unique<OverloadQueue>(context_.kernel, *node, context_.spec.max_ops_per_s));
    const std::size_t index = stores_.size() - 1;
    node->on_restart = [this, index] {
      stores_[index]->on_restart();
      if (index != master_) replicate();  // a replica that comes back asks for a full resync
    };
  }
  for (std::size_t i = 0; i < stores_.size(); ++i) {
    stores_[i]->set_replica(i != master_);
    stores_[i]->set_on_write([this, i] {
      if (i == master_) replicate();
    });
  }
}

std::unique_ptr<LockClient> RedisLockService::make_client(Node& engine, const std::string& stream) {
  return std::make_unique<RedisLockClient>(*this, engine, Rng(context_.seed, stream), stream);
}

std::optional<std::string> RedisLockService::holder() { return stores_[master_]->holder(); }

// The master sends its whole keyspace after every write; the replica applies the newest it got.
void RedisLockService::replicate() {
  if (stores_.size() < 2) return;
  const std::size_t replica = 1 - master_;
  const std::uint64_t offset = ++replication_sent_;
  const RedisLockStore::Keyspace keyspace = stores_[master_]->keyspace();
  context_.network.send(stores_[master_]->node(), stores_[replica]->node(), [this, replica, offset, keyspace] {
    if (replica == master_ || offset <= replication_applied_) return;
    replication_applied_ = offset;
    stores_[replica]->load(keyspace);
  });
}

FailoverOutcome RedisLockService::failover() {
  if (stores_.size() < 2) return {false, "no replica to promote (lock.replica is false)"};
  const std::size_t old_master = master_;
  RedisLockStore& promoted = *stores_[1 - old_master];
  if (!promoted.node().up()) return {false, fmt::format("the replica {} is down", promoted.node().name())};
  const std::int64_t old_counter = stores_[old_master]->counter();
  master_ = 1 - old_master;
  promoted.set_replica(false);
  stores_[old_master]->set_replica(true);
  stores_[old_master]->load(promoted.keyspace());  // demoted and resynchronised: its unreplicated writes are gone
  replication_applied_ = replication_sent_;
  const auto value = promoted.value();
  std::string detail = fmt::format("{} promoted: the key is {}, the token counter is {}", promoted.node().name(),
                                   value ? "held by " + RedisLockStore::holder_of(*value) : std::string("free"),
                                   promoted.counter());
  if (promoted.counter() < old_counter) {
    detail += fmt::format(" (it was {} on {}: tokens go backwards)", old_counter, stores_[old_master]->node().name());
  }
  context_.append(Event{.node = promoted.node().name(), .kind = EventKind::message, .detail = detail});
  return {true, detail};
}

void RedisLockService::serve_at(Node& node, std::function<RedisAnswer(RedisLockStore&)> command,
                                Respond<RedisAnswer> respond, const std::string& client, bool dropped) {
  std::size_t index = 0;
  while (index < stores_.size() && &stores_[index]->node() != &node) ++index;
  REHEARSE_ASSERT(index < stores_.size());
  if (index != master_) {
    respond(Status::unavailable("READONLY You can't write against a read only replica"));
    return;
  }
  RedisLockStore& store = *stores_[index];
  // Checked again when the command runs: a failover may demote the node while it is queued.
  auto run = [&store, command]() -> RedisAnswer {
    if (store.replica()) return Status::unavailable("READONLY You can't write against a read only replica");
    return command(store);
  };
  serve<RedisAnswer>(context_.kernel, *queues_[index], kLockCommandUs, run,
                     Status::unavailable("the lock store's request queue is full (max_ops_per_s)"), std::move(respond), client, dropped);
}

// ---- RedisLockClient ----

RedisLockClient::RedisLockClient(RedisLockService& service, Node& self, Rng rng, std::string connection)
    : service_(service), self_(self), rng_(rng), connection_(std::move(connection)) {}

std::optional<RedisAnswer> RedisLockClient::request(std::function<RedisAnswer(RedisLockStore&)> command) {
  RedisLockService& service = service_;
  Node& master = service.master_node();
  auto answer = service.network().call_async<RedisAnswer>(
      self_, master, kLockRequestTimeoutUs,
      [&service, &master, command = std::move(command), connection = connection_,
       dropped = dropped_](Respond<RedisAnswer> respond) {
        service.serve_at(master, command, std::move(respond), connection, dropped);
      });
  dropped_ = !answer.has_value();  // a timed-out connection is closed; the next request opens another
  return answer;
}

Result<Lease> RedisLockClient::try_acquire(TimeUs ttl_us) {
  const std::string value = fmt::format("{}:{:016x}", self_.name(), rng_.next());
  auto answer = request([value, ttl_us](RedisLockStore& store) -> RedisAnswer {
    const std::int64_t token = store.acquire(value, ttl_us);
    if (token == 0) return Status::conflict("the lock is held");
    return token;
  });
  if (!answer) return Status::timeout("no reply from the lock store");
  if (!answer->is_ok()) return answer->status();
  value_ = value;
  token_ = answer->value();
  return Lease{token_, 0, ttl_us};
}

Status RedisLockClient::renew(const Lease& lease, TimeUs ttl_us) {
  if (lease.token != token_) return Status::conflict("not the lease this client holds");
  const std::string value = value_;
  auto answer = request([value, ttl_us](RedisLockStore& store) -> RedisAnswer {
    if (!store.renew(value, ttl_us)) return Status::conflict("the key no longer holds our value");
    return 1;
  });
  if (!answer) return Status::timeout("no reply from the lock store");
  return answer->status();
}

Status RedisLockClient::release(const Lease& lease) {
  if (lease.token != token_) return Status::ok();
  const std::string value = value_;
  auto answer = request([value](RedisLockStore& store) -> RedisAnswer {
    store.release(value);
    return 1;  // already gone is fine: the lease is over either way
  });
  value_.clear();
  token_ = 0;
  if (!answer) return Status::timeout("no reply from the lock store");
  return answer->status();
}

}  // namespace rehearse::sim
