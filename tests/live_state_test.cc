// Issue 11, "live state that cannot lie", in simulation: a checkpoint is keyed by what it
// migrates (the table and a digest of the plan), the end-of-run checkers judge the databases'
// catalogs against what the recorded states claim, and a fault that never fired is reported.
// The live half (the two-config sequence against real servers) is in live_test.cc.
#include <algorithm>

#include <gtest/gtest.h>

#include "cli/output.h"
#include "core/plan.h"
#include "reports/run_json.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

MigrationPlan plan_of(const Scenario& scenario) {
  Result<MigrationPlan> plan = compile_plan(scenario);
  EXPECT_TRUE(plan.is_ok()) << plan.status().message();
  return plan.is_ok() ? plan.value() : MigrationPlan{};
}

TEST(CheckpointKeyTest, PlanDigestFollowsWhatThePlanDoesNotItsName) {
  const Scenario base = testing::builtin("three-regions-clean");
  const CheckpointKey key = checkpoint_key(plan_of(base));
  EXPECT_EQ(key.migration, "amount_to_cents");
  EXPECT_EQ(key.tables, base.table.name);
  EXPECT_EQ(key.plan_digest.size(), 16U);
  EXPECT_EQ(checkpoint_key(plan_of(base)), key) << "the digest is a function of the plan";

  Scenario other_table = base;
  other_table.table.name = "orders_pause";
  const CheckpointKey moved = checkpoint_key(plan_of(other_table));
  EXPECT_EQ(moved.migration, key.migration);
  EXPECT_NE(moved, key);
  EXPECT_NE(moved.plan_digest, key.plan_digest);

  Scenario other_up = base;
  other_up.migration.operations.front().up = "round(amount * 1000)";
  EXPECT_NE(checkpoint_key(plan_of(other_up)).plan_digest, key.plan_digest);

  Scenario renamed = base;
  renamed.migration.name = "another_name";
  EXPECT_EQ(checkpoint_key(plan_of(renamed)).plan_digest, key.plan_digest);
}

TEST(CheckpointKeyTest, ConflictMessageNamesTheMigrationTheCheckpointsTableAndWhatToDo) {
  const CheckpointKey wanted{"amount_to_cents", "orders_pause", "00000000000000aa"};
  const std::string other = checkpoint_conflict(wanted, CheckpointKey{"amount_to_cents", "orders", "00000000000000bb"});
  EXPECT_NE(other.find("migration amount_to_cents"), std::string::npos) << other;
  EXPECT_NE(other.find("table orders, not orders_pause"), std::string::npos) << other;
  EXPECT_NE(other.find("migration.name"), std::string::npos) << other;
  EXPECT_NE(other.find("DELETE FROM rehearse_checkpoint WHERE migration = 'amount_to_cents'"), std::string::npos) << other;

  const std::string changed = checkpoint_conflict(wanted, CheckpointKey{"amount_to_cents", "orders_pause", "00000000000000bb"});
  EXPECT_NE(changed.find("another plan (digest 00000000000000bb, this plan's is 00000000000000aa)"), std::string::npos) << changed;

  const std::string legacy = checkpoint_conflict(wanted, CheckpointKey{"amount_to_cents", "", ""});
  EXPECT_NE(legacy.find("older rehearse"), std::string::npos) << legacy;
  EXPECT_NE(legacy.find("plan_digest = '00000000000000aa'"), std::string::npos) << legacy;
}

// The simulated databases start with a finished checkpoint of the same migration name on
// another table (the live sequence of issue 11): the engine halts without touching a region,
// saying why, instead of taking the other table's `contracted` for its own.
TEST(CheckpointKeyTest, EngineHaltsOnAnotherPlansCheckpointAndTouchesNothing) {
  const Scenario scenario = testing::builtin("three-regions-clean");
  Scenario earlier = scenario;
  earlier.table.name = "orders_before";
  Checkpoint prior;
  prior.exists = true;
  prior.key = checkpoint_key(plan_of(earlier));
  prior.state = "contracted";
  const RunResult result = sim::simulate(scenario, 1, sim::WorldOptions{.prior_checkpoint = prior});

  EXPECT_EQ(result.outcome, "halted");
  for (const auto& [region, state] : result.region_states) EXPECT_EQ(state, "pending") << region;
  EXPECT_EQ(testing::count_events(result, [](const Event& e) { return e.kind == EventKind::write; }), 0)
      << "no DDL, flag, backfill or checkpoint write";
  EXPECT_EQ(testing::count_events(result, [](const Event& e) {
              return e.kind == EventKind::message && e.detail.find("table orders_before, not orders") != std::string::npos;
            }),
            scenario.engine.instances)
      << "each engine instance says why it stops";
}

