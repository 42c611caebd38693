// spacetime_cross_edges() of reports/spacetime_items.h: the edges that cross lanes in the
// spacetime diagram. They do not constrain the layout (constraint=false); ranks do.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "reports/spacetime_items.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

std::string grant_edges(const std::vector<SpacetimeItem>& items, const History& history) {
  std::map<std::pair<std::int64_t, std::string>, std::uint64_t> grants;  // (token, holder) -> latest grant
  std::string dot;
  for (const SpacetimeItem& item : items) {
    if (item.represents > 1) continue;
    const Event& event = history.events()[item.event];
    if (event.kind == EventKind::lock_grant) grants[{event.token, event.actor}] = event.id;
    if (event.kind != EventKind::lock_acquire || event.outcome != Outcome::ok) continue;
    auto grant = grants.find({event.token, event.node});
    if (grant == grants.end()) continue;
    dot += fmt::format("  e{} -> e{} [constraint=false, arrowhead=normal, style=dashed, color=\"#1f77b4\", "
                       "fontcolor=\"#1f77b4\", xlabel=\"token {}\"];\n",
                       grant->second, event.id, event.token);
  }
  return dot;
}

std::string violation_edges(const std::vector<SpacetimeItem>& items, const RunResult& result) {
  std::set<std::uint64_t> drawn;
  for (const SpacetimeItem& item : items) {
    if (item.represents == 1) drawn.insert(item.event);
  }
  std::string dot;
  for (const Violation& violation : result.violations) {
    std::vector<const Event*> events;
    for (const std::uint64_t id : violation.events) {
      if (drawn.count(id) > 0) events.push_back(&result.history.events()[id]);
    }
    std::sort(events.begin(), events.end(), [](const Event* left, const Event* right) { return left->id < right->id; });
    for (std::size_t i = 1; i < events.size(); ++i) {
      dot += fmt::format("  e{} -> e{} [constraint=false, arrowhead=normal, color=\"#d62728\", fontcolor=\"#d62728\", "
                         "penwidth=2, headlabel={}, labelangle=-25, labeldistance=6, labelfontsize=8];\n",
                         events[i - 1]->id, events[i]->id, dot_quote(order_reason(*events[i - 1], *events[i])));
    }
  }
  return dot;
}

}  // namespace

std::string spacetime_cross_edges(const std::vector<SpacetimeItem>& items, const RunResult& result) {
  return grant_edges(items, result.history) + violation_edges(items, result);
}

}  // namespace rehearse::reports
