// The events the spacetime diagram draws, placed on lanes, summarised when there are too many,
// and given a rank (a step of time); reports/spacetime.cc turns them into DOT.
#include "reports/spacetime_items.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

constexpr std::size_t kRunKeptAtEachEnd = 1;  // writes kept on each side of a collapsed run
constexpr std::size_t kShortestCollapsedRun = 4;

bool drawable(const Event& event) {
  switch (event.kind) {
    case EventKind::lock_acquire: return event.outcome == Outcome::ok;
    case EventKind::lock_renew: return event.outcome != Outcome::ok;
    case EventKind::run_start:
    case EventKind::run_end:
    case EventKind::region_state:
    case EventKind::message: return false;
    default: return true;
  }
}

// Lock, fault, phase and life-cycle events are never collapsed; writes and validations may be.
bool minor(const Event& event) { return event.kind == EventKind::write || event.kind == EventKind::validate; }

std::string lane_of(const Event& event, const RunFacts& facts) {
  const bool fault = event.kind == EventKind::fault_start || event.kind == EventKind::fault_end ||
                     event.kind == EventKind::fault_skipped;
  if (!fault) return facts.layout.find(event.node) != nullptr ? event.node : std::string(kFaultLane);
  for (const FaultWindow& window : facts.faults) {
    const bool mine = window.start_event == event.id || window.end_event == event.id;
    if (mine && !window.nodes.empty()) return window.nodes.front();
  }
  return kFaultLane;
}

// Whether two writes belong to one run of "similar" writes.
bool similar(const Event& left, const Event& right) {
  return left.kind == EventKind::write && right.kind == EventKind::write && left.write == right.write &&
         left.actor == right.actor && left.token == right.token && left.outcome == right.outcome;
}

using Similarity = bool (*)(const Event&, const Event&);

bool both_minor(const Event& left, const Event& right) { return minor(left) && minor(right); }

// Collapses, in every lane, runs of at least kShortestCollapsedRun items that `same` joins
// (none of them proving a violation) into first, one summary item, last.
void collapse_runs(std::vector<SpacetimeItem>& items, const History& history, const std::set<std::uint64_t>& proving,
                   Similarity same) {
  std::map<std::string, std::vector<std::size_t>> by_lane;
  for (std::size_t i = 0; i < items.size(); ++i) by_lane[items[i].lane].push_back(i);
  std::vector<bool> removed(items.size(), false);
  auto event_of = [&](std::size_t i) -> const Event& { return history.events()[items[i].event]; };
  auto joins = [&](std::size_t first, std::size_t other) {
    return proving.count(items[first].event) == 0 && proving.count(items[other].event) == 0 &&
           same(event_of(first), event_of(other));
  };
  for (const auto& [lane, indexes] : by_lane) {
    std::size_t start = 0;
    while (start < indexes.size()) {
      std::size_t end = start + 1;
      while (end < indexes.size() && joins(indexes[start], indexes[end])) ++end;
      if (end - start >= kShortestCollapsedRun) {
        SpacetimeItem& summary = items[indexes[start + kRunKeptAtEachEnd]];
        for (std::size_t i = start + kRunKeptAtEachEnd + 1; i < end - kRunKeptAtEachEnd; ++i) {
          summary.represents += items[indexes[i]].represents;
          summary.kinds_differ = summary.kinds_differ || items[indexes[i]].kinds_differ ||
                                 !similar(event_of(indexes[start + kRunKeptAtEachEnd]), event_of(indexes[i]));
          removed[indexes[i]] = true;
        }
        summary.last_us = items[indexes[end - 1 - kRunKeptAtEachEnd]].last_us;
      }
      start = end;
    }
  }
  std::vector<SpacetimeItem> kept;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!removed[i]) kept.push_back(items[i]);
  }
  items = std::move(kept);
}

// Last resort when even the collapsed diagram is too big: keep the proving events and the
// first and last halves of the budget, in time order.
std::size_t cap_items(std::vector<SpacetimeItem>& items, const std::set<std::uint64_t>& proving,
                      std::vector<std::string>& left_out) {
  if (items.size() <= kSpacetimeMaxNodes) return 0;
  const std::size_t half = kSpacetimeMaxNodes / 2;
  std::vector<SpacetimeItem> kept;
  std::size_t dropped = 0;
  TimeUs first_dropped = 0;
  TimeUs last_dropped = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const bool edge = i < half || i >= items.size() - half;
    if (edge || proving.count(items[i].event) > 0) {
      kept.push_back(items[i]);
      continue;
    }
    if (dropped == 0) first_dropped = items[i].time_us;
    last_dropped = items[i].time_us;
    dropped += items[i].represents;
  }
  items = std::move(kept);
  left_out.push_back(fmt::format(
      "{} events between {} and {} are not drawn at all (the diagram keeps the first "
      "and last {} nodes and every violating event); history.jsonl has them.",
      count_text(static_cast<std::int64_t>(dropped)), duration_text(first_dropped, DurationStyle::clock_spaced),
      duration_text(last_dropped, DurationStyle::clock_spaced), half));
  return dropped;
}

