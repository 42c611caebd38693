// The deterministic simulation kernel: Boost.Fiber fibers scheduled by a seeded random pick,
// virtual time that jumps to the next timer when nothing is ready, and nodes that can be
// paused, crashed and restarted. Everything else in sim/ is built on it. One kernel runs on
// one thread; only one kernel may be driving a thread at a time.
//
// Simulated code never uses Boost.Fiber's own sleeps (they read the real steady clock): it
// blocks through Kernel::sleep_until / block_until, which wait in virtual time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "core/callback.h"
#include "core/model.h"
#include "core/probes.h"
#include "core/random.h"
#include "sim/buggify.h"
#include "sim/event_queue.h"

namespace boost::fibers {
class context;
}

namespace rehearse::sim {

class Node;

// Thrown inside a fiber whose node crashed or whose kernel is shutting down; the fiber's
// entry point catches it, so its stack unwinds (destructors run) and the fiber ends.
struct FiberUnwind {};

struct SimFiber {
  boost::fibers::context* context = nullptr;
  Node* node = nullptr;
  std::string name;
  std::uint64_t node_epoch = 0;        // the node's incarnation when the fiber was spawned
  std::uint64_t wait_generation = 0;   // bumped on every wake, so stale wakes are ignored
  bool waiting = false;
  bool finished = false;
};

// A node's local clock over true simulated time: offset, drift (ppm) and steps.
class LocalClock {
 public:
  TimeUs local_at(TimeUs true_us) const;
  // Re-anchors so later changes apply from `true_us` on.
  void set_offset(TimeUs true_us, TimeUs offset_us);
  void step(TimeUs true_us, TimeUs by_us);
  void set_drift(TimeUs true_us, std::int64_t ppm);
  std::int64_t drift_ppm() const { return ppm_; }
  // True time that passes while this clock advances by `local_us` (at the current drift).
  TimeUs true_duration(TimeUs local_us) const;
  // The node's monotonic clock (CLOCK_MONOTONIC): it runs at the clock's drift but ignores
  // every step and offset change, so a clock jump does not move it. Its origin is arbitrary.
  TimeUs monotonic_at(TimeUs true_us) const { return local_at(true_us) - steps_us_; }

 private:
  void rebase(TimeUs true_us);
  TimeUs anchor_true_us_ = 0;
  TimeUs anchor_local_us_ = 0;
  std::int64_t ppm_ = 0;
  TimeUs steps_us_ = 0;  // the sum of every step and offset change so far
};

class Kernel;

// A simulated machine or process: its fibers, its local clock, and whether it runs.
class Node {
 public:
  // `region_index`: the kernel's number for `region` (same_region compares numbers, not names).
  Node(Kernel& kernel, std::uint32_t index, std::string name, std::string region, std::uint32_t region_index);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  const std::string& region() const { return region_; }
  bool same_region(const Node& other) const { return region_index_ == other.region_index_; }
  std::uint32_t index() const { return index_; }
  bool up() const { return up_; }
  bool paused() const { return paused_; }
  std::uint64_t epoch() const { return epoch_; }
  // Up, and not crashed since epoch() was `epoch`: work started then may still finish.
  bool alive_in(std::uint64_t epoch) const { return up_ && epoch_ == epoch; }
  LocalClock& clock() { return clock_; }
  const LocalClock& clock() const { return clock_; }
  TimeUs local_now() const;
  TimeUs monotonic_now() const;

  // Work to run when a message arrives while the node is paused (delivered on resume).
  void defer(Callback<void()> delivery) { deferred_.push_back(std::move(delivery)); }

  // Called by the kernel after a crash (drop volatile state) and after a restart (spawn the
  // node's processes again). Set by whoever owns the node.
  std::function<void()> on_crash;
  std::function<void()> on_restart;

 private:
  friend class Kernel;
  Kernel& kernel_;
  std::uint32_t index_;
  std::string name_;
  std::string region_;
  std::uint32_t region_index_;
  bool up_ = true;
  bool paused_ = false;
  std::uint64_t epoch_ = 0;
  LocalClock clock_;
  std::vector<std::pair<SimFiber*, std::uint64_t>> parked_;  // wakes held back by a pause
  std::vector<Callback<void()>> deferred_;              // deliveries held back by a pause
};

class Kernel {
 public:
  // `seed` seeds the scheduling stream; other streams are derived by their owners.
  explicit Kernel(std::uint64_t seed);
  ~Kernel();  // unwinds every live fiber
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  TimeUs now() const { return now_us_; }
  std::uint64_t seed() const { return seed_; }
  std::uint64_t events_processed() const { return events_processed_; }

  Node& add_node(std::string name, std::string region);
  const std::deque<Node>& nodes() const { return nodes_; }
  Node* find_node(const std::string& name);

  // Runs `callback` on the kernel's own context at true time `when_us` (>= now).
  void at(TimeUs when_us, Callback<void()> callback);
  void after(TimeUs delay_us, Callback<void()> callback) { at(now_us_ + delay_us, std::move(callback)); }
  // after(), but the callback runs only if `node` is then up and has not crashed since (its
  // epoch is the one of now): a server's pending work dies with it, without a closure around
  // the callback to check.
  void after_on(const Node& node, TimeUs delay_us, Callback<void()> callback);
  // A place in the order of events taken now, for a callback scheduled later with at_reserved:
  // it then runs exactly where a callback scheduled now with at() would have run (among events
  // of the same time, by this sequence). Each reserved sequence is for one at_reserved at most.
  std::uint64_t reserve_sequence() { return sequence_++; }
  // Whether an event at (`time_us`, `sequence`) would have run by now: it comes before the
  // running event in the order of events (time, then sequence). After a run_until that ran
  // every event up to its end, every event of now scheduled until then has run; after a stop,
  // those after the stopping event have not. What settles work that costs no event of its own
  // (a reserved sequence, no callback) uses it to settle exactly what the event would have done
  // by now.
  bool has_run(TimeUs time_us, std::uint64_t sequence) const {
    return time_us != now_us_ ? time_us < now_us_ : sequence < running_sequence_;
  }
  void at_reserved(TimeUs when_us, std::uint64_t sequence, Callback<void()> callback);

