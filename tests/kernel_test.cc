// Tests of the simulation kernel (sim/kernel.h): timer order, virtual time, run_until, at(),
// seeded scheduling, pause / resume / crash / restart, wait generations, block_until timeouts,
// unwinding on destruction; and of LocalClock (offset, drift, steps, true_duration).
#include "sim/kernel.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace rehearse::sim {
namespace {

using Log = std::vector<std::string>;
using Times = std::vector<TimeUs>;

// "10ms" for whole milliseconds, else "10500us": exact, yet readable in failure output.
std::string stamp(TimeUs t) {
  return t % kMs == 0 ? std::to_string(t / kMs) + "ms" : std::to_string(t) + "us";
}

// Runs `action` when destroyed: observes that a fiber's stack unwound.
struct OnExit {
  std::function<void()> action;
  ~OnExit() { action(); }
};

class KernelTest : public ::testing::Test {
 protected:
  // Declared before the kernel: fibers write them while the kernel unwinds them at the end.
  std::vector<std::string> log;
  Kernel kernel{42};
  Node& a = kernel.add_node("a", "r1");
  Node& b = kernel.add_node("b", "r1");

  // Appends "what@time" (true time) to the log.
  void note(const std::string& what) { log.push_back(what + "@" + stamp(kernel.now())); }

  // The log entries written under `who`, in order.
  std::vector<std::string> entries(const std::string& who) const {
    std::vector<std::string> out;
    for (const auto& entry : log) {
      if (entry.rfind(who + "@", 0) == 0) out.push_back(entry);
    }
    return out;
  }

  // A fiber on `node` that, `ticks` times, sleeps `every` and then logs the node's name.
  void tick(Node& node, int ticks, TimeUs every = 10 * kMs) {
    kernel.spawn(node, node.name(), [this, owner = &node, ticks, every] {
      for (int i = 0; i < ticks; ++i) {
        kernel.sleep_until(kernel.now() + every);
        note(owner->name());
      }
    });
  }
};

// ---- Event order and virtual time ----

TEST_F(KernelTest, TimersFireInTimeOrderTiesInInsertionOrder) {
  // Proves time order with FIFO ties: callbacks scheduled out of order plus a fiber timer tied with one log their firing order.
  kernel.at(30 * kMs, [&] { note("c"); });
  kernel.at(10 * kMs, [&] { note("a1"); });
  kernel.at(20 * kMs, [&] { note("b"); });
  kernel.at(10 * kMs, [&] { note("a2"); });
  kernel.at(10 * kMs, [&] { note("a3"); });
  // Its 20ms timer is pushed when the fiber first runs, inside run_until: after the "b" callback.
  kernel.spawn(a, "fiber", [&] {
    kernel.sleep_until(20 * kMs);
    note("fiber");
  });
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"a1@10ms", "a2@10ms", "a3@10ms", "b@20ms", "fiber@20ms", "c@30ms"}));
}

TEST_F(KernelTest, FiberTimersTiedInTimeWakeInInsertionOrder) {
  // Proves tied fiber timers wake FIFO: x, y, z register their 50ms sleeps at 5, 6, 7ms (in that order) and must wake x, y, z.
  const std::pair<const char*, TimeUs> sleepers[] = {{"z", 7 * kMs}, {"x", 5 * kMs}, {"y", 6 * kMs}};
  for (const auto& [name, first] : sleepers) {
    kernel.spawn(a, name, [this, who = std::string(name), start = first] {
      kernel.sleep_until(start);
      kernel.sleep_until(50 * kMs);
      note(who);
    });
  }
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"x@50ms", "y@50ms", "z@50ms"}));
}

