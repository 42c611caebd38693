// The Trigger and root cause, Detection and Resolution sections: sentences built from the
// proving events of each violation and the leases, expiries, losses and faults around them.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/sections.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

constexpr std::size_t kViolationsNarrated = 3;
constexpr std::size_t kFaultsListed = 20;

// The lint findings that can explain a violation of each invariant.
const std::map<std::string, std::vector<std::string>>& explaining_findings() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"mutual-exclusion", {"no-fencing", "client-fencing", "ttl-shorter-than-batch", "no-renewal", "lock-in-app-database"}},
      {"data-consistency", {"replica-backfill-source", "no-lag-throttle", "validation-off", "no-fencing"}},
      {"no-lost-writes", {"replica-backfill-source", "validation-off", "no-fencing"}},
      {"schema-convergence", {"all-at-once", "no-jitter"}},
      {"validate-before-contract", {"validation-off", "no-fencing", "client-fencing"}},
      {"availability", {"no-lock-timeout", "unbatched-backfill", "all-at-once", "lock-in-app-database"}},
      {"replica-staleness", {"no-lag-throttle", "replica-backfill-source"}},
      {"liveness", {"no-jitter", "no-renewal", "lock-in-app-database"}},
  };
  return table;
}

// One moment of the chain of events: its time and the clause that tells it.
struct Step {
  TimeUs time_us = 0;
  std::uint64_t order = 0;
  std::string clause;
};

std::string write_clause(const Event& event) {
  return fmt::format("{} wrote `{}` (token {}) to {} at {}", event.actor, event.detail, event.token, event.node,
                     duration_text(event.time_us, DurationStyle::clock_spaced));
}

// The clause for the proving event that completes a mutual-exclusion violation.
std::string stale_write_clause(const Event& event, const Event* earlier) {
  std::string clause = fmt::format("at {} {}'s {} `{}` (token {}) was applied at {}",
                                   duration_text(event.time_us, DurationStyle::clock_spaced), event.actor,
                                   to_string(event.write), event.detail, event.token, event.node);
  if (earlier != nullptr && earlier->kind == EventKind::write) {
    clause += fmt::format(" after {}'s (token {})", earlier->actor, earlier->token);
  }
  return clause;
}

void lease_steps(const std::string& actor, std::int64_t token, TimeUs until, const RunResult& result,
                 const RunFacts& facts, std::vector<Step>& steps) {
  for (const Lease& lease : facts.leases) {
    if (lease.engine != actor || lease.token != token || lease.start_us > until) continue;
    steps.push_back({lease.start_us, lease.acquire_event,
                     fmt::format("{} acquired the lock with token {} at {}", actor, token,
                                 duration_text(lease.start_us, DurationStyle::clock_spaced))});
    for (const Event& event : result.history.events()) {
      if (event.time_us < lease.start_us || event.time_us > until) continue;
      if (event.kind == EventKind::lock_expire && event.actor == actor) {
        steps.push_back({event.time_us, event.id,
                         fmt::format("{}'s lease expired on {} at {}", actor, event.node,
                                     duration_text(event.time_us, DurationStyle::clock_spaced))});
      }
      if (event.kind == EventKind::lock_lost && event.node == actor && lease.end_event == event.id) {
        steps.push_back({event.time_us, event.id,
                         fmt::format("{} learned at {} that its lease was gone", actor,
                                     duration_text(event.time_us, DurationStyle::clock_spaced))});
      }
    }
  }
}

void fault_steps(const std::vector<std::string>& nodes, TimeUs until, const RunFacts& facts, std::vector<Step>& steps) {
  for (const FaultWindow& window : facts.faults) {
    if (window.skipped || window.start_us > until) continue;
    std::string hit;
    for (const std::string& node : window.nodes) {
      if (std::find(nodes.begin(), nodes.end(), node) != nodes.end()) hit += (hit.empty() ? "" : ", ") + node;
    }
    if (hit.empty()) continue;
    const bool pause = window.description.rfind("pause", 0) == 0;
    steps.push_back({window.start_us, window.start_event,
                     pause ? fmt::format("{} was paused from {} to {}", hit,
                                         duration_text(window.start_us, DurationStyle::clock_spaced),
                                         duration_text(window.end_us, DurationStyle::clock_spaced))
                           : fmt::format("`{}` hit {} from {} to {}", window.description, hit,
                                         duration_text(window.start_us, DurationStyle::clock_spaced),
                                         duration_text(window.end_us, DurationStyle::clock_spaced))});
  }
}

std::vector<Step> chain_of(const Violation& violation, const RunResult& result, const RunFacts& facts) {
  std::vector<const Event*> proving;
  for (const std::uint64_t id : violation.events) {
    if (const Event* event = find_event(result.history, id)) proving.push_back(event);
  }
  std::sort(proving.begin(), proving.end(), [](const Event* left, const Event* right) { return left->id < right->id; });
  std::vector<Step> steps;
  for (std::size_t i = 0; i < proving.size(); ++i) {
    const Event& event = *proving[i];
    if (!event.actor.empty()) lease_steps(event.actor, event.token, event.time_us, result, facts, steps);
    const bool last_write = i + 1 == proving.size() && event.kind == EventKind::write && i > 0;
    const std::string clause = last_write                           ? stale_write_clause(event, proving[i - 1])
                               : event.kind == EventKind::write     ? write_clause(event)
                                                                    : fmt::format("{} at {}: {} `{}`", event.node,
                                                                                  duration_text(event.time_us, DurationStyle::clock_spaced),
                                                                                  to_string(event.kind), event.detail);
    steps.push_back({event.time_us, event.id, clause});
  }
  fault_steps(involved_nodes(violation, result.history), violation.time_us, facts, steps);
  std::sort(steps.begin(), steps.end(), [](const Step& left, const Step& right) {
    return left.time_us != right.time_us ? left.time_us < right.time_us : left.order < right.order;
  });
  steps.erase(std::unique(steps.begin(), steps.end(), [](const Step& left, const Step& right) { return left.clause == right.clause; }),
              steps.end());
  return steps;
}

