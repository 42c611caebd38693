// The engine against the simulated world: backoff and jitter, a clean migration that leaves
// every row correct, resumption from the checkpoint after a crash, and acquire_timeout.
#include "core/engine.h"

#include <gtest/gtest.h>

#include "core/plan.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

class CountingRandom final : public Random {
 public:
  std::uint64_t next_u64() override { return state_ += 0x9e3779b97f4a7c15ULL; }

 private:
  std::uint64_t state_ = 1;
};

TEST(Backoff, CeilingDoublesUpToMaxAndJitterStaysInside) {
  // base 100ms doubles per attempt up to max 1s; full in [0, c], equal in [c/2, c], none = c.
  CountingRandom random;
  const TimeUs ceilings[] = {100 * kMs, 200 * kMs, 400 * kMs, 800 * kMs, 1000 * kMs, 1000 * kMs};
  for (int attempt = 0; attempt < 6; ++attempt) {
    const TimeUs c = ceilings[attempt];
    for (int draw = 0; draw < 50; ++draw) {
      const TimeUs full = backoff_delay(Backoff{100 * kMs, 1 * kSec, Jitter::full}, attempt, random);
      EXPECT_GE(full, 0);
      EXPECT_LE(full, c);
      const TimeUs equal = backoff_delay(Backoff{100 * kMs, 1 * kSec, Jitter::equal}, attempt, random);
      EXPECT_GE(equal, c / 2);
      EXPECT_LE(equal, c);
    }
    EXPECT_EQ(backoff_delay(Backoff{100 * kMs, 1 * kSec, Jitter::none}, attempt, random), c);
  }
}

std::string scenario_text(const std::string& engine, const std::string& faults) {
  return R"yaml(name: engine-test
description: engine test.
duration: 20m
topology:
  regions:
    - {name: us-east-1}
    - {name: eu-west-1}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine: )yaml" + engine + R"yaml(
table:
  rows: 2000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
    note: {type: text, gen: "one_of(a,b,c)", nullable: 0.1}
migration:
  name: cents
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
    - drop_column: {column: note}
faults: )yaml" + faults + "\n";
}

// Every row's new column equals up(old row) and the dropped column is gone, in every region.
void expect_migrated(const sim::World& world) {
  for (const char* region : {"us-east-1", "eu-west-1"}) {
    const sim::SimDatabase* database = world.database(region);
    ASSERT_NE(database, nullptr);
    const sim::Table& table = database->table();
    EXPECT_EQ(table.column_index("note"), -1) << region << ": note was not dropped";
    const int amount = table.column_index("amount");
    const int cents = table.column_index("amount_cents");
    ASSERT_TRUE(amount > 0 && cents > 0);
    for (std::int64_t id = 1; id <= 2000; ++id) {
      const Decimal d = table.cell(id, amount).as_decimal();
      ASSERT_EQ(d.scale, 2);
      EXPECT_EQ(table.cell(id, cents).as_int(), static_cast<std::int64_t>(d.mantissa))
          << region << " id " << id;
    }
  }
}

TEST(Engine, CleanRunMigratesEveryRowInEveryRegion) {
  // Two engines, two regions, no faults: completed, both regions contracted, data correct.
  const Scenario scenario = testing::from_text(scenario_text("{instances: 2, batch_size: 300, health_gate: {soak: 5s}}", "[]"));
  sim::World world(scenario, 5, compile_plan(scenario).value());
  const RunResult result = world.run();
  EXPECT_FALSE(result.violated());
  EXPECT_EQ(result.outcome, "completed");
  EXPECT_EQ(result.region_states.at("us-east-1"), "contracted");
  EXPECT_EQ(result.region_states.at("eu-west-1"), "contracted");
  EXPECT_EQ(result.stats.rows_backfilled, 4000);
  expect_migrated(world);
}

