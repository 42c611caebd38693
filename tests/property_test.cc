// The property gate (CTest label `property`, docs/properties.md): RapidCheck generates fault
// schedules (pause, crash, partition, clock_jump, delay over the engines, the lock store and the
// database) and engine/lock settings, and runs each through the simulator.
//
// - With `fencing: storage` no generated schedule may break mutual-exclusion, no-lost-writes or
//   data-consistency (liveness and availability may suffer under faults: not judged here); the
//   same check against a database that ignores tokens must fail (the property is not vacuous).
// - With `fencing: none` a property over pause schedules must FAIL, and RapidCheck must shrink
//   the counterexample to at most two faults; the shrunk case is written as a scenario file
//   that `rehearse run` replays. This test runs rc::check itself and asserts the failure, so it
//   passes when the harness catches the mistake.
//
// Generators shrink toward fewer faults (the list), milder kinds (the kind list is ordered
// mildest first), earlier and shorter faults and smaller clock jumps; the simulation seed is
// drawn once per case and never shrunk. RapidCheck's own seed is fixed, so the gate is
// deterministic. REHEARSE_PROPERTY_TESTS=N sets the number of cases (nightly budgets).
#include <cstdlib>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include "core/duration.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {

// How RapidCheck prints a fault of a counterexample (found by argument-dependent lookup).
void showValue(const FaultSpec& fault, std::ostream& os) { os << fault_yaml(fault); }

namespace {

constexpr int kDefaultCases = 12;        // the default budget: keeps the Debug+ASan run short
constexpr int kCasesMax = 100000;
constexpr int kFaultsMax = 6;            // faults in one generated schedule
constexpr std::uint64_t kRapidCheckSeed = 20260601;  // fixed: the gate is deterministic
constexpr std::uint64_t kSimulationSeedMax = 1000000;

int case_budget() {
  const char* value = std::getenv("REHEARSE_PROPERTY_TESTS");
  if (value == nullptr) return kDefaultCases;
  const long parsed = std::strtol(value, nullptr, 10);
  return parsed > 0 && parsed <= kCasesMax ? static_cast<int>(parsed) : kDefaultCases;
}

// The world the properties run in: one region, two competing engines, a Redis lease, a small
// table and a trickle of application writes (so no-lost-writes and data-consistency judge
// something). Small, so that a case costs little even under the sanitizers.
const char* kBaseScenario = R"yaml(name: property-base
description: Two engines under a Redis lease, a small table and a trickle of application writes.
duration: 3m
topology:
  regions:
    - {name: us-east-1, replicas: 0}
  clocks: {max_skew: 50ms, max_drift_ppm: 100}
lock: {backend: redis, ttl: 6s, renew_every: 2s, fencing: storage}
engine:
  instances: 2
  start_jitter: 0s..1s
  batch_size: 200
  batch_pause: 100ms
  max_replication_lag: 0s
  acquire_timeout: 2m
  backoff: {base: 100ms, max: 2s, jitter: full}
  on_failure: halt
table:
  rows: 3000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
migration:
  name: amount_to_cents
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
workload: {writes_per_s: 5, reads_per_s: 0}
)yaml";

// Mildest first: RapidCheck's element generator shrinks toward the front of the list.
const std::vector<FaultKind> kKinds = {FaultKind::delay, FaultKind::pause, FaultKind::clock_jump,
                                       FaultKind::partition, FaultKind::crash};
const std::vector<std::string> kTargets = {"engine-1", "engine-2", "holder", "lock", "db:us-east-1"};
const std::vector<std::string> kEngineTargets = {"holder", "engine-1", "engine-2"};

constexpr TimeUs kStep = 100 * kMs;   // every generated time is a multiple of this
constexpr int kStartStepsMax = 200;   // faults start in the first 20 s (the migration's span)
constexpr int kLengthStepsMax = 300;  // and last up to 30 s

// A fault of `kind` on `target`: start, length and magnitude shrink toward 0 / the smallest.
rc::Gen<FaultSpec> fault_of(FaultKind kind, const std::string& target) {
  return rc::gen::apply(
      [kind, target](int start, int length, int magnitude, bool backwards) {
        FaultSpec fault;
        fault.kind = kind;
        fault.at_us = start * kStep;
        fault.targets = {target};
        const TimeUs span = (length + 1) * kStep;
        switch (kind) {
          case FaultKind::crash: fault.restart_after_us = span; break;
          case FaultKind::clock_jump: fault.by_us = (backwards ? -1 : 1) * (magnitude + 1) * kStep; break;
          case FaultKind::delay: fault.extra_us = (magnitude + 1) * kStep; fault.for_us = span; break;
          default: fault.for_us = span; break;
        }
        return fault;
      },
      rc::gen::inRange(0, kStartStepsMax), rc::gen::inRange(0, kLengthStepsMax), rc::gen::inRange(0, kLengthStepsMax),
      rc::gen::arbitrary<bool>());
}

