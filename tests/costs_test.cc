// Cost profiles (core/costs.h, scenarios/costs.h): `costs:` inline and as a file, the checks of
// keys and values, and that the simulator takes its costs from the profile.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "core/random.h"
#include "real_backends/calibrate.h"
#include "scenarios/costs.h"
#include "scenarios/loader.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

std::string scenario_with_costs(const std::string& costs) {
  std::string text = testing::read_whole_file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/library/batched-backfill.yaml");
  return text + "\ncosts: " + costs + "\n";
}

std::string errors_of(const LoadResult& result) {
  std::string out;
  for (const auto& error : result.errors) out += error.to_string() + "\n";
  return out;
}

std::string full_profile(const std::string& replaced_key = "", const std::string& replacement = "") {
  std::string text;
  for (const auto& key : cost_profile_keys()) {
    if (key == replaced_key) {
      text += replacement;
    } else if (key == "update_per_row_us") {
      text += "update_per_row_us:  # by batch size\n  100: 12.5  # spread\n  10000: 9\n";
    } else {
      text += key + ": 7.25  # spread 7..8\n";
    }
  }
  return text;
}

// The built-in profile is the measured one the repository records: every key of
// profiles/builtin-pg15-loopback.yaml, compiled in.
TEST(CostProfileTest, BuiltinProfileIsTheRecordedPg15Profile) {
  CostProfile recorded;
  const auto errors = load_cost_profile_file(std::string(REHEARSE_SOURCE_DIR) + "/profiles/builtin-pg15-loopback.yaml", &recorded);
  ASSERT_TRUE(errors.empty()) << errors.front().to_string();
  CostProfile builtin = builtin_cost_profile();
  EXPECT_EQ(builtin.source, "builtin:pg15-loopback-2026-12-02");
  EXPECT_EQ(builtin.update_per_row_us, recorded.update_per_row_us);
  for (const auto& key : cost_profile_keys()) {
    if (key == "update_per_row_us") continue;
    EXPECT_DOUBLE_EQ(*cost_field(builtin, key), *cost_field(recorded, key)) << key;
  }
}

TEST(CostProfileTest, TotalsRoundAsLlround) {
  // total_us rounds without the library call below 2^52: every case as std::llround would.
  const double per[] = {0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 0.1, 0.3,
                        7.25, 12.345, 1e-9, 0x1p52 - 0.5, -(0x1p52 - 0.5), 0x1p52, 0x1p53 + 2, 3e15, -3e15};
  const std::int64_t counts[] = {0, 1, 2, 3, 7, 10, 999, 1000, 12345};
  for (const double p : per) {
    for (const std::int64_t count : counts) {
      EXPECT_EQ(CostProfile::total_us(p, count), std::llround(p * static_cast<double>(count))) << p << " x " << count;
    }
  }
  std::uint64_t state = 1;
  for (int i = 0; i < 100'000; ++i) {
    const double p = static_cast<double>(splitmix64(state) % 2'000'000) / 1024.0 - 900.0;  // halves and quarters too
    const auto count = static_cast<std::int64_t>(splitmix64(state) % 5000);
    ASSERT_EQ(CostProfile::total_us(p, count), std::llround(p * static_cast<double>(count))) << p << " x " << count;
  }
}

