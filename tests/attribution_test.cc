// Attribution of failed, stalled and stale application requests (docs/scenarios.md,
// `slo.count`), the engine's retries and resumption after a fault heals (engine.retries,
// engine.acquire_retries), and liveness judged on every swarm seed.
#include <string>

#include <gtest/gtest.h>

#include "core/invariants.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

Scenario builtin(const std::string& name) {
  LoadResult loaded = resolve_scenario(name);
  EXPECT_TRUE(loaded.ok()) << name;
  return loaded.ok() ? *loaded.scenario : Scenario{};
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// One region, live traffic, a quick migration that sets lock_timeout; FAULTS appended.
std::string one_region(const std::string& faults) {
  return R"yaml(name: attribution
description: a test
duration: 5m
topology:
  regions:
    - {name: us-east-1, replicas: 0}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine: {instances: 1, batch_size: 500, batch_pause: 1s, lock_timeout: 500ms}
table:
  name: orders
  rows: 20000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
migration:
  name: amount_to_cents
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
workload: {writes_per_s: 40, reads_per_s: 40}
)yaml" + faults;
}

TEST(Attribution, DdlLockQueueStallIsTheMigrations) {
  const Scenario scenario = builtin("no-lock-timeout");
  sim::World world(scenario, 1, compile_plan(scenario).value());
  const RunResult result = world.run();
  const auto& slow = world.observations().slow_requests;
  ASSERT_FALSE(slow.empty());
  for (const RequestIncident& incident : slow) {
    EXPECT_EQ(incident.cause, Cause::migration) << incident.what << ": " << incident.why;
  }
  EXPECT_TRUE(mentions(slow.front().why, "on the ACCESS EXCLUSIVE lock queued by the migration's ADD COLUMN amount_cents in us-east-1"))
      << slow.front().why;
  EXPECT_TRUE(mentions(slow.front().why, "behind a long transaction")) << slow.front().why;
  EXPECT_GT(result.stats.app_errors_by_cause[index_of(Cause::migration)], 0);
  EXPECT_EQ(result.stats.app_errors_by_cause[index_of(Cause::fault)], 0);
  bool named = false;
  for (const Violation& violation : result.violations) {
    named = named || (violation.invariant == "availability" && mentions(violation.detail, "ACCESS EXCLUSIVE lock queued"));
  }
  EXPECT_TRUE(named) << "the availability violation names the DDL's lock queue";
}

TEST(Attribution, PartitionStallIsTheFaults) {
  const Scenario scenario = testing::from_text(
      one_region("faults:\n  - {at: 2s, partition: db:us-east-1, from: app:us-east-1, for: 5s}\n"));
  sim::World world(scenario, 1, compile_plan(scenario).value());
  const RunResult result = world.run();
  const auto& slow = world.observations().slow_requests;
  ASSERT_FALSE(slow.empty()) << "the partition fails requests";
  for (const RequestIncident& incident : slow) {
    EXPECT_EQ(incident.cause, Cause::fault) << incident.what;
    EXPECT_TRUE(mentions(incident.why, "cut by a partition")) << incident.why;
  }
  EXPECT_EQ(result.stats.app_errors_by_cause[index_of(Cause::migration)], 0);
  EXPECT_GT(result.stats.app_errors_by_cause[index_of(Cause::fault)], 0);
  // slo.count: migration (the default) judges only the migration's; `all`, every request.
  EXPECT_TRUE(check_availability(world.observations(), scenario.slo).empty());
  SloSpec all = scenario.slo;
  all.count = SloCount::all;
  const auto violations = check_availability(world.observations(), all);
  ASSERT_FALSE(violations.empty());
  EXPECT_TRUE(mentions(violations.front().detail, "caused by a fault")) << violations.front().detail;
}

TEST(Attribution, PausedPrimaryIsTheFaults) {
  const Scenario scenario = testing::from_text(one_region("faults:\n  - {at: 2s, pause: db:us-east-1, for: 5s}\n"));
  sim::World world(scenario, 1, compile_plan(scenario).value());
  world.run();
  ASSERT_FALSE(world.observations().slow_requests.empty());
  for (const RequestIncident& incident : world.observations().slow_requests) {
    EXPECT_EQ(incident.cause, Cause::fault) << incident.what;
    EXPECT_TRUE(mentions(incident.why, "db:us-east-1 was paused")) << incident.why;
  }
}

TEST(AvailabilityChecker, CountsOnlyTheMigrationsByDefault) {
  Observations observations;
  observations.regions = {"us-east-1"};
  RequestIncident by_fault{"us-east-1", "app:us-east-1", 5 * kSec, 3 * kSec, 0, true, "insert"};
  by_fault.cause = Cause::fault;
  by_fault.why = "db:us-east-1 was paused";
  observations.slow_requests.push_back(by_fault);
  RequestWindow window{0, 1000, 50};
  window.failed_by_fault = 50;
  observations.windows["us-east-1"] = {window};
  EXPECT_TRUE(check_availability(observations, SloSpec{}).empty());
  SloSpec all;
  all.count = SloCount::all;
  EXPECT_EQ(check_availability(observations, all).size(), 1u);
  // One failure of the migration's among them breaches max_error_rate 0.1% of 1000.
  observations.windows["us-east-1"].front().failed_by_fault = 48;
  const auto violations = check_availability(observations, SloSpec{});
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_TRUE(mentions(violations[0].detail, "2 of 1000 requests in us-east-1 failed because of the migration (48 more because of faults)"))
      << violations[0].detail;
}

