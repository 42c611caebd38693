// Requests from one engine fiber to several lock nodes at once, the way a Redlock client talks
// to its independent masters in parallel: every request leaves now, and the caller waits until
// all have answered or the timeout passes. Used by the Redlock client (sim/lock_store_redlock).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/assert.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

// Sends one request to each of `targets` from the running fiber on `from`; `handler(i, respond)`
// runs at targets[i] on delivery and answers through `respond`. Returns, per target, its answer
// or nullopt when none arrived within `timeout_us` (that request's outcome is unknown).
// May throw FiberUnwind.
template <typename R>
std::vector<std::optional<R>> call_all(Kernel& kernel, Network& network, Node& from, const std::vector<Node*>& targets,
                                       TimeUs timeout_us, std::function<void(std::size_t, Respond<R>)> handler) {
  struct Slots {
    SimFiber* waiter = nullptr;  // cleared when the caller stops waiting
    std::uint64_t generation = 0;
    std::size_t missing = 0;
    std::vector<std::optional<R>> values;
  };
  SimFiber* self = kernel.current();
  REHEARSE_ASSERT(self != nullptr && self->node == &from);
  REHEARSE_ASSERT(timeout_us > 0);
  auto slots = std::make_shared<Slots>();
  slots->waiter = self;
  slots->generation = kernel.wait_generation();
  slots->missing = targets.size();
  slots->values.resize(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    Node& to = *targets[i];
    network.send(from, to, [&kernel, &network, &from, &to, slots, handler, i] {
      const std::uint64_t server_epoch = to.epoch();
      handler(i, [&kernel, &network, &from, &to, slots, i, server_epoch](R value) {
        if (!to.up() || to.epoch() != server_epoch) return;  // crashed while busy: no answer
        network.send(to, from, [&kernel, slots, i, value = std::move(value)]() mutable {
          if (slots->waiter == nullptr || slots->values[i].has_value()) return;
          slots->values[i] = std::move(value);
          if (--slots->missing == 0) kernel.wake(slots->waiter, slots->generation);
        });
      });
    });
  }
  struct StopWaiting {
    Slots* slots;
    ~StopWaiting() { slots->waiter = nullptr; }
  } stop_waiting{slots.get()};
  if (!targets.empty()) kernel.block_until(kernel.now() + timeout_us);
  return slots->values;
}

}  // namespace rehearse::sim
