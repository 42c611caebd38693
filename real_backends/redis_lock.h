// The migration lock in one Redis server (hiredis): acquire is SET NX PX plus INCR of a token
// counter beside the key, in one Lua script; renew and release compare the holder's value
// before PEXPIRE / DEL (the scripts live in redis_node.h, shared with Redlock). One client per
// engine instance; calls are serialised by a mutex because the engine thread and its keepalive
// thread share the client.
#pragma once

#include <mutex>
#include <string>

#include "core/ports.h"
#include "real_backends/live_ports.h"
#include "real_backends/redis_node.h"

namespace rehearse::live {

class RedisLockClient final : public LockClient {
 public:
  // `key` names the lock (one per migration); `holder` makes this client's value unique.
  RedisLockClient(RedisEndpoint endpoint, std::string key, std::string holder, const StopSignal& stop);
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  // Connects (if needed) and PINGs: for --dry-run and the unreachable-backend check.
  Status ping();

 private:
  const StopSignal& stop_;
  std::mutex mutex_;
  RedisLockNode node_;
};

}  // namespace rehearse::live
