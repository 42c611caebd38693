// The simulated network: one-way messages between nodes with a latency drawn per message from
// the link's class (intra- or inter-region), partitions (symmetric and one-way), extra delay
// and random drops; request/response with a timeout on top. Messages are closures run at the
// receiver on delivery, so a server's handler sees the server's state at that instant.
//
// A message to a crashed node is lost; one to a paused node waits in its buffer until the
// node resumes. A partition cuts a message when it is sent and again when it would arrive.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/assert.h"
#include "core/model.h"
#include "core/random.h"
#include "sim/kernel.h"

namespace rehearse::sim {

// What a server's handler returns: the reply and how long the server was busy producing it.
template <typename R>
struct Reply {
  R value;
  TimeUs busy_us = 0;
};

// How an asynchronous server handler answers: call it once, whenever the work is done.
template <typename R>
using Respond = Callback<void(R)>;

// What an injected fault did to a message on its way, for attributing a slow or failed
// application request (docs/scenarios.md, `slo.count`): the first such thing, in words
// ("the message from app:us-east-1 to db:us-east-1 was cut by a partition"); empty = nothing.
struct FaultTouch {
  std::string what;
  // Spells `describe()` out only for the first touch (messages are the hot path).
  template <typename Describe>
  void note(Describe describe) {
    if (what.empty()) what = describe();
  }
};

class Network {
 public:
  Network(Kernel& kernel, std::uint64_t seed, DurationRange intra_region, DurationRange inter_region);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Sends a message: `on_delivery` runs at `to` after the link's latency unless the message
  // is cut, dropped or `to` is down by then. Callable from any context.
  // `touch` (nullptr = none), which must outlive the message, learns what a fault did to it.
  void send(Node& from, Node& to, Callback<void()> on_delivery, FaultTouch* touch = nullptr);
  // How long a message from `from` to `to` sent now takes in a world without faults (no
  // partition, drop or delay rule, nodes that never crash or pause), counted as sent: what
  // send() would deliver it after, for traffic computed whole rather than event by event
  // (sim/app.h). The same draw as send()'s.
  TimeUs flight(const Node& from, const Node& to);

  // A request/response from the running fiber on `from`: `handler` runs at `to` on delivery;
  // its reply travels back. Returns nullopt when no reply arrived within `timeout_us` (the
  // request may still have been applied: the outcome is unknown). May throw FiberUnwind.
  template <typename R>
  std::optional<R> call(Node& from, Node& to, TimeUs timeout_us, std::function<Reply<R>()> handler);
  // The same with a handler that answers later through `respond` (a statement that waits for
  // a lock, say). A reply sent after the server crashed is lost.
  template <typename R>
  std::optional<R> call_async(Node& from, Node& to, TimeUs timeout_us, std::function<void(Respond<R>)> handler);

  // Faults. Each returns an id for the matching remove.
  int add_partition(std::vector<const Node*> side, std::vector<const Node*> other_side, bool oneway);
  void remove_partition(int id);
  int add_delay(const Node& node, TimeUs extra_us);
  void remove_delay(int id);
  int add_drop(const Node& node, double probability);
  void remove_drop(int id);

  // Whether a message from `from` to `to` is cut by a partition right now.
  bool cut(const Node& from, const Node& to) const;
  std::uint64_t messages_sent() const { return messages_sent_; }
  Kernel& kernel() { return kernel_; }
  std::uint64_t messages_lost() const { return messages_lost_; }

 private:
  struct Partition {
    int id;
    std::vector<bool> side;   // by node index
    std::vector<bool> other;  // by node index
    bool oneway;
  };
  struct NodeRule {
    int id;
    std::uint32_t node;
    TimeUs extra_us;
    double probability;
  };
  template <typename R>
  struct CallSlot {
    SimFiber* waiter = nullptr;  // cleared when the caller stops waiting
    std::uint64_t generation = 0;
    std::optional<R> value;
    bool answered = false;  // the server's handler answered: its effect stands
  };

  TimeUs latency(const Node& from, const Node& to, FaultTouch* touch);
  void deliver(Node& to, std::uint64_t to_epoch, const Node& from, Callback<void()> on_delivery, FaultTouch* touch);

  Kernel& kernel_;
  Rng rng_;
  DurationRange intra_region_;
  DurationRange inter_region_;
  std::vector<Partition> partitions_;
  std::vector<NodeRule> delays_;
  std::vector<NodeRule> drops_;
  int next_rule_id_ = 1;
  std::uint64_t messages_sent_ = 0;
  std::uint64_t messages_lost_ = 0;
};

template <typename R>
std::optional<R> Network::call(Node& from, Node& to, TimeUs timeout_us, std::function<Reply<R>()> handler) {
  Kernel& kernel = kernel_;
  return call_async<R>(from, to, timeout_us, [&kernel, handler = std::move(handler)](Respond<R> respond) mutable {
    Reply<R> reply = handler();
    kernel.after(reply.busy_us, [respond = std::move(respond), value = std::move(reply.value)]() mutable {
      respond(std::move(value));
    });
  });
}

template <typename R>
std::optional<R> Network::call_async(Node& from, Node& to, TimeUs timeout_us, std::function<void(Respond<R>)> handler) {
  SimFiber* self = kernel_.current();
  REHEARSE_ASSERT(self != nullptr);
  REHEARSE_ASSERT(self->node == &from);
  REHEARSE_ASSERT(timeout_us > 0);
  auto slot = std::make_shared<CallSlot<R>>();
  slot->waiter = self;
  slot->generation = kernel_.wait_generation();
  send(from, to, [this, slot, &from, &to, handler = std::move(handler)]() mutable {
    const std::uint64_t server_epoch = to.epoch();
    handler([this, slot, &from, &to, server_epoch](R value) mutable {
      if (!to.up() || to.epoch() != server_epoch) return;  // crashed while busy: no reply
      slot->answered = true;
      if (slot->waiter == nullptr) kernel_.probe(Probe::ambiguous_outcome);  // the caller gave up already
      send(to, from, [this, slot, value = std::move(value)]() mutable {
        if (slot->waiter == nullptr || slot->value.has_value()) return;
        slot->value = std::move(value);
        kernel_.wake(slot->waiter, slot->generation);
      });
    });
  });
  struct StopWaiting {
    CallSlot<R>* slot;
    ~StopWaiting() { slot->waiter = nullptr; }
  } stop_waiting{slot.get()};
  kernel_.block_until(kernel_.now() + timeout_us);
  // Answered at the server, but the reply was lost or late: the caller cannot know.
  if (!slot->value.has_value() && slot->answered) kernel_.probe(Probe::ambiguous_outcome);
  return std::move(slot->value);
}

}  // namespace rehearse::sim