TEST_F(KernelTest, SleepingAnHourCompletesInstantlyAtExactVirtualTime) {
  // Proves virtual time jumps to the next timer: a fiber sleeping 1h then 30min wakes at exactly 1h and 1h30 within a second of wall time.
  std::vector<TimeUs> woke;
  kernel.spawn(a, "sleeper", [&] {
    kernel.sleep_until(kernel.now() + kHour);
    woke.push_back(kernel.now());
    kernel.sleep_until(kernel.now() + 30 * kMin);
    woke.push_back(kernel.now());
  });
  const auto wall_start = std::chrono::steady_clock::now();
  kernel.run_until(10 * kHour);
  const auto wall = std::chrono::steady_clock::now() - wall_start;
  EXPECT_EQ(woke, (Times{kHour, kHour + 30 * kMin}));
  EXPECT_LT(wall, std::chrono::seconds(1));
  EXPECT_EQ(kernel.now(), 10 * kHour);
  EXPECT_TRUE(kernel.idle());
  EXPECT_EQ(kernel.events_processed(), 2u);
}

// A sequence reserved now and used later runs the callback where one scheduled at reservation
// would have run among events of the same time: after those scheduled before the reservation,
// before those scheduled after it, whenever at_reserved is called.
TEST_F(KernelTest, AReservedSequenceRunsWhereItsReservationWasMade) {
  kernel.at(100 * kMs, [&] { note("before"); });
  const std::uint64_t reserved = kernel.reserve_sequence();
  kernel.at(100 * kMs, [&] { note("after"); });
  kernel.at(50 * kMs, [&] { kernel.at_reserved(100 * kMs, reserved, [&] { note("reserved"); }); });
  kernel.run_until(kSec);
  EXPECT_EQ(log, (std::vector<std::string>{"before@100ms", "reserved@100ms", "after@100ms"}));
}

TEST_F(KernelTest, HasRunTellsWhetherAnEventOfAReservedPlaceWouldHaveRun) {
  // Two places reserved at 100 ms around an event there; each event asks about both.
  const std::uint64_t early = kernel.reserve_sequence();
  kernel.at(100 * kMs, [&] {
    note(fmt::format("mid:{}{}", kernel.has_run(100 * kMs, early), kernel.has_run(100 * kMs, early + 2)));
  });
  const std::uint64_t late = kernel.reserve_sequence();
  ASSERT_EQ(late, early + 2);
  kernel.at(50 * kMs, [&] { note(fmt::format("first:{}{}", kernel.has_run(100 * kMs, early), kernel.has_run(49 * kMs, late))); });
  kernel.at(100 * kMs, [&] { note(fmt::format("last:{}{}", kernel.has_run(100 * kMs, late), kernel.has_run(101 * kMs, early))); });
  kernel.at(200 * kMs, [&] {
    note("stop");
    kernel.stop();
  });
  kernel.at(200 * kMs, [&] { note("after the stop"); });
  const std::uint64_t after_stop = kernel.reserve_sequence();
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"first:falsetrue@50ms", "mid:truefalse@100ms", "last:truefalse@100ms", "stop@200ms"}));
  EXPECT_FALSE(kernel.has_run(200 * kMs, after_stop)) << "after the stopping event";
  EXPECT_TRUE(kernel.has_run(199 * kMs, after_stop));
  kernel.run_until(kSec);  // runs out of events: everything up to its end, and nothing scheduled later
  EXPECT_TRUE(kernel.has_run(200 * kMs, after_stop));
  EXPECT_TRUE(kernel.has_run(kSec, after_stop));
  EXPECT_FALSE(kernel.has_run(kSec, kernel.reserve_sequence()));
  EXPECT_FALSE(kernel.has_run(kSec + 1, 0));
}

TEST_F(KernelTest, RunUntilStopsAtEndAndLeavesLaterEventsQueued) {
  // Proves run_until is inclusive of its end, leaves later events queued with time standing at the end, and a later run picks them up.
  for (const TimeUs t : {100 * kMs, 200 * kMs, 300 * kMs}) kernel.at(t, [&] { note("e"); });
  kernel.spawn(a, "fiber", [&] {
    kernel.sleep_until(250 * kMs);
    note("fiber");
  });
  kernel.run_until(200 * kMs);
  EXPECT_EQ(log, (Log{"e@100ms", "e@200ms"}));
  EXPECT_EQ(kernel.now(), 200 * kMs);
  EXPECT_FALSE(kernel.idle());

  kernel.run_until(220 * kMs);  // nothing due: time still moves to the end
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(kernel.now(), 220 * kMs);

  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"e@100ms", "e@200ms", "fiber@250ms", "e@300ms"}));
  EXPECT_EQ(kernel.now(), kSec);
  EXPECT_TRUE(kernel.idle());
}

