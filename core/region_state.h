// A region's migration state (the checkpoint's `state` of cli.md) and the runbook's phases, as
// enums for the engine. Storage, events, reports and JSON keep the text of to_string: the
// engine parses a checkpoint's text once when it reads it and writes the text back.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rehearse {

// The region states, in the order a region moves through them (the order is the rank: a state
// compares greater than every state before it). contracted and rolled_back are terminal.
enum class RegionState { pending, expanded, dual_write, backfilling, validated, reads_switched, contracted, rolled_back };
inline constexpr RegionState kRegionStates[] = {
    RegionState::pending,   RegionState::expanded,       RegionState::dual_write, RegionState::backfilling,
    RegionState::validated, RegionState::reads_switched, RegionState::contracted, RegionState::rolled_back};

// The state's text as stored and reported ("pending", "dual_write", ...).
const char* to_string(RegionState state);
// The state whose to_string is `text`; nullopt for any other text.
std::optional<RegionState> parse_region_state(std::string_view text);

// Whether the engine may write checkpoint state `to` over `from`. Nothing leaves a terminal
// state; otherwise a region moves forward, or rolls back (to rolled_back), or is validated
// again: a later lock holder re-validates under its own token, also over reads_switched.
bool region_transition_allowed(RegionState from, RegionState to);
// Stops the program (REHEARSE_ASSERT) unless region_transition_allowed(from, to).
void assert_region_transition(RegionState from, RegionState to);

// The run's outcome (cli.md `outcome`) from every region's final state (the text of to_string,
// as RunResult::region_states keeps it) and how its engines ended: "completed" when every region
// contracted; else "halted" when an engine halted; else "rolled_back" when a region rolled back
// and every engine exited; else "incomplete". The simulator and live mode judge it alike.
const char* run_outcome(const std::map<std::string, std::string>& region_states, bool any_engine_halted,
                        bool all_engines_exited);

// The runbook's phases in every region, in the order the engine runs them.
enum class Phase { expand, dual_write, backfill, validate, switch_reads, contract };
inline constexpr Phase kPhases[] = {Phase::expand,   Phase::dual_write,   Phase::backfill,
                                    Phase::validate, Phase::switch_reads, Phase::contract};

// The phase's text as in the engine's phase events ("expand", "switch_reads", ...).
const char* to_string(Phase phase);
// The phase whose to_string is `text`; nullopt for any other text.
std::optional<Phase> parse_phase(std::string_view text);

}  // namespace rehearse
