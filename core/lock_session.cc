// Lock acquisition, keepalive and the pre-write check of the engine's lock session.
#include "core/lock_session.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse {

namespace {
// A bound on the keepalive's consecutive failed renewals before it gives the lease up.
constexpr int kRenewFailuresMax = 1000;
}  // namespace

// State shared by the session and its keepalive task; the task may outlive the session. Live,
// the keepalive is another thread: the flags are atomic and the lease is read and written
// under the mutex (in simulation both are uncontended).
struct LockSession::Shared {
  std::atomic<bool> holding{false};
  std::atomic<bool> lost{false};
  std::atomic<std::uint64_t> generation{0};  // bumped whenever the lease changes; stale keepalives stop
  mutable std::mutex mutex;
  Lease lease;  // GUARDED_BY(mutex)

  Lease get_lease() const {
    std::lock_guard<std::mutex> guard(mutex);
    return lease;
  }
  void set_lease(const Lease& value) {
    std::lock_guard<std::mutex> guard(mutex);
    lease = value;
  }
  void set_requested_local_us(TimeUs sent) {
    std::lock_guard<std::mutex> guard(mutex);
    lease.requested_local_us = sent;
  }
};

TimeUs backoff_delay(const Backoff& backoff, int attempt, Random& random) {
  REHEARSE_ASSERT(attempt >= 0);
  REHEARSE_ASSERT(backoff.base_us >= 0);
  REHEARSE_ASSERT(backoff.max_us >= 0);
  TimeUs ceiling = backoff.base_us;
  for (int i = 0; i < attempt && ceiling < backoff.max_us; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, backoff.max_us);
  switch (backoff.jitter) {
    case Jitter::full: return random.uniform(0, ceiling);
    case Jitter::equal: return ceiling / 2 + random.uniform(0, ceiling - ceiling / 2);
    case Jitter::none: return ceiling;
  }
  return ceiling;
}

LockSession::LockSession(const LockSpec& lock, const EngineSpec& engine, LockSessionPorts ports)
    : lock_(lock), engine_(engine), ports_(ports), shared_(std::make_shared<Shared>()) {
  REHEARSE_ASSERT(lock_.ttl_us > 0);
}

LockSession::~LockSession() { ++shared_->generation; }

bool LockSession::holding() const { return shared_->holding && !shared_->lost; }

// The lease's token is set once per acquisition (the keepalive renews only its time), so the
// token a session writes with never changes, let alone goes back, while it holds.
std::int64_t LockSession::token() const { return shared_->get_lease().token; }

Fence LockSession::fence() const {
  return Fence{shared_->get_lease().token, lock_.fencing == Fencing::storage};
}

Status LockSession::acquire() {
  REHEARSE_ASSERT(!holding());
  const TimeUs deadline = ports_.clock.now() + engine_.acquire_timeout_us;
  for (int attempt = 0;; ++attempt) {
    const TimeUs sent = ports_.clock.now();
    Result<Lease> granted = ports_.lock.try_acquire(lock_.ttl_us);
    if (granted.is_ok()) {
      REHEARSE_ASSERT(granted.value().token > 0);  // a fencing token is positive (0 = none)
      Lease lease = granted.value();
      lease.requested_local_us = sent;
      // A store may promise less than was asked (Redlock's validity, ZooKeeper's Disconnected
      // point): the client-side check trusts the shorter of the two.
      const TimeUs granted_ttl = granted.value().ttl_us;
      lease.ttl_us = granted_ttl > 0 ? std::min(granted_ttl, lock_.ttl_us) : lock_.ttl_us;
      shared_->set_lease(lease);
      shared_->holding = true;
      shared_->lost = false;
      ++shared_->generation;
      ports_.recorder.record(Event{.kind = EventKind::lock_acquire, .outcome = Outcome::ok, .token = granted.value().token,
                                   .detail = fmt::format("attempt {}", attempt + 1)});
      if (lock_.renew_every_us > 0) start_keepalive();
      return Status::ok();
    }
    ports_.recorder.record(Event{.kind = EventKind::lock_acquire, .outcome = Outcome::failed,
                                 .detail = granted.status().to_string()});
    const TimeUs now = ports_.clock.now();
    if (now >= deadline) return Status::timeout("acquire_timeout passed");
    ports_.clock.sleep_for(std::min(backoff_delay(engine_.backoff, attempt, ports_.random), deadline - now));
  }
}

