// One Redis server for live mode: endpoint parsing, a hiredis connection with timeouts and the
// three lock scripts every Redis-based lock client runs.
#include "real_backends/redis_node.h"

#include <sys/time.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "core/assert.h"

namespace rehearse::live {

namespace {
constexpr int kOneShotTimeoutMs = 1000;

// KEYS[1] the lock, KEYS[2] its token counter; ARGV[1] our value, ARGV[2] the TTL in ms.
constexpr const char* kAcquireScript =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "return redis.call('INCR', KEYS[2]) else return 0 end";
constexpr const char* kExtendScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) else return 0 end";

timeval to_timeval(int milliseconds) {
  timeval tv{};
  tv.tv_sec = milliseconds / 1000;
  tv.tv_usec = (milliseconds % 1000) * 1000;
  return tv;
}

RedisValue value_of(const redisReply& reply) {
  RedisValue value;
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      value.is_integer = true;
      value.integer = reply.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: value.text.assign(reply.str, reply.len); break;
    case REDIS_REPLY_ARRAY:
      if (reply.elements >= 1 && reply.element[0]->type == REDIS_REPLY_STRING) {
        value.first.assign(reply.element[0]->str, reply.element[0]->len);  // ROLE -> [role, ...]
      }
      if (reply.elements == 2 && reply.element[1]->type == REDIS_REPLY_STRING) {
        value.text.assign(reply.element[1]->str, reply.element[1]->len);  // CONFIG GET name -> [name, value]
      }
      break;
    default: value.nil = true; break;
  }
  return value;
}
}  // namespace

Result<RedisEndpoint> parse_redis_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || text.find('/') != std::string::npos) {
    return Status::invalid(fmt::format("'{}' is not HOST:PORT", text));
  }
  RedisEndpoint endpoint{text.substr(0, colon), 0};
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(begin, end, endpoint.port);
  if (error != std::errc() || stop != end || endpoint.port <= 0 || endpoint.port > 65535) {
    return Status::invalid(fmt::format("'{}' has no valid port", text));
  }
  return endpoint;
}

RedisConnection::RedisConnection(RedisEndpoint endpoint, int timeout_ms) : endpoint_(std::move(endpoint)), timeout_ms_(timeout_ms) {
  REHEARSE_ASSERT(timeout_ms_ > 0);
}

RedisConnection::~RedisConnection() { disconnect(); }

void RedisConnection::set_timeout_ms(int timeout_ms) {
  REHEARSE_ASSERT(timeout_ms > 0);
  timeout_ms_ = timeout_ms;
  if (context_ != nullptr) redisSetTimeout(context_, to_timeval(timeout_ms_));
}

void RedisConnection::disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

Status RedisConnection::connect() {
  if (context_ != nullptr) return Status::ok();
  context_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeout_ms_));
  if (context_ == nullptr || context_->err != 0) {
    const std::string why = context_ == nullptr ? "out of memory" : context_->errstr;
    disconnect();
    return Status::unavailable(fmt::format("redis {}:{}: {}", endpoint_.host, endpoint_.port, why));
  }
  redisSetTimeout(context_, to_timeval(timeout_ms_));
  return Status::ok();
}

Result<RedisValue> RedisConnection::command(const std::vector<std::string>& words) {
  REHEARSE_ASSERT(!words.empty());
  Status connected = connect();
  if (!connected.is_ok()) return connected;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& word : words) {
    argv.push_back(word.c_str());
    lengths.push_back(word.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    const bool timed_out = context_->err == REDIS_ERR_IO;
    const std::string why = fmt::format("redis {}:{}: {}", endpoint_.host, endpoint_.port, context_->errstr);
    disconnect();
    return timed_out ? Status::timeout(why) : Status::unavailable(why);
  }
  Result<RedisValue> result = reply->type == REDIS_REPLY_ERROR
                                  ? Result<RedisValue>(Status::failed(fmt::format("redis {}:{}: {}", endpoint_.host, endpoint_.port,
                                                                                  std::string(reply->str, reply->len))))
                                  : Result<RedisValue>(value_of(*reply));
  freeReplyObject(reply);
  return result;
}

Result<RedisValue> redis_command_once(const RedisEndpoint& endpoint, const std::vector<std::string>& words) {
  RedisConnection connection(endpoint, kOneShotTimeoutMs);
  return connection.command(words);
}

RedisLockNode::RedisLockNode(RedisEndpoint endpoint, std::string key, std::string value, int timeout_ms)
    : connection_(std::move(endpoint), timeout_ms), key_(std::move(key)), value_(std::move(value)) {
  REHEARSE_ASSERT(!key_.empty());
  REHEARSE_ASSERT(!value_.empty());
}

Result<long long> RedisLockNode::eval(const char* script, TimeUs ttl_us) {
  const std::string ttl_ms = std::to_string(std::max<TimeUs>(ttl_us / kMs, 1));
  Result<RedisValue> reply = connection_.command({"EVAL", script, "2", key_, key_ + ":token", value_, ttl_ms});
  if (!reply.is_ok()) return reply.status();
  if (!reply.value().is_integer) return Status::failed(fmt::format("redis {}:{}: the lock script answered no integer", endpoint().host, endpoint().port));
  return reply.value().integer;
}

Result<long long> RedisLockNode::acquire(TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  Result<long long> token = eval(kAcquireScript, ttl_us);
  if (token.is_ok()) REHEARSE_ASSERT(token.value() >= 0);
  return token;
}

Result<bool> RedisLockNode::extend(TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  Result<long long> extended = eval(kExtendScript, ttl_us);
  if (!extended.is_ok()) return extended.status();
  return extended.value() == 1;
}

Status RedisLockNode::release() {
  Result<long long> released = eval(kReleaseScript, kSec);
  return released.is_ok() ? Status::ok() : released.status();
}

Status RedisLockNode::ping() {
  Result<RedisValue> pong = connection_.command({"PING"});
  return pong.is_ok() ? Status::ok() : pong.status();
}

Result<std::string> RedisLockNode::role() {
  Result<RedisValue> answer = connection_.command({"ROLE"});
  if (!answer.is_ok()) return answer.status();
  if (answer.value().first.empty()) return Status::failed(fmt::format("redis {}:{}: ROLE answered no role", endpoint().host, endpoint().port));
  return answer.value().first;
}

}  // namespace rehearse::live
