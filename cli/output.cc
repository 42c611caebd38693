// Text output of run results (the JSON is reports/run_json.h's).
#include "cli/output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/duration.h"

namespace rehearse::cli {

namespace {

std::string reached_probes_text(const RunResult& result) {
  std::string text;
  for (const ProbeInfo& info : all_probes()) {
    const std::int64_t hits = result.probes.count(info.probe);
    if (hits > 0) text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", info.name, hits);
  }
  return text.empty() ? "none" : text;
}

std::string buggify_text(const RunResult& result) {
  std::string text;
  for (const FaultSiteInfo& info : all_fault_sites()) {
    if (result.buggify.is_enabled(info.site)) {
      text += fmt::format("{}{} fired {}", text.empty() ? "" : ", ", info.name, result.buggify.fires(info.site));
    }
  }
  return text.empty() ? "on, no site switched on for this seed" : "on: " + text;
}

}  // namespace

void print_run_text(std::ostream& out, const RunResult& result, const std::string& scenario_argument, bool live) {
  out << fmt::format("scenario {}  seed {}\n", result.scenario, result.seed);
  if (result.violated()) {
    std::string names;
    for (const auto& violation : result.violations) {
      if (names.find(violation.invariant) == std::string::npos) names += (names.empty() ? "" : ", ") + violation.invariant;
    }
    out << fmt::format("verdict: VIOLATION ({})\n", names);
    for (const auto& violation : result.violations) {
      out << fmt::format(
          "  {} at {} on {}: {}{}\n", violation.invariant, duration_text(violation.time_us, DurationStyle::clock),
          violation.node, violation.detail,
          violation.events.empty() ? "" : fmt::format(" (events {})", fmt::join(violation.events, ", ")));
    }
  } else {
    out << "verdict: PASS (no invariant violated)\n";
  }
  out << fmt::format("migration: {}", result.outcome);
  std::string regions;
  for (const auto& region : result.region_order) {
    auto it = result.region_states.find(region);
    if (it != result.region_states.end()) regions += fmt::format("{}{}: {}", regions.empty() ? "" : ", ", region, it->second);
  }
  out << fmt::format(" ({})\n", regions);
  if (!result.nothing_to_do.empty()) out << result.nothing_to_do << "\n";
  for (const UnfiredFault& fault : result.faults_not_fired) {
    out << fmt::format("fault not fired: {} ({}): {}\n", fault.fault, fault.at, fault.why);
  }
  const RunStats& s = result.stats;
  out << fmt::format(
      "stats: {} events, {} simulated, {} ms wall, {} faults, {} lock acquisitions, "
      "{} stale writes rejected, {} rows backfilled\n",
      s.events, duration_text(s.sim_time_us, DurationStyle::clock), s.wall_ms, s.faults_injected, s.lock_acquisitions,
      s.stale_writes_rejected, s.rows_backfilled);
  if (s.app_requests > 0) {
    const int migration = index_of(Cause::migration);
    const int fault = index_of(Cause::fault);
    out << fmt::format("application: {} requests, {} failed, longest wait {} ms, stalest replica read {} ms\n",
                       s.app_requests, s.app_errors, s.max_stall_us / kMs, s.max_replica_lag_us / kMs);
    out << fmt::format("  by cause: migration {} failed, longest wait {} ms, stalest read {} ms; "
                       "faults {} failed, longest wait {} ms, stalest read {} ms\n",
                       s.app_errors_by_cause[migration], s.max_stall_by_cause_us[migration] / kMs,
                       s.max_replica_lag_by_cause_us[migration] / kMs, s.app_errors_by_cause[fault],
                       s.max_stall_by_cause_us[fault] / kMs, s.max_replica_lag_by_cause_us[fault] / kMs);
  }
  out << fmt::format("probes: {}\n", reached_probes_text(result));
  if (result.buggify.on) out << fmt::format("buggify: {}\n", buggify_text(result));
  out << fmt::format("trace_hash {}\n", result.trace_hash);
  if (live) {  // a live run is not replayed from its seed; `rehearse run` does not take a live config
    out << fmt::format("run again: rehearse live {}\n", scenario_argument);
  } else {
    out << fmt::format("reproduce: rehearse run {} --seed {}\n", scenario_argument, result.seed);
  }
}

}  // namespace rehearse::cli
