// rehearse conform's measures and comparison (core/conformance.h): measures taken from
// synthetic histories, the bands, n/a rows, and a deliberately mis-modelled world (a cost
// profile 10 times too slow) that the comparison catches, naming the measure.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/conformance.h"
#include "core/plan.h"
#include "scenarios/costs.h"
#include "scenarios/live_config.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

Event event_at(TimeUs time_us, EventKind kind, const std::string& region, const std::string& detail = "") {
  return Event{.time_us = time_us, .kind = kind, .region = region, .detail = detail};
}

Event write_at(TimeUs time_us, WriteKind write, const std::string& region) {
  Event event = event_at(time_us, EventKind::write, region);
  event.write = write;
  event.outcome = Outcome::applied;
  return event;
}

ConformSpec one_region() {
  ConformSpec spec;
  spec.regions = {"us-east-1"};
  return spec;
}

// expand at 0, a DDL at 50 ms, backfill from 1 s with four batches 100 ms apart, validate at
// 1.5 s, contract at 2 s; 100 writes of 1..100 ms during it.
RunResult synthetic_run(Observations& observations, double slower = 1.0) {
  auto t = [slower](double ms_value) { return static_cast<TimeUs>(ms_value * slower * kMs); };
  RunResult result;
  result.outcome = "completed";
  result.region_states["us-east-1"] = "contracted";
  History& h = result.history;
  h.append(event_at(t(0), EventKind::phase, "us-east-1", "expand"));
  h.append(write_at(t(50), WriteKind::ddl, "us-east-1"));
  h.append(event_at(t(1000), EventKind::phase, "us-east-1", "backfill"));
  for (int batch = 0; batch < 4; ++batch) h.append(write_at(t(1100 + 100 * batch), WriteKind::backfill, "us-east-1"));
  h.append(event_at(t(1500), EventKind::phase, "us-east-1", "validate"));
  h.append(event_at(t(2000), EventKind::phase, "us-east-1", "contract"));
  h.append(write_at(t(2000), WriteKind::ddl, "us-east-1"));
  for (int i = 1; i <= 100; ++i) observations.request_latencies.push_back(RequestLatency{"us-east-1", t(10 * i), t(i), false, true});
  result.stats.app_requests = 200;
  result.stats.max_stall_us = t(100);
  result.stats.max_replica_lag_us = t(40);
  return result;
}

// A copy: callers pass compare_worlds()'s temporary vector.
ConformRow row_named(const std::vector<ConformRow>& rows, const std::string& measure) {
  auto it = std::find_if(rows.begin(), rows.end(), [&](const ConformRow& row) { return row.measure == measure; });
  if (it == rows.end()) {
    ADD_FAILURE() << "no row " << measure;
    return ConformRow{};
  }
  return *it;
}

std::vector<std::string> mismatched(const std::vector<ConformRow>& rows) {
  std::vector<std::string> names;
  for (const ConformRow& row : rows) {
    if (!row.matched) names.push_back(row.measure);
  }
  return names;
}

TEST(ConformanceTest, MeasuresComeFromTheHistory) {
  Observations observations;
  const WorldMeasures m = measure_world(one_region(), synthetic_run(observations), observations);
  EXPECT_EQ(m.phases.at("us-east-1"), "expand > backfill > validate > contract");
  EXPECT_EQ(m.outcome, "completed: us-east-1 contracted");
  EXPECT_DOUBLE_EQ(*m.backfill_ms.at("us-east-1"), 500);
  EXPECT_DOUBLE_EQ(*m.mean_batch_ms.at("us-east-1"), 100);
  EXPECT_DOUBLE_EQ(*m.p99_write_ms, 99);  // nearest rank of 1..100 ms
  EXPECT_DOUBLE_EQ(*m.max_stall_ms, 100);
  EXPECT_DOUBLE_EQ(*m.max_replica_lag_ms, 40);
  EXPECT_TRUE(m.ddl_wait_ms.empty());
}

