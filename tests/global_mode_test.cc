// Global topology (`topology.mode: global`): one writer region (home) whose primary is the only
// primary, read replicas in every region replicating from it across regions, application
// servers writing to the home primary and reading from their own region's replicas. Each test
// runs the simulated world and judges the result or the history: the migration runs once (DDL
// only on db:HOME, rows backfilled = the table's rows), every invariant holds over several
// seeds, reads stay in their region, the run is deterministic, a deliberately broken global
// scenario is caught, and faults naming a primary that does not exist fail to load.
#include <set>
#include <string>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

std::string describe(const RunResult& result) {
  std::string text = "outcome " + result.outcome;
  for (const auto& v : result.violations) text += "; " + v.invariant + ": " + v.detail;
  return text;
}

// Three regions, home us-east-1, replicas everywhere, traffic everywhere; `extra` is appended
// (engine settings, faults) and `workload` replaces the default traffic.
std::string global_scenario(const std::string& extra = "",
                            const std::string& workload = "{writes_per_s: 20, reads_per_s: 40, deploy: {new_code_after: validate}}",
                            const std::string& regions = "[{name: us-east-1, replicas: 1}, {name: eu-west-1, replicas: 2}, "
                                                         "{name: ap-south-1, replicas: 1}]") {
  return fmt::format(R"yaml(name: global-test
description: One writer region, read replicas in three regions.
duration: 30m
topology:
  mode: global
  home: us-east-1
  regions: {}
  latency: {{intra_region: 0.5ms..2ms, inter_region: 40ms..120ms}}
  replication_lag: 20ms..300ms
lock: {{backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}}
table:
  rows: 3000
  columns:
    amount: {{type: numeric, gen: "0..100000", scale: 2}}
    email: {{type: text, gen: email}}
    legacy: {{type: integer}}
migration:
  operations:
    - add_column: {{column: amount_cents, type: bigint, up: "round(amount * 100)"}}
    - alter_column: {{column: email, type: text, up: "lower(email)", down: "email"}}
    - drop_column: {{column: legacy}}
workload: {}
slo: {{max_stall: 1s, max_error_rate: 0.01, max_replica_lag: 10s}}
{})yaml",
                     regions, workload, extra);
}

// The engines start after 20 s of traffic, so the application has run for a while before and
// during the (short: one region, no soak between regions) migration.
const std::string kEngine =
    "engine: {instances: 2, start_jitter: 20s..22s, batch_size: 500, batch_pause: 20ms, health_gate: {soak: 5s}}\n";

TEST(GlobalMode, ThreeRegionsCompleteOnceAndPassEveryInvariant) {
  // Several seeds: completed, no violation, every region reports the home's contracted state,
  // DDL writes only at db:us-east-1, the backfill filled each row once (not once per region).
  // stats.rows_backfilled counts rows: about the 3000 (rows the application's dual writes
  // filled need none; rows it inserted first add some); once per region would be three times that.
  const Scenario scenario = testing::from_text(global_scenario(kEngine));
  ASSERT_EQ(scenario.topology.mode, TopologyMode::global);
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << describe(result);
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed;
    EXPECT_EQ(result.region_order, std::vector<std::string>{"us-east-1"});
    ASSERT_EQ(result.region_states.size(), 3u);
    for (const auto& [region, state] : result.region_states) EXPECT_EQ(state, "contracted") << region;
    EXPECT_GE(result.stats.rows_backfilled, 3000 / 2) << "seed " << seed;
    EXPECT_LT(result.stats.rows_backfilled, 2 * 3000) << "seed " << seed;
    EXPECT_GT(result.stats.app_requests, 1000) << "seed " << seed;
    int ddl = 0;
    std::set<std::string> phase_regions;
    for (const Event& event : result.history.events()) {
      if (event.kind == EventKind::write && event.write == WriteKind::ddl && event.outcome == Outcome::applied) {
        ++ddl;
        EXPECT_EQ(event.node, "db:us-east-1") << "seed " << seed << ": DDL at " << event.node;
        EXPECT_EQ(event.region, "us-east-1");
      }
      if (event.kind == EventKind::phase) phase_regions.insert(event.region);
      EXPECT_NE(event.node, "db:eu-west-1") << "no such primary in global mode";
      EXPECT_NE(event.node, "db:ap-south-1") << "no such primary in global mode";
    }
    EXPECT_GT(ddl, 0) << "seed " << seed << ": the migration ran no DDL";
    EXPECT_EQ(phase_regions, std::set<std::string>{"us-east-1"}) << "seed " << seed;
  }
}

