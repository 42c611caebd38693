// The memory limit and the estimate of a run's memory (scenarios/limits.h). The costs below
// were measured on the release build (peak RSS of `rehearse run` over table sizes, column
// counts, replicas and request rates; docs/scenarios.md "Limits") and rounded up.
#include "scenarios/limits.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/topology.h"

namespace rehearse {

namespace {

std::uint64_t g_memory_limit = kDefaultMemoryLimit;

// Measured: 200,000 rows of 3 and 30 columns, in 1 and 3 regions with 2 replicas each, took
// 110 to 530 bytes a row (the formula below gives 250 to 540); 0.8 and 3.2 million requests
// took 330 and 350 bytes each (the per-request observations the checkers judge).
constexpr double kRowBytes = 48;        // a row version's header, its handle in a table, allocator slack
constexpr double kValueBytes = 16;      // one value (text lives in a box of its own)
constexpr double kTextBytes = 48;       // a text value's box
constexpr double kRowHandleBytes = 8;   // each further copy of the table (replicas, snapshots) holds a handle
constexpr double kRequestBytes = 400;   // one application request or fault, as observed for the checkers
constexpr double kBaseBytes = 16.0 * (1 << 20);  // the process, the kernel, the lock service and so on

double saturating(double bytes) { return std::min(bytes, 1e19); }

}  // namespace

void set_memory_limit(std::uint64_t bytes) { g_memory_limit = bytes; }
std::uint64_t memory_limit() { return g_memory_limit; }

std::uint64_t MemoryEstimate::total() const {
  const double sum = static_cast<double>(table_bytes) + static_cast<double>(traffic_bytes) + static_cast<double>(base_bytes);
  return sum >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(sum);
}

std::string MemoryEstimate::explain() const {
  return fmt::format("table {} rows x {} columns in {} copies: {}; {} requests and faults over {}: {}", rows, columns,
                     copies, format_bytes(table_bytes), requests, duration, format_bytes(traffic_bytes));
}

std::string format_bytes(std::uint64_t bytes) {
  constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
  if (bytes >= kGiB) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / static_cast<double>(kGiB));
  if (bytes >= kMiB) return fmt::format("{} MiB", (bytes + kMiB - 1) / kMiB);
  return fmt::format("{} bytes", bytes);
}

MemoryEstimate estimate_memory(const Scenario& scenario) {
  MemoryEstimate e;
  const TableSpec& table = scenario.table;
  std::size_t added = 0;
  for (const Operation& op : scenario.migration.operations) {
    added += op.kind == OperationKind::add_column || op.kind == OperationKind::alter_column ? 1 : 0;
  }
  std::size_t text = 0;
  for (const ColumnSpec& column : table.columns) text += column.type == ColumnType::text ? 1 : 0;
  e.rows = table.rows;
  e.columns = table.columns.size() + added;
  const double migrated = static_cast<double>(migrated_regions(scenario).size());
  double replicas = 0;
  for (const RegionSpec& region : scenario.topology.regions) replicas += region.replicas;
  // Every database starts from one shared table; each migrated primary rewrites every row once
  // (the backfill), a version its replicas share; the checkers' snapshots hold handles.
  const double copies = migrated + replicas + 2;
  e.copies = static_cast<std::uint64_t>(copies);
  const double version = kRowBytes + kValueBytes * static_cast<double>(e.columns) + kTextBytes * static_cast<double>(text);
  e.table_bytes = static_cast<std::uint64_t>(
      saturating(static_cast<double>(table.rows) * (version * (1 + migrated) + kRowHandleBytes * copies)));
  // Requests over the whole run: the simulation may end sooner (when the migration is done and
  // nothing is pending), but a stalled migration runs to `duration`.
  const WorkloadSpec& w = scenario.workload;
  double app_regions = 0;
  for (const RegionSpec& region : scenario.topology.regions) {
    app_regions += w.all_regions || std::find(w.regions.begin(), w.regions.end(), region.name) != w.regions.end() ? 1 : 0;
  }
  const double seconds = static_cast<double>(scenario.duration_us) / static_cast<double>(kSec);
  const double traffic = (w.writes_per_s + w.reads_per_s) * seconds * app_regions;
  const double faults = (scenario.random_faults ? scenario.random_faults->rate_per_s * seconds : 0) +
                        static_cast<double>(scenario.faults.size());
  const double requests = traffic + faults;
  e.faults_dominate = faults > traffic;
  e.requests = static_cast<std::uint64_t>(saturating(requests));
  e.duration = fmt::format("{}s", static_cast<std::int64_t>(seconds));
  e.traffic_bytes = static_cast<std::uint64_t>(saturating(requests * kRequestBytes));
  e.base_bytes = static_cast<std::uint64_t>(kBaseBytes);
  return e;
}

}  // namespace rehearse
