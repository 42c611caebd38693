// The plain ports of live mode: the wall clock (with a test hook that stalls every thread of
// one engine, as a GC pause or SIGSTOP would), a seeded random stream, tasks as std::threads,
// and a thread-safe history that every engine, database wrapper and application thread of a
// live run appends to, stamped with wall-clock time since the run started.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/history.h"
#include "core/ports.h"

namespace rehearse::live {

// Set when the run must end: sleeps return at once, clocks jump far ahead, backends refuse.
struct StopSignal {
  std::atomic<bool> stopping{false};
};

// Test hook: stall every sleeping thread of one engine (its engine thread and its keepalive)
// for `for_us` (the other threads of the engine wake 300 ms after the one that stalled, so
// that its stale write races ahead of the keepalive's renewal), starting at the `after_count`-th sleep of exactly `trigger_sleep_us`.
struct StallHook {
  TimeUs trigger_sleep_us = 0;
  int after_count = 1;
  TimeUs for_us = 0;
  std::shared_ptr<std::atomic<bool>> fired = std::make_shared<std::atomic<bool>>(false);  // one engine only
};

class RealClock final : public Clock {
 public:
  explicit RealClock(const StopSignal& stop, const StallHook* stall = nullptr) : stop_(stop), stall_(stall) {}
  TimeUs now() override;
  void sleep_for(TimeUs duration_us) override;

 private:
  void maybe_start_stall(TimeUs duration_us);
  const StopSignal& stop_;
  const StallHook* stall_;
  std::mutex mutex_;
  int matching_sleeps_ = 0;
  TimeUs stalled_until_us_ = 0;  // steady-clock microseconds
  std::thread::id stalled_thread_;  // wakes first; the others (the keepalive) a little later
};

// splitmix64 seeded from the run seed and the instance: never std::random_device.
class RealRandom final : public Random {
 public:
  explicit RealRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() override;

 private:
  std::uint64_t state_;
};

// One std::thread per task, joined on destruction (tasks poll their own stop conditions; the
// keepalive of core/lock_session.cc stops once its session is gone).
class RealTasks final : public Tasks {
 public:
  RealTasks() = default;
  ~RealTasks() override;
  void spawn(const std::string& name, std::function<void()> task) override;

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

// The run's history, shared by every thread. `commit_in_order` runs a database commit and
// appends its event under one mutex, so the history's order of fenced writes is their commit
// order (a later holder's write can only commit after an earlier one released the fence row).
class LiveHistory {
 public:
  LiveHistory();
  std::uint64_t append(Event event);
  void commit_in_order(const std::function<void()>& commit, Event event);
  TimeUs elapsed_us() const;
  History take();
  std::vector<Event> copy() const;
  std::atomic<std::int64_t> rows_backfilled{0};

 private:
  mutable std::mutex mutex_;
  std::mutex commit_mutex_;
  History history_;
  std::chrono::steady_clock::time_point start_;
};

// Stamps a node's events and appends them to the history.
class LiveRecorder final : public Recorder {
 public:
  LiveRecorder(std::string node, LiveHistory& history) : node_(std::move(node)), history_(history) {}
  void record(Event event) override;

 private:
  std::string node_;
  LiveHistory& history_;
};

}  // namespace rehearse::live
