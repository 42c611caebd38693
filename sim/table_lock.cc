// The table lock queue: PostgreSQL's conflict table and queue rule (sim/table_lock.h).
#include "sim/table_lock.h"

#include <algorithm>

#include "core/assert.h"

namespace rehearse::sim {

namespace {

std::size_t slot(LockMode mode) { return static_cast<std::size_t>(mode); }

}  // namespace

bool TableLock::conflicts_with(LockMode mode, const ModeCounts& counts) const {
  for (LockMode other : kLockModes) {
    if (counts[slot(other)] > 0 && rules_.conflicts(mode, other)) return true;
  }
  return false;
}

std::uint64_t TableLock::request(LockMode mode, Callback<void()> granted) {
  const std::uint64_t id = next_id_++;
  const bool behind_waiter = rules_.waiters_block_later_requests && conflicts_with(mode, waiting_);
  if (!behind_waiter && !conflicts_with(mode, held_)) {
    holders_.emplace(id, mode);
    ++held_[slot(mode)];
    granted();
    return id;
  }
  queue_.push_back(Waiter{id, mode, std::move(granted)});
  ++waiting_[slot(mode)];
  REHEARSE_ASSERT(queue_.back().id == id);
  return id;
}

bool TableLock::waiting(std::uint64_t id) const {
  return std::any_of(queue_.begin(), queue_.end(), [id](const Waiter& w) { return w.id == id; });
}

bool TableLock::cancel(std::uint64_t id) {
  auto it = std::find_if(queue_.begin(), queue_.end(), [id](const Waiter& w) { return w.id == id; });
  if (it == queue_.end()) return false;
  REHEARSE_ASSERT(waiting_[slot(it->mode)] > 0);
  --waiting_[slot(it->mode)];
  queue_.erase(it);
  grant_waiters();  // a withdrawn request unblocks those queued behind it
  return true;
}

void TableLock::release(std::uint64_t id) {
  auto it = holders_.find(id);
  REHEARSE_ASSERT(it != holders_.end());
  REHEARSE_ASSERT(held_[slot(it->second)] > 0);
  --held_[slot(it->second)];
  holders_.erase(it);
  grant_waiters();
  finish_holder_waits(id);
}

void TableLock::grant(Waiter& waiter) {
  REHEARSE_ASSERT(waiting_[slot(waiter.mode)] > 0);
  --waiting_[slot(waiter.mode)];
  holders_.emplace(waiter.id, waiter.mode);
  ++held_[slot(waiter.mode)];
}

// Walks the queue in arrival order: each request compatible with the holders (those granted
// during this walk included) and with every request still waiting ahead of it is granted. The
// walk stops once the requests left waiting conflict with every mode (a waiting ACCESS
// EXCLUSIVE does): nothing behind them can be granted.
void TableLock::grant_waiters() {
  std::vector<Waiter> granted;
  ModeCounts ahead{};
  std::size_t index = 0;
  while (index < queue_.size()) {
    Waiter& waiter = queue_[index];
    const bool behind_waiter = rules_.waiters_block_later_requests && conflicts_with(waiter.mode, ahead);
    if (!behind_waiter && !conflicts_with(waiter.mode, held_)) {
      grant(waiter);
      granted.push_back(std::move(waiter));
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(index));
      continue;
    }
    ++ahead[slot(waiter.mode)];
    ++index;
    if (!rules_.waiters_block_later_requests) continue;
    const bool blocks_every_mode = std::all_of(kLockModes.begin(), kLockModes.end(),
                                               [this, &ahead](LockMode mode) { return conflicts_with(mode, ahead); });
    if (blocks_every_mode) break;
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
  for (LockMode held : kLockModes) {
    if (held_[slot(held)] > 0 && rules_.conflicts(mode, held)) return held;
  }
  return std::nullopt;
}

std::optional<LockMode> TableLock::conflicting_waiter(LockMode mode) const {
  for (LockMode queued : kLockModes) {
    if (waiting_[slot(queued)] > 0 && rules_.conflicts(mode, queued)) return queued;
  }
  return std::nullopt;
}

}  // namespace rehearse::sim
