// Judging a scenario's `expect:` over its seed budget (seeds 1..within_seeds, 10 when absent):
// `pass` needs every seed to pass; `violation` needs at least one violating seed and every
// listed invariant among the violations seen. `rehearse check` (cli/check.cc), the CI gate,
// runs it per scenario and prints the result.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"
#include "sweep/runner.h"
#include "sweep/summary.h"

namespace rehearse::sweep {

struct ExpectationResult {
  SweepSummary summary;
  std::vector<std::string> seen;     // invariants violated by some seed, sorted
  std::vector<std::string> missing;  // expected invariants never seen
  bool met = false;
};

// Runs the scenario's seed budget on `jobs` threads and judges its expectation. `progress` may
// be null. REQUIRES: the scenario's plan compiles.
ExpectationResult check_expectation(const Scenario& scenario, int jobs, SeedProgress* progress);

}  // namespace rehearse::sweep