std::string sentence_of(const std::vector<Step>& steps) {
  std::string text;
  for (const Step& step : steps) text += (text.empty() ? "" : "; ") + step.clause;
  return "Chain of events: " + text + ".";
}

std::string root_cause_sentence(const Violation& violation, const ReportContext& context) {
  const auto found = explaining_findings().find(violation.invariant);
  std::string causes;
  for (const LintFinding& finding : context.findings) {
    const bool explains = found != explaining_findings().end() &&
                          std::find(found->second.begin(), found->second.end(), finding.id) != found->second.end();
    if (explains) causes += fmt::format(" `{}`: {}", finding.id, finding.message);
  }
  if (causes.empty()) return "Root cause: the plan lint flags no setting that explains it; the chain of events above is the cause.";
  return "Root cause, in the settings:" + causes;
}

}  // namespace

std::vector<std::string> involved_nodes(const Violation& violation, const History& history) {
  std::vector<std::string> nodes;
  auto add = [&nodes](const std::string& node) {
    if (!node.empty() && std::find(nodes.begin(), nodes.end(), node) == nodes.end()) nodes.push_back(node);
  };
  add(violation.node);
  for (const std::uint64_t id : violation.events) {
    if (const Event* event = find_event(history, id)) {
      add(event->node);
      add(event->actor);
    }
  }
  return nodes;
}

std::vector<const FaultWindow*> faults_before(const RunFacts& facts, TimeUs at, const std::vector<std::string>& nodes) {
  std::vector<const FaultWindow*> hitting;
  std::vector<const FaultWindow*> all;
  for (const FaultWindow& window : facts.faults) {
    if (window.skipped || window.start_us > at) continue;
    all.insert(all.begin(), &window);
    const bool hit = std::any_of(window.nodes.begin(), window.nodes.end(), [&nodes](const std::string& node) {
      return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
    });
    if (hit) hitting.insert(hitting.begin(), &window);
  }
  return hitting.empty() ? all : hitting;
}

std::string fault_sentence(const FaultWindow& window) {
  std::string nodes;
  for (const std::string& node : window.nodes) nodes += (nodes.empty() ? "" : ", ") + node;
  const std::string where = window.line > 0 ? fmt::format("line {}", window.line) : std::string("drawn by random_faults");
  if (window.skipped) {
    return fmt::format("`{}` ({}) was skipped at {}", window.description, where,
                       duration_text(window.start_us, DurationStyle::clock_spaced));
  }
  const std::string span =
      window.end_us > window.start_us
          ? fmt::format("from {} to {}", duration_text(window.start_us, DurationStyle::clock_spaced),
                        duration_text(window.end_us, DurationStyle::clock_spaced))
          : fmt::format("at {}", duration_text(window.start_us, DurationStyle::clock_spaced));
  return fmt::format("`{}` ({}) hit {} {}", window.description, where, nodes.empty() ? std::string("no node") : nodes, span);
}

void add_trigger_and_root_cause(Document& document, const ReportContext& context) {
  const RunResult& result = context.input.result;
  document.heading(2, "Trigger and root cause");
  std::vector<std::string> faults;
  for (const FaultWindow& window : context.facts.faults) {
    if (faults.size() == kFaultsListed) {
      faults.push_back(fmt::format("and {} more (the Timeline and trace.json have them all)",
                                   context.facts.faults.size() - kFaultsListed));
      break;
    }
    faults.push_back(fault_sentence(window));
  }
  document.paragraph(faults.empty() ? "No fault was injected in this run." : "Faults injected in this run:");
  if (!faults.empty()) document.bullets(faults);
  if (!result.violated()) {
    document.paragraph("Nothing broke, so there is no chain of events to explain. " +
                       std::string(result.stats.stale_writes_rejected > 0
                                       ? "The databases' fencing rejected the stale writes a paused or partitioned "
                                         "holder sent after losing its lease."
                                       : "No stale write reached a database."));
    return;
  }
  for (std::size_t i = 0; i < result.violations.size() && i < kViolationsNarrated; ++i) {
    const Violation& violation = result.violations[i];
    document.heading(
        3, fmt::format("{} at {}", violation.invariant, duration_text(violation.time_us, DurationStyle::clock_spaced)));
    const std::vector<Step> steps = chain_of(violation, result, context.facts);
    document.paragraph(steps.empty() ? fmt::format("The checker judged the run's observations rather than single events: {}.",
                                                   violation.detail)
                                     : sentence_of(steps));
    document.paragraph(root_cause_sentence(violation, context));
  }
  if (result.violations.size() > kViolationsNarrated) {
    document.paragraph(fmt::format("{} further violation(s) are listed in result.json and violation.svg.",
                                   result.violations.size() - kViolationsNarrated));
  }
}

}  // namespace rehearse::reports