// Whether the event makes its lane worth a column of its own when lanes are many: migration
// work and the lock store's grants and expiries (an engine that only started, took the lock,
// found nothing to do and left is quiet).
bool eventful(const Event& event) {
  switch (event.kind) {
    case EventKind::lock_grant:
    case EventKind::lock_expire:
    case EventKind::phase:
    case EventKind::write:
    case EventKind::validate: return true;
    default: return false;
  }
}

// "engine-1", "engine-1, engine-2", "engine-1 ... engine-24".
std::string node_range(const std::vector<std::string>& nodes) {
  if (nodes.size() == 2) return nodes.front() + ", " + nodes.back();
  if (nodes.size() == 1) return nodes.front();
  return nodes.front() + " ... " + nodes.back();
}

// "46 events on 23 nodes\nnode_start x23, engine_start x23" for the items at `run`.
std::string folded_summary(const std::vector<SpacetimeItem>& items, const std::vector<std::size_t>& run,
                           const History& history) {
  std::vector<std::pair<std::string, int>> kinds;  // in first-seen order
  std::set<std::string> nodes;
  std::size_t events = 0;
  for (const std::size_t i : run) {
    const Event& event = history.events()[items[i].event];
    nodes.insert(event.node);
    events += items[i].represents;
    const std::string kind = to_string(event.kind);
    auto found = std::find_if(kinds.begin(), kinds.end(), [&kind](const auto& entry) { return entry.first == kind; });
    if (found == kinds.end()) {
      kinds.emplace_back(kind, 1);
    } else {
      ++found->second;
    }
  }
  std::string text = fmt::format("{} events on {} node{}", events, nodes.size(), nodes.size() == 1 ? "" : "s");
  for (std::size_t k = 0; k < kinds.size() && k < 3; ++k) {
    text += fmt::format("{}{} x{}", k == 0 ? "\n" : ", ", kinds[k].first, kinds[k].second);
  }
  if (kinds.size() > 3) text += ", ...";
  return text;
}

// Folds the quiet lanes of each region into one lane when there are more than
// kSpacetimeLanesMax lanes, and collapses each run of its items less than kTimeBreakUs apart.
void fold_quiet_lanes(std::vector<SpacetimeItem>& items, const History& history, const RunFacts& facts,
                      const std::set<std::uint64_t>& proving, SpacetimeCounts& counts) {
  std::map<std::string, bool> quiet;  // lane -> no eventful or proving item
  for (const SpacetimeItem& item : items) {
    const bool loud = eventful(history.events()[item.event]) || proving.count(item.event) > 0;
    auto [entry, added] = quiet.emplace(item.lane, !loud);
    if (!added && loud) entry->second = false;
  }
  if (quiet.size() <= kSpacetimeLanesMax) return;
  // (region, kind of node: the name without its number) -> its quiet lanes, in layout order
  std::map<std::pair<int, std::string>, std::vector<std::string>> groups;
  for (const LaneNode& node : facts.layout.nodes) {
    auto found = quiet.find(node.name);
    if (found == quiet.end() || !found->second) continue;
    groups[{node.region, node.name.substr(0, node.name.find_last_not_of("0123456789") + 1)}].push_back(node.name);
  }
  std::size_t folded_nodes = 0;
  for (const auto& [group, nodes] : groups) {
    const int region = group.first;
    if (nodes.size() < 2) continue;
    const std::string lane = fmt::format("{} quiet nodes\n{}", nodes.size(), node_range(nodes));
    for (const std::string& node : nodes) counts.folded_into[node] = lane;
    counts.folded_region[lane] = region;
    folded_nodes += nodes.size();
  }
  if (folded_nodes == 0) return;
  for (SpacetimeItem& item : items) {
    auto found = counts.folded_into.find(item.lane);
    if (found == counts.folded_into.end()) continue;
    item.lane = found->second;
    item.folded = true;
  }
  // Runs on each folded lane: consecutive items (in time order) less than kTimeBreakUs apart.
  std::map<std::string, std::vector<std::vector<std::size_t>>> runs;  // folded lane -> runs of item indexes
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].folded) continue;
    auto& lane_runs = runs[items[i].lane];
    if (lane_runs.empty() || items[i].time_us - items[lane_runs.back().back()].last_us >= kTimeBreakUs) {
      lane_runs.emplace_back();
    }
    lane_runs.back().push_back(i);
  }
  std::vector<bool> removed(items.size(), false);
  for (const auto& [lane, lane_runs] : runs) {
    for (const std::vector<std::size_t>& run : lane_runs) {
      if (run.size() < 2) continue;
      SpacetimeItem& summary = items[run.front()];
      summary.summary = folded_summary(items, run, history);
      for (std::size_t k = 1; k < run.size(); ++k) {
        summary.represents += items[run[k]].represents;
        summary.last_us = std::max(summary.last_us, items[run[k]].last_us);
        removed[run[k]] = true;
      }
    }
  }
  std::vector<SpacetimeItem> kept;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!removed[i]) kept.push_back(items[i]);
  }
  items = std::move(kept);
  counts.left_out.push_back(fmt::format("With more than {} lanes, {} quiet nodes (no phase, write, validation, lock "
                                        "grant, expiry or violating event) share one lane per kind of node and "
                                        "region, their events summarised per burst.",
                                        kSpacetimeLanesMax, folded_nodes));
}

