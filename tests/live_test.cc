// Live integration tests: scripts/live-up starts PostgreSQL (two regions, one streaming
// replica), three Redis servers, a three-member etcd cluster and a three-member ZooKeeper ensemble on loopback; the migration runs for real, each engine instance a child
// process, under application traffic and real faults (signals, a stopped lock server, paused
// WAL replay, a session holding a table lock, partitions and delays at fault-injecting TCP
// proxies), and is judged by the invariant checkers and,
// independently, by the test's own SQL. Skipped with a message when the servers cannot be
// started here (packages missing). REHEARSE_LIVE_ROWS overrides the row count (100000 for
// acceptance 1); REHEARSE_LIVE_KILL_TRIALS the SIGKILL trials (10). REHEARSE_LIVE_RUNNING=1 uses
// the servers live-up already started and leaves them running (neither live-down nor live-up):
// for a test that needs only them, e.g. --gtest_filter=LiveTest.StatementLocksMatchPgLocks.
// The servers' directory and ports are this checkout's (tests/live_ports.h: $REHEARSE_LIVE_DIR and
// $REHEARSE_LIVE_PORT_BASE when set, else derived from the checkout's path), so two checkouts run
// the suite side by side (docs/live.md, Ports); every port is read from the directory's ports.env.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <functional>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli/live.h"
#include "core/conformance.h"
#include "core/plan.h"
#include "core/topology.h"
#include "scenarios/costs.h"
#include "real_backends/live_lock.h"
#include "real_backends/live_network.h"
#include "real_backends/live_runner.h"
#include "real_backends/lock_members.h"
#include "real_backends/postgres.h"
#include "real_backends/redis_node.h"
#include "real_backends/tcp_proxy.h"
#include "scenarios/live_config.h"
#include "scenarios/loader.h"
#include "sim/world.h"

#include "tests/crash_sweep.h"
#include "tests/live_ports.h"
#include "tests/statement_locks_live.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

// The servers' directory and ports of this checkout (tests/live_ports.h).
const std::string& kLiveDir = testing::live_dir();
// The primaries (us-east-1, eu-west-1) and every server (the replica second), read from the
// directory's ports.env each time: live-up writes it when the suite starts.
std::vector<std::string> primaries() { return {testing::live_pg_dsn("PG_US_EAST_1"), testing::live_pg_dsn("PG_EU_WEST_1")}; }
std::vector<std::string> all_servers() {
  return {testing::live_pg_dsn("PG_US_EAST_1"), testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1"), testing::live_pg_dsn("PG_EU_WEST_1")};
}
std::vector<std::string> redis_endpoints() {
  return {testing::live_endpoint("REDIS_1"), testing::live_endpoint("REDIS_2"), testing::live_endpoint("REDIS_3")};
}
std::vector<std::string> zookeeper_members() {
  return {testing::live_endpoint("ZK_CLIENT_1"), testing::live_endpoint("ZK_CLIENT_2"), testing::live_endpoint("ZK_CLIENT_3")};
}

std::string run_command(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return "";
  }
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  *status = pclose(pipe);
  return output;
}

std::string run_script(const std::string& name, int* status) {
  return run_command(testing::live_script_env() + REHEARSE_SOURCE_DIR + "/scripts/" + name, status);
}

// One SQL scalar, read by the test's own session (not the engine's code).
std::string scalar(const std::string& connection_string, const std::string& sql) {
  pqxx::connection connection(connection_string);
  pqxx::read_transaction tx(connection);
  const pqxx::row row = tx.exec1(sql);
  return row[0].is_null() ? "NULL" : row[0].c_str();
}

// One statement that returns nothing (DDL), on the test's own session.
void execute(const std::string& connection_string, const std::string& sql) {
  pqxx::connection connection(connection_string);
  pqxx::nontransaction(connection).exec(sql);
}

std::int64_t env_or(const char* name, std::int64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::atoll(text) : fallback;
}

class LiveTest : public ::testing::Test {
 protected:
  static bool use_running() { return env_or("REHEARSE_LIVE_RUNNING", 0) != 0; }

  static void SetUpTestSuite() {
    if (use_running()) return;
    int status = 0;
    std::string output = run_script("live-down", &status);
    output = run_script("live-up", &status);
    if (status != 0) skip_reason_ = new std::string("scripts/live-up could not start the servers: " + output);
  }
  static void TearDownTestSuite() {
    int status = 0;
    if (!use_running()) run_script("live-down", &status);
    delete skip_reason_;
    skip_reason_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) GTEST_SKIP() << *skip_reason_;
  }

  // The written config, with a table and migration of its own per test (the servers are shared).
  // `file` picks the lock backend: live.yaml (redis), live-redlock.yaml or live-etcd.yaml.
  // A fault-free migration of `table` under traffic with the config's lock backend.
  void expect_migrates(LiveConfig live_config, const std::string& table);
  // The holder cut off from the lock past its TTL under storage fencing: a takeover, data intact.
  // `lock_node` is the backend the cut link leads to: lock-1, or db:us-east-1 for app-database.
  void expect_partitioned_holder_fenced_off(const std::string& table, const std::string& file, const std::string& lock_node = "lock-1");
  // The lock holder paused past its lease (paused_holder_config) on `table` with the lock backend
  // of `file`: with fencing: storage the other engine takes over, the stale writes are rejected
  // and nothing is lost; with fencing: none the stale write is a mutual-exclusion violation.
  void expect_paused_holder(const std::string& file, const std::string& table, Fencing fencing);
  // live-up's replica cut from the us-east-1 primary during the backfill; the backfill throttles.
  void expect_cut_replica_throttles(LiveConfig live_config, const std::string& table, const std::string& replica_node);
  static LiveConfig config(const std::string& table, const std::string& file = "live.yaml") {
    LiveConfigResult loaded = load_live_config_file(std::string(kLiveDir) + "/" + file);
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
    LiveConfig config = *loaded.config;
    config.scenario.table.rows = env_or("REHEARSE_LIVE_ROWS", config.scenario.table.rows);
    config.scenario.table.name = table;
    config.scenario.migration.name = table + "_to_cents";
    return config;
  }

  static live::LiveSetup setup_of(const LiveConfig& config) {
    live::LiveSetup setup{config.scenario, {}, config.lock_endpoints};
    for (const auto& region : config.regions) setup.regions.push_back(live::RegionEndpoints{region.name, region.primary, region.replicas});
    return setup;
  }

  static Result<RunResult> run(const LiveConfig& config, Observations* observations = nullptr) {
    Result<MigrationPlan> plan = compile_plan(config.scenario);
    EXPECT_TRUE(plan.is_ok()) << plan.status().to_string();
    live::LiveOptions options = cli::live_run_options(REHEARSE_BINARY);
    options.prepare = true;
    options.observations = observations;
    return live::run_live(setup_of(config), plan.value(), options);
  }

  // Independent SQL: every row's new column equals the expression over the old one, on both
  // primaries and the replica, and the table is not empty.
  static void expect_cents_match(const std::string& table) {
    for (const std::string& server : all_servers()) {
      EXPECT_EQ(scalar(server, "SELECT count(*) FROM " + table + " WHERE amount_cents IS DISTINCT FROM round(amount * 100)::bigint"), "0")
          << server;
      EXPECT_NE(scalar(server, "SELECT count(*) FROM " + table), "0") << server;
    }
  }

  // Independent SQL: every acknowledged application write is in its primary, with the amount
  // it wrote (a later acknowledged write to the same row supersedes it, another region's in a
  // global topology too).
  static void expect_acknowledged_present(const std::string& table, const Observations& observations) {
    std::map<std::pair<std::string, std::int64_t>, const AcknowledgedWrite*> latest;  // (primary's region, row)
    for (const AcknowledgedWrite& write : observations.acknowledged) {
      const AcknowledgedWrite*& slot = latest[{write.region, write.row_id}];
      if (slot == nullptr || write.order > slot->order) slot = &write;
    }
    std::map<std::string, std::string> values_by_region;
    std::map<std::string, int> count_by_region;
    for (const auto& [key, latest_write] : latest) {
      const AcknowledgedWrite& write = *latest_write;
      auto amount = write.values.find("amount");
      if (amount == write.values.end() || amount->second.is_null()) continue;
      std::string& values = values_by_region[write.region];
      values += fmt::format("{}({}, {}::numeric)", values.empty() ? "" : ", ", write.row_id, amount->second.to_string());
      ++count_by_region[write.region];
    }
    EXPECT_FALSE(values_by_region.empty()) << "no acknowledged write to check";
    for (const auto& [region, values] : values_by_region) {
      const std::string primary = primaries()[region == "us-east-1" ? 0 : 1];
      const std::string found = scalar(primary, fmt::format("SELECT count(*) FROM (VALUES {}) AS w(id, amount) JOIN {} t "
                                                            "ON t.id = w.id AND t.amount = w.amount", values, table));
      EXPECT_EQ(found, std::to_string(count_by_region[region])) << region << ": an acknowledged write is missing or changed";
    }
  }

  static std::string* skip_reason_;
};

std::string* LiveTest::skip_reason_ = nullptr;

void expect_clean(const RunResult& result) {
  EXPECT_EQ(result.outcome, "completed");
  for (const auto& violation : result.violations) ADD_FAILURE() << violation.invariant << ": " << violation.detail;
  EXPECT_GT(result.stats.app_requests, 0);
}

using testing::count_events;

// Acceptance 1: the written config migrates both regions under traffic; the test's own SQL
// confirms the new column and every acknowledged write.
TEST_F(LiveTest, MigratesTwoRegionsUnderTraffic) {
  const LiveConfig live_config = config("orders");
  Observations observations;
  Result<RunResult> result = run(live_config, &observations);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  // The backfill fills what the dual-write trigger has not: application updates during dual
  // write fill their rows themselves, so a few rows may need no backfill.
  const std::int64_t rows = 2 * live_config.scenario.table.rows;
  EXPECT_GE(result.value().stats.rows_backfilled, rows - result.value().stats.app_requests);
  EXPECT_GT(result.value().stats.rows_backfilled, rows / 2);
  expect_cents_match("orders");
  expect_acknowledged_present("orders", observations);
}

// Two engines; the lock holder is stopped (SIGSTOP) for longer than its TTL at its next write
// during the backfill of us-east-1; the other engine takes over; at SIGCONT the paused
// engine's write goes out with the old token.
LiveConfig paused_holder_config(const LiveConfig& base, Fencing fencing) {
  LiveConfig live_config = base;
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 20000;
  scenario.engine.instances = 2;
  scenario.engine.batch_size = 500;
  scenario.engine.batch_pause_us = 20 * kMs;
  scenario.engine.start_jitter = {0, 0};
  scenario.engine.backoff = Backoff{50 * kMs, 300 * kMs, Jitter::full};
  scenario.lock.ttl_us = 2 * kSec;
  scenario.lock.renew_every_us = 500 * kMs;
  scenario.lock.fencing = fencing;
  FaultSpec pause;
  pause.kind = FaultKind::pause;
  pause.line = 1;
  pause.targets = {"holder"};
  pause.at_phase = PhaseTrigger{"backfill", "us-east-1", 200 * kMs};
  pause.for_us = 5 * kSec;
  scenario.faults = {pause};
  return live_config;
}

void LiveTest::expect_paused_holder(const std::string& file, const std::string& table, Fencing fencing) {
  SCOPED_TRACE(file + " " + table);
  const LiveConfig live_config = paused_holder_config(config(table, file), fencing);
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(count_events(result.value(), EventKind::node_pause), 1);
  EXPECT_EQ(count_events(result.value(), EventKind::node_resume), 1);
  if (fencing == Fencing::storage) {
    expect_clean(result.value());
    EXPECT_GE(result.value().stats.lock_acquisitions, 2);
    EXPECT_GE(result.value().stats.stale_writes_rejected, 1);
    expect_cents_match(table);
    return;
  }
  EXPECT_EQ(result.value().stats.stale_writes_rejected, 0);
  bool mutual_exclusion = false;
  for (const auto& violation : result.value().violations) mutual_exclusion |= violation.invariant == "mutual-exclusion";
  EXPECT_TRUE(mutual_exclusion) << "the stale holder's write after the takeover was not reported";
}

TEST_F(LiveTest, StorageFencingRejectsThePausedHolder) { expect_paused_holder("live.yaml", "payments", Fencing::storage); }

TEST_F(LiveTest, WithoutFencingThePausedHolderViolatesMutualExclusion) { expect_paused_holder("live.yaml", "refunds", Fencing::none); }

// Acceptance 3: SIGKILL of the only engine at random points (a random phase of a random
// region, plus a random delay), restarted; every trial resumes from the checkpoint and
// completes with every row intact.
TEST_F(LiveTest, KilledEngineResumesAndCompletes) {
  const std::int64_t trials = env_or("REHEARSE_LIVE_KILL_TRIALS", 10);
  const char* phases[] = {"expand", "dual_write", "backfill", "validate", "switch_reads", "contract"};
  const char* regions[] = {"us-east-1", "eu-west-1"};
  std::mt19937_64 random(20240605);
  int killed = 0;
  for (std::int64_t trial = 1; trial <= trials; ++trial) {
    const std::string table = fmt::format("kill_{}", trial);
    LiveConfig live_config = config(table);
    Scenario& scenario = live_config.scenario;
    scenario.table.rows = 3000;
    scenario.engine.batch_size = 200;
    scenario.engine.batch_pause_us = 5 * kMs;
    scenario.engine.backoff = Backoff{50 * kMs, 200 * kMs, Jitter::full};
    scenario.engine.health_gate.soak_us = 200 * kMs;
    scenario.lock.ttl_us = 1 * kSec;
    scenario.lock.renew_every_us = 300 * kMs;
    FaultSpec crash;
    crash.kind = FaultKind::crash;
    crash.line = 1;
    crash.targets = {"engine-1"};
    crash.at_phase = PhaseTrigger{phases[random() % 6], regions[random() % 2], static_cast<TimeUs>(random() % (150 * kMs))};
    crash.restart_after_us = 100 * kMs;
    scenario.faults = {crash};
    Observations observations;
    Result<RunResult> result = run(live_config, &observations);
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    SCOPED_TRACE(fmt::format("trial {}: kill at {} of {} + {} ms", trial, crash.at_phase->phase, crash.at_phase->region,
                             crash.at_phase->after_us / kMs));
    expect_clean(result.value());
    killed += count_events(result.value(), EventKind::node_crash);
    EXPECT_EQ(count_events(result.value(), EventKind::node_crash), count_events(result.value(), EventKind::node_restart));
    expect_cents_match(table);
    expect_acknowledged_present(table, observations);
    EXPECT_GE(std::stoll(scalar(primaries()[0], "SELECT count(*) FROM " + table)), 3000);
  }
  EXPECT_GE(killed, trials * 2 / 3) << "too few kills landed while the engine was running";
}

// The other live faults: WAL replay paused on the replica during the backfill, a session
// holding ACCESS SHARE on eu-west-1's table over its expand (DDL waits, lock_timeout, retries),
// and the Redis server stopped and started during validation. The migration still completes.
TEST_F(LiveTest, SurvivesReplayPauseLongTransactionAndLockServerRestart) {
  LiveConfig live_config = config("invoices");
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 5000;
  scenario.engine.lock_timeout_us = 300 * kMs;
  scenario.engine.max_replication_lag_us = 60 * kSec;
  FaultSpec lag;
  lag.kind = FaultKind::replication_lag;
  lag.line = 1;
  lag.targets = {"us-east-1"};
  lag.at_phase = PhaseTrigger{"backfill", "us-east-1", 0};
  lag.for_us = 2 * kSec;
  FaultSpec hold;
  hold.kind = FaultKind::long_transaction;
  hold.line = 2;
  hold.targets = {"db:eu-west-1"};
  hold.at_us = 0;
  hold.for_us = 4 * kSec;
  FaultSpec lock_crash;
  lock_crash.kind = FaultKind::crash;
  lock_crash.line = 3;
  lock_crash.targets = {"lock-1"};
  lock_crash.at_phase = PhaseTrigger{"validate", "us-east-1", 0};
  lock_crash.restart_after_us = 1 * kSec;
  scenario.faults = {lag, hold, lock_crash};
  // The replay pause can land between the WAL records of the dual-write transaction's ACCESS
  // EXCLUSIVE lock (DROP/CREATE TRIGGER) and its commit: the replica then holds that lock for the
  // whole pause and its reads wait about 2 s (seen once in three runs). A real effect of pausing
  // replay, not a failure of the migration: the stall limit here is above the pause.
  scenario.slo.max_stall_us = 5 * kSec;
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  std::string not_fired;
  for (const auto& fault : result.value().faults_not_fired) not_fired += fault.fault + " (" + fault.at + "): " + fault.why + "; ";
  EXPECT_EQ(count_events(result.value(), EventKind::fault_start), 3) << not_fired;
  EXPECT_EQ(count_events(result.value(), EventKind::fault_end), 3);
  EXPECT_EQ(result.value().stats.faults_injected, 3);
  expect_cents_match("invoices");
}

