// The plain ports of live mode: the wall clock, a seeded random stream, tasks as std::threads,
// and the run's history that every engine process, database wrapper and application thread of
// a live run appends to, stamped with monotonic time since the run started.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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

class RealClock final : public Clock {
 public:
  explicit RealClock(const StopSignal& stop) : stop_(stop) {}
  TimeUs now() override;
  void sleep_for(TimeUs duration_us) override;

 private:
  const StopSignal& stop_;
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

// The run's history, shared by every thread of the runner and fed by every engine process.
// Events gather unsorted until `seal()`, which orders them by time (CLOCK_MONOTONIC, the same
// clock in every process of the machine) and then puts the applied writes of each database in
// their commit order (`commit_seq`, taken from the fence row inside each protected
// transaction: the row lock serialises them). After `seal()` events are appended directly.
// In an engine process (`forward_to(fd)`) every event becomes one JSON line on `fd` instead.
class LiveHistory {
 public:
  LiveHistory();
  // `start` is the runner's start: an engine process stamps times from the same origin.
  explicit LiveHistory(std::chrono::steady_clock::time_point start);
  // Appends `event` stamped with the time since start; returns its id after seal(), else 0.
  std::uint64_t append(Event event, std::int64_t commit_seq = 0, std::int64_t rows = 0);
  // Appends an event already stamped (read from an engine process).
  void append_stamped(Event event, std::int64_t commit_seq);
  // Engine process: every event is written to `fd` as one line (see event_line()).
  void forward_to(int fd);
  // Engine process: once the phase event `phase` in `region` is written, the process kills
  // itself (SIGKILL) -- a crash fault timed to a statement's start (live_faults.h kills_itself).
  void die_after_phase(const std::string& phase, const std::string& region);
  void seal();
  TimeUs elapsed_us() const;
  History take();  // seals first
  std::int64_t start_ns() const;
  // When an engine first entered `phase` in `region` (-1 = not yet): phase-triggered faults.
  TimeUs first_phase_us(const std::string& phase, const std::string& region) const;
  // A fault in effect at some moment of [from_us, to_us] (its start event's detail), or "":
  // live attribution of failed and slow requests (docs/live.md). With `kind_prefix`, only
  // faults whose detail starts with it ("replication lag").
  std::string fault_during(TimeUs from_us, TimeUs to_us, const std::string& kind_prefix = "") const;
  std::atomic<std::int64_t> rows_backfilled{0};

 private:
  struct Pending {
    Event event;
    std::int64_t commit_seq = 0;
  };
  void note_phase(const Event& event);
  void note_fault(const Event& event);
  struct FaultSpan {
    std::string node;
    std::string detail;
    TimeUs start_us = 0;
    TimeUs end_us = -1;  // -1: still in effect
  };
  std::vector<FaultSpan> faults_;
  mutable std::mutex mutex_;
  History history_;
  std::vector<Pending> pending_;
  std::map<std::string, TimeUs> first_phase_;
  bool sealed_ = false;
  int forward_fd_ = -1;
  std::vector<std::string> die_after_;  // PHASE@REGION keys (die_after_phase)
  std::chrono::steady_clock::time_point start_;
};

// The wire form of one engine-process event: a JSON object on one line (no newline inside).
std::string event_line(const Event& event, std::int64_t commit_seq, std::int64_t rows);
// Parses event_line(); false for anything else (a torn last line of a killed process).
bool parse_event_line(const std::string& line, Event& event, std::int64_t& commit_seq, std::int64_t& rows);

// Engine process: SIGUSR1 asks it to stop itself (SIGSTOP) at its next protected write, after
// its lease check -- where a pause does harm; SIGUSR2 withdraws the request. Installed by
// install_pause_point().
void install_pause_point();
// Called by the database wrapper before each protected write.
void pause_point();

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