TEST(Engine, CrashMidBackfillResumesFromTheCheckpoint) {
  // The only engine crashes in the middle of the backfill and restarts: the migration
  // completes, and rows already backfilled are not backfilled again.
  const Scenario scenario = testing::from_text(scenario_text(
      "{instances: 1, batch_size: 100, batch_pause: 200ms}",
      "[{at: {phase: backfill, region: us-east-1, after: 1s}, crash: engine-1, restart_after: 30s}]"));
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    sim::World world(scenario, seed, compile_plan(scenario).value());
    const RunResult result = world.run();
    EXPECT_FALSE(result.violated()) << "seed " << seed;
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed;
    EXPECT_EQ(result.stats.rows_backfilled, 4000) << "seed " << seed;
    expect_migrated(world);
  }
}

TEST(Engine, GivesUpAfterAcquireTimeoutWhenTheLockStoreIsUnreachable) {
  // The lock store is partitioned away for the whole run: the engine stops after
  // acquire_timeout and the migration is incomplete, with every region pending.
  const Scenario scenario = testing::from_text(scenario_text(
      "{instances: 1, acquire_timeout: 30s, acquire_retries: 0}", "[{at: 0s, partition: [lock], for: 20m}]"));
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_EQ(result.outcome, "incomplete");
  EXPECT_EQ(result.region_states.at("us-east-1"), "pending");
  EXPECT_LT(result.stats.sim_time_us, 2 * kMin);
}

std::string gated_scenario(const std::string& faults) {
  std::string text = scenario_text("{instances: 1, batch_size: 500, health_gate: {soak: 30s, max_error_rate: 0.01}}", faults);
  return text + "workload: {writes_per_s: 40, reads_per_s: 60}\n";
}

TEST(Engine, HealthGateHoldsTheRolloutWhileTheFinishedRegionsApplicationFails) {
  // The first region's application is cut from its primary from 1 s after its contract on, for
  // 20 s: during the gate's first 30 s soak its requests time out (far above max_error_rate), so
  // the gate soaks again, and the second region starts only after a healthy soak.
  const Scenario held = testing::from_text(gated_scenario(
      "[{at: {phase: contract, region: us-east-1, after: 1s}, partition: [app:us-east-1], from: [db:us-east-1], for: 20s}]"));
  const RunResult result = sim::simulate(held, 3);
  EXPECT_EQ(result.outcome, "completed");
  EXPECT_EQ(result.region_states.at("eu-west-1"), "contracted");
  const TimeUs unhealthy = testing::first_time(result, [](const Event& event) {
    return event.detail.find("health gate: ") == 0 && event.detail.find("application requests failed") != std::string::npos;
  });
  const TimeUs healed = testing::first_time(result, [](const Event& event) { return event.kind == EventKind::fault_end; });
  const TimeUs next_region = testing::first_time(result, [](const Event& event) {
    return event.kind == EventKind::phase && event.region == "eu-west-1" && event.detail == "expand";
  });
  ASSERT_GE(unhealthy, 0) << "the gate's reason is in the history";
  ASSERT_GE(healed, 0);
  EXPECT_GT(next_region, healed + 30 * kSec) << "a whole healthy soak after the cut ended";

  // Without the cut the second region follows after one soak.
  const Scenario clean = testing::from_text(gated_scenario("[]"));
  const RunResult passed = sim::simulate(clean, 3);
  EXPECT_EQ(passed.region_states.at("eu-west-1"), "contracted");
  EXPECT_EQ(testing::first_time(passed, [](const Event& event) { return event.detail.find("health gate: ") == 0; }), -1);

  // A cut that outlasts the gate's budget stops the rollout before the second region.
  const Scenario stuck = testing::from_text(gated_scenario(
      "[{at: {phase: contract, region: us-east-1, after: 1s}, partition: [app:us-east-1], from: [db:us-east-1], for: 10m}]"));
  const RunResult stopped = sim::simulate(stuck, 3);
  EXPECT_EQ(stopped.region_states.at("us-east-1"), "contracted");
  EXPECT_EQ(stopped.region_states.at("eu-west-1"), "pending");
}

}  // namespace
}  // namespace rehearse
