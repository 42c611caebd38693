// The one writer of the `run --json` object and of history events (see reports/run_json.h).
#include "reports/run_json.h"

namespace rehearse::reports {

nlohmann::json run_object(const RunResult& result) {
  nlohmann::json violations = nlohmann::json::array();
  for (const auto& violation : result.violations) {
    violations.push_back({{"invariant", violation.invariant},
                          {"time_ms", violation.time_us / kMs},
                          {"node", violation.node},
                          {"detail", violation.detail},
                          {"events", violation.events}});
  }
  nlohmann::json regions = nlohmann::json::object();
  for (const auto& [region, state] : result.region_states) regions[region] = state;
  nlohmann::json migration = {{"outcome", result.outcome}, {"regions", regions}};
  if (!result.nothing_to_do.empty()) {  // extension of cli.md (docs/cli.md)
    migration["already_complete"] = true;
    migration["note"] = result.nothing_to_do;
  }
  const RunStats& s = result.stats;
  nlohmann::json object = {{"scenario", result.scenario},
          {"seed", result.seed},
          {"verdict", result.violated() ? "violation" : "pass"},
          {"violations", violations},
          {"migration", migration},
          {"stats",
           {{"events", s.events},
            {"sim_time_ms", s.sim_time_us / kMs},
            {"wall_ms", s.wall_ms},
            {"faults_injected", s.faults_injected},
            {"lock_acquisitions", s.lock_acquisitions},
            {"stale_writes_rejected", s.stale_writes_rejected},
            {"app_requests", s.app_requests},
            {"app_errors", s.app_errors},
            {"max_stall_ms", s.max_stall_us / kMs},
            {"max_replica_lag_ms", s.max_replica_lag_us / kMs},
            {"rows_backfilled", s.rows_backfilled},
            {"overlapping_belief_ms", s.overlapping_belief_us / kMs}}},
          {"trace_hash", result.trace_hash}};
  add_stats_by_cause(object["stats"], s);
  if (!result.faults_not_fired.empty()) {  // extension of cli.md (docs/cli.md); absent when every fault fired
    nlohmann::json missed = nlohmann::json::array();
    for (const UnfiredFault& fault : result.faults_not_fired) {
      missed.push_back({{"fault", fault.fault}, {"at", fault.at}, {"why", fault.why}});
    }
    object["faults_not_fired"] = missed;
  }
  return object;
}

void add_stats_by_cause(nlohmann::json& stats, const RunStats& s) {
  auto split = [](const auto& values, std::int64_t unit) {
    nlohmann::json object = nlohmann::json::object();
    for (Cause cause : {Cause::migration, Cause::fault}) object[to_string(cause)] = values[index_of(cause)] / unit;
    return object;
  };
  stats["app_errors_by_cause"] = split(s.app_errors_by_cause, 1);
  stats["max_stall_ms_by_cause"] = split(s.max_stall_by_cause_us, kMs);
  stats["max_replica_lag_ms_by_cause"] = split(s.max_replica_lag_by_cause_us, kMs);
}

nlohmann::json event_object(const Event& event) {
  nlohmann::json json = {{"id", event.id}, {"time_us", event.time_us}, {"node", event.node}, {"kind", to_string(event.kind)}};
  if (event.outcome != Outcome::none) json["outcome"] = to_string(event.outcome);
  if (event.write != WriteKind::none) json["write"] = to_string(event.write);
  if (event.token != 0) json["token"] = event.token;
  if (!event.actor.empty() && event.actor != event.node) json["actor"] = event.actor;
  if (!event.region.empty()) json["region"] = event.region;
  if (!event.detail.empty()) json["detail"] = event.detail;
  if (event.a != 0 || event.b != 0) {
    json["a"] = event.a;
    json["b"] = event.b;
  }
  return json;
}

std::string history_lines(const History& history) {
  std::string lines;
  for (const Event& event : history.events()) lines += event_object(event).dump() + "\n";
  return lines;
}

}  // namespace rehearse::reports
