// The simulated Redis lock store's commands and key expiry.
#include "sim/lock_store_redis.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

RedisLockStore::RedisLockStore(Node& node, bool persistence, Sink sink)
    : node_(node), persistence_(persistence), sink_(std::move(sink)) {}

std::string RedisLockStore::value_of(const std::string& holder, std::int64_t token) {
  return fmt::format("{}:{}", holder, token);
}

std::string RedisLockStore::holder_of(const std::string& value) {
  const auto colon = value.rfind(':');
  return colon == std::string::npos ? value : value.substr(0, colon);
}

void RedisLockStore::expire_if_due() {
  if (!value_ || node_.local_now() < expires_at_local_us_) return;
  sink_(Event{.kind = EventKind::lock_expire, .actor = holder_of(*value_), .detail = "key expired on the store's clock"});
  value_.reset();
}

std::int64_t RedisLockStore::acquire(const std::string& holder, TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  expire_if_due();
  if (value_) return 0;
  const std::int64_t token = ++counter_;
  value_ = value_of(holder, token);
  expires_at_local_us_ = node_.local_now() + ttl_us;
  sink_(Event{.kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = token, .actor = holder});
  return token;
}

bool RedisLockStore::renew(const std::string& value, TimeUs ttl_us) {
  expire_if_due();
  if (!value_ || *value_ != value) return false;
  expires_at_local_us_ = node_.local_now() + ttl_us;
  return true;
}

bool RedisLockStore::release(const std::string& value) {
  expire_if_due();
  if (!value_ || *value_ != value) return false;
  value_.reset();
  return true;
}

std::optional<std::string> RedisLockStore::holder() {
  expire_if_due();
  if (!value_) return std::nullopt;
  return holder_of(*value_);
}

void RedisLockStore::on_restart() {
  if (persistence_) return;
  value_.reset();
  counter_ = 0;  // the token counter is lost too: tokens can go backwards
}

}  // namespace rehearse::sim
