// The shrinker: turns a violating seed into a small explicit fault schedule that still violates
// the same invariant with the same seed, and the scenario file that replays it. How it searches
// is told at the top of sweep/shrink.cc; `rehearse shrink` (cli/shrink.cc) prints the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"

namespace rehearse::sweep {

// The seed's faults as one explicit list: the written ones, then random_faults' draws, in the
// order sim::World schedules them (so the explicit run is the same run).
struct ExplicitSchedule {
  std::vector<FaultSpec> faults;
  std::size_t written = 0;
  std::size_t drawn = 0;
};

// What a pass did, for the progress lines and --json.
struct PassReport {
  std::string name;
  std::size_t faults_before = 0;
  std::size_t faults_after = 0;
  int runs = 0;
  bool changed = false;
};

// What `shrink` found: chosen by choose_invariant, filled by shrink_seed.
struct ShrinkOutcome {
  std::string invariant;
  std::vector<std::string> violated;  // every invariant the seed violates, most severe first
  bool by_severity = false;           // `invariant` was picked as the most severe (no --invariant)
  ExplicitSchedule original;
  std::vector<FaultSpec> faults;
  std::vector<PassReport> passes;
  Violation violation;
  int runs = 0;
  bool exhausted = false;
  std::string yaml;
  bool verified = false;       // the written YAML, loaded back and run, violates the invariant
  bool buggify = false;        // BUGGIFY is still on in the shrunk scenario
  bool seed_violates = false;  // the seed violates `invariant` (choose_invariant)
};

// Runs the seed once and picks the invariant to shrink: `requested` when not empty (--invariant),
// else the most severe one the seed violates. Fills invariant, violated, by_severity and
// seed_violates; with seed_violates false there is nothing to shrink.
ShrinkOutcome choose_invariant(const Scenario& scenario, std::uint64_t seed, const std::string& requested);

// Shrinks the seed's fault schedule in at most `max_runs` runs, one progress line a pass on
// `log`, and fills the rest of `outcome`: the schedule, the passes, the violation, the shrunk
// scenario's YAML (its header names `out_path`, or FILE when empty) and whether that YAML,
// loaded back, reproduces. Returns false, with only `original` filled, when the seed's explicit
// schedule does not reproduce the violation (a determinism bug).
// REQUIRES: outcome from choose_invariant with seed_violates; max_runs > 0.
bool shrink_seed(const Scenario& scenario, std::uint64_t seed, int max_runs, const std::string& out_path,
                 std::ostream& log, ShrinkOutcome& outcome);

}  // namespace rehearse::sweep
