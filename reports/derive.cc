// derive_facts() of reports/facts.h: fault windows, leases, phase spans, stale writes accepted
// and the overlap of lock beliefs, each from one pass over the history.
#include <algorithm>
#include <map>

#include "reports/facts.h"

namespace rehearse::reports {

namespace {

// "pause holder for 20s" from "pause holder for 20s [engine-2]".
std::string fault_description(const std::string& detail) {
  const auto open = detail.rfind(" [");
  if (open != std::string::npos && !detail.empty() && detail.back() == ']') return detail.substr(0, open);
  return detail;
}

// Whether a fault of this description ends on its own with a fault_end event.
bool ends_with_fault_end(const std::string& description) {
  const bool instant_clock = description.rfind("clock of ", 0) == 0 &&
                             (description.find(" jumps ") != std::string::npos ||
                              description.find(" offset ") != std::string::npos);
  const bool failover = description.rfind("failover", 0) == 0;
  const bool crash = description.rfind("crash", 0) == 0;
  return !instant_clock && !failover && !crash;
}

struct OpenFault {
  std::size_t window = 0;
  std::string target;  // the event's node field (the fault's targets as written)
};

void close_fault_end(std::vector<FaultWindow>& windows, std::vector<OpenFault>& open, const Event& event) {
  for (auto it = open.begin(); it != open.end(); ++it) {
    FaultWindow& window = windows[it->window];
    if (it->target != event.node || window.line != event.a) continue;
    if (window.description.rfind(event.detail, 0) != 0) continue;
    window.end_us = event.time_us;
    window.end_event = event.id;
    open.erase(it);
    return;
  }
}

void close_crash(std::vector<FaultWindow>& windows, std::vector<OpenFault>& open, const Event& event) {
  for (auto it = open.begin(); it != open.end(); ++it) {
    FaultWindow& window = windows[it->window];
    if (window.description.rfind("crash", 0) != 0) continue;
    if (std::find(window.nodes.begin(), window.nodes.end(), event.node) == window.nodes.end()) continue;
    window.end_us = event.time_us;
    window.end_event = event.id;
    open.erase(it);
    return;
  }
}

std::vector<FaultWindow> fault_windows(const NodeLayout& layout, const History& history, TimeUs end_us) {
  std::vector<FaultWindow> windows;
  std::vector<OpenFault> open;
  for (const Event& event : history.events()) {
    if (event.kind == EventKind::fault_start || event.kind == EventKind::fault_skipped) {
      FaultWindow window{event.id, std::nullopt, event.time_us, event.time_us, fault_description(event.detail),
                         fault_nodes(layout, event), static_cast<int>(event.a), event.kind == EventKind::fault_skipped};
      const bool lasting = !window.skipped && (ends_with_fault_end(window.description) ||
                                               window.description.find("restart after") != std::string::npos);
      const bool never_restarts = !window.skipped && window.description.rfind("crash", 0) == 0 && !lasting;
      if (never_restarts) window.end_us = end_us;
      windows.push_back(std::move(window));
      if (lasting) open.push_back(OpenFault{windows.size() - 1, event.node});
    } else if (event.kind == EventKind::fault_end) {
      close_fault_end(windows, open, event);
    } else if (event.kind == EventKind::node_restart) {
      close_crash(windows, open, event);
    }
  }
  for (const OpenFault& still_open : open) windows[still_open.window].end_us = end_us;
  return windows;
}

void close_lease(std::map<std::string, Lease>& open, std::vector<Lease>& leases, const Event& event,
                 const char* why) {
  auto it = open.find(event.node);
  if (it == open.end()) return;
  it->second.end_us = event.time_us;
  it->second.end_event = event.id;
  it->second.ended_by = why;
  leases.push_back(it->second);
  open.erase(it);
}

std::vector<Lease> derive_leases(const History& history, TimeUs end_us) {
  std::vector<Lease> leases;
  std::map<std::string, Lease> open;
  for (const Event& event : history.events()) {
    if (!is_engine(event.node)) continue;
    switch (event.kind) {
      case EventKind::lock_acquire:
        if (event.outcome != Outcome::ok) break;
        close_lease(open, leases, event, "re-acquired");
        open[event.node] = Lease{event.node, event.token, event.id, event.time_us, end_us, std::nullopt, "run ended"};
        break;
      case EventKind::lock_release: close_lease(open, leases, event, "released"); break;
      case EventKind::lock_lost: close_lease(open, leases, event, "lost"); break;
      case EventKind::node_crash: close_lease(open, leases, event, "crashed"); break;
      case EventKind::engine_exit: close_lease(open, leases, event, "exited"); break;
      default: break;
    }
  }
  for (auto& [engine, lease] : open) leases.push_back(lease);
  std::sort(leases.begin(), leases.end(),
            [](const Lease& left, const Lease& right) { return left.acquire_event < right.acquire_event; });
  return leases;
}

TimeUs overlap_of(const std::vector<Lease>& leases) {
  std::vector<std::pair<TimeUs, int>> changes;
  for (const Lease& lease : leases) {
    changes.emplace_back(lease.start_us, +1);
    changes.emplace_back(lease.end_us, -1);
  }
  std::sort(changes.begin(), changes.end());  // at equal times, ends (-1) come first
  TimeUs overlap = 0;
  int believers = 0;
  TimeUs previous = 0;
  for (const auto& [time, change] : changes) {
    if (believers >= 2) overlap += time - previous;
    believers += change;
    previous = time;
  }
  return overlap;
}

std::vector<PhaseSpan> derive_phases(const History& history, TimeUs end_us) {
  std::vector<PhaseSpan> spans;
  std::map<std::pair<std::string, std::string>, PhaseSpan> open;  // by (engine, region)
  auto close = [&](auto it, TimeUs at) {
    it->second.end_us = at;
    spans.push_back(it->second);
    return open.erase(it);
  };
  for (const Event& event : history.events()) {
    const bool stops = event.kind == EventKind::lock_release || event.kind == EventKind::lock_lost ||
                       event.kind == EventKind::node_crash || event.kind == EventKind::engine_exit;
    const bool terminal = event.kind == EventKind::region_state &&
                          (event.detail == "contracted" || event.detail == "rolled_back");
    if (event.kind == EventKind::phase || terminal) {
      auto it = open.find({event.node, event.region});
      if (it != open.end()) close(it, event.time_us);
    }
    if (event.kind == EventKind::phase) {
      open[{event.node, event.region}] =
          PhaseSpan{event.node, event.region, event.detail, event.token, event.id, event.time_us, end_us};
    }
    if (!stops) continue;
    for (auto it = open.begin(); it != open.end();) it = it->first.first == event.node ? close(it, event.time_us) : std::next(it);
  }
  for (auto& [key, span] : open) spans.push_back(span);
  std::sort(spans.begin(), spans.end(), [](const PhaseSpan& left, const PhaseSpan& right) { return left.event < right.event; });
  return spans;
}

}  // namespace

RunFacts derive_facts(const Scenario& scenario, const RunResult& result) {
  RunFacts facts;
  const History& history = result.history;
  facts.end_us = history.events().empty() ? 0 : history.events().back().time_us;
  facts.layout = layout_nodes(scenario, history);
  facts.faults = fault_windows(facts.layout, history, facts.end_us);
  facts.leases = derive_leases(history, facts.end_us);
  facts.phases = derive_phases(history, facts.end_us);
  facts.overlapping_belief_us = overlap_of(facts.leases);
  std::map<std::string, std::int64_t> highest_by_database;
  for (const Event& event : history.events()) {
    if (event.kind != EventKind::write || event.outcome != Outcome::applied) continue;
    std::int64_t& highest = highest_by_database[event.node];
    if (event.token < highest) facts.stale_writes_accepted.push_back(event.id);
    highest = std::max(highest, event.token);
  }
  return facts;
}

}  // namespace rehearse::reports