TEST_F(KernelTest, StopEndsTheRunAfterTheCurrentEvent) {
  // Proves stop(): a callback stopping at 20ms returns run_until with time at 20ms and the tied and later events still queued.
  kernel.at(10 * kMs, [&] { note("first"); });
  kernel.at(20 * kMs, [&] {
    note("stop");
    kernel.stop();
  });
  kernel.at(20 * kMs, [&] { note("tied"); });
  kernel.at(30 * kMs, [&] { note("last"); });
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"first@10ms", "stop@20ms"}));
  EXPECT_EQ(kernel.now(), 20 * kMs);
  EXPECT_FALSE(kernel.idle());

  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"first@10ms", "stop@20ms", "tied@20ms", "last@30ms"}));
  EXPECT_EQ(kernel.now(), kSec);
}

TEST_F(KernelTest, AtCallbacksRunOnKernelContextAndCanScheduleAndSpawn) {
  // Proves at()/after() callbacks run at their time on the kernel's context and can schedule callbacks and spawn fibers that run at once.
  SimFiber* child = nullptr;
  kernel.at(5 * kMs, [&] {
    EXPECT_EQ(kernel.current(), nullptr);
    note("first");
    kernel.after(3 * kMs, [&] { note("after"); });
    kernel.at(kernel.now(), [&] { note("same-instant"); });
    kernel.spawn(b, "child", [&] {
      child = kernel.current();
      note("child");
    });
  });
  kernel.run_until(kSec);
  // The spawned fiber runs in the drain right after its event, before the next (tied) event.
  EXPECT_EQ(log, (Log{"first@5ms", "child@5ms", "same-instant@5ms", "after@8ms"}));
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->node, &b);
  EXPECT_EQ(child->name, "child");
  EXPECT_TRUE(child->finished);
  EXPECT_EQ(kernel.events_processed(), 3u);
}

// ---- Seeded scheduling ----

// The order in which 6 fibers, each logging its digit and yielding 3 times, ran under `seed`.
std::string interleaving(std::uint64_t seed) {
  std::string order;
  Kernel kernel(seed);
  Node& node = kernel.add_node("n", "r");
  for (int i = 0; i < 6; ++i) {
    kernel.spawn(node, "f" + std::to_string(i), [&kernel, &order, i] {
      for (int round = 0; round < 3; ++round) {
        order += static_cast<char>('0' + i);
        kernel.yield();
      }
    });
  }
  kernel.run_until(kSec);
  EXPECT_EQ(kernel.now(), kSec);
  return order;
}

TEST(KernelDeterminism, SameSeedSameInterleavingDifferentSeedsDiffer) {
  // Proves scheduling is a function of the seed: each seed's yield interleaving repeats exactly, and 8 seeds give more than one interleaving.
  std::set<std::string> distinct;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const std::string first = interleaving(seed);
    EXPECT_EQ(first.size(), 18u);
    for (char digit = '0'; digit < '6'; ++digit) EXPECT_EQ(std::count(first.begin(), first.end(), digit), 3) << first;
    EXPECT_EQ(interleaving(seed), first) << "seed " << seed;
    distinct.insert(first);
  }
  EXPECT_GT(distinct.size(), 1u);
}

// ---- Pause and resume ----

