// The table lock queue: grant in arrival order while compatible.
#include "sim/table_lock.h"

#include <algorithm>

#include "core/assert.h"

namespace rehearse::sim {

bool TableLock::compatible(Mode mode) const {
  if (exclusive_held_) return false;
  return mode == Mode::shared || shared_holders_ == 0;
}

std::uint64_t TableLock::request(Mode mode, std::function<void()> granted) {
  const std::uint64_t id = next_id_++;
  if (queue_.empty() && compatible(mode)) {
    if (mode == Mode::shared) ++shared_holders_;
    else exclusive_held_ = true;
    granted();
    return id;
  }
  queue_.push_back(Waiter{id, mode, std::move(granted)});
  return id;
}

bool TableLock::cancel(std::uint64_t id) {
  auto it = std::find_if(queue_.begin(), queue_.end(), [id](const Waiter& w) { return w.id == id; });
  if (it == queue_.end()) return false;
  queue_.erase(it);
  grant_waiters();  // a withdrawn exclusive request unblocks those queued behind it
  return true;
}

void TableLock::release(Mode mode) {
  if (mode == Mode::shared) {
    REHEARSE_ASSERT(shared_holders_ > 0);
    --shared_holders_;
  } else {
    REHEARSE_ASSERT(exclusive_held_);
    exclusive_held_ = false;
  }
  grant_waiters();
}

bool TableLock::exclusive_waiting() const {
  return std::any_of(queue_.begin(), queue_.end(), [](const Waiter& w) { return w.mode == Mode::exclusive; });
}

void TableLock::grant_waiters() {
  while (!queue_.empty() && compatible(queue_.front().mode)) {
    Waiter waiter = std::move(queue_.front());
    queue_.pop_front();
    if (waiter.mode == Mode::shared) ++shared_holders_;
    else exclusive_held_ = true;
    waiter.granted();
  }
}

}  // namespace rehearse::sim
