// Drawing a swarm-mode fault schedule from the seed.
#include "sim/random_faults.h"

#include <algorithm>

#include "core/assert.h"
#include "core/random.h"

namespace rehearse::sim {

namespace {

constexpr int kFaultsMax = 1000;  // a bound on one run's generated schedule
constexpr TimeUs kShortestFaultUs = 500 * kMs;

struct Swarm {
  std::vector<FaultKind> kinds;  // the kinds this seed enables (at least one)
  std::vector<std::string> targets;
};

Swarm draw_swarm(const RandomFaultsSpec& spec, const std::vector<std::string>& node_names, Rng& rng) {
  Swarm swarm;
  for (FaultKind kind : spec.kinds) {
    if (rng.chance(0.5)) swarm.kinds.push_back(kind);  // swarm testing: a random subset per seed
  }
  if (swarm.kinds.empty() && !spec.kinds.empty()) swarm.kinds.push_back(spec.kinds[rng.below(spec.kinds.size())]);
  for (const auto& name : node_names) {
    const bool wanted = std::any_of(spec.targets.begin(), spec.targets.end(),
                                    [&](const std::string& pattern) { return matches_target(pattern, name); });
    if (wanted) swarm.targets.push_back(name);
  }
  return swarm;
}

// Fills the kind's parameters with draws bounded by max_duration.
void draw_parameters(FaultSpec& fault, TimeUs max_duration_us, Rng& rng) {
  const TimeUs longest = std::max(max_duration_us, kShortestFaultUs);
  fault.for_us = rng.uniform(kShortestFaultUs, longest);
  switch (fault.kind) {
    case FaultKind::crash: fault.restart_after_us = fault.for_us; fault.for_us = 0; break;
    case FaultKind::partition: fault.oneway = rng.chance(0.25); break;
    case FaultKind::delay: fault.extra_us = rng.uniform(10 * kMs, longest); break;
    case FaultKind::drop: fault.probability = static_cast<double>(rng.uniform(10, 90)) / 100.0; break;
    case FaultKind::clock_jump: fault.by_us = rng.uniform(-longest, longest); fault.for_us = 0; break;
    case FaultKind::clock_skew: fault.offset_us = rng.uniform(-longest, longest); fault.for_us = 0; break;
    case FaultKind::clock_drift: fault.ppm = rng.uniform(-100000, 100000); break;
    case FaultKind::replication_lag: fault.extra_us = rng.uniform(kShortestFaultUs, longest); break;
    case FaultKind::failover: fault.for_us = 0; break;
    case FaultKind::pause:
    case FaultKind::long_transaction: break;
  }
}

}  // namespace

bool matches_target(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '*') return name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  return pattern == name;
}

std::vector<FaultSpec> expand_random_faults(const RandomFaultsSpec& spec, TimeUs duration_us,
                                            const std::vector<std::string>& node_names, std::uint64_t seed) {
  Rng rng(seed, "faults");
  const Swarm swarm = draw_swarm(spec, node_names, rng);
  std::vector<FaultSpec> faults;
  if (swarm.kinds.empty() || swarm.targets.empty() || spec.rate_per_s <= 0) return faults;
  const TimeUs quiet_after = spec.quiet_after_us.value_or(duration_us * 2 / 3);
  // This seed's rate: the spec's rate scaled by a factor in [0.25, 2] (swarm: mild to heavy).
  const double rate = spec.rate_per_s * static_cast<double>(rng.uniform(25, 200)) / 100.0;
  const auto mean_gap = static_cast<TimeUs>(static_cast<double>(kSec) / rate);
  TimeUs at = 0;
  while (static_cast<int>(faults.size()) < kFaultsMax) {
    at += 1 + rng.uniform(0, 2 * mean_gap);  // uniform gaps with the right mean: integer math
    if (at >= quiet_after || at >= duration_us) break;
    FaultSpec fault;
    fault.kind = swarm.kinds[rng.below(swarm.kinds.size())];
    fault.at_us = at;
    fault.targets = {swarm.targets[rng.below(swarm.targets.size())]};
    draw_parameters(fault, spec.max_duration_us, rng);
    faults.push_back(fault);
  }
  return faults;
}

}  // namespace rehearse::sim
