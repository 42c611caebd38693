// Whole runs of the built-in scenarios: determinism (the same seed gives the same trace hash,
// in one process and in two), seed diversity, and the acceptance of the walking skeleton
// (gc-pause-no-fencing violates mutual exclusion, gc-pause-fenced passes and its fence works).
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

// Every built-in scenario run twice in one process: tests/replay_test.cc (through `rehearse replay`).

TEST(Determinism, SameSeedSameHashInTwoProcesses) {
  // Two separate `rehearse run --json` processes print the same trace_hash.
  const auto first = testing::run_rehearse("run gc-pause-fenced --seed 7 --json");
  const auto second = testing::run_rehearse("run gc-pause-fenced --seed 7 --json");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(nlohmann::json::parse(first.out)["trace_hash"], nlohmann::json::parse(second.out)["trace_hash"]);
}

TEST(Determinism, DifferentSeedsExploreDifferentHistories) {
  // Seeds 1..20 of the no-fencing scenario give at least 15 distinct trace hashes.
  const Scenario scenario = testing::builtin("gc-pause-no-fencing");
  std::set<std::string> hashes;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) hashes.insert(sim::simulate(scenario, seed).trace_hash);
  EXPECT_GE(hashes.size(), 15u);
}

TEST(GcPause, WithoutFencingMutualExclusionIsViolated) {
  // The paused holder's writes land after the new holder's on at least 9 of seeds 1..10.
  const Scenario scenario = testing::builtin("gc-pause-no-fencing");
  int violating = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    if (result.violated() && result.violations.front().invariant == "mutual-exclusion") ++violating;
  }
  EXPECT_GE(violating, 9);
}

TEST(GcPause, WithStorageFencingEverySeedPassesAndTheFenceWorks) {
  // Seeds 1..200 pass; on most of them the database rejected at least one stale write.
  const Scenario scenario = testing::builtin("gc-pause-fenced");
  int fenced = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    const RunResult result = sim::simulate(scenario, seed);
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << result.violations.front().detail;
    EXPECT_EQ(result.outcome, "completed") << "seed " << seed;
    if (result.stats.stale_writes_rejected > 0) ++fenced;
  }
  EXPECT_GE(fenced, 150);
}

}  // namespace
}  // namespace rehearse
