// JUnit XML for `rehearse sweep --junit FILE`, so CI systems show every seed as a test case:
// one <testsuite> (the scenario) in a <testsuites>, one <testcase> per seed, and a <failure>
// for a violating seed whose text lists the violations and the replay command.
#include <fmt/format.h>

#include "cli/commands_internal.h"
#include "core/duration.h"
#include "reports/text.h"

namespace rehearse::cli {

using reports::xml_escape;

namespace {

std::string seconds_attribute(std::int64_t microseconds) {
  return fmt::format("{}.{:03d}", microseconds / 1000000, static_cast<int>((microseconds % 1000000) / 1000));
}

std::string failure_element(const SeedOutcome& outcome, const std::string& scenario_argument) {
  const Violation& first = outcome.violations.front();
  std::string text;
  for (const Violation& violation : outcome.violations) {
    text += fmt::format("{} at {} on {}: {}\n", violation.invariant,
                        duration_text(violation.time_us, DurationStyle::clock), violation.node, violation.detail);
  }
  text += fmt::format("reproduce: {}\n", reproduce_command(scenario_argument, outcome.seed));
  return fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                     xml_escape(first.invariant + ": " + first.detail), xml_escape(first.invariant), xml_escape(text));
}

}  // namespace

std::string junit_xml(const SweepSummary& summary, const std::vector<SeedOutcome>& outcomes,
                      const std::string& scenario_argument) {
  const std::string name = xml_escape(summary.scenario);
  const std::string time = seconds_attribute(summary.wall_ms * 1000);
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"rehearse\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{}\">\n",
                     outcomes.size(), summary.violating_seeds.size(), time);
  xml += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{}\">\n",
                     name, outcomes.size(), summary.violating_seeds.size(), time);
  for (const SeedOutcome& outcome : outcomes) {
    xml += fmt::format("    <testcase classname=\"rehearse.{}\" name=\"seed {}\" time=\"{}\"", name, outcome.seed,
                       seconds_attribute(outcome.wall_us));
    if (!outcome.violated()) {
      xml += "/>\n";
      continue;
    }
    xml += ">\n" + failure_element(outcome, scenario_argument) + "    </testcase>\n";
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace rehearse::cli