// A deliberately broken engine: its plan has no expand and nothing to backfill, so it walks
// every region to `contracted` without ever adding the column -- the shape of the live bug,
// where a checkpoint of another table made the engine skip a table it never touched. The
// checkers are given the real plan's claims, and must find the catalogs lacking the column.
TEST(CatalogTruthTest, ContractedCheckpointOverACatalogWithoutTheNewColumnIsASchemaConvergenceViolation) {
  const Scenario scenario = testing::builtin("three-regions-clean");
  MigrationPlan broken = plan_of(scenario);
  ASSERT_FALSE(broken.expand.empty());
  broken.expand.clear();
  broken.fills.clear();
  sim::World world(scenario, 1, broken);
  const RunResult result = world.run();

  ASSERT_EQ(result.outcome, "completed");
  for (const auto& [region, state] : result.region_states) EXPECT_EQ(state, "contracted") << region;
  std::vector<const Violation*> found;
  for (const Violation& violation : result.violations) {
    if (violation.invariant == "schema-convergence") found.push_back(&violation);
  }
  ASSERT_EQ(found.size(), scenario.topology.regions.size()) << "one per region";
  EXPECT_EQ(found.front()->node, "db:" + scenario.topology.regions.front().name);
  EXPECT_NE(found.front()->detail.find("is recorded contracted but its catalog lacks column amount_cents (bigint)"),
            std::string::npos)
      << found.front()->detail;
}

TEST(CatalogTruthTest, CatalogsOfAHealthyRunAgreeWithTheirStates) {
  for (const char* name : {"three-regions-clean", "region-by-region-bad-up", "rollback-with-down"}) {
    const RunResult result = sim::simulate(testing::builtin(name), 1);
    for (const Violation& violation : result.violations) {
      EXPECT_EQ(violation.detail.find("its catalog"), std::string::npos) << name << ": " << violation.detail;
    }
  }
}

Scenario with_fault_in_untouched_region() {
  // The first region's backfill fails and rolls back; the rollout never reaches eu-west-1.
  Scenario scenario = testing::builtin("region-by-region-bad-up");
  FaultSpec pause;
  pause.kind = FaultKind::pause;
  pause.targets = {"engine-1"};
  pause.at_phase = PhaseTrigger{"backfill", "eu-west-1", 1 * kSec};
  pause.for_us = 2 * kSec;
  scenario.faults.push_back(pause);
  return scenario;
}

TEST(FaultsNotFiredTest, AFaultWhosePhaseNeverCameIsReportedInTextAndJson) {
  const Scenario scenario = with_fault_in_untouched_region();
  const RunResult result = sim::simulate(scenario, 1);
  ASSERT_EQ(result.faults_not_fired.size(), 1U);
  EXPECT_EQ(result.faults_not_fired[0].fault, "pause engine-1 for 2s");
  EXPECT_EQ(result.faults_not_fired[0].at, "phase backfill in eu-west-1 +1s");
  EXPECT_EQ(result.faults_not_fired[0].why, "phase never reached");

  const nlohmann::json json = reports::run_object(result);
  ASSERT_TRUE(json.contains("faults_not_fired"));
  EXPECT_EQ(json["faults_not_fired"][0]["why"], "phase never reached");
  std::ostringstream text;
  cli::print_run_text(text, result, "x.yaml");
  EXPECT_NE(text.str().find("fault not fired: pause engine-1 for 2s (phase backfill in eu-west-1 +1s): phase never reached"),
            std::string::npos)
      << text.str();

  // The report is output, not history: the trace is the one of the same run without the fault.
  Scenario without = scenario;
  without.faults.clear();
  EXPECT_EQ(sim::simulate(without, 1).trace_hash, result.trace_hash);
}

TEST(FaultsNotFiredTest, AFaultThatFiredIsNotListed) {
  const RunResult result = sim::simulate(testing::builtin("gc-pause-no-fencing"), 1);
  EXPECT_GT(result.stats.faults_injected, 0);
  EXPECT_TRUE(result.faults_not_fired.empty());
  EXPECT_FALSE(reports::run_object(result).contains("faults_not_fired"));
}

}  // namespace
}  // namespace rehearse