TEST(GlobalMode, HomeDefaultsToTheFirstRegionAndDdlRunsThere) {
  // Without `home:` the first region is the writer: its primary takes the DDL.
  std::string text = global_scenario(kEngine, "{writes_per_s: 5, reads_per_s: 5}",
                                     "[{name: eu-west-1, replicas: 1}, {name: us-east-1, replicas: 1}]");
  text.replace(text.find("  home: us-east-1\n"), std::string("  home: us-east-1\n").size(), "");
  const Scenario scenario = testing::from_text(text);
  ASSERT_EQ(scenario.topology.home, "eu-west-1");
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_FALSE(result.violated()) << describe(result);
  EXPECT_EQ(result.outcome, "completed");
  int ddl = 0;
  for (const Event& event : result.history.events()) {
    if (event.kind != EventKind::write || event.write != WriteKind::ddl) continue;
    ++ddl;
    EXPECT_EQ(event.node, "db:eu-west-1");
  }
  EXPECT_GT(ddl, 0);
}

TEST(GlobalMode, ReadsAreServedByTheRegionsOwnReplicas) {
  // Read-only traffic with a stall limit below one inter-region round trip (>= 80 ms): a read
  // that crossed regions would be a slow request. With replicas in every region, none is; the
  // control without replicas in eu-west-1 reads from the home primary and is slow there.
  const std::string workload = "{writes_per_s: 0, reads_per_s: 50}";
  const std::string tight = "slo: {max_stall: 30ms";
  auto tighten = [&tight](std::string text) {
    text.replace(text.find("slo: {max_stall: 1s"), std::string("slo: {max_stall: 1s").size(), tight);
    return text;
  };
  const Scenario local = testing::from_text(tighten(global_scenario(kEngine, workload)));
  const Scenario control = testing::from_text(tighten(global_scenario(
      kEngine, workload, "[{name: us-east-1, replicas: 1}, {name: eu-west-1, replicas: 0}, {name: ap-south-1, replicas: 1}]")));
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    sim::World world(local, seed, compile_plan(local).value());
    const RunResult result = world.run();
    EXPECT_GT(result.stats.app_requests, 1000);
    EXPECT_TRUE(world.observations().slow_requests.empty())
        << "seed " << seed << ": " << world.observations().slow_requests.front().what << " from "
        << world.observations().slow_requests.front().node;
    EXPECT_LT(result.stats.max_stall_us, 30 * kMs) << "seed " << seed;

    sim::World crossing(control, seed, compile_plan(control).value());
    crossing.run();
    const auto& slow = crossing.observations().slow_requests;
    ASSERT_FALSE(slow.empty()) << "seed " << seed << ": the control proves nothing";
    for (const RequestIncident& incident : slow) {
      EXPECT_EQ(incident.node, "app:eu-west-1");
      EXPECT_EQ(incident.what, "read from db:us-east-1");
    }
  }
}

TEST(GlobalMode, SameSeedSameTraceHash) {
  const Scenario scenario = testing::from_text(global_scenario(kEngine));
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    const RunResult first = sim::simulate(scenario, seed);
    const RunResult second = sim::simulate(scenario, seed);
    EXPECT_EQ(first.trace_hash, second.trace_hash) << "seed " << seed;
    EXPECT_EQ(first.history.events().size(), second.history.events().size());
  }
  EXPECT_NE(sim::simulate(scenario, 1).trace_hash, sim::simulate(scenario, 2).trace_hash);
}

TEST(GlobalMode, BackfillFromALaggingRemoteReplicaWithoutValidationIsCaught) {
  // The broken twin of lagging-replica-backfill in a global topology: the home has no replica,
  // so `backfill_source: replica` reads eu-west-1's replica of the home primary, held 60 s
  // behind by a fault on that replica alone; validation is off. data-consistency must fire.
  const std::string extra = R"yaml(engine: {instances: 1, start_jitter: 40s..45s, batch_size: 1000, batch_pause: 20ms,
         backfill_source: replica, max_replication_lag: 0s, validate: false}
