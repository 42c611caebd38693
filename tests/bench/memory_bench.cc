// Memory of the simulated tables: bytes of heap per simulated row copy.
//
// BM_MemoryPerRowCopy builds the standard scenario's world at 1,000,000 rows (three regions,
// each a primary and one replica: six copies of the table) and divides the heap it holds by the
// six million row copies (malloc's own accounting, mallinfo2; not RSS, so allocator caches and
// the binary do not count).
// BM_MemoryPerRowCopyAfterMigration runs that world to the end (every region backfilled,
// validated and contracted, with application traffic) and counts what it holds then: the six
// migrated copies plus the table snapshots (primary and replica at validate, contract and end)
// that the invariant checkers read.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>

#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"

namespace {

using namespace rehearse;

constexpr std::int64_t kRows = 1'000'000;
constexpr double kCopies = 6.0;  // 3 regions x (primary + 1 replica)

std::size_t heap_in_use() { return mallinfo2().uordblks; }

Scenario standard_scenario() {
  auto loaded = resolve_scenario("three-regions-clean");
  Scenario scenario = *loaded.scenario;
  scenario.table.rows = kRows;
  return scenario;
}

void BM_MemoryPerRowCopy(benchmark::State& state) {
  const Scenario scenario = standard_scenario();
  double bytes_per_copy = 0;
  for (auto _ : state) {
    const std::size_t before = heap_in_use();
    auto world = std::make_unique<sim::World>(scenario, 1, compile_plan(scenario).value());
    bytes_per_copy = static_cast<double>(heap_in_use() - before) / (static_cast<double>(kRows) * kCopies);
    benchmark::DoNotOptimize(world.get());
  }
  state.counters["bytes_per_row_copy"] = bytes_per_copy;
}
BENCHMARK(BM_MemoryPerRowCopy)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_MemoryPerRowCopyAfterMigration(benchmark::State& state) {
  const Scenario scenario = standard_scenario();
  double bytes_per_copy = 0;
  for (auto _ : state) {
    const std::size_t before = heap_in_use();
    auto world = std::make_unique<sim::World>(scenario, 1, compile_plan(scenario).value());
    const RunResult result = world->run();
    bytes_per_copy = static_cast<double>(heap_in_use() - before) / (static_cast<double>(kRows) * kCopies);
    if (result.outcome != "completed") state.SkipWithError("the migration did not complete");
  }
  state.counters["bytes_per_row_copy_incl_snapshots"] = bytes_per_copy;
}
BENCHMARK(BM_MemoryPerRowCopyAfterMigration)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
