// The lint of core/lint.h (one test per finding id, and none for safe settings) and the
// `rehearse plan` command that prints it with the phase plan.
#include <algorithm>
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/lint.h"
#include "core/plan.h"
#include "core/statements.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::builtin;
using testing::from_text;
using testing::run_rehearse;

// Every setting on its safe side: the lint has nothing to say.
const char* kSafeScenario = R"yaml(name: lint-safe
description: Safe settings everywhere.
topology:
  regions:
    - {name: us-east-1, replicas: 1}
    - {name: eu-west-1, replicas: 1}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine:
  instances: 2
  batch_size: 1000
  lock_timeout: 2s
  max_replication_lag: 2s
  backoff: {base: 100ms, max: 2s, jitter: full}
  rollout: region-by-region
  validate: true
table:
  rows: 10000
  columns:
    amount: {type: numeric, gen: "0..1000", scale: 2}
migration:
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
)yaml";

const LintFinding* find(const std::vector<LintFinding>& findings, const std::string& id) {
  auto it = std::find_if(findings.begin(), findings.end(), [&](const LintFinding& finding) { return finding.id == id; });
  return it == findings.end() ? nullptr : &*it;
}

// Lints the safe scenario after `change`; expects exactly the finding `id`, with `severity`.
void expect_only_finding(const std::function<void(Scenario&)>& change, const std::string& id, LintSeverity severity) {
  Scenario scenario = from_text(kSafeScenario);
  change(scenario);
  const std::vector<LintFinding> findings = lint(scenario);
  ASSERT_EQ(findings.size(), 1u) << id << ": " << (findings.empty() ? "none" : findings.front().id);
  EXPECT_EQ(findings.front().id, id);
  EXPECT_EQ(findings.front().severity, severity) << id;
  EXPECT_FALSE(findings.front().message.empty()) << id;
}

TEST(Lint, SafeSettingsHaveNoFinding) { EXPECT_TRUE(lint(from_text(kSafeScenario)).empty()); }

TEST(Lint, NoFencing) {
  expect_only_finding([](Scenario& s) { s.lock.fencing = Fencing::none; }, "no-fencing", LintSeverity::error);
}

TEST(Lint, ClientFencing) {
  expect_only_finding([](Scenario& s) { s.lock.fencing = Fencing::client; }, "client-fencing", LintSeverity::warning);
}

TEST(Lint, TtlShorterThanBatch) {
  // With the built-in profile 1,000,000 rows x (8.177 + 1.882 trigger) us = 10.06 s per batch;
  // twice that exceeds a 10 s lease.
  expect_only_finding([](Scenario& s) { s.engine.batch_size = 1000000; }, "ttl-shorter-than-batch", LintSeverity::error);
  Scenario scenario = from_text(kSafeScenario);
  scenario.engine.batch_size = 100;
  scenario.costs.statement_base_us = 300;  // the estimate follows the scenario's profile
  scenario.costs.update_per_row_us = {{1, 150}};
  scenario.costs.trigger_per_row_us = 7;  // an application write's: not the batch's
  scenario.costs.trigger_bypass_per_row_us = 2;
  EXPECT_EQ(estimated_batch_us(scenario), 100 * (150 + 2) + 300);
  scenario.lock.ttl_us = 2 * estimated_batch_us(scenario);  // exactly twice: not shorter
  EXPECT_EQ(find(lint(scenario), "ttl-shorter-than-batch"), nullptr);
  scenario.lock.ttl_us -= 1;
  scenario.lock.renew_every_us = scenario.lock.ttl_us / 3;
  EXPECT_NE(find(lint(scenario), "ttl-shorter-than-batch"), nullptr);
}

TEST(Lint, UnbatchedBackfillEstimatesTheWholeTable) {
  Scenario scenario = from_text(kSafeScenario);
  scenario.engine.batch_size = 0;
  scenario.costs.update_per_row_us = {{100, 3}, {10000, 5}};  // the size of the whole table picks its entry
  EXPECT_EQ(estimated_batch_us(scenario), CostProfile::total_us(scenario.costs.statement_base_us, 1) +
                                              CostProfile::total_us(5 + scenario.costs.trigger_bypass_per_row_us, 10000));
  const auto findings = lint(scenario);
  ASSERT_NE(find(findings, "unbatched-backfill"), nullptr);
  EXPECT_EQ(find(findings, "unbatched-backfill")->severity, LintSeverity::error);
  EXPECT_EQ(find(findings, "ttl-shorter-than-batch"), nullptr);  // about 2 x 69 ms < 10 s
  scenario.table.rows = 2000000;
  EXPECT_NE(find(lint(scenario), "ttl-shorter-than-batch"), nullptr);
}

TEST(Lint, NoLockTimeout) {
  expect_only_finding([](Scenario& s) { s.engine.lock_timeout_us = 0; }, "no-lock-timeout", LintSeverity::error);
}

TEST(Lint, ReplicaBackfillSource) {
  expect_only_finding([](Scenario& s) { s.engine.backfill_source = BackfillSource::replica; }, "replica-backfill-source",
                      LintSeverity::warning);
}

TEST(Lint, NoLagThrottleOnlyWithReplicas) {
  expect_only_finding([](Scenario& s) { s.engine.max_replication_lag_us = 0; }, "no-lag-throttle", LintSeverity::warning);
  Scenario scenario = from_text(kSafeScenario);
  scenario.engine.max_replication_lag_us = 0;
  for (RegionSpec& region : scenario.topology.regions) region.replicas = 0;
  EXPECT_TRUE(lint(scenario).empty());
}

TEST(Lint, AllAtOnce) {
  expect_only_finding([](Scenario& s) { s.engine.rollout = Rollout::all_at_once; }, "all-at-once", LintSeverity::warning);
}

