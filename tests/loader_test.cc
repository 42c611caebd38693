// Tests of the scenario loader (scenarios/loader.h): the value parsers, a complete scenario
// using every section of the spec, the error messages (file, line, dotted key) for each kind of
// mistake, the built-in library, and that no mangled input makes the loader crash.
#include "scenarios/builtin.h"
#include "scenarios/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace rehearse {
namespace {

LoadResult load(const std::string& text) { return load_scenario_text(text, "my.yaml"); }

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// The first error about `key`, or an empty error (line -1) when there is none.
ScenarioError error_on(const LoadResult& r, const std::string& key) {
  for (const auto& e : r.errors) {
    if (e.key == key) return e;
  }
  ADD_FAILURE() << "no error on key '" << key << "'; errors:\n" << all_errors(r);
  return ScenarioError{"", -1, "", ""};
}

bool has_text(const ScenarioError& e, const std::string& text) { return e.message.find(text) != std::string::npos; }

const std::string kHeader = "name: t\ndescription: a test\n";

const std::string kFull = R"yaml(name: full-example
description: >
  Uses every section of the spec. Nothing else.
seed: 7
duration: 30m
topology:
  mode: per-region
  regions:
    - {name: us-east-1, replicas: 1}
    - {name: eu-west-1, replicas: 1}
    - {name: ap-south-1, replicas: 2}
  latency:
    intra_region: 0.5ms..2ms
    inter_region: 40ms..120ms
  replication_lag: 20ms..300ms
  clocks:
    max_skew: 50ms
    max_drift_ppm: 100
lock:
  backend: redlock
  nodes: 3
  region: eu-west-1
  ttl: 10s
  renew_every: 3s
  fencing: client
  drift_factor: 0.02
  persistence: false
  max_ops_per_s: 500
engine:
  instances: 2
  region: us-east-1
  start_jitter: 0s..5s
  batch_size: 500
  batch_pause: 40ms
  backfill_source: replica
  max_replication_lag: 3s
  lock_timeout: 0
  statement_timeout: 20s
  ddl_retries: 4
  acquire_timeout: 2m
  backoff: {base: 200ms, max: 5s, jitter: equal}
  rollout: all-at-once
  order: [eu-west-1, us-east-1, ap-south-1]
  health_gate: {soak: 20s, max_error_rate: 0.02, max_replication_lag: 4s}
  validate: false
  on_failure: halt
table:
  name: orders
  rows: 12345
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
    email: {type: text, gen: email}
    status: {type: text, gen: "one_of(new,paid,shipped)", nullable: 0.05}
    legacy_flag: {type: boolean}
migration:
  name: amount_to_cents
  operations:
    - add_column:   {column: amount_cents, type: bigint, up: "round(amount * 100)"}
    - alter_column: {column: email, type: text, up: "lower(email)", down: "email"}
    - rename_column: {column: status, to: state}
    - drop_column:  {column: legacy_flag}
    - add_not_null: {column: amount_cents}
    - create_index: {columns: [email, state]}
workload:
  regions: [us-east-1, eu-west-1]
  writes_per_s: 50
  reads_per_s: 200
  update_ratio: 0.6
  hot_rows: 0.02
  deploy:
    new_code_after: backfill
slo:
  max_stall: 2s
  max_error_rate: 0.002
  max_replica_lag: 9s
faults:
  - {at: 12s, pause: engine-1, for: 15s}
  - {at: 30s, crash: engine-2, restart_after: 10s}
  - {at: 40s, partition: [us-east-1], from: [lock], for: 20s}
  - {at: 40s, partition: [engine-1], from: [lock], for: 20s, oneway: true}
  - {at: 45s, delay: engine-1, extra: 8s, for: 10s}
  - {at: 50s, drop: lock-2, probability: 0.3, for: 30s}
  - {at: 60s, clock_jump: lock-3, by: +20s}
  - {at: 60s, clock_skew: engine-1, offset: -2s}
  - {at: 60s, clock_drift: engine-1, ppm: 50000, for: 1m}
  - {at: 70s, replication_lag: eu-west-1, extra: 30s, for: 2m}
  - {at: 80s, long_transaction: "db:us-east-1", for: 90s}
  - {at: 90s, failover: lock}
  - {at: 95s, crash: lock-1}
  - at: {phase: backfill, region: eu-west-1, after: 2s}
    pause: holder
    for: 5s
  - {at: {phase: contract}, pause: ["app:eu-west-1"], for: 1s}
  - {at: 100s, crash: "db:ap-south-1/replica-2"}
random_faults:
  rate: 1/30s
  kinds: [pause, crash, partition]
  targets: [engine-*, lock-*, "db:*", "db:eu-west-1/replica-1"]
  max_duration: 15s
  quiet_after: 20m
expect:
  verdict: violation
  invariants: [mutual-exclusion, no-lost-writes]
  within_seeds: 100
)yaml";

// -- value parsers ----------------------------------------------------------------------------

// The spec's topology example, verbatim: `home` beside `mode: per-region` loads (used only by
// global mode), and still has to name a region.
TEST(LoaderTopology, SpecExampleWithHomeInPerRegionModeLoads) {
  const std::string topology =
      "topology:\n"
      "  mode: per-region\n"
      "  home: us-east-1           # global mode only\n"
      "  regions:\n"
      "    - {name: us-east-1, replicas: 1}\n"
      "    - {name: eu-west-1, replicas: 1}\n"
      "    - {name: ap-south-1, replicas: 2}\n";
  const LoadResult loaded = load(kHeader + topology);
  EXPECT_TRUE(loaded.ok()) << all_errors(loaded);
  const LoadResult wrong = load(kHeader + "topology:\n  mode: per-region\n  home: mars-1\n  regions:\n    - {name: us-east-1}\n");
  EXPECT_FALSE(wrong.ok());
  EXPECT_EQ(error_on(wrong, "topology.home").line, 5);
}

