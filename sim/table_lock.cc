// The table lock queue: PostgreSQL's conflict table and queue rule (sim/table_lock.h).
#include "sim/table_lock.h"

#include <algorithm>

#include "core/assert.h"

namespace rehearse::sim {

bool TableLock::grantable(LockMode mode, std::size_t ahead) const {
  REHEARSE_ASSERT(ahead <= queue_.size());
  for (const auto& [id, held] : holders_) {
    if (rules_.conflicts(mode, held)) return false;
  }
  if (!rules_.waiters_block_later_requests) return true;
  for (std::size_t i = 0; i < ahead; ++i) {
    if (rules_.conflicts(mode, queue_[i].mode)) return false;
  }
  return true;
}

std::uint64_t TableLock::request(LockMode mode, std::function<void()> granted) {
  const std::uint64_t id = next_id_++;
  if (grantable(mode, queue_.size())) {
    holders_.emplace(id, mode);
    granted();
    return id;
  }
  queue_.push_back(Waiter{id, mode, std::move(granted)});
  REHEARSE_ASSERT(waiting(id));
  return id;
}

bool TableLock::waiting(std::uint64_t id) const {
  return std::any_of(queue_.begin(), queue_.end(), [id](const Waiter& w) { return w.id == id; });
}

bool TableLock::cancel(std::uint64_t id) {
  auto it = std::find_if(queue_.begin(), queue_.end(), [id](const Waiter& w) { return w.id == id; });
  if (it == queue_.end()) return false;
  queue_.erase(it);
  grant_waiters();  // a withdrawn request unblocks those queued behind it
  return true;
}

void TableLock::release(std::uint64_t id) {
  auto it = holders_.find(id);
  REHEARSE_ASSERT(it != holders_.end());
  holders_.erase(it);
  grant_waiters();
  finish_holder_waits(id);
}

// Walks the queue in arrival order: each request compatible with the holders (those granted
// during this walk included) and with every request still waiting ahead of it is granted.
void TableLock::grant_waiters() {
  std::vector<Waiter> granted;
  std::size_t index = 0;
  while (index < queue_.size()) {
    if (grantable(queue_[index].mode, index)) {
      holders_.emplace(queue_[index].id, queue_[index].mode);
      granted.push_back(std::move(queue_[index]));
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(index));
    } else {
      ++index;
    }
  }
  for (Waiter& waiter : granted) waiter.granted();  // in arrival order
}

std::uint64_t TableLock::wait_for_holders(std::uint64_t self, std::function<bool(LockMode)> matters,
                                          std::function<void()> done) {
  const std::uint64_t wait_id = next_wait_id_++;
  std::vector<std::uint64_t> older;
  if (rules_.older_transaction_waits) {
    for (const auto& [id, mode] : holders_) {
      if (id != self && (!matters || matters(mode))) older.push_back(id);
    }
  }
  if (older.empty()) {
    done();
    return wait_id;
  }
  holder_waits_.push_back(HolderWait{wait_id, std::move(older), std::move(done)});
  return wait_id;
}

bool TableLock::cancel_wait(std::uint64_t wait_id) {
  auto it = std::find_if(holder_waits_.begin(), holder_waits_.end(), [wait_id](const HolderWait& w) { return w.id == wait_id; });
  if (it == holder_waits_.end()) return false;
  holder_waits_.erase(it);
  return true;
}

void TableLock::finish_holder_waits(std::uint64_t released) {
  std::vector<std::function<void()>> finished;
  for (auto it = holder_waits_.begin(); it != holder_waits_.end();) {
    std::erase(it->holders, released);
    if (it->holders.empty()) {
      finished.push_back(std::move(it->done));
      it = holder_waits_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : finished) done();  // in the order the waits began
}

std::optional<LockMode> TableLock::conflicting_holder(LockMode mode) const {
  for (const auto& [id, held] : holders_) {
    if (rules_.conflicts(mode, held)) return held;
  }
  return std::nullopt;
}

std::optional<LockMode> TableLock::conflicting_waiter(LockMode mode) const {
  for (const Waiter& waiter : queue_) {
    if (rules_.conflicts(mode, waiter.mode)) return waiter.mode;
  }
  return std::nullopt;
}

}  // namespace rehearse::sim