TEST(Lint, ValidationOff) {
  expect_only_finding([](Scenario& s) { s.engine.validate = false; }, "validation-off", LintSeverity::warning);
}

TEST(Lint, NoJitter) {
  expect_only_finding([](Scenario& s) { s.engine.backoff.jitter = Jitter::none; }, "no-jitter", LintSeverity::warning);
}

TEST(Lint, LockInAppDatabase) {
  expect_only_finding([](Scenario& s) { s.lock.backend = LockBackend::app_database; }, "lock-in-app-database",
                      LintSeverity::warning);
}

// no-lock-timeout reads the statement model: an error naming the statements whose lock the
// application waits for, a warning when no statement of the plan takes such a lock.
TEST(Lint, NoLockTimeoutNamesTheStatementsThatBlockTheApplication) {
  Scenario scenario = from_text(kSafeScenario);
  scenario.engine.lock_timeout_us = 0;
  std::vector<LintFinding> findings = lint(scenario);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, LintSeverity::error);
  EXPECT_NE(findings[0].message.find("ADD COLUMN (nullable) amount_cents takes ACCESS EXCLUSIVE"), std::string::npos)
      << findings[0].message;
  Operation index;
  index.kind = OperationKind::create_index;
  index.columns = {"amount"};
  scenario.migration.operations = {index};
  findings = lint(scenario);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].id, "no-lock-timeout");
  EXPECT_EQ(findings[0].severity, LintSeverity::warning) << findings[0].message;
}

TEST(Lint, NoRenewal) {
  expect_only_finding([](Scenario& s) { s.lock.renew_every_us = 0; }, "no-renewal", LintSeverity::warning);
  expect_only_finding([](Scenario& s) { s.lock.renew_every_us = s.lock.ttl_us; }, "no-renewal", LintSeverity::error);
}

TEST(Plan, PrintsNoFencingFinding) {
  const auto result = run_rehearse("plan gc-pause-no-fencing");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("no-fencing"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ALTER TABLE orders ADD COLUMN IF NOT EXISTS amount_cents bigint  [ACCESS EXCLUSIVE on orders; ~"),
            std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ALTER TABLE orders DROP COLUMN IF EXISTS legacy_flag  [ACCESS EXCLUSIVE on orders; ~"),
            std::string::npos) << result.out;
  EXPECT_NE(result.out.find("round(amount * 100)"), std::string::npos) << result.out;
}

TEST(Plan, JsonHasRegionsPhasesAndFindings) {
  const auto result = run_rehearse("plan gc-pause-no-fencing --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["scenario"], "gc-pause-no-fencing");
  EXPECT_EQ(json["regions"], nlohmann::json::array({"us-east-1"}));
  std::vector<std::string> phases;
  for (const auto& phase : json["phases"]) phases.push_back(phase["name"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"expand", "dual_write", "backfill", "validate", "switch_reads", "contract",
                                              "rollback"}));
  ASSERT_EQ(json["findings"].size(), 1u);
  EXPECT_EQ(json["findings"][0]["id"], "no-fencing");
  EXPECT_EQ(json["findings"][0]["severity"], "error");
}

// Every DDL statement with its lock mode per relation, as the statement model (core/statements.h)
// has it: the one the simulator takes and the live suite checks against pg_locks.
TEST(Plan, JsonHasEveryStatementWithItsLockModes) {
  const auto result = run_rehearse("plan gc-pause-no-fencing --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  ASSERT_FALSE(json["statements"].empty());
  const auto& add = json["statements"][0];
  EXPECT_EQ(add["phase"], "expand");
  EXPECT_EQ(add["sql"], "ALTER TABLE orders ADD COLUMN IF NOT EXISTS amount_cents bigint");
  EXPECT_EQ(add["locks"], nlohmann::json::parse(R"([{"relation": "orders", "role": "table", "mode": "ACCESS EXCLUSIVE",
                                                    "pg_locks": "AccessExclusiveLock"}])"));
  EXPECT_EQ(add["work"], "catalog only");
  EXPECT_EQ(add["in_transaction"], true);
  EXPECT_GT(add["estimated_us"].get<std::int64_t>(), 0);
}

// A plan that builds an index shows CREATE INDEX CONCURRENTLY's SHARE UPDATE EXCLUSIVE, its wait
// for older transactions, and that it runs outside a transaction.
TEST(Plan, CreateIndexShowsItsConcurrentLock) {
  Scenario scenario = builtin("gc-pause-no-fencing");
  Operation index;
  index.kind = OperationKind::create_index;
  index.columns = {"amount"};
  scenario.migration.operations = {index};
  Result<MigrationPlan> plan = compile_plan(scenario);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  ASSERT_EQ(plan.value().expand.size(), 1u);
  const StatementModel& model = statement_model(statement_kind(plan.value().expand[0]));
  EXPECT_EQ(describe_locks(model, [](RelationRole) { return std::string("orders"); }),
            "SHARE UPDATE EXCLUSIVE on orders, waits for older transactions; builds the index from every row; outside a transaction");
}

TEST(Plan, RolloutOrderOfThreeRegions) {
  const auto json = nlohmann::json::parse(run_rehearse("plan three-regions-clean --json").out);
  EXPECT_EQ(json["regions"], nlohmann::json::array({"us-east-1", "eu-west-1", "ap-south-1"}));
  EXPECT_TRUE(json["findings"].empty());
}

TEST(Plan, BadInputExitsTwo) {
  EXPECT_EQ(run_rehearse("plan no-such-scenario").exit_code, 2);
  EXPECT_EQ(run_rehearse("plan").exit_code, 2);
}

}  // namespace
}  // namespace rehearse
