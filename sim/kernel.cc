// The simulation kernel: the seeded Boost.Fiber scheduling algorithm, the virtual-time event
// loop, fiber blocking and waking, and node pause / crash / restart.
#include "sim/kernel.h"

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/type.hpp>
#include <algorithm>
#include <cstdio>

#include "core/assert.h"

#if defined(__SANITIZE_ADDRESS__)
#define REHEARSE_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REHEARSE_ASAN_FIBERS 1
#endif
#endif
#ifdef REHEARSE_ASAN_FIBERS
#include <sanitizer/common_interface_defs.h>

#include <unordered_map>
#endif

namespace rehearse::sim {

namespace {

thread_local Kernel* current_kernel = nullptr;
thread_local SimFiber* running_fiber = nullptr;

constexpr std::size_t kFiberStackBytes = 256 * 1024;
// The dispatcher (Boost's own fiber, which frees finished fibers) gets a turn after this many
// picks of the kernel's context, so finished fibers do not pile up during long runs.
constexpr std::uint32_t kDispatcherEvery = 64;

// Picks the next ready simulated fiber uniformly at random with the running kernel's
// scheduling stream. The kernel's own context (the thread's main fiber) and Boost's
// dispatcher run only when no simulated fiber is ready, so the kernel regains control
// exactly when the simulated world has nothing left to do at this instant.
class SeededRandomPick final : public boost::fibers::algo::algorithm {
 public:
  void awakened(boost::fibers::context* context) noexcept override {
    if (context->is_context(boost::fibers::type::pinned_context)) {
      special_.push_back(context);
    } else {
      ready_.push_back(context);
    }
  }

  boost::fibers::context* pick_next() noexcept override {
    if (!ready_.empty()) {
      const std::size_t index = ready_.size() == 1 || current_kernel == nullptr
                                    ? 0
                                    : current_kernel->scheduling_rng().below(ready_.size());
      boost::fibers::context* picked = ready_[index];
      ready_[index] = ready_.back();
      ready_.pop_back();
      return picked;
    }
    return pick_special();
  }

  bool has_ready_fibers() const noexcept override { return !ready_.empty() || !special_.empty(); }
  bool has_ready_simulated() const { return !ready_.empty(); }

  void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override {
    // Unreachable in a simulation: the kernel's context is always ready when nothing else is.
  }
  void notify() noexcept override {}

 private:
  boost::fibers::context* pick_special() {
    if (special_.empty()) return nullptr;
    std::size_t index = 0;
    const bool dispatcher_turn = ++special_picks_ % kDispatcherEvery == 0;
    for (std::size_t i = 0; i < special_.size(); ++i) {
      const bool is_main = special_[i]->is_context(boost::fibers::type::main_context);
      if (is_main != dispatcher_turn) {
        index = i;
        break;
      }
    }
    boost::fibers::context* picked = special_[index];
    special_.erase(special_.begin() + static_cast<std::ptrdiff_t>(index));
    return picked;
  }

