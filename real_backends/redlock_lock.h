// The migration lock over N independent Redis masters (Redlock), as docs/lock-backends.md
// describes the simulated one: acquire runs the single-server script (SET NX PX + INCR) on every
// master in turn, each with a small timeout (TTL / 20, 50 ms..1 s); the lock is held when a
// majority (N/2 + 1) granted it and the validity TTL - elapsed - drift is positive, drift =
// drift_factor x TTL + 2 ms; otherwise it is released on every master (also where the answer was
// lost). The token is the largest of the majority's counters. Renew is compare-and-PEXPIRE on
// every master, held while a majority extended. Calls are serialised by a mutex (the engine
// thread and its keepalive thread share the client).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ports.h"
#include "real_backends/live_ports.h"
#include "real_backends/redis_node.h"

namespace rehearse::live {

class RedlockLockClient final : public LockClient {
 public:
  // REQUIRES: at least one master; 0 <= drift_factor < 1.
  RedlockLockClient(std::vector<RedisEndpoint> masters, std::string key, std::string holder, double drift_factor,
                    const StopSignal& stop);
  // The lease's ttl_us is the Redlock validity (shorter than asked), so `fencing: client`
  // stops at it. Conflict when a majority refused; unavailable when too few answered.
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  // Ok while a majority extended in time; conflict once a majority refused or the validity ran
  // out without a successful extension; timeout / unavailable otherwise.
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  // Compare-and-DEL on every master; ok when the lock is gone from a majority.
  Status release(const Lease& lease) override;
  // PINGs every master: unavailable naming the first that does not answer.
  Status ping();
  int quorum() const { return static_cast<int>(nodes_.size()) / 2 + 1; }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  TimeUs drift_us(TimeUs ttl_us) const;
  void set_node_timeouts(TimeUs ttl_us);
  void release_everywhere();

  const StopSignal& stop_;
  const double drift_factor_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<RedisLockNode>> nodes_;
  SteadyTime valid_until_{};  // the held lease's Redlock validity on this machine's steady clock
};

}  // namespace rehearse::live
