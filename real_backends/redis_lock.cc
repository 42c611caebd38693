// The Redis lock client of live mode: one RedisLockNode per endpoint behind a mutex, the master
// found by ROLE when there are several, its answers mapped to the LockClient contract (conflict
// when another holder has the key).
#include "real_backends/redis_lock.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::live {

namespace {
constexpr int kTimeoutMs = 1000;
}  // namespace

RedisLockClient::RedisLockClient(const std::vector<RedisEndpoint>& endpoints, std::string key, std::string holder,
                                 const StopSignal& stop)
    : stop_(stop) {
  REHEARSE_ASSERT(!endpoints.empty());
  for (const auto& endpoint : endpoints) nodes_.push_back(std::make_unique<RedisLockNode>(endpoint, key, holder, kTimeoutMs));
  REHEARSE_ASSERT(nodes_.size() == endpoints.size());
}

// Caller holds mutex_. Each endpoint's ROLE costs a round trip (a stopped server refuses at once
// on loopback; one that does not answer costs the 1 s timeout): the lock's requests are few
// (an acquisition attempt, a renewal every renew_every), so asking at every request is cheap.
Result<RedisLockNode*> RedisLockClient::master() {
  if (nodes_.size() == 1) return nodes_.front().get();
  std::string seen;
  for (auto& node : nodes_) {
    Result<std::string> role = node->role();
    if (role.is_ok() && role.value() == "master") return node.get();
    seen += fmt::format("{}{}:{} {}", seen.empty() ? "" : ", ", node->endpoint().host, node->endpoint().port,
                        role.is_ok() ? "is a " + role.value() : role.status().message());
  }
  return Status::unavailable(fmt::format("no Redis endpoint answers ROLE as master ({})", seen));
}

Result<Lease> RedisLockClient::try_acquire(TimeUs ttl_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Result<RedisLockNode*> node = master();
  if (!node.is_ok()) return node.status();
  Result<long long> token = node.value()->acquire(ttl_us);
  if (!token.is_ok()) return token.status();
  if (token.value() == 0) return Status::conflict("the lock is held");
  return Lease{static_cast<std::int64_t>(token.value()), 0, ttl_us};
}

Status RedisLockClient::renew(const Lease& /*lease*/, TimeUs ttl_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Result<RedisLockNode*> node = master();
  if (!node.is_ok()) return node.status();
  Result<bool> extended = node.value()->extend(ttl_us);
  if (!extended.is_ok()) return extended.status();
  return extended.value() ? Status::ok() : Status::conflict("the lease is no longer ours");
}

Status RedisLockClient::release(const Lease& /*lease*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Result<RedisLockNode*> node = master();
  if (!node.is_ok()) return node.status();
  return node.value()->release();
}

Result<std::string> RedisLockClient::holder_value(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<RedisLockNode*> node = master();
  if (!node.is_ok()) return node.status();
  Result<RedisValue> value = redis_command_once(node.value()->endpoint(), {"GET", key});
  if (!value.is_ok()) return value.status();
  return value.value().nil ? std::string() : value.value().text;
}

Status RedisLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& node : nodes_) {
    Status pong = node->ping();
    if (!pong.is_ok()) return pong;
  }
  return Status::ok();
}

}  // namespace rehearse::live
