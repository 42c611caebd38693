// The whole migration under the simulated world: the standard three-region rehearsal passes
// every invariant, a crash of the engine at every step boundary (and mid-batch) ends in a
// resumed migration with nothing violated, and every mistake/fix pair of the library behaves
// as its `expect:` says. Seed budgets are small by default (the suite runs under sanitizers);
// REHEARSE_TEST_SEEDS raises them (e.g. 100 for the acceptance sweep).
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

std::uint64_t seed_budget(std::uint64_t fallback) {
  const char* value = std::getenv("REHEARSE_TEST_SEEDS");
  if (value == nullptr) return fallback;
  const auto parsed = std::strtoull(value, nullptr, 10);
  return parsed > 0 ? parsed : fallback;
}

std::string describe(const RunResult& result) {
  std::string text = "outcome " + result.outcome;
  for (const auto& v : result.violations) text += "; " + v.invariant + ": " + v.detail;
  return text;
}

TEST(Migration, ThreeRegionsWithTrafficCompleteAndPassEveryInvariant) {
  // three-regions-clean: every region contracted, no invariant violated, traffic really ran.
  const Scenario scenario = testing::builtin("three-regions-clean");
  for (std::uint64_t seed = 1; seed <= seed_budget(3); ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << describe(result);
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed;
    for (const auto& [region, state] : result.region_states) EXPECT_EQ(state, "contracted") << region;
    EXPECT_GT(result.stats.app_requests, 1000) << "seed " << seed;
  }
}

std::string crash_scenario(const std::string& at) {
  return R"yaml(name: crash-point
description: The engine crashes at one step and restarts.
duration: 30m
topology:
  regions:
    - {name: us-east-1, replicas: 1}
    - {name: eu-west-1, replicas: 0}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine: {instances: 1, batch_size: 400, batch_pause: 100ms, health_gate: {soak: 5s}}
table:
  rows: 2000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
    email: {type: text, gen: email}
    legacy: {type: integer}
migration:
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
    - alter_column: {column: email, type: text, up: "lower(email)", down: "email"}
    - drop_column: {column: legacy}
workload: {writes_per_s: 20, reads_per_s: 20, deploy: {new_code_after: backfill}}
slo: {max_stall: 2s, max_error_rate: 0.05, max_replica_lag: 1m}
faults:
  - {at: )yaml" + at + R"yaml(, crash: engine-1, restart_after: 5s}
)yaml";
}

TEST(Migration, EngineCrashAtEveryStepBoundaryResumesToTheEnd) {
  // One run per crash point (each phase's start in each region, and mid-backfill), several
  // seeds each: every run ends completed or rolled back, with no invariant violated.
  std::vector<std::string> points;
  for (const char* region : {"us-east-1", "eu-west-1"}) {
    for (const char* phase : {"expand", "dual_write", "backfill", "validate", "switch_reads", "contract"}) {
      points.push_back(fmt::format("{{phase: {}, region: {}}}", phase, region));
    }
    points.push_back(fmt::format("{{phase: backfill, region: {}, after: 1s}}", region));  // mid-batch
  }
  for (const std::string& point : points) {
    const Scenario scenario = testing::from_text(crash_scenario(point));
    for (std::uint64_t seed = 1; seed <= seed_budget(2); ++seed) {
      const RunResult result = sim::simulate(scenario, seed);
      EXPECT_TRUE(result.outcome == "completed" || result.outcome == "rolled_back") << point << " seed " << seed << ": " << describe(result);
      EXPECT_FALSE(result.violated()) << point << " seed " << seed << ": " << describe(result);
      const int crashes = testing::count_events(result, EventKind::node_crash);
      EXPECT_EQ(crashes, 1) << point << " seed " << seed << ": the crash must really happen";
    }
  }
}

