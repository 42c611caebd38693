// The summary of many seeds and its JSON (sweep/summary.h).
#include "sweep/summary.h"

namespace rehearse::sweep {

SweepSummary summarize(const std::string& scenario, const std::vector<SeedOutcome>& outcomes, std::int64_t wall_ms) {
  SweepSummary summary;
  summary.scenario = scenario;
  summary.seeds_run = outcomes.size();
  summary.wall_ms = wall_ms;
  for (const SeedOutcome& outcome : outcomes) {
    for (std::size_t i = 0; i < kProbeCount; ++i) {
      const std::int64_t hits = outcome.probes.count(static_cast<Probe>(i));
      summary.probes[i].seeds += hits > 0 ? 1 : 0;
      summary.probes[i].hits += hits;
    }
    if (outcome.buggify.on) summary.buggify = true;
    for (std::size_t i = 0; i < kFaultSiteCount; ++i) {
      summary.sites[i].enabled_seeds += outcome.buggify.enabled[i] ? 1 : 0;
      summary.sites[i].fired_seeds += outcome.buggify.fired[i] > 0 ? 1 : 0;
      summary.sites[i].fires += outcome.buggify.fired[i];
    }
    if (!outcome.violated()) continue;
    summary.violating_seeds.push_back(outcome.seed);
    for (const std::string& invariant : outcome.invariants()) summary.by_invariant[invariant].push_back(outcome.seed);
  }
  return summary;
}

nlohmann::json summary_json(const SweepSummary& summary) {
  nlohmann::json by_invariant = nlohmann::json::object();
  for (const auto& [invariant, seeds] : summary.by_invariant) by_invariant[invariant] = seeds;
  nlohmann::json json = {{"scenario", summary.scenario},
                         {"seeds_run", summary.seeds_run},
                         {"violating_seeds", summary.violating_seeds},
                         {"by_invariant", by_invariant},
                         {"wall_ms", summary.wall_ms},
                         {"probes", probes_json(summary)}};
  if (summary.buggify) json["buggify"] = buggify_json(summary);
  return json;
}

nlohmann::json probes_json(const SweepSummary& summary) {
  nlohmann::json probes = nlohmann::json::object();
  for (const ProbeInfo& info : all_probes()) {
    const SweepSummary::ProbeTally& tally = summary.probes[static_cast<std::size_t>(info.probe)];
    probes[info.name] = {{"seeds", tally.seeds}, {"hits", tally.hits}};
  }
  return probes;
}

nlohmann::json buggify_json(const SweepSummary& summary) {
  nlohmann::json sites = nlohmann::json::object();
  for (const FaultSiteInfo& info : all_fault_sites()) {
    const SweepSummary::SiteTally& tally = summary.sites[static_cast<std::size_t>(info.site)];
    sites[info.name] = {{"enabled_seeds", tally.enabled_seeds}, {"fired_seeds", tally.fired_seeds}, {"fires", tally.fires}};
  }
  return sites;
}

}  // namespace rehearse::sweep
