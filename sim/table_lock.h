// PostgreSQL's table-level lock on the simulated table: the eight modes of core/pg_locks.h, their
// conflict table, and PostgreSQL's queue rule -- a request is granted only when it conflicts
// with no holder and with no request waiting ahead of it, so a waiting ACCESS EXCLUSIVE (an
// ALTER TABLE behind a long transaction) blocks every later statement on the table, while a
// waiting SHARE (CREATE INDEX) lets later readers through and holds up later writers. On a
// release the queue is walked in arrival order and every request compatible with the holders
// and with the requests still waiting ahead of it is granted (PostgreSQL's ProcLockWakeup).
//
// It also models the waits of the CONCURRENTLY forms for older transactions (PostgreSQL waits on
// their virtual transaction ids): wait_for_holders() calls back once every transaction holding
// a lock on the table at the time of the call (and matching a mode filter) has released it.
//
// Every holder and waiter has an id, in arrival order; everything is kept in ordered containers,
// so a run stays a pure function of its seed.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "core/pg_locks.h"
#include "core/callback.h"

namespace rehearse::sim {

class TableLock {
 public:
  // A deliberately broken lock for tests: the conflict table to grant by, whether a waiting
  // request blocks later conflicting ones, and whether wait_for_holders() waits at all.
  struct Rules {
    bool (*conflicts)(LockMode requested, LockMode held) = &rehearse::conflicts;
    bool waiters_block_later_requests = true;
    bool older_transaction_waits = true;
  };

  TableLock() = default;
  explicit TableLock(Rules rules) : rules_(rules) {}

  // Requests the lock in `mode`; `granted` runs (now, or later from release/cancel) once it is
  // held. Returns the request's id: release(id) gives the lock back, cancel(id) withdraws it
  // while it waits. `granted` must not call back into this lock.
  std::uint64_t request(LockMode mode, Callback<void()> granted);
  // Withdraws a waiting request (lock_timeout). Returns false when it was already granted (or
  // is unknown). A withdrawn request may unblock those queued behind it.
  bool cancel(std::uint64_t id);
  // Gives back the lock request `id` holds. REQUIRES: it holds it.
  void release(std::uint64_t id);

  // Calls `done` once every transaction that holds a lock now -- other than `self`, and whose
  // mode `matters` (every mode when empty) -- has released it (now, when there is none).
  // Returns an id for cancel_wait. `done` must not call back into this lock.
  std::uint64_t wait_for_holders(std::uint64_t self, std::function<bool(LockMode)> matters, std::function<void()> done);
  // Withdraws a wait (lock_timeout). Returns false when it was already over (or is unknown).
  bool cancel_wait(std::uint64_t wait_id);

  bool holds(std::uint64_t id) const { return holders_.count(id) > 0; }
  bool waiting(std::uint64_t id) const;
  // The first holder whose mode conflicts with `mode`, and the first such waiter.
  std::optional<LockMode> conflicting_holder(LockMode mode) const;
  std::optional<LockMode> conflicting_waiter(LockMode mode) const;
  std::size_t holder_count() const { return holders_.size(); }
  std::size_t waiter_count() const { return queue_.size(); }

 private:
  struct Waiter {
    std::uint64_t id;
    LockMode mode;
    Callback<void()> granted;
  };
  struct HolderWait {
    std::uint64_t id;
    std::vector<std::uint64_t> holders;  // still to release, ascending
    std::function<void()> done;
  };
  using ModeCounts = std::array<std::uint32_t, kLockModeCount>;
  // Whether a request in `mode` conflicts with a mode of which `counts` holds at least one.
  bool conflicts_with(LockMode mode, const ModeCounts& counts) const;
  void grant(Waiter& waiter);
  void grant_waiters();
  void finish_holder_waits(std::uint64_t released);

  Rules rules_;
  PooledMap<std::uint64_t, LockMode> holders_;  // pool nodes: one per statement
  std::deque<Waiter> queue_;
  // How many holders and waiters each mode has: a request is checked against 8 counts, not
  // against a queue that grows for as long as a DDL waits (thousands of application requests).
  ModeCounts held_{};
  ModeCounts waiting_{};
  std::vector<HolderWait> holder_waits_;  // in the order they began
  std::uint64_t next_id_ = 1;
  std::uint64_t next_wait_id_ = 1;
};

}  // namespace rehearse::sim
