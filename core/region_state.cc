// The region states' and phases' texts, and which checkpoint state changes the engine may make.
#include "core/region_state.h"

#include <algorithm>
#include <cstddef>
#include <iterator>

#include "core/assert.h"

namespace rehearse {

namespace {
// kRegionStates and kPhases list every value once, in declaration (rank) order.
template <typename Enum, std::size_t kCount>
constexpr bool in_declaration_order(const Enum (&values)[kCount]) {
  for (std::size_t i = 0; i < kCount; ++i) {
    if (static_cast<std::size_t>(values[i]) != i) return false;
  }
  return true;
}
static_assert(in_declaration_order(kRegionStates));
static_assert(static_cast<std::size_t>(RegionState::rolled_back) + 1 == std::size(kRegionStates));
static_assert(in_declaration_order(kPhases));
static_assert(static_cast<std::size_t>(Phase::contract) + 1 == std::size(kPhases));
}  // namespace

const char* to_string(RegionState state) {
  switch (state) {
    case RegionState::pending: return "pending";
    case RegionState::expanded: return "expanded";
    case RegionState::dual_write: return "dual_write";
    case RegionState::backfilling: return "backfilling";
    case RegionState::validated: return "validated";
    case RegionState::reads_switched: return "reads_switched";
    case RegionState::contracted: return "contracted";
    case RegionState::rolled_back: return "rolled_back";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

std::optional<RegionState> parse_region_state(std::string_view text) {
  for (const RegionState state : kRegionStates) {
    if (text == to_string(state)) return state;
  }
  return std::nullopt;
}

bool region_transition_allowed(RegionState from, RegionState to) {
  if (from == RegionState::contracted || from == RegionState::rolled_back) return false;
  if (to == RegionState::validated) return true;
  return to > from;
}

void assert_region_transition(RegionState from, RegionState to) {
  REHEARSE_ASSERT(region_transition_allowed(from, to));
}

const char* to_string(Phase phase) {
  switch (phase) {
    case Phase::expand: return "expand";
    case Phase::dual_write: return "dual_write";
    case Phase::backfill: return "backfill";
    case Phase::validate: return "validate";
    case Phase::switch_reads: return "switch_reads";
    case Phase::contract: return "contract";
  }
  REHEARSE_ASSERT(false);
  return "?";
}

std::optional<Phase> parse_phase(std::string_view text) {
  for (const Phase phase : kPhases) {
    if (text == to_string(phase)) return phase;
  }
  return std::nullopt;
}

const char* run_outcome(const std::map<std::string, std::string>& region_states, bool any_engine_halted,
                        bool all_engines_exited) {
  auto in = [](RegionState state) {
    return [state](const auto& region) { return parse_region_state(region.second) == state; };
  };
  if (std::all_of(region_states.begin(), region_states.end(), in(RegionState::contracted))) return "completed";
  if (any_engine_halted) return "halted";
  if (all_engines_exited && std::any_of(region_states.begin(), region_states.end(), in(RegionState::rolled_back))) return "rolled_back";
  return "incomplete";
}

}  // namespace rehearse
