// `rehearse replay` (cli/replay.cc) in this process: every built-in scenario replays
// deterministically (exit 0: both runs give the same events and trace hash), and a
// deliberately injected determinism bug (sim::test_hooks: scheduling state leaking from one run
// into the next) makes it exit 1 and print the first differing event of the two runs.
#include <gtest/gtest.h>

#include "cli/commands_internal.h"
#include "scenarios/loader.h"
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
