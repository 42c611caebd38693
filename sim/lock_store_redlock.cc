// The simulated Redlock backend: independent masters and the quorum client algorithm.
#include "sim/lock_store_redlock.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/assert.h"
#include "sim/lock_rpc.h"

namespace rehearse::sim {

namespace {
constexpr TimeUs kClockDriftFloorUs = 2 * kMs;  // the "+ 2 ms" of the Redlock drift allowance
constexpr TimeUs kNodeTimeoutMinUs = 50 * kMs;
}  // namespace

// ---- RedlockService ----

RedlockService::RedlockService(LockServiceContext context) : context_(std::move(context)) {
  REHEARSE_ASSERT(context_.nodes.size() >= 1);
  for (Node* node : context_.nodes) {
    const std::string name = node->name();
    auto sink = [this, name](Event event) {
      event.node = name;
      context_.append(std::move(event));
    };
    stores_.push_back(std::make_unique<RedisLockStore>(*node, context_.spec.persistence, sink));
    queues_.push_back(std::make_unique<OverloadQueue>(context_.kernel, *node, context_.spec.max_ops_per_s));
    RedisLockStore* store = stores_.back().get();
    node->on_restart = [store] { store->on_restart(); };
  }
}

std::unique_ptr<LockClient> RedlockService::make_client(Node& engine, const std::string& stream) {
  return std::make_unique<RedlockClient>(*this, engine, Rng(context_.seed, stream));
}

std::optional<std::string> RedlockService::holder() {
  std::map<std::string, std::size_t> masters_by_holder;
  for (auto& store : stores_) {
    if (!store->node().up()) continue;
    if (auto holder = store->holder()) ++masters_by_holder[*holder];
  }
  for (const auto& [holder, count] : masters_by_holder) {
    if (count >= quorum()) return holder;
  }
  return std::nullopt;
}

FailoverOutcome RedlockService::failover() {
  return {false, "Redlock masters are independent and have no replica to promote"};
}

TimeUs RedlockService::restart_delay(const Node& node, TimeUs requested_us) const {
  (void)node;
  if (!context_.spec.delayed_restart) return requested_us;
  return std::max(requested_us, context_.spec.ttl_us);  // every lease it granted has expired by then
}

void RedlockService::serve_at(std::size_t index, std::function<RedisAnswer(RedisLockStore&)> command,
                              Respond<RedisAnswer> respond) {
  REHEARSE_ASSERT(index < stores_.size());
  RedisLockStore& store = *stores_[index];
  serve<RedisAnswer>(context_.kernel, *queues_[index], kLockCommandUs, [&store, command] { return command(store); },
                     Status::unavailable("the master's request queue is full (max_ops_per_s)"), std::move(respond));
}

// ---- RedlockClient ----

RedlockClient::RedlockClient(RedlockService& service, Node& self, Rng rng) : service_(service), self_(self), rng_(rng) {}

TimeUs RedlockClient::node_timeout(TimeUs ttl_us) { return std::max(kNodeTimeoutMinUs, ttl_us / 20); }

std::vector<std::optional<RedisAnswer>> RedlockClient::on_every_master(
    std::function<RedisAnswer(RedisLockStore&)> command, TimeUs timeout_us) {
  RedlockService& service = service_;
  return call_all<RedisAnswer>(service.kernel(), service.network(), self_, service.nodes(), timeout_us,
                               [&service, command](std::size_t index, Respond<RedisAnswer> respond) {
                                 service.serve_at(index, command, std::move(respond));
                               });
}

void RedlockClient::release_everywhere(const std::string& value) {
  on_every_master(
      [value](RedisLockStore& store) -> RedisAnswer {
        store.release(value);
        return 1;
      },
      node_timeout(service_.spec().ttl_us));
}

Result<Lease> RedlockClient::try_acquire(TimeUs ttl_us) {
  const std::string value = fmt::format("{}:{:016x}", self_.name(), rng_.next());
  const TimeUs start = self_.local_now();
  const auto answers = on_every_master(
      [value, ttl_us](RedisLockStore& store) -> RedisAnswer {
        const std::int64_t token = store.acquire(value, ttl_us);
        if (token == 0) return Status::conflict("held");
        return token;
      },
      node_timeout(ttl_us));
  std::size_t granted = 0;
  std::size_t refused = 0;
  std::int64_t token = 0;
  for (const auto& answer : answers) {
    if (answer && answer->is_ok()) {
      ++granted;
      token = std::max(token, answer->value());
    } else if (answer && answer->status().is_conflict()) {
      ++refused;
    }
  }
  const TimeUs elapsed = self_.local_now() - start;
  const TimeUs drift = static_cast<TimeUs>(service_.spec().drift_factor * static_cast<double>(ttl_us)) + kClockDriftFloorUs;
  const TimeUs validity = ttl_us - elapsed - drift;
  if (granted >= service_.quorum() && validity > 0) {
    value_ = value;
    token_ = token;
    valid_until_local_us_ = start + ttl_us - drift;
    return Lease{token, 0, ttl_us - drift};  // valid until start + TTL - drift
  }
  release_everywhere(value);  // also where the answer was lost: the value is ours alone
  const std::string tally = fmt::format("{} of {} masters granted, {} refused, validity {} ms", granted,
                                        service_.size(), refused, validity / kMs);
  if (refused > 0) return Status::conflict(tally);
  return Status::unavailable(tally);
}

Status RedlockClient::renew(const Lease& lease, TimeUs ttl_us) {
  if (lease.token != token_ || value_.empty()) return Status::conflict("not the lease this client holds");
  const std::string value = value_;
  const TimeUs start = self_.local_now();
  const auto answers = on_every_master(
      [value, ttl_us](RedisLockStore& store) -> RedisAnswer {
        if (!store.renew(value, ttl_us)) return Status::conflict("not ours");
        return 1;
      },
      node_timeout(ttl_us));
  std::size_t extended = 0;
  std::size_t refused = 0;
  for (const auto& answer : answers) {
    if (answer && answer->is_ok()) ++extended;
    if (answer && answer->status().is_conflict()) ++refused;
  }
  const TimeUs drift = static_cast<TimeUs>(service_.spec().drift_factor * static_cast<double>(ttl_us)) + kClockDriftFloorUs;
  const bool valid = ttl_us - (self_.local_now() - start) - drift > 0;
  if (extended >= service_.quorum() && valid) {
    valid_until_local_us_ = start + ttl_us - drift;
    return Status::ok();
  }
  const std::string tally = fmt::format("extended on {} of {} masters, {} refused", extended, service_.size(), refused);
  const bool expired = self_.local_now() >= valid_until_local_us_;
  if (service_.size() - refused < service_.quorum() || expired) {
    release_everywhere(value);  // a majority is gone for good: the lock is lost
    value_.clear();
    return Status::conflict(tally);
  }
  return Status::timeout(tally);
}

Status RedlockClient::release(const Lease& lease) {
  if (lease.token != token_ || value_.empty()) return Status::ok();
  release_everywhere(value_);
  value_.clear();
  token_ = 0;
  return Status::ok();
}

}  // namespace rehearse::sim
