// The result of one run, simulated or live: the verdict, the violations, the migration's
// outcome per region and the run's statistics (the `run --json` object of cli.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/buggify.h"
#include "core/checkers.h"
#include "core/history.h"
#include "core/observations.h"
#include "core/probes.h"

namespace rehearse {

struct RunStats {
  std::uint64_t events = 0;
  std::uint64_t kernel_events = 0;  // timers and fiber wake-ups the kernel processed (benchmarks; not in the JSON)
  TimeUs sim_time_us = 0;
  std::int64_t wall_ms = 0;
  std::int64_t faults_injected = 0;
  std::int64_t lock_acquisitions = 0;
  std::int64_t stale_writes_rejected = 0;
  std::int64_t app_requests = 0;
  std::int64_t app_errors = 0;
  TimeUs max_stall_us = 0;
  TimeUs max_replica_lag_us = 0;
  // The same split by cause (Observations, index_of(Cause)): an extension (docs/cli.md).
  std::int64_t app_errors_by_cause[kCauses] = {0, 0};
  TimeUs max_stall_by_cause_us[kCauses] = {0, 0};
  TimeUs max_replica_lag_by_cause_us[kCauses] = {0, 0};
  std::int64_t rows_backfilled = 0;
  TimeUs overlapping_belief_us = 0;
};

// A once-a-second sample of a region's health, for charts: replication lag, the longest
// application wait in that second, and backfill progress.
struct MetricSample {
  TimeUs time_us = 0;
  std::string region;
  TimeUs replication_lag_us = 0;
  TimeUs max_latency_us = 0;       // longest application request finished in the last second
  std::int64_t requests = 0;       // application requests finished in the last second
  std::int64_t failed = 0;
  std::int64_t rows_backfilled = 0;  // cumulative
};

// A fault of the scenario's `faults:` that never took effect, and why: its phase never came,
// its time fell after the run's end, or its target was absent when it came. Output only: not an
// event, not in trace_hash.
struct UnfiredFault {
  std::string fault;  // "pause engine-1 for 2s"
  std::string at;     // "phase backfill in us-east-1 +1s" or "at 5s"
  std::string why;    // "phase never reached", "no such engine running now", ...
};

struct RunResult {
  std::string scenario;
  std::uint64_t seed = 0;
  std::vector<Violation> violations;
  std::string outcome = "incomplete";              // completed | rolled_back | halted | incomplete
  std::map<std::string, std::string> region_states;  // in name order
  std::vector<std::string> region_order;             // topology order, for printing
  RunStats stats;
  History history;
  std::vector<MetricSample> samples;  // in time order
  std::string trace_hash;  // 16 hex digits
  // Coverage: how often each probe was reached, and which BUGGIFY sites were switched on and
  // fired (all off unless buggify was on). Neither is part of trace_hash.
  ProbeCounts probes;
  FaultSiteCounts buggify;
  std::vector<UnfiredFault> faults_not_fired;  // in the order the scenario lists them
  // Live: "nothing to do: migration M on table T contracted in every region since ..." when
  // every region's checkpoint was contracted before the run began; empty otherwise.
  std::string nothing_to_do;

  bool violated() const { return !violations.empty(); }
};

}  // namespace rehearse
