// Live backfill benchmark (release builds, needs the local servers of scripts/live-up and
// REHEARSE_LIVE_BENCH=1; otherwise it skips): on the us-east-1 primary (55432 or the port of
// $REHEARSE_LIVE_DIR/ports.env, streaming to its replica), two identical tables of REHEARSE_LIVE_BENCH_ROWS rows (1,000,000), then
//   - one_shot: ADD COLUMN + a single UPDATE of the whole table (the unsafe lower bound on time),
//   - batched: the live port's backfill (PostgresRegionDatabase::backfill: fence row, UPDATE of
//     a 10,000-id range, checkpoint upsert, one transaction per batch),
// with application writes (single-row UPDATEs at ~200/s) running through both the batched
// backfill and an equally long quiet period; reports rows/s, the batched/one-shot throughput
// ratio, write latency p50/p99 during the backfill and quiet, and the largest replay_lag seen.
//   REHEARSE_LIVE_BENCH=1 build/release/rehearse_bench --benchmark_filter=Live
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "core/plan.h"
#include "real_backends/postgres.h"

namespace rehearse {
namespace {

// The us-east-1 primary of scripts/live-up's directory ($REHEARSE_LIVE_DIR, live-up's default
// /tmp/rehearse-live): its port from the directory's ports.env, 55432 without one.
const std::string kPrimaryDsn = [] {
  const char* dir = std::getenv("REHEARSE_LIVE_DIR");
  std::ifstream ports(std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp/rehearse-live") + "/ports.env");
  std::string port = "55432";
  const std::string key = "REHEARSE_PORT_PG_US_EAST_1=";
  for (std::string line; std::getline(ports, line);) {
    if (line.rfind(key, 0) == 0) port = line.substr(key.size());
  }
  return "host=127.0.0.1 port=" + port + " dbname=app user=postgres";
}();
const char* const kPrimary = kPrimaryDsn.c_str();
constexpr std::int64_t kBatchRows = 10000;
constexpr int kAppWritesPerSecond = 200;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void create_table(pqxx::connection& connection, const std::string& table, std::int64_t rows) {
  pqxx::nontransaction session(connection);
  session.exec("DROP TABLE IF EXISTS " + table);
  session.exec("CREATE TABLE " + table + " (id bigint PRIMARY KEY, amount numeric, status text)");
  session.exec(fmt::format("INSERT INTO {} SELECT g, round((random() * 1000)::numeric, 2), 'new' FROM generate_series(1, {}) g",
                           table, rows));
  session.exec("VACUUM ANALYZE " + table);
}

// Single-row UPDATEs of random ids at a fixed rate until `stop`; latencies in microseconds.
void app_writes(const std::string& table, std::int64_t rows, const std::atomic<bool>& stop, std::vector<double>& latencies_us) {
  pqxx::connection connection(kPrimary);
  std::mt19937_64 random(7);
  while (!stop) {
    const auto sent = std::chrono::steady_clock::now();
    pqxx::work tx(connection);
    tx.exec(fmt::format("UPDATE {} SET status = 'paid' WHERE id = {}", table, 1 + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(rows))));
    tx.commit();
    latencies_us.push_back(seconds_since(sent) * 1e6);
    std::this_thread::sleep_for(std::chrono::microseconds(1000000 / kAppWritesPerSecond));
  }
}

// The largest replay_lag of the primary's replicas, polled until `stop`, in milliseconds.
void watch_lag(const std::atomic<bool>& stop, double& max_lag_ms) {
  pqxx::connection connection(kPrimary);
  while (!stop) {
    pqxx::nontransaction session(connection);
    const double lag = session.exec1("SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)::float8 FROM pg_stat_replication")[0].as<double>();
    max_lag_ms = std::max(max_lag_ms, lag);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

void BM_LiveBackfill(benchmark::State& state) {
  if (std::getenv("REHEARSE_LIVE_BENCH") == nullptr) {
    state.SkipWithError("set REHEARSE_LIVE_BENCH=1 with scripts/live-up running");
    return;
  }
  const char* rows_text = std::getenv("REHEARSE_LIVE_BENCH_ROWS");
  const std::int64_t rows = rows_text != nullptr ? std::atoll(rows_text) : 1000000;
  pqxx::connection connection(kPrimary);
  live::bootstrap_schema(connection);
  for (auto _ : state) {
    create_table(connection, "bench_one_shot", rows);
    create_table(connection, "bench_batched", rows);
    // The unsafe lower bound: one statement over the whole table.
    auto start = std::chrono::steady_clock::now();
    {
      pqxx::work tx(connection);
      tx.exec("ALTER TABLE bench_one_shot ADD COLUMN amount_cents bigint");
      tx.exec("UPDATE bench_one_shot SET amount_cents = round(amount * 100)");
      tx.commit();
    }
    const double one_shot_s = seconds_since(start);
    // Quiet baseline of the application writes, as long as the one-shot took.
    std::atomic<bool> stop{false};
    std::vector<double> quiet_us;
    std::thread quiet([&] { app_writes("bench_batched", rows, stop, quiet_us); });
    std::this_thread::sleep_for(std::chrono::duration<double>(std::max(one_shot_s, 3.0)));
    stop = true;
    quiet.join();
    // The live port's fenced, checkpointed batches, with the application writing beside it.
    Scenario scenario;
    scenario.table.name = "bench_batched";
    scenario.table.columns = {ColumnSpec{.name = "amount", .type = ColumnType::numeric}, ColumnSpec{.name = "status", .type = ColumnType::text}};
    scenario.migration.name = "bench_to_cents";
    scenario.migration.operations = {Operation{.kind = OperationKind::add_column, .column = "amount_cents", .type = ColumnType::bigint,
                                               .up = "round(amount * 100)"}};
    const MigrationPlan plan = compile_plan(scenario).value();
    live::LiveHistory history;
    live::StopSignal never;
    live::PostgresRegionDatabase database(live::RegionEndpoints{"us-east-1", kPrimary, {}}, "bench", plan, history, never, 65 * kSec);
    const Fence fence{1, true};
    {
      pqxx::work tx(connection);
      tx.exec("ALTER TABLE bench_batched ADD COLUMN amount_cents bigint");
      tx.exec("DELETE FROM rehearse_fence WHERE migration = 'bench_to_cents'");
      tx.commit();
    }
    stop = false;
    std::vector<double> busy_us;
    double max_lag_ms = 0;
    std::thread busy([&] { app_writes("bench_batched", rows, stop, busy_us); });
    std::thread lag([&] { watch_lag(stop, max_lag_ms); });
    start = std::chrono::steady_clock::now();
    std::int64_t updated = 0;
    for (std::int64_t low = 1; low <= rows; low += kBatchRows) {
      BackfillBatch batch{"bench_batched", {ColumnFill{"amount_cents", plan.fills.front().up}}, low, low + kBatchRows - 1};
      Checkpoint then{true, checkpoint_key(plan), "backfilling", low + kBatchRows, 1, 0, false, ""};
      updated += database.backfill(batch, then, fence).value();
    }
    const double batched_s = seconds_since(start);
    stop = true;
    busy.join();
    lag.join();
    if (updated != rows) state.SkipWithError("the batched backfill missed rows");
    state.counters["rows"] = static_cast<double>(rows);
    state.counters["one_shot_rows_per_s"] = static_cast<double>(rows) / one_shot_s;
    state.counters["batched_rows_per_s"] = static_cast<double>(rows) / batched_s;
    state.counters["batched_vs_one_shot"] = one_shot_s / batched_s;
    state.counters["write_p50_quiet_ms"] = percentile(quiet_us, 0.50) / 1000;
    state.counters["write_p99_quiet_ms"] = percentile(quiet_us, 0.99) / 1000;
    state.counters["write_p50_backfill_ms"] = percentile(busy_us, 0.50) / 1000;
    state.counters["write_p99_backfill_ms"] = percentile(busy_us, 0.99) / 1000;
    state.counters["max_replay_lag_ms"] = max_lag_ms;
  }
}
BENCHMARK(BM_LiveBackfill)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace rehearse
