// Judging a scenario's expectation (sweep/expect.h).
#include "sweep/expect.h"

#include <chrono>
#include <cstdint>

namespace rehearse::sweep {

namespace {

constexpr int kDefaultSeedBudget = 10;

}  // namespace

ExpectationResult check_expectation(const Scenario& scenario, int jobs, SeedProgress* progress) {
  const ExpectSpec& expect = scenario.expect;
  const int budget = expect.within_seeds > 0 ? expect.within_seeds : kDefaultSeedBudget;
  std::vector<std::uint64_t> seeds;
  for (int seed = 1; seed <= budget; ++seed) seeds.push_back(static_cast<std::uint64_t>(seed));
  const auto started = std::chrono::steady_clock::now();
  const std::vector<SeedOutcome> outcomes = run_seeds(scenario, seeds, jobs, progress);
  ExpectationResult result{summarize(scenario.name, outcomes, elapsed_ms(started)), {}, {}, false};
  for (const auto& [invariant, violating] : result.summary.by_invariant) result.seen.push_back(invariant);
  for (const std::string& invariant : expect.invariants) {
    if (result.summary.by_invariant.count(invariant) == 0) result.missing.push_back(invariant);
  }
  if (expect.verdict == Verdict::pass) {
    result.met = result.summary.violating_seeds.empty();
  } else {
    result.met = !result.summary.violating_seeds.empty() && result.missing.empty();
  }
  return result;
}

}  // namespace rehearse::sweep
