// The cost profile of the simulated database (../shared/spec/calibration.md): what a statement,
// a row, a request and a replicated change cost in simulated time. Every value has its unit in
// its name (`_us`, `_per_row_us`). A scenario picks one with `costs:` (scenarios/costs.h);
// without it the built-in profile applies.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>


namespace rehearse {

struct CostProfile {
  std::string source = "builtin:legacy";  // where it came from: a file, "inline", "builtin:legacy"
  // Used by the simulator (sim/database.cc, sim/sim_ports.cc).
  double statement_base_us = 300;  // fixed cost of any statement (a backfill batch, a checksum window)
  double ddl_us = 2000;            // a catalog-only DDL once it holds its lock
  // UPDATE cost per row by batch size (rows, per-row cost), ascending rows: a batch of N rows
  // costs the entry of the largest size <= N (the first entry below it).
  std::vector<std::pair<std::int64_t, double>> update_per_row_us{{1, 150}};
  double scan_per_row_us = 2;            // a checksum window's sequential scan
  double index_build_per_row_us = 5;     // CREATE INDEX CONCURRENTLY
  double app_write_us = 300;             // one application write (point UPDATE/INSERT), trigger included
  double app_read_us = 100;              // one application point read
  double lookup_us = 200;                // a small engine query (key range, checkpoint, flag, lag)
  double replica_apply_per_row_us = 200; // a replica replaying one changed row
  // Measured by `rehearse calibrate`, not used by the simulator yet (issue 12, docs/calibration.md).
  double insert_per_row_us = 0;
  double table_rewrite_per_row_us = 0;   // ALTER COLUMN TYPE rewriting the table
  double trigger_per_row_us = 0;         // extra cost of the dual-write trigger per written row
  double row_lock_hold_us = 0;           // a waiter's delay from the holder's COMMIT to its own grant
  double replica_base_delay_us = 0;      // commit -> replayed on a replica for a one-row change

  // The UPDATE per-row cost for a batch of `rows` rows.
  double update_per_row_us_at(std::int64_t rows) const;
  // `per_us` times `count`, rounded to whole simulated microseconds.
  static std::int64_t total_us(double per_us, std::int64_t count);
};

// The profile that applies without `costs:`. Legacy: chosen, not measured, to be replaced by a
// measured profile (issue 12; profiles/builtin-pg15-loopback.yaml is the measured candidate).
const CostProfile& builtin_cost_profile();

// The keys of a profile file, in the order `rehearse calibrate` writes them.
const std::vector<std::string>& cost_profile_keys();
// The scalar value of `key` (not update_per_row_us); nullptr for an unknown key.
double* cost_field(CostProfile& profile, const std::string& key);

}  // namespace rehearse
