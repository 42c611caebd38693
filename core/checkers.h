// The invariant checkers of ../shared/spec/invariants.md, judged from a run's history.
// A checker returns the violations it found; each names the invariant, the first moment it
// broke, the node, one sentence of detail and the ids of the events that prove it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/history.h"

namespace rehearse {

struct Violation {
  std::string invariant;
  TimeUs time_us = 0;
  std::string node;
  std::string detail;
  std::vector<std::uint64_t> events;
};

// The fixed invariant names, in the spec's order.
inline constexpr const char* kInvariantNames[] = {
    "mutual-exclusion", "data-consistency", "no-lost-writes", "schema-convergence",
    "validate-before-contract", "availability", "replica-staleness", "liveness"};
bool is_invariant_name(const std::string& name);

// mutual-exclusion: no protected write of a lock holder is applied at a database after a
// protected write of a later holder (a larger token) was applied there. Two engines writing
// with the same token (a store that lost its counter handed it out twice) count as two holders:
// once the second has written, a further write of the first is a violation. Reports the first
// offending write per database.
std::vector<Violation> check_mutual_exclusion(const History& history);

}  // namespace rehearse
