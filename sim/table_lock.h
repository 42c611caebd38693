// PostgreSQL's table-level lock queue, reduced to what makes zero-downtime DDL hard: ordinary
// statements take a shared lock; ALTER TABLE needs the exclusive lock, waits behind any holder
// (a long-running transaction), and while it waits it blocks every later statement on the
// table, because requests are granted in arrival order.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

namespace rehearse::sim {

class TableLock {
 public:
  enum class Mode { shared, exclusive };

  // Requests the lock; `granted` runs (now or later) once it is held. Returns an id for cancel.
  std::uint64_t request(Mode mode, std::function<void()> granted);
  // Withdraws a waiting request (lock_timeout). Returns false when it was already granted.
  bool cancel(std::uint64_t id);
  void release(Mode mode);
  bool exclusive_waiting() const;
  bool exclusive_held() const { return exclusive_held_; }
  int shared_holders() const { return shared_holders_; }

 private:
  struct Waiter {
    std::uint64_t id;
    Mode mode;
    std::function<void()> granted;
  };
  bool compatible(Mode mode) const;
  void grant_waiters();

  int shared_holders_ = 0;
  bool exclusive_held_ = false;
  std::deque<Waiter> queue_;
  std::uint64_t next_id_ = 1;
};

}  // namespace rehearse::sim