rc::Gen<FaultSpec> any_fault() {
  return rc::gen::mapcat(rc::gen::pair(rc::gen::elementOf(kKinds), rc::gen::elementOf(kTargets)),
                         [](const std::pair<FaultKind, std::string>& choice) { return fault_of(choice.first, choice.second); });
}

rc::Gen<FaultSpec> engine_pause() {
  return rc::gen::mapcat(rc::gen::elementOf(kEngineTargets),
                         [](const std::string& target) { return fault_of(FaultKind::pause, target); });
}

// Up to kFaultsMax faults, each generated at full range; the list shrinks by dropping faults.
rc::Gen<std::vector<FaultSpec>> schedule_of(rc::Gen<FaultSpec> fault) {
  return rc::gen::resize(kFaultsMax, rc::gen::container<std::vector<FaultSpec>>(rc::gen::resize(100, std::move(fault))));
}

// Engine and lock settings around the base: the lease, its renewal, the batch and the number of
// competing engines. Shrinks toward the base's values.
struct Settings {
  TimeUs ttl_us = 6 * kSec;
  TimeUs renew_every_us = 2 * kSec;
  std::int64_t batch_size = 200;
  TimeUs batch_pause_us = 100 * kMs;
  int instances = 2;
};

void showValue(const Settings& s, std::ostream& os) {
  os << "{ttl: " << duration_text(s.ttl_us, DurationStyle::scenario)
     << ", renew_every: " << duration_text(s.renew_every_us, DurationStyle::scenario)
     << ", batch_size: " << s.batch_size
     << ", batch_pause: " << duration_text(s.batch_pause_us, DurationStyle::scenario) << ", instances: " << s.instances
     << "}";
}

rc::Gen<Settings> settings() {
  return rc::gen::resize(100, rc::gen::apply(
      [](int ttl_s, int renew_share, int batch_step, int pause_step, int extra_instances) {
        Settings s;
        s.ttl_us = (6 + ttl_s) * kSec;
        s.renew_every_us = s.ttl_us * (3 - renew_share) / 6;  // a half, a third or a sixth of the lease
        s.batch_size = 200 + 100 * batch_step;
        s.batch_pause_us = (100 + 50 * pause_step) * kMs;
        s.instances = 2 + extra_instances;
        return s;
      },
      rc::gen::inRange(0, 10), rc::gen::inRange(0, 3), rc::gen::inRange(0, 5), rc::gen::inRange(0, 4),
      rc::gen::inRange(0, 2)));
}

rc::Gen<std::uint64_t> simulation_seed() { return rc::gen::noShrink(rc::gen::inRange<std::uint64_t>(1, kSimulationSeedMax)); }

Scenario scenario_with(Fencing fencing, const Settings& s, const std::vector<FaultSpec>& faults) {
  Scenario scenario = testing::from_text(kBaseScenario);
  scenario.lock.fencing = fencing;
  scenario.lock.ttl_us = s.ttl_us;
  scenario.lock.renew_every_us = s.renew_every_us;
  scenario.engine.batch_size = s.batch_size;
  scenario.engine.batch_pause_us = s.batch_pause_us;
  scenario.engine.instances = s.instances;
  scenario.faults = faults;
  return scenario;
}

std::string schedule_text(const std::vector<FaultSpec>& faults) {
  std::string text;
  for (const FaultSpec& fault : faults) text += "\n  " + fault_yaml(fault);
  return text;
}

std::string violations_text(const RunResult& result) {
  std::string text;
  for (const Violation& v : result.violations) text += "\n  " + v.invariant + ": " + v.detail;
  return text;
}

// RapidCheck's parameters: the case budget, a fixed seed, shrinking on.
rc::detail::TestParams params(int cases) {
  rc::detail::TestParams p;
  p.seed = kRapidCheckSeed;
  p.maxSuccess = cases;
  p.maxSize = 100;
  p.maxDiscardRatio = 10;
  p.disableShrinking = false;
  return p;
}

rc::detail::TestMetadata metadata(const std::string& name) {
  rc::detail::TestMetadata m;
  m.id = "PropertyGate/" + name;
  m.description = name;
  return m;
}

std::string result_text(const rc::detail::TestResult& result) {
  std::ostringstream text;
  rc::detail::printResultMessage(result, text);
  return text.str();
}

TEST(PropertyGate, StorageFencingKeepsSafetyUnderAnyGeneratedSchedule) {
  // Any schedule of up to six pauses, crashes, partitions, clock jumps and delays on the
  // engines, the lock store and the database, under any generated lease and batch settings:
  // with storage fencing the safety invariants hold.
  const std::vector<std::string> safety = {"mutual-exclusion", "no-lost-writes", "data-consistency"};
  int cases = 0;
  const auto property = [&](const std::vector<FaultSpec>& faults, const Settings& s, std::uint64_t seed) {
    ++cases;
    const RunResult result = sim::simulate(scenario_with(Fencing::storage, s, faults), seed);
    for (const Violation& violation : result.violations) {
      if (std::find(safety.begin(), safety.end(), violation.invariant) != safety.end()) {
        RC_FAIL("seed " + std::to_string(seed) + " broke safety:" + violations_text(result));
      }
    }
  };
  const auto result = rc::detail::checkTestable(
      [&] { property(*schedule_of(any_fault()), *settings(), *simulation_seed()); }, metadata("storage-fencing"),
      params(case_budget()));
  EXPECT_TRUE(result.is<rc::detail::SuccessResult>()) << result_text(result);
  EXPECT_GE(cases, case_budget()) << "every case must have run";
}