TEST(ReplicaStalenessChecker, CountsOnlyTheMigrationsByDefault) {
  Observations observations;
  observations.regions = {"us-east-1"};
  RequestIncident stale{"us-east-1", "app:us-east-1", 5 * kSec, 0, 30 * kSec, false, "read from db:us-east-1/replica-1"};
  stale.cause = Cause::fault;
  observations.stale_reads.push_back(stale);
  EXPECT_TRUE(check_replica_staleness(observations, SloSpec{}).empty());
  SloSpec all;
  all.count = SloCount::all;
  EXPECT_EQ(check_replica_staleness(observations, all).size(), 1u);
}

TEST(SloCountLoader, AcceptsMigrationAndAllOnly) {
  const std::string header = "name: t\ndescription: a test\n";
  LoadResult good = load_scenario_text(header + "slo: {count: all}\n", "my.yaml");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.scenario->slo.count, SloCount::all);
  LoadResult by_default = load_scenario_text(header, "my.yaml");
  ASSERT_TRUE(by_default.ok());
  EXPECT_EQ(by_default.scenario->slo.count, SloCount::migration);
  LoadResult bad = load_scenario_text(header + "slo: {count: faults}\n", "my.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.errors.front().key, "slo.count");
  EXPECT_EQ(bad.errors.front().line, 3);
  EXPECT_TRUE(mentions(bad.errors.front().message, "expected one of migration, all, got 'faults'")) << bad.errors.front().message;
}

TEST(SwarmLiveness, FaultsMustEndBeforeTheRunDoes) {
  const std::string header = "name: t\ndescription: a test\nduration: 10m\n";
  LoadResult late = load_scenario_text(
      header + "random_faults: {rate: 1/10s, kinds: [pause], targets: [engine-*], quiet_after: 590s, max_duration: 20s}\n",
      "my.yaml");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.errors.front().key, "random_faults.quiet_after");
  EXPECT_TRUE(mentions(late.errors.front().message, "liveness could not be judged")) << late.errors.front().message;
  // The default quiet_after (two thirds of duration) with a max_duration past the last third.
  LoadResult long_faults = load_scenario_text(
      header + "random_faults: {rate: 1/10s, kinds: [pause], targets: [engine-*], max_duration: 4m}\n", "my.yaml");
  ASSERT_FALSE(long_faults.ok());
  EXPECT_EQ(long_faults.errors.front().key, "random_faults.max_duration");
  EXPECT_TRUE(load_scenario_text(header + "random_faults: {rate: 1/10s, kinds: [pause], targets: [engine-*], "
                                          "quiet_after: 9m, max_duration: 20s}\n",
                                 "my.yaml")
                  .ok());
}

TEST(SwarmLiveness, JudgedOnEverySeedOfTheBuiltinSwarm) {
  const Scenario scenario = builtin("random-faults-fenced");
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    sim::World world(scenario, seed, compile_plan(scenario).value());
    const RunResult result = world.run();
    EXPECT_LT(world.observations().last_fault_end_us, scenario.duration_us) << "seed " << seed;
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed;
    // Judged: had the run ended unfinished, liveness would say so.
    Observations unfinished = world.observations();
    unfinished.outcome = "halted";
    EXPECT_EQ(check_liveness(unfinished).size(), 1u) << "seed " << seed;
  }
}

// A two-region swarm with storage fencing in which, before engine.retries and
// engine.acquire_retries, seeds 11 and 193 ended `halted` for good (the holder halted on a
// transient failure during a fault; the other instance had given up acquiring) and seed 9
// `incomplete` (both instances gave up acquiring while faults lasted).
const char* kHealingSwarm = R"yaml(name: healing-swarm
description: a test
duration: 10m
topology:
  regions:
    - {name: us-east-1, replicas: 1}
    - {name: eu-west-1, replicas: 1}
  replication_lag: 20ms..300ms
  clocks: {max_skew: 50ms, max_drift_ppm: 100}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine:
  instances: 2
  start_jitter: 0s..2s
  batch_size: 500
  batch_pause: 100ms
  lock_timeout: 500ms
  backoff: {base: 100ms, max: 2s, jitter: full}
table:
  name: orders
  rows: 20000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
    legacy_flag: {type: boolean}
migration:
  name: amount_to_cents
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
    - drop_column: {column: legacy_flag}
workload: {writes_per_s: 20, reads_per_s: 20}
random_faults:
  rate: 1/3s
  kinds: [pause, crash, partition, delay, clock_jump, drop, long_transaction, replication_lag]
  targets: [engine-*, lock-*, db:*]
  quiet_after: 3m
  max_duration: 25s
)yaml";

TEST(ProgressAfterHeal, HaltedAndAbandonedSeedsNowComplete) {
  const Scenario scenario = testing::from_text(kHealingSwarm);
  for (std::uint64_t seed : {9, 11, 193}) {
    const RunResult result = sim::simulate(scenario, seed);
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed;
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << result.violations.front().detail;
  }
}

TEST(ProgressAfterHeal, WithoutAcquireRetriesTheStandbysGiveUp) {
  std::string text = kHealingSwarm;
  text.replace(text.find("  lock_timeout: 500ms\n"), std::string("  lock_timeout: 500ms\n").size(),
               "  lock_timeout: 500ms\n  acquire_retries: 0\n");
  const RunResult result = sim::simulate(testing::from_text(text), 9);
  EXPECT_EQ(result.outcome, "incomplete") << "seed 9 depends on a standby trying again";
}

}  // namespace
}  // namespace rehearse
