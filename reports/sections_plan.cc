// The Contributing factors, Action items, Timeline and Figures sections.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/sections.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

constexpr std::size_t kTimelineRowsMax = 300;

std::optional<std::string> lock_milestone(const Event& event) {
  switch (event.kind) {
    case EventKind::lock_grant: return fmt::format("lock granted to {}, token {}", event.actor, event.token);
    case EventKind::lock_expire: return fmt::format("lease of {} expired on the store", event.actor);
    case EventKind::lock_lost: return fmt::format("lost its lease (token {}): {}", event.token, event.detail);
    case EventKind::lock_release: return fmt::format("released the lock (token {})", event.token);
    default: return std::nullopt;
  }
}

std::optional<std::string> milestone(const Event& event) {
  if (auto lock = lock_milestone(event)) return lock;
  switch (event.kind) {
    case EventKind::phase: return fmt::format("phase `{}` (token {})", event.detail, event.token);
    case EventKind::fault_start: return fmt::format("fault on: `{}`", event.detail);
    case EventKind::fault_end: return fmt::format("fault off: `{}`", event.detail);
    case EventKind::fault_skipped: return fmt::format("fault skipped: `{}`", event.detail);
    case EventKind::node_pause: return std::string("paused");
    case EventKind::node_resume: return std::string("resumed");
    case EventKind::node_crash: return std::string("crashed");
    case EventKind::node_restart: return std::string("restarted");
    case EventKind::engine_exit: return fmt::format("engine exited: {}", event.detail);
    case EventKind::validate:
      if (event.outcome != Outcome::failed) return std::nullopt;
      return fmt::format("validation failed: {}", event.detail);
    case EventKind::run_end: return std::string("run ended");
    default: return std::nullopt;
  }
}

struct Row {
  TimeUs time_us = 0;
  std::uint64_t order = 0;
  std::vector<std::string> cells;
  bool violation = false;
};

std::string region_of(const Event& event, const RunFacts& facts) {
  if (!event.region.empty()) return event.region;
  const LaneNode* node = facts.layout.find(event.node);
  return node != nullptr ? facts.layout.regions[node->region] : std::string("-");
}

// Fault events name their targets as written (`holder`); the row names the nodes they hit.
std::pair<std::string, std::string> node_and_region(const Event& event, const RunFacts& facts) {
  const bool fault = event.kind == EventKind::fault_start || event.kind == EventKind::fault_end ||
                     event.kind == EventKind::fault_skipped;
  if (!fault) return {event.node, region_of(event, facts)};
  for (const FaultWindow& window : facts.faults) {
    if ((window.start_event != event.id && window.end_event != event.id) || window.nodes.empty()) continue;
    std::string nodes;
    for (const std::string& node : window.nodes) nodes += (nodes.empty() ? "" : ", ") + node;
    const LaneNode* first = facts.layout.find(window.nodes.front());
    return {nodes, first != nullptr ? facts.layout.regions[first->region] : std::string("-")};
  }
  return {event.node, "-"};
}

std::vector<Row> timeline_rows(const RunResult& result, const RunFacts& facts) {
  std::vector<Row> rows;
  for (const Event& event : result.history.events()) {
    const auto text = milestone(event);
    if (!text) continue;
    const auto [node, region] = node_and_region(event, facts);
    rows.push_back({event.time_us, event.id * 2, {duration_text(event.time_us, DurationStyle::clock_spaced), region, node, *text}});
  }
  bool first = true;
  for (const Violation& violation : result.violations) {
    const LaneNode* node = facts.layout.find(violation.node);
    const std::string region = node != nullptr ? facts.layout.regions[node->region] : std::string("-");
    rows.push_back({violation.time_us, UINT64_MAX,
                    {duration_text(violation.time_us, DurationStyle::clock_spaced), region,
                     violation.node.empty() ? "-" : violation.node,
                     fmt::format("**{}violation: {}**: {}", first ? "first " : "", violation.invariant, violation.detail)},
                    true});
    first = false;
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& left, const Row& right) {
    return left.time_us != right.time_us ? left.time_us < right.time_us : left.order < right.order;
  });
  return rows;
}

std::string verification_text(const ActionItem& item, std::uint64_t seed, bool proposed) {
  if (!item.verified) return proposed ? "not verified (proposed; re-run the seed with the change)" : "not verified";
  return fmt::format("{} (seed {} re-run)", item.passes ? "**passes**" : "**still violates**", seed);
}

}  // namespace