  std::vector<boost::fibers::context*> ready_;
  std::vector<boost::fibers::context*> special_;
  std::uint32_t special_picks_ = 0;
};

thread_local SeededRandomPick* installed_algorithm = nullptr;

// ---- AddressSanitizer and fiber stacks ----
// ASan does not see Boost.Fiber's stack switches: while a fiber runs, ASan still believes the
// thread is on its main stack. The __asan_handle_no_return that precedes every throw and
// _Unwind_Resume, which on a plain thread clears the shadow of the frames being unwound, then
// refuses the bogus range it computes ("ASan is ignoring requested __asan_handle_no_return"),
// so unwinding a fiber with FiberUnwind leaves the unwound frames' redzones poisoned and the
// next landing pad reports a false stack-buffer-overflow. So before FiberUnwind is thrown,
// ASan is told that the thread is on the fiber's stack, and once the fiber has unwound (or
// before it blocks again) that it is back on the thread's stack. No-ops without ASan.
#ifdef REHEARSE_ASAN_FIBERS
struct StackBounds {
  const void* bottom = nullptr;
  std::size_t size = 0;
};
thread_local std::unordered_map<const SimFiber*, StackBounds> fiber_stacks;
thread_local StackBounds thread_stack;
thread_local bool asan_on_fiber_stack = false;

StackBounds tell_asan_stack(StackBounds now_on) {
  void* fake_stack = nullptr;
  StackBounds previous;
  __sanitizer_start_switch_fiber(&fake_stack, now_on.bottom, now_on.size);
  __sanitizer_finish_switch_fiber(fake_stack, &previous.bottom, &previous.size);
  return previous;
}
#endif

// The stack ASan is told about is the thread's again (see above).
void asan_back_on_thread_stack() {
#ifdef REHEARSE_ASAN_FIBERS
  if (!asan_on_fiber_stack) return;
  tell_asan_stack(thread_stack);
  asan_on_fiber_stack = false;
#endif
}

// Tells ASan that `fiber`'s stack is the one about to unwind. Call right before throwing
// FiberUnwind (not itself [[noreturn]]: ASan would run its no-return hook before the call).
void asan_on_fiber_stack_for_unwind(const SimFiber* fiber) {
#ifdef REHEARSE_ASAN_FIBERS
  if (!asan_on_fiber_stack) {
    thread_stack = tell_asan_stack(fiber_stacks.at(fiber));
    asan_on_fiber_stack = true;
  }
#else
  (void)fiber;
#endif
}

// Fixed-size fiber stacks; under ASan each one's bounds are recorded for its fiber.
class FiberStack {
 public:
#ifdef REHEARSE_ASAN_FIBERS
  explicit FiberStack(const SimFiber* fiber) : fiber_(fiber) {}
#else
  explicit FiberStack(const SimFiber* /*fiber: its stack's bounds matter to ASan only*/) {}
#endif
  boost::context::stack_context allocate() {
    boost::context::stack_context stack = inner_.allocate();
#ifdef REHEARSE_ASAN_FIBERS
    fiber_stacks[fiber_] = StackBounds{static_cast<char*>(stack.sp) - stack.size, stack.size};
#endif
    return stack;
  }
  void deallocate(boost::context::stack_context& stack) noexcept { inner_.deallocate(stack); }

