// Benchmarks of the simulated lock backends (docs/lock-backends.md, "Benchmark").
//
// BM_LockAcquisitions/<backend>: two engine processes contend for the lock of one backend,
// each in a loop of acquire, hold 20 ms of simulated time, release, retry after 10 ms when
// refused, for 60 s of simulated time. items_per_second is lock acquisitions simulated per
// wall-clock second; `acquisitions_per_sim_s` is how many the protocol fits in a simulated
// second (its round trips), `sim_s_per_wall_s` how fast simulated time runs.
// BM_SweepRedlockClockJump: a serial sweep of seeds 1..100 of the built-in redlock-clock-jump
// scenario, the wall-clock cost of `rehearse sweep redlock-clock-jump --count 100 --jobs 1`.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model.h"
#include "scenarios/loader.h"
#include "sim/database.h"
#include "sim/kernel.h"
#include "sim/lock_service.h"
#include "sim/network.h"
#include "sim/world.h"

namespace {

using rehearse::kMs;
using rehearse::kSec;
using rehearse::LockBackend;
using rehearse::TimeUs;
namespace sim = rehearse::sim;

constexpr TimeUs kSimulatedUs = 60 * kSec;
constexpr TimeUs kHoldUs = 20 * kMs;
constexpr TimeUs kRetryUs = 10 * kMs;
constexpr int kAttemptsMax = 100'000;  // bound of one client's loop

struct Tally {
  std::int64_t acquisitions = 0;
};

// One run of two contending clients against `backend`; returns the acquisitions granted.
std::int64_t contend(LockBackend backend, int nodes) {
  sim::Kernel kernel(7);
  sim::Node& engine1 = kernel.add_node("engine-1", "eu");
  sim::Node& engine2 = kernel.add_node("engine-2", "eu");
  sim::Node& db = kernel.add_node("db:eu", "eu");
  sim::Network network(kernel, 7, rehearse::DurationRange{kMs / 2, 2 * kMs}, rehearse::DurationRange{40 * kMs, 120 * kMs});
  std::vector<sim::Node*> lock_nodes;
  for (int i = 1; i <= nodes; ++i) lock_nodes.push_back(&kernel.add_node("lock-" + std::to_string(i), "eu"));
  rehearse::LockSpec spec;
  spec.backend = backend;
  spec.nodes = nodes;
  spec.ttl_us = 10 * kSec;
  sim::LockServiceContext context{kernel, network, spec, lock_nodes, nullptr, nullptr, 7, [](rehearse::Event) {}};
  std::unique_ptr<sim::SimDatabase> database;
  if (backend == LockBackend::app_database) {
    rehearse::TableSpec table;
    table.rows = 10;
    database = std::make_unique<sim::SimDatabase>(kernel, db, "eu", sim::generate_table(table, 7), 0, rehearse::DurationRange{kMs, kMs},
                                                  [](rehearse::Event) {}, 7);
    context.database_node = &db;
    context.database = database.get();
  }
  std::unique_ptr<sim::LockService> service = sim::make_lock_service(std::move(context));
  std::vector<std::unique_ptr<rehearse::LockClient>> clients;
  Tally tally;
  for (sim::Node* engine : {&engine1, &engine2}) {
    clients.push_back(service->make_client(*engine, "bench-" + engine->name()));
    rehearse::LockClient* client = clients.back().get();
    kernel.spawn(*engine, "bench-client", [&kernel, client, &tally, &spec] {
      for (int attempt = 0; attempt < kAttemptsMax && kernel.now() < kSimulatedUs; ++attempt) {
        auto granted = client->try_acquire(spec.ttl_us);
        if (!granted.is_ok()) {
          kernel.sleep_until(kernel.now() + kRetryUs);
          continue;
        }
        ++tally.acquisitions;
        kernel.sleep_until(kernel.now() + kHoldUs);
        (void)client->release(granted.value());  // a failed release only delays the next grant
      }
    });
  }
  kernel.run_until(kSimulatedUs);
  kernel.shutdown();
  return tally.acquisitions;
}

void BM_LockAcquisitions(benchmark::State& state, LockBackend backend, int nodes) {
  std::int64_t acquisitions = 0;
  std::int64_t runs = 0;
  for (auto _ : state) {
    const std::int64_t granted = contend(backend, nodes);
    if (granted == 0) {
      state.SkipWithError("no acquisition was granted");
      return;
    }
    acquisitions += granted;
    ++runs;
  }
  state.SetItemsProcessed(acquisitions);
  state.counters["acquisitions_per_sim_s"] =
      static_cast<double>(acquisitions) / static_cast<double>(runs) / (static_cast<double>(kSimulatedUs) / kSec);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(static_cast<double>(runs * kSimulatedUs) / kSec,
                                                          benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_LockAcquisitions, redis, LockBackend::redis, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_LockAcquisitions, redlock, LockBackend::redlock, 3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_LockAcquisitions, etcd, LockBackend::etcd, 3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_LockAcquisitions, zookeeper, LockBackend::zookeeper, 3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_LockAcquisitions, app_database, LockBackend::app_database, 0)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SweepRedlockClockJump(benchmark::State& state) {
  constexpr std::uint64_t kSeeds = 100;
  auto loaded = rehearse::resolve_scenario("redlock-clock-jump");
  if (!loaded.ok()) {
    state.SkipWithError("scenario did not load");
    return;
  }
  std::uint64_t violating = 0;
  for (auto _ : state) {
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) violating += sim::simulate(*loaded.scenario, seed).violated() ? 1 : 0;
  }
  state.counters["seeds_per_s"] =
      benchmark::Counter(static_cast<double>(kSeeds) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["violating_seeds"] = static_cast<double>(violating) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SweepRedlockClockJump)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