// A failure in a later region after an earlier one contracted: rolling it back would leave the
// two regions on different schemas for good. The failing engine halts instead, and the other
// instance resumes the region forward: both contracted, no schema-convergence.
TEST(Migration, LaterRegionFailureAfterAContractHaltsAndIsResumedForward) {
  const Scenario scenario = testing::from_text(R"yaml(name: later-region-fails
description: engine-1 loses eu-west-1's database during its validation, after us-east-1 contracted.
duration: 30m
topology:
  regions:
    - {name: us-east-1, replicas: 0}
    - {name: eu-west-1, replicas: 0}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine: {instances: 2, start_jitter: 0s..1s, ddl_retries: 2, retries: 2, acquire_timeout: 20m, batch_size: 500, batch_pause: 10ms,
         backoff: {base: 100ms, max: 1s, jitter: full}, health_gate: {soak: 5s}, on_failure: rollback}
table:
  rows: 1000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
migration:
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
workload: {writes_per_s: 5, reads_per_s: 5}
slo: {max_stall: 2m, max_error_rate: 1, max_replica_lag: 1m}
faults:
  - {at: {phase: validate, region: eu-west-1}, partition: [db:eu-west-1], from: [engine-1, engine-2], for: 3m}
)yaml");
  for (std::uint64_t seed = 1; seed <= seed_budget(3); ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << describe(result);
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed << ": " << describe(result);
    // The region failed (a transient failure past its retries now steps aside and resumes
    // rather than halting; docs/scenarios.md) and was never rolled back.
    const int halted = testing::count_events(result, [](const Event& event) {
      return event.kind == EventKind::message && (event.detail.find("not rolled back: us-east-1 is already contracted") == 0 ||
                                                  event.detail.find("stepping aside to resume") != std::string::npos);
    });
    const int rollbacks = testing::count_events(
        result, [](const Event& event) { return event.kind == EventKind::phase && event.detail == "rollback"; });
    EXPECT_GE(halted, 1) << "seed " << seed << ": the region never failed, so the test proves nothing";
    EXPECT_EQ(rollbacks, 0) << "seed " << seed;
  }
}

// ZooKeeper: the second engine gives up waiting (acquire_timeout) while the first holds the lock;
// the holder then loses its session to a partition and must queue again. The engine that gave up
// closes its session on exit, so its queue znode does not block the holder for good.
TEST(Migration, ZooKeeperWaiterThatGaveUpLeavesNoZnodeBehind) {
  const Scenario scenario = testing::from_text(R"yaml(name: zk-gave-up-waiter
description: the waiting engine gives up; later the holder must re-queue behind nobody.
duration: 20m
topology:
  regions:
    - {name: us-east-1, replicas: 0}
lock: {backend: zookeeper, nodes: 3, ttl: 6s, renew_every: 2s, fencing: storage}
engine: {instances: 2, start_jitter: 0s..1s, batch_size: 100, batch_pause: 200ms, acquire_timeout: 10s, acquire_retries: 0}
table:
  rows: 20000
  columns:
    x: {type: integer, gen: "0..100"}
migration:
  operations:
    - add_column: {column: y, type: integer, up: "x + 1"}
faults:
  - {at: 30s, partition: [holder], from: [lock], for: 8s}
)yaml");
  for (std::uint64_t seed = 1; seed <= seed_budget(3); ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << describe(result);
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed << ": " << describe(result);
    const int gave_up = testing::count_events(
        result, [](const Event& event) { return event.kind == EventKind::engine_exit && event.detail == "gave_up"; });
    EXPECT_EQ(gave_up, 1) << "seed " << seed << ": the waiter must give up for the test to mean anything";
  }
}

// stats.rows_backfilled counts rows, whatever the number of columns each row gets (as live
// mode does: an UPDATE's row count).
TEST(Migration, RowsBackfilledCountsRowsNotColumns) {
  const Scenario scenario = testing::from_text(R"yaml(name: two-derived
description: two new columns per row, no traffic.
topology: {regions: [{name: us-east-1, replicas: 1}, {name: eu-west-1}]}
engine: {batch_size: 100, health_gate: {soak: 1s}}
table:
  rows: 500
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
    email: {type: text, gen: email}
migration:
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
    - alter_column: {column: email, type: text, up: "lower(email)", down: "email"}
)yaml");
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_FALSE(result.violated()) << describe(result);
  EXPECT_EQ(result.stats.rows_backfilled, 2 * 500) << "500 rows in each of two regions";
}

TEST(Migration, EveryLibraryPairBehavesAsItsExpectationSays) {
  // Each built-in scenario over seeds 1..N: pass scenarios never violate; violation scenarios
  // show their expected invariants on at least one seed.
  for (const auto& [name, summary] : list_builtin_scenarios()) {
    const Scenario scenario = testing::builtin(name);
    std::set<std::string> seen;
    bool any_violation = false;
    for (std::uint64_t seed = 1; seed <= seed_budget(2); ++seed) {
      const RunResult result = sim::simulate(scenario, seed);
      if (scenario.expect.verdict == Verdict::pass) {
        EXPECT_FALSE(result.violated()) << name << " seed " << seed << ": " << describe(result);
      }
      any_violation = any_violation || result.violated();
      for (const auto& v : result.violations) seen.insert(v.invariant);
    }
    if (scenario.expect.verdict == Verdict::violation) {
      EXPECT_TRUE(any_violation) << name;
      for (const auto& invariant : scenario.expect.invariants) {
        EXPECT_TRUE(seen.count(invariant)) << name << " never showed " << invariant;
      }
    }
  }
}

}  // namespace
}  // namespace rehearse