  // Starts a fiber on `node`; it first runs when the scheduler picks it.
  SimFiber* spawn(Node& node, std::string name, std::function<void()> body);
  // The running simulated fiber, or nullptr on the kernel's own context.
  SimFiber* current() const;

  // Blocking, for simulated fibers only. Each may throw FiberUnwind.
  void sleep_until(TimeUs when_us);
  void yield();
  // A wait that another party ends with wake(fiber, generation) or that times out at
  // `deadline_us`: take the generation first, hand it to the waker, then block.
  std::uint64_t wait_generation() const;
  void block_until(TimeUs deadline_us);
  // Ends the wait `generation` of `fiber`, if it is still that wait. Safe from any context.
  void wake(SimFiber* fiber, std::uint64_t generation);

  // Node lifecycle (from the kernel's context: faults and the world call these).
  void pause(Node& node);
  void resume(Node& node);
  void crash(Node& node);
  void restart(Node& node);

  // Processes events in time order up to and including `end_us`, running every fiber that
  // becomes ready; time then stands at `end_us` (or at the stop).
  void run_until(TimeUs end_us);
  // Ends the run: unwinds every live fiber (each sees FiberUnwind). The kernel cannot run
  // again afterwards. Owners call it before destroying what the fibers reference.
  void shutdown() { unwind_all(); }
  // Makes run_until return after the current event.
  void stop() { stop_requested_ = true; }
  bool idle() const { return queue_.empty(); }

  Rng& scheduling_rng() { return scheduling_rng_; }
  // 0, except under test_hooks::leaking_scheduling_state: how many kernels this process made.
  std::uint64_t leaked_run() const { return leaked_run_; }

  // The run's coverage probes (core/probes.h) and BUGGIFY fault points (sim/buggify.h):
  // counters and seeded switches that every simulated thing can reach. Neither is an event.
  ProbeCounts& probes() { return probes_; }
  const ProbeCounts& probes() const { return probes_; }
  void probe(Probe probe) { probes_.hit(probe); }
  Buggify& buggify() { return buggify_; }
  const Buggify& buggify() const { return buggify_; }

 private:
  // A queued event: 32 trivially copyable bytes, so the heap moves no std::function. A
  // callback waits in `callbacks_` (its slot reused once it has run), with the node whose
  // crash cancels it (after_on), if any; it runs where it waits.
  struct Event {
    TimeUs time_us;
    std::uint64_t sequence;
    SimFiber* fiber;  // a timer wake when set, else the callback in `callback` slot
    std::uint64_t generation_or_callback;
  };
  void push(TimeUs time_us, SimFiber* fiber, std::uint64_t generation_or_callback);
  struct Stored {
    Callback<void()> callback;
    const Node* node = nullptr;  // after_on: runs only while this node is up in `epoch`
    std::uint64_t epoch = 0;
  };
  // Stores `callback` in a free slot of callbacks_; returns the slot.
  std::uint64_t store(Callback<void()>&& callback, const Node* node = nullptr, std::uint64_t epoch = 0);
  // Slots live in fixed chunks, so a callback runs in its slot while it schedules others.
  static constexpr std::size_t kCallbackChunk = 256;
  Stored& stored(std::uint64_t slot) { return callbacks_[slot / kCallbackChunk][slot % kCallbackChunk]; }
  void block(SimFiber* self);
  bool take_next_wake(SimFiber* self);
  void drain_taking_wakes(TimeUs end_us);
  void force_wake(SimFiber* fiber);
  void drain_ready();
  void unwind_all();

  std::uint64_t seed_;
  Rng scheduling_rng_;
  std::uint64_t leaked_run_ = 0;
  ProbeCounts probes_;
  Buggify buggify_;
  TimeUs now_us_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t running_sequence_ = 0;  // the running (or last) event's: has_run
  std::uint64_t events_processed_ = 0;
  bool stop_requested_ = false;
  bool fibers_take_wakes_ = false;  // run_until is waiting in drain_taking_wakes
  TimeUs end_us_ = 0;               // of the current run_until
  bool shutting_down_ = false;
  EventQueue<Event> queue_;
  std::vector<std::unique_ptr<Stored[]>> callbacks_;  // chunks of kCallbackChunk slots
  std::uint64_t callback_slots_ = 0;                   // slots made so far
  std::vector<std::uint64_t> free_callbacks_;
  std::deque<Node> nodes_;
  std::vector<std::string> regions_;  // the nodes' regions, numbered in the order first met
  std::map<std::string, Node*, std::less<>> nodes_by_name_;  // lookups only, never iterated: registration was quadratic
  std::vector<std::unique_ptr<SimFiber>> fibers_;
  std::size_t live_fibers_ = 0;
  Kernel* previous_kernel_ = nullptr;
};

// A deliberately injected determinism bug, for the tests of `rehearse replay` only: while set,
// every kernel seeds its scheduling stream, and the network its latency stream, from the seed
// plus a process-wide count of kernels made so far (state that leaks from one run into the
// next), so two runs of one seed differ.
// Never set outside tests; nothing in rehearse reads it otherwise.
namespace test_hooks {
extern bool leaking_scheduling_state;
}  // namespace test_hooks

}  // namespace rehearse::sim
