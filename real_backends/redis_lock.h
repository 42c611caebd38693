// The migration lock in one Redis server (hiredis): acquire is SET NX PX plus INCR of a token
// counter beside the key, in one Lua script; renew and release compare the holder's value
// before PEXPIRE / DEL (the scripts live in redis_node.h, shared with Redlock). One client per
// engine instance; calls are serialised by a mutex because the engine thread and its keepalive
// thread share the client.
//
// With several endpoints (`lock.replica: true`: the master and its replica) the client finds
// the master at every request, as the simulated client asks Sentinel: it asks ROLE of each
// endpoint in order and sends the command to the first that answers "master"; none answering
// is unavailable. A promoted replica is found at the next request. One endpoint: no ROLE.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ports.h"
#include "real_backends/live_ports.h"
#include "real_backends/redis_node.h"

namespace rehearse::live {

class RedisLockClient final : public LockClient {
 public:
  // `key` names the lock (one per migration); `holder` makes this client's value unique.
  // REQUIRES: endpoints is not empty.
  RedisLockClient(const std::vector<RedisEndpoint>& endpoints, std::string key, std::string holder, const StopSignal& stop);
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  // Connects (if needed) and PINGs every endpoint: for --dry-run and the unreachable-backend check.
  Status ping();
  // The value the master's key holds ("" when free): for the `holder` fault target.
  Result<std::string> holder_value(const std::string& key);

 private:
  // The endpoint that answers ROLE "master" first, in order (the only one with one endpoint).
  // REQUIRES: mutex_ held.
  Result<RedisLockNode*> master();

  const StopSignal& stop_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<RedisLockNode>> nodes_;
};

}  // namespace rehearse::live