TEST(CostProfileTest, InlineKeysOverrideTheBuiltinProfile) {
  const LoadResult result =
      load_scenario_text(scenario_with_costs("{app_write_us: 50, update_per_row_us: {10000: 9, 100: 12.5}}"), "s.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const CostProfile& p = result.scenario->costs;
  EXPECT_EQ(p.app_write_us, 50);
  EXPECT_EQ(p.app_read_us, builtin_cost_profile().app_read_us);  // not given: the built-in value
  EXPECT_EQ(p.update_per_row_us_at(50), 12.5);  // below the smallest size: the smallest
  EXPECT_EQ(p.update_per_row_us_at(5000), 12.5);
  EXPECT_EQ(p.update_per_row_us_at(10000), 9);
  EXPECT_EQ(p.source, "inline");
}

// A profile whose busy host waits 10 / 50 / 500 us at its p50 / p90 / p99 and `max_us` at most.
CostProfile busy_host(double max_us) {
  CostProfile p;
  p.busy_host_wait_p50_us = 10;
  p.busy_host_wait_p90_us = 50;
  p.busy_host_wait_p99_us = 500;
  p.busy_host_wait_max_us = max_us;
  return p;
}

TEST(CostProfileTest, TheBusyHostWaitIsDrawnFromItsPercentiles) {
  const CostProfile p = busy_host(1500);
  EXPECT_DOUBLE_EQ(p.busy_host_wait_us_at(0), 10);  // the lower half: the median
  EXPECT_DOUBLE_EQ(p.busy_host_wait_us_at(0.5), 10);
  EXPECT_DOUBLE_EQ(p.busy_host_wait_us_at(0.7), 30);  // halfway from p50 to p90
  EXPECT_DOUBLE_EQ(p.busy_host_wait_us_at(0.9), 50);
  EXPECT_DOUBLE_EQ(p.busy_host_wait_us_at(0.99), 500);
  // Linear to the measured max, which stands for the p99.75 (the largest of about 400 waits) ...
  EXPECT_NEAR(p.busy_host_wait_us_at(0.995), 500 + 1000 * (0.005 / 0.0075), 1e-6);
  EXPECT_NEAR(p.busy_host_wait_us_at(0.9975), 1500, 1e-6);
  // ... and beyond it an exponential tail: each further tenth of the probability adds the
  // p90 -> p99 step (450), from the max: log10(0.0025 / 0.0001) decades past it at 0.9999.
  EXPECT_NEAR(p.busy_host_wait_us_at(0.9999), 1500 + 450 * std::log10(25.0), 1e-6);
  EXPECT_NEAR(p.busy_host_wait_us_at(1 - 1e-6), 1500 + 450 * std::log10(2500.0), 1e-6);
}

// calibrate's max is that of a few hundred samples: a run that draws thousands of waits still
// meets longer ones. Capped at that max (then of about a hundred samples), the simulated longest
// stall of conform's (a) was 3.7-4.7 ms against 7.4-10.6 ms live. A max barely above the p99
// leaves the tail from the p99.
TEST(CostProfileTest, TheBusyHostWaitGoesOnPastAMaxOfFewSamples) {
  CostProfile p = busy_host(520);
  EXPECT_NEAR(p.busy_host_wait_us_at(0.999), 500 + 450, 1e-6);
  EXPECT_NEAR(p.busy_host_wait_us_at(0.9999), 500 + 2 * 450, 1e-6);
  p.busy_host_wait_p90_us = 600;  // a p90 above the p99 (a flat tail): no step, the measured max
  EXPECT_NEAR(p.busy_host_wait_us_at(0.9999), 520, 1e-6);
}

TEST(CostProfileTest, BadKeysAndValuesAreReportedWithLineAndKey) {
  const struct {
    std::string costs;
    std::string expected;
  } cases[] = {
      {"{app_writ_us: 50}", "costs.app_writ_us: unknown cost profile key"},
      {"{app_write_us: 150ms}", "costs.app_write_us: expected a plain number of microseconds (the unit is in the key's name), got '150ms'"},
      {"{scan_per_row_us: -1}", "costs.scan_per_row_us: must be >= 0, got -1"},
      {"{update_per_row_us: {0: 5}}", "costs.update_per_row_us.0: expected a batch size in rows"},
      {"{update_per_row_us: {1000: fast}}", "costs.update_per_row_us.1000: expected a plain number"},
      {"no-such-profile.yaml", "costs: no cost profile file"},
      {"[1, 2]", "costs: expected a mapping of cost profile keys"},
  };
  for (const auto& c : cases) {
    const LoadResult result = load_scenario_text(scenario_with_costs(c.costs), "s.yaml");
    EXPECT_FALSE(result.ok()) << c.costs;
    const std::string errors = errors_of(result);
    EXPECT_NE(errors.find(c.expected), std::string::npos) << c.costs << " gave:\n" << errors;
    EXPECT_NE(errors.find("s.yaml:"), std::string::npos) << errors;
  }
}

TEST(CostProfileTest, AProfileFileIsRelativeToTheScenarioAndHoldsEveryKey) {
  const std::string dir = testing::temp_dir();
  testing::write_temp_file("complete.yaml", full_profile());
  testing::write_temp_file("costs-missing-key.yaml", full_profile("ddl_us", ""));
  testing::write_temp_file("unit.yaml", full_profile("ddl_us", "ddl_us: 2ms\n"));
  const std::string scenario = dir + "scenario.yaml";
  const LoadResult complete = load_scenario_text(scenario_with_costs("complete.yaml"), scenario);
  ASSERT_TRUE(complete.ok()) << errors_of(complete);
  EXPECT_EQ(complete.scenario->costs.ddl_us, 7.25);
  EXPECT_EQ(complete.scenario->costs.update_per_row_us_at(20000), 9);

  const LoadResult missing = load_scenario_text(scenario_with_costs("costs-missing-key.yaml"), scenario);
  EXPECT_NE(errors_of(missing).find("costs-missing-key.yaml:1: ddl_us: required key missing"), std::string::npos) << errors_of(missing);
  const LoadResult unit = load_scenario_text(scenario_with_costs("unit.yaml"), scenario);
  EXPECT_NE(errors_of(unit).find("unit.yaml:"), std::string::npos);
  EXPECT_NE(errors_of(unit).find("ddl_us: expected a plain number of microseconds"), std::string::npos) << errors_of(unit);
}

TEST(CostProfileTest, BadCostsExitTwoFromTheCommandLine) {
  const std::string path = testing::write_temp_file("bad-costs.yaml", scenario_with_costs("{app_write_us: 3ms}"));
  const testing::CommandResult result = testing::run_rehearse("run " + path);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("costs.app_write_us"), std::string::npos) << result.err << result.out;
}