// A live run's requests are measured net of the host's pauses (real_backends/host_pauses.h): the
// slowest request (sent at 1,000 ms, 100 ms) lost 10 ms to a pause, so the longest stall is the
// next one's 99 ms; pauses no request of the migration overlaps are not counted.
TEST(ConformanceTest, TheLiveStallAndP99AreNetOfTheHostsPauses) {
  Observations observations;
  const RunResult run = synthetic_run(observations);
  observations.host_pauses = {HostPause{5 * kMs, 8 * kMs}, HostPause{1090 * kMs, 1100 * kMs}, HostPause{2500 * kMs, 2600 * kMs}};
  const WorldMeasures m = measure_world(one_region(), run, observations);
  EXPECT_DOUBLE_EQ(*m.max_stall_ms, 99);
  EXPECT_DOUBLE_EQ(*m.max_stall_gross_ms, 100);
  EXPECT_DOUBLE_EQ(*m.p99_write_ms, 98);  // 1..99 with 90 twice: the 99th is 98
  EXPECT_EQ(m.host_pauses, 1);
  EXPECT_DOUBLE_EQ(m.host_paused_ms, 10);

  // A pause longer than a request's whole wait takes all of it, never more.
  observations.host_pauses = {HostPause{995 * kMs, 1200 * kMs}};
  const WorldMeasures covered = measure_world(one_region(), run, observations);
  // Request 100 waited only for the host (net 0); requests 91..99 ran into it (net 85..5); the
  // longest is request 90's 90 ms, which ended before it.
  EXPECT_DOUBLE_EQ(*covered.max_stall_ms, 90);
  EXPECT_EQ(covered.host_pauses, 1);
}

TEST(ConformanceTest, TheSameWorldMatchesEveryRowAndAbsentMeasuresAreNotApplicable) {
  Observations observations;
  const RunResult run = synthetic_run(observations);
  const WorldMeasures m = measure_world(one_region(), run, observations);
  const std::vector<ConformRow> rows = compare_worlds(one_region(), m, m);
  EXPECT_TRUE(mismatched(rows).empty());
  const ConformRow& ddl = row_named(rows, "ddl_wait");
  EXPECT_FALSE(ddl.applicable);
  EXPECT_TRUE(ddl.matched);
  const ConformRow& errors = row_named(rows, "app_errors");
  EXPECT_TRUE(errors.matched);  // both zero
  EXPECT_DOUBLE_EQ(*row_named(rows, "backfill_duration").ratio, 1.0);
}

TEST(ConformanceTest, AWorldTwiceAsSlowFailsTheDurationBandsButNotTheLagBand) {
  Observations live_observations, sim_observations;
  const WorldMeasures live = measure_world(one_region(), synthetic_run(live_observations), live_observations);
  const WorldMeasures sim = measure_world(one_region(), synthetic_run(sim_observations, 2.0), sim_observations);
  const std::vector<ConformRow> rows = compare_worlds(one_region(), sim, live);
  EXPECT_EQ(mismatched(rows), (std::vector<std::string>{"backfill_duration", "mean_batch_duration", "max_stall", "p99_write_latency"}));
  EXPECT_DOUBLE_EQ(*row_named(rows, "backfill_duration").ratio, 2.0);
  EXPECT_TRUE(row_named(rows, "max_replica_lag").matched);  // 2.0 is inside 0.4..2.5
  EXPECT_EQ(row_named(rows, "phases").sim_text, row_named(rows, "phases").live_text);
}