TEST_F(KernelTest, PausedNodeHoldsItsFibersWhileOtherNodesRun) {
  // Proves pause: a's 30ms timer and an explicit wake at 40ms take effect only at resume (55ms) while b ticks on and a's clock advances.
  a.clock().set_offset(0, 7 * kMs);
  tick(a, 4);
  tick(b, 6);
  SimFiber* waiter = nullptr;
  std::uint64_t generation = 0;
  kernel.spawn(a, "waiter", [&] {
    waiter = kernel.current();
    generation = kernel.wait_generation();
    kernel.block_until(kHour);
    note("waiter");
  });
  std::vector<TimeUs> local_during_pause;
  std::size_t a_ticks_before_resume = 0;
  kernel.at(25 * kMs, [&] { kernel.pause(a); });
  kernel.at(30 * kMs, [&] { local_during_pause.push_back(a.local_now()); });
  kernel.at(40 * kMs, [&] { kernel.wake(waiter, generation); });
  kernel.at(54 * kMs, [&] {
    EXPECT_TRUE(a.paused());
    a_ticks_before_resume = entries("a").size();
    local_during_pause.push_back(a.local_now());
  });
  kernel.at(55 * kMs, [&] { kernel.resume(a); });
  kernel.run_until(kSec);

  EXPECT_EQ(a_ticks_before_resume, 2u);
  EXPECT_EQ(entries("a"), (Log{"a@10ms", "a@20ms", "a@55ms", "a@65ms"}));
  EXPECT_EQ(entries("waiter"), (Log{"waiter@55ms"}));
  EXPECT_EQ(entries("b"), (Log{"b@10ms", "b@20ms", "b@30ms", "b@40ms", "b@50ms", "b@60ms"}));
  EXPECT_EQ(local_during_pause, (Times{37 * kMs, 61 * kMs}));
  EXPECT_FALSE(a.paused());
}

TEST_F(KernelTest, SpawnOnPausedNodeWaitsForResume) {
  // Proves fibers spawned on a paused node (before the run and at 10ms) first run at its resume, 40ms, and not before.
  kernel.pause(a);
  kernel.spawn(a, "early", [&] { note("early"); });
  kernel.at(10 * kMs, [&] { kernel.spawn(a, "late", [&] { note("late"); }); });
  kernel.at(40 * kMs, [&] {
    EXPECT_TRUE(log.empty());
    kernel.resume(a);
  });
  kernel.run_until(kSec);
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (Log{"early@40ms", "late@40ms"}));
}

TEST_F(KernelTest, ResumeOfRunningNodeIsNoOp) {
  // Proves resume on a node that is not paused changes nothing: its sleeping fiber still wakes at its own deadline, 30ms.
  tick(a, 1, 30 * kMs);
  kernel.at(10 * kMs, [&] { kernel.resume(a); });
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"a@30ms"}));
}

// ---- Crash and restart ----

TEST_F(KernelTest, CrashUnwindsFibersCallsOnCrashAndRestartAllowsNewFibers) {
  // Proves crash at 15ms unwinds a's blocked fiber (RAII ran, code after the sleep never ran) before on_crash; restart at 30ms runs on_restart, whose new fiber works.
  bool destroyed = false;
  bool ran_past_sleep = false;
  bool destroyed_before_on_crash = false;
  int crashes = 0;
  int restarts = 0;
  a.on_crash = [&] {
    ++crashes;
    destroyed_before_on_crash = destroyed;
    note("on_crash");
  };
  a.on_restart = [&] {
    ++restarts;
    note("on_restart");
    kernel.spawn(a, "reborn", [&] {
      note("reborn");
      kernel.sleep_until(kernel.now() + 5 * kMs);
      note("reborn");
    });
  };
  kernel.spawn(a, "victim", [&] {
    OnExit guard{[&] { destroyed = true; }};
    kernel.sleep_until(kHour);
    ran_past_sleep = true;
  });
  tick(b, 5);
  kernel.at(15 * kMs, [&] {
    kernel.crash(a);
    EXPECT_FALSE(a.up());
    EXPECT_EQ(a.epoch(), 1u);
    kernel.crash(a);  // already down: no second on_crash
  });
  kernel.at(30 * kMs, [&] {
    kernel.restart(a);
    kernel.restart(a);  // already up: no second on_restart
  });
  kernel.run_until(2 * kHour);  // the victim's stale 1h timer fires and is ignored

  EXPECT_TRUE(destroyed);
  EXPECT_TRUE(destroyed_before_on_crash);
  EXPECT_FALSE(ran_past_sleep);
  EXPECT_EQ(crashes, 1);
  EXPECT_EQ(restarts, 1);
  EXPECT_TRUE(a.up());
  EXPECT_EQ(a.epoch(), 1u);
  EXPECT_EQ(entries("on_crash"), (Log{"on_crash@15ms"}));
  EXPECT_EQ(entries("on_restart"), (Log{"on_restart@30ms"}));
  EXPECT_EQ(entries("reborn"), (Log{"reborn@30ms", "reborn@35ms"}));
  EXPECT_EQ(entries("b"), (Log{"b@10ms", "b@20ms", "b@30ms", "b@40ms", "b@50ms"}));
}