TEST(CostProfileTest, TheSimulatorTakesItsCostsFromTheProfile) {
  const Scenario plain = testing::builtin("batched-backfill");
  Scenario builtin_written_out = plain;
  builtin_written_out.costs = CostProfile{};
  Scenario slower = plain;
  slower.costs.update_per_row_us = {{1, 150}};
  slower.costs.replica_apply_per_row_us = 200;
  const RunResult a = sim::simulate(plain, 1);
  EXPECT_EQ(sim::simulate(builtin_written_out, 1).trace_hash, a.trace_hash);
  EXPECT_NE(sim::simulate(slower, 1).trace_hash, a.trace_hash);
}

// The scenario as written out (shrink --out, the postmortem's scenario.yaml) keeps its costs.
TEST(CostProfileTest, TheWrittenOutScenarioKeepsItsCosts) {
  const LoadResult loaded =
      load_scenario_text(scenario_with_costs("{app_write_us: 50.25, update_per_row_us: {100: 12.5, 10000: 9}}"), "s.yaml");
  ASSERT_TRUE(loaded.ok()) << errors_of(loaded);
  const std::string text = scenario_yaml_with_header(*loaded.scenario, 1, "");
  const LoadResult again = load_scenario_text(text, "again.yaml");
  ASSERT_TRUE(again.ok()) << errors_of(again) << text;
  EXPECT_EQ(again.scenario->costs.app_write_us, 50.25);
  EXPECT_EQ(again.scenario->costs.update_per_row_us, loaded.scenario->costs.update_per_row_us);
  EXPECT_EQ(again.scenario->costs.ddl_us, builtin_cost_profile().ddl_us);
  // The built-in profile is not written out.
  EXPECT_EQ(scenario_yaml_with_header(testing::builtin("batched-backfill"), 1, "").find("costs:"), std::string::npos);
}

// What `rehearse calibrate` writes loads as a complete profile, every value with its spread.
TEST(CostProfileTest, TheCalibratedProfileFileLoadsWithEveryKeyAndItsSpread) {
  live::CalibrationResult result;
  result.machine = "host, CPU, 2 cores";
  result.date = "2026-12-02T08:00:00Z";
  result.server_version = "15.18";
  result.rows = 1000;
  result.budget_us = 120'000'000;
  double value = 1.5;
  for (const auto& key : cost_profile_keys()) {
    if (key == "update_per_row_us") {
      result.measures.push_back({"update_per_row_us.100", 12.25, 11, 14, 20, "UPDATE of 100"});
      result.measures.push_back({"update_per_row_us.10000", 8.5, 8, 9, 7, "UPDATE of 10000"});
    } else {
      result.measures.push_back({key, value, value - 1, value + 1, 10, "timed"});
      value += 1;
    }
  }
  const std::string text = live::calibration_profile_yaml(result);
  EXPECT_NE(text.find("# machine: host, CPU, 2 cores"), std::string::npos) << text;
  EXPECT_NE(text.find("# date: 2026-12-02T08:00:00Z"), std::string::npos) << text;
  EXPECT_NE(text.find("# server: PostgreSQL 15.18"), std::string::npos) << text;
  EXPECT_NE(text.find("statement_base_us: 1.500  # spread 0.500..2.500 (p10..p90 of 10)"), std::string::npos) << text;
  EXPECT_NE(text.find("  100: 12.250  # spread 11.000..14.000 (p10..p90 of 20)"), std::string::npos) << text;
  const std::string path = testing::write_temp_file("calibrated.yaml", text);
  CostProfile profile;
  const auto errors = load_cost_profile_file(path, &profile);
  ASSERT_TRUE(errors.empty()) << errors.front().to_string() << "\n" << text;
  EXPECT_EQ(profile.statement_base_us, 1.5);
  EXPECT_EQ(profile.update_per_row_us_at(5000), 12.25);
  EXPECT_EQ(profile.update_per_row_us_at(10000), 8.5);
  EXPECT_EQ(profile.source, path);
}

// The measured profile in the repository loads (it is not the built-in profile yet).
}  // namespace

// A connection string libpq cannot parse is bad input (exit 2), told apart from a server that
// cannot be reached (exit 3); no server is needed to see it.
TEST(CalibrateInputs, AnUnparsableConnectionStringIsBadInput) {
  const testing::CommandResult result =
      testing::run_rehearse("calibrate --primary 'not a dsn ===' --out " + testing::temp_dir() + "never.yaml");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("--primary: the connection string cannot be parsed"), std::string::npos) << result.err;
}

}  // namespace rehearse