TEST(LoaderParsers, Duration) {
  EXPECT_EQ(parse_duration("150ms"), 150 * kMs);
  EXPECT_EQ(parse_duration("10s"), 10 * kSec);
  EXPECT_EQ(parse_duration("5m"), 5 * kMin);
  EXPECT_EQ(parse_duration("1h"), kHour);
  EXPECT_EQ(parse_duration("250us"), 250);
  EXPECT_EQ(parse_duration("0"), 0);
  EXPECT_EQ(parse_duration("0s"), 0);
  EXPECT_EQ(parse_duration("0.5ms"), 500);  // the spec's topology example
  EXPECT_EQ(parse_duration("1.25s"), 1250 * kMs);
  for (const char* bad : {"", "10", "s", "-1s", "+1s", "1.5us", ".5s", "5.s", "10 s", "10sec", "1m30s", "lots",
                          "99999999999999999999s", "9999999999999h", "1e3ms", "0x10s"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(LoaderParsers, SignedDuration) {
  EXPECT_EQ(parse_signed_duration("+20s"), 20 * kSec);
  EXPECT_EQ(parse_signed_duration("-500ms"), -500 * kMs);
  EXPECT_EQ(parse_signed_duration("0"), 0);
  for (const char* bad : {"", "20s", "+", "-", "--1s", "+-1s", "+x"})
    EXPECT_EQ(parse_signed_duration(bad), std::nullopt) << bad;
}

TEST(LoaderParsers, DurationRange) {
  auto r = parse_duration_range("40ms..120ms");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->low_us, 40 * kMs);
  EXPECT_EQ(r->high_us, 120 * kMs);
  r = parse_duration_range("2s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->low_us, 2 * kSec);
  EXPECT_EQ(r->high_us, 2 * kSec);
  r = parse_duration_range("0..5s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->low_us, 0);
  for (const char* bad : {"", "..", "1s..", "..1s", "2s..1s", "1s...2s", "1s..2s..3s", "a..b"}) {
    EXPECT_EQ(parse_duration_range(bad).has_value(), false) << bad;
  }
}

TEST(LoaderParsers, Rate) {
  EXPECT_NEAR(*parse_rate_per_s("1/30s"), 1.0 / 30, 1e-12);
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("50/s"), 50);
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("3/m"), 0.05);
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("1/500ms"), 2);
  EXPECT_DOUBLE_EQ(*parse_rate_per_s("0/s"), 0);
  for (const char* bad : {"", "50", "/s", "1/", "1/0s", "1/0", "-1/s", "x/s", "1/30", "1/ms/s"}) {
    EXPECT_EQ(parse_rate_per_s(bad).has_value(), false) << bad;
  }
}

TEST(LoaderParsers, ErrorToString) {
  EXPECT_EQ(
      (ScenarioError{"my.yaml", 12, "engine.batch_size", "expected a non-negative integer, got 'lots'"}.to_string()),
      "my.yaml:12: engine.batch_size: expected a non-negative integer, got 'lots'");
  EXPECT_EQ((ScenarioError{"x.yaml", 0, "", "cannot read"}.to_string()), "x.yaml: cannot read");
}

// -- a complete scenario ----------------------------------------------------------------------

TEST(Loader, CompleteScenarioLoadsEveryValue) {
  const LoadResult r = load(kFull);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "full-example");
  EXPECT_EQ(s.description, "Uses every section of the spec. Nothing else.\n");
  EXPECT_EQ(s.source_path, "my.yaml");
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.duration_us, 30 * kMin);

  EXPECT_EQ(s.topology.mode, TopologyMode::per_region);
  ASSERT_EQ(s.topology.regions.size(), 3u);
  EXPECT_EQ(s.topology.regions[2].name, "ap-south-1");
  EXPECT_EQ(s.topology.regions[2].replicas, 2);
  EXPECT_EQ(s.topology.intra_region.low_us, 500);
  EXPECT_EQ(s.topology.inter_region.high_us, 120 * kMs);
  EXPECT_EQ(s.topology.replication_lag.low_us, 20 * kMs);
  EXPECT_EQ(s.topology.clocks.max_skew_us, 50 * kMs);
  EXPECT_EQ(s.topology.clocks.max_drift_ppm, 100);

  EXPECT_EQ(s.lock.backend, LockBackend::redlock);
  EXPECT_EQ(s.lock.nodes, 3);
  EXPECT_EQ(s.lock.region, "eu-west-1");
  EXPECT_EQ(s.lock.ttl_us, 10 * kSec);
  EXPECT_EQ(s.lock.renew_every_us, 3 * kSec);
  EXPECT_EQ(s.lock.fencing, Fencing::client);
  EXPECT_DOUBLE_EQ(s.lock.drift_factor, 0.02);
  EXPECT_FALSE(s.lock.persistence);
  EXPECT_EQ(s.lock.max_ops_per_s, 500);

  const EngineSpec& e = s.engine;
  EXPECT_EQ(e.instances, 2);
  EXPECT_EQ(e.region, "us-east-1");
  EXPECT_EQ(e.start_jitter.high_us, 5 * kSec);
  EXPECT_EQ(e.batch_size, 500);
  EXPECT_EQ(e.batch_pause_us, 40 * kMs);
  EXPECT_EQ(e.backfill_source, BackfillSource::replica);
  EXPECT_EQ(e.max_replication_lag_us, 3 * kSec);
  EXPECT_EQ(e.lock_timeout_us, 0);
  EXPECT_EQ(e.statement_timeout_us, 20 * kSec);
  EXPECT_EQ(e.ddl_retries, 4);
  EXPECT_EQ(e.acquire_timeout_us, 2 * kMin);
  EXPECT_EQ(e.backoff.base_us, 200 * kMs);
  EXPECT_EQ(e.backoff.max_us, 5 * kSec);
  EXPECT_EQ(e.backoff.jitter, Jitter::equal);
  EXPECT_EQ(e.rollout, Rollout::all_at_once);
  EXPECT_EQ(e.order, (std::vector<std::string>{"eu-west-1", "us-east-1", "ap-south-1"}));
  EXPECT_EQ(e.health_gate.soak_us, 20 * kSec);
  EXPECT_DOUBLE_EQ(e.health_gate.max_error_rate, 0.02);
  EXPECT_EQ(e.health_gate.max_replication_lag_us, 4 * kSec);
  EXPECT_FALSE(e.validate);
  EXPECT_EQ(e.on_failure, OnFailure::halt);

  EXPECT_EQ(s.table.name, "orders");
  EXPECT_EQ(s.table.rows, 12345);
  ASSERT_EQ(s.table.columns.size(), 4u);
  EXPECT_EQ(s.table.columns[0].name, "amount");  // file order
  EXPECT_EQ(s.table.columns[0].type, ColumnType::numeric);
  EXPECT_EQ(s.table.columns[0].scale, 2);
  EXPECT_EQ(s.table.columns[0].gen, "0..100000");
  EXPECT_EQ(s.table.columns[1].name, "email");
  EXPECT_EQ(s.table.columns[2].name, "status");
  EXPECT_DOUBLE_EQ(s.table.columns[2].nullable, 0.05);
  EXPECT_EQ(s.table.columns[3].type, ColumnType::boolean);
}

