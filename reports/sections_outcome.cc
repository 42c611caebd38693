// The Detection and Resolution sections: which checker fired on which event and how long after
// the trigger, and what the engines did and where every region ended.
#include <algorithm>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/invariants.h"
#include "reports/sections.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

// The proving event at the violation's moment (the one that completed it), else the last.
const Event* detecting_event(const Violation& violation, const History& history) {
  const Event* chosen = nullptr;
  for (const std::uint64_t id : violation.events) {
    const Event* event = find_event(history, id);
    if (event == nullptr) continue;
    if (event->time_us == violation.time_us) return event;
    if (chosen == nullptr || event->id > chosen->id) chosen = event;
  }
  return chosen;
}

std::string detection_sentence(const Violation& violation, const ReportContext& context) {
  const RunResult& result = context.input.result;
  const Event* event = detecting_event(violation, result.history);
  std::string text = fmt::format("The **{}** checker fired", violation.invariant);
  text += event != nullptr ? fmt::format(" at event #{} (`{}` at {}, {})", event->id, to_string(event->kind),
                                         event->node, duration_text(event->time_us, DurationStyle::clock_spaced))
                           : fmt::format(" on the run's observations at {}",
                                         duration_text(violation.time_us, DurationStyle::clock_spaced));
  // A checker of observations reports the start of a 10 s window: look at faults within it too.
  const TimeUs horizon = violation.time_us + (violation.events.empty() ? 10 * kSec : 0);
  const auto faults = faults_before(context.facts, horizon, involved_nodes(violation, result.history));
  if (faults.empty()) return text + ", with no fault injected before it.";
  const FaultWindow& trigger = *faults.front();
  if (trigger.start_us > violation.time_us) {
    return text + fmt::format("; the fault `{}` began {} into the checker's 10 s window, at {}.", trigger.description,
                              duration_text(trigger.start_us - violation.time_us, DurationStyle::rounded_spaced),
                              duration_text(trigger.start_us, DurationStyle::clock_spaced));
  }
  return text + fmt::format(", {} after the trigger fault `{}` began at {}.",
                            duration_text(violation.time_us - trigger.start_us, DurationStyle::rounded_spaced),
                            trigger.description, duration_text(trigger.start_us, DurationStyle::clock_spaced));
}

std::string exits_sentence(const History& history) {
  std::string exits;
  for (const Event& event : history.events()) {
    if (event.kind == EventKind::engine_exit) {
      exits += fmt::format("{}{} exited at {} ({})", exits.empty() ? "" : "; ", event.node,
                           duration_text(event.time_us, DurationStyle::clock_spaced), event.detail);
    }
    if (event.kind == EventKind::node_crash && is_engine(event.node)) {
      exits += fmt::format("{}{} crashed at {}", exits.empty() ? "" : "; ", event.node,
                           duration_text(event.time_us, DurationStyle::clock_spaced));
    }
  }
  return exits.empty() ? "No engine exited before the run ended." : "Engines: " + exits + ".";
}

std::string outcome_sentence(const RunResult& result) {
  if (result.outcome == "completed") return "The migration **completed**: every region is contracted.";
  if (result.outcome == "rolled_back") return "The migration was **rolled back**: every region is on the old schema.";
  if (result.outcome == "halted") return "The engine **halted** (on_failure: halt) and left the regions where they were.";
  return "The migration was still **incomplete** when the run's time limit was reached.";
}

}  // namespace

void add_detection(Document& document, const ReportContext& context) {
  const RunResult& result = context.input.result;
  document.heading(2, "Detection");
  std::string checkers;
  for (const char* name : kInvariantNames) checkers += (checkers.empty() ? "`" : ", `") + std::string(name) + "`";
  if (!result.violated()) {
    document.paragraph(fmt::format("No checker fired. Every invariant held over the whole history: {}.", checkers));
    return;
  }
  std::vector<std::string> sentences;
  for (const Violation& violation : result.violations) sentences.push_back(detection_sentence(violation, context));
  document.bullets(sentences);
  document.paragraph(fmt::format("The checkers ({}) judge the recorded history and observations after the run; "
                                 "the times above are when the invariant first broke, in simulated time.",
                                 checkers));
}

void add_resolution(Document& document, const ReportContext& context) {
  const RunResult& result = context.input.result;
  document.heading(2, "Resolution");
  document.paragraph(
      outcome_sentence(result) + " " + exits_sentence(result.history) +
      fmt::format(" The run ended at {}.", duration_text(context.facts.end_us, DurationStyle::clock_spaced)));
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> regions = result.region_order;
  for (const auto& [region, state] : result.region_states) {
    if (std::find(regions.begin(), regions.end(), region) == regions.end()) regions.push_back(region);
  }
  for (const std::string& region : regions) {
    auto found = result.region_states.find(region);
    rows.push_back({region, found == result.region_states.end() ? "unknown" : "`" + found->second + "`"});
  }
  document.table({"Region", "Final state"}, rows);
}

}  // namespace rehearse::reports
