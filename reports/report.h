// The rehearsal postmortem writer (../shared/spec/reports.md): from one run's data — the
// scenario as run, the seed, the judged RunResult and the action items the caller verified —
// it writes report.md, report.html, spacetime.svg, violation.svg, chart.svg, trace.json,
// history.jsonl, result.json and scenario.yaml into a directory. It takes data, not a world:
// the caller (the CLI) runs the simulation, re-runs the proposed fixes and passes the results.
//
// Typical use:
//   RunResult result = sim::simulate(scenario, seed);
//   ReportInput input{scenario, seed, result, default_reproduce_command(argument, seed), build, {},
//                     scenario_yaml(scenario, seed, result.history)};
//   for (auto& [item, fixed] : propose_action_items(scenario, result)) {
//     RunResult rerun = sim::simulate(fixed, seed);
//     item.verified = true;
//     item.passes = !rerun.violated();
//     item.rerun_trace_hash = rerun.trace_hash;
//     input.action_items.push_back(item);
//   }
//   Status written = write_report(input, directory);
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"
#include "core/status.h"

namespace rehearse::reports {

// One concrete change to the scenario or the engine settings, and whether re-running the same
// seed with it applied passes.
struct ActionItem {
  std::string change;     // "set lock.fencing: storage"
  std::string rationale;  // why, in one sentence (the lint finding or the violated invariant)
  bool verified = false;  // the caller re-ran the seed with the change applied
  bool passes = false;    // ... and that run violated no invariant
  std::string rerun_trace_hash;
};

struct ReportInput {
  const Scenario& scenario;  // as run
  std::uint64_t seed = 0;
  const RunResult& result;
  std::string reproduce_command;  // e.g. default_reproduce_command("gc-pause-no-fencing", 7)
  std::string build = "unknown";  // the build's version (cli/version.h: "0.1.0 (4ae6ee9)"), or "unknown"
  std::vector<ActionItem> action_items;
  // The text of scenario.yaml: scenario_yaml(scenario, seed, result.history) of
  // scenarios/scenario_yaml.h, the scenario writer, which reports/ does not include (the
  // architecture's Folders table). Never empty.
  std::string scenario_yaml;
};

// The files write_report writes, in the order of reports.md (chart.svg last).
inline constexpr const char* kReportFiles[] = {"report.md",    "report.html",   "spacetime.svg",
                                               "violation.svg", "trace.json",    "history.jsonl",
                                               "result.json",   "scenario.yaml", "chart.svg"};

// Writes every report file into `directory`, creating it (and its parents) when needed.
// Returns unavailable, naming the path, when the directory cannot be created or a file cannot
// be written; invalid when Graphviz cannot lay a figure out. The date in the header comes from
// SOURCE_DATE_EPOCH when set (reproducible reports), otherwise from the current UTC date.
// REQUIRES: input.scenario_yaml is not empty.
Status write_report(const ReportInput& input, const std::string& directory);

// Fixes for the run, each as a modified copy of `scenario`: one per lint finding the settings
// show (fencing none/client -> storage, ttl vs. batch, lock_timeout, batch_size, ...) and one per
// violated invariant that has a settings fix not already proposed. Items are unverified; the
// caller re-runs the same seed on each scenario and fills verified / passes / rerun_trace_hash.
std::vector<std::pair<ActionItem, Scenario>> propose_action_items(const Scenario& scenario, const RunResult& result);

// "rehearse run SCENARIO --seed N" (the argument shell-quoted when it needs quoting).
std::string default_reproduce_command(const std::string& scenario_argument, std::uint64_t seed);

}  // namespace rehearse::reports
