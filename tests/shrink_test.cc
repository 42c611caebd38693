// `rehearse shrink` as users run it (the binary): a violating seed of the swarm-mode GC-pause
// scenario becomes a scenario file of at most two explicit faults that `rehearse run` shows
// violating the same invariant; written faults are shortened; a passing seed, bad input and an
// unwritable output exit 0, 2 and 3 as cli.md says.
#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::run_rehearse;

// A violating seed of gc-pause-random-faults whose ten drawn faults shrink to one (seed 1, the
// other violating seed of 1..30, ends at a 1-minimal schedule of four: delta debugging is
// greedy). If a change to the simulator moves it, `rehearse sweep gc-pause-random-faults
// --count 100` lists the violating seeds to pick from.
constexpr std::uint64_t kSwarmSeed = 25;

bool violates(const RunResult& result, const std::string& invariant) {
  return std::any_of(result.violations.begin(), result.violations.end(),
                     [&invariant](const Violation& v) { return v.invariant == invariant; });
}

TEST(Shrink, SwarmSeedShrinksToAtMostTwoFaultsThatStillViolate) {
  // Acceptance (issue 6): a violating seed of gc-pause-random-faults shrinks to a file with at
  // most two explicit faults and no random_faults, which `rehearse run` shows violating
  // mutual-exclusion again. The --json summary tells the same story.
  const Scenario swarm = testing::builtin("gc-pause-random-faults");
  ASSERT_TRUE(swarm.random_faults.has_value());
  const std::uint64_t seed = kSwarmSeed;
  ASSERT_TRUE(violates(sim::simulate(swarm, seed), "mutual-exclusion")) << "seed " << seed << " no longer violates";
  const std::string path = testing::temp_dir() + "shrunk-swarm.yaml";
  const auto shrunk = run_rehearse("shrink gc-pause-random-faults --seed " + std::to_string(seed) + " --json --out " + path);
  ASSERT_EQ(shrunk.exit_code, 1) << shrunk.err;
  const auto json = nlohmann::json::parse(shrunk.out);
  EXPECT_EQ(json["invariant"], "mutual-exclusion");
  EXPECT_EQ(json["verified"], true);
  EXPECT_GT(json["faults_drawn"].get<int>(), 2) << "the seed should start from more than the result";
  EXPECT_LE(json["faults_after"].get<int>(), 2);
  EXPECT_EQ(json["faults"].size(), json["faults_after"].get<std::size_t>());
  EXPECT_NE(shrunk.err.find("shrink: ddmin"), std::string::npos) << "progress lines on stderr: " << shrunk.err;

  const Scenario written = testing::from_text(testing::read_whole_file(path));
  EXPECT_FALSE(written.random_faults.has_value());
  EXPECT_LE(written.faults.size(), 2u);
  EXPECT_EQ(written.seed, seed);
  EXPECT_EQ(written.name, "gc-pause-random-faults-shrunk");
  ASSERT_EQ(written.expect.invariants, std::vector<std::string>{"mutual-exclusion"});

  const auto replayed = run_rehearse("run " + path + " --json");
  ASSERT_EQ(replayed.exit_code, 1) << replayed.err;
  const auto run = nlohmann::json::parse(replayed.out);
  EXPECT_EQ(run["seed"], seed);
  EXPECT_EQ(run["violations"][0]["invariant"], "mutual-exclusion");
}

TEST(Shrink, BuggifyIsASwarmFeatureTurnedOff) {
  // With BUGGIFY fault points on, the seed still violates without them, so the swarm pass turns
  // them off and the written scenario has `buggify` off (and still reproduces).
  std::string text = testing::read_whole_file(std::string(REHEARSE_SOURCE_DIR) +
                                              "/scenarios/library/gc-pause-random-faults.yaml");
  text.replace(text.find("faults: []"), 10, "buggify: true\nfaults: []");
  const std::string input = testing::write_temp_file("buggify-swarm.yaml", text);
  ASSERT_TRUE(testing::from_text(text).buggify);
  const std::string path = testing::temp_dir() + "shrunk-buggify.yaml";
  const auto shrunk = run_rehearse("shrink " + input + " --seed " + std::to_string(kSwarmSeed) + " --json --out " + path);
  ASSERT_EQ(shrunk.exit_code, 1) << shrunk.err;
  const auto json = nlohmann::json::parse(shrunk.out);
  EXPECT_EQ(json["buggify"], false);
  EXPECT_EQ(json["verified"], true);
  EXPECT_FALSE(testing::from_text(testing::read_whole_file(path)).buggify);
}

TEST(Shrink, WrittenFaultIsKeptButShortened) {
  // gc-pause-no-fencing's one written fault (a 20 s pause of the holder, 10 s lease) is needed,
  // so it stays; but a shorter pause still breaks mutual exclusion, and shrink finds one. The
  // text summary names the result, the file and the replay command.
  const std::string path = testing::temp_dir() + "shrunk-written.yaml";
  const auto shrunk = run_rehearse("shrink gc-pause-no-fencing --seed 1 --out " + path);
  ASSERT_EQ(shrunk.exit_code, 1) << shrunk.err;
  EXPECT_NE(shrunk.out.find("shrink gc-pause-no-fencing seed 1: mutual-exclusion"), std::string::npos) << shrunk.out;
  EXPECT_NE(shrunk.out.find("schedule: 1 written + 0 drawn by random_faults = 1 faults"), std::string::npos) << shrunk.out;
  EXPECT_NE(shrunk.out.find("wrote " + path), std::string::npos) << shrunk.out;
  EXPECT_NE(shrunk.out.find("reproduce: rehearse run " + path + " --seed 1"), std::string::npos) << shrunk.out;

  const Scenario written = testing::from_text(testing::read_whole_file(path));
  ASSERT_EQ(written.faults.size(), 1u);
  EXPECT_EQ(written.faults[0].kind, FaultKind::pause);
  EXPECT_LT(written.faults[0].for_us, 20 * kSec) << "the pause was not shortened";
  EXPECT_GE(written.faults[0].for_us, 100 * kMs);
  const RunResult again = sim::simulate(written, 1);
  ASSERT_TRUE(again.violated());
  EXPECT_EQ(again.violations[0].invariant, "mutual-exclusion");
}

