// The Header, Summary and Impact sections, and the helpers the section writers share.
#include <algorithm>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/plan.h"
#include "reports/sections.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

// How many problems a checker's detail counts: 1, plus N for ", and N more ...".
std::int64_t counted_problems(const Violation& violation) {
  const std::string marker = ", and ";
  for (auto at = violation.detail.find(marker); at != std::string::npos; at = violation.detail.find(marker, at + 1)) {
    std::size_t end = at + marker.size();
    std::int64_t more = 0;
    while (end < violation.detail.size() && violation.detail[end] >= '0' && violation.detail[end] <= '9') {
      more = more * 10 + (violation.detail[end++] - '0');
    }
    if (end > at + marker.size() && violation.detail.compare(end, 6, " more ") == 0) return 1 + more;
  }
  return 1;
}

std::int64_t problems_of(const RunResult& result, const char* invariant) {
  std::int64_t total = 0;
  for (const Violation& violation : result.violations) {
    if (violation.invariant == invariant) total += counted_problems(violation);
  }
  return total;
}

std::string against_slo(TimeUs value, TimeUs limit) {
  if (limit <= 0) return duration_text(value, DurationStyle::rounded_spaced) + " (no SLO limit)";
  return fmt::format("{} (SLO {}: {})", duration_text(value, DurationStyle::rounded_spaced),
                     duration_text(limit, DurationStyle::rounded_spaced), value > limit ? "**breached**" : "within");
}

std::string error_rate_text(const RunResult& result, const Scenario& scenario) {
  const RunStats& stats = result.stats;
  if (stats.app_requests == 0) return "no application traffic in this scenario";
  const double rate = static_cast<double>(stats.app_errors) / static_cast<double>(stats.app_requests);
  return fmt::format("{} of {} requests failed, {} overall (SLO {} in any 10 s window{})", count_text(stats.app_errors),
                     count_text(stats.app_requests), percent_text(rate), percent_text(scenario.slo.max_error_rate),
                     problems_of(result, "availability") > 0 ? "; the availability checker found a breach" : "");
}

// The migration's share of the failures and stalls against the faults' (docs/scenarios.md,
// `slo.count`), and which of them the availability checker judged.
std::string by_cause_text(const RunStats& stats, const SloSpec& slo) {
  const int migration = index_of(Cause::migration);
  const int fault = index_of(Cause::fault);
  return fmt::format(
      "the migration: {} failed, longest wait {}; injected faults: {} failed, longest wait {} "
      "(`slo.count: {}`: {})",
      count_text(stats.app_errors_by_cause[migration]),
      duration_text(stats.max_stall_by_cause_us[migration], DurationStyle::rounded_spaced),
      count_text(stats.app_errors_by_cause[fault]),
      duration_text(stats.max_stall_by_cause_us[fault], DurationStyle::rounded_spaced), to_string(slo.count),
      slo.count == SloCount::all ? "both are judged" : "only the migration's are judged");
}

// Regions not in the state the run converged to: all contracted, or all on the old schema.
std::string unconverged_text(const RunResult& result) {
  std::vector<std::string> names = result.region_order;
  for (const auto& [region, state] : result.region_states) {
    if (std::find(names.begin(), names.end(), region) == names.end()) names.push_back(region);
  }
  std::vector<std::string> contracted;
  std::vector<std::string> old_schema;
  std::vector<std::string> between;
  for (const std::string& region : names) {
    auto found = result.region_states.find(region);
    const std::string state = found == result.region_states.end() ? "unknown" : found->second;
    if (state == "contracted") contracted.push_back(region);
    else if (state == "rolled_back" || state == "pending") old_schema.push_back(region);
    else between.push_back(region + " (" + state + ")");
  }
  std::vector<std::string> left = between;
  if (!contracted.empty() && !old_schema.empty()) {
    for (const std::string& region : old_schema) left.push_back(region + " (" + result.region_states.at(region) + ")");
  }
  if (left.empty()) return fmt::format("0 of {}", names.size());
  std::string list;
  for (const std::string& item : left) list += (list.empty() ? "" : ", ") + item;
  return fmt::format("{} of {}: {}", left.size(), names.size(), list);
}

std::string stale_accepted_text(const RunFacts& facts) {
  if (facts.stale_writes_accepted.empty()) return "0";
  std::string ids;
  for (std::size_t i = 0; i < facts.stale_writes_accepted.size() && i < 5; ++i) {
    ids += fmt::format("{}#{}", ids.empty() ? "" : ", ", facts.stale_writes_accepted[i]);
  }
  return fmt::format("{} (events {}{})", facts.stale_writes_accepted.size(), ids,
                     facts.stale_writes_accepted.size() > 5 ? ", ..." : "");
}

std::string belief_overlap_text(const RunFacts& facts) {
  if (facts.overlapping_belief_us == 0) return "0 s (never more than one engine believed it held the lock)";
  std::vector<std::string> engines;
  for (const Lease& lease : facts.leases) {
    if (std::find(engines.begin(), engines.end(), lease.engine) == engines.end()) engines.push_back(lease.engine);
  }
  std::string list;
  for (const std::string& engine : engines) list += (list.empty() ? "" : ", ") + engine;
  return fmt::format("{} (leases of {}; see the Timeline)",
                     duration_text(facts.overlapping_belief_us, DurationStyle::rounded_spaced), list);
}

}  // namespace