void add_contributing_factors(Document& document, const ReportContext& context) {
  document.heading(2, "Contributing factors");
  if (context.findings.empty()) {
    document.paragraph("The plan lint (`rehearse plan`) finds no risky setting in this scenario.");
    return;
  }
  document.paragraph("Risky settings the plan lint (`rehearse plan`) finds in this scenario:");
  std::vector<std::string> items;
  for (const LintFinding& finding : context.findings) {
    items.push_back(fmt::format("**{}** `{}`: {}", to_string(finding.severity), finding.id, finding.message));
  }
  document.bullets(items);
}

void add_action_items(Document& document, const ReportContext& context) {
  document.heading(2, "Action items");
  if (context.action_items.empty()) {
    document.paragraph("No change to propose: the lint finds no risky setting and no invariant broke.");
    return;
  }
  document.paragraph(context.action_items_proposed
                         ? "Proposed changes; none was re-run for this report (the caller passed no verified items)."
                         : fmt::format("Each change was applied to the scenario and seed {} re-run.", context.input.seed));
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < context.action_items.size(); ++i) {
    const ActionItem& item = context.action_items[i];
    rows.push_back({std::to_string(i + 1), "`" + item.change + "`", item.rationale,
                    verification_text(item, context.input.seed, context.action_items_proposed),
                    item.rerun_trace_hash.empty() ? "-" : "`" + item.rerun_trace_hash + "`"});
  }
  document.table({"#", "Change", "Why", "Verified", "Re-run trace hash"}, rows);
}

void add_timeline(Document& document, const ReportContext& context) {
  document.heading(2, "Timeline");
  std::vector<Row> rows = timeline_rows(context.input.result, context.facts);
  std::size_t omitted = 0;
  if (rows.size() > kTimelineRowsMax) {
    std::vector<Row> kept;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const bool edge = i < kTimelineRowsMax / 2 || i >= rows.size() - kTimelineRowsMax / 2;
      if (edge || rows[i].violation) kept.push_back(rows[i]);
    }
    omitted = rows.size() - kept.size();
    rows = std::move(kept);
  }
  std::vector<std::vector<std::string>> cells;
  for (const Row& row : rows) cells.push_back(row.cells);
  document.paragraph("Milestones across regions in simulated time: phase changes, lock grants, expiries, losses and "
                     "releases, faults on and off, pauses and crashes, engine exits and the violations.");
  document.table({"Time", "Region", "Node", "Milestone"}, cells);
  if (omitted > 0) {
    document.paragraph(fmt::format("{} milestones in the middle of the run are left out here; history.jsonl has every event.",
                                   omitted));
  }
}

void add_figures(Document& document, const ReportContext& context) {
  document.heading(2, "Figures");
  const SpacetimeGraph& spacetime = context.spacetime;
  std::string caption = fmt::format("One lane per node grouped by region, time top to bottom (steps, not a scale: dotted "
                                    "breaks on the time column mark a second or more with nothing drawn). Blue lane segments: the "
                                    "engine believed it held the lock (token on the segment); thick grey dashed segments "
                                    "and grey nodes: fault windows; green: applied writes, red fill: rejected writes; "
                                    "red outline: the events that prove a violation. It draws {} of the {} drawable events as nodes of their own",
                                    count_text(static_cast<std::int64_t>(spacetime.drawn_events)),
                                    count_text(static_cast<std::int64_t>(spacetime.drawable_events)));
  caption += spacetime.summary_nodes > 0 ? fmt::format(" plus {} summary nodes.", spacetime.summary_nodes) : std::string(".");
  for (const std::string& note : spacetime.left_out) caption += " " + note;
  document.figure({"Spacetime diagram", "spacetime.svg", context.spacetime_svg, caption});
  document.figure({"Violations", "violation.svg", context.violation_svg,
                   "Per violation, the events that prove it (red) in time order, with the lock acquisitions, lease "
                   "expiries and faults around them (dashed); red edges say why the order is a violation."});
  document.figure({"Replication lag and application latency", "chart.svg", context.chart_svg,
                   context.input.result.samples.empty()
                       ? std::string("No samples: this run recorded no once-a-second metric samples.")
                       : std::string("Per region, once a second; fault windows shaded grey, SLO limits dashed red, "
                                     "violations as red rules.")});
  document.paragraph("Also in this directory: `trace.json` (open it in ui.perfetto.dev: one process per region, one "
                     "thread per node, spans for leases, phases and faults), `history.jsonl` (every event), "
                     "`result.json` (the `run --json` object) and `scenario.yaml` (the scenario as run).");
}

}  // namespace rehearse::reports
