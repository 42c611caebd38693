// Swarm mode (`random_faults:`): per seed, draw which fault kinds are enabled and how often,
// then a schedule of explicit faults, all from the run's `faults` stream, so the same seed
// always expands to the same schedule. New faults stop at `quiet_after` (default: two thirds
// of the duration), so the migration can heal and liveness can be judged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"

namespace rehearse::sim {

// Expands `spec` into explicit faults over the given node names (targets are matched against
// them: `engine-*`, `lock-*`, `db:*`, `app:*` or exact names). Faults come out in time order.
std::vector<FaultSpec> expand_random_faults(const RandomFaultsSpec& spec, TimeUs duration_us,
                                            const std::vector<std::string>& node_names, std::uint64_t seed);

// Whether `name` matches a target pattern (a trailing `*` matches any suffix).
bool matches_target(const std::string& pattern, const std::string& name);

}  // namespace rehearse::sim