TEST(Loader, CompleteScenarioMigrationWorkloadSlo) {
  const LoadResult r = load(kFull);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.migration.name, "amount_to_cents");
  const auto& ops = s.migration.operations;
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[0].kind, OperationKind::add_column);
  EXPECT_EQ(ops[0].column, "amount_cents");
  EXPECT_EQ(ops[0].type, ColumnType::bigint);
  EXPECT_EQ(ops[0].up, "round(amount * 100)");
  EXPECT_EQ(ops[0].line, 58);
  EXPECT_EQ(ops[1].kind, OperationKind::alter_column);
  EXPECT_EQ(ops[1].down, "email");
  EXPECT_EQ(ops[2].kind, OperationKind::rename_column);
  EXPECT_EQ(ops[2].to, "state");
  EXPECT_EQ(ops[3].kind, OperationKind::drop_column);
  EXPECT_EQ(ops[4].kind, OperationKind::add_not_null);
  EXPECT_EQ(ops[5].kind, OperationKind::create_index);
  EXPECT_EQ(ops[5].columns, (std::vector<std::string>{"email", "state"}));

  EXPECT_FALSE(s.workload.all_regions);
  EXPECT_EQ(s.workload.regions, (std::vector<std::string>{"us-east-1", "eu-west-1"}));
  EXPECT_DOUBLE_EQ(s.workload.writes_per_s, 50);
  EXPECT_DOUBLE_EQ(s.workload.reads_per_s, 200);
  EXPECT_DOUBLE_EQ(s.workload.update_ratio, 0.6);
  EXPECT_DOUBLE_EQ(s.workload.hot_rows, 0.02);
  EXPECT_EQ(s.workload.new_code_after, DeployAfter::backfill);

  EXPECT_EQ(s.slo.max_stall_us, 2 * kSec);
  EXPECT_DOUBLE_EQ(s.slo.max_error_rate, 0.002);
  EXPECT_EQ(s.slo.max_replica_lag_us, 9 * kSec);
}

TEST(Loader, CompleteScenarioFaultsAndExpect) {
  const LoadResult r = load(kFull);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const auto& f = r.scenario->faults;
  ASSERT_EQ(f.size(), 16u);
  EXPECT_EQ(f[0].kind, FaultKind::pause);
  EXPECT_EQ(f[0].at_us, 12 * kSec);
  EXPECT_EQ(f[0].targets, std::vector<std::string>{"engine-1"});
  EXPECT_EQ(f[0].for_us, 15 * kSec);
  EXPECT_EQ(f[0].line, 77);
  EXPECT_EQ(f[1].restart_after_us, 10 * kSec);
  EXPECT_EQ(f[2].targets, std::vector<std::string>{"us-east-1"});
  EXPECT_EQ(f[2].from, std::vector<std::string>{"lock"});
  EXPECT_FALSE(f[2].oneway);
  EXPECT_TRUE(f[3].oneway);
  EXPECT_EQ(f[4].extra_us, 8 * kSec);
  EXPECT_DOUBLE_EQ(f[5].probability, 0.3);
  EXPECT_EQ(f[6].by_us, 20 * kSec);
  EXPECT_EQ(f[7].offset_us, -2 * kSec);
  EXPECT_EQ(f[8].ppm, 50000);
  EXPECT_EQ(f[9].kind, FaultKind::replication_lag);
  EXPECT_EQ(f[10].targets, std::vector<std::string>{"db:us-east-1"});
  EXPECT_EQ(f[11].kind, FaultKind::failover);
  EXPECT_FALSE(f[12].restart_after_us.has_value());
  ASSERT_TRUE(f[13].at_phase.has_value());
  EXPECT_EQ(f[13].at_phase->phase, "backfill");
  EXPECT_EQ(f[13].at_phase->region, "eu-west-1");
  EXPECT_EQ(f[13].at_phase->after_us, 2 * kSec);
  EXPECT_EQ(f[13].targets, std::vector<std::string>{"holder"});
  ASSERT_TRUE(f[14].at_phase.has_value());
  EXPECT_EQ(f[14].at_phase->region, "eu-west-1");  // default: the first region of engine.order
  EXPECT_EQ(f[14].targets, std::vector<std::string>{"app:eu-west-1"});
  EXPECT_EQ(f[15].targets, std::vector<std::string>{"db:ap-south-1/replica-2"});

  ASSERT_TRUE(r.scenario->random_faults.has_value());
  const RandomFaultsSpec& rf = *r.scenario->random_faults;
  EXPECT_NEAR(rf.rate_per_s, 1.0 / 30, 1e-12);
  EXPECT_EQ(rf.kinds, (std::vector<FaultKind>{FaultKind::pause, FaultKind::crash, FaultKind::partition}));
  EXPECT_EQ(rf.targets, (std::vector<std::string>{"engine-*", "lock-*", "db:*", "db:eu-west-1/replica-1"}));
  EXPECT_EQ(rf.max_duration_us, 15 * kSec);
  EXPECT_EQ(rf.quiet_after_us, 20 * kMin);

  EXPECT_EQ(r.scenario->expect.verdict, Verdict::violation);
  EXPECT_EQ(r.scenario->expect.invariants, (std::vector<std::string>{"mutual-exclusion", "no-lost-writes"}));
  EXPECT_EQ(r.scenario->expect.within_seeds, 100);
}