// Network faults through the fault-injecting proxies (real_backends/live_network.h). Two
// engines; during the backfill of us-east-1 the lock holder is partitioned from the lock for
// longer than the TTL: its renewals are held at its proxy, the lease expires in Redis, the
// other engine takes the lock, and with storage fencing nothing the cut-off holder does after
// that reaches the table. The migration completes with every row intact. With ZooKeeper the
// holder is cut from every member: its library goes Disconnected (renewals answer timeout),
// the ensemble expires its session and deletes its znode, the waiting engine's watch fires.
void LiveTest::expect_partitioned_holder_fenced_off(const std::string& table, const std::string& file, const std::string& lock_node) {
  LiveConfig live_config = paused_holder_config(config(table, file), Fencing::storage);
  FaultSpec partition;
  partition.kind = FaultKind::partition;
  partition.line = 1;
  partition.targets = {"holder"};
  partition.from = {"lock"};
  partition.at_phase = PhaseTrigger{"backfill", "us-east-1", 200 * kMs};
  partition.for_us = 5 * kSec;  // the TTL is 2 s
  live_config.scenario.faults = {partition};
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_EQ(count_events(result.value(), EventKind::fault_start), 1);
  EXPECT_EQ(count_events(result.value(), EventKind::fault_end), 1);
  // The fault names the holder and its cut link; the other engine acquires while it lasts.
  std::string holder;
  TimeUs cut_from = -1, cut_until = -1;
  bool taken_over = false;
  for (const Event& event : result.value().history.events()) {
    if (event.kind == EventKind::fault_start) {
      cut_from = event.time_us;
      const std::size_t at = event.detail.find("[holder = ");
      if (at != std::string::npos) holder = event.detail.substr(at + 10, event.detail.find(']', at) - at - 10);
      EXPECT_NE(event.detail.find(holder + "<->" + lock_node), std::string::npos) << event.detail;
    }
    if (event.kind == EventKind::fault_end) cut_until = event.time_us;
    taken_over |= event.kind == EventKind::lock_acquire && event.outcome == Outcome::ok && cut_from >= 0 && cut_until < 0 &&
                  !holder.empty() && event.node != holder;
  }
  EXPECT_FALSE(holder.empty()) << "the partition did not name the holder";
  EXPECT_TRUE(taken_over) << "no other engine took the lock while " << holder << " was cut off from it";
  expect_cents_match(table);
}

// Connections through a partition fail within a bound instead of hanging until the heal
// (issue 16): an engine statement whose bytes the proxy holds fails as a timeout once its reply
// timeout passed (the simulated client's statement_timeout + 5 s, here shortened to 1 s), and the
// same database object works again after the heal; the application's requests cut from their
// primary for longer than the client timeout fail at that timeout, as the simulated
// application's do, instead of completing late with a 12 s stall.
TEST_F(LiveTest, StatementsThroughAPartitionFailWithinTheirReplyTimeout) {
  LiveConfig live_config = config("reply_deadline");
  live_config.scenario.table.rows = 2000;
  for (const std::string& server : primaries()) {  // servers kept from an earlier run (REHEARSE_LIVE_RUNNING)
    pqxx::connection connection(server);
    pqxx::work tx(connection);
    tx.exec("DROP TABLE IF EXISTS reply_deadline");
    if (!tx.exec1("SELECT to_regclass('rehearse_checkpoint')")[0].is_null()) {
      tx.exec("DELETE FROM rehearse_checkpoint WHERE migration = 'reply_deadline_to_cents'");
    }
    tx.commit();
  }
  const std::string primary = primaries()[0];
  const auto endpoint = live::conninfo_endpoint(primary);
  ASSERT_TRUE(endpoint.is_ok()) << endpoint.status().to_string();
  auto proxy = live::TcpProxy::start("db:us-east-1", endpoint.value().first, endpoint.value().second, 1);
  ASSERT_TRUE(proxy.is_ok()) << proxy.status().to_string();
  const auto through = live::conninfo_with_endpoint(primary, "127.0.0.1", proxy.value()->port());
  ASSERT_TRUE(through.is_ok());
  const MigrationPlan plan = compile_plan(live_config.scenario).value();
  live::LiveHistory history;
  live::StopSignal never;
  live::PostgresRegionDatabase database(live::RegionEndpoints{"us-east-1", through.value(), {}}, "engine-1", plan, history,
                                        never, 1 * kSec);
  ASSERT_TRUE(database.replication_lag().is_ok());  // connected through the proxy
  proxy.value()->cut(live::ProxyDirection::both);
  const auto started = std::chrono::steady_clock::now();
  const Result<TimeUs> held = database.replication_lag();
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(held.status().is_timeout()) << held.status().to_string();
  EXPECT_NE(held.status().message().find("no reply from db:us-east-1 within 1s"), std::string::npos) << held.status().message();
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(5));
  proxy.value()->heal();
  EXPECT_TRUE(database.replication_lag().is_ok());  // a new connection after the heal

  // The application of eu-west-1 cut from its primary for 12 s, longer than its 10 s client
  // timeout, while the engine works through us-east-1 (20 batches 600 ms apart).
  live_config.scenario.engine.batch_size = 100;
  live_config.scenario.engine.batch_pause_us = 600 * kMs;
  FaultSpec partition;
  partition.kind = FaultKind::partition;
  partition.targets = {"app:eu-west-1"};
  partition.from = {"db:eu-west-1"};
  partition.at_us = 500 * kMs;
  partition.for_us = 12 * kSec;
  live_config.scenario.faults = {partition};
  live_config.scenario.engine.start_jitter = {0, 0};
  Observations observations;
  const Result<RunResult> result = run(live_config, &observations);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result.value().outcome, "completed");
  EXPECT_GT(result.value().stats.app_errors, 0);
  EXPECT_LE(result.value().stats.max_stall_us, 10 * kSec + 500 * kMs);
  bool no_reply = false;
  for (const RequestIncident& incident : observations.slow_requests) {
    if (incident.failed && incident.what.find("no reply within the client timeout") != std::string::npos) no_reply = true;
  }
  EXPECT_TRUE(no_reply) << "no request failed at the client timeout";
}

TEST_F(LiveTest, HolderPartitionedFromTheLockIsFencedOff) { expect_partitioned_holder_fenced_off("shipments", "live.yaml"); }

TEST_F(LiveTest, ZooKeeperHolderPartitionedFromTheEnsembleIsFencedOff) {
  expect_partitioned_holder_fenced_off("zk_shipments", "live-zookeeper.yaml");
}

// app-database: `lock` is the lock region's primary, so the holder is cut off from the database
// it migrates as well as from its lock row; the other engine takes over once the row expires.
TEST_F(LiveTest, AppDatabaseHolderPartitionedFromTheLockIsFencedOff) {
  expect_partitioned_holder_fenced_off("appdb_shipments", "live-app-database.yaml", "db:us-east-1");
}

// An engine whose every link is slowed by 150 ms each way for 3 s during the backfill (lock
// renewals included): the run still completes, clean.
TEST_F(LiveTest, DelayedEngineCompletes) {
  LiveConfig live_config = config("parcels");
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 5000;
  scenario.engine.batch_size = 500;
  FaultSpec delay;
  delay.kind = FaultKind::delay;
  delay.line = 1;
  delay.targets = {"engine-1"};
  delay.at_phase = PhaseTrigger{"backfill", "us-east-1", 0};
  delay.extra_us = 150 * kMs;
  delay.for_us = 3 * kSec;
  scenario.faults = {delay};
  const auto started = std::chrono::steady_clock::now();
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_EQ(count_events(result.value(), EventKind::fault_start), 1);
  EXPECT_EQ(count_events(result.value(), EventKind::fault_end), 1);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  expect_cents_match("parcels");
}