// A lock scenario conforms when both worlds break the same invariants (issue 16: `conform` per
// lock backend): a live run that reports mutual-exclusion where the simulated one does not is
// a mismatch; how many times it was broken is not compared.
TEST(ConformanceTest, ViolatedInvariantsMustBeTheSameInBothWorlds) {
  Observations observations;
  RunResult fenced = synthetic_run(observations);
  RunResult unfenced = synthetic_run(observations);
  unfenced.violations.push_back(Violation{.invariant = "mutual-exclusion"});
  unfenced.violations.push_back(Violation{.invariant = "availability"});
  unfenced.violations.push_back(Violation{.invariant = "mutual-exclusion"});
  const WorldMeasures clean = measure_world(one_region(), fenced, observations);
  const WorldMeasures broken = measure_world(one_region(), unfenced, observations);
  EXPECT_EQ(clean.violations, "none");
  EXPECT_EQ(broken.violations, "availability, mutual-exclusion");
  EXPECT_EQ(mismatched(compare_worlds(one_region(), clean, broken)), (std::vector<std::string>{"violations"}));
  RunResult once = synthetic_run(observations);
  once.violations.push_back(Violation{.invariant = "availability"});
  once.violations.push_back(Violation{.invariant = "mutual-exclusion"});
  EXPECT_TRUE(mismatched(compare_worlds(one_region(), measure_world(one_region(), once, observations), broken)).empty());
}