faults:
  - {at: 0s, replication_lag: db:eu-west-1/replica-1, extra: 60s, for: 3m}
)yaml";
  std::string text = global_scenario(extra, "{writes_per_s: 40, reads_per_s: 10, update_ratio: 1.0, hot_rows: 0.2}",
                                     "[{name: us-east-1, replicas: 0}, {name: eu-west-1, replicas: 1}]");
  text.replace(text.find("slo: {max_stall: 1s, max_error_rate: 0.01, max_replica_lag: 10s}"),
               std::string("slo: {max_stall: 1s, max_error_rate: 0.01, max_replica_lag: 10s}").size(),
               "slo: {max_stall: 5s, max_error_rate: 0.05, max_replica_lag: 5m}");
  const Scenario scenario = testing::from_text(text);
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    for (const Violation& violation : result.violations) caught += violation.invariant == "data-consistency";
  }
  EXPECT_GT(caught, 0) << "a stale backfill in a global topology went unnoticed";
}

TEST(GlobalMode, ALaggingRemoteReplicaBreaksReplicaStaleness) {
  // A 40 s replication_lag fault on eu-west-1 (its replicas only) with a 10 s staleness SLO:
  // replica-staleness fires, and the stale reads are eu-west-1's. The lag is the fault's doing,
  // so only `slo.count: all` judges it (docs/scenarios.md).
  std::string text = global_scenario(kEngine + "faults:\n  - {at: 2s, replication_lag: eu-west-1, extra: 40s, for: 1m}\n");
  text.replace(text.find("max_replica_lag: 10s}"), std::string("max_replica_lag: 10s}").size(), "max_replica_lag: 10s, count: all}");
  const Scenario scenario = testing::from_text(text);
  sim::World world(scenario, 1, compile_plan(scenario).value());
  const RunResult result = world.run();
  bool stale = false;
  for (const Violation& violation : result.violations) stale = stale || violation.invariant == "replica-staleness";
  EXPECT_TRUE(stale) << describe(result);
  ASSERT_FALSE(world.observations().stale_reads.empty());
  for (const RequestIncident& incident : world.observations().stale_reads) {
    EXPECT_EQ(incident.node, "app:eu-west-1") << incident.what;
    EXPECT_EQ(incident.what.rfind("read from db:eu-west-1/replica-", 0), 0u) << incident.what;
    EXPECT_EQ(incident.cause, Cause::fault) << incident.what;
  }
}

TEST(GlobalMode, FaultsOnANonHomePrimaryAreLoadErrors) {
  // db:eu-west-1 does not exist in global mode: the loader says so with file, line and key;
  // db:eu-west-1/replica-1 and the home primary are fine.
  const LoadResult bad = load_scenario_text(
      global_scenario(kEngine + "faults:\n  - {at: 10s, long_transaction: db:eu-west-1, for: 5s}\n"), "g.yaml");
  ASSERT_FALSE(bad.ok());
  const std::string message = bad.errors.front().to_string();
  EXPECT_NE(message.find("g.yaml:"), std::string::npos) << message;
  EXPECT_NE(message.find("db:eu-west-1"), std::string::npos) << message;
  EXPECT_NE(message.find("global"), std::string::npos) << message;
  const LoadResult good = load_scenario_text(
      global_scenario(kEngine + "faults:\n  - {at: 10s, long_transaction: db:us-east-1, for: 5s}\n"
                                "  - {at: 10s, replication_lag: db:eu-west-1/replica-2, extra: 1s, for: 5s}\n"),
      "g.yaml");
  EXPECT_TRUE(good.ok()) << (good.errors.empty() ? "" : good.errors.front().to_string());
  const LoadResult phase = load_scenario_text(
      global_scenario(kEngine + "faults:\n  - {at: {phase: backfill, region: eu-west-1}, pause: engine-1, for: 5s}\n"),
      "g.yaml");
  ASSERT_FALSE(phase.ok());
  EXPECT_NE(phase.errors.front().to_string().find("home"), std::string::npos) << phase.errors.front().to_string();
}

}  // namespace
}  // namespace rehearse
