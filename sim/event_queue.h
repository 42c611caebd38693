// The kernel's pending events, in (time, sequence) order: a 4-ary heap. The streams that once
// waited in FIFO lanes beside it are kept by their owners: an application server's client
// timeouts behind one timer at a time (sim/app.h), a replica's replays and (where no fault can
// touch them) a write's replies as reserved places in the order of events, settled where their
// events would have run (Kernel::has_run).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/model.h"

namespace rehearse::sim {

// A min-heap of events in (time, sequence) order with four children per node: half the levels
// of a binary heap, so a pop moves an event half as many times, and a node's children are
// neighbours in memory. Every (time, sequence) is distinct, so the order of pops is the one any
// correct heap gives.
template <typename Event>
class EventQueue {
 public:
  // The (time, sequence) order.
  static bool before(const Event& a, const Event& b) {
    return a.time_us != b.time_us ? a.time_us < b.time_us : a.sequence < b.sequence;
  }

  bool empty() const { return items_.empty(); }
  // Moves the next event to `out` and removes it, when there is one at or before `end_us`.
  bool pop_until(TimeUs end_us, Event& out) {
    if (items_.empty() || items_.front().time_us > end_us) return false;
    out = items_.front();
    pop();
    return true;
  }
  // REQUIRES: !empty().
  const Event& top() const { return items_.front(); }

  void push(const Event& event) {
    std::size_t hole = items_.size();
    items_.push_back(event);
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / kArity;
      if (!before(event, items_[parent])) break;
      items_[hole] = items_[parent];
      hole = parent;
    }
    items_[hole] = event;
  }

  // Removes top(). REQUIRES: !empty().
  void pop() {
    const Event last = items_.back();
    items_.pop_back();
    const std::size_t size = items_.size();
    if (size == 0) return;
    std::size_t hole = 0;
    for (std::size_t first = 1; first < size; first = hole * kArity + 1) {
      std::size_t least = first;
      const std::size_t end = std::min(first + kArity, size);
      for (std::size_t child = first + 1; child < end; ++child) {
        if (before(items_[child], items_[least])) least = child;
      }
      if (!before(items_[least], last)) break;
      items_[hole] = items_[least];
      hole = least;
    }
    items_[hole] = last;
  }

 private:
  static constexpr std::size_t kArity = 4;
  std::vector<Event> items_;
};

}  // namespace rehearse::sim