void note_hidden_kinds(const History& history, std::vector<std::string>& left_out) {
  std::size_t failed_acquires = 0;
  std::size_t renewals = 0;
  std::size_t messages = 0;
  for (const Event& event : history.events()) {
    if (event.kind == EventKind::lock_acquire && event.outcome != Outcome::ok) ++failed_acquires;
    if (event.kind == EventKind::lock_renew && event.outcome == Outcome::ok) ++renewals;
    if (event.kind == EventKind::message || event.kind == EventKind::region_state) ++messages;
  }
  left_out.push_back(fmt::format("Not drawn by design: {} failed lock attempts (retries while another engine held "
                                 "the lock), {} successful lease renewals, {} log lines and region-state records "
                                 "(the Timeline lists the state changes).",
                                 failed_acquires, renewals, messages));
}

}  // namespace

std::vector<SpacetimeItem> spacetime_items(const RunResult& result, const RunFacts& facts,
                                           const std::set<std::uint64_t>& proving, SpacetimeCounts& counts) {
  std::vector<SpacetimeItem> items;
  for (const Event& event : result.history.events()) {
    if (!drawable(event) && proving.count(event.id) == 0) continue;
    items.push_back(SpacetimeItem{event.id, lane_of(event, facts), event.time_us, 1, event.time_us});
  }
  counts.drawable = items.size();
  note_hidden_kinds(result.history, counts.left_out);
  fold_quiet_lanes(items, result.history, facts, proving, counts);
  collapse_runs(items, result.history, proving, similar);
  if (items.size() > kSpacetimeMaxNodes) collapse_runs(items, result.history, proving, both_minor);
  std::int64_t collapsed = 0;
  for (const SpacetimeItem& item : items) collapsed += item.represents > 1 ? static_cast<std::int64_t>(item.represents) : 0;
  if (collapsed > 0) {
    counts.left_out.push_back(fmt::format("{} protected writes and validations are summarised: runs of similar writes "
                                          "on one database (same kind, writer, token and outcome) are drawn as their "
                                          "first and last write around one \"N writes\" node.",
                                          count_text(collapsed)));
  }
  cap_items(items, proving, counts.left_out);
  return items;
}

void assign_ranks(std::vector<SpacetimeItem>& items) {
  std::stable_sort(items.begin(), items.end(), [](const SpacetimeItem& left, const SpacetimeItem& right) {
    return left.time_us != right.time_us ? left.time_us < right.time_us : left.event < right.event;
  });
  std::map<std::string, int> last_rank;
  int current = 0;
  TimeUs rank_start = items.empty() ? 0 : items.front().time_us;
  for (SpacetimeItem& item : items) {
    auto found = last_rank.find(item.lane);
    if ((found != last_rank.end() && found->second >= current) || item.time_us - rank_start >= kTimeBreakUs) {
      ++current;
      rank_start = item.time_us;
    }
    item.rank = current;
    last_rank[item.lane] = current;
  }
}

}  // namespace rehearse::reports