TEST(ConformanceTest, DdlWaitRunsFromTheLongTransactionOrThePhaseToTheDdl) {
  ConformSpec spec = one_region();
  spec.long_transaction_regions = {"us-east-1"};
  Observations observations;
  RunResult run;
  run.history.append(event_at(500 * kMs, EventKind::fault_start, "", "long_transaction on db:us-east-1 for 20000 ms"));
  run.history.append(event_at(600 * kMs, EventKind::phase, "us-east-1", "expand"));
  run.history.append(write_at(20'600 * kMs, WriteKind::ddl, "us-east-1"));
  const WorldMeasures live = measure_world(spec, run, observations);
  EXPECT_DOUBLE_EQ(*live.ddl_wait_ms.at("us-east-1"), 20'000);
  RunResult simulated;  // the simulator's wording; the transaction began after the phase
  simulated.history.append(event_at(0, EventKind::phase, "us-east-1", "expand"));
  simulated.history.append(event_at(100 * kMs, EventKind::fault_start, "", "long transaction on db:us-east-1 for 20s [db:us-east-1]"));
  simulated.history.append(write_at(14'100 * kMs, WriteKind::ddl, "us-east-1"));
  const WorldMeasures sim = measure_world(spec, simulated, observations);
  EXPECT_DOUBLE_EQ(*sim.ddl_wait_ms.at("us-east-1"), 14'000);
  const ConformRow row = row_named(compare_worlds(spec, sim, live), "ddl_wait");
  EXPECT_FALSE(row.matched);  // 0.7 is outside 0.8..1.25
  EXPECT_EQ(row.region, "us-east-1");
}

TEST(ConformanceTest, ErrorCountsMatchWhenBothZeroOrWithinHalfToDouble) {
  WorldMeasures sim, live;
  sim.app_errors = 3;
  live.app_errors = 2;
  EXPECT_TRUE(row_named(compare_worlds({}, sim, live), "app_errors").matched);
  sim.app_errors = 5;
  EXPECT_FALSE(row_named(compare_worlds({}, sim, live), "app_errors").matched);
  sim.app_errors = 1;
  live.app_errors = 0;
  EXPECT_FALSE(row_named(compare_worlds({}, sim, live), "app_errors").matched);
}

TEST(ConformanceTest, AMeasureInOneWorldOnlyDoesNotMatch) {
  WorldMeasures sim, live;
  sim.max_replica_lag_ms = 5;
  const ConformRow row = row_named(compare_worlds({}, sim, live), "max_replica_lag");
  EXPECT_TRUE(row.applicable);
  EXPECT_FALSE(row.matched);
  EXPECT_EQ(row.live_text, "n/a");
}

// The full-table digest: the same rows give the same checksum whatever the column order; a
// changed value changes it.
TEST(ConformanceTest, TableChecksumIgnoresColumnOrderButNotValues) {
  TableImage a, b;
  a.columns = {"id", "amount", "status"};
  b.columns = {"id", "status", "amount"};
  a.add_row({Value::integer(1), Value::text("12.50"), Value::text("new")}, Writer::initial);
  b.add_row({Value::integer(1), Value::text("new"), Value::text("12.50")}, Writer::initial);
  EXPECT_EQ(table_checksum(a), table_checksum(b));
  b.set(0, 2, Value::text("12.51"));
  EXPECT_NE(table_checksum(a), table_checksum(b));
}

// A deliberately mis-modelled world: the conform config of scenarios/conform run in simulation
// with the measured profile stands for the live world, and again with every cost ten times
// higher; conform names the durations, and the same world twice matches every row.
// A global topology has one database, the home's: its rows are the home's alone (the other
// regions read replicas of it, judged against the home primary).
TEST(ConformanceTest, AGlobalTopologyIsJudgedAtItsHome) {
  LiveConfigResult loaded = load_live_config_file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/conform/batched-traffic.yaml");
  ASSERT_TRUE(loaded.ok());
  Scenario scenario = loaded.config->scenario;
  ASSERT_GE(scenario.topology.regions.size(), 2U);
  EXPECT_EQ(conform_spec(scenario).regions.size(), scenario.topology.regions.size());
  scenario.topology.mode = TopologyMode::global;
  scenario.topology.home = scenario.topology.regions[1].name;
  EXPECT_EQ(conform_spec(scenario).regions, std::vector<std::string>{scenario.topology.regions[1].name});
}

// conform (a) on a 20,000-row table, its network as conform measures it for servers on one host
// (cli/conform.cc): tens of microseconds.
Scenario small_batched_traffic() {
  LiveConfigResult loaded = load_live_config_file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/conform/batched-traffic.yaml");
  EXPECT_TRUE(loaded.ok());
  if (!loaded.ok()) return Scenario{};
  Scenario scenario = loaded.config->scenario;
  scenario.table.rows = 20000;
  scenario.topology.intra_region = scenario.topology.inter_region = scenario.topology.replication_lag = DurationRange{20, 40};
  return scenario;
}

TEST(ConformanceTest, AProfileTenTimesTooSlowIsCaught) {
  Scenario scenario = small_batched_traffic();
  ASSERT_FALSE(scenario.topology.regions.empty());
  ASSERT_TRUE(load_cost_profile_file(std::string(REHEARSE_SOURCE_DIR) + "/profiles/builtin-pg15-loopback.yaml", &scenario.costs).empty());
  Scenario slow = scenario;
  for (const std::string& key : cost_profile_keys()) {
    if (double* value = cost_field(slow.costs, key)) *value *= 10;
  }
  for (auto& [rows, per_row] : slow.costs.update_per_row_us) per_row *= 10;
  const ConformSpec spec = conform_spec(scenario);
  EXPECT_FALSE(spec.full_checksum);  // the config has traffic
  // One world at a time: a simulated world's kernel is the thread's current one while it runs.
  auto measured = [&spec](const Scenario& world_scenario) {
    sim::WorldOptions options;
    options.keep_request_latencies = true;
    sim::World world(world_scenario, world_scenario.seed, compile_plan(world_scenario).value(), options);
    const RunResult result = world.run();
    return measure_world(spec, result, world.observations());
  };
  const WorldMeasures live = measured(scenario);
  const std::vector<std::string> same = mismatched(compare_worlds(spec, measured(scenario), live));
  EXPECT_TRUE(same.empty()) << fmt::format("{}", fmt::join(same, ", "));
  const std::vector<ConformRow> rows = compare_worlds(spec, measured(slow), live);
  const std::vector<std::string> names = mismatched(rows);
  EXPECT_NE(std::find(names.begin(), names.end(), "backfill_duration"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "mean_batch_duration"), names.end());
  for (const ConformRow& row : rows) {
    if (row.measure == "backfill_duration") {
      EXPECT_GT(*row.ratio, 1.5) << row.region;
    }
    if (row.measure == "phases" || row.measure == "checksum") {
      EXPECT_TRUE(row.matched) << row.measure << " " << row.region;
    }
  }
}

// The shared host as conform measures it (sim/cpu_host.h): the database's writes side by side
// get parallel_write_cores of its cores, and the live run's load besides the statements
// (host_background_cores) takes its share of the processors. Each makes (a)'s simulated
// backfill with traffic slower: a batch beside the application's writes gets less.
TEST(ConformanceTest, TheSharedHostsWriteCoresAndBackgroundLoadSlowTheSimulatedBackfill) {
  const Scenario scenario = small_batched_traffic();
  ASSERT_FALSE(scenario.topology.regions.empty());
  const ConformSpec spec = conform_spec(scenario);
  auto backfill_ms = [&](double write_cores, double background) {
    Scenario world_scenario = scenario;
    world_scenario.costs.parallel_write_cores = write_cores;
    sim::WorldOptions options;
    options.keep_request_latencies = true;
    options.host_cores = 2;
    options.host_background_cores = background;
    sim::World world(world_scenario, world_scenario.seed, compile_plan(world_scenario).value(), options);
    const RunResult result = world.run();
    const WorldMeasures measures = measure_world(spec, result, world.observations());
    EXPECT_EQ(measures.outcome.substr(0, 9), "completed");
    return measures.backfill_ms.at("us-east-1").value_or(0);
  };
  const double free_host = backfill_ms(2.0, 0.0);
  const double write_cores = backfill_ms(1.17, 0.0);
  const double loaded_host = backfill_ms(2.0, 0.9);
  EXPECT_GT(free_host, 0);
  EXPECT_GT(write_cores, free_host);
  EXPECT_GT(loaded_host, free_host);
  // A batch alone beside a 1.5-core load gets 2 / 2.5 of a processor: every batch is slower.
  EXPECT_GT(backfill_ms(2.0, 1.5), free_host * 1.15);
  EXPECT_EQ(backfill_ms(2.0, 0.9), loaded_host);  // deterministic
}

// The scenario of scenarios/conform/NAME.yaml with a loopback network (20..40 us, as conform
// measures one); an empty scenario (and a failure) when it does not load.
Scenario conform_config_on_loopback(const std::string& name) {
  LiveConfigResult loaded = load_live_config_file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/conform/" + name + ".yaml");
  EXPECT_TRUE(loaded.ok()) << name;
  if (!loaded.ok()) return Scenario{};
  Scenario scenario = loaded.config->scenario;
  scenario.topology.intra_region = scenario.topology.inter_region = scenario.topology.replication_lag = DurationRange{20, 40};
  return scenario;
}

// The run of `scenario` on conform's shared host with its engine launched at `launch`.
RunResult launched_at(const Scenario& scenario, TimeUs launch) {
  sim::WorldOptions options;
  options.host_cores = 2;
  options.app_connections = kAppConnections;
  options.engine_launch_us = launch;
  return sim::World(scenario, scenario.seed, compile_plan(scenario).value(), options).run();
}

bool is_batch(const Event& event) { return event.kind == EventKind::write && event.write == WriteKind::backfill; }

// conform (e) as it was until 2026-12-06: the replica cut from 300 ms to 1.8 s of the run. Live,
// the engine process began its migration ~0.6 s after the run's start (launched, configured,
// connected), so the cut was already there when the backfill began and held back its first
// batch; the simulated engine began at 0 and its first two batches ran before the cut mattered
// (mean batch interval 2.26x the live one). conform starts the simulated engines the measured
// launch later (sim::WorldOptions::engine_launch_us).
TEST(ConformanceTest, TheSimulatedEnginesStartAsLateAsTheLiveOnesLaunched) {
  Scenario scenario = conform_config_on_loopback("replica-lag-throttled");
  ASSERT_EQ(scenario.faults.size(), 1U);
  scenario.faults[0].at_phase.reset();
  scenario.faults[0].at_us = 300 * kMs;
  auto engine_start = [](const Event& event) { return event.kind == EventKind::engine_start; };
  const RunResult at_once = launched_at(scenario, 0);
  const RunResult late = launched_at(scenario, 600 * kMs);
  EXPECT_EQ(testing::first_time(at_once, engine_start), 0);
  EXPECT_EQ(testing::first_time(late, engine_start), 600 * kMs);
  EXPECT_LT(testing::first_time(at_once, is_batch), 1800 * kMs) << "before the cut heals";
  EXPECT_GT(testing::first_time(late, is_batch), 1800 * kMs) << "throttled until the cut heals";
}

// conform (e) now: the cut starts 100 ms into the backfill, whenever the engine launched, so in
// both worlds the first batch runs into it and the second waits for the heal (at 300 ms from
// the start the cut raced the first batch's lag check: docs/calibration.md, seventeenth stop).
TEST(ConformanceTest, TheReplicaLagConfigsCutTheReplicaInsideTheFirstBatchWheneverTheEngineLaunched) {
  const Scenario scenario = conform_config_on_loopback("replica-lag-throttled");
  ASSERT_FALSE(scenario.name.empty());
  for (const TimeUs launch : {TimeUs{0}, 600 * kMs}) {
    const RunResult result = launched_at(scenario, launch);
    const TimeUs backfill = testing::first_time(
        result, [](const Event& event) { return event.kind == EventKind::phase && event.detail == "backfill"; });
    const TimeUs cut = testing::first_time(result, [](const Event& event) { return event.kind == EventKind::fault_start; });
    const TimeUs healed = testing::first_time(result, [](const Event& event) { return event.kind == EventKind::fault_end; });
    const TimeUs first_batch = testing::first_time(result, is_batch);
    const TimeUs second_batch =
        testing::first_time(result, [first_batch](const Event& event) { return is_batch(event) && event.time_us > first_batch; });
    EXPECT_EQ(cut, backfill + 100 * kMs) << "launched at " << launch;
    EXPECT_GT(first_batch, cut) << "launched at " << launch;
    EXPECT_GT(second_batch, healed) << "launched at " << launch;
  }
}

// conform (d): writes queue 20 s behind a DDL behind a long transaction. The live application
// has 8 connections a kind (its requests beyond them wait client-side, and statement_timeout
// cancels a statement at the client timeout); the simulated one, unbounded, had every write of
// the last 10 s released onto the server at once when the DDL got through, and on conform's
// shared host that burst delayed the migration by ~0.4 s (live: none): the dual_write step's
// trigger waits for the table lock behind it. With the pool (sim::WorldOptions::app_connections)
// the first batch follows the ADD COLUMN at once.
TEST(ConformanceTest, TheApplicationsPoolKeepsItsBacklogOffTheServer) {
  const Scenario scenario = conform_config_on_loopback("ddl-long-transaction-without-lock-timeout");
  ASSERT_FALSE(scenario.name.empty());
  auto first_batch_after_ddl = [&scenario](int connections, std::int64_t* errors) {
    sim::WorldOptions options;
    options.host_cores = 2;
    options.app_connections = connections;
    sim::World world(scenario, scenario.seed, compile_plan(scenario).value(), options);
    const RunResult result = world.run();
    *errors = result.stats.app_errors;
    std::optional<TimeUs> ddl;
    for (const Event& event : result.history.events()) {
      if (event.kind == EventKind::write && event.write == WriteKind::ddl) ddl = event.time_us;
      if (ddl && event.kind == EventKind::write && event.write == WriteKind::backfill) return event.time_us - *ddl;
    }
    ADD_FAILURE() << "no backfill batch";
    return TimeUs{0};
  };
  std::int64_t pooled_errors = 0;
  std::int64_t unbounded_errors = 0;
  const TimeUs pooled = first_batch_after_ddl(kAppConnections, &pooled_errors);
  const TimeUs unbounded = first_batch_after_ddl(0, &unbounded_errors);
  EXPECT_LT(pooled, 100 * kMs);
  EXPECT_GT(unbounded, pooled + 100 * kMs);
  // Both fail the writes stuck behind the DDL for more than the client timeout, about alike.
  EXPECT_GT(pooled_errors, 300);
  EXPECT_GT(unbounded_errors, 300);
}

}  // namespace
}  // namespace rehearse