TEST(Shrink, WithoutAFlagTheMostSevereInvariantIsShrunk) {
  // Acceptance (issue 11, item 5): a swarm seed without fencing whose injected faults break
  // availability first (20 writes and 20 reads a second against default SLOs) and whose paused
  // holder later splits the brain shrinks to mutual-exclusion with no --invariant, and says so.
  // If a simulator change moves it, `rehearse sweep tests/fixtures/swarm-no-fencing-traffic.yaml
  // --seeds 1..100 --json` lists seeds under both invariants in by_invariant (83, 1, 77 today).
  const std::string fixture = std::string(REHEARSE_SOURCE_DIR) + "/tests/fixtures/swarm-no-fencing-traffic.yaml";
  constexpr std::uint64_t kSeed = 83;
  const Scenario swarm = testing::from_text(testing::read_whole_file(fixture));
  ASSERT_EQ(swarm.lock.fencing, Fencing::none);
  ASSERT_TRUE(swarm.random_faults.has_value());
  const RunResult first = sim::simulate(swarm, kSeed);
  ASSERT_TRUE(violates(first, "availability")) << "seed " << kSeed << " no longer violates availability";
  ASSERT_TRUE(violates(first, "mutual-exclusion")) << "seed " << kSeed << " no longer violates mutual-exclusion";
  ASSERT_EQ(first.violations.front().invariant, "availability") << "the test needs availability to break first";

  const auto shrunk = run_rehearse("shrink " + fixture + " --seed " + std::to_string(kSeed) + " --json");
  ASSERT_EQ(shrunk.exit_code, 1) << shrunk.err;
  const auto json = nlohmann::json::parse(shrunk.out);
  EXPECT_EQ(json["invariant"], "mutual-exclusion");
  EXPECT_EQ(json["invariant_chosen_by"], "severity");
  EXPECT_EQ(json["violated"], nlohmann::json({"mutual-exclusion", "availability"}));
  EXPECT_EQ(json["verified"], true);
  EXPECT_EQ(json["violation"]["invariant"], "mutual-exclusion");
  EXPECT_NE(shrunk.err.find("shrinking mutual-exclusion, the most severe"), std::string::npos) << shrunk.err;

  // --invariant still picks another one the seed violates.
  const auto chosen = run_rehearse("shrink " + fixture + " --seed " + std::to_string(kSeed) +
                                   " --invariant availability --max-runs 5 --json");
  ASSERT_EQ(chosen.exit_code, 1) << chosen.err;
  const auto chosen_json = nlohmann::json::parse(chosen.out);
  EXPECT_EQ(chosen_json["invariant"], "availability");
  EXPECT_EQ(chosen_json["invariant_chosen_by"], "flag");
}

TEST(Shrink, PassingSeedHasNothingToShrink) {
  // A seed that violates nothing exits 0 and writes no file.
  const std::string path = testing::temp_dir() + "shrunk-nothing.yaml";
  std::remove(path.c_str());
  const auto result = run_rehearse("shrink gc-pause-fenced --seed 1 --out " + path);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("nothing to shrink"), std::string::npos) << result.out;
  FILE* file = std::fopen(path.c_str(), "r");
  EXPECT_EQ(file, nullptr) << "no file is written for a passing seed";
  if (file != nullptr) std::fclose(file);
}

TEST(Shrink, AnotherInvariantThanTheSeedBreaksHasNothingToShrink) {
  // --invariant names what must keep breaking; a seed that does not break it exits 0.
  const auto result = run_rehearse("shrink gc-pause-no-fencing --seed 1 --invariant liveness");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("liveness not violated; nothing to shrink"), std::string::npos) << result.out;
}

TEST(Shrink, BadInputExitsTwo) {
  // An unknown scenario, a missing --seed and an unknown invariant name are bad input.
  EXPECT_EQ(run_rehearse("shrink no-such-scenario-here --seed 1").exit_code, 2);
  EXPECT_EQ(run_rehearse("shrink gc-pause-no-fencing").exit_code, 2);
  EXPECT_EQ(run_rehearse("shrink gc-pause-no-fencing --seed 1 --max-runs 0").exit_code, 2);
  const auto unknown = run_rehearse("shrink gc-pause-no-fencing --seed 1 --invariant split-brain");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("not an invariant name"), std::string::npos) << unknown.err;
}

TEST(Shrink, UnwritableOutputExitsThree) {
  // The output is opened before any shrinking: a path in a missing directory exits 3.
  const auto result = run_rehearse("shrink gc-pause-no-fencing --seed 1 --out /nonexistent-dir/shrunk.yaml");
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("cannot write"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace rehearse