 private:
  boost::fibers::fixedsize_stack inner_{kFiberStackBytes};
#ifdef REHEARSE_ASAN_FIBERS
  const SimFiber* fiber_;
#endif
};

// Forgets `fiber`'s stack once its body has ended.
void fiber_done_with_stack(const SimFiber* fiber) {
  asan_back_on_thread_stack();
#ifdef REHEARSE_ASAN_FIBERS
  fiber_stacks.erase(fiber);
#else
  (void)fiber;
#endif
}

SeededRandomPick& scheduler_for_this_thread() {
  if (installed_algorithm == nullptr) {
    auto* algorithm = new SeededRandomPick();  // owned by Boost.Fiber's scheduler
    boost::fibers::context::active()->get_scheduler()->set_algo(
        boost::fibers::algo::algorithm::ptr_t(algorithm));
    installed_algorithm = algorithm;
  }
  return *installed_algorithm;
}

}  // namespace

// ---- LocalClock ----

TimeUs LocalClock::local_at(TimeUs true_us) const {
  const TimeUs elapsed = true_us - anchor_true_us_;
  __extension__ const __int128 drift = static_cast<__int128>(elapsed) * ppm_ / 1'000'000;
  return anchor_local_us_ + elapsed + static_cast<TimeUs>(drift);
}

void LocalClock::rebase(TimeUs true_us) {
  anchor_local_us_ = local_at(true_us);
  anchor_true_us_ = true_us;
}

void LocalClock::set_offset(TimeUs true_us, TimeUs offset_us) {
  rebase(true_us);
  steps_us_ += true_us + offset_us - anchor_local_us_;
  anchor_local_us_ = true_us + offset_us;
}

void LocalClock::step(TimeUs true_us, TimeUs by_us) {
  rebase(true_us);
  anchor_local_us_ += by_us;
  steps_us_ += by_us;
}

void LocalClock::set_drift(TimeUs true_us, std::int64_t ppm) {
  REHEARSE_ASSERT(ppm > -1'000'000);
  rebase(true_us);
  ppm_ = ppm;
}

TimeUs LocalClock::true_duration(TimeUs local_us) const {
  REHEARSE_ASSERT(local_us >= 0);
  __extension__ const __int128 scaled = static_cast<__int128>(local_us) * 1'000'000;
  __extension__ const __int128 rate = 1'000'000 + ppm_;
  return static_cast<TimeUs>((scaled + rate - 1) / rate);  // round up: never wake early
}

// ---- Node ----

Node::Node(Kernel& kernel, std::uint32_t index, std::string name, std::string region, std::uint32_t region_index)
    : kernel_(kernel), index_(index), name_(std::move(name)), region_(std::move(region)), region_index_(region_index) {}

TimeUs Node::local_now() const { return clock_.local_at(kernel_.now()); }
TimeUs Node::monotonic_now() const { return clock_.monotonic_at(kernel_.now()); }

// ---- Kernel ----

bool test_hooks::leaking_scheduling_state = false;

Kernel::Kernel(std::uint64_t seed) : seed_(seed), scheduling_rng_(seed, "scheduling"), buggify_(seed) {
  scheduler_for_this_thread();
  previous_kernel_ = current_kernel;
  current_kernel = this;
  if (test_hooks::leaking_scheduling_state) {
    // The injected determinism bug of test_hooks: state that survives from one run to the next.
    static std::uint64_t runs_so_far = 0;
    scheduling_rng_ = Rng(seed + ++runs_so_far, "scheduling");
    leaked_run_ = runs_so_far;
  }
}

Kernel::~Kernel() {
  unwind_all();
  current_kernel = previous_kernel_;
}

Node& Kernel::add_node(std::string name, std::string region) {
  REHEARSE_ASSERT(find_node(name) == nullptr);
  auto known = std::find(regions_.begin(), regions_.end(), region);
  if (known == regions_.end()) known = regions_.insert(regions_.end(), region);
  const auto region_index = static_cast<std::uint32_t>(known - regions_.begin());
  Node& node = nodes_.emplace_back(*this, static_cast<std::uint32_t>(nodes_.size()), std::move(name), std::move(region), region_index);
  nodes_by_name_.emplace(node.name(), &node);
  return node;
}

Node* Kernel::find_node(const std::string& name) {
  const auto found = nodes_by_name_.find(name);
  return found == nodes_by_name_.end() ? nullptr : found->second;
}

void Kernel::push(TimeUs time_us, SimFiber* fiber, std::uint64_t generation_or_callback) {
  REHEARSE_ASSERT(time_us >= now_us_);
  queue_.push(Event{time_us, sequence_++, fiber, generation_or_callback});
}

void Kernel::at(TimeUs when_us, Callback<void()> callback) { push(when_us, nullptr, store(std::move(callback))); }

std::uint64_t Kernel::store(Callback<void()>&& callback, const Node* node, std::uint64_t epoch) {
  std::uint64_t slot = 0;
  if (free_callbacks_.empty()) {
    slot = callback_slots_++;
    if (slot % kCallbackChunk == 0) callbacks_.push_back(std::make_unique<Stored[]>(kCallbackChunk));
  } else {
    slot = free_callbacks_.back();
    free_callbacks_.pop_back();
  }
  Stored& waiting = stored(slot);
  waiting.callback = std::move(callback);
  waiting.node = node;
  waiting.epoch = epoch;
  return slot;
}

void Kernel::after_on(const Node& node, TimeUs delay_us, Callback<void()> callback) {
  push(now_us_ + delay_us, nullptr, store(std::move(callback), &node, node.epoch()));
}

void Kernel::at_reserved(TimeUs when_us, std::uint64_t sequence, Callback<void()> callback) {
  REHEARSE_ASSERT(when_us >= now_us_);
  REHEARSE_ASSERT(sequence < sequence_);
  queue_.push(Event{when_us, sequence, nullptr, store(std::move(callback))});
}

SimFiber* Kernel::spawn(Node& node, std::string name, std::function<void()> body) {
  REHEARSE_ASSERT(node.up());
  REHEARSE_ASSERT(!shutting_down_);
  fibers_.push_back(std::make_unique<SimFiber>());
  SimFiber* fiber = fibers_.back().get();
  fiber->node = &node;
  fiber->name = std::move(name);
  fiber->node_epoch = node.epoch_;
  ++live_fibers_;
  boost::fibers::fiber launched(
      std::allocator_arg, FiberStack(fiber),
      [this, fiber, body = std::move(body)]() {
        fiber->context = boost::fibers::context::active();
        running_fiber = fiber;
        try {
          if (fiber->node->paused()) {  // spawned on a paused node: wait for its resume
            fiber->node->parked_.emplace_back(fiber, fiber->wait_generation);
            block(fiber);
          }
          if (shutting_down_ || fiber->node->epoch() != fiber->node_epoch) {
            asan_on_fiber_stack_for_unwind(fiber);
            throw FiberUnwind{};
          }
          body();
        } catch (const FiberUnwind&) {
          // The node crashed or the run ended: the stack has unwound; nothing more to do.
        }
        fiber_done_with_stack(fiber);
        fiber->finished = true;
        --live_fibers_;
        running_fiber = nullptr;
      });
  launched.detach();
  return fiber;
}

SimFiber* Kernel::current() const { return running_fiber; }

void Kernel::block(SimFiber* self) {
  REHEARSE_ASSERT(self == running_fiber);
  asan_back_on_thread_stack();  // in case the fiber caught FiberUnwind and blocks again
  self->waiting = true;
  if (!take_next_wake(self)) self->context->suspend();
  running_fiber = self;
  REHEARSE_ASSERT(!self->waiting);
  if (shutting_down_ || self->node->epoch() != self->node_epoch) {
    asan_on_fiber_stack_for_unwind(self);
    throw FiberUnwind{};
  }
}

// While run_until waits for the simulated world to go quiet, a fiber that blocks with no other
// fiber ready does the event loop's next step itself when that step is a timer wake of a fiber
// that will run: the same pop, at the same time, in the same order (a single ready fiber is
// picked without drawing from the scheduling stream either way), but one context switch instead
// of two, or none when the wake is the blocking fiber's own. Callbacks, and wakes that make no
// fiber ready, are left to the loop on the kernel's context. True when `self` was the one woken.
bool Kernel::take_next_wake(SimFiber* self) {
  if (!fibers_take_wakes_ || stop_requested_ || shutting_down_ || queue_.empty() ||
      installed_algorithm->has_ready_simulated()) {
    return false;
  }
  const Event next = queue_.top();
  SimFiber* fiber = next.fiber;
  if (next.time_us > end_us_ || fiber == nullptr || fiber->finished || !fiber->waiting ||
      fiber->wait_generation != next.generation_or_callback || fiber->node->paused_) {
    return false;
  }
  queue_.pop();
  now_us_ = next.time_us;
  running_sequence_ = next.sequence;
  ++events_processed_;
  if (fiber != self) {
    force_wake(fiber);
    return false;
  }
  ++self->wait_generation;
  self->waiting = false;
  return true;
}

void Kernel::drain_taking_wakes(TimeUs end_us) {
  end_us_ = end_us;
  fibers_take_wakes_ = true;
  drain_ready();
  fibers_take_wakes_ = false;
}

std::uint64_t Kernel::wait_generation() const {
  REHEARSE_ASSERT(running_fiber != nullptr);
  return running_fiber->wait_generation;
}

void Kernel::block_until(TimeUs deadline_us) {
  SimFiber* self = running_fiber;
  REHEARSE_ASSERT(self != nullptr);
  push(deadline_us < now_us_ ? now_us_ : deadline_us, self, self->wait_generation);
  block(self);
}

void Kernel::sleep_until(TimeUs when_us) { block_until(when_us); }

void Kernel::yield() { block_until(now_us_); }

void Kernel::wake(SimFiber* fiber, std::uint64_t generation) {
  if (fiber->finished || !fiber->waiting || fiber->wait_generation != generation) return;
  if (fiber->node->paused_) {
    fiber->node->parked_.emplace_back(fiber, generation);
    return;
  }
  force_wake(fiber);
}

void Kernel::force_wake(SimFiber* fiber) {
  REHEARSE_ASSERT(fiber->waiting && !fiber->finished);
  ++fiber->wait_generation;
  fiber->waiting = false;
  boost::fibers::context::active()->schedule(fiber->context);
}

void Kernel::pause(Node& node) {
  REHEARSE_ASSERT(running_fiber == nullptr);
  node.paused_ = true;
}

void Kernel::resume(Node& node) {
  REHEARSE_ASSERT(running_fiber == nullptr);
  if (!node.paused_) return;
  node.paused_ = false;
  auto deferred = std::move(node.deferred_);
  node.deferred_.clear();
  for (auto& delivery : deferred) delivery();
  auto parked = std::move(node.parked_);
  node.parked_.clear();
  for (auto& [fiber, generation] : parked) wake(fiber, generation);
}

void Kernel::crash(Node& node) {
  REHEARSE_ASSERT(running_fiber == nullptr);
  if (!node.up_) return;
  node.up_ = false;
  node.paused_ = false;
  ++node.epoch_;
  node.parked_.clear();
  node.deferred_.clear();
  for (auto& fiber : fibers_) {
    if (fiber->node == &node && !fiber->finished && fiber->waiting) force_wake(fiber.get());
  }
  drain_ready();  // let the node's fibers unwind now, before its state is dropped
  if (node.on_crash) node.on_crash();
}

void Kernel::restart(Node& node) {
  REHEARSE_ASSERT(running_fiber == nullptr);
  if (node.up_) return;
  node.up_ = true;
  if (node.on_restart) node.on_restart();
}

void Kernel::drain_ready() {
  while (installed_algorithm->has_ready_simulated()) {
    boost::this_fiber::yield();
    running_fiber = nullptr;  // back on the kernel's own context
  }
}

void Kernel::run_until(TimeUs end_us) {
  REHEARSE_ASSERT(running_fiber == nullptr);
  REHEARSE_ASSERT(current_kernel == this);
  stop_requested_ = false;
  drain_taking_wakes(end_us);
  Event event{};
  while (!stop_requested_ && queue_.pop_until(end_us, event)) {
    now_us_ = event.time_us;
    running_sequence_ = event.sequence;
    ++events_processed_;
    if (event.fiber != nullptr) {
      wake(event.fiber, event.generation_or_callback);
    } else {
      // Run in its slot (chunks never move), which is free again once it has run.
      const std::uint64_t slot = event.generation_or_callback;
      Stored& waiting = stored(slot);
      if (waiting.node == nullptr || waiting.node->alive_in(waiting.epoch)) waiting.callback();
      waiting.callback = nullptr;
      free_callbacks_.push_back(slot);
    }
    drain_taking_wakes(end_us);
  }
  if (!stop_requested_) {  // every event up to end_us ran
    now_us_ = std::max(now_us_, end_us);
    running_sequence_ = sequence_;  // and none scheduled from now on
  }
}

void Kernel::unwind_all() {
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& fiber : fibers_) {
    if (!fiber->finished && fiber->waiting) force_wake(fiber.get());
  }
  drain_ready();
  REHEARSE_ASSERT(live_fibers_ == 0);
}

}  // namespace rehearse::sim
