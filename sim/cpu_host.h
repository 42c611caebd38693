// The processors of one host that simulated servers share (rehearse conform's servers on one
// machine): a statement's cost is work on them. Processor sharing, bounded twice:
//   - the host's `cores` are shared by the running statements and the host's `background` load
//     (the application's clients, the lock stores, the replicas' replay, as conform measures
//     them in the live run, in cores): with n statements running each gets cores / (n +
//     background) of a processor when that is under one;
//   - statements side by side get `write_cores` in all (CostProfile::parallel_write_cores: two
//     UPDATEs together on the 2-core AMD EPYC VM got 1.17 processors' worth, where two pure
//     processor loops get two): each at most write_cores / n.
// A statement alone on a host with less than one core of background runs at full speed (its
// cost is its duration, as without a host); beside others it takes longer, so a backfill slows
// the application's writes it runs beside, as on the live host. Deterministic: jobs are kept in
// submission order and advance in exact arithmetic per event.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/kernel.h"

namespace rehearse::sim {

class CpuHost {
 public:
  CpuHost(Kernel& kernel, int cores, double write_cores = 0.0, double background = 0.0);  // write_cores 0: cores
  // Runs `work_us` of work (at least 1 us) and calls `done` when it is complete. `migration`:
  // the migration's own statement (a batch, a DDL, a scan), which keeps the host busy for the
  // application's requests (CostProfile::busy_host_wait).
  void run(TimeUs work_us, Callback<void()> done, bool migration = false);
  int cores() const { return cores_; }
  // The write cores of a host of `cores` for a profile's parallel_write_cores: at least one,
  // at most the host's.
  static double write_cores_of(double parallel_write_cores, int cores);
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
  double write_cores_;
  double background_;
  std::vector<Job> jobs_;
  TimeUs updated_us_ = 0;
  std::uint64_t generation_ = 0;
};

}  // namespace rehearse::sim
