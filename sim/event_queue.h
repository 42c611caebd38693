// The kernel's pending events, in (time, sequence) order: a 4-ary heap, plus FIFO lanes for
// the event streams whose times never go backwards (an application server's request timeouts,
// a replica's replay). A lane is a deque (O(1) push and pop) that keeps thousands of
// long-dated events out of the heap; the next event is the least of the heap's top and every
// lane's front, so the order is exactly the order one heap would give.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/assert.h"
#include "core/block_pool.h"
#include "core/model.h"

namespace rehearse::sim {

// A min-heap of events in (time, sequence) order with four children per node: half the levels
// of a binary heap, so a pop moves an event half as many times, and a node's children are
// neighbours in memory. Every (time, sequence) is distinct, so the order of pops is the one any
// correct heap gives.
template <typename Event>
class EventHeap {
 public:
  // The (time, sequence) order: the queue's lanes are merged with the heap by it too.
  static bool before(const Event& a, const Event& b) {
    return a.time_us != b.time_us ? a.time_us < b.time_us : a.sequence < b.sequence;
  }

  bool empty() const { return items_.empty(); }
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

template <typename Event>
class EventQueue {
  using Lane = std::deque<Event, PoolAllocator<Event>>;  // its 512-byte chunks recycled (core/block_pool.h)

 public:
  // A new lane; its events may also be pushed out of time order (they then go to the heap).
  int add_lane() {
    lanes_.emplace_back();
    fronts_.push_back(kIdle);
    return static_cast<int>(lanes_.size()) - 1;
  }

  // `lane` < 0: the heap. An event earlier than its lane's last goes to the heap too.
  void push(const Event& event, int lane = -1) {
    if (lane >= 0) {
      Lane& fifo = lanes_[static_cast<std::size_t>(lane)];
      if (fifo.empty() || fifo.back().time_us <= event.time_us) {
        if (fifo.empty()) {
          ++busy_lanes_;
          fronts_[static_cast<std::size_t>(lane)] = Front{event.time_us, event.sequence};
        }
        fifo.push_back(event);
        ++size_;
        return;
      }
    }
    heap_.push(event);
    ++size_;
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  // REQUIRES: !empty().
  const Event& top() const { return where(locate()); }

  // Removes top(). REQUIRES: !empty().
  void pop() { remove(locate()); }

  // Moves the next event to `out` and removes it, when there is one at or before `end_us`.
  bool pop_until(TimeUs end_us, Event& out) {
    if (size_ == 0) return false;
    const int from = locate();
    if (where(from).time_us > end_us) return false;
    out = where(from);
    remove(from);
    return true;
  }

 private:
  // Where the next event is: -1 the heap, else its lane. REQUIRES: !empty().
  int locate() const {
    int best = heap_.empty() ? -2 : -1;
    if (busy_lanes_ > 0) {
      // The least lane front, from the fronts' copies side by side (an idle lane's is kIdle).
      std::size_t least = 0;
      for (std::size_t lane = 1; lane < fronts_.size(); ++lane) {
        if (fronts_[lane].before(fronts_[least])) least = lane;
      }
      const Front& front = fronts_[least];
      REHEARSE_ASSERT(!lanes_[least].empty());
      if (best == -2 || front.before(Front{heap_.top().time_us, heap_.top().sequence})) best = static_cast<int>(least);
    }
    REHEARSE_ASSERT(best != -2);
    return best;
  }
  const Event& where(int from) const { return from < 0 ? heap_.top() : lanes_[static_cast<std::size_t>(from)].front(); }
  void remove(int from) {
    --size_;
    if (from < 0) {
      heap_.pop();
      return;
    }
    Lane& fifo = lanes_[static_cast<std::size_t>(from)];
    fifo.pop_front();
    Front& front = fronts_[static_cast<std::size_t>(from)];
    if (fifo.empty()) {
      --busy_lanes_;
      front = kIdle;
    } else {
      front = Front{fifo.front().time_us, fifo.front().sequence};
    }
  }

  // A lane's front event's (time, sequence), kept beside the other lanes' so that finding the
  // least is a scan of one small array, not of the deques.
  struct Front {
    TimeUs time_us;
    std::uint64_t sequence;
    bool before(const Front& other) const {
      return time_us != other.time_us ? time_us < other.time_us : sequence < other.sequence;
    }
  };
  static constexpr Front kIdle{INT64_MAX, UINT64_MAX};  // after every real event

  EventHeap<Event> heap_;
  std::vector<Lane> lanes_;
  std::vector<Front> fronts_;  // per lane
  std::size_t busy_lanes_ = 0;  // lanes holding an event
  std::size_t size_ = 0;
};

}  // namespace rehearse::sim
