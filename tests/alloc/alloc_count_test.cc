// Allocation counts over a window of a running scenario (issue 15, docs/performance.md): in
// steady state a simulated read allocates nothing, a write only the data it writes. This executable replaces the global
// operator new to count every call, so it is a binary of its own, never linked beside the other
// tests. It counts with core/block_pool.h recycling on, even under AddressSanitizer (which turns
// it off by default to see every block).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "core/block_pool.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/kernel.h"
#include "sim/world.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
// Out of line, so that the compiler never sees a `new` paired with std::free.
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }

namespace rehearse {
namespace {

struct Window {
  std::uint64_t allocations = 0;  // operator new calls while the window's simulated time passed
  std::uint64_t events = 0;       // kernel events (messages, timers, wakes) in it
  std::int64_t requests = 0;      // application requests due in it, every region
};

// Runs `name` (seed 1) and counts over simulated [from_us, to_us), which must be one request
// window (core/observations.h, kRequestWindowUs) so the requests are counted exactly.
Window measure(const char* name, TimeUs from_us, TimeUs to_us, sim::WorldOptions options = {}) {
  Window window;
  auto loaded = resolve_scenario(name);
  EXPECT_TRUE(loaded.ok());
  if (!loaded.ok()) return window;
  auto plan = compile_plan(*loaded.scenario);
  EXPECT_TRUE(plan.is_ok());
  if (!plan.is_ok()) return window;
  sim::World world(*loaded.scenario, 1, plan.value(), options);
  std::uint64_t allocations_at = 0;
  std::uint64_t events_at = 0;
  world.kernel().at(from_us, [&] {
    allocations_at = g_allocations.load();
    events_at = world.kernel().events_processed();
  });
  world.kernel().at(to_us, [&] {
    window.allocations = g_allocations.load() - allocations_at;
    window.events = world.kernel().events_processed() - events_at;
  });
  world.run();
  for (const auto& [region, windows] : world.observations().windows) {
    for (const RequestWindow& w : windows) {
      if (w.start_us >= from_us && w.start_us < to_us) window.requests += w.requests;
    }
  }
  return window;
}

// The standard rehearsal between 50 s and 60 s: three regions' traffic (50 writes and 200 reads
// a second each), replication, the engines' lock renewals, the health gate's soak. Before the
// pools (core/block_pool.h, core/callback.h) this window made 104,028 allocations for 7,500
// requests (13.9 per request). Now a read allocates nothing and a write only the data it
// writes: its row version (copy-on-write) and its text values, left to the allocator on purpose
// (pooled, they cost a 100-seed sweep 50%: docs/performance.md), about 4,400 in all. The bound:
// fewer than one allocation per request.
// Both ways of simulating a replica read and a write's reply: computed whole (a world no fault
// touches, sim/app.h: no event of their own) and event by event (sim::WorldOptions::exact_reads,
// exact_replies).
TEST(AllocationCountTest, ARequestAllocatesOnlyTheDataItWrites) {
  block_pool::recycle_from_now();
  struct Way {
    const char* name;
    bool exact_reads;
    bool exact_replies;
  };
  for (const Way way : {Way{"whole", false, false}, Way{"exact_reads", true, false}, Way{"exact_replies", false, true}}) {
    sim::WorldOptions options;
    options.exact_reads = way.exact_reads;
    options.exact_replies = way.exact_replies;
    const Window w = measure("three-regions-clean", 50 * kSec, 60 * kSec, options);
    ASSERT_GT(w.requests, 5000) << way.name;
    ASSERT_GT(w.events, way.exact_reads ? 20000U : 10000U) << way.name;
    RecordProperty(std::string("allocations_") + way.name, std::to_string(w.allocations));
    RecordProperty(std::string("requests_") + way.name, std::to_string(w.requests));
    EXPECT_LT(w.allocations, static_cast<std::uint64_t>(w.requests))
        << way.name << ": " << w.allocations << " allocations for " << w.requests << " requests and " << w.events
        << " kernel events";
  }
}

}  // namespace
}  // namespace rehearse
