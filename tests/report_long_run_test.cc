// The postmortem writer on a real long run: one simulated hour of a two-region migration with
// application traffic and a random fault swarm (tests/fixtures/hour-random-faults.yaml). Every
// SVG stays under 2 MB, the space-time diagram is summarised and says what it left out, and
// the trace is well formed. How long the writer takes is measured by the benchmark
// BM_ReportOneHourRandomFaults (tests/bench/report_bench.cc), not here.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/report.h"
#include "scenarios/loader.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

TEST(ReportLongRun, OneHourWithRandomFaultsIsSummarisedUnderTwoMegabytesPerFigure) {
  const LoadResult loaded = load_scenario_file(std::string(REHEARSE_SOURCE_DIR) + "/tests/fixtures/hour-random-faults.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
  const Scenario& scenario = *loaded.scenario;
  ASSERT_EQ(scenario.duration_us, kHour);
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_EQ(result.stats.sim_time_us, kHour) << "the run should last the whole simulated hour";
  EXPECT_GT(result.history.events().size(), 2000u) << "the hour should be a long history";
  EXPECT_GT(result.stats.faults_injected, 10);

  const std::string directory = testing::temp_dir() + "reports/hour";
  std::filesystem::remove_all(directory);
  const reports::ReportInput input{scenario, 1, result,
                                   reports::default_reproduce_command("tests/fixtures/hour-random-faults.yaml", 1), "test",
                                   {}, scenario_yaml(scenario, 1, result.history)};
  const Status written = reports::write_report(input, directory);
  ASSERT_TRUE(written.is_ok()) << written.to_string();
  for (const char* name : {"spacetime.svg", "violation.svg", "chart.svg"}) {
    const std::string path = directory + "/" + name;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_LT(std::filesystem::file_size(path), 2u * 1024 * 1024) << path;
  }
  EXPECT_LT(std::filesystem::file_size(directory + "/report.html"), 8u * 1024 * 1024);
  const std::string markdown = testing::read_whole_file(directory + "/report.md");
  EXPECT_NE(markdown.find("are summarised"), std::string::npos) << "the report must say what the diagram left out";
  const nlohmann::json trace = nlohmann::json::parse(testing::read_whole_file(directory + "/trace.json"));
  ASSERT_TRUE(trace.contains("traceEvents"));
  EXPECT_GT(trace["traceEvents"].size(), 100u);
}

}  // namespace
}  // namespace rehearse
