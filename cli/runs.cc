// Running scenarios for the subcommands: loading with error reports, timed single runs, the
// parallel seed runner and its progress line, and the summary of many seeds.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands_internal.h"
#include "core/assert.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"

namespace rehearse::cli {

std::optional<Scenario> load_or_report(const std::string& argument) {
  LoadResult loaded = resolve_scenario(argument);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << "rehearse: " << error.to_string() << "\n";
    if (loaded.errors.empty()) std::cerr << "rehearse: " << argument << ": could not be loaded\n";
    return std::nullopt;
  }
  Result<MigrationPlan> plan = compile_plan(*loaded.scenario);
  if (!plan.is_ok()) {
    std::cerr << "rehearse: " << loaded.scenario->source_path << ": migration.operations: " << plan.status().message()
              << "\n";
    return std::nullopt;
  }
  return loaded.scenario;
}

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
}

RunResult timed_simulation(const Scenario& scenario, std::uint64_t seed) {
  const auto started = std::chrono::steady_clock::now();  // wall time for stats only, never inside the run
  RunResult result = sim::simulate(scenario, seed);
  result.stats.wall_ms = elapsed_ms(started);
  return result;
}

std::string reproduce_command(const std::string& scenario_argument, std::uint64_t seed) {
  return fmt::format("rehearse run {} --seed {}", scenario_argument, seed);
}

std::vector<std::string> SeedOutcome::invariants() const {
  std::vector<std::string> names;
  for (const Violation& violation : violations) {
    if (std::find(names.begin(), names.end(), violation.invariant) == names.end()) names.push_back(violation.invariant);
  }
  return names;
}

namespace {

std::string eta_text(double seconds) {
  const auto whole = static_cast<std::int64_t>(seconds + 0.5);
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02d}s", whole / 60, static_cast<int>(whole % 60));
  return fmt::format("{}h{:02d}m", whole / 3600, static_cast<int>((whole % 3600) / 60));
}

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

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)),
      enabled_(isatty(fileno(stderr)) != 0),
      started_(std::chrono::steady_clock::now()),
      last_shown_(started_) {}

void ProgressLine::update(std::size_t done, std::size_t total, std::size_t violating) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_shown_ < std::chrono::milliseconds(100)) return;
  last_shown_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const std::string eta = rate > 0 ? eta_text(static_cast<double>(total - done) / rate) : "?";
  std::string line = fmt::format("{}: {}/{} seeds, {} violating, {:.1f} seeds/s, ETA {}", label_, done, total,
                                 violating, rate, eta);
  const std::size_t width = line.size();
  if (width < width_) line.append(width_ - width, ' ');
  width_ = std::max(width_, width);
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (!enabled_ || width_ == 0) return;
  std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
  std::fflush(stderr);
  width_ = 0;
}

std::vector<SeedOutcome> run_seeds(const Scenario& scenario, const std::vector<std::uint64_t>& seeds, int jobs,
                                   ProgressLine* progress) {
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

SweepSummary summarize(const std::string& scenario, const std::vector<SeedOutcome>& outcomes, std::int64_t wall_ms) {
  SweepSummary summary;
  summary.scenario = scenario;
  summary.seeds_run = outcomes.size();
  summary.wall_ms = wall_ms;
  for (const SeedOutcome& outcome : outcomes) {
    for (std::size_t i = 0; i < kProbeCount; ++i) {
      const std::int64_t hits = outcome.probes.count(static_cast<Probe>(i));
      summary.probes[i].seeds += hits > 0 ? 1 : 0;
      summary.probes[i].hits += hits;
    }
    if (outcome.buggify.on) summary.buggify = true;
    for (std::size_t i = 0; i < kFaultSiteCount; ++i) {
      summary.sites[i].enabled_seeds += outcome.buggify.enabled[i] ? 1 : 0;
      summary.sites[i].fired_seeds += outcome.buggify.fired[i] > 0 ? 1 : 0;
      summary.sites[i].fires += outcome.buggify.fired[i];
    }
    if (!outcome.violated()) continue;
    summary.violating_seeds.push_back(outcome.seed);
    for (const std::string& invariant : outcome.invariants()) summary.by_invariant[invariant].push_back(outcome.seed);
  }
  return summary;
}

nlohmann::json summary_json(const SweepSummary& summary) {
  nlohmann::json by_invariant = nlohmann::json::object();
  for (const auto& [invariant, seeds] : summary.by_invariant) by_invariant[invariant] = seeds;
  nlohmann::json json = {{"scenario", summary.scenario},
                         {"seeds_run", summary.seeds_run},
                         {"violating_seeds", summary.violating_seeds},
                         {"by_invariant", by_invariant},
                         {"wall_ms", summary.wall_ms},
                         {"probes", probes_json(summary)}};
  if (summary.buggify) json["buggify"] = buggify_json(summary);
  return json;
}

}  // namespace rehearse::cli
