// Benchmarks of the simulation kernel and of whole runs (Google Benchmark).
//
// BM_KernelTimerEvents: fibers that sleep in virtual time; every wake is one kernel event
// (timer pop, seeded pick, two context switches). Compare items_per_second with
// BM_RawFiberYield, a plain Boost.Fiber round-robin yield loop on its own thread: each yield
// there is one context switch with no simulation bookkeeping.
// BM_Scenario: a whole built-in scenario per iteration; the `sim_s_per_wall_s` counter is
// simulated seconds per wall second.
#include <benchmark/benchmark.h>

#include <boost/fiber/all.hpp>
#include <thread>

#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/kernel.h"
#include "sim/world.h"

namespace {

using rehearse::TimeUs;
using rehearse::sim::Kernel;

void BM_KernelTimerEvents(benchmark::State& state) {
  const int fibers = static_cast<int>(state.range(0));
  constexpr int kWakesPerFiber = 10000;
  std::uint64_t events = 0;
  for (auto _ : state) {
    Kernel kernel(42);
    auto& node = kernel.add_node("n", "r");
    for (int f = 0; f < fibers; ++f) {
      kernel.spawn(node, "sleeper", [&kernel, f] {
        for (int i = 0; i < kWakesPerFiber; ++i) kernel.sleep_until(kernel.now() + 1 + (i + f) % 7);
      });
    }
    kernel.run_until(INT64_MAX / 2);
    events += kernel.events_processed();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_KernelTimerEvents)->Arg(1)->Arg(16)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RawFiberYield(benchmark::State& state) {
  const int fibers = static_cast<int>(state.range(0));
  constexpr int kYieldsPerFiber = 10000;
  for (auto _ : state) {
    // A fresh thread so the default round-robin scheduler is used, not the simulation's.
    std::thread runner([fibers] {
      std::vector<boost::fibers::fiber> launched;
      for (int f = 0; f < fibers; ++f) {
        launched.emplace_back([] {
          for (int i = 0; i < kYieldsPerFiber; ++i) boost::this_fiber::yield();
        });
      }
      for (auto& fiber : launched) fiber.join();
    });
    runner.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * fibers * kYieldsPerFiber);
}
BENCHMARK(BM_RawFiberYield)->Arg(1)->Arg(16)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

void run_builtin(benchmark::State& state, const char* name) {
  auto loaded = rehearse::resolve_scenario(name);
  if (!loaded.ok()) {
    state.SkipWithError("scenario did not load");
    return;
  }
  TimeUs simulated = 0;
  std::uint64_t seed = 1;
  std::uint64_t events = 0;
  std::uint64_t kernel_events = 0;
  std::int64_t requests = 0;
  for (auto _ : state) {
    auto result = rehearse::sim::simulate(*loaded.scenario, seed++);
    simulated += result.stats.sim_time_us;
    events += result.stats.events;
    kernel_events += result.stats.kernel_events;
    requests += result.stats.app_requests;
    benchmark::DoNotOptimize(result.trace_hash);
  }
  state.counters["sim_s_per_wall_s"] =
      benchmark::Counter(static_cast<double>(simulated) / 1e6, benchmark::Counter::kIsRate);
  state.counters["history_events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["kernel_events_per_s"] = benchmark::Counter(static_cast<double>(kernel_events), benchmark::Counter::kIsRate);
  state.counters["app_requests_per_s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
}

void BM_ScenarioGcPauseFenced(benchmark::State& state) { run_builtin(state, "gc-pause-fenced"); }
BENCHMARK(BM_ScenarioGcPauseFenced)->Unit(benchmark::kMillisecond);

void BM_ScenarioThreeRegionsClean(benchmark::State& state) { run_builtin(state, "three-regions-clean"); }
BENCHMARK(BM_ScenarioThreeRegionsClean)->Unit(benchmark::kMillisecond);

// Issue 13: the ten-table schema (tests/data/ten-tables, traffic on every table) against the
// one-table standard scenario above: the cost of a table is its traffic and its rows.
void BM_ScenarioTenTablesAddColumn(benchmark::State& state) {
  run_builtin(state, REHEARSE_SOURCE_DIR "/tests/data/ten-tables/add-column.yaml");
}
BENCHMARK(BM_ScenarioTenTablesAddColumn)->Unit(benchmark::kMillisecond);

void BM_SweepGcPauseNoFencing(benchmark::State& state) {
  // A serial sweep of 20 seeds, the unit of `rehearse sweep` work.
  auto loaded = rehearse::resolve_scenario("gc-pause-no-fencing");
  if (!loaded.ok()) {
    state.SkipWithError("scenario did not load");
    return;
  }
  for (auto _ : state) {
    int violating = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) violating += rehearse::sim::simulate(*loaded.scenario, seed).violated();
    benchmark::DoNotOptimize(violating);
  }
  state.counters["seeds_per_s"] = benchmark::Counter(20.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SweepGcPauseNoFencing)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
