// `rehearse report SCENARIO --seed N --out DIR` and `run --report DIR`: run the seed, re-run
// it with each proposed fix applied, and write the postmortem (reports/report.h).
#include <iostream>

#include "cli/commands_internal.h"
#include "cli/version.h"
#include "reports/report.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"

namespace rehearse::cli {

int write_postmortem(const Scenario& scenario, std::uint64_t seed, const RunResult& result, const std::string& reproduce_command,
                     const std::string& directory) {
  reports::ReportInput input{scenario, seed, result, reproduce_command, build_version(), {},
                             scenario_yaml(scenario, seed, result.history)};
  for (auto& [item, fixed] : reports::propose_action_items(scenario, result)) {
    const RunResult rerun = sim::simulate(fixed, seed);
    item.verified = true;
    item.passes = !rerun.violated();
    item.rerun_trace_hash = rerun.trace_hash;
    input.action_items.push_back(item);
  }
  const Status written = reports::write_report(input, directory);
  if (!written.is_ok()) {
    std::cerr << "rehearse: cannot write the report: " << written.to_string() << "\n";
    return written.is_unavailable() ? kExitEnvironment : kExitBadInput;
  }
  std::cerr << "rehearse: report written to " << directory << "/report.md\n";
  return result.violated() ? kExitViolation : kExitPass;
}

}  // namespace rehearse::cli