void LockSession::start_keepalive() {
  std::shared_ptr<Shared> shared = shared_;
  const std::uint64_t generation = shared->generation;
  const LockSpec lock = lock_;
  LockSessionPorts ports = ports_;
  ports_.tasks.spawn("keepalive", [shared, generation, lock, ports]() {
    for (int failures = 0; failures < kRenewFailuresMax;) {
      ports.clock.sleep_for(lock.renew_every_us);
      if (shared->generation != generation || !shared->holding) return;
      if (ports.fault_points.fires(FaultSite::renewal_delayed)) {  // BUGGIFY: renew late
        ports.clock.sleep_for(ports.fault_points.draw_us(FaultSite::renewal_delayed, 0, lock.ttl_us));
        if (shared->generation != generation || !shared->holding) return;
      }
      const TimeUs sent = ports.clock.now();
      const Lease lease = shared->get_lease();
      REHEARSE_ASSERT(lease.token > 0);
      Status renewed = ports.lock.renew(lease, lock.ttl_us);
      if (shared->generation != generation || !shared->holding) return;
      if (renewed.is_ok()) {
        failures = 0;
        shared->set_requested_local_us(sent);
        ports.recorder.record(Event{.kind = EventKind::lock_renew, .outcome = Outcome::ok, .token = lease.token});
        continue;
      }
      ++failures;
      ports.recorder.record(Event{.kind = EventKind::lock_renew, .outcome = Outcome::failed,
                                  .token = lease.token, .detail = renewed.to_string()});
      if (renewed.is_conflict()) {
        ports.recorder.probe(Probe::renewal_refused);
        shared->lost = true;
        ports.recorder.record(Event{.kind = EventKind::lock_lost, .token = lease.token,
                                    .detail = "renewal refused: the lease is gone"});
        return;
      }
    }
  });
}

void LockSession::mark_lost(const std::string& why) {
  if (!shared_->holding || shared_->lost) return;
  shared_->lost = true;
  ++shared_->generation;
  ports_.recorder.record(Event{.kind = EventKind::lock_lost, .token = shared_->get_lease().token, .detail = why});
}

void LockSession::release() {
  if (!shared_->holding) return;
  const Lease lease = shared_->get_lease();
  const bool was_lost = shared_->lost;
  shared_->holding = false;
  shared_->lost = false;
  ++shared_->generation;
  if (was_lost) return;
  Status released = ports_.lock.release(lease);
  ports_.recorder.record(Event{.kind = EventKind::lock_release, .outcome = released.is_ok() ? Outcome::ok : Outcome::failed,
                               .token = lease.token, .detail = released.is_ok() ? "" : released.to_string()});
}

Status LockSession::check_before_write() {
  if (!shared_->holding) return Status::conflict("not holding the lock");
  if (shared_->lost) return Status::conflict("the lease was lost");
  const Lease lease = shared_->get_lease();
  REHEARSE_ASSERT(lease.token > 0);  // holding implies a granted lease
  if (lock_.fencing != Fencing::client) return Status::ok();
  const TimeUs valid_until = lease.requested_local_us + lease.ttl_us;
  if (ports_.clock.now() >= valid_until) {
    ports_.recorder.probe(Probe::client_check_refused_write);
    return Status::conflict("the lease expired on this node's clock");
  }
  return Status::ok();
}

}  // namespace rehearse
