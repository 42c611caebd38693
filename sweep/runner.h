// The seed runner: one scenario over many seeds, on several threads, with the same results
// whatever the thread count; what a sweep keeps of each seed. `sweep`, `check` and the probe
// tests run seeds through it; cli/ shows its progress on the terminal (SeedProgress).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"

namespace rehearse::sweep {

// What a sweep keeps of one seed's run (the history is dropped as soon as it is judged).
struct SeedOutcome {
  std::uint64_t seed = 0;
  std::vector<Violation> violations;
  std::int64_t wall_us = 0;
  ProbeCounts probes;       // coverage probes reached (docs/coverage.md)
  FaultSiteCounts buggify;  // BUGGIFY sites switched on and fired
  bool violated() const { return !violations.empty(); }
  // The invariants violated, each once, in the order first reported.
  std::vector<std::string> invariants() const;
};

// Told of every seed done (one call at a time, under the runner's lock) and once when the run
// ends, also when a seed's run threw. cli/'s terminal progress line is one.
class SeedProgress {
 public:
  SeedProgress() = default;
  SeedProgress(const SeedProgress&) = delete;
  SeedProgress& operator=(const SeedProgress&) = delete;
  virtual ~SeedProgress() = default;

  virtual void update(std::size_t done, std::size_t total, std::size_t violating) = 0;
  virtual void finish() = 0;
};

// Runs `scenario` once per seed on `jobs` threads (one simulation per thread at a time) and
// returns the outcomes sorted by seed: the same as a serial run, whatever `jobs` is.
// `progress` may be null. REQUIRES: the scenario's plan compiles.
std::vector<SeedOutcome> run_seeds(const Scenario& scenario, const std::vector<std::uint64_t>& seeds, int jobs,
                                   SeedProgress* progress);

// Milliseconds since `started` on the steady clock.
std::int64_t elapsed_ms(std::chrono::steady_clock::time_point started);

}  // namespace rehearse::sweep