TEST(PropertyGate, StorageFencingPropertyCatchesAStoreThatIgnoresTokens) {
  // The safety property is not vacuous: run against a deliberately broken database that accepts
  // stale tokens under storage fencing, pause schedules break mutual exclusion and the check fails.
  const auto property = [](const std::vector<FaultSpec>& faults, const Settings& s, std::uint64_t seed) {
    const RunResult result =
        sim::simulate(scenario_with(Fencing::storage, s, faults), seed, sim::WorldOptions{.store_ignores_tokens = true});
    RC_ASSERT_FALSE(std::any_of(result.violations.begin(), result.violations.end(),
                                [](const Violation& v) { return v.invariant == "mutual-exclusion"; }));
  };
  rc::detail::TestParams no_shrinking = params(std::max(case_budget(), 50));
  no_shrinking.disableShrinking = true;  // only the failure matters here, not its smallest form
  const auto result = rc::detail::checkTestable(
      [&] { property(*schedule_of(engine_pause()), *settings(), *simulation_seed()); }, metadata("broken-store"),
      no_shrinking);
  EXPECT_TRUE(result.is<rc::detail::FailureResult>()) << "a store that ignores tokens went unnoticed: "
                                                      << result_text(result);
}

// The last failing case RapidCheck tried: along its shrink path every failing case replaces
// the one before, so after rc::check it holds the shrunk counterexample.
struct FailingCase {
  std::vector<FaultSpec> faults;
  std::uint64_t seed = 0;
  Settings settings;
};

TEST(PropertyGate, NoFencingFailsAndShrinksToAtMostTwoFaults) {
  // Pause schedules on the engines with fencing off: the property "no mutual-exclusion
  // violation" must fail, RapidCheck must shrink it to at most two faults, and the shrunk case,
  // written as a scenario file, must violate mutual-exclusion again under `rehearse run`.
  std::optional<FailingCase> last_failure;
  int runs = 0;
  const auto property = [&](const std::vector<FaultSpec>& faults, const Settings& s, std::uint64_t seed) {
    ++runs;
    const RunResult result = sim::simulate(scenario_with(Fencing::none, s, faults), seed);
    const bool broken = std::any_of(result.violations.begin(), result.violations.end(),
                                    [](const Violation& v) { return v.invariant == "mutual-exclusion"; });
    if (broken) last_failure = FailingCase{faults, seed, s};
    RC_ASSERT_FALSE(broken);
  };
  // Enough cases to find a failure (it is not rare); the failure ends the search early.
  const int cases = std::max(case_budget(), 50);
  const auto result = rc::detail::checkTestable(
      [&] { property(*schedule_of(engine_pause()), *settings(), *simulation_seed()); }, metadata("no-fencing"),
      params(cases));
  ASSERT_TRUE(result.is<rc::detail::FailureResult>()) << "fencing: none survived " << cases
                                                      << " pause schedules: " << result_text(result);
  ASSERT_TRUE(last_failure.has_value());
  std::cerr << "shrunk in " << runs << " runs to seed " << last_failure->seed << ":" << schedule_text(last_failure->faults)
            << "\n";
  EXPECT_GE(last_failure->faults.size(), 1u) << "without a pause nothing should break";
  EXPECT_LE(last_failure->faults.size(), 2u) << "not shrunk enough:" << schedule_text(last_failure->faults);

  // The shrunk case as a scenario file, replayed by the binary.
  Scenario shrunk = scenario_with(Fencing::none, last_failure->settings, last_failure->faults);
  shrunk.name = "property-no-fencing-shrunk";
  shrunk.expect = ExpectSpec{.verdict = Verdict::violation, .invariants = {"mutual-exclusion"}};
  const std::string path = testing::write_temp_file(
      "property-no-fencing-shrunk.yaml",
      scenario_yaml_with_header(shrunk, last_failure->seed, "# Shrunk by RapidCheck (tests/property_test.cc).\n"));
  const auto replayed = testing::run_rehearse("run " + path + " --json");
  ASSERT_EQ(replayed.exit_code, 1) << replayed.err;
  const auto json = nlohmann::json::parse(replayed.out);
  EXPECT_EQ(json["seed"], last_failure->seed);
  bool seen = false;
  for (const auto& violation : json["violations"]) seen = seen || violation["invariant"] == "mutual-exclusion";
  EXPECT_TRUE(seen) << replayed.out;
}

}  // namespace
}  // namespace rehearse