TEST(Loader, DefaultsWhenSectionsAreAbsent) {
  const LoadResult r = load(kHeader);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Scenario& s = *r.scenario;
  ASSERT_EQ(s.topology.regions.size(), 1u);
  EXPECT_EQ(s.topology.regions[0].name, "us-east-1");
  EXPECT_EQ(s.topology.regions[0].replicas, 0);
  EXPECT_EQ(s.engine.region, "us-east-1");
  EXPECT_EQ(s.lock.region, "us-east-1");
  EXPECT_EQ(s.engine.order, std::vector<std::string>{"us-east-1"});
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration_us, kHour);
  EXPECT_EQ(s.lock.backend, LockBackend::redis);
  EXPECT_EQ(s.lock.nodes, 1);
  EXPECT_EQ(s.engine.instances, 1);
  EXPECT_EQ(s.expect.verdict, Verdict::pass);
  EXPECT_TRUE(s.workload.all_regions);
  EXPECT_TRUE(s.faults.empty());
  EXPECT_FALSE(s.random_faults.has_value());
}

TEST(Loader, RegionDefaultsFollowTheTopology) {
  const LoadResult r =
      load(kHeader +
           "topology:\n  mode: global\n  regions: [{name: eu-west-1, replicas: 2}, {name: us-east-1}]\n"
           "lock: {backend: redlock}\nseed: 18446744073709551615\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.scenario->topology.home, "eu-west-1");
  EXPECT_EQ(r.scenario->engine.region, "eu-west-1");
  EXPECT_EQ(r.scenario->lock.region, "eu-west-1");
  EXPECT_EQ(r.scenario->lock.nodes, 3);  // redlock default
  EXPECT_EQ(r.scenario->engine.order, (std::vector<std::string>{"eu-west-1", "us-east-1"}));
  EXPECT_EQ(r.scenario->seed, UINT64_MAX);
}

// -- errors -----------------------------------------------------------------------------------

TEST(LoaderErrors, UnknownTopLevelKey) {
  const LoadResult r = load(kHeader + "seed: 3\nnmae: x\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  const ScenarioError& e = r.errors[0];
  EXPECT_EQ(e.file, "my.yaml");
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.key, "nmae");
  EXPECT_TRUE(has_text(e, "unknown key")) << e.message;
  EXPECT_TRUE(has_text(e, "did you mean 'name'?")) << e.message;
  EXPECT_EQ(e.to_string().rfind("my.yaml:4: nmae: unknown key", 0), 0u) << e.to_string();
}

TEST(LoaderErrors, UnknownNestedKeys) {
  const LoadResult r = load(kHeader +                                   // lines 1-2
                            "engine:\n"                                 // 3
                            "  instances: 2\n"                          // 4
                            "  backoff:\n"                              // 5
                            "    base: 1s\n"                            // 6
                            "    jittr: full\n"                         // 7
                            "faults:\n"                                 // 8
                            "  - {at: 1s, pause: engine-1, for: 1s}\n"  // 9
                            "  - {at: 2s, pause: engine-2, for: 1s}\n"  // 10
                            "  - at: 3s\n"                              // 11
                            "    pasue: engine-1\n");                   // 12
  ASSERT_FALSE(r.ok());
  const ScenarioError jitter = error_on(r, "engine.backoff.jittr");
  EXPECT_EQ(jitter.line, 7);
  EXPECT_TRUE(has_text(jitter, "did you mean 'jitter'?")) << jitter.message;
  const ScenarioError pause = error_on(r, "faults[2].pasue");
  EXPECT_EQ(pause.line, 12);
  EXPECT_TRUE(has_text(pause, "did you mean 'pause'?")) << pause.message;
  EXPECT_EQ(r.errors.size(), 2u) << all_errors(r);
}

TEST(LoaderErrors, DuplicateKey) {
  const LoadResult r = load(kHeader + "seed: 1\nseed: 2\n");
  EXPECT_EQ(error_on(r, "seed").line, 4);
}

TEST(LoaderErrors, BadValues) {
  const LoadResult r = load(kHeader +                                         // 1-2
                            "engine:\n"                                       // 3
                            "  batch_pause: fast\n"                           // 4
                            "  batch_size: lots\n"                            // 5
                            "  instances: 0\n"                                // 6
                            "  validate: maybe\n"                             // 7
                            "lock: {ttl: 0}\n"                                // 8
                            "workload: {update_ratio: 1.5, hot_rows: [1]}\n"  // 9
                            "duration: -1s\n");                               // 10
  EXPECT_EQ(r.errors.size(), 8u) << all_errors(r);
  EXPECT_EQ(error_on(r, "engine.batch_pause").to_string(),
            "my.yaml:4: engine.batch_pause: expected a duration such as 150ms, 10s or 5m, got 'fast'");
  EXPECT_EQ(error_on(r, "engine.batch_size").to_string(),
            "my.yaml:5: engine.batch_size: expected a non-negative integer, got 'lots'");
  EXPECT_TRUE(has_text(error_on(r, "engine.instances"), "from 1 to"));
  EXPECT_TRUE(has_text(error_on(r, "engine.validate"), "expected true or false, got 'maybe'"));
  EXPECT_TRUE(has_text(error_on(r, "lock.ttl"), "positive duration"));
  EXPECT_TRUE(has_text(error_on(r, "workload.update_ratio"), "from 0 to 1, got '1.5'"));
  EXPECT_TRUE(has_text(error_on(r, "workload.hot_rows"), "got a list"));
  EXPECT_EQ(error_on(r, "duration").line, 10);
}

TEST(LoaderErrors, BadEnum) {
  const LoadResult r = load(kHeader + "lock:\n  backend: consul\n  fencing: stroage\n");
  const ScenarioError backend = error_on(r, "lock.backend");
  EXPECT_EQ(backend.line, 4);
  EXPECT_TRUE(has_text(backend, "expected one of redis, redlock, etcd, zookeeper, app-database, got 'consul'"))
      << backend.message;
  EXPECT_TRUE(has_text(error_on(r, "lock.fencing"), "did you mean 'storage'?"));
}

TEST(LoaderErrors, MissingRequiredFields) {
  LoadResult r = load("# a comment\ndescription: d\nseed: 1\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].key, "name");
  EXPECT_EQ(r.errors[0].line, 2);  // the enclosing (top-level) mapping
  EXPECT_TRUE(has_text(r.errors[0], "required"));

  r = load(kHeader + "faults:\n  - {pause: engine-1, for: 1s}\n  - {at: 1s, pause: engine-1}\n  - {at: 1s, for: 1s}\n");
  EXPECT_EQ(error_on(r, "faults[0].at").line, 4);
  EXPECT_EQ(error_on(r, "faults[1].for").line, 5);
  EXPECT_TRUE(has_text(error_on(r, "faults[2]"), "missing the fault kind"));
  EXPECT_EQ(r.errors.size(), 3u) << all_errors(r);
}

TEST(LoaderErrors, NameAndRegions) {
  const LoadResult r = load(
      "name: Bad_Name\ndescription: d\n"
      "topology:\n  regions: [{name: us-east-1}, {name: us-east-1}, {name: lock}]\n"
      "engine: {region: mars, order: [us-east-1, venus]}\nworkload: {regions: [moon]}\n");
  EXPECT_TRUE(has_text(error_on(r, "name"), "a-z, 0-9 and '-'"));
  EXPECT_TRUE(has_text(error_on(r, "topology.regions[1].name"), "listed twice"));
  EXPECT_TRUE(has_text(error_on(r, "topology.regions[2].name"), "another node"));
  EXPECT_TRUE(has_text(error_on(r, "engine.region"), "no region 'mars' in the topology (regions: us-east-1)"));
  EXPECT_TRUE(has_text(error_on(r, "engine.order[1]"), "no region 'venus'"));
  EXPECT_TRUE(has_text(error_on(r, "workload.regions[0]"), "no region 'moon'"));
}

TEST(LoaderErrors, LockNodes) {
  EXPECT_TRUE(has_text(error_on(load(kHeader + "lock: {backend: redlock, nodes: 4}\n"), "lock.nodes"), "odd"));
  EXPECT_TRUE(has_text(error_on(load(kHeader + "lock: {backend: redlock, nodes: 1}\n"), "lock.nodes"), "at least 3"));
  EXPECT_TRUE(has_text(error_on(load(kHeader + "lock: {backend: redis, nodes: 3}\n"), "lock.nodes"), "must be 1"));
  EXPECT_TRUE(
      has_text(error_on(load(kHeader + "lock: {backend: etcd, replica: true}\n"), "lock.replica"), "only a redis"));
  EXPECT_TRUE(load(kHeader + "lock: {backend: etcd, nodes: 2}\n").ok());
}

TEST(LoaderErrors, BadFaultTargets) {
  const LoadResult r = load(kHeader +
                            "topology: {regions: [{name: us-east-1, replicas: 1}, {name: eu-west-1}]}\n"  // 3
                            "engine: {instances: 2}\n"                                                    // 4
                            "lock: {backend: redis, replica: true}\n"                                     // 5
                            "faults:\n"                                                                   // 6
                            "  - {at: 1s, pause: engine-3, for: 1s}\n"                                    // 7
                            "  - {at: 1s, crash: lock-3}\n"                                               // 8
                            "  - {at: 1s, crash: 'db:eu-west-1/replica-1'}\n"                             // 9
                            "  - {at: 1s, partition: [us-east-1, 'db:mars'], for: 1s}\n"                  // 10
                            "  - {at: 1s, pause: [engine-1, engine-2], for: 1s}\n"                        // 11
                            "  - {at: 1s, crash: nobody}\n"                                               // 12
                            "  - {at: 1s, crash: lock-2}\n");                                             // 13
  EXPECT_EQ(r.errors.size(), 6u) << all_errors(r);
  const ScenarioError engine = error_on(r, "faults[0].pause");
  EXPECT_EQ(engine.line, 7);
  EXPECT_TRUE(has_text(engine, "engine.instances is 2 (engine-1..engine-2)")) << engine.message;
  EXPECT_TRUE(has_text(error_on(r, "faults[1].crash"), "lock-1..lock-2")) << all_errors(r);
  EXPECT_TRUE(has_text(error_on(r, "faults[2].crash"), "region eu-west-1 has 0 replica")) << all_errors(r);
  EXPECT_TRUE(has_text(error_on(r, "faults[3].partition[1]"), "no region 'mars'")) << all_errors(r);
  EXPECT_TRUE(has_text(error_on(r, "faults[4].pause"), "takes one node")) << all_errors(r);
  EXPECT_TRUE(has_text(error_on(r, "faults[5].crash"), "unknown node 'nobody'")) << all_errors(r);
}

TEST(LoaderErrors, FailoverNamesTheLockService) {
  const std::string topology = "topology: {regions: [{name: us-east-1}, {name: eu-west-1}]}\n";
  const LoadResult r = load(kHeader + topology + "lock: {backend: redis, replica: true}\n" +
                            "faults:\n  - {at: 1s, failover: lock}\n  - {at: 1s, failover: lock-1}\n"
                            "  - {at: 1s, failover: 'db:eu-west-1'}\n  - {at: 1s, failover: engine-1}\n");
  EXPECT_EQ(r.errors.size(), 2u) << all_errors(r);
  const ScenarioError database = error_on(r, "faults[2].failover");
  EXPECT_EQ(database.line, 8);
  EXPECT_TRUE(has_text(database, "failover applies to the lock service: `lock` or lock-N (got 'db:eu-west-1')")) << database.message;
  EXPECT_TRUE(has_text(error_on(r, "faults[3].failover"), "got 'engine-1'")) << all_errors(r);
  // The app-database lock lives in the lock region's primary: failing that primary over is a lock failover.
  const LoadResult app = load(kHeader + topology + "lock: {backend: app-database, region: eu-west-1}\n" +
                              "faults:\n  - {at: 1s, failover: 'db:eu-west-1'}\n  - {at: 1s, failover: 'db:us-east-1'}\n");
  EXPECT_EQ(app.errors.size(), 1u) << all_errors(app);
  EXPECT_TRUE(has_text(error_on(app, "faults[1].failover"), "or db:eu-west-1 (the lock's database)")) << all_errors(app);
}

TEST(LoaderErrors, GenThatCannotDrawTheColumnsType) {
  const LoadResult r = load(kHeader +
                            "table:\n"                                                        // 3
                            "  columns:\n"                                                    // 4
                            "    a: {type: integer, gen: sometimes}\n"                        // 5
                            "    b: {type: integer, gen: email}\n"                            // 6
                            "    c: {type: boolean, gen: '0..1'}\n"                           // 7
                            "    d: {type: bigint, gen: 'one_of(1, x)'}\n"                    // 8
                            "    e: {type: text, gen: 'one_of(a,,b)'}\n"                      // 9
                            "    f: {type: numeric, gen: '5..1'}\n"                           // 10
                            "    ok1: {type: text, gen: 'one_of(new, paid)'}\n"
                            "    ok2: {type: integer, gen: 'one_of(17, -3)'}\n"
                            "    ok3: {type: numeric, gen: '0..100000', scale: 2}\n"
                            "    ok4: {type: text, gen: uuid}\n"
                            "    ok5: {type: timestamp}\n");
  EXPECT_EQ(r.errors.size(), 6u) << all_errors(r);
  EXPECT_EQ(error_on(r, "table.columns.a.gen").line, 5);
  EXPECT_TRUE(has_text(error_on(r, "table.columns.a.gen"), "expected a range such as 0..100, email, uuid or one_of(a,b,...), got 'sometimes'"));
  EXPECT_TRUE(has_text(error_on(r, "table.columns.b.gen"), "email draws text, but the column is integer"));
  EXPECT_TRUE(has_text(error_on(r, "table.columns.c.gen"), "cannot draw boolean"));
  EXPECT_TRUE(has_text(error_on(r, "table.columns.d.gen"), "takes integers, got 'x'"));
  EXPECT_TRUE(has_text(error_on(r, "table.columns.e.gen"), "empty choice"));
  EXPECT_TRUE(has_text(error_on(r, "table.columns.f.gen"), "LOW <= HIGH, got '5..1'"));
}

TEST(LoaderErrors, FaultParametersAndTimes) {
  const LoadResult r = load(kHeader +
                            "duration: 1m\nfaults:\n"                                    // 3-4
                            "  - {at: 1s, pause: engine-1, for: 1s, by: +1s}\n"          // 5
                            "  - {at: 2m, crash: engine-1}\n"                            // 6
                            "  - {at: 1s, crash: engine-1, pause: engine-1, for: 1s}\n"  // 7
                            "  - {at: {phase: backfil}, failover: lock, for: 1s}\n"      // 8
                            "  - {at: 1s, clock_jump: engine-1, by: 20s}\n"              // 9
                            "  - {at: 1s, drop: lock, probability: 2, for: 1s}\n");      // 10
  const ScenarioError by = error_on(r, "faults[0].by");
  EXPECT_EQ(by.line, 5);
  EXPECT_TRUE(has_text(by, "not a parameter of pause (pause takes for)")) << by.message;
  EXPECT_TRUE(has_text(error_on(r, "faults[1].at"), "2m is not before the end of the run (duration 1m)"));
  EXPECT_TRUE(has_text(error_on(r, "faults[2]"), "more than one fault kind"));
  EXPECT_TRUE(has_text(error_on(r, "faults[3].at.phase"), "did you mean 'backfill'?"));
  EXPECT_TRUE(has_text(error_on(r, "faults[3].for"), "failover takes no parameters"));
  EXPECT_TRUE(has_text(error_on(r, "faults[4].by"), "signed duration"));
  EXPECT_TRUE(has_text(error_on(r, "faults[5].probability"), "from 0 to 1"));
}

TEST(LoaderErrors, ExpressionWithUnsupportedSyntax) {
  const LoadResult r = load(kHeader +
                            "table: {columns: {amount: {type: numeric}}}\n"                            // 3
                            "migration:\n"                                                             // 4
                            "  operations:\n"                                                          // 5
                            "    - add_column: {column: c, type: bigint, up: \"amount + now()\"}\n");  // 6
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  const ScenarioError& e = r.errors[0];
  EXPECT_EQ(e.key, "migration.operations[0].add_column.up");
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.message.rfind("unsupported syntax at position 10 ('now')", 0), 0u) << e.message;
}

TEST(LoaderErrors, MigrationColumns) {
  const LoadResult r = load(kHeader +
                            "table: {columns: {amount: {type: numeric}, id: {type: bigint}, note: {type: tex}}}\n"  // 3
                            "migration:\n  operations:\n"                                              // 4-5
                            "    - add_column: {column: amount, type: bigint}\n"                       // 6
                            "    - add_column: {column: cents, type: bigint, up: \"amout * 100\"}\n"   // 7
                            "    - drop_column: {column: amount}\n"                                    // 8
                            "    - alter_column: {column: amount, up: \"amount\"}\n"                   // 9
                            "    - rename_column: {column: missing, to: other}\n"                      // 10
                            "    - create_index: {columns: [amount]}\n"                                // 11
                            "    - add_column: {column: x}\n"                                          // 12
                            "    - {add_column: {column: y, type: text}, drop_column: {column: y}}\n"  // 13
                            "    - alter_colum: {column: amount}\n");                                  // 14
  EXPECT_TRUE(has_text(error_on(r, "table.columns.id"), "reserved"));
  EXPECT_TRUE(has_text(error_on(r, "table.columns.note.type"), "got 'tex'"));
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[0].add_column.column"), "already exists"));
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[1].add_column.up"), "unknown column 'amout'"));
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[3].alter_column.column"), "no column 'amount' at this point"));
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[4].rename_column.column"), "no column 'missing'"));
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[5].create_index.columns[0]"), "no column 'amount'"));
  EXPECT_EQ(error_on(r, "migration.operations[6].add_column.type").line, 12);
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[7]"), "one operation"));
  EXPECT_TRUE(has_text(error_on(r, "migration.operations[8].alter_colum"), "did you mean 'alter_column'?"));
}

TEST(LoaderErrors, ExpressionsSeeEarlierOperations) {
  const LoadResult r = load(kHeader +
                            "table: {columns: {amount: {type: numeric}}}\n"
                            "migration:\n  operations:\n"
                            "    - add_column: {column: cents, type: bigint, up: \"amount * 100\"}\n"
                            "    - rename_column: {column: cents, to: amount_cents}\n"
                            "    - alter_column: {column: amount, down: \"amount_cents / 100\"}\n");
  EXPECT_TRUE(r.ok()) << all_errors(r);
}

TEST(LoaderErrors, RandomFaults) {
  LoadResult r = load(kHeader + "random_faults: {rate: 50/s, kinds: pause, targets: engine-*}\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_DOUBLE_EQ(r.scenario->random_faults->rate_per_s, 50);
  EXPECT_EQ(r.scenario->random_faults->kinds, std::vector<FaultKind>{FaultKind::pause});
  EXPECT_FALSE(r.scenario->random_faults->quiet_after_us.has_value());

  r = load(kHeader +
           "lock: {backend: app-database}\n"
           "random_faults: {rate: 0/s, kinds: [pause, explode], targets: [lock-*, db-*, engine-2], max_duration: 0}\n");
  EXPECT_TRUE(has_text(error_on(r, "random_faults.rate"), "positive rate"));
  EXPECT_TRUE(has_text(error_on(r, "random_faults.kinds[1]"), "got 'explode'"));
  EXPECT_TRUE(has_text(error_on(r, "random_faults.targets[0]"), "matches no node"));
  EXPECT_TRUE(has_text(error_on(r, "random_faults.targets[1]"), "unsupported pattern"));
  EXPECT_TRUE(has_text(error_on(r, "random_faults.targets[2]"), "engine.instances is 1"));
  EXPECT_TRUE(has_text(error_on(r, "random_faults.max_duration"), "positive duration"));

  r = load(kHeader + "random_faults:\n");
  EXPECT_TRUE(has_text(error_on(r, "random_faults.rate"), "required"));

  r = load(kHeader + "random_faults: {rate: 1/s}\n");
  EXPECT_TRUE(has_text(error_on(r, "random_faults.kinds"), "required"));
  EXPECT_TRUE(has_text(error_on(r, "random_faults.targets"), "required"));
}

TEST(LoaderErrors, Expect) {
  LoadResult r = load(kHeader + "expect: {verdict: pass, within_seeds: 5}\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.scenario->expect.within_seeds, 5);

  r = load(kHeader + "expect: {verdict: fail, invariants: [mutual-exclusion], within_seeds: 0}\n");
  EXPECT_TRUE(has_text(error_on(r, "expect.verdict"), "expected one of pass, violation, got 'fail'"));
  EXPECT_TRUE(has_text(error_on(r, "expect.within_seeds"), "from 1 to"));

  r = load(kHeader + "expect: {verdict: violation, invariants: [mutual-exclusoin, liveness]}\n");
  EXPECT_TRUE(has_text(error_on(r, "expect.invariants[0]"), "did you mean 'mutual-exclusion'?"));
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);

  r = load(kHeader + "expect: {verdict: pass, invariants: [liveness]}\n");
  EXPECT_TRUE(has_text(error_on(r, "expect.invariants"), "only used with verdict: violation"));
}

TEST(LoaderErrors, YamlProblems) {
  LoadResult r = load("name: t\ndescription: d\nengine: {instances: [1\n");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_TRUE(has_text(r.errors[0], "YAML syntax error"));
  EXPECT_GE(r.errors[0].line, 3);

  r = load("");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(has_text(r.errors[0], "empty scenario"));

  r = load("- just\n- a list\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(has_text(r.errors[0], "expected a mapping"));

  r = load(kHeader + "seed: 1\n---\nname: other\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(has_text(r.errors[0], "more than one YAML document"));
  EXPECT_EQ(r.errors[0].line, 5);

  r = load(kHeader + "seed: 1\ndescription2: \xff\xfe\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(has_text(r.errors[0], "UTF-8"));
  EXPECT_EQ(r.errors[0].line, 4);
}

// Mangles the complete scenario line by line and byte by byte: the loader must never crash or
// throw, and must report at least one error whenever it does not return a scenario.
TEST(LoaderErrors, NeverCrashesOnMangledInput) {
  std::vector<std::string> lines;
  std::istringstream in(kFull);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // Each line gets one of the first three and one of the rest, in turn, so that every kind of
  // mangling meets many kinds of key.
  const std::vector<std::string> replacements = {"[]",  "~",        "x",       "",        "{}",
                                                 "- x", "? [a]: b", "&a [*a]", "{a: *a}", "\"\\u00e9\""};
  int loads = 0;
  auto check = [&](const std::string& text) {
    const LoadResult r = load_scenario_text(text, "fuzz.yaml");
    EXPECT_TRUE(r.scenario.has_value() != !r.errors.empty()) << text;
    ++loads;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto colon = lines[i].find(':');
    for (const std::size_t k : {i % 3, 3 + i % (replacements.size() - 3)}) {
      std::string text;
      for (std::size_t j = 0; j < lines.size(); ++j) {
        if (j != i)
          text += lines[j] + "\n";
        else if (colon != std::string::npos)
          text += lines[j].substr(0, colon + 1) + " " + replacements[k] + "\n";
        else
          text += replacements[k] + "\n";
      }
      check(text);
    }
  }
  for (std::size_t cut = 0; cut < kFull.size(); cut += 41) check(kFull.substr(0, cut));
  std::uint64_t state = 42;
  for (int i = 0; i < 60; ++i) {
    std::string text = kFull;
    for (int k = 0; k < 3; ++k) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const std::string_view alphabet = "{}[],:-&*!|>'\"%@`#\n \t0a.";
      text[(state >> 33) % text.size()] = alphabet[(state >> 20) % alphabet.size()];
    }
    check(text);
  }
  check("a: &x [*x]\n");
  check("name: &n {a: *n}\ndescription: *n\nengine: *n\ntopology: *n\nfaults: [*n, *n]\n");
  check(std::string(5000, '[') + std::string(5000, ']'));
  check(std::string("name: t\0\ndescription: d\n", 24));
  EXPECT_GT(loads, 300);
}

// -- files and built-ins ----------------------------------------------------------------------

TEST(LoaderFiles, LoadFileAndResolve) {
  const auto path =
      std::filesystem::temp_directory_path() / ("rehearse_loader_test_" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << kHeader << "sede: 1\n";
  }
  LoadResult r = load_scenario_file(path.string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, path.string());
  EXPECT_EQ(r.errors[0].line, 3);
  r = resolve_scenario(path.string());
  EXPECT_EQ(r.errors.size(), 1u);
  std::filesystem::remove(path);

  r = load_scenario_file(path.string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_TRUE(has_text(r.errors[0], "cannot read"));

  r = resolve_scenario("no-such-scenario-anywhere");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "no-such-scenario-anywhere: no such file or built-in scenario 'no-such-scenario-anywhere' "
            "(rehearse list shows the built-ins)");
}

TEST(LoaderFiles, EveryBuiltinIsListedAndLoads) {
  const auto list = list_builtin_scenarios();
  EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
  for (const auto& [name, summary] : list) {
    const LoadResult r = resolve_scenario(name);
    ASSERT_TRUE(r.ok()) << name << ":\n" << all_errors(r);
    EXPECT_EQ(r.scenario->name, name);
    EXPECT_EQ(r.scenario->source_path, "builtin:" + name);
    EXPECT_FALSE(summary.empty()) << name;
    EXPECT_EQ(summary.find('\n'), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace rehearse

// resolve_scenario finds a built-in by its file stem without parsing every built-in, and names
// its source "builtin:<stem>": right only while every built-in's own name is its stem.
TEST(LoaderBuiltins, EveryBuiltinIsNamedAsItsFile) {
  for (const auto& builtin : rehearse::builtin_scenario_texts()) {
    const rehearse::LoadResult loaded = rehearse::load_scenario_text(builtin.text, "builtin:" + builtin.file_stem);
    ASSERT_TRUE(loaded.ok()) << builtin.file_stem;
    EXPECT_EQ(loaded.scenario->name, builtin.file_stem);
  }
}
