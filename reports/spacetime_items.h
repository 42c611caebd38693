// The items of the spacetime diagram: which events it draws, on which lane, which runs of
// writes it collapses into one summary node when the history is big, and the rank (step of
// time, left to right) of each. Internal to reports/.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/run_result.h"
#include "reports/facts.h"
#include "reports/figures.h"

namespace rehearse::reports {

// The lane of fault events whose targets name no node (e.g. `holder` with nobody holding).
inline constexpr const char* kFaultLane = "faults";

struct SpacetimeItem {
  std::uint64_t event = 0;  // the event drawn (a summary: the first event it stands for)
  std::string lane;         // node name, or kFaultLane
  TimeUs time_us = 0;
  std::size_t represents = 1;  // > 1: a summary node standing for that many events
  TimeUs last_us = 0;          // a summary: the time of the last event it stands for
  bool kinds_differ = false;   // a summary of writes of different kinds / writers
  bool folded = false;         // drawn on a folded lane (its label names its node)
  std::string summary;         // a summary on a folded lane: its label (what it stands for)
  int rank = 0;
};

// Above this many lanes, quiet lanes are folded (see spacetime_items).
inline constexpr std::size_t kSpacetimeLanesMax = 10;

struct SpacetimeCounts {
  std::size_t drawable = 0;
  std::vector<std::string> left_out;
  std::map<std::string, std::string> folded_into;  // node -> the folded lane it is drawn on
  std::map<std::string, int> folded_region;        // folded lane -> its region's index
};

// The drawable events of `result` in history order, summarised down to about
// kSpacetimeMaxNodes items; what was summarised or dropped is described in counts.left_out.
// With more than kSpacetimeLanesMax lanes, the quiet lanes (nodes with no phase, write,
// validation, lock grant or expiry and no violating event: engines that only started, crashed,
// restarted, or took the lock and found nothing to do) of each kind of node in each region
// share one folded lane, where each run of items less than kTimeBreakUs apart is one summary
// ("46 events on 23 nodes: node_start x23, ...").
std::vector<SpacetimeItem> spacetime_items(const RunResult& result, const RunFacts& facts,
                                           const std::set<std::uint64_t>& proving, SpacetimeCounts& counts);

// A step of time at least this long between two ranks is drawn as a visible break on the time
// axis; no rank spans this much time.
inline constexpr TimeUs kTimeBreakUs = kSec;

// Sorts the items by time and gives each a rank: the same rank as the previous item unless
// its lane already has an item at that rank or the rank began kTimeBreakUs or more before it,
// so ranks grow with time, lanes never collide and a rank's time label is near all its items.
void assign_ranks(std::vector<SpacetimeItem>& items);

// The edges between lanes: each lock grant to the acquisition it answered ("token N"), and
// the order of each violation's proving events (red).
std::string spacetime_cross_edges(const std::vector<SpacetimeItem>& items, const RunResult& result);

}  // namespace rehearse::reports