// Network faults on streaming replication: a primary cut from its own replica and a delay of a
// database that streams to a replica are accepted (the replica's primary_conninfo is pointed at
// a proxy for the run); a replica that is not on this machine cannot be pointed at the runner's
// proxy, so a fault reaching its replication is refused with the fault's line.
TEST_F(LiveTest, NetworkFaultsOnReplicationNeedTheReplicaOnThisMachine) {
  LiveConfig live_config = config("refused_network");
  FaultSpec partition;
  partition.kind = FaultKind::partition;
  partition.line = 4;
  partition.targets = {"db:us-east-1"};
  partition.for_us = 5 * kSec;
  live_config.scenario.faults = {partition};
  Status checked = live::check_supported(setup_of(live_config));
  EXPECT_TRUE(checked.is_ok()) << checked.to_string();

  FaultSpec delay;
  delay.kind = FaultKind::delay;
  delay.line = 5;
  delay.targets = {"us-east-1"};
  delay.extra_us = 100 * kMs;
  delay.for_us = 5 * kSec;
  live_config.scenario.faults = {delay};
  checked = live::check_supported(setup_of(live_config));
  EXPECT_TRUE(checked.is_ok()) << checked.to_string();

  LiveConfig remote = live_config;
  remote.regions[0].replicas = {"host=10.255.255.1 port=5432 dbname=app user=postgres"};
  Status refused = live::check_supported(setup_of(remote));
  EXPECT_TRUE(refused.is_unavailable()) << refused.to_string();
  EXPECT_NE(refused.message().find("line 5"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("db:us-east-1/replica-1 streams from db:us-east-1"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("10.255.255.1"), std::string::npos) << refused.message();
  partition.targets = {"db:us-east-1/replica-1"};
  partition.from = {"db:us-east-1"};
  remote.scenario.faults = {partition};
  refused = live::check_supported(setup_of(remote));
  EXPECT_TRUE(refused.is_unavailable()) << refused.to_string();
  EXPECT_NE(refused.message().find("line 4"), std::string::npos) << refused.message();
  // A fault that does not reach the remote replica's replication is still made real.
  partition.targets = {"eu-west-1"};
  partition.from.clear();
  remote.scenario.faults = {partition};
  EXPECT_TRUE(live::check_supported(setup_of(remote)).is_ok());
}

// What the replica's replication looks like from the replica: its primary_conninfo, the
// original a run keeps beside it, and the WAL receiver's pid and sender port.
struct ReplicationView {
  std::string conninfo;
  std::string stored;
  std::string receiver_pid;
  std::string sender_port;
};
ReplicationView replication_view() {
  const std::string replica = testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1");
  ReplicationView view;
  view.conninfo = scalar(replica, "SHOW primary_conninfo");
  view.stored = scalar(replica, "SELECT coalesce(current_setting('rehearse.primary_conninfo_before', true), '')");
  for (int attempt = 0; attempt < 100; ++attempt) {  // a WAL receiver restarting shows no row for a moment
    view.receiver_pid = scalar(replica, "SELECT coalesce(max(pid)::text, '') FROM pg_stat_wal_receiver WHERE status = 'streaming'");
    view.sender_port = scalar(replica, "SELECT coalesce(max(sender_port)::text, '') FROM pg_stat_wal_receiver WHERE status = 'streaming'");
    if (!view.receiver_pid.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return view;
}

// The backfill throttle notes the engine wrote for `region` (core/engine.cc wait_for_replicas).
std::vector<const Event*> throttle_notes(const History& history, const std::string& region) {
  std::vector<const Event*> notes;
  for (const Event& event : history.events()) {
    if (event.kind == EventKind::message && event.region == region && event.detail.rfind("backfill throttled: replication lag", 0) == 0) {
      notes.push_back(&event);
    }
  }
  return notes;
}

std::map<std::string, std::vector<std::string>> phases_by_region(const History& history);

// Drops `table` and forgets its migration `table`_to_cents on both primaries, so that the test
// runs again on servers kept between runs (REHEARSE_LIVE_RUNNING=1).
void forget_migration(const std::string& table) {
  for (const std::string& primary : primaries()) {
    pqxx::connection connection(primary);
    pqxx::nontransaction tx(connection);
    tx.exec("DROP TABLE IF EXISTS " + tx.quote_name(table));
    for (const char* state : {"rehearse_checkpoint", "rehearse_fence"}) {
      if (tx.exec1(fmt::format("SELECT to_regclass('{}') IS NOT NULL", state))[0].as<bool>()) {
        tx.exec(fmt::format("DELETE FROM {} WHERE migration = {}", state, tx.quote(table + "_to_cents")));
      }
    }
  }
}

// The replication-lag tests' world: a one-row table `lag_probe` on `primary` (dropped at the
// end), the region's database of it and its `replica` (its lag read once), and an application
// committing about 100 times a second from 300 ms before the constructor returns until
// stop_commits().
class LagProbe {
 public:
  LagProbe(std::string primary, const std::string& replica, MigrationPlan plan)
      : primary_(std::move(primary)), plan_(std::move(plan)) {
    execute(primary_, "DROP TABLE IF EXISTS lag_probe");
    execute(primary_, "CREATE TABLE lag_probe (id integer PRIMARY KEY, n integer NOT NULL)");
    execute(primary_, "INSERT INTO lag_probe VALUES (1, 0)");
    database_ = std::make_unique<live::PostgresRegionDatabase>(live::RegionEndpoints{"us-east-1", primary_, {replica}},
                                                                "engine-1", plan_, history_, never_, 5 * kSec);
    const Result<TimeUs> first = database_->replication_lag();  // starts the record of the primary's flushes
    EXPECT_TRUE(first.is_ok()) << first.status().to_string();
    writer_ = std::thread([this] {
      pqxx::connection connection(primary_);
      while (!stop_) {
        pqxx::nontransaction(connection).exec("UPDATE lag_probe SET n = n + 1 WHERE id = 1");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ~LagProbe() {
    stop_commits();
    database_.reset();
    try {
      execute(primary_, "DROP TABLE IF EXISTS lag_probe");
    } catch (const std::exception& error) {
      ADD_FAILURE() << "dropping lag_probe: " << error.what();
    }
  }
  LagProbe(const LagProbe&) = delete;
  LagProbe& operator=(const LagProbe&) = delete;

  live::PostgresRegionDatabase& database() { return *database_; }
  void stop_commits() {
    stop_ = true;
    if (writer_.joinable()) writer_.join();
  }

 private:
  std::string primary_;
  MigrationPlan plan_;
  live::LiveHistory history_;
  live::StopSignal never_;
  std::unique_ptr<live::PostgresRegionDatabase> database_;
  std::atomic<bool> stop_{false};
  std::thread writer_;
};

// The engine's replication lag is the replica's, not pg_stat_replication.replay_lag's last
// measure. replay_lag is re-measured only when the standby replies, and it replies when WAL
// arrives: under a busy primary with asynchronous commit (conform's (e)) that is every WAL
// writer round, each reply carrying the replay position of the WAL before it, so it read about
// wal_writer_delay (200 ms) for a replica milliseconds behind and a backfill throttled below
// that waited seconds. Here the held value is made plain: replay paused under commits (the lag
// grows, both ways of reading it agree), then the commits stop and replay resumes: the replica
// catches up at once, but with no WAL arriving no reply comes and replay_lag holds the paused
// lag for up to wal_receiver_status_interval (10 s). PostgresRegionDatabase records the primary's
// flush positions itself (every 5 ms) and asks the replica its replay position.
TEST_F(LiveTest, ReplicationLagIsTheReplicasNotTheHeldReplayLag) {
  const std::string primary = primaries()[0];
  const std::string replica = testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1");
  LagProbe probe(primary, replica, compile_plan(config("lag_probe").scenario).value());
  live::PostgresRegionDatabase& database = probe.database();
  // A loaded machine may find the replica a replay behind at one reading: asked up to ten times.
  Result<TimeUs> flowing = database.replication_lag();
  for (int poll = 0; poll < 9 && flowing.is_ok() && flowing.value() >= 100 * kMs; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    flowing = database.replication_lag();
  }
  execute(replica, "SELECT pg_wal_replay_pause()");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const Result<TimeUs> paused = database.replication_lag();
  probe.stop_commits();
  execute(replica, "SELECT pg_wal_replay_resume()");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Caught up at once on a quiet machine; a loaded one (CI's full suite) may take longer to
  // replay, so it is asked again for up to 3 s -- still well inside the 10 s replay_lag holds.
  Result<TimeUs> resumed = database.replication_lag();
  for (int poll = 0; poll < 27 && resumed.is_ok() && resumed.value() >= 50 * kMs; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    resumed = database.replication_lag();
  }
  const std::string held = scalar(primary, "SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)::bigint FROM pg_stat_replication");
  ASSERT_TRUE(flowing.is_ok() && paused.is_ok() && resumed.is_ok()) << resumed.status().to_string();
  EXPECT_LT(flowing.value(), 100 * kMs) << "commits flowing, replay running";
  // Timed from the first flush the replica did not replay: with synchronous_commit = off the WAL
  // writer flushes every wal_writer_delay (200 ms), so up to twice that after the pause.
  EXPECT_GE(paused.value(), 350 * kMs) << "800 ms of paused replay under commits";
  EXPECT_LT(resumed.value(), 50 * kMs) << "replay resumed and caught up; pg_stat_replication.replay_lag still said " << held << " ms";
}

// Points a replica's WAL stream at a port nothing listens on until destroyed, then back: its
// WAL sender ends and its pg_stat_replication row goes.
class StreamFromNowhere {
 public:
  explicit StreamFromNowhere(std::string replica) : replica_(std::move(replica)), original_(scalar(replica_, "SHOW primary_conninfo")) {
    set("host=127.0.0.1 port=1 user=postgres connect_timeout=1");
  }
  ~StreamFromNowhere() {
    try {
      set(original_);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "restoring primary_conninfo: " << error.what();
    }
  }
  StreamFromNowhere(const StreamFromNowhere&) = delete;
  StreamFromNowhere& operator=(const StreamFromNowhere&) = delete;

 private:
  void set(const std::string& conninfo) {
    pqxx::connection connection(replica_);
    pqxx::nontransaction(connection).exec("ALTER SYSTEM SET primary_conninfo = " + connection.quote(conninfo));
    pqxx::nontransaction(connection).exec("SELECT pg_reload_conf()");
  }
  std::string replica_;
  std::string original_;
};

// A replica whose WAL sender ended (a cut of the replication link longer than
// wal_sender_timeout, a replica restarting) is missing from pg_stat_replication until it
// reconnects. The engine read only that view there and took the missing row for a replica that
// kept up: lag 0 while it fell behind.
TEST_F(LiveTest, ReplicationLagOfAReplicaWithoutAWalSender) {
  const std::string primary = primaries()[0];
  const std::string replica = testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1");
  LagProbe probe(primary, replica, compile_plan(config("lag_probe").scenario).value());
  live::PostgresRegionDatabase& database = probe.database();
  std::string senders;
  Result<TimeUs> cut = Status::unavailable("not read");
  {
    const StreamFromNowhere nowhere(replica);
    execute(primary, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication");
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    senders = scalar(primary, "SELECT count(*) FROM pg_stat_replication");
    cut = database.replication_lag();
  }
  probe.stop_commits();
  // The replica reconnects and catches up: the lag falls again.
  Result<TimeUs> after = database.replication_lag();
  for (int poll = 0; poll < 150 && after.is_ok() && after.value() >= 50 * kMs; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = database.replication_lag();
  }
  ASSERT_EQ(senders, "0") << "the replica still streamed: nothing tested";
  ASSERT_TRUE(cut.is_ok() && after.is_ok()) << cut.status().to_string() << " " << after.status().to_string();
  EXPECT_GE(cut.value(), 500 * kMs) << "1.2 s without a WAL sender under commits";
  EXPECT_LT(after.value(), 50 * kMs) << "reconnected and caught up";
}

// The engine's schema change commits synchronously whatever the session's synchronous_commit
// (real_backends/postgres.cc, commit_at_once): a standby that replayed the change's ACCESS
// EXCLUSIVE lock holds it, blocking its readers, until the commit's WAL arrives, which with
// asynchronous commit can be a WAL writer round or more later. An event trigger records the
// setting the ADD COLUMN ran under, on a session whose default is off.
TEST_F(LiveTest, EngineDdlCommitsSynchronously) {
  const std::string primary = primaries()[0];
  const auto clean = [&] {
    execute(primary, "DROP EVENT TRIGGER IF EXISTS sync_ddl_note");
    execute(primary, "DROP FUNCTION IF EXISTS sync_ddl_note()");
    execute(primary, "DROP TABLE IF EXISTS sync_ddl, sync_ddl_seen");
  };
  clean();
  execute(primary, "CREATE TABLE sync_ddl (id bigint PRIMARY KEY, amount numeric NOT NULL, status text)");
  execute(primary, "CREATE TABLE sync_ddl_seen (setting text NOT NULL)");
  // Other tests' DDL on the shared server runs beside it: the trigger notes this table's only
  // and never fails theirs.
  execute(primary, "CREATE FUNCTION sync_ddl_note() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c WHERE c.object_identity = 'public.sync_ddl') THEN "
                   "INSERT INTO sync_ddl_seen VALUES (current_setting('synchronous_commit')); END IF; "
                   "EXCEPTION WHEN others THEN NULL; END $$");
  execute(primary, "CREATE EVENT TRIGGER sync_ddl_note ON ddl_command_end EXECUTE FUNCTION sync_ddl_note()");
  {
    pqxx::connection connection(primary);
    live::bootstrap_schema(connection);
    pqxx::nontransaction(connection).exec("DELETE FROM rehearse_fence WHERE migration = 'sync_ddl_to_cents'");
  }
  const MigrationPlan plan = compile_plan(config("sync_ddl").scenario).value();
  ASSERT_FALSE(plan.expand.empty());
  live::LiveHistory history;
  live::StopSignal never;
  live::PostgresRegionDatabase database(live::RegionEndpoints{"us-east-1", primary + " options='-c synchronous_commit=off'", {}},
                                        "engine-1", plan, history, never, 5 * kSec);
  const Status added = database.execute_ddl(plan.expand.front(), DdlLimits{}, Fence{1, true});
  EXPECT_TRUE(added.is_ok()) << added.to_string();
  EXPECT_EQ(scalar(primary, "SELECT string_agg(setting, ',') FROM sync_ddl_seen"), "on");
  clean();
}

// The engine's key range is min(id) and max(id), read from the primary key's index: it once
// also counted the rows, which nothing used, a scan of the whole table twice a region. The
// table's statistics say how many tuples the call read (polled: a session reports them once
// idle).
TEST_F(LiveTest, KeyRangeReadsTheIndexEndsNotTheTable) {
  const std::string primary = primaries()[0];
  execute(primary, "DROP TABLE IF EXISTS key_range_probe");
  execute(primary, "CREATE TABLE key_range_probe (id bigint PRIMARY KEY, amount numeric NOT NULL)");
  execute(primary, "INSERT INTO key_range_probe SELECT g, g * 0.01 FROM generate_series(1, 20000) g");
  execute(primary, "VACUUM ANALYZE key_range_probe");
  const auto read = [&] {
    pqxx::connection connection(primary);
    pqxx::nontransaction tx(connection);
    tx.exec("SELECT pg_stat_clear_snapshot()");
    const pqxx::row row = tx.exec1(
        "SELECT (SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE relname = 'key_range_probe'), "
        "(SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE relname = 'key_range_probe') + "
        "(SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables WHERE relname = 'key_range_probe')");
    return std::pair{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
  };
  const auto before = read();
  const MigrationPlan plan = compile_plan(config("key_range_probe").scenario).value();
  live::LiveHistory history;
  live::StopSignal never;
  {
    live::PostgresRegionDatabase database(live::RegionEndpoints{"us-east-1", primary, {}}, "engine-1", plan, history, never, 5 * kSec);
    const Result<KeyRange> range = database.key_range("key_range_probe");
    ASSERT_TRUE(range.is_ok()) << range.status().to_string();
    EXPECT_EQ(range.value().min_id, 1);
    EXPECT_EQ(range.value().max_id, 20000);
  }  // its session closes, and reports its statistics
  auto after = read();
  for (int i = 0; i < 150 && after.first == before.first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = read();
  }
  EXPECT_GT(after.first, before.first) << "the key range used no index";
  EXPECT_LE(after.second - before.second, 10) << "the key range read " << after.second - before.second << " tuples";
  execute(primary, "DROP TABLE key_range_probe");
}

// The application's writes queued behind the migration's ADD COLUMN, which itself waits (no
// lock_timeout) for a long transaction, give up at the client timeout: the errors are the
// migration's (its DDL holds the queue), as the simulator counts them, so the availability
// checker sees them. Live requests carry a lock_timeout just under their statement_timeout, so
// PostgreSQL's error names the lock; with the statement timeout alone they were blamed on the
// long_transaction fault in effect and no availability breach was reported (conform's (d)).
TEST_F(LiveTest, WritesQueuedBehindTheDdlFailAsTheMigrations) {
  forget_migration("ddl_queue");
  LiveConfig live_config = config("ddl_queue");
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 2000;
  scenario.engine.lock_timeout_us = 0;
  scenario.engine.health_gate.max_error_rate = 1.0;  // eu-west-1 goes on whatever us-east-1 saw
  scenario.slo.max_stall_us = 30 * kSec;
  scenario.slo.max_error_rate = 0.02;  // the writes of the first ~10 s fail: ~200 of ~1,000 requests
  FaultSpec hold;
  hold.kind = FaultKind::long_transaction;
  hold.line = 1;
  hold.targets = {"db:us-east-1"};
  hold.at_us = 0;
  // 10 s longer than the 10 s client timeout: the writes queued in the DDL's first 10 s time out
  // however late a loaded machine starts the engine (12 s left it 2 s, and CI's full suite, two
  // sanitized tests beside the live ones, sometimes took longer: no write timed out).
  hold.for_us = 20 * kSec;
  scenario.faults = {hold};
  Observations observations;
  Result<RunResult> result = run(live_config, &observations);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result.value().outcome, "completed");
  bool breach = false;
  for (const auto& violation : result.value().violations) {
    EXPECT_EQ(violation.invariant, "availability") << violation.detail;
    breach |= violation.invariant == "availability" && violation.detail.find("us-east-1") != std::string::npos;
  }
  EXPECT_TRUE(breach) << "the writes that timed out in the DDL's lock queue were not counted against the migration";
  EXPECT_GT(observations.errors_by_cause[index_of(Cause::migration)], 0);
  EXPECT_EQ(observations.errors_by_cause[index_of(Cause::fault)], 0);
  expect_cents_match("ddl_queue");
}

// The replica behind `replica_node` (live-up's one replica, of the us-east-1 primary) cut from
// that primary for 4 s during the backfill, with the config `file`: the replica's replication
// runs through the runner's proxy for the run; the cut holds its WAL, its lag grows past
// max_replication_lag and the engine throttles the backfill of us-east-1 inside the cut (the note
// the simulated engine writes too); after the heal the replica catches up, the migration completes
// with the data intact on the primary and the replica, and the replica streams from its primary
// directly again with its own primary_conninfo. The same scenario simulated goes through the same
// phases and throttles too.
void LiveTest::expect_cut_replica_throttles(LiveConfig live_config, const std::string& table, const std::string& replica_node) {
  const ReplicationView before = replication_view();
  ASSERT_FALSE(before.conninfo.empty());
  ASSERT_EQ(before.stored, "");
  ASSERT_EQ(before.sender_port, std::to_string(testing::live_port("PG_US_EAST_1"))) << "the replica does not stream from its primary";
  forget_migration(table);
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 20000;
  scenario.engine.batch_size = 200;
  scenario.engine.max_replication_lag_us = 500 * kMs;
  FaultSpec cut;
  cut.kind = FaultKind::partition;
  cut.line = 1;
  cut.targets = {replica_node};
  cut.from = {"db:us-east-1"};
  cut.at_phase = PhaseTrigger{"backfill", "us-east-1", 0};
  cut.for_us = 4 * kSec;
  scenario.faults = {cut};
  std::ostringstream log;
  Result<MigrationPlan> plan = compile_plan(scenario);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  live::LiveOptions options = cli::live_run_options(REHEARSE_BINARY);
  options.prepare = true;
  options.log = &log;
  Result<RunResult> result = live::run_live(setup_of(live_config), plan.value(), options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_NE(log.str().find(replica_node + " streams from its primary through a proxy"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find(replica_node + " streams from its primary directly again"), std::string::npos) << log.str();
  TimeUs cut_start = -1, cut_end = -1;
  std::string faults_seen;
  for (const Event& event : result.value().history.events()) {
    if (event.kind == EventKind::fault_start && event.detail.find(replica_node + "<->db:us-east-1") != std::string::npos) cut_start = event.time_us;
    if (event.kind == EventKind::fault_end && cut_start >= 0 && cut_end < 0) cut_end = event.time_us;
    if (event.kind == EventKind::fault_start || event.kind == EventKind::fault_end || event.kind == EventKind::fault_skipped) faults_seen += event.detail + "\n";
  }
  ASSERT_GE(cut_start, 0) << "the cut of the replication link was not recorded:\n" << faults_seen << log.str();
  ASSERT_GE(cut_end, cut_start);
  const std::vector<const Event*> throttled = throttle_notes(result.value().history, "us-east-1");
  ASSERT_FALSE(throttled.empty()) << "the backfill was not throttled during the cut";
  EXPECT_TRUE(std::any_of(throttled.begin(), throttled.end(),
                          [&](const Event* note) { return note->time_us >= cut_start && note->time_us <= cut_end + kSec; }))
      << "no throttle inside the cut";
  // The replica caught up: every row converted there too.
  for (const std::string& server : {testing::live_pg_dsn("PG_US_EAST_1"), testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1")}) {
    EXPECT_EQ(scalar(server, "SELECT count(*) FROM " + table + " WHERE amount_cents IS DISTINCT FROM round(amount * 100)::bigint"), "0")
        << server;
  }
  const ReplicationView after = replication_view();
  EXPECT_EQ(after.conninfo, before.conninfo);
  EXPECT_EQ(after.stored, "");
  EXPECT_EQ(after.sender_port, before.sender_port);

  sim::World world(scenario, scenario.seed, plan.value());
  const RunResult simulated = world.run();
  EXPECT_EQ(simulated.outcome, "completed");
  EXPECT_EQ(phases_by_region(result.value().history), phases_by_region(simulated.history));
  EXPECT_FALSE(throttle_notes(simulated.history, "us-east-1").empty()) << "the simulated backfill was not throttled";
}

// Issue 16, acceptance 2: us-east-1's replica cut from its primary.
TEST_F(LiveTest, ReplicaPartitionedFromItsPrimaryThrottlesTheBackfill) {
  expect_cut_replica_throttles(config("replica_cut"), "replica_cut", "db:us-east-1/replica-1");
}

// The global topology live (issue 16; live-global.yaml): the us-east-1 primary is the only writer
// and its streaming replica serves eu-west-1. The engine migrates the home once; both regions'
// applications write to the home primary, eu-west-1's reads its replica; both regions end
// contracted; the replica is judged against the home primary under its own region's node name;
// the eu-west-1 server (a primary of the per-region configs) is never touched; and the simulated
// twin goes through the same phases to the same outcome.
TEST_F(LiveTest, GlobalTopologyMigratesTheHomeOnceAndEveryRegionReadsItsReplica) {
  forget_migration("global_orders");
  LiveConfig live_config = config("global_orders", "live-global.yaml");
  ASSERT_EQ(live_config.scenario.topology.mode, TopologyMode::global);
  ASSERT_EQ(live_config.regions[1].primary, "");
  live_config.scenario.table.rows = 3000;
  Observations observations;
  Result<RunResult> result = run(live_config, &observations);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_EQ(result.value().region_states,
            (std::map<std::string, std::string>{{"eu-west-1", "contracted"}, {"us-east-1", "contracted"}}));
  const auto phases = phases_by_region(result.value().history);
  EXPECT_EQ(phases.size(), 1U);
  EXPECT_EQ(phases.count("us-east-1"), 1U) << "the engine migrates the home region only";
  std::map<std::string, int> requests;  // per region: writes, reads
  for (const RequestLatency& request : observations.request_latencies) ++requests[request.region + (request.write ? " write" : " read")];
  EXPECT_GT(requests["eu-west-1 write"], 0);
  EXPECT_GT(requests["eu-west-1 read"], 0);
  EXPECT_GT(requests["us-east-1 write"], 0);
  for (const AcknowledgedWrite& write : observations.acknowledged) EXPECT_EQ(write.region, "us-east-1") << "every write goes to the home";
  const auto replica = std::find_if(observations.snapshots.begin(), observations.snapshots.end(),
                                    [](const TableSnapshot& snapshot) { return snapshot.node == "db:eu-west-1/replica-1"; });
  ASSERT_NE(replica, observations.snapshots.end()) << "eu-west-1's replica was not snapshotted";
  EXPECT_EQ(replica->region, "us-east-1") << "judged against the home primary";
  expect_acknowledged_present("global_orders", observations);
  for (const std::string& server : {testing::live_pg_dsn("PG_US_EAST_1"), testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1")}) {
    EXPECT_EQ(scalar(server, "SELECT count(*) FROM global_orders WHERE amount_cents IS DISTINCT FROM round(amount * 100)::bigint"), "0")
        << server;
  }
  EXPECT_EQ(scalar(testing::live_pg_dsn("PG_EU_WEST_1"), "SELECT to_regclass('global_orders') IS NULL"), "t");
  if (scalar(testing::live_pg_dsn("PG_EU_WEST_1"), "SELECT to_regclass('rehearse_checkpoint') IS NOT NULL") == "t") {
    EXPECT_EQ(scalar(testing::live_pg_dsn("PG_EU_WEST_1"),
                     "SELECT count(*) FROM rehearse_checkpoint WHERE migration = 'global_orders_to_cents'"),
              "0");
  }

  Result<MigrationPlan> plan = compile_plan(live_config.scenario);
  ASSERT_TRUE(plan.is_ok());
  sim::World world(live_config.scenario, live_config.scenario.seed, plan.value());
  const RunResult simulated = world.run();
  EXPECT_EQ(simulated.outcome, result.value().outcome);
  EXPECT_EQ(simulated.region_states, result.value().region_states);
  EXPECT_EQ(phases_by_region(simulated.history), phases);
}

// Issue 16, acceptance 2 in a global topology: eu-west-1's replica (of the home primary, across
// regions) cut from it: the home's backfill throttles, as in the simulated twin.
TEST_F(LiveTest, GlobalTopologyCutReplicaThrottlesTheHomeBackfill) {
  expect_cut_replica_throttles(config("global_cut", "live-global.yaml"), "global_cut", "db:eu-west-1/replica-1");
}

// A run without network faults leaves the replica's replication alone (the same
// primary_conninfo, the same WAL receiver process); and one that finds a replica left pointed at
// a proxy by a killed run (primary_conninfo on a dead port, the original kept beside it) sets it
// back before it starts, whatever its own faults.
TEST_F(LiveTest, ReplicaConninfoUntouchedWithoutNetworkFaultsAndRestoredAfterAKilledRun) {
  const ReplicationView before = replication_view();
  ASSERT_EQ(before.stored, "");
  forget_migration("replica_untouched");
  forget_migration("replica_untouched_again");
  LiveConfig live_config = config("replica_untouched");
  live_config.scenario.table.rows = 2000;
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  const ReplicationView untouched = replication_view();
  EXPECT_EQ(untouched.conninfo, before.conninfo);
  EXPECT_EQ(untouched.stored, "");
  EXPECT_EQ(untouched.receiver_pid, before.receiver_pid) << "the WAL receiver was restarted";

  // What a run killed while the replica streamed through its proxy leaves behind.
  {
    pqxx::connection replica(testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1"));
    pqxx::nontransaction tx(replica);
    tx.exec("SET rehearse.primary_conninfo_before = ''");
    tx.exec("ALTER SYSTEM SET rehearse.primary_conninfo_before = " + tx.quote(before.conninfo));
    tx.exec("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1 user=postgres'");
    tx.exec("SELECT pg_reload_conf()");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(scalar(testing::live_pg_dsn("PG_US_EAST_1_REPLICA_1"), "SHOW primary_conninfo"), "host=127.0.0.1 port=1 user=postgres");
  live_config.scenario.migration.name = "replica_untouched_again_to_cents";
  live_config.scenario.table.name = "replica_untouched_again";
  std::ostringstream log;
  Result<MigrationPlan> plan = compile_plan(live_config.scenario);
  ASSERT_TRUE(plan.is_ok());
  live::LiveOptions options = cli::live_run_options(REHEARSE_BINARY);
  options.prepare = true;
  options.log = &log;
  result = live::run_live(setup_of(live_config), plan.value(), options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_NE(log.str().find("db:us-east-1/replica-1: a killed run had left its primary_conninfo pointed at a proxy; restored it"),
            std::string::npos)
      << log.str();
  const ReplicationView restored = replication_view();
  EXPECT_EQ(restored.conninfo, before.conninfo);
  EXPECT_EQ(restored.stored, "");
  EXPECT_EQ(restored.sender_port, before.sender_port);
}

// A fault that cannot be made real is refused before anything runs (exit code 3 from the CLI),
// and a backend that cannot be reached is named without its password.
TEST_F(LiveTest, RefusesUnrealFaultsAndHidesSecrets) {
  LiveConfig live_config = config("refused");
  FaultSpec jump;
  jump.kind = FaultKind::clock_jump;
  jump.line = 7;
  jump.targets = {"engine-1"};
  live_config.scenario.faults = {jump};
  const Status refused = live::check_supported(setup_of(live_config));
  EXPECT_TRUE(refused.is_unavailable()) << refused.to_string();
  EXPECT_NE(refused.message().find("line 7"), std::string::npos) << refused.message();

  int status = 0;
  std::string text = run_command(fmt::format("sed -e 's/port={} dbname=app user=postgres/port=1 dbname=app user=postgres "
                                             "password=hunter2/' ", testing::live_port("PG_EU_WEST_1")) + kLiveDir + "/live.yaml > " + kLiveDir + "/secret.yaml", &status);
  ASSERT_EQ(status, 0) << text;
  text = run_command(std::string(REHEARSE_BINARY) + " live " + kLiveDir + "/secret.yaml", &status);
  EXPECT_EQ(WEXITSTATUS(status), 3) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("eu-west-1"), std::string::npos) << text;
}

// The Redlock (three masters) and etcd lock backends drive a fault-free migration under
// traffic to completion with every invariant holding; the test's own SQL checks the data.
void LiveTest::expect_migrates(LiveConfig live_config, const std::string& table) {
  live_config.scenario.table.rows = 3000;
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_GE(result.value().stats.lock_acquisitions, 1);
  expect_cents_match(table);
}

TEST_F(LiveTest, MigratesWithRedlockLock) {
  const LiveConfig live_config = config("redlock_orders", "live-redlock.yaml");
  ASSERT_EQ(live_config.scenario.lock.backend, LockBackend::redlock);
  ASSERT_EQ(live_config.lock_endpoints.size(), 3U);
  expect_migrates(live_config, "redlock_orders");
}

TEST_F(LiveTest, MigratesWithEtcdLock) {
  const LiveConfig live_config = config("etcd_orders", "live-etcd.yaml");
  ASSERT_EQ(live_config.scenario.lock.backend, LockBackend::etcd);
  expect_migrates(live_config, "etcd_orders");
}

// The paused holder again, with the other live locks: `holder` is resolved through the lock
// store (the value a majority of Redlock masters hold; etcd's lock key), the lease runs out at
// the store while the holder is stopped, the other engine takes over, and storage fencing
// rejects the stale holder's write at SIGCONT. The Redlock run also stops master 2 (and starts
// it again) during validation: two of three masters keep the quorum.
TEST_F(LiveTest, RedlockPausedHolderIsFencedAndSurvivesAMasterCrash) {
  LiveConfig live_config = paused_holder_config(config("rl_payments", "live-redlock.yaml"), Fencing::storage);
  FaultSpec master_crash;
  master_crash.kind = FaultKind::crash;
  master_crash.line = 2;
  master_crash.targets = {"lock-2"};
  master_crash.at_phase = PhaseTrigger{"validate", "us-east-1", 0};
  master_crash.restart_after_us = 1 * kSec;
  live_config.scenario.faults.push_back(master_crash);
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_EQ(count_events(result.value(), EventKind::node_pause), 1);
  EXPECT_EQ(count_events(result.value(), EventKind::node_crash), 1);
  EXPECT_EQ(count_events(result.value(), EventKind::node_restart), 1);
  EXPECT_GE(result.value().stats.lock_acquisitions, 2);
  EXPECT_GE(result.value().stats.stale_writes_rejected, 1);
  expect_cents_match("rl_payments");
}

TEST_F(LiveTest, EtcdPausedHolderIsFenced) { expect_paused_holder("live-etcd.yaml", "etcd_payments", Fencing::storage); }

// Issue 16, acceptance 1: every backend's paused holder without fencing is caught (Redis,
// ZooKeeper and app-database have theirs above and below).
TEST_F(LiveTest, EtcdPausedHolderWithoutFencingViolatesMutualExclusion) {
  expect_paused_holder("live-etcd.yaml", "etcd_refunds", Fencing::none);
}

TEST_F(LiveTest, RedlockPausedHolderWithoutFencingViolatesMutualExclusion) {
  expect_paused_holder("live-redlock.yaml", "rl_refunds", Fencing::none);
}

// The lock service failed over during the backfill, then a consensus lock store's member stopped
// during validation and started again 2 s later: with two of three members up the cluster keeps
// its quorum, the engines' clients move to another member, the migration completes clean. (The
// other order can stop two of three members at once for ZooKeeper, whose failover restarts the
// leader: no quorum until one is back.)
// Afterwards every member serves again and each pid file names the process on its port (so
// scripts/live-down stops the restarted one).
LiveConfig member_faults_config(LiveConfig live_config, const std::string& member) {
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 20000;
  scenario.engine.batch_size = 500;
  scenario.engine.batch_pause_us = 20 * kMs;
  FaultSpec crash;
  crash.kind = FaultKind::crash;
  crash.line = 1;
  crash.targets = {member};
  crash.at_phase = PhaseTrigger{"validate", "us-east-1", 0};
  crash.restart_after_us = 2 * kSec;
  FaultSpec failover;
  failover.kind = FaultKind::failover;
  failover.line = 2;
  failover.targets = {"lock"};
  failover.at_phase = PhaseTrigger{"backfill", "us-east-1", 100 * kMs};
  scenario.faults = {failover, crash};
  return live_config;
}

void expect_member_faults_survived(const RunResult& result, const std::string& member, const std::string& failover_detail) {
  expect_clean(result);
  // The crash fault's own (a ZooKeeper failover also stops and restarts the leader, with a detail).
  EXPECT_EQ(count_events(result, [&](const Event& event) {
              return event.kind == EventKind::node_crash && event.node == member && event.detail.empty();
            }), 1);
  EXPECT_GE(count_events(result, [&](const Event& event) {
              return event.kind == EventKind::node_restart && event.node == member && event.detail.empty();
            }), 1) << member << " was not started again";
  EXPECT_EQ(count_events(result, [&](const Event& event) {
              return event.kind == EventKind::fault_start && event.detail.find(failover_detail) != std::string::npos;
            }), 1) << "no failover recorded with '" << failover_detail << "'";
  for (const Event& event : result.history.events()) {
    if (event.kind == EventKind::fault_start || event.kind == EventKind::fault_skipped || event.kind == EventKind::node_crash ||
        event.kind == EventKind::node_restart) {
      std::printf("%s %s: %s\n", to_string(event.kind), event.node.c_str(), event.detail.c_str());
    }
  }
  EXPECT_EQ(count_events(result, EventKind::fault_skipped), 0);
  EXPECT_GE(result.stats.lock_acquisitions, 1);
}

// Each member's pid file (live-up's) names the process listening on its client port.
void expect_pid_files_current(const std::string& prefix, const std::vector<std::string>& ports) {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    std::ifstream file(fmt::format("{}/{}-{}.pid", kLiveDir, prefix, i + 1));
    pid_t named = 0;
    file >> named;
    EXPECT_EQ(live::pid_listening_on(testing::live_port(ports[i])), named) << prefix << " member " << i + 1;
  }
}

TEST_F(LiveTest, EtcdMemberCrashAndFailoverKeepQuorum) {
  const LiveConfig live_config = member_faults_config(config("etcd_crates", "live-etcd.yaml"), "lock-1");
  ASSERT_EQ(live_config.lock_endpoints.size(), 3U) << "live-up's etcd has three members";
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_member_faults_survived(result.value(), "lock-1", "leadership moved to lock-");
  expect_cents_match("etcd_crates");
  for (const std::string& url : testing::live_etcd_urls()) {
    Result<live::EtcdMemberStatus> status = live::etcd_member_status(url);
    ASSERT_TRUE(status.is_ok()) << url << ": " << status.status().to_string();
    EXPECT_FALSE(status.value().leader_id.empty()) << url << " knows no leader";
  }
  expect_pid_files_current("etcd", {"ETCD_CLIENT", "ETCD_CLIENT_2", "ETCD_CLIENT_3"});
}

// etcd's documented failure (docs/lock-backends.md, "## etcd"): a new leader extends every
// lease to a full TTL plus an election timeout (etcd 3.4: Promote(electionTimeout) when it
// applies its first entry; election timeout 1 s by default), so a lease outlives its TTL across
// a leader change. The holder takes a 2 s lease and stops renewing (as a paused engine does);
// the waiter tries every 100 ms. Without a leader change it gets the lock about one TTL after
// the holder's last renewal; with leadership moved 1 s after it, only after TTL + election
// timeout from the move: about 4 s, twice the TTL.
TEST_F(LiveTest, EtcdLeaseOutlivesItsTtlAcrossALeaderChange) {
  const std::vector<std::string> urls = testing::live_etcd_urls();
  LockSpec lock;
  lock.backend = LockBackend::etcd;
  live::StopSignal stop;
  const std::string key = "rehearse:test:etcd-lease-extension";
  auto holder = live::make_live_lock_client(lock, urls, key, "engine-1:71", stop);
  auto waiter = live::make_live_lock_client(lock, urls, key, "engine-2:72", stop);
  const TimeUs ttl_us = 2 * kSec;
  using Clock = std::chrono::steady_clock;
  // From the holder's grant to the waiter's: the waiter tries every 100 ms until it holds.
  auto wait_for_takeover = [&](bool move_leader, std::string* moved) -> double {
    Result<Lease> held = holder->try_acquire(ttl_us);
    EXPECT_TRUE(held.is_ok()) << held.status().to_string();
    const auto granted = Clock::now();
    EXPECT_EQ(held.value().ttl_us, ttl_us);
    if (move_leader) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      Result<std::string> result = live::etcd_move_leader(urls);
      EXPECT_TRUE(result.is_ok()) << result.status().to_string();
      if (result.is_ok()) *moved = result.value();
    }
    for (;;) {
      Result<Lease> taken = waiter->try_acquire(ttl_us);
      const double waited = std::chrono::duration<double>(Clock::now() - granted).count();
      if (taken.is_ok()) {
        EXPECT_TRUE(waiter->release(taken.value()).is_ok());
        return waited;
      }
      EXPECT_TRUE(taken.status().is_conflict()) << taken.status().to_string();
      if (waited > 15) return waited;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  std::string moved;
  const double steady = wait_for_takeover(false, &moved);
  const double across_leader_change = wait_for_takeover(true, &moved);
  RecordProperty("steady_s", fmt::format("{:.2f}", steady));
  RecordProperty("across_leader_change_s", fmt::format("{:.2f}", across_leader_change));
  std::printf("etcd lease of 2 s, holder stopped renewing: waiter in after %.2f s without a leader change, %.2f s with one 1 s in (%s)\n",
              steady, across_leader_change, moved.c_str());
  // Without a leader change: one TTL (the lessor looks for expired leases every 500 ms), with
  // room for a loaded machine, still below the 3.9 s the leader change takes at least.
  EXPECT_GE(steady, 1.9);
  EXPECT_LT(steady, 3.5);
  // Across it: the new leader's full TTL + election timeout from the move, 1 s after the grant.
  EXPECT_GE(across_leader_change, 1.0 + 2.0 + 1.0 - 0.1) << "the lease did not outlive its TTL by the election timeout";
  EXPECT_LT(across_leader_change, 6.0);
}

// The ZooKeeper lock (a three-member ensemble, a session per engine process whose timeout is
// the TTL) through the same runs: a fault-free migration under traffic, and the holder paused
// (SIGSTOP) past its session timeout at its next write: the ensemble expires the session and
// deletes its znode, the waiting engine's watch fires and it takes the lock; at SIGCONT the
// stale write is rejected by storage fencing, and without fencing it is a mutual-exclusion
// violation.
// The app-database lock (a row in the us-east-1 primary, live-app-database.yaml: no endpoints)
// through the same runs: a fault-free migration under traffic, and the paused holder with and
// without storage fencing.
TEST_F(LiveTest, MigratesWithAppDatabaseLock) {
  const LiveConfig live_config = config("appdb_orders", "live-app-database.yaml");
  ASSERT_EQ(live_config.scenario.lock.backend, LockBackend::app_database);
  ASSERT_TRUE(live_config.lock_endpoints.empty());
  expect_migrates(live_config, "appdb_orders");
  EXPECT_EQ(scalar(primaries()[0], "SELECT count(*) FROM rehearse_lock WHERE key = 'rehearse:lock:appdb_orders_to_cents'"), "1")
      << "the lock row is not in the lock region's primary";
}

TEST_F(LiveTest, AppDatabasePausedHolderIsFenced) {
  expect_paused_holder("live-app-database.yaml", "appdb_payments", Fencing::storage);
}

TEST_F(LiveTest, AppDatabasePausedHolderWithoutFencingViolatesMutualExclusion) {
  expect_paused_holder("live-app-database.yaml", "appdb_refunds", Fencing::none);
}

TEST_F(LiveTest, MigratesWithZooKeeperLock) {
  const LiveConfig live_config = config("zk_orders", "live-zookeeper.yaml");
  ASSERT_EQ(live_config.scenario.lock.backend, LockBackend::zookeeper);
  ASSERT_EQ(live_config.lock_endpoints.size(), 3U);
  expect_migrates(live_config, "zk_orders");
}

TEST_F(LiveTest, ZooKeeperPausedHolderIsFenced) { expect_paused_holder("live-zookeeper.yaml", "zk_payments", Fencing::storage); }

TEST_F(LiveTest, ZooKeeperPausedHolderWithoutFencingViolatesMutualExclusion) {
  expect_paused_holder("live-zookeeper.yaml", "zk_refunds", Fencing::none);
}

// The ZooKeeper ensemble keeps its quorum with a member stopped during the backfill (2 s), and
// through a failover (the leader restarted: the other two elect a new one).
TEST_F(LiveTest, ZooKeeperMemberCrashAndFailoverKeepQuorum) {
  const LiveConfig live_config = member_faults_config(config("zk_crates", "live-zookeeper.yaml"), "lock-2");
  Result<RunResult> result = run(live_config);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_member_faults_survived(result.value(), "lock-2", "was elected leader");
  expect_cents_match("zk_crates");
  int leaders = 0;
  for (const std::string port : {"ZK_CLIENT_1", "ZK_CLIENT_2", "ZK_CLIENT_3"}) {
    Result<std::string> mode = live::zookeeper_mode(testing::live_port(port));
    for (int poll = 0; poll < 100 && !mode.is_ok(); ++poll) {  // a restarted member rejoins
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      mode = live::zookeeper_mode(testing::live_port(port));
    }
    ASSERT_TRUE(mode.is_ok()) << port << ": " << mode.status().to_string();
    leaders += mode.value() == "leader" ? 1 : 0;
  }
  EXPECT_EQ(leaders, 1);
  expect_pid_files_current("zookeeper", {"ZK_CLIENT_1", "ZK_CLIENT_2", "ZK_CLIENT_3"});
}

// The lock contract every live backend keeps, against the live-up servers with two clients:
// grant, contention (the second is refused while the first holds), renew, the holder lookup,
// release lets the other in, expiry after the TTL without renewal (the late renew is refused),
// and a fencing token that grows with every holder.
void expect_lock_contract(LockBackend backend, const std::vector<std::string>& endpoints, const live::LockRowSettings& row = {}) {
  SCOPED_TRACE(to_string(backend));
  const std::string key = fmt::format("rehearse:test:{}", to_string(backend));
  LockSpec lock;
  lock.backend = backend;
  ASSERT_TRUE(live::check_lock_endpoints(backend, endpoints).is_ok());
  ASSERT_TRUE(live::ping_lock_store(backend, endpoints).is_ok());
  live::StopSignal stop;
  auto first = live::make_live_lock_client(lock, endpoints, key, "engine-1:11", stop, row);
  auto second = live::make_live_lock_client(lock, endpoints, key, "engine-2:22", stop, row);
  const TimeUs ttl_us = 2 * kSec;  // etcd's minimum lease

  Result<Lease> held = first->try_acquire(ttl_us);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_GT(held.value().token, 0);
  EXPECT_GT(held.value().ttl_us, 0);
  Result<Lease> refused = second->try_acquire(ttl_us);
  EXPECT_TRUE(refused.status().is_conflict()) << refused.status().to_string();
  Result<std::string> holder = live::current_holder(backend, endpoints, key);
  ASSERT_TRUE(holder.is_ok()) << holder.status().to_string();
  EXPECT_EQ(holder.value(), "engine-1:11");
  EXPECT_TRUE(first->renew(held.value(), ttl_us).is_ok());
  EXPECT_TRUE(second->renew(held.value(), ttl_us).is_conflict()) << "a client that never held the lock renewed it";

  EXPECT_TRUE(first->release(held.value()).is_ok());
  EXPECT_EQ(live::current_holder(backend, endpoints, key).value(), "");
  Result<Lease> next = second->try_acquire(ttl_us);
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_GT(next.value().token, held.value().token);

  // The second holder stops renewing: after its TTL the first gets in, and its late renew fails.
  std::this_thread::sleep_for(std::chrono::microseconds(ttl_us + 1500 * kMs));
  Result<Lease> after_expiry = first->try_acquire(ttl_us);
  ASSERT_TRUE(after_expiry.is_ok()) << after_expiry.status().to_string();
  EXPECT_GT(after_expiry.value().token, next.value().token);
  EXPECT_TRUE(second->renew(next.value(), ttl_us).is_conflict());
  EXPECT_TRUE(first->release(after_expiry.value()).is_ok());
  EXPECT_TRUE(second->release(next.value()).is_ok()) << "releasing a lease that expired is not an error";
}

TEST_F(LiveTest, RedisLockClientKeepsTheLockContract) { expect_lock_contract(LockBackend::redis, {testing::live_endpoint("REDIS_1")}); }

TEST_F(LiveTest, RedlockLockClientKeepsTheLockContract) {
  expect_lock_contract(LockBackend::redlock, redis_endpoints());
}

TEST_F(LiveTest, EtcdLockClientKeepsTheLockContract) { expect_lock_contract(LockBackend::etcd, {testing::live_etcd_url()}); }

// The app-database lock: the lock row in the us-east-1 primary (its "endpoint" is that primary,
// as lock_store_endpoints gives it), each statement in the lock queue of a table of its own.
TEST_F(LiveTest, AppDatabaseLockClientKeepsTheLockContract) {
  const std::string primary = primaries()[0];
  execute(primary, "CREATE TABLE IF NOT EXISTS appdb_contract (id bigint PRIMARY KEY)");
  expect_lock_contract(LockBackend::app_database, {primary}, live::LockRowSettings{"appdb_contract", 5 * kSec});
}

// The app-database lock shares the migrated table's lock queue (docs/lock-backends.md): with a
// long transaction holding ACCESS SHARE on the table and a DDL queued behind it for ACCESS
// EXCLUSIVE, the lock's acquire and renew wait behind the DDL -- the server shows them waiting
// on the DDL's session -- until the long transaction ends; with a statement timeout shorter than
// the wait they answer timeout (the engine keeps believing it holds the lease).
TEST_F(LiveTest, AppDatabaseLockQueuesBehindAWaitingDdl) {
  const std::string primary = primaries()[0];
  const std::string table = "appdb_queue";
  execute(primary, "DROP TABLE IF EXISTS " + table);
  execute(primary, "CREATE TABLE " + table + " (id bigint PRIMARY KEY)");
  const std::string key = "rehearse:test:app-database-queue";
  LockSpec lock;
  lock.backend = LockBackend::app_database;
  live::StopSignal stop;
  auto patient = live::make_live_lock_client(lock, {primary}, key, "engine-1:77", stop, live::LockRowSettings{table, 20 * kSec});
  // The hasty client's statement timeout leaves the test time to see its statement queue (a CI
  // run under load once took longer than 500 ms to look).
  auto hasty = live::make_live_lock_client(lock, {primary}, key, "engine-2:88", stop, live::LockRowSettings{table, 2 * kSec});
  const TimeUs ttl_us = 30 * kSec;
  Result<Lease> lease = patient->try_acquire(ttl_us);  // outside the queue: no wait
  ASSERT_TRUE(lease.is_ok()) << lease.status().to_string();
  ASSERT_TRUE(patient->release(lease.value()).is_ok());

  // Holds the table (ACCESS SHARE) for `hold`, with a DDL queued behind it; `call` runs once the
  // DDL waits. Returns how long `call` took, and checks that the server saw it queue behind the DDL.
  auto behind_ddl = [&](const std::function<Status()>& call, std::chrono::milliseconds hold, Status* answer) {
    pqxx::connection long_session(primary);
    pqxx::work long_transaction(long_session);
    long_transaction.exec("LOCK TABLE " + table + " IN ACCESS SHARE MODE");
    std::thread ddl([&] {
      pqxx::connection session(primary);
      pqxx::work tx(session);
      tx.exec("SET LOCAL lock_timeout = 0");
      tx.exec("ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS note text");
      tx.exec("ALTER TABLE " + table + " DROP COLUMN note");
      tx.commit();
    });
    // One session watches pg_locks (a connection a look would cost a loaded machine ~100 ms).
    pqxx::connection watcher(primary);
    const std::string waiting = "SELECT count(*) FROM pg_locks WHERE relation = '" + table + "'::regclass AND NOT granted AND mode = ";
    auto waiting_for = [&](const std::string& mode) {
      return std::string(pqxx::nontransaction(watcher).exec1(waiting + "'" + mode + "'")[0].c_str());
    };
    for (int poll = 0; poll < 100 && waiting_for("AccessExclusiveLock") != "1"; ++poll) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(waiting_for("AccessExclusiveLock"), "1") << "the DDL is not waiting";
    std::chrono::milliseconds took{0};
    std::atomic<bool> answered{false};
    std::thread caller([&] {
      const auto started = std::chrono::steady_clock::now();
      *answer = call();
      took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      answered = true;
    });
    // The lock statement queues for ACCESS SHARE behind the DDL; its session is blocked by the DDL's.
    std::string queued = "0";
    for (int poll = 0; poll < 100 && queued != "1" && !answered; ++poll) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      queued = waiting_for("AccessShareLock");
    }
    EXPECT_EQ(queued, "1") << "the lock statement did not queue for the table behind the DDL";
    std::this_thread::sleep_for(hold);
    long_transaction.commit();  // the DDL goes, then the lock statement
    caller.join();
    ddl.join();
    return took;
  };

  Status acquired = Status::ok();
  Lease held;
  const auto acquire_wait = behind_ddl(
      [&] {
        Result<Lease> granted = patient->try_acquire(ttl_us);
        if (granted.is_ok()) held = granted.value();
        return granted.status();
      },
      std::chrono::milliseconds(1500), &acquired);
  EXPECT_TRUE(acquired.is_ok()) << acquired.to_string();
  EXPECT_GE(acquire_wait.count(), 1500) << "the acquire did not wait behind the DDL";
  EXPECT_EQ(live::current_holder(LockBackend::app_database, {primary}, key).value(), "engine-1:77");

  Status renewed = Status::ok();
  const auto renew_wait = behind_ddl([&] { return patient->renew(held, ttl_us); }, std::chrono::milliseconds(1500), &renewed);
  EXPECT_TRUE(renewed.is_ok()) << renewed.to_string();
  EXPECT_GE(renew_wait.count(), 1500) << "the renew did not wait behind the DDL";

  // A statement timeout shorter than the wait: the call answers timeout, not conflict.
  Status timed_out = Status::ok();
  const auto timeout_wait = behind_ddl([&] { return hasty->try_acquire(ttl_us).status(); }, std::chrono::milliseconds(4000), &timed_out);
  EXPECT_TRUE(timed_out.is_timeout()) << timed_out.to_string();
  EXPECT_GE(timeout_wait.count(), 1950) << "the statement timeout is 2 s";
  EXPECT_LT(timeout_wait.count(), 4000) << "the statement timeout did not bound the wait";
  EXPECT_TRUE(patient->release(held).is_ok());
}

// The live client of the redis lock with its replica (`lock.replica: true`, endpoints [master,
// replica]) follows a promotion: it holds the lock on lock-1; the replica is promoted (REPLICAOF
// NO ONE) and lock-1 demoted to its replica (it answers READONLY now), as Sentinel would do;
// the client's next requests find the new master by ROLE: the renewal succeeds (the key was
// replicated), a second client is refused, the holder lookup reads the new master, and the next
// token continues the replicated counter. Roles are restored at the end. A client that kept
// sending to the first endpoint gets READONLY and fails this test.
TEST_F(LiveTest, RedisLockClientFollowsThePromotedReplica) {
  const std::string master = testing::live_endpoint("REDIS_1");
  const std::string replica = testing::live_endpoint("REDIS_REPLICA");
  const std::vector<std::string> endpoints{master, replica};
  const std::string key = "rehearse:test:redis-replica";
  LockSpec lock;
  lock.backend = LockBackend::redis;
  lock.replica = true;
  ASSERT_TRUE(live::check_lock_replica(lock, endpoints).is_ok());
  ASSERT_TRUE(live::ping_lock_store(lock.backend, endpoints, true).is_ok());
  const live::RedisEndpoint master_endpoint = live::parse_redis_endpoint(master).value();
  const live::RedisEndpoint replica_endpoint = live::parse_redis_endpoint(replica).value();
  auto command = [](const live::RedisEndpoint& endpoint, const std::vector<std::string>& words) {
    Result<live::RedisValue> answer = live::redis_command_once(endpoint, words);
    EXPECT_TRUE(answer.is_ok()) << answer.status().to_string();
    return answer.is_ok() ? answer.value() : live::RedisValue{};
  };
  auto wait_until = [](const std::function<bool()>& done) {
    for (int poll = 0; poll < 100 && !done(); ++poll) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done();
  };
  ASSERT_EQ(command(replica_endpoint, {"ROLE"}).first, "slave") << "live-up's replica does not follow Redis 1";
  (void)command(master_endpoint, {"DEL", key, key + ":token"});
  live::StopSignal stop;
  auto first = live::make_live_lock_client(lock, endpoints, key, "engine-1:11", stop);
  auto second = live::make_live_lock_client(lock, endpoints, key, "engine-2:22", stop);
  const TimeUs ttl_us = 5 * kSec;
  Result<Lease> held = first->try_acquire(ttl_us);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_EQ(held.value().token, 1);
  ASSERT_TRUE(wait_until([&] { return command(replica_endpoint, {"GET", key + ":token"}).text == "1"; }))
      << "the acquisition did not reach the replica";

  (void)command(replica_endpoint, {"REPLICAOF", "NO", "ONE"});
  (void)command(master_endpoint, {"REPLICAOF", replica_endpoint.host, std::to_string(replica_endpoint.port)});
  const bool demoted = wait_until([&] { return command(master_endpoint, {"ROLE"}).first == "slave"; });
  EXPECT_TRUE(demoted);
  if (demoted) {
    EXPECT_TRUE(first->renew(held.value(), ttl_us).is_ok()) << "the client did not follow the promoted replica";
    EXPECT_TRUE(second->try_acquire(ttl_us).status().is_conflict()) << "the promoted replica lost the replicated key";
    Result<std::string> holder = live::current_holder(lock.backend, endpoints, key, true);
    EXPECT_TRUE(holder.is_ok() && holder.value() == "engine-1:11") << (holder.is_ok() ? holder.value() : holder.status().to_string());
    EXPECT_TRUE(first->release(held.value()).is_ok());
    Result<Lease> next = second->try_acquire(ttl_us);
    EXPECT_TRUE(next.is_ok()) << next.status().to_string();  // no ASSERT: the roles are restored below
    if (next.is_ok()) {
      EXPECT_EQ(next.value().token, 2) << "the promoted replica's counter continues the replicated one";
      EXPECT_TRUE(second->release(next.value()).is_ok());
    }
  }
  // Back to live-up's roles: Redis 1 the master, the replica following it.
  (void)command(master_endpoint, {"REPLICAOF", "NO", "ONE"});
  (void)command(replica_endpoint, {"REPLICAOF", master_endpoint.host, std::to_string(master_endpoint.port)});
  EXPECT_TRUE(wait_until([&] { return command(replica_endpoint, {"ROLE"}).first == "slave"; }));
  (void)command(master_endpoint, {"DEL", key, key + ":token"});
}

// The simulated scenario redis-failover-lost-lock as a live config: the library file's text with
// its topology replaced by this checkout's us-east-1 primary (no replica, as the scenario has
// none) and its lock given live-up's Redis 1 and its replica; a table and migration of its own.
// Without `cut`, the partition that keeps the acquisition from the replica is left out.
LiveConfig failover_live_config(const std::string& table, bool cut) {
  std::ifstream file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/library/redis-failover-lost-lock.yaml");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::size_t topology = text.find("topology:\n");
  const std::size_t lock = text.find("lock: {backend: redis, replica: true,");
  EXPECT_TRUE(topology != std::string::npos && lock != std::string::npos) << "the library scenario changed its shape";
  text.replace(lock, std::string("lock: {backend: redis, replica: true,").size(),
               fmt::format("lock: {{backend: redis, replica: true, endpoints: [\"{}\", \"{}\"],", testing::live_endpoint("REDIS_1"),
                           testing::live_endpoint("REDIS_REPLICA")));
  text.replace(topology, lock - topology, fmt::format("regions:\n  - {{name: us-east-1, primary: \"{}\", replicas: []}}\n",
                                                      testing::live_pg_dsn("PG_US_EAST_1")));
  LiveConfigResult loaded = load_live_config_text(text, "redis-failover-lost-lock-live.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? text : loaded.errors.front().to_string());
  LiveConfig config = *loaded.config;
  config.scenario.table.name = table;
  config.scenario.migration.name = table + "_to_cents";
  // A run of its own even on servers kept running (REHEARSE_LIVE_RUNNING=1): no table, checkpoint,
  // fence row or lock key of an earlier run (live-up restarts a stopped Redis 1 empty, so an old
  // fence row would hold a token the new counter has not reached).
  pqxx::connection connection(testing::live_pg_dsn("PG_US_EAST_1"));
  pqxx::nontransaction(connection).exec(fmt::format(
      "DROP TABLE IF EXISTS {0}; DO $$ BEGIN "
      "IF to_regclass('rehearse_checkpoint') IS NOT NULL THEN DELETE FROM rehearse_checkpoint WHERE migration = '{0}_to_cents'; END IF; "
      "IF to_regclass('rehearse_fence') IS NOT NULL THEN DELETE FROM rehearse_fence WHERE migration = '{0}_to_cents'; END IF; END $$",
      table));
  const std::string lock_key = "rehearse:lock:" + table + "_to_cents";
  (void)live::redis_command_once(live::parse_redis_endpoint(testing::live_endpoint("REDIS_1")).value(), {"DEL", lock_key, lock_key + ":token"});
  if (!cut) std::erase_if(config.scenario.faults, [](const FaultSpec& fault) { return fault.kind == FaultKind::partition; });
  if (cut) {
    // Live, the lost lock is a race the simulator's seed 1 settles one way: the waiting engine
    // must take the promoted master's free key and write before the holder's next renewal is
    // refused there (after which the holder writes no more). With renew_every 3 s and a waiter
    // backing off up to 2 s, a loaded machine sometimes ran the renewal first and the live run
    // saw no violation. The holder renews at 6 s (of the 10 s TTL) and the waiter retries
    // within 0.5 s: the failover, 1 s into the backfill, leaves seconds for the race either way.
    config.scenario.lock.renew_every_us = 6 * kSec;
    config.scenario.engine.backoff.max_us = 500 * kMs;
  }
  return config;
}

// The simulated twin of failover_live_config: the library scenario, seed 1.
RunResult simulated_failover(bool cut) {
  LoadResult loaded = load_scenario_file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/library/redis-failover-lost-lock.yaml");
  EXPECT_TRUE(loaded.ok());
  Scenario scenario = *loaded.scenario;
  if (!cut) std::erase_if(scenario.faults, [](const FaultSpec& fault) { return fault.kind == FaultKind::partition; });
  Result<MigrationPlan> plan = compile_plan(scenario);
  EXPECT_TRUE(plan.is_ok());
  sim::World world(scenario, scenario.seed, plan.value());
  return world.run();
}

std::set<std::string> violated(const RunResult& result) {
  std::set<std::string> names;
  for (const auto& violation : result.violations) names.insert(violation.invariant);
  return names;
}

// The failover's record, as the simulator writes it ("failover of lock: lock-2 promoted: ...").
std::string failover_record(const RunResult& result) {
  for (const Event& event : result.history.events()) {
    if (event.kind == EventKind::fault_start && event.detail.rfind("failover of lock", 0) == 0) return event.detail;
  }
  return "";
}

// Issue 16: the lost lock of redis-failover-lost-lock, live. The replication link is cut from
// the start (the replica re-pointed at a held proxy), so the replica never receives the first
// acquisition; during the backfill the master is stopped and the replica promoted with neither
// key nor counter: the other engine gets the same token, storage fencing (token <= mine) accepts
// both, and the checker reports mutual-exclusion ("handed token 1 to two holders") as the
// simulated twin does; the history records the token going backwards. live-up repairs the pair.
TEST_F(LiveTest, RedisFailoverLosesTheLockAsTheSimulatorShows) {
  const RunResult simulated = simulated_failover(true);
  ASSERT_EQ(violated(simulated), std::set<std::string>{"mutual-exclusion"});
  EXPECT_NE(failover_record(simulated).find("tokens go backwards"), std::string::npos) << failover_record(simulated);

  Result<RunResult> result = run(failover_live_config("failover_lost", true));
  int status = 0;
  const std::string repaired = run_script("live-up", &status);
  EXPECT_EQ(status, 0) << repaired;
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  const RunResult& live_run = result.value();
  const std::string record = failover_record(live_run);
  EXPECT_NE(record.find("lock-2 promoted: the key is free, the token counter is 0 (it was"), std::string::npos) << record;
  EXPECT_NE(record.find("tokens go backwards"), std::string::npos) << record;
  EXPECT_EQ(count_events(live_run, [](const Event& e) { return e.kind == EventKind::node_crash && e.node == "lock-1"; }), 1);
  EXPECT_TRUE(violated(live_run).count("mutual-exclusion") == 1) << "the live run did not report what the simulated twin reports";
  for (const auto& violation : live_run.violations) {
    if (violation.invariant == "mutual-exclusion") {
      EXPECT_NE(violation.detail.find("to two holders"), std::string::npos) << violation.detail;
    }
  }
  EXPECT_EQ(violated(live_run), violated(simulated));
}

// The same failover with the replication link intact: the replica had received the key and the
// counter, so the holder keeps the lock across the promotion (its next renewal, sent to the new
// master, succeeds) and no token repeats: no violation, as the simulated twin says.
TEST_F(LiveTest, RedisFailoverOfAReplicatedLockKeepsItSafe) {
  const RunResult simulated = simulated_failover(false);
  ASSERT_EQ(violated(simulated), std::set<std::string>{});
  EXPECT_EQ(failover_record(simulated).find("tokens go backwards"), std::string::npos) << failover_record(simulated);

  Result<RunResult> result = run(failover_live_config("failover_kept", false));
  int status = 0;
  const std::string repaired = run_script("live-up", &status);
  EXPECT_EQ(status, 0) << repaired;
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  const std::string record = failover_record(result.value());
  EXPECT_NE(record.find("lock-2 promoted: the key is held by engine-"), std::string::npos) << record;
  EXPECT_EQ(record.find("tokens go backwards"), std::string::npos) << record;
  for (const auto& violation : result.value().violations) ADD_FAILURE() << violation.invariant << ": " << violation.detail;
}

// Redlock's quorum: with one of three masters down the lock is still granted (2 of 3), its
// validity is shorter than the TTL (elapsed time and drift); with two down it is refused and
// the one master that granted is released at once (no key left behind to block others).
TEST_F(LiveTest, RedlockNeedsAMajorityAndReleasesAfterAFailedQuorum) {
  const std::vector<std::string> masters{testing::live_endpoint("REDIS_1"), testing::live_endpoint("REDIS_2"), "127.0.0.1:1"};
  LockSpec lock;
  lock.backend = LockBackend::redlock;
  lock.drift_factor = 0.01;
  live::StopSignal stop;
  const std::string key = "rehearse:test:redlock-quorum";
  auto client = live::make_live_lock_client(lock, masters, key, "engine-1:33", stop);
  Result<Lease> held = client->try_acquire(2 * kSec);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_LT(held.value().ttl_us, 2 * kSec - 2 * kMs - 20 * kMs) << "the validity must discount the drift (1% of 2 s + 2 ms)";
  EXPECT_EQ(live::current_holder(LockBackend::redlock, masters, key).value(), "engine-1:33");
  EXPECT_TRUE(client->release(held.value()).is_ok());

  const std::vector<std::string> one_up{testing::live_endpoint("REDIS_1"), "127.0.0.1:2", "127.0.0.1:1"};
  auto lonely = live::make_live_lock_client(lock, one_up, key, "engine-2:44", stop);
  Result<Lease> no_quorum = lonely->try_acquire(2 * kSec);
  EXPECT_FALSE(no_quorum.is_ok());
  EXPECT_TRUE(no_quorum.status().is_unavailable()) << no_quorum.status().to_string();
  int status = 0;
  const std::string left = run_command(fmt::format("redis-cli -h 127.0.0.1 -p {} EXISTS ", testing::live_port("REDIS_1")) + key, &status);
  EXPECT_EQ(left, "0\n") << "the master that granted was not released after the failed quorum";
}

// etcd's client fails over: the first endpoint is closed, the second is the live member.
TEST_F(LiveTest, EtcdLockClientFailsOverToTheNextEndpoint) {
  const std::vector<std::string> endpoints{"http://127.0.0.1:1", testing::live_etcd_url()};
  LockSpec lock;
  lock.backend = LockBackend::etcd;
  live::StopSignal stop;
  auto client = live::make_live_lock_client(lock, endpoints, "rehearse:test:etcd-failover", "engine-1:55", stop);
  Result<Lease> held = client->try_acquire(1 * kSec);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_EQ(held.value().ttl_us, 2 * kSec) << "etcd leases are whole seconds, at least 2";
  EXPECT_TRUE(client->renew(held.value(), 1 * kSec).is_ok());
  EXPECT_TRUE(client->release(held.value()).is_ok());
}

// ZooKeeper's lock contract (the generic one above does not fit it: a client that stops renewing
// keeps its session alive all the same, its library pings; and a refused attempt leaves its
// znode waiting in the queue). Two clients, the second reaching the three members through
// fault-injecting proxies: grant, contention (the second waits, then conflict), renew, the
// holder lookup, release hands the lock to the waiting znode, a growing token; then the second
// is cut off from the ensemble: its renew answers timeout once the library is Disconnected (two
// thirds of the session timeout), the ensemble expires its session and the first takes the lock;
// after the heal the second learns Expired (renew: conflict), and its next attempt opens a new
// session and waits behind the first. Every call through the cut answers within its bound.
TEST_F(LiveTest, ZooKeeperLockClientKeepsTheLockContract) {
  const std::vector<std::string> members = zookeeper_members();
  const std::string key = "rehearse:test:zookeeper";
  LockSpec lock;
  lock.backend = LockBackend::zookeeper;
  ASSERT_TRUE(live::check_lock_endpoints(LockBackend::zookeeper, members).is_ok());
  ASSERT_TRUE(live::ping_lock_store(LockBackend::zookeeper, members).is_ok());
  std::vector<std::unique_ptr<live::TcpProxy>> proxies;
  std::vector<std::string> proxied;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto proxy = live::TcpProxy::start(fmt::format("lock-{}", i + 1), "127.0.0.1", testing::live_port(fmt::format("ZK_CLIENT_{}", i + 1)), 7);
    ASSERT_TRUE(proxy.is_ok()) << proxy.status().to_string();
    proxied.push_back(fmt::format("127.0.0.1:{}", proxy.value()->port()));
    proxies.push_back(std::move(proxy.value()));
  }
  live::StopSignal stop;
  auto first = live::make_live_lock_client(lock, members, key, "engine-1:11", stop);
  auto second = live::make_live_lock_client(lock, proxied, key, "engine-2:22", stop);
  const TimeUs ttl_us = 2 * kSec;  // live-up's ensemble negotiates sessions from 1 s: a 2 s session

  Result<Lease> held = first->try_acquire(ttl_us);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_GT(held.value().token, 0);
  EXPECT_EQ(held.value().ttl_us, 2 * ttl_us / 3) << "the lease ends where the library would be Disconnected";
  Result<Lease> refused = second->try_acquire(ttl_us);
  EXPECT_TRUE(refused.status().is_conflict()) << refused.status().to_string();
  EXPECT_EQ(live::current_holder(LockBackend::zookeeper, members, key).value(), "engine-1:11");
  EXPECT_TRUE(first->renew(held.value(), ttl_us).is_ok());
  EXPECT_TRUE(second->renew(held.value(), ttl_us).is_conflict()) << "a client that never held the lock renewed it";
  EXPECT_TRUE(first->release(held.value()).is_ok());
  EXPECT_EQ(live::current_holder(LockBackend::zookeeper, members, key).value(), "engine-2:22") << "the waiter's znode is next";
  Result<Lease> next = second->try_acquire(ttl_us);
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_GT(next.value().token, held.value().token);
  EXPECT_TRUE(second->renew(next.value(), ttl_us).is_ok());

  for (auto& proxy : proxies) proxy->cut(live::ProxyDirection::both);
  std::this_thread::sleep_for(std::chrono::microseconds(2 * ttl_us / 3 + 300 * kMs));
  const Status disconnected = second->renew(next.value(), ttl_us);
  EXPECT_TRUE(disconnected.is_timeout()) << "Disconnected is not a lost lease: " << disconnected.to_string();
  const auto asked = std::chrono::steady_clock::now();
  Result<Lease> cut_off = second->try_acquire(ttl_us);
  EXPECT_FALSE(cut_off.is_ok());
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(3)) << "a call through the partition hung";
  Result<Lease> after_expiry = Status::timeout("not yet");
  for (int attempt = 0; attempt < 40 && !after_expiry.is_ok(); ++attempt) after_expiry = first->try_acquire(ttl_us);
  ASSERT_TRUE(after_expiry.is_ok()) << "the ensemble did not expire the cut-off session: " << after_expiry.status().to_string();
  EXPECT_GT(after_expiry.value().token, next.value().token);
  EXPECT_EQ(live::current_holder(LockBackend::zookeeper, members, key).value(), "engine-1:11");

  for (auto& proxy : proxies) proxy->heal();
  Status learnt = Status::timeout("not yet");
  for (int attempt = 0; attempt < 100 && !learnt.is_conflict(); ++attempt) {
    learnt = second->renew(next.value(), ttl_us);
    if (!learnt.is_conflict()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(learnt.is_conflict()) << "the expired session was not learnt after the heal: " << learnt.to_string();
  Result<Lease> behind = second->try_acquire(ttl_us);
  EXPECT_TRUE(behind.status().is_conflict()) << behind.status().to_string();
  EXPECT_TRUE(first->release(after_expiry.value()).is_ok());
  EXPECT_TRUE(second->release(next.value()).is_ok()) << "releasing a lease whose session expired is not an error";
  first->close();
  second->close();
  EXPECT_EQ(live::current_holder(LockBackend::zookeeper, members, key).value(), "") << "closed sessions leave no znode";
}

// A ZooKeeper ensemble that cannot be reached answers within the bounds: a closed port.
TEST_F(LiveTest, ZooKeeperUnreachableEnsembleAnswersInTime) {
  LockSpec lock;
  lock.backend = LockBackend::zookeeper;
  live::StopSignal stop;
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_FALSE(live::ping_lock_store(LockBackend::zookeeper, {"127.0.0.1:1"}).is_ok());
  auto client = live::make_live_lock_client(lock, {"127.0.0.1:1"}, "rehearse:test:zookeeper-down", "engine-1:66", stop);
  Result<Lease> refused = client->try_acquire(2 * kSec);
  EXPECT_TRUE(refused.status().is_timeout() || refused.status().is_unavailable()) << refused.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(6));
}

// Lock endpoints are checked per backend before anything runs: the error names the key and the
// expected format; a backend without a live client is refused. An etcd member on this machine
// can crash (lock-N) and fail over; `lock` (every member), a remote member and a redis failover
// are refused.
// A one-way partition of `target` from `from`, as a scenario's line `line` would give it.
FaultSpec oneway_cut(int line, const std::string& target, const std::string& from, TimeUs for_us) {
  FaultSpec cut;
  cut.kind = FaultKind::partition;
  cut.line = line;
  cut.targets = {target};
  cut.from = {from};
  cut.for_us = for_us;
  cut.oneway = true;
  return cut;
}

TEST(LiveLockConfigTest, EndpointsAreCheckedPerBackend) {
  auto supported = [](LockBackend backend, std::vector<std::string> endpoints, std::vector<FaultSpec> faults = {}) {
    Scenario scenario;
    scenario.lock.backend = backend;
    scenario.faults = std::move(faults);
    return live::check_supported(live::LiveSetup{scenario, {}, std::move(endpoints)});
  };
  EXPECT_TRUE(supported(LockBackend::redis, {"127.0.0.1:56379"}).is_ok());
  EXPECT_TRUE(supported(LockBackend::redlock, {"127.0.0.1:56379", "127.0.0.1:56380", "127.0.0.1:56381"}).is_ok());
  EXPECT_TRUE(supported(LockBackend::etcd, {"http://127.0.0.1:52379", "http://localhost:2379"}).is_ok());

  const Status etcd_url_for_redis = supported(LockBackend::redis, {"http://127.0.0.1:52379"});
  EXPECT_EQ(etcd_url_for_redis.code(), Status::Code::invalid);
  EXPECT_NE(etcd_url_for_redis.message().find("lock.endpoints[0]"), std::string::npos) << etcd_url_for_redis.message();
  const Status bare_for_etcd = supported(LockBackend::etcd, {"http://127.0.0.1:52379", "127.0.0.1:52379"});
  EXPECT_EQ(bare_for_etcd.code(), Status::Code::invalid);
  EXPECT_NE(bare_for_etcd.message().find("lock.endpoints[1]"), std::string::npos) << bare_for_etcd.message();
  EXPECT_NE(bare_for_etcd.message().find("http://HOST:PORT"), std::string::npos) << bare_for_etcd.message();
  const Status two_masters = supported(LockBackend::redlock, {"127.0.0.1:56379", "127.0.0.1:56380"});
  EXPECT_EQ(two_masters.code(), Status::Code::invalid);
  EXPECT_NE(two_masters.message().find("at least 3"), std::string::npos) << two_masters.message();
  EXPECT_EQ(supported(LockBackend::redlock, {"127.0.0.1:56379", "127.0.0.1:x", "127.0.0.1:56381"}).code(), Status::Code::invalid);

  FaultSpec crash;
  crash.kind = FaultKind::crash;
  crash.line = 4;
  crash.targets = {"lock-1"};
  const std::vector<std::string> etcd_members{"http://127.0.0.1:52379", "http://127.0.0.1:52381", "http://127.0.0.1:52383"};
  EXPECT_TRUE(supported(LockBackend::etcd, etcd_members, {crash}).is_ok());
  const Status remote_crash = supported(LockBackend::etcd, {"http://etcd-1.example:2379"}, {crash});
  EXPECT_TRUE(remote_crash.is_unavailable()) << remote_crash.to_string();
  EXPECT_NE(remote_crash.message().find("on this machine"), std::string::npos) << remote_crash.message();
  crash.targets = {"lock-4"};
  EXPECT_TRUE(supported(LockBackend::etcd, etcd_members, {crash}).is_unavailable()) << "there is no fourth member";
  crash.targets = {"lock"};
  const Status every_member = supported(LockBackend::etcd, etcd_members, {crash});
  EXPECT_TRUE(every_member.is_unavailable()) << every_member.to_string();
  EXPECT_NE(every_member.message().find("every etcd member"), std::string::npos) << every_member.message();
  crash.targets = {"lock-1"};
  FaultSpec failover;
  failover.kind = FaultKind::failover;
  failover.line = 5;
  failover.targets = {"lock"};
  EXPECT_TRUE(supported(LockBackend::etcd, etcd_members, {failover}).is_ok());
  failover.targets = {"lock-3"};
  EXPECT_TRUE(supported(LockBackend::etcd, etcd_members, {failover}).is_ok());
  failover.targets = {"engine-1"};
  EXPECT_TRUE(supported(LockBackend::etcd, etcd_members, {failover}).is_unavailable()) << "failover applies to the lock service";
  failover.targets = {"lock"};
  EXPECT_TRUE(supported(LockBackend::redlock, {"127.0.0.1:56379", "127.0.0.1:56380", "127.0.0.1:56381"}, {failover}).is_unavailable());
  EXPECT_TRUE(supported(LockBackend::redlock, {"127.0.0.1:56379", "127.0.0.1:56380", "127.0.0.1:56381"}, {crash}).is_ok());
  crash.targets = {"lock"};
  EXPECT_TRUE(supported(LockBackend::redlock, {"127.0.0.1:56379", "127.0.0.1:56380", "127.0.0.1:56381"}, {crash}).is_unavailable());
}

// The app-database lock takes no endpoints (its row is in the lock region's primary): endpoints
// given anyway are exit code 2 naming the file, line and key; crash lock-N and failover are
// refused (exit code 3) with the reason.
TEST(LiveLockConfigTest, AppDatabaseTakesNoEndpoints) {
  const std::string base =
      "name: appdb\ndescription: d\nregions:\n  - {name: us-east-1, primary: \"host=127.0.0.1 port=1 dbname=app\", replicas: []}\n"
      "table: {name: t, rows: 10, columns: {amount: {type: numeric}}}\n"
      "migration: {name: m, operations: [{add_column: {column: c, type: bigint, up: \"round(amount * 100)\"}}]}\n";
  LiveConfigResult without = load_live_config_text(base + "lock: {backend: app-database, ttl: 10s}\n", "appdb.yaml");
  ASSERT_TRUE(without.ok()) << (without.errors.empty() ? "" : without.errors.front().to_string());
  EXPECT_TRUE(without.config->lock_endpoints.empty());
  live::LiveSetup setup{without.config->scenario, {{"us-east-1", "host=127.0.0.1 port=1 dbname=app", {}}}, {}};
  EXPECT_TRUE(live::check_supported(setup).is_ok()) << live::check_supported(setup).to_string();
  EXPECT_EQ(live::lock_store_endpoints(setup.scenario, setup.regions, {}), std::vector<std::string>{"host=127.0.0.1 port=1 dbname=app"});

  LiveConfigResult with = load_live_config_text(base + "lock: {backend: app-database,\n  endpoints: [\"127.0.0.1:6379\"]}\n", "appdb.yaml");
  ASSERT_FALSE(with.ok());
  const std::string error = with.errors.front().to_string();
  EXPECT_NE(error.find("appdb.yaml:8: lock.endpoints"), std::string::npos) << error;
  EXPECT_NE(error.find("takes no endpoints"), std::string::npos) << error;
  live::LiveSetup given = setup;
  given.lock_endpoints = {"127.0.0.1:6379"};
  EXPECT_EQ(live::check_supported(given).code(), Status::Code::invalid);

  FaultSpec crash;
  crash.kind = FaultKind::crash;
  crash.line = 9;
  crash.targets = {"lock-1"};
  setup.scenario.faults = {crash};
  const Status lock_crash = live::check_supported(setup);
  EXPECT_TRUE(lock_crash.is_unavailable()) << lock_crash.to_string();
  EXPECT_NE(lock_crash.message().find("no lock nodes"), std::string::npos) << lock_crash.message();
  FaultSpec failover;
  failover.kind = FaultKind::failover;
  failover.line = 9;
  failover.targets = {"db:us-east-1"};
  setup.scenario.faults = {failover};
  const Status promoted = live::check_supported(setup);
  EXPECT_TRUE(promoted.is_unavailable()) << promoted.to_string();
  EXPECT_NE(promoted.message().find("lock's database"), std::string::npos) << promoted.message();
  crash.targets = {"engine-1"};
  setup.scenario.faults = {crash};
  EXPECT_TRUE(live::check_supported(setup).is_ok());
}

// `lock.replica: true` live: the redis lock with two endpoints (master, replica); `failover`
// is made real only there, and a one-way cut of the replication link is refused.
TEST(LiveLockConfigTest, FailoverNeedsTheRedisReplica) {
  auto supported = [](bool replica, std::vector<std::string> endpoints, std::vector<FaultSpec> faults, LockBackend backend = LockBackend::redis) {
    Scenario scenario;
    scenario.lock.backend = backend;
    scenario.lock.replica = replica;
    scenario.faults = std::move(faults);
    return live::check_supported(live::LiveSetup{scenario, {}, std::move(endpoints)});
  };
  FaultSpec failover;
  failover.kind = FaultKind::failover;
  failover.line = 7;
  failover.targets = {"lock"};
  const std::vector<std::string> pair{"127.0.0.1:56379", "127.0.0.1:56382"};
  EXPECT_TRUE(supported(true, pair, {failover}).is_ok());
  const Status no_replica = supported(false, {"127.0.0.1:56379"}, {failover});
  EXPECT_EQ(no_replica.code(), Status::Code::unavailable);
  EXPECT_NE(no_replica.message().find("line 7 (failover of lock)"), std::string::npos) << no_replica.message();
  EXPECT_NE(no_replica.message().find("replica: true"), std::string::npos) << no_replica.message();
  const Status one_endpoint = supported(true, {"127.0.0.1:56379"}, {});
  EXPECT_EQ(one_endpoint.code(), Status::Code::invalid);
  EXPECT_NE(one_endpoint.message().find("lock.endpoints [MASTER, REPLICA]"), std::string::npos) << one_endpoint.message();
  EXPECT_EQ(supported(true, {"127.0.0.1:56379", "127.0.0.1:56380", "127.0.0.1:56381"}, {}, LockBackend::redlock).code(),
            Status::Code::invalid);
  FaultSpec remote = failover;
  EXPECT_EQ(supported(true, {"10.0.0.1:6379", "10.0.0.2:6379"}, {remote}).code(), Status::Code::unavailable);
  const FaultSpec cut = oneway_cut(6, "lock-2", "lock-1", 60 * kSec);
  const Status oneway = supported(true, pair, {cut});
  EXPECT_EQ(oneway.code(), Status::Code::unavailable);
  EXPECT_NE(oneway.message().find("one-way cut of the Redis replication link"), std::string::npos) << oneway.message();
}

// A one-way partition that splits the redis master from its replica is refused; the lock's
// region stands for both servers, and which region that is comes from core/topology.h
// lock_region() alone (lock.region, default the first region), whether or not the setup names
// the live regions: a copy of its default elsewhere (as live_faults.cc once had, computed from
// the live regions) diverges here.
TEST(LiveLockConfigTest, OneWayCutOfTheLockRegionFollowsLockRegion) {
  const std::vector<std::string> pair{"127.0.0.1:56379", "127.0.0.1:56382"};
  const std::vector<live::RegionEndpoints> live_regions{{"us-east-1", "host=127.0.0.1 port=55432 dbname=app", {}},
                                                        {"eu-west-1", "host=127.0.0.1 port=55433 dbname=app", {}}};
  for (const std::string lock_place : {"", "us-east-1", "eu-west-1"}) {
    Scenario scenario;
    scenario.topology.regions = {RegionSpec{.name = "us-east-1"}, RegionSpec{.name = "eu-west-1"}};
    scenario.lock.backend = LockBackend::redis;
    scenario.lock.replica = true;
    scenario.lock.region = lock_place;
    EXPECT_EQ(lock_region(scenario), lock_place.empty() ? "us-east-1" : lock_place);
    for (const bool named : {true, false}) {
      for (const std::string target : {"us-east-1", "eu-west-1"}) {
        const FaultSpec cut = oneway_cut(9, target, "lock-2", 10 * kSec);
        scenario.faults = {cut};
        const Status status = live::check_supported(live::LiveSetup{scenario, named ? live_regions : std::vector<live::RegionEndpoints>{}, pair});
        const bool refused_as_split = status.message().find("one-way cut of the Redis replication link") != std::string::npos;
        EXPECT_EQ(refused_as_split, target == lock_region(scenario))
            << "lock.region '" << lock_place << "', target " << target << (named ? "" : ", no live regions") << ": " << status.message();
      }
    }
  }
  // Without topology regions the lock is in no region (lock_region() is "", no assertion): only
  // lock / lock-N name its servers.
  Scenario bare;
  bare.lock.backend = LockBackend::redis;
  bare.lock.replica = true;
  EXPECT_EQ(lock_region(bare), "");
  const FaultSpec cut = oneway_cut(4, "lock-1", "lock-2", 10 * kSec);
  bare.faults = {cut};
  const Status split = live::check_supported(live::LiveSetup{bare, {}, pair});
  EXPECT_NE(split.message().find("one-way cut of the Redis replication link"), std::string::npos) << split.message();
  bare.faults.front().targets = {""};
  const Status nameless = live::check_supported(live::LiveSetup{bare, {}, pair});
  EXPECT_EQ(nameless.message().find("one-way cut"), std::string::npos) << nameless.message();
  EXPECT_FALSE(nameless.is_ok());
}

// ZooKeeper's endpoints are HOST:PORT of the ensemble's members (any number, no comma: the
// client's connect string joins them); a member on this machine can crash (lock-N) and fail
// over (the leader restarted), a remote one cannot.
TEST(LiveLockConfigTest, ZooKeeperEndpointsAreHostPort) {
  auto supported = [](std::vector<std::string> endpoints, std::vector<FaultSpec> faults = {}) {
    Scenario scenario;
    scenario.lock.backend = LockBackend::zookeeper;
    scenario.faults = std::move(faults);
    return live::check_supported(live::LiveSetup{scenario, {}, std::move(endpoints)});
  };
  EXPECT_TRUE(supported({"127.0.0.1:52181"}).is_ok());
  EXPECT_TRUE(supported({"127.0.0.1:52181", "127.0.0.1:52182", "zk-3.example:2181"}).is_ok());
  EXPECT_TRUE(live::check_lock_endpoints(LockBackend::zookeeper, {"localhost:2181", "localhost:2182"}).is_ok());

  const Status url = supported({"127.0.0.1:52181", "http://127.0.0.1:52182"});
  EXPECT_EQ(url.code(), Status::Code::invalid);
  EXPECT_NE(url.message().find("lock.endpoints[1]"), std::string::npos) << url.message();
  EXPECT_NE(url.message().find("HOST:PORT"), std::string::npos) << url.message();
  const Status joined = supported({"127.0.0.1:52181,127.0.0.1:52182"});
  EXPECT_EQ(joined.code(), Status::Code::invalid) << "a connect string is several endpoints, not one";
  EXPECT_NE(joined.message().find("lock.endpoints[0]"), std::string::npos) << joined.message();
  EXPECT_EQ(supported({"127.0.0.1"}).code(), Status::Code::invalid);
  EXPECT_EQ(supported({"127.0.0.1:x"}).code(), Status::Code::invalid);
  EXPECT_EQ(supported({"127.0.0.1:70000"}).code(), Status::Code::invalid);
  EXPECT_EQ(supported({"127.0.0.1:2181/chroot"}).code(), Status::Code::invalid);
  EXPECT_EQ(supported({}).code(), Status::Code::invalid);

  FaultSpec crash;
  crash.kind = FaultKind::crash;
  crash.line = 4;
  crash.targets = {"lock-2"};
  EXPECT_TRUE(supported({"127.0.0.1:52181", "127.0.0.1:52182", "127.0.0.1:52183"}, {crash}).is_ok());
  const Status remote_crash = supported({"127.0.0.1:52181", "zk-2.example:2181"}, {crash});
  EXPECT_TRUE(remote_crash.is_unavailable()) << remote_crash.to_string();
  EXPECT_NE(remote_crash.message().find("on this machine"), std::string::npos) << remote_crash.message();
  crash.targets = {"lock"};
  const Status every_member = supported({"127.0.0.1:52181", "127.0.0.1:52182", "127.0.0.1:52183"}, {crash});
  EXPECT_NE(every_member.message().find("every ZooKeeper member"), std::string::npos) << every_member.message();
  FaultSpec failover;
  failover.kind = FaultKind::failover;
  failover.line = 5;
  failover.targets = {"lock"};
  EXPECT_TRUE(supported({"127.0.0.1:52181", "127.0.0.1:52182", "127.0.0.1:52183"}, {failover}).is_ok());
  const Status remote_failover = supported({"127.0.0.1:52181", "zk-2.example:2181"}, {failover});
  EXPECT_TRUE(remote_failover.is_unavailable()) << remote_failover.to_string();
  EXPECT_NE(remote_failover.message().find("every member must be on this machine"), std::string::npos) << remote_failover.message();
  crash.targets = {"engine-1"};
  EXPECT_TRUE(supported({"127.0.0.1:52181"}, {crash}).is_ok());
}

// The phases each region went through, in order (repeats of the same phase collapsed).
std::map<std::string, std::vector<std::string>> phases_by_region(const History& history) {
  std::map<std::string, std::vector<std::string>> phases;
  for (const Event& event : history.events()) {
    if (event.kind != EventKind::phase) continue;
    auto& sequence = phases[event.region];
    if (sequence.empty() || sequence.back() != event.detail) sequence.push_back(event.detail);
  }
  return phases;
}

// Acceptance 4: the same fault-free scenario (no traffic, so the data is determined) in the
// simulator and live, the live table loaded with the simulator's initial rows: the same phase
// sequence per region and the same final table in every region.
TEST_F(LiveTest, SimulationAndLiveAgree) {
  LiveConfig live_config = config("conformance");
  Scenario& scenario = live_config.scenario;
  scenario.table.rows = 2000;
  scenario.workload.all_regions = false;  // no application anywhere: the data is determined
  scenario.workload.regions.clear();
  scenario.faults.clear();
  Result<MigrationPlan> plan = compile_plan(scenario);
  ASSERT_TRUE(plan.is_ok());
  sim::World world(scenario, scenario.seed, plan.value());
  const RunResult simulated = world.run();
  ASSERT_EQ(simulated.outcome, "completed");
  std::map<std::string, const TableImage*> sim_tables;
  for (const auto& snapshot : world.observations().snapshots) {
    if (snapshot.moment == "end" && snapshot.node == "db:" + snapshot.region) sim_tables[snapshot.region] = &snapshot.table;
  }
  ASSERT_EQ(sim_tables.size(), 2U);
  // The live tables start as the simulator's did: its rows without the migration's column.
  for (std::size_t r = 0; r < 2; ++r) {
    const TableImage& image = *sim_tables.at(live_config.regions[r].name);
    pqxx::connection connection(live_config.regions[r].primary);
    pqxx::work tx(connection);
    tx.exec("CREATE TABLE conformance (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, amount numeric, status text)");
    const int id = image.column_index("id"), amount = image.column_index("amount"), status = image.column_index("status");
    ASSERT_TRUE(id >= 0 && amount >= 0 && status >= 0);
    std::string values;
    for (std::size_t row = 0; row < image.row_count(); ++row) {
      const Value amount_value = image.at(row, amount), status_value = image.at(row, status);
      values += fmt::format("{}({}, {}, {})", values.empty() ? "" : ", ", image.at(row, id).to_string(),
                            amount_value.is_null() ? "NULL" : tx.quote(amount_value.to_string()) + "::numeric",
                            status_value.is_null() ? "NULL" : tx.quote(status_value.to_string()));
    }
    tx.exec("INSERT INTO conformance (id, amount, status) VALUES " + values);
    tx.commit();
  }
  Result<RunResult> live_run = run(live_config);
  ASSERT_TRUE(live_run.is_ok()) << live_run.status().to_string();
  EXPECT_EQ(live_run.value().outcome, "completed");
  for (const auto& violation : live_run.value().violations) ADD_FAILURE() << violation.invariant << ": " << violation.detail;
  EXPECT_EQ(phases_by_region(live_run.value().history), phases_by_region(simulated.history));
  for (std::size_t r = 0; r < 2; ++r) {
    pqxx::connection connection(live_config.regions[r].primary);
    const TableImage live_table = live::snapshot_table(connection, "conformance");
    const TableImage& sim_table = *sim_tables.at(live_config.regions[r].name);
    ASSERT_EQ(live_table.rows.size(), sim_table.rows.size());
    EXPECT_EQ(table_checksum(live_table), table_checksum(sim_table)) << live_config.regions[r].name;
  }
}

// Issue 11, acceptance 4: after a live run of migration M on one table, a second config with
// the same migration name on a new table (created by --prepare, with a phase-triggered pause)
// used to pass over the untouched table: its checkpoint was keyed by the name alone. Now it
// stops with exit code 2 naming the migration, the table the checkpoint is for and what to do,
// and creates nothing. The first config run again says there is nothing to do and reports its
// pause as never fired; once a column is dropped behind the checkpoint's back, the catalog check
// reports the region. Through the CLI, as a user runs it.
TEST_F(LiveTest, SameMigrationNameOnANewTableStopsInsteadOfPassingOverIt) {
  std::string base = testing::read_whole_file(std::string(kLiveDir) + "/live.yaml");
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
  };
  base = replace(base, "name: amount_to_cents", "name: sequence_to_cents");
  base = replace(base, "rows: 10000", "rows: 2000");
  const std::string pause = "faults:\n  - pause: engine-1\n    at: {phase: backfill, region: us-east-1, after: 1s}\n    for: 2s\n";
  const std::string first = testing::write_temp_file("sequence-first.yaml", replace(base, "name: orders\n", "name: orders_sequence\n"));
  const std::string second = testing::write_temp_file(
      "sequence-second.yaml", replace(replace(base, "name: orders\n", "name: orders_sequence_pause\n"), "faults: []\n", pause));
  const std::string again = testing::write_temp_file(
      "sequence-again.yaml", replace(replace(base, "name: orders\n", "name: orders_sequence\n"), "faults: []\n", pause));

  const testing::CommandResult migrated = testing::run_rehearse("live " + first + " --prepare");
  ASSERT_EQ(migrated.exit_code, 0) << migrated.out << migrated.err;
  EXPECT_NE(migrated.out.find("migration: completed"), std::string::npos) << migrated.out;

  const testing::CommandResult refused = testing::run_rehearse("live " + second + " --prepare");
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_EQ(refused.out.find("verdict: PASS"), std::string::npos) << refused.out;
  for (const char* part : {"migration sequence_to_cents", "table orders_sequence, not orders_sequence_pause", "migration.name",
                           "DELETE FROM rehearse_checkpoint WHERE migration = 'sequence_to_cents'"}) {
    EXPECT_NE(refused.err.find(part), std::string::npos) << part << " in: " << refused.err;
  }
  for (const std::string& primary : primaries()) {
    EXPECT_EQ(scalar(primary, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders_sequence_pause'"), "0")
        << "nothing is created before the checkpoints are checked";
  }

  const testing::CommandResult done = testing::run_rehearse("live " + again + " --json");
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  const nlohmann::json json = nlohmann::json::parse(done.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << done.out;
  EXPECT_EQ(json["migration"]["outcome"], "completed");
  EXPECT_EQ(json["migration"]["already_complete"], true);
  const std::string note = json["migration"]["note"].get<std::string>();
  EXPECT_EQ(note.rfind("nothing to do: migration sequence_to_cents on table orders_sequence contracted in every region since 20", 0), 0U)
      << note;
  ASSERT_TRUE(json.contains("faults_not_fired")) << done.out;
  EXPECT_EQ(json["faults_not_fired"][0]["at"], "phase backfill in us-east-1 +1s");
  EXPECT_EQ(json["faults_not_fired"][0]["why"], "phase never reached");

  // The checkpoint says contracted; the catalog no longer has the column: a violation.
  {
    pqxx::connection connection(primaries()[1]);
    pqxx::work tx(connection);
    tx.exec("ALTER TABLE orders_sequence DROP COLUMN amount_cents");
    tx.commit();
  }
  const testing::CommandResult lied = testing::run_rehearse("live " + first);
  EXPECT_EQ(lied.exit_code, 1) << lied.out << lied.err;
  EXPECT_NE(lied.out.find("schema-convergence"), std::string::npos) << lied.out;
  EXPECT_NE(lied.out.find("db:eu-west-1 is recorded contracted but its catalog lacks column amount_cents (bigint)"), std::string::npos)
      << lied.out;
}

// `rehearse calibrate` (calibration.md): every key with its spread, nothing left behind in the
// catalog, within its budget.
TEST_F(LiveTest, CalibrateWritesEveryKeyAndLeavesNothingBehind) {
  const std::string out = testing::temp_dir() + "calibrated.yaml";
  const auto start = std::chrono::steady_clock::now();
  const testing::CommandResult result = testing::run_rehearse(fmt::format(
      "calibrate --primary '{}' --replica '{}' --rows 20000 --budget 60s --out {} --json", all_servers()[0], all_servers()[1], out));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  EXPECT_LT(seconds, 60 + 5);
  const nlohmann::json json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["replicas"], 1);
  CostProfile profile;
  const auto errors = load_cost_profile_file(out, &profile);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors.front().to_string());
  const std::string text = testing::read_whole_file(out);
  for (const auto& key : cost_profile_keys()) {
    const auto at = text.find("\n" + key + ":");
    ASSERT_NE(at, std::string::npos) << key << " missing in:\n" << text;
    if (key == "update_per_row_us") continue;
    EXPECT_NE(text.substr(at, text.find('\n', at + 1) - at).find("# spread "), std::string::npos) << key;
  }
  EXPECT_NE(text.find("  10000: "), std::string::npos) << text;
  EXPECT_NE(text.find("# machine: "), std::string::npos);
  EXPECT_NE(text.find("# server: PostgreSQL 15"), std::string::npos) << text;
  EXPECT_GT(profile.replica_base_delay_us, 0);
  EXPECT_GT(profile.update_per_row_us_at(10000), 0);
  EXPECT_EQ(scalar(all_servers()[0], "SELECT count(*) FROM pg_namespace WHERE nspname = 'rehearse_calibration'"), "0");
  EXPECT_EQ(scalar(all_servers()[0], "SELECT count(*) FROM pg_proc WHERE proname = 'dual_write'"), "0");
  EXPECT_EQ(scalar(all_servers()[0], "SELECT count(*) FROM pg_class WHERE relname IN ('t', 'ins', 't_a', 't_pkey', 'ins_pkey')"), "0");
}

TEST_F(LiveTest, CalibrateRefusesAReplicaAsThePrimary) {
  const testing::CommandResult result =
      testing::run_rehearse(fmt::format("calibrate --primary '{}' --out {}p.yaml", all_servers()[1], testing::temp_dir()));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("is a replica (pg_is_in_recovery() is true)"), std::string::npos) << result.err;
  EXPECT_EQ(scalar(all_servers()[0], "SELECT count(*) FROM pg_namespace WHERE nspname = 'rehearse_calibration'"), "0");
}

TEST_F(LiveTest, CalibrateStopsWithinItsBudgetAndDropsItsSchema) {
  const auto start = std::chrono::steady_clock::now();
  const testing::CommandResult result = testing::run_rehearse(fmt::format(
      "calibrate --primary '{}' --replica '{}' --rows 200000 --budget 1s --out {}b.yaml", all_servers()[0], all_servers()[1],
      testing::temp_dir()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("budget of 1 s exhausted"), std::string::npos) << result.err;
  EXPECT_LT(seconds, 1 + 3);  // the budget, and dropping the schema
  EXPECT_EQ(scalar(all_servers()[0], "SELECT count(*) FROM pg_namespace WHERE nspname = 'rehearse_calibration'"), "0");
  EXPECT_EQ(testing::read_whole_file(testing::temp_dir() + "b.yaml"), "");
}

TEST_F(LiveTest, CalibrateExitsThreeWhenTheServerRefusesAndPrintsNoSecret) {
  const testing::CommandResult result = testing::run_rehearse(fmt::format(
      "calibrate --primary 'host=127.0.0.1 port=1 dbname=app user=postgres password=hunter2' --out {}p.yaml", testing::temp_dir()));
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("cannot reach the primary"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("hunter2"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("hunter2"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace rehearse

namespace rehearse {
namespace {

// `rehearse conform` (calibration.md) end to end on a small config: a table it did not create is
// refused and left alone; its own table is created with the simulator's rows and migrated in
// both worlds, the exact rows match and every timing row has both numbers, the exit code says
// whether every row matched; a second run needs --reset, which recreates only its own table.
// `rehearse conform` per lock backend (issue 16): the paused-holder config with storage fencing,
// run by conform with each live lock store; the simulated twin has the same store (an ensemble
// of as many members as the config names) and both worlds must agree on every region's phases,
// the outcome and the invariants broken (none: the takeover's fence stops the stale holder).
// Timing rows are not asserted here (a 20,000-row table is too small for the bands). Without
// fencing the two worlds disagree by design (docs/calibration.md, "conform per lock backend").
TEST_F(LiveTest, ConformAgreesOnThePausedHolderWithEveryLockBackend) {
  const std::pair<std::string, std::string> backends[] = {{"live.yaml", "conform_lock_redis"},
                                                          {"live-redlock.yaml", "conform_lock_redlock"},
                                                          {"live-etcd.yaml", "conform_lock_etcd"},
                                                          {"live-zookeeper.yaml", "conform_lock_zookeeper"},
                                                          {"live-app-database.yaml", "conform_lock_appdb"}};
  for (const auto& [file, table] : backends) {
    SCOPED_TRACE(file);
    YAML::Node root = YAML::LoadFile(std::string(kLiveDir) + "/" + file);
    root["table"]["name"] = table;
    root["table"]["rows"] = 20000;
    root["migration"]["name"] = table + "_to_cents";
    root["engine"]["instances"] = 2;
    root["engine"]["batch_size"] = 500;
    root["engine"]["batch_pause"] = "20ms";
    root["engine"]["start_jitter"] = "0s..0s";
    root["engine"]["backoff"] = YAML::Load("{base: 50ms, max: 300ms, jitter: full}");
    root["lock"]["ttl"] = "2s";
    root["lock"]["renew_every"] = "500ms";
    root["lock"]["fencing"] = "storage";
    root["faults"] = YAML::Load("[{at: {phase: backfill, region: us-east-1, after: 200ms}, pause: holder, for: 5s}]");
    YAML::Emitter out;
    out << root;
    const std::string config = testing::write_temp_file("conform-lock-" + file, out.c_str());
    const testing::CommandResult result = testing::run_rehearse("conform " + config + " --reset --seed 1 --json");
    ASSERT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.out << result.err;
    const nlohmann::json json = nlohmann::json::parse(result.out);
    bool violations_row = false;
    for (const auto& row : json.at("rows")) {
      const std::string measure = row.at("measure");
      if (measure != "phases" && measure != "outcome" && measure != "violations") continue;
      EXPECT_TRUE(row.at("matched").get<bool>()) << row.dump();
      if (measure == "violations") {
        violations_row = true;
        EXPECT_EQ(row.at("live").get<std::string>(), "none") << row.dump();
      }
    }
    EXPECT_TRUE(violations_row) << result.out;
  }
}

// A SQL file's UPDATE ... WHERE (two SETs, each reading the row as it was) and DELETE of the
// table's last rows, run as written in both worlds: the final tables agree with PostgreSQL's row
// for row. Before 2026-12-05 the simulator updated every row and deleted none (2,000 rows and
// another checksum against live's 1,500).
TEST_F(LiveTest, ConformAgreesWithPostgresOnAFilesUpdateAndDelete) {
  YAML::Node root = YAML::LoadFile(std::string(kLiveDir) + "/live.yaml");
  root["table"]["name"] = "conform_dml";
  root["table"]["rows"] = 2000;
  root["migration"] = YAML::Load("{from: conform-dml.sql}");
  root["workload"]["writes_per_s"] = 0;
  root["workload"]["reads_per_s"] = 0;
  root["faults"] = YAML::Load("[]");
  YAML::Emitter out;
  out << root;
  testing::write_temp_file("conform-dml.sql",
                           "UPDATE conform_dml SET status = 'big', amount = amount / 2 WHERE amount > 50000 AND status <> 'new';\n"
                           "DELETE FROM conform_dml WHERE id > 1500;\n");
  const std::string config = testing::write_temp_file("conform-dml.yaml", out.c_str());
  const testing::CommandResult result = testing::run_rehearse("conform " + config + " --reset --seed 1 --json");
  ASSERT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.out << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  int checksums = 0;
  for (const auto& row : json.at("rows")) {
    const std::string measure = row.at("measure");
    if (measure != "checksum" && measure != "outcome" && measure != "phases") continue;
    EXPECT_TRUE(row.at("matched").get<bool>()) << row.dump();
    if (measure == "checksum") {
      ++checksums;
      EXPECT_NE(row.dump().find("1500 rows"), std::string::npos) << row.dump();
    }
  }
  EXPECT_GT(checksums, 0) << result.out;
}

TEST_F(LiveTest, ConformComparesBothWorldsOnItsOwnTable) {
  std::string text = testing::read_whole_file(std::string(kLiveDir) + "/live.yaml");
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"name: orders\n", "name: conform_small\n"},
                                 {"name: amount_to_cents", "name: conform_small_to_cents"},
                                 {"rows: 10000", "rows: 20000"}}) {
    const std::size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  const std::string config = testing::write_temp_file("conform-small.yaml", text);
  const std::string costs = std::string(REHEARSE_SOURCE_DIR) + "/profiles/builtin-pg15-loopback.yaml";
  {
    pqxx::connection connection(primaries()[0]);
    pqxx::work tx(connection);
    tx.exec("CREATE TABLE conform_small (id bigint PRIMARY KEY, amount numeric, status text)");
    tx.exec("INSERT INTO conform_small VALUES (1, 1.5, 'mine')");
    tx.commit();
  }
  const testing::CommandResult refused = testing::run_rehearse("conform " + config + " --reset --costs " + costs);
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("table conform_small exists and was not created by rehearse conform"), std::string::npos) << refused.err;
  EXPECT_EQ(scalar(primaries()[0], "SELECT status FROM conform_small WHERE id = 1"), "mine") << "a user's table is never touched";
  {
    pqxx::connection connection(primaries()[0]);
    pqxx::work tx(connection);
    tx.exec("DROP TABLE conform_small");
    tx.commit();
  }

  auto expect_rows = [](const testing::CommandResult& run) {
    ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 1) << run.out << run.err;
    const nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << run.out;
    EXPECT_EQ(json["matched"].get<bool>(), run.exit_code == 0) << run.out;
    EXPECT_EQ(json["mismatched"].empty(), run.exit_code == 0) << run.out;
    int backfills = 0;
    for (const auto& row : json["rows"]) {
      const std::string measure = row["measure"];
      if (measure == "phases" || measure == "outcome" || measure == "checksum") {
        EXPECT_TRUE(row["matched"].get<bool>()) << row.dump();
        EXPECT_EQ(row["band"], "exact");
      }
      if (measure == "backfill_duration") {
        ++backfills;
        EXPECT_GT(row["sim"].get<double>(), 0) << row.dump();
        EXPECT_GT(row["live"].get<double>(), 0) << row.dump();
        EXPECT_EQ(row["band"], "0.67..1.5");
      }
      if (measure == "ddl_wait") {
        EXPECT_FALSE(row["applicable"].get<bool>()) << "no long transaction";
      }
      if (!row["matched"].get<bool>()) {
        EXPECT_EQ(run.exit_code, 1) << row.dump();
      }
    }
    EXPECT_EQ(backfills, 2) << "one per region";
  };
  std::vector<std::string> checkpointed;  // each primary's last checkpoint before the run
  for (const std::string& primary : primaries()) checkpointed.push_back(scalar(primary, "SELECT checkpoint_time FROM pg_control_checkpoint()"));
  const testing::CommandResult first = testing::run_rehearse("conform " + config + " --json --costs " + costs);
  expect_rows(first);
  for (std::size_t p = 0; p < primaries().size(); ++p) {
    // A checkpoint just before the live run, not one PostgreSQL starts during it.
    EXPECT_EQ(scalar(primaries()[p], "SELECT checkpoint_time > '" + checkpointed[p] + "'::timestamptz FROM pg_control_checkpoint()"), "t")
        << "no checkpoint before the live run";
  }
  for (const std::string& primary : primaries()) {
    EXPECT_EQ(scalar(primary, "SELECT obj_description('conform_small'::regclass, 'pg_class') LIKE 'rehearse conform:%'"), "t");
    // No autovacuum worker on its table during a run, and none on this run's dead rows during a
    // later one: conform vacuumed it after the run (once when it was filled, once after).
    EXPECT_EQ(scalar(primary, "SELECT 'autovacuum_enabled=off' = ANY(reloptions) FROM pg_class WHERE oid = 'conform_small'::regclass"), "t");
    EXPECT_EQ(scalar(primary, "SELECT vacuum_count >= 2 FROM pg_stat_user_tables WHERE relid = 'conform_small'::regclass"), "t");
  }
  const testing::CommandResult again = testing::run_rehearse("conform " + config + " --costs " + costs);
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_NE(again.err.find("run again with --reset"), std::string::npos) << again.err;
  const std::string histories = testing::temp_dir() + "conform-histories";
  const testing::CommandResult reset =
      testing::run_rehearse("conform " + config + " --json --reset --seed 7 --costs " + costs + " --histories " + histories);
  expect_rows(reset);
  const nlohmann::json json = nlohmann::json::parse(reset.out, nullptr, false);
  EXPECT_EQ(json["seed"], 7);
  // --histories: both worlds' events, and their application requests (live.yaml sends writes).
  for (const char* world : {"simulated", "live"}) {
    EXPECT_NE(testing::read_whole_file(histories + "/" + world + ".jsonl").find("\"kind\":\"phase\""), std::string::npos) << world;
    const std::string requests = testing::read_whole_file(histories + "/" + world + "-requests.csv");
    EXPECT_EQ(requests.rfind("region,sent_us,waited_us,failed,write\n", 0), 0u) << world;
    EXPECT_NE(requests.find(",1\n"), std::string::npos) << world << ": no write in " << requests.substr(0, 200);
  }
}

// Issue 13, acceptance 2: every statement kind of core/statements.h -- and the engine's own SQL for
// each of its DDL kinds -- takes in PostgreSQL 15 the table lock modes the model (and so the
// simulator, plan and lint) says, on each relation it involves (tests/statement_locks_live.h).
TEST_F(LiveTest, StatementLocksMatchPgLocks) { testing::StatementLocksCheck(primaries()[0]).run(); }

}  // namespace
}  // namespace rehearse

namespace rehearse {
namespace {

// The as-written crash sweep against PostgreSQL (tests/crash_sweep.h; the simulator's half is
// CrashSweep.*): the file run by the real engine process, killed at the start of each statement
// (it kills itself there: live_faults.h kills_itself), inside a statement blocked by a
// transaction open from the start, or after the last one, and restarted; the table the catalog
// shows at the end equals the one the simulator ends with. The case whose blocker is timed to a
// statement's start is simulated only: a runner's timer cannot place it before a statement of a
// few milliseconds.
TEST_F(LiveTest, CrashSweepEndsAsTheSimulatorSays) {
  const std::string primary = primaries()[0];
  const auto reset = [&] {
    pqxx::connection connection(primary);
    pqxx::nontransaction(connection).exec(
        "DROP TABLE IF EXISTS orders CASCADE; DO $$ BEGIN "
        "IF to_regclass('rehearse_checkpoint') IS NOT NULL THEN DELETE FROM rehearse_checkpoint WHERE migration = 'crash-sweep'; END IF; "
        "IF to_regclass('rehearse_fence') IS NOT NULL THEN DELETE FROM rehearse_fence WHERE migration = 'crash-sweep'; END IF; END $$");
  };
  const std::string dir = testing::temp_dir();
  int compared = 0;
  for (const crash_sweep::Case& c : crash_sweep::cases()) {
    if (!c.live) continue;
    SCOPED_TRACE(c.name);
    std::ofstream(dir + "crash-sweep.sql") << c.file;
    std::string yaml = crash_sweep::scenario_yaml(c);
    const auto replace = [&yaml](const std::string& from, const std::string& to) {
      const std::size_t at = yaml.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      yaml.replace(at, from.size(), to);
    };
    replace("topology: {regions: [{name: us-east-1, replicas: 0}]}\n",
            fmt::format("regions:\n  - {{name: us-east-1, primary: \"{}\", replicas: []}}\n", primary));
    replace("lock: {backend: redis,", fmt::format("lock: {{backend: redis, endpoints: [\"{}\"],", testing::live_endpoint("REDIS_1")));
    std::ofstream(dir + "crash-sweep-live.yaml") << yaml;
    LiveConfigResult loaded = load_live_config_file(dir + "crash-sweep-live.yaml");
    ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
    reset();
    Result<RunResult> result = run(*loaded.config);
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    EXPECT_EQ(count_events(result.value(), EventKind::node_crash), 1);
    EXPECT_EQ(count_events(result.value(), EventKind::node_restart), 1);

    crash_sweep::State live;
    for (const char* column : {"note", "status"}) {
      if (scalar(primary, fmt::format("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = '{}'",
                                      column)) == "1") {
        live.columns.push_back(column);
      }
    }
    const auto index = [&](const char* name) {
      const std::string valid = scalar(primary, fmt::format("SELECT coalesce((SELECT i.indisvalid::text FROM pg_index i JOIN pg_class c "
                                                            "ON c.oid = i.indexrelid WHERE c.relname = '{}'), 'absent')", name));
      return valid == "absent" ? valid : valid == "true" ? std::string("valid") : std::string("invalid");
    };
    live.status_index = index("orders_status_idx");
    live.note_index = index("orders_note_idx");
    live.check = scalar(primary, "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_amount_check'") == "1";
    live.completed = result.value().outcome == "completed";
    std::string timeline;  // what a failure needs to be understood: when each step ran, against the blocker
    for (const Event& event : result.value().history.events()) {
      if (event.kind == EventKind::write || event.kind == EventKind::lock_renew) continue;
      timeline += fmt::format("\n  {:>8.3f} s {} {} {} {}", static_cast<double>(event.time_us) / kSec, event.node, to_string(event.kind),
                              to_string(event.outcome), event.detail);
    }
    EXPECT_EQ(live, c.expected) << "live: " << crash_sweep::to_string(live) << ", outcome " << result.value().outcome << timeline;
    ++compared;
  }
  reset();
  EXPECT_EQ(compared, 8);
}

}  // namespace
}  // namespace rehearse
