// The engine's replication-lag read before each batch costs what the live engine's read costs
// (lag_read_us for the primary's part, lag_read_per_replica_us for each of the region's
// replicas), not a small query's lookup_us: live, the read took 1-1.6 ms between conform's
// batches where the simulator charged 0.08-0.13 ms, about a twentieth of every 20 ms batch.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/plan.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

// One region with `replicas` replicas and no application, 1,000 rows in batches of 100, a lag
// limit the replicas never reach (every batch reads the lag once), the lag read's costs inline.
std::string scenario_text(int replicas, int lag_read_us, int per_replica_us) {
  return "name: lag-read-cost\n"
         "description: The engine's lag read before each batch.\n"
         "duration: 1m\n"
         "topology:\n"
         "  regions:\n"
         "    - {name: us-east-1, replicas: " + std::to_string(replicas) + "}\n"
         "lock: {backend: redis, ttl: 10s, renew_every: 2s, fencing: storage}\n"
         "engine: {instances: 1, batch_size: 100, batch_pause: 5ms, max_replication_lag: 10s, start_jitter: 0s..0s}\n"
         "table:\n"
         "  rows: 1000\n"
         "  columns:\n"
         "    amount: {type: numeric, gen: \"0..1000\", scale: 2}\n"
         "migration:\n"
         "  operations:\n"
         "    - add_column: {column: amount_cents, type: bigint, up: \"round(amount * 100)\"}\n"
         "workload: {writes_per_s: 0, reads_per_s: 0}\n"
         "costs: {lag_read_us: " + std::to_string(lag_read_us) + ", lag_read_per_replica_us: " + std::to_string(per_replica_us) +
         "}\n";
}

// The times of the region's applied backfill batches.
std::vector<TimeUs> batch_times(int replicas, int lag_read_us, int per_replica_us) {
  const Scenario scenario = testing::from_text(scenario_text(replicas, lag_read_us, per_replica_us));
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_EQ(result.outcome, "completed");
  std::vector<TimeUs> times;
  for (const Event& event : result.history.events()) {
    if (event.kind == EventKind::write && event.write == WriteKind::backfill && event.outcome == Outcome::applied) {
      times.push_back(event.time_us);
    }
  }
  return times;
}

TEST(LagReadCost, EveryBatchWaitsForTheLagReadOfThePrimaryAndEachReplica) {
  const std::vector<TimeUs> free_read = batch_times(2, 0, 0);
  const std::vector<TimeUs> primary_read = batch_times(2, 3000, 0);
  const std::vector<TimeUs> replica_reads = batch_times(2, 3000, 1000);
  ASSERT_EQ(free_read.size(), 10u);
  ASSERT_EQ(primary_read.size(), free_read.size());
  ASSERT_EQ(replica_reads.size(), free_read.size());
  for (std::size_t batch = 1; batch < free_read.size(); ++batch) {
    const TimeUs free_gap = free_read[batch] - free_read[batch - 1];
    EXPECT_EQ(primary_read[batch] - primary_read[batch - 1], free_gap + 3000) << "batch " << batch;
    EXPECT_EQ(replica_reads[batch] - replica_reads[batch - 1], free_gap + 3000 + 2 * 1000) << "batch " << batch;
  }
}

TEST(LagReadCost, ARegionWithoutReplicasPaysThePrimarysPartAlone) {
  const std::vector<TimeUs> free_read = batch_times(0, 0, 0);
  const std::vector<TimeUs> read = batch_times(0, 3000, 1000);
  ASSERT_EQ(read.size(), free_read.size());
  ASSERT_GE(read.size(), 2u);
  for (std::size_t batch = 1; batch < read.size(); ++batch) {
    EXPECT_EQ(read[batch] - read[batch - 1], free_read[batch] - free_read[batch - 1] + 3000) << "batch " << batch;
  }
}

}  // namespace
}  // namespace rehearse
