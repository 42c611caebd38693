// `rehearse conform` (../shared/spec/calibration.md, docs/calibration.md): the measures one run
// shows, taken the same way from a simulated and a live run of the same live config, and their
// comparison row by row against the spec's bands. Pure: from RunResults and Observations to
// rows; the command (cli/conform.cc) runs the two worlds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/observations.h"
#include "core/run_result.h"

namespace rehearse {

// What the scenario says about what can be compared.
struct ConformSpec {
  std::vector<std::string> regions;  // topology order; global: the home only
  // No application writes anywhere: both worlds' final tables are fully determined by the
  // generator and the seed, so the whole table is compared; otherwise a traffic-independent
  // digest (docs/calibration.md).
  bool full_checksum = false;
  // Regions whose table a long_transaction fault holds (the DDL-wait row).
  std::vector<std::string> long_transaction_regions;
};
ConformSpec conform_spec(const Scenario& scenario);

// One world's measures. Durations in milliseconds; nullopt = not measured in this world (no
// backfill, no long transaction, ...).
struct WorldMeasures {
  std::string outcome;                              // outcome and every region's final state
  std::string violations;                           // the invariants violated, sorted ("none")
  std::map<std::string, std::string> phases;        // region -> "expand > dual_write > ..."
  std::map<std::string, std::string> checksums;     // region -> digest text
  std::map<std::string, std::optional<double>> backfill_ms;
  std::map<std::string, std::optional<double>> mean_batch_ms;
  // Both net of the host's pauses (Observations::host_pauses; live runs only): a request's wait
  // less the part of it the host ran nothing.
  std::optional<double> max_stall_ms;
  std::optional<double> p99_write_ms;
  // The host's pauses that overlapped a request of the migration: how many, their total and the
  // longest stall before the pauses were taken out (live runs; 0 in simulation).
  int host_pauses = 0;
  double host_paused_ms = 0;
  std::optional<double> max_stall_gross_ms;
  std::map<std::string, std::optional<double>> ddl_wait_ms;  // per long-transaction region
  std::optional<double> max_replica_lag_ms;
  double app_errors = 0;
};

// The measures of one run. `observations` must hold its write latencies (live runs always do;
// the simulator with sim::WorldOptions::keep_request_latencies) and its end snapshots.
WorldMeasures measure_world(const ConformSpec& spec, const RunResult& result, const Observations& observations);

// The table digest of the full-checksum case: FNV-1a over the column names (sorted) and then
// every row's values in id order, columns by name.
std::uint64_t table_checksum(const TableImage& table);

enum class ConformMatch { exact, ratio, errors };
struct ConformRow {
  std::string measure;  // phases, outcome, violations, checksum, backfill_duration, mean_batch_duration,
                        // max_stall, p99_write_latency, ddl_wait, max_replica_lag, app_errors
  std::string region;   // "" = the whole run
  ConformMatch match = ConformMatch::exact;
  std::string sim_text;   // exact rows: the values; others: the number with its unit
  std::string live_text;
  std::optional<double> sim;  // ratio and errors rows
  std::optional<double> live;
  std::optional<double> ratio;  // sim / live
  double low = 0;   // band
  double high = 0;
  bool applicable = true;  // false: absent in both worlds (n/a, matches)
  bool matched = true;
  std::string unit;        // "ms" or "" (a count)
  std::string band_text() const;
};

// The bands of the spec.
constexpr double kDurationBandLow = 0.67, kDurationBandHigh = 1.5;
constexpr double kDdlWaitBandLow = 0.8, kDdlWaitBandHigh = 1.25;
constexpr double kLagBandLow = 0.4, kLagBandHigh = 2.5;
constexpr double kErrorBandLow = 0.5, kErrorBandHigh = 2.0;

// Every row, in the spec's order (per region where the measure is per region).
std::vector<ConformRow> compare_worlds(const ConformSpec& spec, const WorldMeasures& sim, const WorldMeasures& live);

}  // namespace rehearse