TEST_F(KernelTest, CrashBeforeFirstRunSkipsTheBody) {
  // Proves a fiber spawned and crashed in the same callback (never run) never runs its body, even after restart.
  bool body_ran = false;
  kernel.at(10 * kMs, [&] {
    kernel.spawn(a, "unstarted", [&] { body_ran = true; });
    kernel.crash(a);
  });
  kernel.at(20 * kMs, [&] { kernel.restart(a); });
  kernel.run_until(kSec);
  EXPECT_FALSE(body_ran);
  EXPECT_TRUE(a.up());
}

TEST_F(KernelTest, CrashOfPausedNodeUnwindsParkedFibers) {
  // Proves a crash while paused drops the parked wakes: a's fiber, parked at 20ms, unwinds at the 30ms crash and never resumes.
  bool destroyed = false;
  bool ran_past_sleep = false;
  kernel.spawn(a, "parked", [&] {
    OnExit guard{[&] { destroyed = true; }};
    kernel.sleep_until(20 * kMs);
    ran_past_sleep = true;
  });
  kernel.at(10 * kMs, [&] { kernel.pause(a); });
  kernel.at(30 * kMs, [&] { kernel.crash(a); });
  kernel.at(40 * kMs, [&] {
    EXPECT_FALSE(a.paused());
    kernel.restart(a);
    kernel.resume(a);  // not paused any more: no parked wake may surface
  });
  kernel.run_until(kSec);
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(ran_past_sleep);
}

// ---- Waits ----

TEST_F(KernelTest, WakeWithStaleGenerationIsIgnored) {
  // Proves generations: a wake at 10ms ends wait 1; later wakes with wait 1's generation (and wait 1's 100ms timer) do not end wait 2, which times out at 110ms.
  SimFiber* waiter = nullptr;
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  kernel.spawn(a, "waiter", [&] {
    waiter = kernel.current();
    first = kernel.wait_generation();
    kernel.block_until(100 * kMs);
    note("woke1");
    second = kernel.wait_generation();
    kernel.block_until(kernel.now() + 100 * kMs);
    note("woke2");
  });
  kernel.at(10 * kMs, [&] { kernel.wake(waiter, first); });
  kernel.at(20 * kMs, [&] { kernel.wake(waiter, first); });
  kernel.at(30 * kMs, [&] { kernel.wake(waiter, second + 1); });  // not yet issued: also not this wait
  kernel.at(500 * kMs, [&] { kernel.wake(waiter, second); });     // the fiber has finished
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"woke1@10ms", "woke2@110ms"}));
  EXPECT_NE(first, second);
  EXPECT_TRUE(waiter->finished);
}

TEST_F(KernelTest, BlockUntilTimesOutAtTheDeadline) {
  // Proves a wait nobody ends returns at exactly its deadline (250ms), and a deadline already past returns at the current time.
  kernel.spawn(a, "waiter", [&] {
    kernel.block_until(250 * kMs);
    note("timeout");
    kernel.block_until(kernel.now() - 100 * kMs);
    note("past");
  });
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"timeout@250ms", "past@250ms"}));
}

