// The report's figures: the Graphviz sources of spacetime.svg and violation.svg (rendered by
// reports/graphviz.h) and the hand-written SVG chart of replication lag and application
// latency (chart.svg).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"
#include "reports/facts.h"

namespace rehearse::reports {

// Above this many drawable events the spacetime diagram is summarised further.
inline constexpr std::size_t kSpacetimeMaxNodes = 400;

struct SpacetimeGraph {
  std::string dot;
  std::size_t drawable_events = 0;  // events of the kinds the diagram shows
  std::size_t drawn_events = 0;     // of those, drawn as their own node
  std::size_t summary_nodes = 0;    // nodes standing for a run of collapsed events
  std::vector<std::string> left_out;  // sentences: what the diagram does not show, and why
};

// One lane per node, grouped by region (clusters), time top to bottom (rankdir=TB, one rank
// per step of time, a time column with visible breaks over idle time) so the figure is as wide
// as its lanes, not as long as the run; lock grants and acquisitions with their tokens,
// protected writes (applied green, rejected red), fault windows shaded, leases drawn as blue
// lane segments, the events that prove a violation in red. Runs of similar writes collapse
// into one "N backfill writes" node; above kSpacetimeLanesMax lanes quiet lanes are folded;
// above kSpacetimeMaxNodes events more is summarised (reports/spacetime_items.h).
SpacetimeGraph spacetime_dot(const Scenario& scenario, const RunResult& result, const RunFacts& facts);

// Per violation, a cluster of the events that prove it, in time order top to bottom (the
// clusters one under the other), with edges that say why the order is a violation ("applied
// after", "token 1 < 2"); the grants of the tokens involved as context. With no violation, one
// node saying so.
std::string violation_dot(const Scenario& scenario, const RunResult& result, const RunFacts& facts);

// Replication lag and application latency per region over time from result.samples, fault
// windows shaded, SLO limits dashed, violations marked; "no samples" when there are none.
std::string chart_svg(const Scenario& scenario, const RunResult& result, const RunFacts& facts);

}  // namespace rehearse::reports
