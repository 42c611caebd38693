// trace_json() of reports/trace_events.h: Chrome / Perfetto trace-event JSON. Spans are
// complete ("X") events, made to nest per thread before they are written; instants ("i")
// for faults, node life-cycle and violations; counters ("C") from the metric samples, or from
// the backfill writes when there are no samples.
#include "reports/trace_events.h"

#include <algorithm>
#include <map>

#include "reports/text.h"

namespace rehearse::reports {

namespace {

using nlohmann::json;

struct Span {
  int pid = 0;
  int tid = 0;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::string name;
  std::string category;
  json args;
};

struct Place {
  int pid = 0;
  int tid = 0;
};

Place place_of(const NodeLayout& layout, const std::string& node) {
  const LaneNode* lane = layout.find(node);
  if (lane == nullptr) return {layout.global_region(), 0};
  return {lane->region, lane->index};
}

json metadata(const NodeLayout& layout) {
  json events = json::array();
  for (std::size_t region = 0; region < layout.regions.size(); ++region) {
    events.push_back({{"ph", "M"}, {"ts", 0}, {"pid", region}, {"tid", 0}, {"name", "process_name"},
                      {"args", {{"name", layout.regions[region]}}}});
    events.push_back({{"ph", "M"}, {"ts", 0}, {"pid", region}, {"tid", 0}, {"name", "process_sort_index"},
                      {"args", {{"sort_index", region}}}});
  }
  for (const LaneNode& node : layout.nodes) {
    events.push_back({{"ph", "M"}, {"ts", 0}, {"pid", node.region}, {"tid", node.index}, {"name", "thread_name"},
                      {"args", {{"name", node.name}}}});
  }
  return events;
}

std::vector<Span> spans_of(const RunFacts& facts) {
  std::vector<Span> spans;
  for (const Lease& lease : facts.leases) {
    const Place place = place_of(facts.layout, lease.engine);
    spans.push_back(Span{place.pid, place.tid, lease.start_us, lease.end_us,
                         "lease token " + std::to_string(lease.token), "lock",
                         {{"token", lease.token}, {"ended_by", lease.ended_by}}});
  }
  for (const PhaseSpan& phase : facts.phases) {
    Place place = place_of(facts.layout, phase.engine);
    const int region = facts.layout.region_index(phase.region);
    if (region >= 0) place.pid = region;  // the engine's thread in the region it migrates
    spans.push_back(Span{place.pid, place.tid, phase.start_us, phase.end_us, phase.phase, "phase",
                         {{"region", phase.region}, {"token", phase.token}}});
  }
  for (const FaultWindow& window : facts.faults) {
    if (window.skipped || window.end_us <= window.start_us) continue;
    for (const std::string& node : window.nodes) {
      const Place place = place_of(facts.layout, node);
      spans.push_back(Span{place.pid, place.tid, window.start_us, window.end_us, "fault: " + window.description, "fault",
                           {{"line", window.line}}});
    }
  }
  return spans;
}

// Makes the spans of each thread nest: sorted by start (longer first), a span that starts
// inside another and would outlive it is cut at the other's end.
void nest(std::vector<Span>& spans) {
  std::stable_sort(spans.begin(), spans.end(), [](const Span& left, const Span& right) {
    if (left.pid != right.pid) return left.pid < right.pid;
    if (left.tid != right.tid) return left.tid < right.tid;
    if (left.start_us != right.start_us) return left.start_us < right.start_us;
    return left.end_us > right.end_us;
  });
  std::vector<const Span*> open;
  for (Span& span : spans) {
    while (!open.empty() && (open.back()->pid != span.pid || open.back()->tid != span.tid ||
                             open.back()->end_us <= span.start_us)) {
      open.pop_back();
    }
    if (!open.empty() && span.end_us > open.back()->end_us) {
      span.args["cut_at_parent_end_us"] = span.end_us;
      span.end_us = open.back()->end_us;
    }
    open.push_back(&span);
  }
}

json instant(const Place& place, TimeUs at, const std::string& name, const char* category, json args) {
  return {{"ph", "i"}, {"s", "t"}, {"ts", at}, {"pid", place.pid}, {"tid", place.tid}, {"name", name},
          {"cat", category}, {"args", std::move(args)}};
}

void add_instants(json& events, const RunResult& result, const RunFacts& facts) {
  for (const FaultWindow& window : facts.faults) {
    const Place place = window.nodes.empty() ? Place{facts.layout.global_region(), 0}
                                             : place_of(facts.layout, window.nodes.front());
    events.push_back(instant(place, window.start_us, (window.skipped ? "fault skipped: " : "fault: ") + window.description,
                             "fault", {{"event", window.start_event}}));
  }
  for (const Event& event : result.history.events()) {
    const bool life = event.kind == EventKind::node_crash || event.kind == EventKind::node_restart ||
                      event.kind == EventKind::lock_expire || event.kind == EventKind::lock_lost;
    if (!life) continue;
    events.push_back(instant(place_of(facts.layout, event.node), event.time_us, to_string(event.kind), "node",
                             {{"event", event.id}, {"detail", event.detail}}));
  }
  for (const Violation& violation : result.violations) {
    events.push_back(instant(place_of(facts.layout, violation.node), violation.time_us, "VIOLATION " + violation.invariant,
                             "violation", {{"detail", violation.detail}, {"events", violation.events}}));
  }
}

}  // namespace

json trace_json(const RunResult& result, const RunFacts& facts) {
  json events = metadata(facts.layout);
  std::vector<Span> spans = spans_of(facts);
  nest(spans);
  for (const Span& span : spans) {
    events.push_back({{"ph", "X"}, {"ts", span.start_us}, {"dur", span.end_us - span.start_us}, {"pid", span.pid},
                      {"tid", span.tid}, {"name", span.name}, {"cat", span.category}, {"args", span.args}});
  }
  add_instants(events, result, facts);
  add_counters(events, result, facts);
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"},
          {"otherData", {{"scenario", result.scenario}, {"seed", result.seed}, {"trace_hash", result.trace_hash}}}};
}

}  // namespace rehearse::reports