std::string violated_invariants(const RunResult& result) {
  std::vector<std::string> names;
  for (const Violation& violation : result.violations) {
    if (std::find(names.begin(), names.end(), violation.invariant) == names.end()) names.push_back(violation.invariant);
  }
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

void add_header(Document& document, const ReportContext& context) {
  const ReportInput& input = context.input;
  const RunResult& result = input.result;
  document.heading(1, fmt::format("Rehearsal postmortem: {}, seed {}", input.scenario.name, input.seed));
  document.heading(2, "Header");
  const std::string status = result.violated() ? fmt::format("**FAIL**: {} violated", violated_invariants(result))
                                               : std::string("**PASS**: no invariant violated");
  document.table({"Field", "Value"},
                 {{"Scenario", fmt::format("`{}` ({})", input.scenario.name, input.scenario.source_path.empty()
                                                                                 ? std::string("in memory")
                                                                                 : input.scenario.source_path)},
                  {"Seed", std::to_string(input.seed)},
                  {"Build", input.build.empty() ? std::string("unknown") : input.build},
                  {"Date", context.date + " (UTC)"},
                  {"Status", status},
                  {"Migration", fmt::format("`{}`, outcome `{}`", input.scenario.migration.name, result.outcome)},
                  {"Trace hash", "`" + result.trace_hash + "`"}});
  document.paragraph("Reproduce the run (same scenario, seed and build give the same trace hash):");
  document.code(input.reproduce_command);
}

void add_summary(Document& document, const ReportContext& context) {
  const RunResult& result = context.input.result;
  const RunFacts& facts = context.facts;
  document.heading(2, "Summary");
  constexpr std::size_t kFaultsNamed = 5;
  std::string faults;
  for (std::size_t i = 0; i < facts.faults.size() && i < kFaultsNamed; ++i) {
    faults += (faults.empty() ? "" : "; ") + ("`" + facts.faults[i].description + "`");
  }
  if (facts.faults.size() > kFaultsNamed) faults += fmt::format(" and {} more", facts.faults.size() - kFaultsNamed);
  const std::string fault_clause = facts.faults.empty() ? std::string("no fault injected")
                                                        : fmt::format("{} fault(s): {}", facts.faults.size(), faults);
  if (!result.violated()) {
    document.paragraph(fmt::format(
        "No invariant broke. The migration `{}` ended `{}` after {} of simulated time, with {}; the databases rejected "
        "{} stale write(s) and accepted none.",
        context.input.scenario.migration.name, result.outcome, duration_text(facts.end_us, DurationStyle::clock_spaced),
        fault_clause, result.stats.stale_writes_rejected));
    return;
  }
  const Violation& first = result.violations.front();
  const LaneNode* node = facts.layout.find(first.node);
  const std::string where = first.node.empty() ? std::string("the run as a whole")
                            : node != nullptr  ? fmt::format("`{}` ({})", first.node, facts.layout.regions[node->region])
                                               : "`" + first.node + "`";
  std::string text = fmt::format("The invariant **{}** broke at {} of simulated time on {}: {}.", first.invariant,
                                 duration_text(first.time_us, DurationStyle::clock_spaced), where, first.detail);
  if (result.violations.size() > 1) {
    text += fmt::format(" {} more violation(s) followed ({}).", result.violations.size() - 1, violated_invariants(result));
  }
  text += fmt::format(" The run had {}; the migration ended `{}` after {}.", fault_clause, result.outcome,
                      duration_text(facts.end_us, DurationStyle::clock_spaced));
  document.paragraph(text);
}

void add_impact(Document& document, const ReportContext& context) {
  const RunResult& result = context.input.result;
  const Scenario& scenario = context.input.scenario;
  const RunStats& stats = result.stats;
  document.heading(2, "Impact");
  const bool traffic = stats.app_requests > 0;
  document.table(
      {"Measure", "Value"},
      {{"Acknowledged writes lost", std::to_string(problems_of(result, "no-lost-writes"))},
       {"Rows inconsistent (data-consistency findings)", std::to_string(problems_of(result, "data-consistency"))},
       {"Time two engines both believed they held the lock", belief_overlap_text(context.facts)},
       {"Stale writes accepted (token lower than one already applied)", stale_accepted_text(context.facts)},
       {"Stale writes rejected by fencing", std::to_string(stats.stale_writes_rejected)},
       {"Application stall (longest wait)", traffic ? against_slo(stats.max_stall_us, scenario.slo.max_stall_us)
                                                    : std::string("no application traffic in this scenario")},
       {"Application error rate", error_rate_text(result, scenario)},
       {"Failed requests and longest wait, by cause", traffic ? by_cause_text(stats, scenario.slo)
                                                               : std::string("no application traffic in this scenario")},
       {"Stalest replica read", traffic ? against_slo(stats.max_replica_lag_us, scenario.slo.max_replica_lag_us)
                                        : std::string("no application reads")},
       {"Regions left unconverged", unconverged_text(result)},
       {"Rows backfilled", count_text(stats.rows_backfilled)}});
}

}  // namespace rehearse::reports
