// The seed runner (sweep/runner.h).
#include "sweep/runner.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "core/assert.h"
#include "core/plan.h"
#include "sim/world.h"

namespace rehearse::sweep {

std::vector<std::string> SeedOutcome::invariants() const {
  std::vector<std::string> names;
  for (const Violation& violation : violations) {
    if (std::find(names.begin(), names.end(), violation.invariant) == names.end()) names.push_back(violation.invariant);
  }
  return names;
}

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
}

namespace {

SeedOutcome run_one_seed(const Scenario& scenario, const MigrationPlan& plan, std::uint64_t seed) {
  const auto started = std::chrono::steady_clock::now();
  RunResult result = sim::simulate(scenario, plan, seed);
  SeedOutcome outcome;
  outcome.seed = seed;
  outcome.violations = std::move(result.violations);
  outcome.probes = result.probes;
  outcome.buggify = result.buggify;
  outcome.wall_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  return outcome;
}

}  // namespace

std::vector<SeedOutcome> run_seeds(const Scenario& scenario, const std::vector<std::uint64_t>& seeds, int jobs,
                                   SeedProgress* progress) {
  std::vector<SeedOutcome> outcomes(seeds.size());
  const Result<MigrationPlan> plan = compile_plan(scenario);  // once for every seed and thread
  REHEARSE_ASSERT(plan.is_ok());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards done, violating, failure and the progress line
  std::size_t done = 0;
  std::size_t violating = 0;
  std::exception_ptr failure;
  auto worker = [&] {
    for (std::size_t index = next++; index < seeds.size() && !stop; index = next++) {
      try {
        outcomes[index] = run_one_seed(scenario, plan.value(), seeds[index]);  // each index is written by one thread only
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
        return;
      }
      std::lock_guard lock(mutex);
      ++done;
      if (outcomes[index].violated()) ++violating;
      if (progress != nullptr) progress->update(done, seeds.size(), violating);
    }
  };
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(std::max(jobs, 1)), seeds.size());
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (std::thread& thread : pool) thread.join();
  }
  if (progress != nullptr) progress->finish();
  if (failure) std::rethrow_exception(failure);
  std::stable_sort(outcomes.begin(), outcomes.end(),
                   [](const SeedOutcome& a, const SeedOutcome& b) { return a.seed < b.seed; });
  return outcomes;
}

}  // namespace rehearse::sweep
