// The mutual-exclusion checker: it passes clean histories, catches a stale write applied after
// a later holder's, and catches a deliberately broken store that forgets to check tokens.
#include "core/checkers.h"

#include <gtest/gtest.h>

#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

Event applied_write(const std::string& database, const std::string& actor, std::int64_t token, TimeUs at) {
  return Event{.time_us = at, .node = database, .kind = EventKind::write, .outcome = Outcome::applied,
               .write = WriteKind::backfill, .token = token, .actor = actor};
}

TEST(MutualExclusionChecker, PassesWritesInTokenOrder) {
  // Writes whose tokens never go down at any database are not a violation.
  History history;
  history.append(applied_write("db:a", "engine-1", 1, 10));
  history.append(applied_write("db:a", "engine-1", 1, 20));
  history.append(applied_write("db:a", "engine-2", 2, 30));
  history.append(applied_write("db:b", "engine-1", 1, 40));  // another database: its own order
  EXPECT_TRUE(check_mutual_exclusion(history).empty());
}

TEST(MutualExclusionChecker, CatchesStaleWriteAppliedAfterLaterHolder) {
  // engine-1 (token 1) writes after engine-2 (token 2) wrote: the proving events are both writes.
  History history;
  history.append(applied_write("db:a", "engine-1", 1, 10));
  history.append(applied_write("db:a", "engine-2", 2, 20));
  history.append(applied_write("db:a", "engine-1", 1, 30));
  const auto violations = check_mutual_exclusion(history);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].invariant, "mutual-exclusion");
  EXPECT_EQ(violations[0].time_us, 30);
  EXPECT_EQ(violations[0].node, "db:a");
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{2, 1}));
  EXPECT_NE(violations[0].detail.find("engine-1 (token 1)"), std::string::npos);
  EXPECT_NE(violations[0].detail.find("engine-2 (token 2)"), std::string::npos);
}

TEST(MutualExclusionChecker, CatchesTwoHoldersSharingOneToken) {
  // A store that lost its counter (a Redis failover) hands token 5 to engine-2 while engine-1
  // still writes with it: once engine-2 wrote, engine-1's next write is the violation. A clean
  // handover with the same token (engine-1 never writes again) is not.
  History handover;
  handover.append(applied_write("db:a", "engine-1", 5, 10));
  handover.append(applied_write("db:a", "engine-2", 5, 20));
  handover.append(applied_write("db:a", "engine-2", 5, 30));
  EXPECT_TRUE(check_mutual_exclusion(handover).empty());

  History shared;
  shared.append(applied_write("db:a", "engine-1", 5, 10));
  shared.append(applied_write("db:a", "engine-2", 5, 20));
  shared.append(applied_write("db:a", "engine-1", 5, 30));
  const auto violations = check_mutual_exclusion(shared);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].time_us, 30);
  EXPECT_EQ(violations[0].events, (std::vector<std::uint64_t>{2, 1}));
  EXPECT_NE(violations[0].detail.find("handed token 5 to two holders"), std::string::npos) << violations[0].detail;
}

TEST(MutualExclusionChecker, IgnoresRejectedWrites) {
  // A stale write that storage fencing rejected has no effect, so it is no violation.
  History history;
  history.append(applied_write("db:a", "engine-2", 2, 20));
  Event rejected = applied_write("db:a", "engine-1", 1, 30);
  rejected.outcome = Outcome::rejected;
  history.append(rejected);
  EXPECT_TRUE(check_mutual_exclusion(history).empty());
}

TEST(MutualExclusionChecker, CatchesStoreThatForgetsToCheckTokens) {
  // gc-pause-fenced passes with a correct store; with a store that accepts every token the
  // paused holder's stale writes land, and the checker must say so on most seeds.
  const Scenario scenario = testing::builtin("gc-pause-fenced");
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    EXPECT_FALSE(sim::simulate(scenario, seed).violated()) << "seed " << seed;
    const RunResult broken = sim::simulate(scenario, seed, sim::WorldOptions{.store_ignores_tokens = true});
    if (broken.violated() && broken.violations.front().invariant == "mutual-exclusion") ++caught;
  }
  EXPECT_GE(caught, 9);
}

}  // namespace
}  // namespace rehearse
