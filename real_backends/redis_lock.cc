// The Redis lock client of live mode: one RedisLockNode behind a mutex, its answers mapped to
// the LockClient contract (conflict when another holder has the key).
#include "real_backends/redis_lock.h"

namespace rehearse::live {

namespace {
constexpr int kTimeoutMs = 1000;
}  // namespace

RedisLockClient::RedisLockClient(RedisEndpoint endpoint, std::string key, std::string holder, const StopSignal& stop)
    : stop_(stop), node_(std::move(endpoint), std::move(key), std::move(holder), kTimeoutMs) {}

Result<Lease> RedisLockClient::try_acquire(TimeUs ttl_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Result<long long> token = node_.acquire(ttl_us);
  if (!token.is_ok()) return token.status();
  if (token.value() == 0) return Status::conflict("the lock is held");
  return Lease{static_cast<std::int64_t>(token.value()), 0, ttl_us};
}

Status RedisLockClient::renew(const Lease& /*lease*/, TimeUs ttl_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Result<bool> extended = node_.extend(ttl_us);
  if (!extended.is_ok()) return extended.status();
  return extended.value() ? Status::ok() : Status::conflict("the lease is no longer ours");
}

Status RedisLockClient::release(const Lease& /*lease*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  return node_.release();
}

Status RedisLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  return node_.ping();
}

}  // namespace rehearse::live
