// The engine's side of the migration lock: acquisition with retries, exponential backoff and
// jitter bounded by acquire_timeout; a keepalive task that renews the lease every renew_every;
// and what the engine needs before a protected write (the fence, and for `fencing: client`
// whether its own clock still believes the lease is valid). The same code runs in simulation
// and live; the store behind the LockClient port decides what the lease really is.
#pragma once

#include <memory>
#include <string>

#include "core/model.h"
#include "core/ports.h"

namespace rehearse {

struct LockSessionPorts {
  Clock& clock;
  Random& random;
  Tasks& tasks;
  LockClient& lock;
  Recorder& recorder;
  FaultPoints& fault_points = FaultPoints::never();
};

// The delay before retry number `attempt` (0-based): base * 2^attempt capped at max, then
// jittered. Exposed for tests.
TimeUs backoff_delay(const Backoff& backoff, int attempt, Random& random);

class LockSession {
 public:
  LockSession(const LockSpec& lock, const EngineSpec& engine, LockSessionPorts ports);
  ~LockSession();  // stops the keepalive
  LockSession(const LockSession&) = delete;
  LockSession& operator=(const LockSession&) = delete;

  // Retries until the lease is granted or acquire_timeout passes (timeout). Starts the
  // keepalive when renew_every > 0. REQUIRES: not holding.
  Status acquire();
  // Releases the lease (compare-and-delete) and stops the keepalive. Errors are recorded and
  // otherwise ignored on purpose: the TTL ends the lease anyway.
  void release();
  // Marks the lease lost (after a stale-token rejection, say) and stops the keepalive.
  void mark_lost(const std::string& why);

  bool holding() const;
  // Whether the engine may issue a protected write now: not known lost, and with
  // `fencing: client` the lease is still valid on this node's clock.
  Status check_before_write();
  Fence fence() const;
  std::int64_t token() const;

 private:
  struct Shared;
  void start_keepalive();

  LockSpec lock_;
  EngineSpec engine_;
  LockSessionPorts ports_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace rehearse
