// The engine's randomness (its retry jitter) is one named stream of the seed, which the
// simulator and live mode both open with engine_random (core/ports.h): `rehearse conform`'s two
// runs of a seed then retry a DDL after the same delays. Before, live mode drew from a stream of
// its own; with seed 139 the simulated ADD COLUMN retried 4 ms after its first lock_timeout and
// the live one 144 ms after, so the writers queued behind the second attempt waited 1.45 s in
// one world and 1.0 s in the other. These tests read the simulated engine's retries from the
// history and check each delay is the stream's draw.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/lock_session.h"
#include "core/plan.h"
#include "core/ports.h"
#include "core/random.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

// When each of engine-1's "expand DDL failed" notes was recorded: one per attempt, each attempt
// ending lock_timeout after it started.
std::vector<TimeUs> ddl_failures(const RunResult& result) {
  std::vector<TimeUs> times;
  for (const Event& event : result.history.events()) {
    if (event.node == "engine-1" && event.kind == EventKind::message && event.detail.rfind("expand DDL failed", 0) == 0) {
      times.push_back(event.time_us);
    }
  }
  return times;
}

TEST(EngineRandom, TheSimulatedEnginesDdlRetriesWaitTheStreamsDraws) {
  const Scenario scenario = testing::builtin("lock-timeout");  // 200 ms lock_timeout, full jitter from 500 ms
  const MigrationPlan plan = compile_plan(scenario).value();
  for (std::uint64_t seed : {1, 2, 139}) {
    sim::World world(scenario, seed, plan);
    const std::vector<TimeUs> failures = ddl_failures(world.run());
    ASSERT_GE(failures.size(), 4u) << "seed " << seed;
    StreamRandom random = engine_random(seed, "engine-1", 1, 1);
    for (std::size_t attempt = 0; attempt + 1 < failures.size(); ++attempt) {
      const TimeUs backoff = backoff_delay(scenario.engine.backoff, static_cast<int>(attempt), random);
      const TimeUs between = failures[attempt + 1] - failures[attempt] - scenario.engine.lock_timeout_us;
      // The rest of the interval is the statement's round trip and its fence: milliseconds.
      EXPECT_GE(between, backoff) << "seed " << seed << ", retry " << attempt + 1;
      EXPECT_LT(between, backoff + 10 * kMs) << "seed " << seed << ", retry " << attempt + 1;
    }
  }
}

// The names are the simulator's since before live mode shared them: renaming the stream would
// move every built-in scenario's trace hash.
TEST(EngineRandom, StreamNamesAndStartDelaysKeepTheSimulatorsOrder) {
  EXPECT_EQ(engine_stream_name("engine-1", 1, 1), "engine-engine-1-1001");
  EXPECT_EQ(engine_stream_name("engine-3", 3, 2), "engine-engine-3-3002");
  Rng starts(9, "engine-starts");
  const std::int64_t first = starts.uniform(0, 1'000'000);
  const std::int64_t second = starts.uniform(0, 1'000'000);
  EXPECT_EQ(engine_start_delay_us(9, 1, 0, 1'000'000), first);
  EXPECT_EQ(engine_start_delay_us(9, 2, 0, 1'000'000), second);
}

}  // namespace
}  // namespace rehearse