// ---- Kernel lifetime ----

TEST(KernelLifetime, DestroyingKernelUnwindsBlockedFibers) {
  // Proves destruction unwinds every live fiber: sleepers' RAII guards run, code after their waits never runs, unstarted and paused-spawned bodies never run.
  int destroyed = 0;
  bool ran_past_wait = false;
  bool unstarted_ran = false;
  bool parked_ran = false;
  {
    Kernel kernel(3);
    Node& node = kernel.add_node("n", "r");
    Node& frozen = kernel.add_node("p", "r");
    kernel.spawn(node, "sleeper", [&] {
      OnExit guard{[&] { ++destroyed; }};
      kernel.sleep_until(kHour);
      ran_past_wait = true;
    });
    kernel.spawn(node, "blocker", [&] {
      OnExit guard{[&] { ++destroyed; }};
      kernel.block_until(100 * kHour);
      ran_past_wait = true;
    });
    kernel.pause(frozen);
    kernel.spawn(frozen, "parked", [&] { parked_ran = true; });
    kernel.run_until(kSec);
    kernel.spawn(node, "unstarted", [&] { unstarted_ran = true; });
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 2);
  EXPECT_FALSE(ran_past_wait);
  EXPECT_FALSE(unstarted_ran);
  EXPECT_FALSE(parked_ran);
}

TEST(KernelLifetime, ShutdownUnwindsOnceAndDestructorIsSafeAfter) {
  // Proves shutdown() unwinds a blocked fiber immediately (guard runs before destruction) and the destructor afterwards does nothing more.
  int destroyed = 0;
  {
    Kernel kernel(4);
    Node& node = kernel.add_node("n", "r");
    kernel.spawn(node, "sleeper", [&] {
      OnExit guard{[&] { ++destroyed; }};
      kernel.sleep_until(kHour);
    });
    kernel.run_until(kSec);
    kernel.shutdown();
    EXPECT_EQ(destroyed, 1);
  }
  EXPECT_EQ(destroyed, 1);
}

// ---- LocalClock ----

TEST(LocalClock, DefaultFollowsTrueTime) {
  // Proves a fresh clock has no offset or drift: local time equals true time.
  const LocalClock clock;
  EXPECT_EQ(clock.local_at(0), 0);
  EXPECT_EQ(clock.local_at(12'345'678), 12'345'678);
  EXPECT_EQ(clock.drift_ppm(), 0);
}

TEST(LocalClock, OffsetSetsTheReadingFromThatInstant) {
  // Proves set_offset makes local = true + offset from its instant on, replacing (not adding to) an earlier offset.
  LocalClock clock;
  clock.set_offset(0, 500);
  EXPECT_EQ(clock.local_at(0), 500);
  EXPECT_EQ(clock.local_at(1000), 1500);
  clock.set_offset(1000, -200);
  EXPECT_EQ(clock.local_at(1000), 800);
  EXPECT_EQ(clock.local_at(3000), 2800);
}

