// The sections of report.md / report.html, in the order of ../shared/spec/reports.md, each
// added to a Document from the run's data and the facts derived from it. Internal to reports/.
#pragma once

#include <string>
#include <vector>

#include "core/lint.h"
#include "reports/document.h"
#include "reports/facts.h"
#include "reports/figures.h"
#include "reports/report.h"

namespace rehearse::reports {

struct ReportContext {
  const ReportInput& input;
  const RunFacts& facts;
  std::vector<LintFinding> findings;    // lint(scenario)
  std::vector<ActionItem> action_items;  // the caller's, or unverified proposals when it gave none
  bool action_items_proposed = false;    // action_items are proposals nobody re-ran
  std::string date;                      // YYYY-MM-DD (UTC)
  SpacetimeGraph spacetime;              // its left_out notes go under the figure
  std::string spacetime_svg;
  std::string violation_svg;
  std::string chart_svg;
};

void add_header(Document& document, const ReportContext& context);
void add_summary(Document& document, const ReportContext& context);
void add_impact(Document& document, const ReportContext& context);
void add_trigger_and_root_cause(Document& document, const ReportContext& context);
void add_detection(Document& document, const ReportContext& context);
void add_resolution(Document& document, const ReportContext& context);
void add_contributing_factors(Document& document, const ReportContext& context);
void add_action_items(Document& document, const ReportContext& context);
void add_timeline(Document& document, const ReportContext& context);
void add_figures(Document& document, const ReportContext& context);

// Helpers shared by the section writers.
// The names of the violated invariants, once each, in order: "mutual-exclusion, liveness".
std::string violated_invariants(const RunResult& result);
// The fault windows that started at or before `at`, latest first among those that hit one of
// `nodes` (when any does), else latest first.
std::vector<const FaultWindow*> faults_before(const RunFacts& facts, TimeUs at, const std::vector<std::string>& nodes);
// "pause holder for 20s (line 46) on engine-2 from 3.915 s to 23.915 s".
std::string fault_sentence(const FaultWindow& window);
// The nodes a violation involves: its node and the nodes and writers of its proving events.
std::vector<std::string> involved_nodes(const Violation& violation, const History& history);

}  // namespace rehearse::reports
