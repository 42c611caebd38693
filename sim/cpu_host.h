// The processors of one host that simulated servers share (rehearse conform's servers on one
// machine): a statement's cost is work on them. With no more statements running than cores,
// each runs at full speed (its cost is its duration, as without a host); with more, every one
// progresses at cores / running (processor sharing), so a statement beside others takes longer
// and a backfill slows the application's writes it runs beside, as on the live host.
// Deterministic: jobs are kept in submission order and advance in exact arithmetic per event.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/kernel.h"

namespace rehearse::sim {

class CpuHost {
 public:
  CpuHost(Kernel& kernel, int cores);
  // Runs `work_us` of work (at least 1 us) and calls `done` when it is complete. `migration`:
  // the migration's own statement (a batch, a DDL, a scan), which keeps the host busy for the
  // application's requests (CostProfile::busy_host_wait).
  void run(TimeUs work_us, Callback<void()> done, bool migration = false);
  int cores() const { return cores_; }
  std::size_t running() const { return jobs_.size(); }
  std::size_t migration_running() const;

 private:
  struct Job {
    double remaining_us;
    Callback<void()> done;
    bool migration;
  };
  double rate() const;
  void advance();        // every job's remaining work less what it did since the last event
  void schedule_next();  // the next completion, superseding the one scheduled before
  Kernel& kernel_;
  int cores_;
  std::vector<Job> jobs_;
  TimeUs updated_us_ = 0;
  std::uint64_t generation_ = 0;
};

}  // namespace rehearse::sim
