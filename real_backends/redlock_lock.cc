// Redlock over independent Redis masters: the quorum, the validity with clock drift, the token
// as the maximum of the quorum's counters, and the release everywhere after a failed attempt.
#include "real_backends/redlock_lock.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::live {

namespace {
constexpr TimeUs kNodeTimeoutMinUs = 50 * kMs;
constexpr TimeUs kNodeTimeoutMaxUs = 1 * kSec;
constexpr TimeUs kDriftFloorUs = 2 * kMs;  // Redlock's allowance for the expiry's resolution
static_assert(kNodeTimeoutMinUs < kNodeTimeoutMaxUs);

TimeUs since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

RedlockLockClient::RedlockLockClient(std::vector<RedisEndpoint> masters, std::string key, std::string holder, double drift_factor,
                                     const StopSignal& stop)
    : stop_(stop), drift_factor_(drift_factor) {
  REHEARSE_ASSERT(!masters.empty());
  REHEARSE_ASSERT(drift_factor >= 0.0);
  REHEARSE_ASSERT(drift_factor < 1.0);
  for (auto& master : masters) {
    nodes_.push_back(std::make_unique<RedisLockNode>(std::move(master), key, holder, static_cast<int>(kNodeTimeoutMaxUs / kMs)));
  }
}

TimeUs RedlockLockClient::drift_us(TimeUs ttl_us) const {
  return static_cast<TimeUs>(drift_factor_ * static_cast<double>(ttl_us)) + kDriftFloorUs;
}

// A master that does not answer must cost only a small part of the TTL.
void RedlockLockClient::set_node_timeouts(TimeUs ttl_us) {
  const TimeUs timeout_us = std::clamp(ttl_us / 20, kNodeTimeoutMinUs, kNodeTimeoutMaxUs);
  for (auto& node : nodes_) node->set_timeout_ms(static_cast<int>(timeout_us / kMs));
}

// After a failed attempt: a master whose answer was lost may hold our key; free it everywhere
// (compare-and-DEL leaves other holders' keys alone). Errors are ignored on purpose: the key
// then expires at its TTL.
void RedlockLockClient::release_everywhere() {
  for (auto& node : nodes_) (void)node->release();
}

Result<Lease> RedlockLockClient::try_acquire(TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  set_node_timeouts(ttl_us);
  const auto start = std::chrono::steady_clock::now();
  int granted = 0;
  int refused = 0;
  long long token = 0;
  std::string last_error;
  for (auto& node : nodes_) {
    Result<long long> answer = node->acquire(ttl_us);
    if (!answer.is_ok()) {
      last_error = answer.status().message();
    } else if (answer.value() == 0) {
      ++refused;
    } else {
      ++granted;
      token = std::max(token, answer.value());
    }
  }
  const TimeUs validity_us = ttl_us - since(start) - drift_us(ttl_us);
  if (granted >= quorum() && validity_us > 0) {
    REHEARSE_ASSERT(token > 0);
    valid_until_ = start + std::chrono::microseconds(ttl_us - drift_us(ttl_us));
    return Lease{static_cast<std::int64_t>(token), 0, validity_us};
  }
  release_everywhere();
  if (granted >= quorum()) return Status::timeout(fmt::format("redlock: a majority granted, but too late (validity {} ms)", validity_us / kMs));
  if (refused >= quorum() || granted + refused == static_cast<int>(nodes_.size())) {
    return Status::conflict(fmt::format("the lock is held ({} of {} masters granted)", granted, nodes_.size()));
  }
  return Status::unavailable(fmt::format("redlock: {} of {} masters granted, {} refused; {}", granted, nodes_.size(), refused, last_error));
}

Status RedlockLockClient::renew(const Lease& /*lease*/, TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  set_node_timeouts(ttl_us);
  const auto start = std::chrono::steady_clock::now();
  int extended = 0;
  int refused = 0;
  for (auto& node : nodes_) {
    Result<bool> answer = node->extend(ttl_us);
    if (answer.is_ok()) ++(answer.value() ? extended : refused);
  }
  const TimeUs validity_us = ttl_us - since(start) - drift_us(ttl_us);
  if (extended >= quorum() && validity_us > 0) {
    valid_until_ = start + std::chrono::microseconds(ttl_us - drift_us(ttl_us));
    return Status::ok();
  }
  if (refused >= quorum()) return Status::conflict("redlock: a majority of masters no longer hold our key");
  if (std::chrono::steady_clock::now() >= valid_until_) return Status::conflict("redlock: the validity ran out before an extension");
  return Status::timeout(fmt::format("redlock: {} of {} masters extended", extended, nodes_.size()));
}

Status RedlockLockClient::release(const Lease& /*lease*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  int failed = 0;
  Status last = Status::ok();
  for (auto& node : nodes_) {
    Status released = node->release();
    if (!released.is_ok()) {
      ++failed;
      last = released;
    }
  }
  valid_until_ = {};
  return static_cast<int>(nodes_.size()) - failed >= quorum() ? Status::ok() : last;
}

Status RedlockLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& node : nodes_) {
    Status answered = node->ping();
    if (!answered.is_ok()) return answered;
  }
  return Status::ok();
}

}  // namespace rehearse::live