TEST(LocalClock, DriftInPartsPerMillion) {
  // Proves drift scales elapsed time: +100 ppm reads 1,000,100us after 1,000,000us true, -100 ppm reads 999,900us.
  LocalClock fast;
  fast.set_drift(0, 100);
  EXPECT_EQ(fast.drift_ppm(), 100);
  EXPECT_EQ(fast.local_at(1'000'000), 1'000'100);
  EXPECT_EQ(fast.local_at(10'000'000), 10'001'000);
  LocalClock slow;
  slow.set_drift(0, -100);
  EXPECT_EQ(slow.local_at(1'000'000), 999'900);
}

TEST(LocalClock, StepJumpsForwardAndBackward) {
  // Proves step moves the reading by the step at its instant (forward +5000, then backward -3000 below an earlier reading) and time flows on.
  LocalClock clock;
  clock.step(1000, 5000);
  EXPECT_EQ(clock.local_at(1000), 6000);
  EXPECT_EQ(clock.local_at(2000), 7000);
  clock.step(2000, -3000);
  EXPECT_EQ(clock.local_at(2000), 4000);
  EXPECT_EQ(clock.local_at(5000), 7000);
}

TEST(LocalClock, TrueDurationInvertsDriftRoundingUp) {
  // Proves true_duration inverts drift: exact values at +-100 ppm, rounding up, and from any instant a wait of true_duration(d) advances the local clock by >= d.
  LocalClock plain;
  EXPECT_EQ(plain.true_duration(0), 0);
  EXPECT_EQ(plain.true_duration(123'456), 123'456);

  LocalClock fast;
  fast.set_drift(0, 100);
  EXPECT_EQ(fast.true_duration(1'000'100), 1'000'000);
  EXPECT_EQ(fast.true_duration(1'000'000), 999'901);  // 999,900.0099.. rounded up
  EXPECT_EQ(fast.true_duration(1), 1);

  LocalClock slow;
  slow.set_drift(0, -100);
  EXPECT_EQ(slow.true_duration(999'900), 1'000'000);
  EXPECT_EQ(slow.true_duration(1'000'000), 1'000'101);  // 1,000,100.010.. rounded up

  for (const std::int64_t ppm : {-250'000, -100, -1, 1, 100, 250'000}) {
    LocalClock clock;
    clock.set_offset(0, 777);
    clock.set_drift(3, ppm);
    for (const TimeUs start : {TimeUs{3}, TimeUs{4}, TimeUs{9'999}, TimeUs{1'234'567}}) {
      for (const TimeUs local : {TimeUs{1}, TimeUs{7}, TimeUs{999}, TimeUs{1'000'000}, TimeUs{3'333'333}}) {
        const TimeUs wait = clock.true_duration(local);
        EXPECT_GE(clock.local_at(start + wait) - clock.local_at(start), local)
            << "woke early: ppm " << ppm << " start " << start << " local " << local;
        if (ppm > 0) {  // at a fast rate the wait is the shortest one: one microsecond less falls short
          EXPECT_LT(clock.local_at(3 + wait - 1) - clock.local_at(3), local) << "ppm " << ppm << " local " << local;
        }
      }
    }
  }
}

TEST(LocalClock, CombinationsReanchorAtEachChange) {
  // Proves each change re-anchors at its instant: offset, then drift, then a step, then drift off, then an offset under drift, checked by hand-computed readings.
  LocalClock clock;
  clock.set_offset(0, 500);
  clock.set_drift(1'000'000, 100);                // local 1,000,500 at the change
  EXPECT_EQ(clock.local_at(1'000'000), 1'000'500);
  EXPECT_EQ(clock.local_at(2'000'000), 2'000'600);  // + 1,000,000 + 100 drift
  clock.step(2'000'000, -600);
  EXPECT_EQ(clock.local_at(2'000'000), 2'000'000);
  EXPECT_EQ(clock.local_at(3'000'000), 3'000'100);  // drift continues after the step
  clock.set_drift(3'000'000, 0);
  EXPECT_EQ(clock.local_at(4'000'000), 4'000'100);  // the drift already accrued stays
  clock.set_drift(4'000'000, 1000);
  clock.set_offset(5'000'000, 0);                   // offset keeps the drift
  EXPECT_EQ(clock.local_at(5'000'000), 5'000'000);
  EXPECT_EQ(clock.local_at(6'000'000), 6'001'000);
  EXPECT_EQ(clock.drift_ppm(), 1000);
}

TEST_F(KernelTest, NodeLocalNowReadsItsClockAtKernelTime) {
  // Proves Node::local_now is its clock at the kernel's true time: b drifts +1000 ppm from 0 and reads 1,001,000us at true 1s; a is untouched.
  b.clock().set_drift(0, 1000);
  kernel.run_until(kSec);
  EXPECT_EQ(a.local_now(), kSec);
  EXPECT_EQ(b.local_now(), kSec + kMs);
}

}  // namespace
}  // namespace rehearse::sim
