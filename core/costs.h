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
  std::string source = "builtin:pg15-loopback-2026-12-02";  // a file, "inline", or the built-in's name
  // What each statement, row, request and replicated change costs (docs/calibration.md says
  // where the simulator charges each one). The defaults are the built-in profile: measured by
  // `rehearse calibrate` on PostgreSQL 15.18 with one streaming replica on loopback (a 2-core
  // Intel Xeon VM, 2026-12-02), as profiles/builtin-pg15-loopback.yaml holds them.
  double statement_base_us = 16.301;  // fixed cost of any statement (a backfill batch, a checksum window)
  double ddl_us = 45.325;             // a catalog-only DDL once it holds its lock
  // UPDATE cost per row by batch size (rows, per-row cost), ascending rows: a batch of N rows
  // costs the entry of the largest size <= N (the first entry below it).
  std::vector<std::pair<std::int64_t, double>> update_per_row_us{{100, 2.571}, {1000, 4.415}, {10000, 6.163}, {100000, 8.177}};
  double insert_per_row_us = 2.943;          // one inserted row, index maintenance included
  double scan_per_row_us = 0.157;            // a sequential scan (a checksum window, SET NOT NULL's check)
  double index_build_per_row_us = 1.057;     // CREATE INDEX CONCURRENTLY
  double table_rewrite_per_row_us = 1.936;   // a rewriting ALTER COLUMN TYPE
  double trigger_per_row_us = 1.882;         // the dual-write trigger, per row written while it is installed
  double row_lock_hold_us = 36.713;          // a waiter's delay from the row lock holder's COMMIT to its grant
  // An application session's first statement after a DDL changed its table (relation cache
  // rebuilt, the trigger's function compiled), over the statement itself.
  double catalog_reload_us = 483.838;
  // An application session's first write through the dual-write trigger after it was created
  // (PL/pgSQL loaded, the function compiled), over the write itself.
  double trigger_first_call_us = 4980.883;
  double app_write_us = 27.182;              // one application point UPDATE (without the trigger)
  double app_read_us = 44.653;               // one application point read
  double lookup_us = 40.391;                 // a small engine query (key range, checkpoint, flag, lag)
  double replica_apply_per_row_us = 7.080;   // a replica replaying one changed row
  double replica_base_delay_us = 32.325;     // commit -> replayed on a replica, before the network's delay

  // The UPDATE per-row cost for a batch of `rows` rows.
  double update_per_row_us_at(std::int64_t rows) const;
  // One application INSERT: the point write statement with its updated row's cost replaced by
  // an inserted row's (app_write_us - update_per_row_us_at(1) + insert_per_row_us), and never
  // less than a statement (statement_base_us).
  double app_insert_us() const;
  // `per_us` times `count`, rounded to whole simulated microseconds.
  static std::int64_t total_us(double per_us, std::int64_t count);
};

// The profile that applies without `costs:`: the measured one above (CostProfile's defaults).
const CostProfile& builtin_cost_profile();

// The keys of a profile file, in the order `rehearse calibrate` writes them.
const std::vector<std::string>& cost_profile_keys();
// The scalar value of `key` (not update_per_row_us); nullptr for an unknown key.
double* cost_field(CostProfile& profile, const std::string& key);

}  // namespace rehearse
