// `rehearse replay` (cli/replay.cc) in this process: every built-in scenario replays
// deterministically (exit 0: both runs give the same events and trace hash), and a
// deliberately injected determinism bug (sim::test_hooks: scheduling state leaking from one run
// into the next) makes it exit 1 and print the first differing event of the two runs.
#include <gtest/gtest.h>

#include "cli/commands_internal.h"
#include "scenarios/builtin.h"
#include "scenarios/loader.h"
#include "sim/world.h"
#include "sim/kernel.h"

namespace rehearse {
namespace {

int replay_quietly(const std::string& scenario, std::uint64_t seed, std::string* printed = nullptr) {
  ::testing::internal::CaptureStdout();
  const int code = cli::command_replay(cli::ReplayOptions{scenario, seed});
  const std::string out = ::testing::internal::GetCapturedStdout();
  if (printed != nullptr) *printed = out;
  return code;
}

TEST(Replay, EveryBuiltinScenarioReplaysDeterministically) {
  for (const auto& [name, summary] : list_builtin_scenarios()) {
    std::string out;
    EXPECT_EQ(replay_quietly(name, 1, &out), 0) << name << "\n" << out.substr(0, 2000);
    EXPECT_NE(out.find("deterministic: both runs gave the same"), std::string::npos) << name;
  }
}

// The trace hash is about what happened, not how the file is laid out: a comment and a blank
// line above every built-in (which moves every fault's line) leave the hash unchanged, so the
// scenario.yaml a report writes reproduces the run's hash.
TEST(Replay, TraceHashDoesNotDependOnWhereFaultsAreWritten) {
  int with_faults = 0;
  for (const BuiltinScenarioText& builtin : builtin_scenario_texts()) {
    const LoadResult plain = load_scenario_text(std::string(builtin.text), "a.yaml");
    const LoadResult moved = load_scenario_text("# a note\n\n" + std::string(builtin.text), "b.yaml");
    ASSERT_TRUE(plain.ok() && moved.ok()) << builtin.file_stem;
    with_faults += plain.scenario->faults.empty() ? 0 : 1;
    EXPECT_EQ(sim::simulate(*plain.scenario, 1).trace_hash, sim::simulate(*moved.scenario, 1).trace_hash) << builtin.file_stem;
  }
  EXPECT_GT(with_faults, 10);
}

TEST(Replay, InjectedNondeterminismExitsOneAndNamesTheFirstDifferingEvent) {
  sim::test_hooks::leaking_scheduling_state = true;
  std::string out;
  const int code = replay_quietly("gc-pause-fenced", 1, &out);
  sim::test_hooks::leaking_scheduling_state = false;
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("NOT DETERMINISTIC"), std::string::npos) << out;
  EXPECT_NE(out.find("first difference at event"), std::string::npos) << out;
  EXPECT_NE(out.find("  first run:  {"), std::string::npos) << out;
  EXPECT_NE(out.find("  second run: {"), std::string::npos) << out;
  // With the bug gone, the same seed replays cleanly again.
  EXPECT_EQ(replay_quietly("gc-pause-fenced", 1), 0);
}

}  // namespace
}  // namespace rehearse
