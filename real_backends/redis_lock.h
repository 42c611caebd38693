// The migration lock in one Redis server (hiredis): acquire is SET NX PX plus INCR of a token
// counter beside the key, in one Lua script; renew and release compare the holder's value
// before PEXPIRE / DEL. One client per engine instance; calls are serialised by a mutex because
// the engine thread and its keepalive thread share the client.
#pragma once

#include <mutex>
#include <string>

#include "core/ports.h"
#include "real_backends/live_ports.h"

struct redisContext;

namespace rehearse::live {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
};

// Parses "HOST:PORT"; std::nullopt-like failure is reported as invalid.
Result<RedisEndpoint> parse_redis_endpoint(const std::string& text);

class RedisLockClient final : public LockClient {
 public:
  // `key` names the lock (one per migration); `holder` makes this client's value unique.
  RedisLockClient(RedisEndpoint endpoint, std::string key, std::string holder, const StopSignal& stop);
  ~RedisLockClient() override;
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  // Connects (if needed) and PINGs: for --dry-run and the unreachable-backend check.
  Status ping();

 private:
  struct Reply;
  Status connect();
  void disconnect();
  Result<long long> eval(const char* script, TimeUs ttl_us);

  RedisEndpoint endpoint_;
  std::string key_;
  std::string value_;
  const StopSignal& stop_;
  std::mutex mutex_;
  redisContext* context_ = nullptr;
};

}  // namespace rehearse::live
