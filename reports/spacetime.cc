// spacetime_dot() of reports/figures.h: the DOT source of spacetime.svg. Regions are clusters,
// each node a lane (a column: a chain of its events in one dot group), one rank per step of
// time, a column of time labels on the left with visible breaks over idle time; leases colour
// the engine's lane blue, fault windows shade it grey.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/figures.h"
#include "reports/spacetime_items.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

const char* const kApplied = "#d9f2d9";
const char* const kRejected = "#fdd0c8";
const char* const kLock = "#d6e6f7";
const char* const kLockTrouble = "#fff0c2";
const char* const kFault = "#d9d9d9";
const char* const kPhase = "#eadcf5";
const char* const kLease = "#1f77b4";
const char* const kViolation = "#d62728";

struct Look {
  std::string label;
  std::string fill = "white";
  std::string shape = "box";
};

Look write_look(const Event& event) {
  const bool rejected = event.outcome == Outcome::rejected;
  return {fmt::format("{}{}\n{} token {}", rejected ? "REJECTED " : "", shorten(event.detail, 34), event.actor, event.token),
          rejected ? kRejected : kApplied, "box"};
}

Look lock_look(const Event& event) {
  switch (event.kind) {
    case EventKind::lock_acquire: return {fmt::format("acquired lock\ntoken {}", event.token), kLock, "box"};
    case EventKind::lock_grant: return {fmt::format("grant token {}\nto {}", event.token, event.actor), kLock, "box"};
    case EventKind::lock_expire: return {fmt::format("lease of {}\nexpired", event.actor), kLockTrouble, "box"};
    case EventKind::lock_lost: return {fmt::format("lost lease\n(token {})", event.token), kLockTrouble, "box"};
    case EventKind::lock_release: return {fmt::format("released\ntoken {}", event.token), kLock, "box"};
    default: return {fmt::format("renew failed\n(token {})", event.token), kLockTrouble, "box"};
  }
}

// "fault: pause holder for\n20s\n[engine-2]": lines of at most 24 characters and the nodes hit
// on a line of their own, so the octagon stays about as narrow as the lane.
std::string fault_label(const std::string& prefix, const std::string& detail) {
  const std::size_t nodes = detail.find(" [");
  const std::string what = wrap_words(prefix + shorten(detail.substr(0, nodes), 60), 24);
  return nodes == std::string::npos ? what : what + "\n" + shorten(detail.substr(nodes + 1), 30);
}

Look event_look(const Event& event) {
  switch (event.kind) {
    case EventKind::write: return write_look(event);
    case EventKind::lock_acquire:
    case EventKind::lock_grant:
    case EventKind::lock_expire:
    case EventKind::lock_lost:
    case EventKind::lock_release:
    case EventKind::lock_renew: return lock_look(event);
    case EventKind::fault_start: return {fault_label("fault: ", event.detail), kFault, "octagon"};
    case EventKind::fault_end: return {fault_label("fault ends: ", event.detail), kFault, "octagon"};
    case EventKind::fault_skipped: return {fault_label("fault skipped: ", event.detail), kFault, "octagon"};
    case EventKind::phase: return {fmt::format("phase {}\n{}", event.detail, event.region), kPhase, "cds"};
    case EventKind::validate:
      return {fmt::format("validate {}\n{}", to_string(event.outcome), shorten(event.detail, 30)),
              event.outcome == Outcome::failed ? kRejected : kPhase, "box"};
    case EventKind::engine_exit: return {"exit: " + event.detail, "white", "box"};
    default: return {fmt::format("{}{}", to_string(event.kind), event.detail.empty() ? "" : "\n" + shorten(event.detail, 30)),
                     event.kind == EventKind::node_pause || event.kind == EventKind::node_crash ? kFault : "white", "box"};
  }
}

std::string node_id(const SpacetimeItem& item) { return fmt::format("e{}", item.event); }

bool in_fault(const RunFacts& facts, const std::string& lane, TimeUs from, TimeUs to) {
  for (const FaultWindow& window : facts.faults) {
    if (window.skipped || window.end_us <= window.start_us) continue;
    if (from < window.start_us || to > window.end_us) continue;
    if (std::find(window.nodes.begin(), window.nodes.end(), lane) != window.nodes.end()) return true;
  }
  return false;
}

const Lease* lease_over(const RunFacts& facts, const std::string& lane, TimeUs from, TimeUs to) {
  for (const Lease& lease : facts.leases) {
    if (lease.engine == lane && from >= lease.start_us && to <= lease.end_us) return &lease;
  }
  return nullptr;
}

