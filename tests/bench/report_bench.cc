// Benchmark of the postmortem writer (reports/report.h) on a large run: a synthetic history of
// 20,000 backfill writes by two engines around one lock handover, with once-a-second samples.
// Every iteration writes the whole report directory (Graphviz layout of the summarised
// spacetime diagram included); items_per_second counts history events.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "reports/report.h"
#include "scenarios/loader.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"

namespace {

using namespace rehearse;

RunResult large_run(const std::string& scenario_name, int writes) {
  RunResult result;
  result.scenario = scenario_name;
  result.seed = 1;
  result.outcome = "completed";
  result.region_order = {"us-east-1"};
  result.region_states = {{"us-east-1", "contracted"}};
  History& history = result.history;
  history.append(Event{.time_us = 10, .node = "lock-1", .kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = 1, .actor = "engine-1"});
  history.append(Event{.time_us = 20, .node = "engine-1", .kind = EventKind::lock_acquire, .outcome = Outcome::ok, .token = 1});
  for (int i = 0; i < writes; ++i) {
    const bool second = i >= writes / 2;
    if (i == writes / 2) {
      history.append(Event{.time_us = 1000LL * i + 1, .node = "engine-1", .kind = EventKind::lock_release, .outcome = Outcome::ok, .token = 1});
      history.append(Event{.time_us = 1000LL * i + 2, .node = "lock-1", .kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = 2, .actor = "engine-2"});
      history.append(Event{.time_us = 1000LL * i + 3, .node = "engine-2", .kind = EventKind::lock_acquire, .outcome = Outcome::ok, .token = 2});
    }
    history.append(Event{.time_us = 1000LL * i + 100, .node = "db:us-east-1", .kind = EventKind::write, .outcome = Outcome::applied,
                         .write = WriteKind::backfill, .token = second ? 2 : 1, .actor = second ? "engine-2" : "engine-1",
                         .region = "us-east-1", .detail = fmt::format("backfill ids {}..{}", i * 10 + 1, i * 10 + 10),
                         .a = i * 10 + 1, .b = i * 10 + 10});
  }
  history.append(Event{.time_us = 1000LL * writes + 200, .node = "world", .kind = EventKind::run_end});
  for (TimeUs at = kSec; at <= 1000LL * writes; at += kSec) {
    result.samples.push_back(MetricSample{at, "us-east-1", at / 100, at / 1000, 50, 0, at / 100});
  }
  result.stats.events = history.events().size();
  result.trace_hash = history.trace_hash_hex();
  return result;
}

void BM_ReportLargeRun(benchmark::State& state) {
  const LoadResult loaded = resolve_scenario("gc-pause-fenced");
  if (!loaded.ok()) {
    state.SkipWithError("gc-pause-fenced does not load");
    return;
  }
  const Scenario& scenario = *loaded.scenario;
  const RunResult result = large_run(scenario.name, static_cast<int>(state.range(0)));
  const std::string directory = (std::filesystem::temp_directory_path() / "rehearse-report-bench").string();
  const reports::ReportInput input{scenario, 1, result, reports::default_reproduce_command(scenario.name, 1), "bench", {},
                                   scenario_yaml(scenario, 1, result.history)};
  for (auto _ : state) {
    const Status written = reports::write_report(input, directory);
    if (!written.is_ok()) state.SkipWithError(written.to_string().c_str());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(result.history.events().size()));
  std::filesystem::remove_all(directory);
}
BENCHMARK(BM_ReportLargeRun)->Arg(20000)->Unit(benchmark::kMillisecond);

// A real long run: one simulated hour with a random fault swarm (tests/fixtures/hour-random-faults.yaml,
// seed 1), simulated once; each iteration writes the whole report. Reports the largest SVG's
// size as a counter (the aim: under 5 s per report, every SVG under 2 MB).
void BM_ReportOneHourRandomFaults(benchmark::State& state) {
  const LoadResult loaded = load_scenario_file(std::string(REHEARSE_SOURCE_DIR) + "/tests/fixtures/hour-random-faults.yaml");
  if (!loaded.ok()) {
    state.SkipWithError("tests/fixtures/hour-random-faults.yaml does not load");
    return;
  }
  const Scenario& scenario = *loaded.scenario;
  const RunResult result = sim::simulate(scenario, 1);
  const std::string directory = (std::filesystem::temp_directory_path() / "rehearse-report-hour-bench").string();
  const reports::ReportInput input{scenario, 1, result, reports::default_reproduce_command(scenario.name, 1), "bench", {},
                                   scenario_yaml(scenario, 1, result.history)};
  for (auto _ : state) {
    const Status written = reports::write_report(input, directory);
    if (!written.is_ok()) state.SkipWithError(written.to_string().c_str());
  }
  std::uintmax_t largest_svg = 0;
  for (const char* name : {"spacetime.svg", "violation.svg", "chart.svg"}) {
    largest_svg = std::max(largest_svg, std::filesystem::file_size(directory + "/" + name));
  }
  state.counters["events"] = static_cast<double>(result.history.events().size());
  state.counters["largest_svg_kB"] = static_cast<double>(largest_svg) / 1024.0;
  std::filesystem::remove_all(directory);
}
BENCHMARK(BM_ReportOneHourRandomFaults)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
