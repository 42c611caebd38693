// violation_dot() of reports/figures.h: the DOT source of violation.svg, top to bottom. One
// cluster per violation: its proving events (red) and, as grey context, the lock acquisitions of
// the tokens those events carry, the expiry of those leases and the faults that hit the
// writers, chained in time order; red edges between proving events say why their order is the
// violation.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/figures.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

constexpr std::size_t kProvingEventsShown = 12;

std::string event_label(const Event& event) {
  std::string what = to_string(event.kind);
  if (event.kind == EventKind::write) what = fmt::format("{} write {}", to_string(event.write), to_string(event.outcome));
  if (event.kind == EventKind::lock_acquire) what = "acquired the lock";
  std::string who;
  if (!event.actor.empty() && event.actor != event.node) {
    who = event.kind == EventKind::write ? " by " + event.actor : " (holder " + event.actor + ")";
  }
  std::string label = fmt::format("#{} at {}\n{}{}\n{}", event.id,
                                  duration_text(event.time_us, DurationStyle::clock_spaced), event.node, who, what);
  if (event.token != 0) label += fmt::format(", token {}", event.token);
  if (!event.detail.empty()) label += "\n" + shorten(event.detail, 48);
  return label;
}

// The context of the proving events: acquisitions of their tokens, expiries of those leases
// and faults that hit their writers before the violation.
std::set<std::uint64_t> context_events(const Violation& violation, const RunResult& result, const RunFacts& facts) {
  std::set<std::uint64_t> context;
  for (const std::uint64_t id : violation.events) {
    const Event* event = find_event(result.history, id);
    if (event == nullptr || event->actor.empty()) continue;
    for (const Lease& lease : facts.leases) {
      if (lease.engine != event->actor || lease.token != event->token || lease.start_us > event->time_us) continue;
      context.insert(lease.acquire_event);
      for (const Event& other : result.history.events()) {
        const bool expiry = other.kind == EventKind::lock_expire && other.actor == lease.engine &&
                            other.time_us >= lease.start_us && other.time_us <= violation.time_us;
        if (expiry) context.insert(other.id);
      }
    }
    for (const FaultWindow& window : facts.faults) {
      const bool hit = std::find(window.nodes.begin(), window.nodes.end(), event->actor) != window.nodes.end();
      if (hit && window.start_us <= violation.time_us) context.insert(window.start_event);
    }
  }
  for (const std::uint64_t id : violation.events) context.erase(id);
  return context;
}

// One violation's cluster and the ids of its first and last nodes (to stack the clusters).
struct Cluster {
  std::string dot;
  std::string first;
  std::string last;
};

Cluster violation_cluster(std::size_t index, const Violation& violation, const RunResult& result,
                          const RunFacts& facts) {
  std::string dot =
      fmt::format("  subgraph cluster_{} {{\n    label={}; color=\"#d62728\"; fontcolor=\"#d62728\";\n", index,
                  dot_quote(fmt::format("violation {}: {} at {} on {}\n{}", index + 1, violation.invariant,
                                        duration_text(violation.time_us, DurationStyle::clock_spaced),
                                        violation.node.empty() ? "the run" : violation.node,
                                        wrap_words(shorten(violation.detail, 180), 64))));
  std::vector<const Event*> chain;
  std::set<std::uint64_t> proving;
  for (const std::uint64_t id : violation.events) {
    const Event* event = find_event(result.history, id);
    if (event != nullptr && proving.size() < kProvingEventsShown && proving.insert(id).second) chain.push_back(event);
  }
  for (const std::uint64_t id : context_events(violation, result, facts)) {
    if (const Event* event = find_event(result.history, id)) chain.push_back(event);
  }
  std::sort(chain.begin(), chain.end(), [](const Event* left, const Event* right) { return left->id < right->id; });
  Cluster cluster;
  if (chain.empty()) {
    cluster.first = cluster.last = fmt::format("v{}_none", index);
    dot += fmt::format("    v{}_none [shape=note, label={}];\n", index,
                       dot_quote("no single events prove it: the checker judged the run's observations\n" +
                                 wrap_words(shorten(violation.detail, 180), 64)));
  }
  if (!chain.empty()) {
    cluster.first = fmt::format("v{}_{}", index, chain.front()->id);
    cluster.last = fmt::format("v{}_{}", index, chain.back()->id);
  }
  for (const Event* event : chain) {
    const bool red = proving.count(event->id) > 0;
    dot += fmt::format("    v{}_{} [label={}{}];\n", index, event->id, dot_quote(event_label(*event)),
                       red ? ", color=\"#d62728\", fontcolor=\"#d62728\", penwidth=2.5" : ", style=\"rounded,dashed\"");
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    dot += fmt::format("    v{0}_{1} -> v{0}_{2} [label={3}];\n", index, chain[i - 1]->id, chain[i]->id,
                       dot_quote(fmt::format("then (+{})", duration_text(chain[i]->time_us - chain[i - 1]->time_us,
                                                                         DurationStyle::rounded_spaced))));
  }
  const Event* previous = nullptr;
  for (const Event* event : chain) {
    if (proving.count(event->id) == 0) continue;
    if (previous != nullptr) {
      dot += fmt::format("    v{0}_{1} -> v{0}_{2} [color=\"#d62728\", fontcolor=\"#d62728\", penwidth=2.5, "
                         "constraint=false, xlabel={3}];\n",
                         index, previous->id, event->id, dot_quote(order_reason(*previous, *event)));
    }
    previous = event;
  }
  if (violation.events.size() > proving.size()) {
    dot += fmt::format("    v{}_more [shape=plaintext, label=\"and {} more proving events (see result.json)\"];\n",
                       index, violation.events.size() - proving.size());
  }
  cluster.dot = dot + "  }\n";
  return cluster;
}

}  // namespace

std::string violation_dot(const Scenario& scenario, const RunResult& result, const RunFacts& facts) {
  std::string dot = fmt::format(
      "digraph violations {{\n"
      "  graph [rankdir=TB, ranksep=0.3, fontname=\"Helvetica\", fontsize=12, labelloc=t, label={}];\n"
      "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=9];\n"
      "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#888888\"];\n",
      dot_quote(fmt::format("{} seed {}: the events that prove each violation", scenario.name, result.seed)));
  if (result.violations.empty()) {
    dot += "  none [shape=note, label=\"No violation: every invariant held in this run.\"];\n";
  }
  // One violation under the other, not side by side: an invisible edge from each cluster's last
  // node to the next one's first.
  std::string previous_last;
  for (std::size_t i = 0; i < result.violations.size(); ++i) {
    const Cluster cluster = violation_cluster(i, result.violations[i], result, facts);
    dot += cluster.dot;
    if (!previous_last.empty()) dot += fmt::format("  {} -> {} [style=invis];\n", previous_last, cluster.first);
    previous_last = cluster.last;
  }
  return dot + "}\n";
}

}  // namespace rehearse::reports
