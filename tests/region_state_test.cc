// The region states and phases as enums (core/region_state.h): every value's text parses back
// to it, any other text does not, and the engine's transition check refuses backward steps.
#include "core/region_state.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace rehearse {
namespace {

TEST(RegionState, EveryStateRoundTripsThroughItsText) {
  // The texts are the stored ones of cli.md, in rank order; each parses back to its state.
  const char* texts[] = {"pending",   "expanded",       "dual_write", "backfilling",
                         "validated", "reads_switched", "contracted", "rolled_back"};
  ASSERT_EQ(std::size(texts), std::size(kRegionStates));
  for (std::size_t i = 0; i < std::size(kRegionStates); ++i) {
    const RegionState state = kRegionStates[i];
    EXPECT_STREQ(to_string(state), texts[i]);
    EXPECT_EQ(parse_region_state(to_string(state)), state) << texts[i];
  }
}

TEST(RegionState, UnknownTextParsesToNothing) {
  // Near misses too: case, spaces, a phase's name that is no state, the empty text.
  for (const char* text : {"", "Pending", " pending", "pending ", "dual-write", "backfill", "switch_reads", "done"}) {
    EXPECT_EQ(parse_region_state(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(Phase, EveryPhaseRoundTripsThroughItsText) {
  // The texts are those of the engine's phase events, in runbook order.
  const char* texts[] = {"expand", "dual_write", "backfill", "validate", "switch_reads", "contract"};
  ASSERT_EQ(std::size(texts), std::size(kPhases));
  for (std::size_t i = 0; i < std::size(kPhases); ++i) {
    EXPECT_STREQ(to_string(kPhases[i]), texts[i]);
    EXPECT_EQ(parse_phase(texts[i]), kPhases[i]) << texts[i];
  }
  for (const char* text : {"", "Expand", "rollback", "health_gate", "expanded", "statement 1"}) {
    EXPECT_EQ(parse_phase(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(RegionState, TransitionsTheEngineMakesAreAllowed) {
  // Every change seen in the library scenarios (seeds 1..12), forward, rollback and re-validation.
  using S = RegionState;
  const std::pair<S, S> made[] = {
      {S::pending, S::expanded},          {S::expanded, S::dual_write},      {S::dual_write, S::backfilling},
      {S::backfilling, S::validated},     {S::validated, S::reads_switched}, {S::reads_switched, S::contracted},
      {S::backfilling, S::rolled_back},   {S::validated, S::validated},      {S::reads_switched, S::validated},
      {S::pending, S::rolled_back},       {S::reads_switched, S::rolled_back}};
  for (const auto& [from, to] : made) {
    EXPECT_TRUE(region_transition_allowed(from, to)) << to_string(from) << " -> " << to_string(to);
  }
}

TEST(RegionState, BackwardAndTerminalTransitionsAreRefused) {
  // Backward (other than re-validation), the same state again (other than validated), and
  // anything out of a terminal state.
  for (const RegionState from : kRegionStates) {
    for (const RegionState to : kRegionStates) {
      const bool terminal = from == RegionState::contracted || from == RegionState::rolled_back;
      const bool expected = !terminal && (to > from || to == RegionState::validated);
      EXPECT_EQ(region_transition_allowed(from, to), expected) << to_string(from) << " -> " << to_string(to);
    }
  }
  EXPECT_FALSE(region_transition_allowed(RegionState::validated, RegionState::backfilling));
  EXPECT_FALSE(region_transition_allowed(RegionState::contracted, RegionState::rolled_back));
  EXPECT_FALSE(region_transition_allowed(RegionState::rolled_back, RegionState::validated));
  EXPECT_FALSE(region_transition_allowed(RegionState::dual_write, RegionState::dual_write));
}

TEST(RegionStateDeathTest, AssertionStopsABackwardTransition) {
  // The engine calls assert_region_transition before every checkpoint write: a backward step
  // stops the program with the condition; an allowed one passes.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  assert_region_transition(RegionState::expanded, RegionState::dual_write);
  EXPECT_DEATH(assert_region_transition(RegionState::reads_switched, RegionState::expanded),
               "assertion failed: region_transition_allowed\\(from, to\\)");
  EXPECT_DEATH(assert_region_transition(RegionState::contracted, RegionState::rolled_back),
               "assertion failed: region_transition_allowed");
}

// The run's outcome, as both the simulator (sim/world.cc) and live mode (live_runner.cc) judge it.
TEST(RegionStateTest, RunOutcomeFromTheRegionsAndTheEngines) {
  const std::map<std::string, std::string> done{{"eu", "contracted"}, {"us", "contracted"}};
  const std::map<std::string, std::string> half{{"eu", "pending"}, {"us", "contracted"}};
  const std::map<std::string, std::string> back{{"eu", "pending"}, {"us", "rolled_back"}};
  EXPECT_STREQ(run_outcome(done, false, true), "completed");
  EXPECT_STREQ(run_outcome(done, true, true), "completed");  // every region contracted: done, whatever an engine did after
  EXPECT_STREQ(run_outcome({}, false, true), "completed");   // no region left behind
  EXPECT_STREQ(run_outcome(half, true, false), "halted");
  EXPECT_STREQ(run_outcome(back, false, true), "rolled_back");
  EXPECT_STREQ(run_outcome(back, false, false), "incomplete");  // an engine still running may go on
  EXPECT_STREQ(run_outcome(back, true, true), "halted");
  EXPECT_STREQ(run_outcome(half, false, true), "incomplete");
  // A state text that is no state (a damaged checkpoint row, live) is neither contracted nor rolled back.
  EXPECT_STREQ(run_outcome({{"us", "Contracted"}}, false, true), "incomplete");
  EXPECT_STREQ(run_outcome({{"us", "rolled back"}}, false, true), "incomplete");
}

}  // namespace
}  // namespace rehearse
