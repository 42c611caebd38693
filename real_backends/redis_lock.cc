// The Redis lock client of live mode: Lua scripts for acquire (with a fencing token), renew
// and release, and failures mapped to Status values.
#include "real_backends/redis_lock.h"

#include <sys/time.h>

#include <charconv>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

namespace rehearse::live {

namespace {
constexpr int kTimeoutMs = 1000;

// KEYS[1] the lock, KEYS[2] its token counter; ARGV[1] our value, ARGV[2] the TTL in ms.
constexpr const char* kAcquireScript =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "return redis.call('INCR', KEYS[2]) else return -1 end";
constexpr const char* kRenewScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return -1 end";
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) else return 0 end";

timeval to_timeval(int milliseconds) {
  timeval tv{};
  tv.tv_sec = milliseconds / 1000;
  tv.tv_usec = (milliseconds % 1000) * 1000;
  return tv;
}
}  // namespace

Result<RedisEndpoint> parse_redis_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::invalid(fmt::format("'{}' is not HOST:PORT", text));
  RedisEndpoint endpoint{text.substr(0, colon), 0};
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(begin, end, endpoint.port);
  if (error != std::errc() || stop != end || endpoint.port <= 0 || endpoint.port > 65535) {
    return Status::invalid(fmt::format("'{}' has no valid port", text));
  }
  return endpoint;
}

RedisLockClient::RedisLockClient(RedisEndpoint endpoint, std::string key, std::string holder, const StopSignal& stop)
    : endpoint_(std::move(endpoint)), key_(std::move(key)), value_(std::move(holder)), stop_(stop) {}

RedisLockClient::~RedisLockClient() { disconnect(); }

void RedisLockClient::disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

Status RedisLockClient::connect() {
  if (context_ != nullptr) return Status::ok();
  context_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(kTimeoutMs));
  if (context_ == nullptr || context_->err != 0) {
    const std::string why = context_ == nullptr ? "out of memory" : context_->errstr;
    disconnect();
    return Status::unavailable(fmt::format("redis {}:{}: {}", endpoint_.host, endpoint_.port, why));
  }
  redisSetTimeout(context_, to_timeval(kTimeoutMs));
  return Status::ok();
}

Result<long long> RedisLockClient::eval(const char* script, TimeUs ttl_us) {
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Status connected = connect();
  if (!connected.is_ok()) return connected;
  const std::string ttl_ms = std::to_string(std::max<TimeUs>(ttl_us / kMs, 1));
  const std::string token_key = key_ + ":token";
  auto* reply = static_cast<redisReply*>(redisCommand(context_, "EVAL %s 2 %s %s %s %s", script, key_.c_str(),
                                                      token_key.c_str(), value_.c_str(), ttl_ms.c_str()));
  if (reply == nullptr) {
    const bool timed_out = context_->err == REDIS_ERR_IO;
    const std::string why = context_->errstr;
    disconnect();
    return timed_out ? Status::timeout("redis: " + why) : Status::unavailable("redis: " + why);
  }
  Result<long long> result = reply->type == REDIS_REPLY_INTEGER
                                 ? Result<long long>(reply->integer)
                                 : Result<long long>(Status::failed(fmt::format("redis: unexpected reply {}", reply->type == REDIS_REPLY_ERROR ? reply->str : "type")));
  freeReplyObject(reply);
  return result;
}

Result<Lease> RedisLockClient::try_acquire(TimeUs ttl_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<long long> token = eval(kAcquireScript, ttl_us);
  if (!token.is_ok()) return token.status();
  if (token.value() < 0) return Status::conflict("the lock is held");
  return Lease{static_cast<std::int64_t>(token.value()), 0, ttl_us};
}

Status RedisLockClient::renew(const Lease& /*lease*/, TimeUs ttl_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<long long> renewed = eval(kRenewScript, ttl_us);
  if (!renewed.is_ok()) return renewed.status();
  return renewed.value() == 1 ? Status::ok() : Status::conflict("the lease is no longer ours");
}

Status RedisLockClient::release(const Lease& /*lease*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<long long> released = eval(kReleaseScript, kSec);
  return released.is_ok() ? Status::ok() : released.status();
}

Status RedisLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  Status connected = connect();
  if (!connected.is_ok()) return connected;
  auto* reply = static_cast<redisReply*>(redisCommand(context_, "PING"));
  if (reply == nullptr) {
    disconnect();
    return Status::unavailable(fmt::format("redis {}:{}: no reply", endpoint_.host, endpoint_.port));
  }
  freeReplyObject(reply);
  return Status::ok();
}

}  // namespace rehearse::live
