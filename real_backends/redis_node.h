// One Redis server as live mode sees it (hiredis): its endpoint, a connection with a timeout on
// every call, and the lock operations on one server (acquire = SET NX PX + INCR of a token
// counter in one Lua script, extend = compare-and-PEXPIRE, release = compare-and-DEL). The
// single-server lock (redis_lock.h) uses one RedisLockNode, Redlock (redlock_lock.h) one per
// master; the live faults and the `holder` lookup use RedisConnection for single commands.
// Not thread-safe: the lock clients serialise calls with their own mutex.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"
#include "core/status.h"

struct redisContext;

namespace rehearse::live {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
};

// Parses "HOST:PORT"; invalid (naming the text) otherwise.
Result<RedisEndpoint> parse_redis_endpoint(const std::string& text);

// What one command answered: an integer, a (bulk or status) string, nil, or -- for a two-element
// array such as CONFIG GET's [name, value] -- its second element as text. For any array whose
// first element is a string, `first` holds it (ROLE answers ["master", ...] or ["slave", ...]).
struct RedisValue {
  bool nil = false;
  bool is_integer = false;
  long long integer = 0;
  std::string text;
  std::string first;
};

class RedisConnection {
 public:
  RedisConnection(RedisEndpoint endpoint, int timeout_ms);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects when not connected, then runs one command. Returns unavailable when the server
  // cannot be reached, timeout when it did not answer in time (the connection is then dropped:
  // a late answer must not be read as the next command's), failed on an error reply.
  Result<RedisValue> command(const std::vector<std::string>& words);
  // Applies to the next connect and every later command. REQUIRES: timeout_ms > 0.
  void set_timeout_ms(int timeout_ms);
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  Status connect();
  void disconnect();

  RedisEndpoint endpoint_;
  int timeout_ms_;
  redisContext* context_ = nullptr;
};

// One command on a fresh connection (1 s timeout): for the faults and the holder lookup.
Result<RedisValue> redis_command_once(const RedisEndpoint& endpoint, const std::vector<std::string>& words);

// The migration lock on one Redis server. `key` names the lock (its token counter is
// `key:token`), `value` is the holder's unique value.
class RedisLockNode {
 public:
  RedisLockNode(RedisEndpoint endpoint, std::string key, std::string value, int timeout_ms);
  // SET key value NX PX ttl and, when set, INCR key:token. Returns the token, or 0 when another
  // holder has the key.
  Result<long long> acquire(TimeUs ttl_us);
  // PEXPIRE when the key still holds our value. Returns whether it did.
  Result<bool> extend(TimeUs ttl_us);
  // DEL when the key still holds our value; ok when it did not.
  Status release();
  Status ping();
  // ROLE: "master", "slave" (a replica) or "sentinel".
  Result<std::string> role();
  void set_timeout_ms(int timeout_ms) { connection_.set_timeout_ms(timeout_ms); }
  const RedisEndpoint& endpoint() const { return connection_.endpoint(); }

 private:
  Result<long long> eval(const char* script, TimeUs ttl_us);

  RedisConnection connection_;
  std::string key_;
  std::string value_;
};

}  // namespace rehearse::live
