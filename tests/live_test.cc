// Live integration tests: scripts/live-up starts PostgreSQL (two regions, one streaming
// replica) and Redis on loopback; the migration runs for real under application traffic and is
// checked by the invariant checkers and, independently, by SQL. Skipped with a message when the
// servers cannot be started here (packages missing). REHEARSE_LIVE_ROWS overrides the row count.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/plan.h"
#include "real_backends/live_runner.h"
#include "scenarios/live_config.h"

namespace rehearse {
namespace {

const char* kLiveDir = "/tmp/rehearse-live-test";

std::string run_script(const std::string& name, int* status) {
  const std::string command = std::string("REHEARSE_LIVE_DIR=") + kLiveDir + " " + REHEARSE_SOURCE_DIR + "/scripts/" + name + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return "";
  }
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  *status = pclose(pipe);
  return output;
}

// One SQL scalar through psql on the given port.
std::string psql(int port, const std::string& sql) {
  const std::string command = "psql -h 127.0.0.1 -p " + std::to_string(port) + " -U postgres -d app -Atqc \"" + sql + "\" 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[512];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (pipe != nullptr) pclose(pipe);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

class LiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int status = 0;
    std::string output = run_script("live-down", &status);
    output = run_script("live-up", &status);
    if (status != 0) {
      skip_reason_ = new std::string("scripts/live-up could not start the servers: " + output);
    }
  }
  static void TearDownTestSuite() {
    int status = 0;
    run_script("live-down", &status);
    delete skip_reason_;
    skip_reason_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) GTEST_SKIP() << *skip_reason_;
  }

  static LiveConfig config() {
    LiveConfigResult loaded = load_live_config_file(std::string(kLiveDir) + "/live.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
    LiveConfig config = *loaded.config;
    if (const char* rows = std::getenv("REHEARSE_LIVE_ROWS")) config.scenario.table.rows = std::atoll(rows);
    return config;
  }

  static live::LiveSetup setup_of(const LiveConfig& config) {
    live::LiveSetup setup{config.scenario, {}, config.lock_endpoints};
    for (const auto& region : config.regions) setup.regions.push_back(live::RegionEndpoints{region.name, region.primary, region.replicas});
    return setup;
  }

  // Every row's new column equals the expression over the old one, in both regions.
  static void expect_cents_match(const std::string& table) {
    for (int port : {55432, 55433, 55434}) {
      EXPECT_EQ(psql(port, "SELECT count(*) FROM " + table + " WHERE amount_cents IS DISTINCT FROM round(amount * 100)::bigint"), "0")
          << "port " << port;
      EXPECT_NE(psql(port, "SELECT count(*) FROM " + table), "0") << "port " << port;
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

TEST_F(LiveTest, MigratesTwoRegionsUnderTraffic) {
  const LiveConfig live_config = config();
  Result<MigrationPlan> plan = compile_plan(live_config.scenario);
  ASSERT_TRUE(plan.is_ok());
  live::LiveOptions options;
  options.prepare = true;
  Result<RunResult> result = live::run_live(setup_of(live_config), plan.value(), options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_GE(result.value().stats.rows_backfilled, 2 * live_config.scenario.table.rows);
  expect_cents_match("orders");
}

// Two engines; the holder stalls (engine thread and keepalive) far past the lease's TTL in
// the middle of its backfill. The other engine takes over; the stalled one's next write is
// rejected by the fence in the database, and the data stays intact.
TEST_F(LiveTest, StorageFencingRejectsTheStalledHolder) {
  LiveConfig live_config = config();
  Scenario& scenario = live_config.scenario;
  scenario.table.name = "payments";
  scenario.migration.name = "payments_to_cents";
  scenario.engine.instances = 2;
  scenario.engine.start_jitter = {0, 0};
  scenario.engine.backoff = Backoff{50 * kMs, 300 * kMs, Jitter::full};
  scenario.lock.ttl_us = 2 * kSec;
  scenario.lock.renew_every_us = 500 * kMs;
  Result<MigrationPlan> plan = compile_plan(scenario);
  ASSERT_TRUE(plan.is_ok());
  live::LiveOptions options;
  options.prepare = true;
  options.stall = live::StallHook{scenario.engine.batch_pause_us, 3, 5 * kSec};
  Result<RunResult> result = live::run_live(setup_of(live_config), plan.value(), options);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  expect_clean(result.value());
  EXPECT_GE(result.value().stats.lock_acquisitions, 2);
  EXPECT_GE(result.value().stats.stale_writes_rejected, 1);
  expect_cents_match("payments");
}

}  // namespace
}  // namespace rehearse