std::string item_node(const SpacetimeItem& item, std::size_t lane_index, const History& history, const RunFacts& facts,
                      const std::set<std::uint64_t>& proving) {
  const Event& event = history.events()[item.event];
  Look look = event_look(event);
  std::string when = duration_text(item.time_us, DurationStyle::clock_spaced);
  if (item.folded) look.label = event.node + ": " + look.label;
  if (item.represents > 1 && !item.summary.empty()) {
    look = {item.summary, kFault, "note"};
    when = duration_text(item.time_us, DurationStyle::clock_spaced) + " .. " +
           duration_text(item.last_us, DurationStyle::clock_spaced);
  } else if (item.represents > 1) {
    look = {item.kinds_differ ? fmt::format("{} writes and validations", item.represents)
                              : fmt::format("{} {} writes\n{} token {}", item.represents, to_string(event.write),
                                            event.actor, event.token),
            item.kinds_differ ? "white" : kApplied, "note"};
    when = duration_text(item.time_us, DurationStyle::clock_spaced) + " .. " +
           duration_text(item.last_us, DurationStyle::clock_spaced);
  }
  if (in_fault(facts, item.lane, item.time_us, item.time_us) && look.fill == "white") look.fill = kFault;
  // One `group` per lane: dot keeps the edges within a group straight, so a lane stays a column.
  std::string attributes = fmt::format("label={}, shape={}, fillcolor=\"{}\", group=l{}",
                                       dot_quote(look.label + "\n" + when), look.shape, look.fill, lane_index);
  if (look.shape == "cds") attributes += ", margin=\"0.16,0.08\"";  // room for the label beside the arrow point
  if (proving.count(item.event) > 0) attributes += fmt::format(", color=\"{0}\", fontcolor=\"{0}\", penwidth=3", kViolation);
  return fmt::format("    {} [{}];\n", node_id(item), attributes);
}

std::string lane_edge(const SpacetimeItem& from, const SpacetimeItem& to, const RunFacts& facts, bool& lease_labelled) {
  std::string attributes = fmt::format("minlen={}", std::max(1, to.rank - from.rank));
  const Lease* lease = lease_over(facts, from.lane, from.time_us, to.time_us);
  if (lease != nullptr) {
    attributes += fmt::format(", color=\"{}\", penwidth=2.5", kLease);
    if (!lease_labelled || from.event == lease->acquire_event) {
      attributes += fmt::format(", label=\"lease token {}\", fontcolor=\"{}\"", lease->token, kLease);
      lease_labelled = true;
    }
  } else {
    lease_labelled = false;
  }
  if (in_fault(facts, from.lane, from.time_us, to.time_us)) {
    attributes += fmt::format(", penwidth=7, style=dashed{}", lease != nullptr ? "" : ", color=\"#aaaaaa\"");
  }
  return fmt::format("    {} -> {} [{}];\n", node_id(from), node_id(to), attributes);
}

struct Lanes {
  std::vector<std::string> order;                            // layout order
  std::map<std::string, std::vector<const SpacetimeItem*>> items;
};

// Lanes in layout order; a folded lane where its first node would be.
Lanes group_lanes(const std::vector<SpacetimeItem>& items, const RunFacts& facts, const SpacetimeCounts& counts) {
  Lanes lanes;
  for (const SpacetimeItem& item : items) lanes.items[item.lane].push_back(&item);
  for (const LaneNode& node : facts.layout.nodes) {
    auto folded = counts.folded_into.find(node.name);
    const std::string& lane = folded != counts.folded_into.end() ? folded->second : node.name;
    const bool placed = std::find(lanes.order.begin(), lanes.order.end(), lane) != lanes.order.end();
    if (lanes.items.count(lane) > 0 && !placed) lanes.order.push_back(lane);
  }
  if (lanes.items.count(kFaultLane) > 0) lanes.order.push_back(kFaultLane);
  return lanes;
}

int lane_region(const RunFacts& facts, const SpacetimeCounts& counts, const std::string& lane) {
  if (auto folded = counts.folded_region.find(lane); folded != counts.folded_region.end()) return folded->second;
  const LaneNode* node = facts.layout.find(lane);
  return node != nullptr ? node->region : facts.layout.global_region();
}

std::string emit_lane(const std::string& lane, std::size_t index, const Lanes& lanes, const RunResult& result,
                      const RunFacts& facts, const std::set<std::uint64_t>& proving) {
  const auto& items = lanes.items.at(lane);
  std::string dot = fmt::format("    h{0} [label={1}, shape=plaintext, style=\"\", fontsize=11, group=l{0}];\n", index,
                                dot_quote(lane));
  for (const SpacetimeItem* item : items) dot += item_node(*item, index, result.history, facts, proving);
  dot += fmt::format("    h{} -> {} [minlen={}, style=invis];\n", index, node_id(*items.front()), items.front()->rank + 1);
  bool lease_labelled = false;
  for (std::size_t i = 1; i < items.size(); ++i) dot += lane_edge(*items[i - 1], *items[i], facts, lease_labelled);
  return dot;
}

std::string emit_clusters(const Lanes& lanes, const RunResult& result, const RunFacts& facts,
                          const SpacetimeCounts& counts, const std::set<std::uint64_t>& proving) {
  std::string dot;
  for (std::size_t region = 0; region < facts.layout.regions.size(); ++region) {
    std::string body;
    for (std::size_t i = 0; i < lanes.order.size(); ++i) {
      if (lane_region(facts, counts, lanes.order[i]) != static_cast<int>(region)) continue;
      body += emit_lane(lanes.order[i], i, lanes, result, facts, proving);
    }
    if (body.empty()) continue;
    dot += fmt::format("  subgraph cluster_{} {{\n    label={}; style=filled; fillcolor=\"#f6f6f6\"; color=\"#bbbbbb\";\n",
                       region, dot_quote(facts.layout.regions[region]));
    dot += body + "  }\n";
  }
  return dot;
}

// The time column (left): one label per rank, and `rank=same` groups that pin every item to
// its rank. Ranks are steps, not a scale, so idle time takes no room; when nothing is drawn
// for kTimeBreakUs or more (from the last item of a rank to the first of the next) the axis
// shows a visible break: a dotted segment saying how long.
std::string emit_time_axis(const std::vector<SpacetimeItem>& items, const Lanes& lanes) {
  std::map<int, std::vector<const SpacetimeItem*>> by_rank;
  for (const SpacetimeItem& item : items) by_rank[item.rank].push_back(&item);
  std::string dot = "  th [label=\"time\", shape=plaintext, style=\"\"];\n  { rank=same; th;";
  for (std::size_t i = 0; i < lanes.order.size(); ++i) dot += fmt::format(" h{};", i);
  // Invisible edges within the header row keep the lanes in layout order, left to right.
  dot += " th";
  for (std::size_t i = 0; i < lanes.order.size(); ++i) dot += fmt::format(" -> h{}", i);
  dot += " [style=invis]; }\n";
  std::string previous = "th";
  std::optional<TimeUs> previous_us;  // the last item of the previous rank
  for (const auto& [rank, members] : by_rank) {
    const std::string axis = fmt::format("t{}", rank);
    const TimeUs at = members.front()->time_us;
    dot += fmt::format("  {} [label={}, shape=plaintext, style=\"\", fontsize=8];\n", axis,
                       dot_quote(duration_text(at, DurationStyle::clock_spaced)));
    if (previous_us && at - *previous_us >= kTimeBreakUs) {
      dot += fmt::format(
          "  {} -> {} [style=dotted, penwidth=2, color=\"#888888\", fontcolor=\"#555555\", label={}];\n", previous,
          axis, dot_quote(fmt::format("{} later", duration_text(at - *previous_us, DurationStyle::rounded_spaced))));
    } else {
      dot += fmt::format("  {} -> {} [style=invis];\n", previous, axis);
    }
    dot += fmt::format("  {{ rank=same; {};", axis);
    for (const SpacetimeItem* item : members) dot += " " + node_id(*item) + ";";
    dot += " }\n";
    previous = axis;
    previous_us = 0;
    for (const SpacetimeItem* item : members) previous_us = std::max(*previous_us, item->last_us);
  }
  return dot;
}

}  // namespace

SpacetimeGraph spacetime_dot(const Scenario& scenario, const RunResult& result, const RunFacts& facts) {
  std::set<std::uint64_t> proving;
  for (const Violation& violation : result.violations) proving.insert(violation.events.begin(), violation.events.end());
  SpacetimeCounts counts;
  std::vector<SpacetimeItem> items = spacetime_items(result, facts, proving, counts);
  assign_ranks(items);
  const Lanes lanes = group_lanes(items, facts, counts);
  SpacetimeGraph graph;
  graph.drawable_events = counts.drawable;
  graph.left_out = counts.left_out;
  for (const SpacetimeItem& item : items) (item.represents > 1 ? graph.summary_nodes : graph.drawn_events) += 1;
  graph.dot = fmt::format(
      "digraph spacetime {{\n"
      "  graph [rankdir=TB, newrank=true, nodesep=0.15, ranksep=0.14, fontname=\"Helvetica\", fontsize=12, "
      "labelloc=t, label={}];\n"
      "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=9, "
      "margin=\"0.06,0.03\", height=0.3];\n"
      "  edge [arrowhead=none, color=\"#999999\", fontname=\"Helvetica\", fontsize=8];\n",
      dot_quote(fmt::format("{} seed {}: one lane per node, time top to bottom", scenario.name, result.seed)));
  graph.dot += emit_time_axis(items, lanes);  // first: the time column goes left of the lanes
  graph.dot += emit_clusters(lanes, result, facts, counts, proving);
  graph.dot += spacetime_cross_edges(items, result);
  graph.dot += "}\n";
  return graph;
}

}  // namespace rehearse::reports
